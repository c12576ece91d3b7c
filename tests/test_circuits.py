"""The circuits against the Python reference, bit for bit (docs/fixed_point.md).

Small tiers are compiled once per session (and cached on disk under
``build/test-circuits/`` keyed by :func:`zksolv.toolchain.circuitgen.circuit_source_hash`)
as DEBUG builds: identical constraints, plus ``log`` of the intermediate
values (greeks, 2L, MM_raw, nav_raw, mm, req_raw) so they can be compared
with :func:`zksolv.risk.model.evaluate`. Witnesses run in batches through one node
process using circom's generated witness calculator; a failed ``===`` or
range check makes witness calculation fail.

Constraint counts are snapshot-tested against ``tests/data/constraint_counts.json``.
After an intended circuit change, regenerate it with::

    ZKSOLV_UPDATE_CONSTRAINT_COUNTS=1 python -m pytest -q tests/test_circuits.py -k constraint_counts
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import tempfile
import zlib
from pathlib import Path
from typing import Any, Callable

import pytest

from zksolv.core import commitments
from zksolv.core import fixedpoint as fp
from zksolv.core.account import Account, Position
from zksolv.toolchain.circuitgen import Tier, circuit_source_hash, include_dirs, render_main, write_main
from zksolv.core.errors import InputError, ProofError
from zksolv.core.market import (
    CollateralAsset,
    Instrument,
    InstrumentKind,
    MarketState,
    Params,
    RiskMode,
    ScenarioSet,
    Underlying,
)
from zksolv.risk.model import es_excesses, evaluate, joint_losses
from zksolv.core.poseidon import poseidon
from zksolv.prover.witness import build_inputs, circuit_inputs
from tests.witness_batch import run_batch
from tests.strategies import with_random_risk_arrays

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "test-circuits"
COUNTS_FILE = Path(__file__).parent / "data" / "constraint_counts.json"
UPDATE_ENV = "ZKSOLV_UPDATE_CONSTRAINT_COUNTS"
P = fp.FIELD_MODULUS
QMAX = (1 << fp.QTY_BITS) - 1

STRESS, ES, VAR, REVAL = RiskMode.STRESS, RiskMode.ES, RiskMode.VAR, RiskMode.REVALUATION
TIERS = {
    "stress_n2": Tier(2, 1, 2, 4, 1, STRESS),
    "stress_n4": Tier(4, 1, 2, 4, 1, STRESS),  # marginal cost of 2 positions vs stress_n2
    "stress_u2": Tier(3, 2, 2, 8, 2, STRESS),
    "es_u2": Tier(3, 2, 2, 8, 1, ES),
    "var_u2": Tier(3, 2, 2, 4, 2, VAR),
    "reval_n2": Tier(2, 1, 2, 4, 1, REVAL),
    "reval_u2": Tier(3, 2, 2, 8, 2, REVAL),
}


# ============================================================== markets, accounts
def make_market(rng: random.Random, tier: Tier, *, n_instruments: int, dust: bool = True,
                min_ratio: int | None = None) -> MarketState:
    """A random validated market of ``tier``'s shape with realistic magnitudes.

    Instrument 0 is inert (a worthless call: mark and greeks 0, under the revaluation mode a risk
    array of zeros; the others get seeded random arrays). Collateral 0 is a $1 asset
    without haircut; collateral 1 is 'dust' (price 1 µUSD, haircut 1e6-1, so
    one unit adds exactly 1 to NAV_raw) or a random asset.
    """
    n_u, n_k = tier.n_underlyings, tier.n_scenarios
    assert fp.MERKLE_ARITY ** (tier.depth - 1) < n_instruments <= fp.MERKLE_ARITY ** tier.depth or tier.depth == 1
    underlyings = tuple(
        Underlying(f"U{u}", rng.randint(10**8, 10**11), (), 500_000, 500_000, 550_000, 450_000) for u in range(n_u)
    )
    # strike at the top of the price range: out of the money in every scenario, so worth 0 (a strike
    # of 1 µUSD would make it worth the spot, below its intrinsic value under the revaluation mode)
    instruments = [Instrument("ZERO", 0, InstrumentKind.CALL, (1 << fp.PRICE_BITS) - 1, 1, 0, 0, 0, 0)]
    for i in range(1, n_instruments):
        u, kind = rng.randrange(n_u), rng.choice([InstrumentKind.CALL, InstrumentKind.PUT])
        strike, expiry, mark = rng.randint(1, 10**11), rng.randint(1, 2**40 - 1), rng.randint(0, 10**11)
        sign = 1 if kind is InstrumentKind.CALL else -1  # an option's delta has its kind's sign
        delta, gamma, vega = rng.randint(-10**8, 10**8), rng.randint(-10**9, 10**9), rng.randint(-10**11, 10**11)
        instruments.append(Instrument(f"I{i}", u, kind, strike, expiry, mark, sign * abs(delta), abs(gamma), abs(vega)))
    cuts = sorted(rng.randint(0, fp.RATIO_SCALE) for _ in range(n_k - 1))
    bounds = [0, *cuts, fp.RATIO_SCALE]
    alpha, beta, v_scalar = rng.randint(0, fp.RATIO_SCALE), rng.randint(0, 2 * 10**6), rng.randint(0, 2 * 10**6)
    # a revaluation market's scan range (shocks times 1 + V*beta, up to 5) may not move a spot below zero
    shock = 300_000 if not tier.mode.is_revaluation else min(300_000, 900_000 * fp.AVSL_ONE // (fp.AVSL_ONE + v_scalar * beta))
    params = Params(
        alpha=alpha, beta=beta, v_scalar=v_scalar,
        risk_mode=tier.mode, es_level=rng.randint(500_000, 999_999),
        min_ratio=min_ratio if min_ratio is not None else rng.randint(10**6, 2 * 10**6),
        horizon_seconds=86_400, var_z=2_326_000,
        scenarios=ScenarioSet(
            "random",
            tuple(tuple(rng.randint(-shock, shock) for _ in range(n_k)) for _ in range(n_u)),
            tuple(tuple(rng.randint(-10**6, 10**6) for _ in range(n_k)) for _ in range(n_u)),
            tuple(bounds[k + 1] - bounds[k] for k in range(n_k)),
        ),
        var_loadings=tuple(tuple(rng.randint(-10**10, 10**10) for _ in range(n_u)) for _ in range(n_u)),
        gamma_addon=tuple(rng.randint(0, 10**21) for _ in range(n_u)),
        vega_stress=tuple(rng.randint(0, 500_000) for _ in range(n_u)),
    )
    second = CollateralAsset("DUST", 1, fp.RATIO_SCALE - 1) if dust else \
        CollateralAsset("C1", rng.randint(0, 10**11), rng.randint(0, fp.RATIO_SCALE))
    collateral = (CollateralAsset("USD", 10**6, 0), second)
    market = MarketState(rng.randint(0, 2**64 - 1), params, underlyings, tuple(instruments), collateral)
    if tier.mode.is_revaluation:
        market = with_random_risk_arrays(market, rng)
        inert = dataclasses.replace(market.instruments[0], pnl=(0,) * n_k)
        market = dataclasses.replace(market, instruments=(inert, *market.instruments[1:]))
    market = market.validated()
    assert tier.matches(market)
    return market


def fund(market: MarketState, slots: list[tuple[int, int]], *, extra: int = 0) -> list[int]:
    """Balances (USD, DUST) putting NAV exactly at the requirement, plus ``extra`` NAV_raw units.

    Needs the dust asset; ``pytest.skip``-free: returns None when unreachable.
    """
    zero = evaluate(market, slots, [0, 0])
    target = fp.ceil_div(zero.req_raw, fp.RATIO_SCALE) - zero.nav_raw + extra  # NAV_raw still needed
    if target < 0:
        return None  # type: ignore[return-value]
    unit = 10**6 * 10**6  # USD: P*(1e6-h)
    bal0, bal1 = divmod(target, unit)
    if bal0 >= 1 << fp.BALANCE_BITS:
        return None  # type: ignore[return-value]
    return [bal0, bal1]


def fund_usd(market: MarketState, slots: list[tuple[int, int]], bal1: int) -> list[int] | None:
    """Balances ``[bal0, bal1]`` with the least USD ``bal0`` that makes the account solvent."""
    zero = evaluate(market, slots, [0, bal1])
    target = fp.ceil_div(zero.req_raw, fp.RATIO_SCALE) - zero.nav_raw
    bal0 = max(0, fp.ceil_div(target, 10**12))
    return [bal0, bal1] if bal0 < 1 << fp.BALANCE_BITS else None


def random_account(rng: random.Random, market: MarketState, n_max: int, *, qmax: int = 10**9,
                   extra: int | None = None) -> tuple[list[tuple[int, int]], list[int]]:
    """Distinct instruments, random quantities, funded to be solvent (margin plus a random cushion)."""
    for _ in range(1000):
        n = rng.randint(0, min(n_max, len(market.instruments)))
        indices = rng.sample(range(len(market.instruments)), n)
        slots = [(i, rng.choice([-1, 1]) * rng.randint(1, qmax)) for i in indices]
        cushion = rng.randint(0, 10**20) if extra is None else extra
        balances = fund(market, slots, extra=cushion)
        if balances is not None:
            return slots, balances
    raise AssertionError("could not fund a random account")


def account_of(market: MarketState, slots: list[tuple[int, int]], balances: list[int], salt: int = 12345) -> Account:
    positions = tuple(Position(market.instruments[i].symbol, q) for i, q in slots)
    return Account(positions, {a.symbol: b for a, b in zip(market.collateral, balances)}, salt)


def inputs_for(market: MarketState, tier: Tier, slots, balances, salt: int = 987654321, result=None) -> dict[str, Any]:
    result = result or evaluate(market, slots, balances)
    return build_inputs(market, tier, slots, balances, salt, result)


# ============================================================== fast tests (no node)
def test_render_main_header_and_constants() -> None:
    tier = TIERS["stress_n2"]
    text = render_main(tier)
    assert text.startswith("// auto-generated by zksolv — do not edit")
    assert tier.name in text.splitlines()[1]
    assert 'include "avsl_solvency.circom";' in text
    assert "component main {public [account_commitment, market_root]} = AvslSolvency(2, 1, 2, 4, 1, 1, 0, 0);" in text
    assert f"function FP_MM_DIVISOR() {{ return {fp.MM_DIVISOR}; }}" in text
    assert f"function FP_QTY_BITS() {{ return {fp.QTY_BITS}; }}" in text
    assert "function FP_DEBUG() { return 0; }" in text
    assert "function FP_DEBUG() { return 1; }" in render_main(tier, debug=True)


def test_source_hash_tracks_tier_and_debug() -> None:
    a, b = TIERS["stress_n2"], TIERS["stress_n4"]
    assert circuit_source_hash(a) == circuit_source_hash(a)
    assert len({circuit_source_hash(a), circuit_source_hash(b), circuit_source_hash(a, debug=True)}) == 3


def test_write_main_atomic(tmp_path: Path) -> None:
    tier = TIERS["es_u2"]
    path = write_main(tier, tmp_path)
    assert path.read_text() == render_main(tier)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_tier_for_market_and_validation() -> None:
    tier = TIERS["stress_u2"]
    market = make_market(random.Random(1), tier, n_instruments=9)
    assert Tier.for_market(market, 3) == tier
    with pytest.raises(InputError, match="n_positions"):
        Tier(0, 1, 1, 1, 1, STRESS)
    with pytest.raises(InputError, match="depth"):
        Tier(2, 1, 1, 1, 9, STRESS)


def test_circuit_inputs_shape_and_padding() -> None:
    tier = TIERS["stress_u2"]
    rng = random.Random(2)
    market = make_market(rng, tier, n_instruments=9)
    slots, balances = random_account(rng, market, 2)
    inputs = circuit_inputs(account_of(market, slots, balances), market, tier)
    assert len(inputs["q"]) == len(inputs["path"]) == tier.n_positions
    assert inputs["q"][len(slots):] == ["0"] * (tier.n_positions - len(slots))
    levels = tier.depth - tier.cap
    assert all(len(p) == levels and all(len(lvl) == fp.MERKLE_ARITY - 1 for lvl in p) for p in inputs["path"])
    assert len(inputs["cap"]) == fp.MERKLE_ARITY**tier.cap
    assert inputs["market_root"] == str(commitments.market_root(market))
    assert all(isinstance(x, str) and 0 <= int(x) < P for x in inputs["q"] + inputs["delta"])
    assert set(inputs) >= {"m", "mm"} and "t" not in inputs


def test_circuit_inputs_refuses_too_many_positions() -> None:
    tier = TIERS["stress_n2"]
    rng = random.Random(3)
    market = make_market(rng, tier, n_instruments=4)
    slots = [(1, 5), (2, 6), (3, 7)]
    balances = fund(market, slots, extra=10**18)
    with pytest.raises(InputError, match="limit of 2"):
        circuit_inputs(account_of(market, slots, balances), market, tier)


def test_circuit_inputs_refuses_insolvent_without_amounts() -> None:
    tier = TIERS["stress_n2"]
    rng = random.Random(4)
    market = make_market(rng, tier, n_instruments=4)
    while True:
        slots, balances = random_account(rng, market, 2, extra=0)
        if evaluate(market, slots, balances).mm > 0 and balances[1] > 0:
            break
    balances[1] -= 1
    result = evaluate(market, slots, balances)
    assert not result.solvent
    with pytest.raises(ProofError, match="insolvent.*NAV below requirement") as info:
        circuit_inputs(account_of(market, slots, balances), market, tier)
    assert not any(str(v) in str(info.value) for v in (result.nav_raw, result.mm, result.req_raw, *balances) if abs(v) > 99)


# ============================================================== compile + witness helpers
class Circuit:
    """A compiled DEBUG build of a tier plus a batch witness runner."""

    def __init__(self, tier: Tier, compiled: Any):
        self.tier, self.compiled = tier, compiled

    def run(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Witness per input: ``{"ok": bool, "values": {name or (name, *idx): int}, "error": str}``."""
        out = run_batch(self.compiled, batch)
        for res in out:
            values: dict[Any, int] = {}
            for line in res["logs"]:
                tok = line.split()
                if len(tok) >= 2 and tok[-1].isdigit():
                    key = tok[0] if len(tok) == 2 else (tok[0], *map(int, tok[1:-1]))
                    values[key] = fp.from_field(int(tok[-1]))
            res["values"] = values
        return out

    def ok(self, inputs: dict[str, Any]) -> dict[Any, int]:
        res = self.run([inputs])[0]
        assert res["ok"], res.get("error")
        return res["values"]


