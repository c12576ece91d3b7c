"""Poseidon Merkle tree of arity ``MERKLE_ARITY`` (8): roots, paths, padding and failure cases,
and the circuit twin (``circuits/merkle.circom``, ``circuits/placement.circom``) against it.

The Python tests are written for any power-of-two arity; the slow tests compile
``ChildPlacement(LOG)``, a ``MerkleInclusion(2)`` and a ``CappedOpenings`` harness on their own
(seconds) and hold them to :mod:`zksolv.core.merkle` bit for bit: every child position at every level,
every wire tampered, wrong indices, swapped or foreign siblings, a cap that is not the tree's,
a climb that lands on another cap node; and the constraint counts to the cost model that picks
the cap height.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from zksolv.core import fixedpoint as fp
from zksolv.toolchain import r1cs as R
from zksolv.core.merkle import (ARITY, LOG, MerkleTree, cap_height, cap_root, depth_for, opening_constraints,
                           root_from_capped_path, root_from_path)
from zksolv.core.poseidon import poseidon
from tests.witness_batch import StandaloneCircuit

P = fp.FIELD_MODULUS


def naive_root(leaves: list[int], depth: int) -> int:
    """Hash a fully materialised, zero-padded tree level by level."""
    level = leaves + [0] * (ARITY**depth - len(leaves))
    for _ in range(depth):
        level = [poseidon(level[i : i + ARITY]) for i in range(0, len(level), ARITY)]
    assert len(level) == 1
    return level[0]


def leaves_of(n: int) -> list[int]:
    return [1000 + 7 * i for i in range(n)]


def test_arity_is_the_published_constant() -> None:
    assert ARITY == fp.MERKLE_ARITY == 8 and LOG == 3
    assert ARITY**fp.MAX_TREE_DEPTH >= 65_536  # the capacity promised before arity 8


A = ARITY


@pytest.mark.parametrize(("n", "depth"), [(0, 1), (1, 1), (A - 1, 1), (A, 1), (A + 1, 2), (A**2, 2),
                                          (A**2 + 1, 3), (152, 3), (A**3, 3), (A**3 + 1, 4), (4096, 4)])
def test_default_depth(n: int, depth: int) -> None:
    assert depth_for(n) == depth
    if n <= 600:
        assert MerkleTree(leaves_of(n)).depth == depth


@pytest.mark.parametrize("n", [1, 3, A, A + 1, 2 * A, 2 * A + 1, 3 * A - 2])
def test_root_and_every_path(n: int) -> None:
    leaves = leaves_of(n)
    tree = MerkleTree(leaves)
    assert tree.root == naive_root(leaves, tree.depth)
    for index, leaf in enumerate(leaves):
        path = tree.path(index)
        assert len(path) == tree.depth and all(len(level) == A - 1 for level in path)
        assert root_from_path(leaf, index, path) == tree.root


def test_explicit_depth_pads_with_zero_leaves() -> None:
    leaves = leaves_of(6)
    tree = MerkleTree(leaves, depth=3)
    assert tree.depth == 3
    assert tree.root == naive_root(leaves, 3)
    assert tree.root != MerkleTree(leaves).root
    for index in (0, 5, 6, A**3 - 1):  # real leaves and empty (zero) leaves
        leaf = leaves[index] if index < len(leaves) else 0
        assert root_from_path(leaf, index, tree.path(index)) == tree.root


def test_empty_tree_is_all_zero_leaves() -> None:
    assert MerkleTree([]).root == poseidon([0] * A)
    assert MerkleTree([0, 0]).root == MerkleTree([]).root


def test_path_layout_removes_own_position() -> None:
    leaves = leaves_of(A * A)
    index = 2 * A + 2  # level 0: position 2 in group 2; level 1: position 2
    path = MerkleTree(leaves).path(index)
    group = leaves[2 * A : 3 * A]
    assert path[0] == group[:2] + group[3:]
    groups = [poseidon(leaves[i : i + A]) for i in range(0, A * A, A)]
    assert path[1] == groups[:2] + groups[3:]


def test_depth_too_small_is_refused() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        MerkleTree(leaves_of(A * A + 1), depth=2)


def test_tampering_fails() -> None:
    leaves = leaves_of(A * A + 1)
    tree = MerkleTree(leaves)
    index = A + 1
    path = tree.path(index)
    assert root_from_path(leaves[index] + 1, index, path) != tree.root
    for other in (A, A + 2, 2 * A + 1, A * A + A + 1, 3 * A * A + 1):
        assert root_from_path(leaves[index], other, path) != tree.root
    for level in range(tree.depth):
        for k in range(A - 1):
            bad = [list(sibs) for sibs in path]
            bad[level][k] += 1
            assert root_from_path(leaves[index], index, bad) != tree.root
    swapped = [list(sibs) for sibs in path]
    swapped[0][0], swapped[0][1] = swapped[0][1], swapped[0][0]
    assert root_from_path(leaves[index], index, swapped) != tree.root


def test_malformed_paths_are_refused() -> None:
    tree = MerkleTree(leaves_of(A + 1))
    path = tree.path(1)
    with pytest.raises(ValueError, match="outside"):
        root_from_path(leaves_of(A + 1)[1], 1 + A * A, path)  # high bits beyond the depth
    with pytest.raises(ValueError, match=f"{A - 1} siblings"):
        root_from_path(leaves_of(A + 1)[1], 1, [path[0][:-1], path[1]])
    with pytest.raises(IndexError):
        tree.path(A * A)
    with pytest.raises(IndexError):
        tree.path(-1)


def test_cap_is_the_level_below_the_root_and_recomputes_it() -> None:
    tree = MerkleTree(leaves_of(2 * A * A + 5), depth=4)
    for height in range(5):
        cap = tree.cap(height)
        assert len(cap) == A**height and cap_root(cap) == tree.root
    assert tree.cap(0) == [tree.root] and tree.cap(4)[: 2 * A * A + 5] == leaves_of(2 * A * A + 5)
    with pytest.raises(ValueError, match="cap height"):
        tree.cap(5)
    with pytest.raises(ValueError, match="power of 8"):
        cap_root(tree.cap(1)[:-1])


def test_capped_paths_open_every_leaf_and_nothing_else() -> None:
    leaves = leaves_of(3 * A * A - 4)
    tree = MerkleTree(leaves, depth=3)
    for height in range(4):
        levels, cap = 3 - height, tree.cap(height)
        for index in (0, 1, A - 1, A, A * A + 3, 3 * A * A - 5, 3 * A * A, A**3 - 1):
            leaf = leaves[index] if index < len(leaves) else 0
            path = tree.path(index, levels)
            assert path == tree.path(index)[:levels]
            assert root_from_capped_path(leaf, index, path, cap) == tree.root
            with pytest.raises(ValueError, match="cap node"):
                root_from_capped_path(leaf + 1, index, path, cap)
            if height and index < len(leaves):  # another top digit selects another cap node (not an empty twin)
                with pytest.raises(ValueError, match="cap node"):
                    root_from_capped_path(leaf, index ^ (1 << (LOG * levels)), path, cap)
        with pytest.raises(ValueError, match="outside"):
            root_from_capped_path(0, A**3, tree.path(0, levels), cap)
    with pytest.raises(ValueError, match="levels"):
        tree.path(0, 4)


def test_a_tree_rebuilt_from_its_levels_is_the_same_tree() -> None:
    tree = MerkleTree(leaves_of(2 * A + 3), depth=3)
    again = MerkleTree.from_levels(tree.levels)
    assert again.root == tree.root and again.depth == 3
    assert all(again.path(i) == tree.path(i) for i in (0, 2 * A + 2, A**3 - 1)) and again.cap(2) == tree.cap(2)
    with pytest.raises(ValueError, match="root's last"):
        MerkleTree.from_levels(tree.levels[:-2])  # 3 nodes on top
    broken = tree.levels
    broken[1] = broken[1][:-1]
    with pytest.raises(ValueError, match="one node per"):
        MerkleTree.from_levels(broken)


def test_cap_height_minimises_the_cost_model() -> None:
    """The cap is worth it once a circuit opens more than a handful of leaves; the heights the
    benchmarks rely on (demo tier: 1; 64 positions or a chunk of 64 on 4,096 instruments: 2)."""
    for n, depth in [(1, 1), (1, 4), (4, 3), (8, 3), (16, 4), (64, 4), (1024, 4), (64, 5)]:
        best = cap_height(n, depth)
        assert all(opening_constraints(n, depth, best) <= opening_constraints(n, depth, c) for c in range(depth + 1))
    assert (cap_height(4, 3), cap_height(64, 4), cap_height(64, 5)) == (1, 2, 2)
    assert opening_constraints(64, 4, 0) == 64 * 1664
    assert opening_constraints(64, 4, 2) == 64 * (12 + 2 * 413 + 63) + 9 * 402


# ============================================================== the circuit twin (slow)
#: LOG bits per level; the harness opens a depth-2 tree (every position at both levels).
HARNESS_DEPTH = 2
#: The capped harness opens its leaves through the ARITY nodes one level below the root.
CAP_HEIGHT = 1

HARNESSES = {
    "placement": f"""include "placement.circom";
