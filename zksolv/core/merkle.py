"""Poseidon Merkle tree of the instrument leaves, arity :data:`ARITY` (= ``fixedpoint.MERKLE_ARITY``, 8).

A node is ``Poseidon(ARITY)`` of its children in order; leaves beyond the
list are 0, and so every empty subtree hashes to a known constant per level
(computed once, never rebuilt leaf by leaf). The depth defaults to
``max(1, ceil(log_ARITY n))``. The circuit twin is ``circuits/merkle.circom``
(``MerkleInclusion``), which reads the same constant.

Why arity 8: an inclusion path costs one Poseidon plus the placement of the
node among its siblings per level, and the cost per index bit is what
matters. Measured with circom2 ``--O2`` (benchmarks/README.md): a level is
416 constraints at arity 8 (Poseidon(8) 402, 3 index bits, placement 11) for
3 bits, 304 at arity 4 (Poseidon(4) 297, 2 bits, placement 5) for 2 bits,
and ~240-270 per bit binary. A 4,096-leaf path: 1,664 (arity 8, depth 4) vs
1,824 (arity 4, depth 6) vs 3,258 (binary, depth 12).
"""

from __future__ import annotations

from typing import Iterable, Sequence

from zksolv.core.fixedpoint import MERKLE_ARITY
from zksolv.core.poseidon import poseidon

#: Children per node; a power of two.
ARITY = MERKLE_ARITY
#: Index bits per level (the circuit decomposes the leaf index into LOG * depth bits).
LOG = ARITY.bit_length() - 1
assert 1 << LOG == ARITY


#: Measured constraints (circom2 --O2, tests/test_merkle.py): a level of an opening (Poseidon(ARITY)
#: 402 + ChildPlacement 11; the index bits are paid apart, one per bit) and a node hashed above a cap.
LEVEL_CONSTRAINTS = 413
NODE_CONSTRAINTS = 402


def opening_constraints(n_openings: int, depth: int, cap: int) -> int:
    """Constraints of ``n_openings`` leaf openings through one cap of height ``cap`` (``CappedOpenings``):
    per opening the index bits, the ``depth - cap`` levels below the cap and the ``ARITY**cap - 1``
    multiplexer that picks its cap node; once the nodes hashed from the cap up to the root."""
    width = ARITY**cap
    per_opening = LOG * depth + LEVEL_CONSTRAINTS * (depth - cap) + width - 1
    return n_openings * per_opening + NODE_CONSTRAINTS * (width - 1) // (ARITY - 1)


def cap_height(n_openings: int, depth: int) -> int:
    """The cap height that makes ``n_openings`` openings in a depth-``depth`` tree cheapest.

    A circuit opening many leaves shares the top of the tree: it hashes the ``ARITY**cap`` nodes at
    height ``depth - cap`` up to the root once, and each leaf climbs only to its cap node. The
    choice is public (a function of the circuit's shape), so keepers derive it as the prover does.
    """
    return min(range(depth + 1), key=lambda cap: (opening_constraints(n_openings, depth, cap), cap))


def group_cap_height(n_groups: int, depth: int) -> int:
    """The cap height of ``GroupedOpenings``: the cheapest for ``n_groups`` openings of nodes one level
    above the leaves, i.e. :func:`cap_height` in the tree ``depth - 1`` levels deep above them."""
    return cap_height(n_groups, depth - 1)


def grouped_opening_constraints(n_openings: int, n_groups: int, depth: int) -> int:
    """Constraints of ``n_openings`` leaf openings through ``n_groups`` groups (``GroupedOpenings``):
    per opening a membership product over the groups' ``ARITY * n_groups`` children; once per group
    its node (``Poseidon(ARITY)``) and that node's opening through the cap of :func:`group_cap_height`."""
    cap = group_cap_height(n_groups, depth)
    per_opening = ARITY * n_groups - 1
    return n_openings * per_opening + NODE_CONSTRAINTS * n_groups + opening_constraints(n_groups, depth - 1, cap)


def group_of(index: int) -> int:
    """The group of leaf ``index``: its parent's index among the nodes one level above the leaves."""
    return index >> LOG


def leaf_groups(indices: Sequence[int], n_groups: int) -> list[int]:
    """The ``n_groups`` groups a ``GroupedOpenings`` circuit opens for leaves ``indices``: the distinct
    groups in increasing order, the first repeated into unused slots (group 0 when there is no leaf).

    ``ValueError`` naming the count when the leaves lie in more than ``n_groups`` groups.
    """
    if n_groups < 1:
        raise ValueError(f"n_groups: must be at least 1, got {n_groups}")
    touched = sorted(_groups(indices))
    if len(touched) > n_groups:
        raise ValueError(f"the leaves lie in {len(touched)} groups of {ARITY}, more than the circuit's {n_groups}")
    first = touched[0] if touched else 0
    return touched + [first] * (n_groups - len(touched))