@pytest.fixture(scope="module")
def circuit() -> Callable[[str], Circuit]:
    """``circuit(tier_key)``: compile once per session (cached on disk by source hash)."""
    from zksolv.toolchain import CompiledCircuit, compile_circuit

    cache: dict[str, Circuit] = {}

    def get(key: str) -> Circuit:
        if key not in cache:
            tier = TIERS[key]
            name = f"{tier.name}_debug"
            out = BUILD / f"{tier.name}-{circuit_source_hash(tier, debug=True)[:16]}"
            try:
                compiled = CompiledCircuit.from_dir(out, name)
            except Exception:
                compiled = compile_circuit(write_main(tier, BUILD / "src", debug=True), out, include_dirs())
            cache[key] = Circuit(tier, compiled)
        return cache[key]

    return get


def expect_match(values: dict[Any, int], result, tier: Tier, market: MarketState, where: str = "") -> None:
    """Every logged circuit value equals the Python reference (``where`` prefixes failure messages)."""
    pre = f"{where}: " if where else ""

    def same(key: Any, expected: int) -> None:
        got = values.get(key)
        assert got == expected, f"{pre}circuit {key} = {got}, reference {expected}"

    g = result.greeks
    if tier.mode is REVAL:  # the net greeks are not computed: the risk-array sums are
        for u in range(tier.n_underlyings):
            for k in range(tier.n_scenarios):
                same(("PnL", u, k), g.PnL[u][k])
        same("MM_raw", fp.REVAL_LOSS_FACTOR * sum(result.hints["m"]))
    else:
        for u in range(tier.n_underlyings):
            same(("Delta", u), g.Delta[u])
            same(("Gamma", u), g.Gamma[u])
            same(("Vega", u), g.Vega[u])
    same("nav_raw", result.nav_raw)
    same("mm", result.mm)
    same("req_raw", result.req_raw)
    if tier.mode is not VAR:
        for u in range(tier.n_underlyings):
            for k in range(tier.n_scenarios):
                same(("loss2", u, k), result.losses[u][k])
    if tier.mode is STRESS:
        same("MM_raw", sum(result.hints["m"]))
    if tier.mode is VAR:  # MM_raw = 2e24*s + sum_u (n_u*g_u + 2e12*v_u*vs_u), from the hints
        h = result.hints
        same("MM_raw", fp.MM_DIVISOR * h["s"] + sum(
            n * g + 2 * fp.VEGA_LOSS_FACTOR * v * vs
            for n, g, v, vs in zip(h["n"], market.params.gamma_addon, h["v"], market.params.vega_stress)))