component main = ChildPlacement({LOG});
""",
    # the root is an input, as in AvslSolvency (inclusion.root === instruments_root)
    "inclusion": f"""include "merkle.circom";
template MerkleCheck(DEPTH) {{
    signal input leaf;
    signal input index;
    signal input path[DEPTH][FP_MERKLE_ARITY() - 1];
    signal input root;
    component m = MerkleInclusion(DEPTH);
    m.leaf <== leaf;
    m.index <== index;
    m.path <== path;
    m.root === root;
}}
component main = MerkleCheck({HARNESS_DEPTH});
""",
    # CappedOpenings as PositionSlots uses it: two leaves through one cap of height CAP_HEIGHT
    "capped": f"""include "merkle.circom";
component main = CappedOpenings(2, {HARNESS_DEPTH}, {CAP_HEIGHT});
""",
}


class Harness(StandaloneCircuit):
    """A compiled stand-alone template of :data:`HARNESSES` and a batch witness runner."""

    def __init__(self, name: str) -> None:
        super().__init__(f"harness_{name}", HARNESSES[name])


@pytest.fixture(scope="module")
def harness() -> Any:
    cache: dict[str, Harness] = {}

    def get(name: str) -> Harness:
        if name not in cache:
            cache[name] = Harness(name)
        return cache[name]

    return get


def _inclusion_inputs(tree: MerkleTree, leaf: int, index: int, path=None, root=None) -> dict[str, Any]:
    return {"leaf": str(leaf % P), "index": str(index % P),
            "path": [[str(x % P) for x in level] for level in (path if path is not None else tree.path(index))],
            "root": str((root if root is not None else tree.root) % P)}


@pytest.mark.slow
def test_placement_puts_the_node_at_its_position(harness) -> None:
    """ChildPlacement(LOG): for every position p the children are the siblings in order with the
    node inserted at p (outputs c[] are wires 1..ARITY). Stand-alone its inputs are free, so
    tampering is swept on the inclusion harness below, where the root pins everything."""
    h = harness("placement")
    assert h.compiled.n_constraints == (A - 1 - LOG) + (A - 1)
    rng = random.Random(5)
    node, sib = rng.randrange(P), [rng.randrange(P) for _ in range(A - 1)]
    batch = [{"node": str(node), "sib": [str(s) for s in sib], "b": [str((p >> j) & 1) for j in range(LOG)]}
             for p in range(A)]
    for p, w in enumerate(h.run(batch)):
        assert w is not None
        assert w[1 : 1 + A] == sib[:p] + [node] + sib[p:], f"position {p}"
        assert R.check(h.r1cs, w) == []


@pytest.mark.slow
def test_inclusion_matches_the_python_tree_at_every_position(harness) -> None:
    """MerkleInclusion(2) agrees with MerkleTree for every leaf of a full and a padded tree (every
    child position at both levels), and every wire of several witnesses is bound."""
    h = harness("inclusion")
    assert h.compiled.n_constraints == HARNESS_DEPTH * (LOG + (A - 1 - LOG) + (A - 1) + 402)
    full = MerkleTree(leaves_of(A**HARNESS_DEPTH))
    padded = MerkleTree(leaves_of(A + 3), depth=HARNESS_DEPTH)
    cases = [(full, i) for i in range(A**HARNESS_DEPTH)] + [(padded, i) for i in (0, A + 2, A + 3, A * A - 1)]
    leaf = lambda t, i: t._levels[0][i] if i < len(t._levels[0]) else 0  # noqa: E731
    witnesses = h.run([_inclusion_inputs(t, leaf(t, i), i) for t, i in cases])
    assert all(w is not None for w in witnesses)
    rng = random.Random(9)
    for (t, i), w in list(zip(cases, witnesses))[:: A + 1]:
        assert R.check(h.r1cs, w) == []
        for wire in range(1, h.r1cs.n_wires):
            assert R.tamper_rejected(h.r1cs, w, wire, w[wire] + 1, h.touching), (i, h.names.get(wire))
            assert R.tamper_rejected(h.r1cs, w, wire, rng.randrange(P), h.touching), (i, h.names.get(wire))


@pytest.mark.slow
def test_inclusion_refuses_wrong_openings(harness) -> None:
    """No witness for: another index (every other child position at each level), an index beyond
    the depth (aliasing), swapped siblings, a sibling of another leaf's path, another leaf."""
    h = harness("inclusion")
    tree = MerkleTree(leaves_of(A**HARNESS_DEPTH - 5))
    index = 3 * A + 5
    leaf = leaves_of(A**HARNESS_DEPTH)[index]
    good = _inclusion_inputs(tree, leaf, index)
    bad = []
    for level in range(HARNESS_DEPTH):
        digit = (index >> (LOG * level)) % A
        for other in range(A):
            if other != digit:
                bad.append(_inclusion_inputs(tree, leaf, index + (other - digit) * A**level, path=tree.path(index)))
    bad.append(_inclusion_inputs(tree, leaf, index + A**HARNESS_DEPTH, path=tree.path(index)))
    swapped = [list(level) for level in tree.path(index)]
    swapped[1][0], swapped[1][1] = swapped[1][1], swapped[1][0]
    bad.append(_inclusion_inputs(tree, leaf, index, path=swapped))
    foreign = [list(level) for level in tree.path(index)]
    foreign[0] = tree.path(index + A)[0]
    bad.append(_inclusion_inputs(tree, leaf, index, path=foreign))
    bad.append(_inclusion_inputs(tree, leaf + 1, index))
    results = h.run([good, *bad])
    assert results[0] is not None
    assert [w is None for w in results[1:]] == [True] * len(bad)