def groups_touched(indices: Iterable[int]) -> int:
    """How many groups (of ``ARITY`` leaves under one node) hold the leaves ``indices``."""
    return len(_groups(indices))


def _groups(indices: Iterable[int]) -> set[int]:
    return {group_of(i) for i in indices}


def cheapest_groups(touched: int, accepted: Sequence[int], capacity: int, depth: int) -> int:
    """The group count a circuit of ``capacity`` openings should use for leaves in ``touched`` groups:
    the smallest of ``accepted`` that holds them (and no more than ``capacity``) when its
    ``GroupedOpenings`` costs fewer constraints than ``CappedOpenings``; else 0 (a path per opening)."""
    plain = opening_constraints(capacity, depth, cap_height(capacity, depth))
    for groups in sorted(accepted):
        if touched <= groups <= capacity:
            return groups if grouped_opening_constraints(capacity, groups, depth) < plain else 0
    return 0


def depth_for(n_leaves: int) -> int:
    """Smallest depth ``>= 1`` whose tree holds ``n_leaves`` leaves."""
    depth, capacity = 1, ARITY
    while capacity < n_leaves:
        depth, capacity = depth + 1, capacity * ARITY
    return depth


class MerkleTree:
    """Poseidon Merkle tree of arity :data:`ARITY` over field-element leaves.

    ``levels[0]`` holds the given leaves and ``levels[l]`` the nodes of level
    ``l`` that have at least one non-empty descendant; any other node at
    level ``l`` equals ``zeros[l]``, the hash of an all-empty subtree.
    """

    def __init__(self, leaves: Sequence[int], depth: int | None = None) -> None:
        needed = depth_for(len(leaves))
        if depth is None:
            depth = needed
        elif depth < needed:
            raise ValueError(f"{len(leaves)} leaves do not fit a depth-{depth} arity-{ARITY} tree")
        self._depth = depth
        self._zeros = [0]
        self._levels: list[list[int]] = [list(leaves)]
        for level in range(depth):
            below, zero = self._levels[level], self._zeros[level]
            padded = below + [zero] * (-len(below) % ARITY)
            self._levels.append([poseidon(padded[i : i + ARITY]) for i in range(0, len(padded), ARITY)])
            self._zeros.append(poseidon([zero] * ARITY))
        if not self._levels[depth]:  # no leaves at all
            self._levels[depth] = [self._zeros[depth]]

    @classmethod
    def from_levels(cls, levels: Sequence[Sequence[int]]) -> "MerkleTree":
        """A tree from its :attr:`levels` as stored earlier, re-hashing nothing but the empty
        subtrees' constants: the caller vouches for the nodes (``ValueError`` on a wrong shape)."""
        depth = len(levels) - 1
        if depth < 1 or len(levels[depth]) != 1:
            raise ValueError("levels: one list per level, the root's last and alone")
        for level in range(depth):
            if len(levels[level + 1]) != -(-len(levels[level]) // ARITY) and levels[level]:
                raise ValueError(f"levels: level {level + 1} does not have one node per {ARITY} of level {level}")
        tree = cls.__new__(cls)
        tree._depth = depth
        tree._levels = [list(level) for level in levels]
        tree._zeros = [0]
        for _ in range(depth):
            tree._zeros.append(poseidon([tree._zeros[-1]] * ARITY))
        return tree

    @property
    def levels(self) -> list[list[int]]:
        """The stored nodes per level, leaves first, the root last (copies)."""
        return [list(level) for level in self._levels]

    @property
    def depth(self) -> int:
        """Number of hashing levels between a leaf and the root."""
        return self._depth

    @property
    def root(self) -> int:
        """The root node."""
        return self._levels[self._depth][0]

    def _node(self, level: int, index: int) -> int:
        nodes = self._levels[level]
        return nodes[index] if index < len(nodes) else self._zeros[level]

    def cap(self, height: int) -> list[int]:
        """The ``ARITY**height`` nodes at ``height`` levels below the root, in index order
        (``height = 0``: the root alone); with :meth:`path` ``(levels=depth - height)`` they
        replace full paths in a circuit that opens many leaves (``CappedOpenings``)."""
        if not 0 <= height <= self._depth:
            raise ValueError(f"cap height {height} outside 0..{self._depth}")
        level = self._depth - height
        return [self._node(level, k) for k in range(ARITY**height)]

    def children(self, group: int) -> list[int]:
        """The ``ARITY`` leaves (0 where empty) under node ``group`` one level above the leaves:
        a group of ``GroupedOpenings``, whose node is their ``Poseidon(ARITY)``."""
        if not 0 <= group < ARITY ** (self._depth - 1):
            raise IndexError(f"group index outside a depth-{self._depth} arity-{ARITY} tree")
        return [self._node(0, ARITY * group + k) for k in range(ARITY)]

    def path(self, index: int, levels: int | None = None, *, level: int = 0) -> list[list[int]]:
        """Siblings of node ``index`` at height ``level`` (a leaf by default) per level from it up
        (up to the root, or the lowest ``levels``).

        Each entry holds the ``ARITY - 1`` other children of the node's parent
        in child order, the node's own position ``(index >> LOG*l) % ARITY`` removed.
        """
        if not 0 <= level <= self._depth:
            raise ValueError(f"node height {level} outside 0..{self._depth}")
        height = self._depth - level
        if not 0 <= index < ARITY**height:
            raise IndexError(f"{'leaf' if level == 0 else 'node'} index outside a depth-{self._depth} arity-{ARITY} tree")
        levels = height if levels is None else levels
        if not 0 <= levels <= height:
            raise ValueError(f"path of {levels} levels outside 0..{height}")
        siblings = []
        for step in range(levels):
            node = index >> (LOG * step)
            first = node - node % ARITY
            siblings.append([self._node(level + step, first + k) for k in range(ARITY) if first + k != node])
        return siblings


def root_from_path(leaf: int, index: int, path: Sequence[Sequence[int]]) -> int:
    """Recompute the root from a leaf, its index and :meth:`MerkleTree.path`.

    ``ValueError`` if a level does not have ``ARITY - 1`` siblings or ``index``
    does not fit the path's depth (so high index bits cannot be silently ignored).
    """
    if not 0 <= index < ARITY ** len(path):
        raise ValueError(f"leaf index outside a depth-{len(path)} arity-{ARITY} tree")
    return _climb(leaf, index, path)


def cap_root(cap: Sequence[int]) -> int:
    """The root above a cap (:meth:`MerkleTree.cap`): ``MerkleCapRoot`` in ``circuits/merkle.circom``."""
    nodes = list(cap)
    if not nodes or ARITY ** (len(nodes).bit_length() // LOG) != len(nodes):
        raise ValueError(f"a cap holds a power of {ARITY} nodes, not {len(nodes)}")
    while len(nodes) > 1:
        nodes = [poseidon(nodes[i : i + ARITY]) for i in range(0, len(nodes), ARITY)]
    return nodes[0]


def root_from_capped_path(leaf: int, index: int, path: Sequence[Sequence[int]], cap: Sequence[int]) -> int:
    """The root a leaf opens to through a cap (``MerkleCapInclusion`` + ``MerkleCapRoot``): the leaf
    climbs ``len(path)`` levels and must land on the cap node its index's top digits select.

    ``ValueError`` if the index does not fit the tree or the climb misses its cap node.
    """
    root = cap_root(cap)
    if not 0 <= index < ARITY ** len(path) * len(cap):
        raise ValueError(f"leaf index outside a tree of {len(path)} levels under a cap of {len(cap)} nodes")
    if _climb(leaf, index, path) != cap[index // ARITY ** len(path)]:
        raise ValueError("the path does not lead to the cap node of the leaf's index")
    return root


def root_from_groups(leaves: Sequence[int], groups: Sequence[tuple[Sequence[int], int, Sequence[Sequence[int]]]],
                     cap: Sequence[int]) -> int:
    """The root ``leaves`` open to through groups (``GroupedOpenings``): each group ``(children, index,
    path)`` hashes its ``ARITY`` children to a node one level above the leaves, which climbs
    ``len(path)`` levels to the cap node its index selects; each leaf must be one of the children.

    ``ValueError`` if a group misses its cap node or a leaf is in no group.
    """
    if not groups:
        raise ValueError("groups: at least one")
    root = cap_root(cap)
    members: set[int] = set()
    for g, (children, index, path) in enumerate(groups):
        if len(children) != ARITY:
            raise ValueError(f"group {g}: expected {ARITY} children, got {len(children)}")
        try:
            root_from_capped_path(poseidon(list(children)), index, path, cap)
        except ValueError as exc:
            raise ValueError(f"group {g}: {exc}") from None
        members.update(children)
    for j, leaf in enumerate(leaves):
        if leaf not in members:
            raise ValueError(f"leaf {j} is in none of the groups")
    return root


def _climb(leaf: int, index: int, path: Sequence[Sequence[int]]) -> int:
    node = leaf
    for level, siblings in enumerate(path):
        if len(siblings) != ARITY - 1:
            raise ValueError(f"path level {level}: expected {ARITY - 1} siblings, got {len(siblings)}")
        pos = (index >> (LOG * level)) % ARITY
        node = poseidon([*siblings[:pos], node, *siblings[pos:]])
    return node