# ============================================================== slow: constraint counts
@pytest.mark.slow
def test_constraint_counts(circuit) -> None:
    counts = {TIERS[k].name: circuit(k).compiled.n_constraints for k in TIERS}
    if os.environ.get(UPDATE_ENV):
        COUNTS_FILE.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "_note": f"constraints per tier (circom2 --O2). Regenerate: {UPDATE_ENV}=1 python -m pytest -q "
                     "tests/test_circuits.py -k constraint_counts",
            **counts,
        }
        COUNTS_FILE.write_text(json.dumps(data, indent=1) + "\n")
    snapshot = json.loads(COUNTS_FILE.read_text())
    assert {k: snapshot.get(k) for k in counts} == counts, f"constraint counts changed: set {UPDATE_ENV}=1 to accept"


@pytest.mark.slow
def test_debug_build_has_production_constraints(circuit, tmp_path: Path) -> None:
    """DEBUG only adds logs: the production main compiles to the same constraint count."""
    from zksolv.toolchain import compile_circuit

    tier = TIERS["stress_n2"]
    out = BUILD / f"{tier.name}-prod-{circuit_source_hash(tier)[:16]}"
    prod = compile_circuit(write_main(tier, BUILD / "src"), out, include_dirs())
    assert prod.n_constraints == circuit("stress_n2").compiled.n_constraints
    assert prod.n_public == 2


