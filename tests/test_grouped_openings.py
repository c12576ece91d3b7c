"""Grouped openings (``GroupedOpenings`` in circuits/merkle.circom) and their Python reference
(``leaf_groups``, ``MerkleTree.children``, ``path(..., level=1)``, ``root_from_groups``,
``grouped_opening_constraints`` in zksolv/core/merkle.py).

A circuit opens G groups (nodes one level above the leaves) once each, through the tree's cap, and
every leaf it needs proves it is one of the groups' children by a vanishing product. The fast tests
pin the reference; the slow ones compile stand-alone harnesses at the edge shapes and check, against
the reference, that every leaf of every opened group opens, that no other value does (a leaf of an
unopened group, a forged leaf, a group at the wrong index, another tree's group), that the constraint
count is the cost model's, and that no wire is free.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.witness_batch import StandaloneCircuit
from zksolv.core import fixedpoint as fp
from zksolv.core.merkle import (ARITY, MerkleTree, cap_height, group_cap_height, group_of, grouped_opening_constraints,
                                leaf_groups, opening_constraints, root_from_groups)
from zksolv.core.poseidon import poseidon
from zksolv.toolchain import r1cs as R

P = fp.FIELD_MODULUS


def _tree(depth: int, empty: int = 3, base: int = 1000) -> tuple[MerkleTree, list[int]]:
    """A full-width tree of ``depth`` whose last ``empty`` leaves are empty (0)."""
    leaves = [base + 7 * i for i in range(ARITY**depth - empty)]
    return MerkleTree(leaves, depth=depth), leaves + [0] * empty


def _groups(tree: MerkleTree, ids: list[int]) -> list[tuple[list[int], int, list[list[int]]]]:
    cap = group_cap_height(len(ids), tree.depth)
    return [(tree.children(g), g, tree.path(g, tree.depth - 1 - cap, level=1)) for g in ids]


# ============================================================== Python reference (fast)
def test_leaf_groups_are_the_distinct_parents_padded_with_the_first() -> None:
    assert leaf_groups([17, 3, 9, 16, 2], 4) == [0, 1, 2, 0]
    assert leaf_groups([], 2) == [0, 0]
    assert leaf_groups([63], 1) == [7]
    assert [group_of(i) for i in (0, 7, 8, 511)] == [0, 0, 1, 63]
    with pytest.raises(ValueError, match="3 groups of 8, more than the circuit's 2"):
        leaf_groups([0, 8, 16], 2)
    with pytest.raises(ValueError, match="n_groups"):
        leaf_groups([0], 0)


def test_children_and_node_paths_rebuild_the_root() -> None:
    tree, leaves = _tree(3)
    for g in (0, 5, 63):
        children = tree.children(g)
        assert children == leaves[ARITY * g : ARITY * g + ARITY]
        node = poseidon(children)
        assert node == tree.levels[1][g]
        # the node's full path from height 1, as MerkleInclusion(DEPTH - 1) climbs it
        from zksolv.core.merkle import root_from_path

        assert root_from_path(node, g, tree.path(g, level=1)) == tree.root
    with pytest.raises(IndexError):
        tree.children(64)
    with pytest.raises(IndexError):
        tree.path(64, level=1)
    with pytest.raises(ValueError, match="outside 0..2"):
        tree.path(0, 3, level=1)


def test_cost_model_and_cap_height() -> None:
    for depth in range(1, fp.MAX_TREE_DEPTH + 1):
        for g in (1, 2, 8, 16, 64):
            assert group_cap_height(g, depth) == cap_height(g, depth - 1)
    # D = 4, 64 leaves in 16 groups: 127 per leaf, the groups once; against 901 per leaf through the cap
    grouped = grouped_opening_constraints(64, 16, 4)
    assert grouped == 64 * 127 + 16 * 402 + opening_constraints(16, 3, 2)
    assert grouped / 64 < 410 < opening_constraints(64, 4, cap_height(64, 4)) / 64 - 490


def test_reference_opens_every_member_and_nothing_else() -> None:
    tree, leaves = _tree(3)
    ids = [1, 6, 40]
    cap = tree.cap(group_cap_height(len(ids), tree.depth))
    groups = _groups(tree, ids)
    members = [leaves[ARITY * g + k] for g in ids for k in range(ARITY)]
    assert root_from_groups(members, groups, cap) == tree.root
    with pytest.raises(ValueError, match="leaf 1 is in none"):
        root_from_groups([members[0], leaves[0]], groups, cap)          # a leaf of an unopened group
    with pytest.raises(ValueError, match="leaf 0 is in none"):
        root_from_groups([members[0] + 1], groups, cap)                  # a forged leaf
    moved = [groups[0], (groups[1][0], groups[1][1] + 1, groups[1][2]), groups[2]]
    with pytest.raises(ValueError, match="group 1: .*cap node"):
        root_from_groups(members[:1], moved, cap)                        # a group at another index
    forged = [(groups[0][0][:-1] + [groups[0][0][-1] + 1], groups[0][1], groups[0][2])]
    with pytest.raises(ValueError, match="group 0"):
        root_from_groups(members[:1], forged, cap)                       # a forged child


# ============================================================== stand-alone circuit (slow)
def Harness(name: str, main: str) -> StandaloneCircuit:  # noqa: N802 — reads like the class it builds
    """A stand-alone ``component main = <main>`` over circuits/merkle.circom, compiled once."""
    return StandaloneCircuit(f"grouped_{name}", f'include "merkle.circom";\ncomponent main = {main};\n')


def _inputs(tree: MerkleTree, cap: int, leaves: list[int], groups) -> dict[str, Any]:  # noqa: ANN001
    return {"root": str(tree.root), "cap": [str(x) for x in tree.cap(cap)], "leaf": [str(x % P) for x in leaves],
            "group": [[str(x % P) for x in c] for c, _, _ in groups], "group_index": [str(i % P) for _, i, _ in groups],
            "group_path": [[[str(x % P) for x in level] for level in path] for _, _, path in groups]}


@pytest.mark.slow
@pytest.mark.parametrize(("n", "g", "depth"), [(2, 1, 1), (3, 2, 2), (2, 3, 3), (2, 10, 3)],
                         ids=["depth1_root_group", "cap1_no_level", "cap1_one_level", "cap2_no_level"])
def test_grouped_openings_at_the_edge_shapes(n: int, g: int, depth: int) -> None:
    cap = group_cap_height(g, depth)
    h = Harness(f"go_{n}_{g}_{depth}_{cap}", f"GroupedOpenings({n}, {g}, {depth}, {cap})")
    assert h.compiled.n_constraints == grouped_opening_constraints(n, g, depth)
    tree, leaves = _tree(depth)
    n_groups = ARITY ** (depth - 1)
    rng = random.Random(11)
    ids = sorted(rng.sample(range(n_groups), min(g, n_groups)))
    ids += [ids[0]] * (g - len(ids))  # unused slots repeat a used group, as leaf_groups pads
    groups = _groups(tree, ids)
    members = [leaves[ARITY * x + k] for x in ids for k in range(ARITY)]
    others = [v for i, v in enumerate(leaves) if group_of(i) not in ids and v != 0]

    good = [_inputs(tree, cap, [m] + members[:n - 1], groups) for m in members]
    witnesses = h.run(good)
    assert all(w is not None for w in witnesses)
    for m in members:  # the reference agrees on every member
        assert root_from_groups([m], groups, tree.cap(cap)) == tree.root
    w = witnesses[1]
    assert R.check(h.r1cs, w) == []
    for wire in range(1, h.r1cs.n_wires):  # nothing free: children, indices, paths, products
        assert R.tamper_rejected(h.r1cs, w, wire, w[wire] + 1, h.touching), h.names.get(wire)
        assert R.tamper_rejected(h.r1cs, w, wire, rng.randrange(P), h.touching), h.names.get(wire)

    bad = [_inputs(tree, cap, [x] + members[:n - 1], groups) for x in others[:12]]           # unopened groups
    bad += [_inputs(tree, cap, [members[0] + 1] + members[:n - 1], groups)]                   # a forged leaf
    bad += [_inputs(tree, cap, members[:n], [(c, i + s, p) for c, i, p in groups])             # a group moved
            for s in (1, n_groups, P - n_groups) if n_groups > 1 or s != 1]
    other, _ = _tree(depth, base=5000)                                                        # another tree's group
    bad += [_inputs(tree, cap, [other.children(ids[0])[0]] + members[:n - 1],
                    [(other.children(ids[0]), ids[0], groups[0][2]), *groups[1:]])]
    assert all(w is None for w in h.run(bad))
    for leaf in [x for x in others[:3]] + [members[0] + 1]:
        with pytest.raises(ValueError, match="in none"):
            root_from_groups([leaf], groups, tree.cap(cap))


@pytest.mark.slow
def test_the_empty_leaf_is_a_member_of_a_part_empty_group() -> None:
    """The caller's obligation, shown: the empty leaf 0 is a child of a part-empty group, so a slot
    whose leaf could be 0 would open "nothing". ``PositionSlots`` feeds ``InstrumentLeaf`` outputs
    (Poseidon), which are 0 only for a preimage of 0."""
    cap = group_cap_height(1, 2)
    h = Harness(f"go_2_1_2_{cap}", f"GroupedOpenings(2, 1, 2, {cap})")
    tree, leaves = _tree(2, empty=3)
    groups = _groups(tree, [ARITY - 1])  # the last group holds the three empty leaves
    (w,) = h.run([_inputs(tree, cap, [0, leaves[-4]], groups)])
    assert w is not None
    assert root_from_groups([0], groups, tree.cap(cap)) == tree.root
