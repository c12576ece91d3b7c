"""Arity-4 Poseidon Merkle tree: roots, paths, padding and failure cases."""

from __future__ import annotations

import pytest

from zksolv.merkle import MerkleTree, depth_for, root_from_path
from zksolv.poseidon import poseidon


def naive_root(leaves: list[int], depth: int) -> int:
    """Hash a fully materialised, zero-padded tree level by level."""
    level = leaves + [0] * (4**depth - len(leaves))
    for _ in range(depth):
        level = [poseidon(level[i : i + 4]) for i in range(0, len(level), 4)]
    assert len(level) == 1
    return level[0]


def leaves_of(n: int) -> list[int]:
    return [1000 + 7 * i for i in range(n)]


@pytest.mark.parametrize(("n", "depth"), [(0, 1), (1, 1), (3, 1), (4, 1), (5, 2), (16, 2), (17, 3), (64, 3), (65, 4)])
def test_default_depth(n: int, depth: int) -> None:
    assert depth_for(n) == depth
    assert MerkleTree(leaves_of(n)).depth == depth


@pytest.mark.parametrize("n", [1, 3, 4, 5, 16, 17, 22])
def test_root_and_every_path(n: int) -> None:
    leaves = leaves_of(n)
    tree = MerkleTree(leaves)
    assert tree.root == naive_root(leaves, tree.depth)
    for index, leaf in enumerate(leaves):
        path = tree.path(index)
        assert len(path) == tree.depth and all(len(level) == 3 for level in path)
        assert root_from_path(leaf, index, path) == tree.root


def test_explicit_depth_pads_with_zero_leaves() -> None:
    leaves = leaves_of(6)
    tree = MerkleTree(leaves, depth=3)
    assert tree.depth == 3
    assert tree.root == naive_root(leaves, 3)
    assert tree.root != MerkleTree(leaves).root
    for index in (0, 5, 6, 63):  # real leaves and empty (zero) leaves
        leaf = leaves[index] if index < len(leaves) else 0
        assert root_from_path(leaf, index, tree.path(index)) == tree.root


def test_empty_tree_is_all_zero_leaves() -> None:
    assert MerkleTree([]).root == poseidon([0, 0, 0, 0])
    assert MerkleTree([0, 0]).root == MerkleTree([]).root


def test_path_layout_removes_own_position() -> None:
    leaves = leaves_of(16)
    path = MerkleTree(leaves).path(6)  # level 0: position 2 in group 4..7; level 1: position 1
    assert path[0] == [leaves[4], leaves[5], leaves[7]]
    groups = [poseidon(leaves[i : i + 4]) for i in range(0, 16, 4)]
    assert path[1] == [groups[0], groups[2], groups[3]]


def test_depth_too_small_is_refused() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        MerkleTree(leaves_of(17), depth=2)


def test_tampering_fails() -> None:
    leaves = leaves_of(17)
    tree = MerkleTree(leaves)
    index = 9
    path = tree.path(index)
    assert root_from_path(leaves[index] + 1, index, path) != tree.root
    for other in (8, 10, 13, 25, 41):
        assert root_from_path(leaves[index], other, path) != tree.root
    for level in range(tree.depth):
        for k in range(3):
            bad = [list(sibs) for sibs in path]
            bad[level][k] += 1
            assert root_from_path(leaves[index], index, bad) != tree.root
    swapped = [list(sibs) for sibs in path]
    swapped[0][0], swapped[0][1] = swapped[0][1], swapped[0][0]
    assert root_from_path(leaves[index], index, swapped) != tree.root


def test_malformed_paths_are_refused() -> None:
    tree = MerkleTree(leaves_of(5))
    path = tree.path(1)
    with pytest.raises(ValueError, match="outside"):
        root_from_path(leaves_of(5)[1], 1 + 16, path)  # high bits beyond the depth
    with pytest.raises(ValueError, match="3 siblings"):
        root_from_path(leaves_of(5)[1], 1, [path[0][:2], path[1]])
    with pytest.raises(IndexError):
        tree.path(16)
    with pytest.raises(IndexError):
        tree.path(-1)