# ============================================================== slow: agreement with the reference
@pytest.mark.slow
@pytest.mark.parametrize("key", ["stress_n2", "stress_u2", "es_u2", "var_u2", "reval_n2", "reval_u2"])
def test_random_accounts_match_reference(circuit, key: str) -> None:
    tier = TIERS[key]
    c = circuit(key)
    seed = zlib.crc32(key.encode())  # stable across processes (str hash() is salted per process)
    rng = random.Random(seed)
    cases = []
    for i in range(12):
        n_instr = rng.randint(fp.MERKLE_ARITY ** (tier.depth - 1) + 1, fp.MERKLE_ARITY ** tier.depth)
        market = make_market(rng, tier, n_instruments=n_instr, dust=i % 2 == 0)
        if i % 2 == 0:
            slots, balances = random_account(rng, market, tier.n_positions)
        else:  # random second asset: cover the requirement with USD (rounded up)
            slots = [(j, rng.choice([-1, 1]) * rng.randint(1, 10**9))
                     for j in rng.sample(range(n_instr), rng.randint(0, min(n_instr, tier.n_positions)))]
            balances = fund_usd(market, slots, rng.randint(0, 10**12))
            if balances is None:
                continue
        result = evaluate(market, slots, balances)
        assert result.solvent
        cases.append((market, result, inputs_for(market, tier, slots, balances, salt=rng.randrange(P), result=result)))
    assert len(cases) >= 8, f"{key}: only {len(cases)} fundable cases from random.Random({seed})"
    for n, ((market, result, _), res) in enumerate(zip(cases, c.run([inp for *_, inp in cases]))):
        where = f"{key} case {n} of random.Random({seed}) (seed = zlib.crc32({key!r}))"
        assert res["ok"], f"{where}: no witness: {res.get('error')}"
        expect_match(res["values"], result, tier, market, where)


