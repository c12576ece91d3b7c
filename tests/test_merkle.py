"""Poseidon Merkle tree of arity ``MERKLE_ARITY`` (8): roots, paths, padding and failure cases,
and the circuit twin (``circuits/merkle.circom``, ``circuits/placement.circom``) against it.

The Python tests are written for any power-of-two arity; the slow tests compile
``ChildPlacement(LOG)`` and a ``MerkleInclusion(2)`` harness on their own (seconds) and hold
them to :mod:`zksolv.merkle` bit for bit: every child position at every level, every wire
tampered, wrong indices, swapped or foreign siblings.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from zksolv import fixedpoint as fp
from zksolv.toolchain import r1cs as R
from zksolv.merkle import ARITY, LOG, MerkleTree, depth_for, root_from_path
from zksolv.poseidon import poseidon
from tests.witness_batch import run_batch

P = fp.FIELD_MODULUS
ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "test-circuits"


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


# ============================================================== the circuit twin (slow)
#: LOG bits per level; the harness opens a depth-2 tree (every position at both levels).
HARNESS_DEPTH = 2

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
}


class Harness:
    """A compiled stand-alone template and a batch witness runner (None = no witness)."""

    def __init__(self, name: str) -> None:
        from zksolv.circuitgen import Tier, include_dirs, render_main
        from zksolv.market import RiskMode
        from zksolv.toolchain import CompiledCircuit, compile_circuit

        consts = "\n".join(line for line in render_main(Tier(1, 1, 1, 1, 1, RiskMode.STRESS)).splitlines()
                           if line.startswith("function "))
        body = HARNESSES[name]
        includes = "\n".join(line for line in body.splitlines() if line.startswith("include"))
        rest = "\n".join(line for line in body.splitlines() if not line.startswith("include"))
        source = f"pragma circom 2.1.6;\n{includes}\n{consts}\n{rest}\n"
        import hashlib

        h = hashlib.sha256(source.encode())
        for path in sorted((ROOT / "circuits").glob("*.circom")):
            h.update(path.read_bytes())
        out = BUILD / f"harness_{name}-{h.hexdigest()[:16]}"
        try:
            self.compiled = CompiledCircuit.from_dir(out, f"harness_{name}")
        except Exception:
            src = BUILD / "src" / f"harness_{name}.circom"
            src.parent.mkdir(parents=True, exist_ok=True)
            src.write_text(source)
            self.compiled = compile_circuit(src, out, include_dirs())
        self.r1cs = R.R1CS.load(self.compiled.r1cs)
        self.touching = R.constraints_touching(self.r1cs)
        self.names = R.wire_names(R.read_sym(self.compiled.sym))

    def run(self, batch: list[dict[str, Any]]) -> list[list[int] | None]:
        return [res["witness"] for res in run_batch(self.compiled, batch, witness=True)]


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
