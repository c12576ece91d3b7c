"""Adversarial review of the Merkle cap (commit 625a3ad: ``MerkleCapRoot``, ``CapSelect``,
``MerkleCapInclusion``, ``CappedOpenings`` in circuits/merkle.circom; ``cap_height``, ``MerkleTree.cap``,
``path(index, levels)`` in zksolv/core/merkle.py; ``slot_inputs`` in zksolv/prover/witness.py).

No attack succeeded; these tests keep the attacks that were tried (each asserts the attack is refused):

* the cap heights production reaches: ``cap_height`` is never 0 for a circuit that opens a leaf
  (one Poseidon(8) once, 402, is cheaper than one level per leaf, 413), equals DEPTH at depth 1
  (zero-length ``path[N][0][7]`` arrays) and is 2 for N >= 16 at depth >= 2 (every default chunk
  and every tier of 16+ positions) although the soundness tiers of tests/tiers.py all have CAP = 1;
* Python: the tier's template arguments carry that cap, and every slot ``slot_inputs`` writes
  (padding slots included) opens through the cap to the market's root; a forged leaf does not;
* circuit, stand-alone ``CappedOpenings`` at the edge shapes (CAP = 0, CAP = DEPTH = 1, CAP = DEPTH = 2
  with a 6-bit multiplexer, CAP = 2 below a climbed level): every leaf at its index opens, no leaf
  opens at another index, ``index +- 8^DEPTH`` has no witness, every wire is pinned; ``CapSelect(9)``
  picks ``x[p]`` for every ``p`` (its bits are the caller's to constrain: it is only ever driven by
  ``Num2Bits``);
* circuit, whole tiers (CAP = 1 demo tier, CAP = DEPTH = 2 tier of 16 positions): an insolvent
  account proven solvent by opening a leaf with a forged mark (the same account *is* solvent under the
  forged market) has no witness however the forger chooses the private ``instruments_root`` and cap;
  a padding slot (q = 0) cannot open garbage; a leaf cannot open at an aliased index or under
  another cap node.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from zksolv.prover.witness import build_inputs, slot_inputs
from tests.tiers import SOUNDNESS_TIERS
from tests.witness_batch import StandaloneCircuit
from zksolv.core import commitments as cm
from zksolv.core import fixedpoint as fp
from zksolv.risk import model
from zksolv.toolchain.circuitgen import ChunkTier, Tier, render_main
from zksolv.app.demo import demo_market
from zksolv.core.market import RiskMode
from zksolv.core.merkle import (ARITY, MerkleTree, cap_height, cap_root, opening_constraints,
                           root_from_capped_path)
from zksolv.toolchain import r1cs as R

P = fp.FIELD_MODULUS
MARKET = demo_market(n_strikes=3, n_expiries=1)  # 20 instruments, depth 2
TIER = Tier.for_market(MARKET, 4)                # cap 1 (cached by test_adversary_review.py)


# ============================================================== Python side (fast)
def test_cap_heights_production_reaches() -> None:
    for depth in range(1, fp.MAX_TREE_DEPTH + 1):
        for n in (1, 2, 3, 4, 8, 12, 16, 64, 1024, fp.MAX_POSITIONS):
            cap = cap_height(n, depth)
            assert 1 <= cap <= depth, (n, depth)  # CAP = 0 never: one node hashed once beats a level per leaf
            if depth == 1:
                assert cap == depth  # zero-length lower paths: path[N][0][ARITY-1]
            if n >= 16 and depth >= 2:
                assert cap == 2  # CapSelect(6) + MerkleCapRoot(2): tests/tiers.py stress_cap2
    assert {t.cap for t in SOUNDNESS_TIERS.values()} == {1, 2}  # stress_cap2 sweeps CapSelect(6) too
    assert ChunkTier.for_market(MARKET, 64).cap == 2


@pytest.mark.parametrize("shape", [*SOUNDNESS_TIERS.values(), ChunkTier(8, 2, 2), ChunkTier(64, 2, 2),
                                   ChunkTier(64, 2, 3, 4, RiskMode.REVALUATION), Tier(16, 1, 2, 4, 2, RiskMode.STRESS)],
                         ids=lambda t: t.name)
def test_template_args_carry_the_cost_models_cap(shape) -> None:
    n = shape.n_positions if isinstance(shape, Tier) else shape.capacity
    assert shape.cap == cap_height(n, shape.depth)
    args = shape.template_args
    # (N,U,A,K,DEPTH,CAP[,G,MODE]) / (C,U,DEPTH,CAP,G) / (C,U,K,DEPTH,CAP)
    at = 5 if isinstance(shape, Tier) else len(args) - (1 if shape.mode is not None else 2)
    assert (args[at - 1], args[at]) == (shape.depth, shape.cap)
    assert f"{shape.template}({', '.join(map(str, args))})" in render_main(shape)


@pytest.mark.parametrize("capacity", [4, 16, 64])
def test_every_slot_input_opens_through_the_cap_and_a_forged_leaf_does_not(capacity: int) -> None:
    tree = cm.instrument_tree(MARKET)
    tier = Tier.for_market(MARKET, capacity)
    slots = [(4, 3), (9, -2), (19, 5)]  # padded with (0, 0) to capacity
    inputs = slot_inputs(MARKET, slots, capacity, tier.cap)
    cap = [int(x) for x in inputs["cap"]]
    assert len(cap) == ARITY**tier.cap and cap_root(cap) == tree.root
    for j in range(capacity):
        index, ins = int(inputs["leaf_index"][j]), MARKET.instruments[int(inputs["leaf_index"][j])]
        path = [[int(x) for x in level] for level in inputs["path"][j]]
        assert len(path) == tree.depth - tier.cap
        leaf = cm.instrument_leaf(MARKET.instrument_ids[index], ins)
        assert root_from_capped_path(leaf, index, path, cap) == tree.root
        forged = cm.instrument_leaf(MARKET.instrument_ids[index], dataclasses.replace(ins, mark=ins.mark * 30 + 1))
        with pytest.raises(ValueError, match="cap node"):
            root_from_capped_path(forged, index, path, cap)
        if tier.cap < tree.depth:  # the same leaf and path under another cap node
            with pytest.raises(ValueError, match="cap node"):
                root_from_capped_path(leaf, index + ARITY ** len(path), path, cap)


# ============================================================== stand-alone templates (slow)
def Harness(name: str, main: str) -> StandaloneCircuit:  # noqa: N802 — reads like the class it builds
    """A stand-alone ``component main = <main>`` over circuits/merkle.circom, compiled once."""
    return StandaloneCircuit(f"capadv_{name}", f'include "merkle.circom";\ncomponent main = {main};\n')


def _opening(tree: MerkleTree, cap: int, opened: list[tuple[int, int]], paths=None) -> dict[str, Any]:
    levels = tree.depth - cap
    return {"root": str(tree.root), "cap": [str(x) for x in tree.cap(cap)],
            "leaf": [str(leaf % P) for leaf, _ in opened], "index": [str(i % P) for _, i in opened],
            "path": [[[str(x) for x in level] for level in path] for path in
                     (paths if paths is not None else [tree.path(i, levels) for _, i in opened])]}


@pytest.mark.slow
@pytest.mark.parametrize(("n", "depth", "cap"), [(2, 1, 0), (2, 1, 1), (2, 2, 2), (1, 3, 2)],
                         ids=["cap0", "cap_eq_depth1", "cap_eq_depth2", "cap2_below_one_level"])
def test_capped_openings_at_the_edge_shapes(n: int, depth: int, cap: int) -> None:
    h = Harness(f"co_{n}_{depth}_{cap}", f"CappedOpenings({n}, {depth}, {cap})")
    assert h.compiled.n_constraints == opening_constraints(n, depth, cap)
    size = ARITY**depth
    leaves = [1000 + 7 * i for i in range(size - 3)]  # the last three leaves are empty (0)
    tree = MerkleTree(leaves, depth=depth)
    leaf = lambda i: leaves[i] if i < len(leaves) else 0  # noqa: E731
    indices = list(range(size)) if size <= 64 else [0, 1, 7, 8, 63, 64, 65, 200, size - 4, size - 1]
    pad = [(leaf(0), 0)] * (n - 1)
    witnesses = h.run([_opening(tree, cap, [(leaf(i), i), *pad]) for i in indices])
    assert all(w is not None for w in witnesses)
    w = witnesses[1]
    assert R.check(h.r1cs, w) == []
    rng = random.Random(7)
    for wire in range(1, h.r1cs.n_wires):  # nothing free, the multiplexer's bits and levels included
        assert R.tamper_rejected(h.r1cs, w, wire, w[wire] + 1, h.touching), h.names.get(wire)
        assert R.tamper_rejected(h.r1cs, w, wire, rng.randrange(P), h.touching), h.names.get(wire)

    bad = []
    for i in indices[:: max(1, len(indices) // 6)]:
        path = tree.path(i, depth - cap)
        others = range(size) if size <= 64 else rng.sample(range(size), 40)
        bad += [_opening(tree, cap, [(leaf(i), j), *pad], paths=[path] * n) for j in others if leaf(j) != leaf(i)]
        bad += [_opening(tree, cap, [(leaf(i), i + s), *pad], paths=[path] * n) for s in (size, -size, P - size)]
    assert all(w is None for w in h.run(bad))


@pytest.mark.slow
def test_cap_select_nine_bits_picks_every_position() -> None:
    """CapSelect(9) (CAP = 3) stand-alone: out = x[p] for every p; level indexing at the third
    width. Its bits are unconstrained inputs here: b = 2 gives 2 x[1] - x[0] (callers must feed
    boolean bits; MerkleCapInclusion feeds Num2Bits outputs, pinned by the sweep above)."""
    h = Harness("cs9", "CapSelect(9)")
    assert h.compiled.n_constraints == 511
    rng = random.Random(9)
    x = [rng.randrange(P) for _ in range(512)]
    witnesses = h.run([{"x": [str(v) for v in x], "b": [str((p >> j) & 1) for j in range(9)]} for p in range(512)])
    assert [w[1] for w in witnesses] == x
    (w,) = h.run([{"x": [str(v) for v in x], "b": ["2"] + ["0"] * 8}])
    assert w is not None and w[1] == (2 * x[1] - x[0]) % P


# ============================================================== whole tiers (slow)
def _errors(compiled, batch: list[dict[str, Any]]) -> list[str | None]:
    from tests.witness_batch import run_batch

    return [None if r["ok"] else r["error"] for r in run_batch(compiled, batch)]


def _forged(market, index: int):
    """``market`` with instrument ``index``'s mark multiplied by 30 (the forger's market)."""
    ins = market.instruments[index]
    return dataclasses.replace(market, instruments=tuple(
        dataclasses.replace(ins, mark=ins.mark * 30) if i == index else x for i, x in enumerate(market.instruments)))


def _forgery(market, tier: Tier, slots, balances, j: int):
    """Inputs of an account honest under the market with slot ``slots[j]``'s mark forged: the forger's
    own market root, then the real market_root, instruments_root and cap in turn."""
    forged = _forged(market, slots[j][0])
    result = model.evaluate(forged, slots, balances)
    assert result.solvent and not model.evaluate(market, slots, balances).solvent  # a false statement
    own = build_inputs(forged, tier, slots, balances, 7, result)
    tree = cm.instrument_tree(market)
    real_market = {**own, "market_root": str(cm.market_root(market))}
    real_tree = {**real_market, "instruments_root": str(tree.root)}
    real_cap = {**real_tree, "cap": [str(x) for x in tree.cap(tier.cap)]}
    return own, real_market, real_tree, real_cap


def _compile(tier: Tier):
    from zksolv.toolchain.artifacts import compile_tier

    return compile_tier(tier)[1]


@pytest.mark.slow
def test_demo_tier_refuses_a_forged_leaf_however_the_cap_is_chosen() -> None:
    compiled = _compile(TIER)  # avsl_n4_u2_a4_k16_d2_stress, CAP = 1
    call = MARKET.instrument_index("BTC-9JAN26-63500-C")
    balances = [0] * len(MARKET.collateral)
    balances[MARKET.collateral_index("USDC")] = 10**6
    own, real_market, real_tree, real_cap = _forgery(MARKET, TIER, [(call, 10**6)], balances, 0)

    solvent = [0] * len(MARKET.collateral)
    solvent[MARKET.collateral_index("USDC")] = 10**9
    slots = [(call, 10**6), (MARKET.instrument_index("ETH-9JAN26-3400-P"), -10**5)]
    honest = build_inputs(MARKET, TIER, slots, solvent, 7, model.evaluate(MARKET, slots, solvent))
    j = 0 if int(honest["leaf_index"][0]) == call else 1
    padding = {**honest, "mark": [*honest["mark"][:3], str(int(honest["mark"][3]) + 1)]}  # slot 3: q = 0
    alias = {**honest, "leaf_index": [str(int(x) + ARITY**TIER.depth) if k == j else x
                                      for k, x in enumerate(honest["leaf_index"])]}
    other_cap_node = {**honest, "leaf_index": [str(int(x) + ARITY) if k == j else x
                                               for k, x in enumerate(honest["leaf_index"])]}
    errors = _errors(compiled, [own, real_market, real_tree, real_cap, honest, padding, alias, other_cap_node])
    assert errors[0] is None and errors[4] is None  # the forged inputs are otherwise consistent
    assert "AvslSolvency" in errors[1]              # market_root binds instruments_root
    assert "CappedOpenings" in errors[2]            # the cap hashes to instruments_root
    assert "MerkleCapInclusion" in errors[3]        # the forged leaf does not climb to its cap node
    assert "MerkleCapInclusion" in errors[5]        # a padding slot opens a real leaf too
    assert "Num2Bits" in errors[6]                  # index < 8^DEPTH
    assert "MerkleCapInclusion" in errors[7]        # top digit selects another cap node


@pytest.mark.slow
def test_cap_equal_to_depth_tier_of_sixteen_positions() -> None:
    """CAP = DEPTH = 2 (the production shape of 16+ positions): the lower path is empty and each
    leaf is compared with cap[index] through a 6-bit multiplexer. An honest witness satisfies the
    R1CS, every cap and multiplexer wire is pinned, and the forgery above has no witness."""
    from tests.test_tamper import make_market, solvent_account

    tier = Tier(16, 1, 2, 4, 2, RiskMode.STRESS)
    assert tier.cap == tier.depth == 2
    market = make_market(tier, 31)
    compiled = _compile(tier)
    slots = [(len(market.instruments) - 1 - j, -(3 + j) * 10**6) for j in range(3)]
    balances, result = solvent_account(market, slots)
    honest = build_inputs(market, tier, slots, balances, 7, result)
    assert honest["path"] == [[]] * 16 and len(honest["cap"]) == 64

    from tests.witness_batch import run_batch

    (res,) = run_batch(compiled, [honest], witness=True)
    assert res["ok"], res.get("error")
    w, r1cs = res["witness"], R.R1CS.load(compiled.r1cs)
    assert R.check(r1cs, w) == []
    touching, names = R.constraints_touching(r1cs), R.wire_names(R.read_sym(compiled.sym))
    wires = [wire for wire, ns in names.items() if wire > 0 and any(".capped." in s or "main.cap[" in s for s in ns)]
    assert len(wires) > 64
    for wire in wires:
        assert R.tamper_rejected(r1cs, w, wire, w[wire] + 1, touching), names[wire]

    long = [(len(market.instruments) - 1, 10**6)]
    zero = model.evaluate(_forged(market, long[0][0]), long, [0, 0])
    usd = max(0, fp.ceil_div(fp.ceil_div(zero.req_raw, fp.RATIO_SCALE) - zero.nav_raw, 10**12)) + 1
    thin = [usd, 0]  # solvent under the forged mark only
    own, real_market, real_tree, real_cap = _forgery(market, tier, long, thin, 0)
    errors = _errors(compiled, [own, real_cap])
    assert errors[0] is None and "MerkleCapInclusion" in errors[1]