@pytest.mark.slow
@pytest.mark.parametrize("key", ["stress_n2", "es_u2", "var_u2", "reval_u2"])
def test_boundary_accounts(circuit, key: str) -> None:
    tier = TIERS[key]
    c = circuit(key)
    rng = random.Random(7)
    n_instr = max(tier.n_positions + 1, fp.MERKLE_ARITY ** (tier.depth - 1) + 1)
    market = make_market(rng, tier, n_instruments=n_instr, min_ratio=10**6)
    batch, expect = [], []

    def add(slots, balances, solvent=True):
        result = evaluate(market, slots, balances)
        assert result.solvent is solvent
        batch.append(inputs_for(market, tier, slots, balances, result=result))
        expect.append((result, solvent))

    # no positions, no collateral: margin 0, NAV 0 — solvent
    add([], [0, 0])
    # every slot used, the last instrument included (highest leaf index); a book whose own value
    # already exceeds its requirement by the cushion needs no collateral (fund gives None then)
    full = [(n_instr - 1 - j, rng.randint(-10**9, 10**9) or 1) for j in range(tier.n_positions)]
    funded = fund(market, full, extra=10**15)
    add(full, funded if funded is not None else [0, 0])
    # NAV exactly at the margin (min_ratio = 1: NAV_raw*1e6 == req_raw), and one unit below
    while True:
        slots, balances = random_account(rng, market, tier.n_positions, extra=0)
        result = evaluate(market, slots, balances)
        if result.mm > 0 and balances[1] > 0:
            break
    assert result.nav_raw * fp.RATIO_SCALE == result.req_raw
    add(slots, balances)
    add(slots, [balances[0], balances[1] - 1], solvent=False)
    # maximal quantities on the inert instrument and a long option: |q| = 2^52 - 1
    extreme = [(0, -QMAX), (1, QMAX)] if tier.n_positions >= 2 else [(0, -QMAX)]
    bal = fund(market, extreme, extra=0)
    if bal is not None:
        add(extreme, bal)
    add([(0, QMAX)], [(1 << fp.BALANCE_BITS) - 1, (1 << fp.BALANCE_BITS) - 1])
    for (result, solvent), res in zip(expect, c.run(batch)):
        assert res["ok"] is solvent, res.get("error")
        if solvent:
            expect_match(res["values"], result, tier, market)