def _capped_inputs(tree: MerkleTree, opened: list[tuple[int, int]], cap=None, paths=None, root=None) -> dict[str, Any]:
    levels = HARNESS_DEPTH - CAP_HEIGHT
    return {"root": str((root if root is not None else tree.root) % P),
            "cap": [str(x % P) for x in (cap if cap is not None else tree.cap(CAP_HEIGHT))],
            "leaf": [str(leaf % P) for leaf, _ in opened], "index": [str(i % P) for _, i in opened],
            "path": [[[str(x % P) for x in level] for level in path]
                     for path in (paths if paths is not None else [tree.path(i, levels) for _, i in opened])]}


@pytest.mark.slow
def test_capped_openings_match_the_python_tree(harness) -> None:
    """CappedOpenings(2, 2, 1): every pair of leaves of a full tree and of a padded one opens through
    the cap exactly as MerkleTree says; the count is the cost model's; every wire of a witness is
    bound; and no witness exists for a wrong leaf, another index (lower or top digit), a foreign or
    swapped sibling, a cap node changed (even consistently with another root) or a cap of another tree."""
    h = harness("capped")
    assert h.compiled.n_constraints == opening_constraints(2, HARNESS_DEPTH, CAP_HEIGHT)
    full = MerkleTree(leaves_of(A**HARNESS_DEPTH))
    padded = MerkleTree(leaves_of(A + 3), depth=HARNESS_DEPTH)
    leaf = lambda t, i: t._levels[0][i] if i < len(t._levels[0]) else 0  # noqa: E731
    cases = [(full, [(leaf(full, i), i), (leaf(full, j), j)]) for i, j in [(0, 63), (5, 5), (9, 40), (62, 1)]]
    cases += [(padded, [(leaf(padded, i), i) for i in (A + 2, A * A - 1)])]
    witnesses = h.run([_capped_inputs(t, opened) for t, opened in cases])
    assert all(w is not None for w in witnesses)
    rng = random.Random(11)
    w = witnesses[2]
    assert R.check(h.r1cs, w) == []
    for wire in range(1, h.r1cs.n_wires):
        assert R.tamper_rejected(h.r1cs, w, wire, w[wire] + 1, h.touching), h.names.get(wire)
        assert R.tamper_rejected(h.r1cs, w, wire, rng.randrange(P), h.touching), h.names.get(wire)

    tree, index = full, 3 * A + 5
    good = [(leaf(tree, index), index), (leaf(tree, 1), 1)]
    levels = HARNESS_DEPTH - CAP_HEIGHT
    path = tree.path(index, levels)
    bad = [_capped_inputs(tree, [(good[0][0] + 1, index), good[1]])]
    for other in range(A):  # every other digit at the climbed level and at the cap level
        if other != index % A:
            bad.append(_capped_inputs(tree, [(good[0][0], index - index % A + other), good[1]], paths=[path, tree.path(1, levels)]))
        if other != index // A:
            bad.append(_capped_inputs(tree, [(good[0][0], other * A + index % A), good[1]], paths=[path, tree.path(1, levels)]))
    bad.append(_capped_inputs(tree, [(good[0][0], index + A**HARNESS_DEPTH), good[1]], paths=[path, tree.path(1, levels)]))
    swapped = [list(lv) for lv in path]
    swapped[0][0], swapped[0][1] = swapped[0][1], swapped[0][0]
    bad.append(_capped_inputs(tree, good, paths=[swapped, tree.path(1, levels)]))
    bad.append(_capped_inputs(tree, good, paths=[tree.path(index + A, levels), tree.path(1, levels)]))
    forged = list(tree.cap(CAP_HEIGHT))
    forged[index // A] += 1
    bad.append(_capped_inputs(tree, good, cap=forged))
    bad.append(_capped_inputs(tree, good, cap=forged, root=cap_root(forged)))  # consistent, but not this root
    other = MerkleTree(leaves_of(A**HARNESS_DEPTH - 1))
    bad.append(_capped_inputs(tree, good, cap=other.cap(CAP_HEIGHT)))
    results = h.run([_capped_inputs(tree, good), *bad])
    assert results[0] is not None
    assert [r is None for r in results[1:]] == [True] * len(bad)