# ============================================================== slow: cheating hints fail
def _tamper(inputs: dict[str, Any], name: str, delta: int, index: int | None = None) -> dict[str, Any]:
    out = json.loads(json.dumps(inputs))
    if index is None:
        out[name] = str((int(out[name]) + delta) % P)
    else:
        out[name][index] = str((int(out[name][index]) + delta) % P)
    return out


def _rich_case(tier: Tier, seed: int, want: Callable[[Any], bool]):
    """A solvent account (cushion $1e6) whose hints satisfy ``want``."""
    rng = random.Random(seed)
    for _ in range(200):
        market = make_market(rng, tier, n_instruments=fp.MERKLE_ARITY ** tier.depth)
        slots, balances = random_account(rng, market, tier.n_positions, extra=10**24)
        result = evaluate(market, slots, balances)
        if want(result):
            return market, slots, balances, result
    raise AssertionError("no suitable random account found")


@pytest.mark.slow
def test_stress_cheating_hints_fail(circuit) -> None:
    tier = TIERS["stress_u2"]
    market, slots, balances, result = _rich_case(tier, 11, lambda r: all(m > 0 for m in r.hints["m"]) and r.mm > 0)
    good = inputs_for(market, tier, slots, balances, result=result)
    bad = [
        _tamper(good, "m", -1, 0), _tamper(good, "m", -1, 1),          # m_u below max_k 2L_{u,k}
        _tamper(good, "mm", -1),                                       # margin rounded down
        _tamper(_tamper(good, "m", -result.hints["m"][0] - 1, 0), "mm", 0),  # m_u negative
        _tamper(good, "q", 1, 0),                                      # not the committed account
        _tamper(good, "leaf_index", 1, 0),                             # another instrument
        _tamper(good, "delta", 1, 0),                                  # not the committed market
    ]
    # the one-sided checks accept larger hints (only the prover pays)
    fine = [_tamper(_tamper(good, "m", fp.MM_DIVISOR, 0), "mm", 1),
            _tamper(_tamper(_tamper(good, "m", fp.MM_DIVISOR, 0), "m", fp.MM_DIVISOR, 1), "mm", 2)]
    results = circuit("stress_u2").run([good, *bad, *fine])
    assert results[0]["ok"], results[0].get("error")
    assert [r["ok"] for r in results[1:1 + len(bad)]] == [False] * len(bad)
    assert all(r["ok"] for r in results[1 + len(bad):]), [r.get("error") for r in results[1 + len(bad):]]


def _es_excesses(result) -> list[int]:
    return es_excesses(joint_losses(result.losses), result.hints["t"])


@pytest.mark.slow
def test_revaluation_cheating_hints_fail(circuit) -> None:
    """The revaluation maxima are one-sided like the stress ones (at the loss scale 1e12), and the
    risk arrays are bound by market_root: an opened leaf with one pnl entry moved has no witness."""
    tier = TIERS["reval_u2"]
    market, slots, balances, result = _rich_case(tier, 14, lambda r: all(m > 0 for m in r.hints["m"]) and r.mm > 0)
    good = inputs_for(market, tier, slots, balances, result=result)
    used = next(j for j, q in enumerate(good["q"]) if q != "0")
    bad = [
        _tamper(good, "m", -1, 0), _tamper(good, "m", -1, 1),          # m_u below max_k L_{u,k}
        _tamper(good, "mm", -1),                                       # margin rounded down
        _tamper(_tamper(good, "m", -result.hints["m"][0] - 1, 0), "mm", 0),  # m_u negative
        _tamper(good, "q", 1, used),                                   # not the committed account
        _tamper(good, "leaf_index", 1, used),                          # another instrument
    ]
    moved_pnl = json.loads(json.dumps(good))                           # not the committed risk array
    moved_pnl["pnl"][used][0] = str((int(moved_pnl["pnl"][used][0]) + 1) % P)
    bad.append(moved_pnl)
    # larger hints only cost the prover: m_u + 1e6 (scale 1e12) is one more micro-USD of margin
    fine = [_tamper(_tamper(good, "m", 10**6, 0), "mm", 1),
            _tamper(_tamper(_tamper(good, "m", 10**6, 0), "m", 10**6, 1), "mm", 2)]
    results = circuit("reval_u2").run([good, *bad, *fine])
    assert results[0]["ok"], results[0].get("error")
    assert [r["ok"] for r in results[1:1 + len(bad)]] == [False] * len(bad)
    assert all(r["ok"] for r in results[1 + len(bad):]), [r.get("error") for r in results[1 + len(bad):]]


@pytest.mark.slow
def test_es_cheating_hints_fail(circuit) -> None:
    """t is the only ES hint (the circuit derives e_k = max(0, L_k - t)): any t is an upper bound, so
    the cheats are a margin below the bound of the t used, or a t outside the sign-bit range."""
    tier = TIERS["es_u2"]
    market, slots, balances, result = _rich_case(tier, 12, lambda r: r.mm > 0 and max(_es_excesses(r)) > 0)
    good = inputs_for(market, tier, slots, balances, result=result)
    joint = joint_losses(result.losses)
    t = result.hints["t"]
    bad = [
        _tamper(good, "mm", -1),                   # below the bound at the quantile (the exact ES)
        _tamper(good, "t", 1 << 200),              # a valid threshold, but its bound F(t) far above mm
        _tamper(good, "t", -(1 << 200)),           # likewise below: every e_k grows by 2^200
        _tamper(good, "t", (1 << fp.ES_EXCESS_BITS) + max(joint) - t + 1),   # L_k - t < -2^212: no sign bit
        _tamper(good, "t", -(1 << fp.ES_EXCESS_BITS) + min(joint) - t),      # L_k - t >= 2^212
    ]
    # one-sided: another threshold near the quantile with a margin one unit larger still proves
    fine = [_tamper(good, "mm", 1), _tamper(_tamper(good, "t", 1), "mm", 1), _tamper(_tamper(good, "t", -1), "mm", 1)]
    results = circuit("es_u2").run([good, *bad, *fine])
    assert results[0]["ok"], results[0].get("error")
    assert [r["ok"] for r in results[1:1 + len(bad)]] == [False] * len(bad)
    assert all(r["ok"] for r in results[1 + len(bad):]), [r.get("error") for r in results[1 + len(bad):]]


@pytest.mark.slow
def test_var_cheating_hints_fail(circuit) -> None:
    tier = TIERS["var_u2"]
    market, slots, balances, result = _rich_case(
        tier, 13, lambda r: r.mm > 0 and min(r.hints["yt"]) > 0 and max(r.hints["n"]) > 0 and min(r.hints["v"]) > 0)
    good = inputs_for(market, tier, slots, balances, result=result)
    h = result.hints
    un = max(range(tier.n_underlyings), key=lambda u: h["n"][u])
    bad = [
        _tamper(good, "yt", -1, 0), _tamper(good, "yt", -1, 1),   # |y_f| rounded down
        _tamper(good, "s", -1),                                   # s^2 < sum yt^2
        _tamper(good, "n", -1, un),                               # n_u < -Gamma_u
        _tamper(good, "v", -1, 0),                                # v_u < |Vega_u|
        _tamper(good, "mm", -1),
    ]
    fine = [_tamper(good, "s", 1), _tamper(_tamper(good, "v", 1, 0), "mm", 1)]
    results = circuit("var_u2").run([good, *bad, *fine])
    assert results[0]["ok"], results[0].get("error")
    assert [r["ok"] for r in results[1:1 + len(bad)]] == [False] * len(bad)
    # s + 1 raises MM_raw by 2e24: fails the rounding unless mm grows too
    assert results[1 + len(bad)]["ok"] is False
    assert results[2 + len(bad)]["ok"], results[2 + len(bad)].get("error")


@pytest.mark.slow
def test_insolvent_account_has_no_witness(circuit) -> None:
    tier = TIERS["stress_n2"]
    rng = random.Random(21)
    market = make_market(rng, tier, n_instruments=4)
    batch = []
    for _ in range(5):
        while True:
            slots, balances = random_account(rng, market, 2, extra=0)
            if evaluate(market, slots, balances).mm > 0 and balances[1] > 0:
                break
        batch.append(inputs_for(market, tier, slots, [balances[0], balances[1] - 1]))
        # also with the true, tight hints but a cheaper requirement claimed (mm lowered)
        batch.append(_tamper(inputs_for(market, tier, slots, balances), "mm", -1))
    assert not any(r["ok"] for r in circuit("stress_n2").run(batch))


@pytest.mark.slow
def test_private_inputs_are_range_checked(circuit) -> None:
    """q = 2^52, -2^52 or -2^52 - 1 (on the inert instrument) and a balance of 2^52 (of a
    zero-priced asset) are refused even with a consistent commitment and otherwise
    valid hints. The signed check q + 2^52 in [0, 2^53) alone would admit q = -2^52; the
    separate q != -2^52 constraint (QuantityRange, since the adversarial review) refuses it,
    so the circuit's range is exactly Python's |q| < 2^52."""
    tier = TIERS["stress_n2"]
    rng = random.Random(31)
    market = make_market(rng, tier, n_instruments=4, dust=False)
    market = MarketState(market.epoch, market.params, market.underlyings, market.instruments,
                         (market.collateral[0], CollateralAsset("FREE", 0, 0))).validated()
    c = circuit("stress_n2")

    def forged(q: int, bal1: int) -> dict[str, Any]:
        """Slot 0 holds ``q`` of the inert instrument 0, balance slot 0 ``bal1`` of the zero-priced
        row 1; the commitment is recomputed the way the circuit hashes these (raw) values."""
        inputs = inputs_for(market, tier, [(0, 1)], [0, 0])
        inputs["q"][0] = str(q % P)
        inputs["balance"][0], inputs["asset_index"][0] = str(bal1 % P), "1"
        pos = (market.instrument_ids[0] * 2**53 + q + 2**52) % P
        bal = (market.asset_ids[1] * 2**52 + bal1) % P if bal1 % P else 0
        block = lambda e: poseidon([0, e] + [0] * 7) if e else 0  # noqa: E731 (one block, slot 1 empty)
        inputs["account_commitment"] = str(poseidon([commitments.ACCOUNT_DOMAIN, 987654321, block(pos), block(bal)]))
        return inputs

    results = c.run([forged(QMAX, 0), forged(-QMAX, (1 << 52) - 1), forged(-(1 << 52), 0),
                     forged(1 << 52, 0), forged(-(1 << 52) - 1, 0), forged(1, 1 << 52), forged(1, P - 1)])
    assert [r["ok"] for r in results] == [True, True, False, False, False, False, False], [r.get("error") for r in results]


@pytest.mark.slow
def test_witness_satisfies_r1cs(circuit) -> None:
    """The generated witness satisfies the r1cs (snarkjs wtns check), via circuit_inputs."""
    from zksolv.toolchain import calculate_witness, snarkjs

    tier = TIERS["es_u2"]
    c = circuit("es_u2")
    rng = random.Random(41)
    market = make_market(rng, tier, n_instruments=4)
    slots, balances = random_account(rng, market, tier.n_positions)
    inputs = circuit_inputs(account_of(market, slots, balances), market, tier)
    with tempfile.TemporaryDirectory() as tmp:
        wtns = calculate_witness(c.compiled.wasm, inputs, Path(tmp) / "w.wtns")
        proc = snarkjs(["wtns", "check", c.compiled.r1cs, wtns], timeout=600)
    assert "WITNESS IS CORRECT" in proc.stdout + proc.stderr
