"""Tamper sweeps on the margin circuit (issue "Soundness", part 1).

For small production tiers of each risk mode (N=2, U=1..2, D=1..2, and a
wider N=4, U=3, A=3, K=8, D=3; the revaluation mode with seeded random risk
arrays), a valid witness of a solvent
account is computed with circom's witness calculator; then, with the
independent checker :mod:`zksolv.toolchain.r1cs`:

* every witness wire except wire 0 is set to ``value + 1`` and, separately,
  to a random field element — the checker must report a violated constraint
  for every one (the tiers here are small enough to sweep *all* wires);
* every main-level input signal must have a wire (``--O2`` drops inputs no
  constraint uses — such an input would be free);
* the prover hints are moved "in the cheating direction" (mm, stress maxima
  ``m_u`` and revaluation maxima ``m_u``, the ES threshold ``t`` — far from the quantile, or
  outside the range its excesses are checked to —, VaR ``yt_f``, ``s``, ``n_u``, ``v_u``): overwriting the hint's wire must violate a constraint,
  and witness generation must refuse the same inputs.

The accounts cover both a full book and a padded one (an empty slot with
``q = 0``), because a zero factor can hide a tampered wire from a product
constraint. Wires that survive a tamper must be listed in
:data:`ALLOWED_SURVIVORS` with a justification, and the list applies only to
padded accounts, for the empty slot it names. Every wire of every tier is
rejected except the free inverse of circomlib's IsZero on an empty slot
(benign, justified there); in ``full`` accounts nothing survives, the IsZero
inverses included (asserted explicitly). Figures are in docs/static_analysis.md.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

from zksolv.core import fixedpoint as fp
from zksolv.toolchain import r1cs as R
from tests.tiers import SOUNDNESS_TIERS
from zksolv.toolchain.circuitgen import Tier, circuit_source_hash, include_dirs, write_main
from zksolv.core.errors import ProofError
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
from zksolv.risk.model import MarginResult, es_excesses, evaluate, joint_losses
from zksolv.toolchain import CompiledCircuit, calculate_witness, compile_circuit
from zksolv.prover.witness import MODE_HINTS, build_inputs
from tests.strategies import with_random_risk_arrays

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "test-circuits"
P = fp.FIELD_MODULUS
STRESS, ES, VAR, REVAL = RiskMode.STRESS, RiskMode.ES, RiskMode.VAR, RiskMode.REVALUATION

TIERS = SOUNDNESS_TIERS

#: Sweep every wire when a tier has at most this many, else a seeded sample.
FULL_SWEEP_MAX_WIRES = 200_000
SAMPLE_SIZE = 2_000

#: Signals (regex on the .sym name) allowed to survive a tamper in a *padded* account, and only
#: when the slot captured by the regex is empty in that account (a position slot with q = 0, or a
#: balance slot with balance 0); in ``full`` accounts nothing may survive.
#: ``name -> (slot kind, why)``.
ALLOWED_SURVIVORS: dict[str, tuple[str, str]] = {
    r"main\.slots\.pos\[(\d+)\]\.e\.zero\.inv": ("position", (
        "circomlib IsZero (PositionEntry, in PositionSlots and RevaluationSlots alike): inv <-- 1/in "
        "(0 if in == 0); out <== 1 - in*inv; in*out === 0. For an "
        "empty slot (q = 0) the only constraint on inv is out = 1 - 0*inv, so inv is a free auxiliary "
        "value that no other signal depends on: out = 1 is still forced, the slot's entry is 0 as "
        "specified. Witness non-uniqueness, not an under-constrained output (with q != 0, inv = 1/q is "
        "forced and its tamper is rejected, see the 'full' accounts).")),
    r"main\.balances\.bal\[(\d+)\]\.e\.zero\.inv": ("balance", (
        "The same IsZero inverse for an empty balance slot (balance = 0): free, nothing depends on it, "
        "the slot's entry is forced to 0 and its value term to 0.")),
}
# Not reachable by these tiers (N, A <= 8: one block), same mechanism: the IsZero inverse of an
# all-empty entry block (main.*.empty[b].inv) is free when every slot of block b is empty.


#: Main inputs allowed to have no wire: ``name -> (condition on the tier, why)``.
ALLOWED_DROPPED_INPUTS: dict[str, tuple[Callable[[Tier], bool], str]] = {
    "path": (
        lambda tier: tier.cap == tier.depth,
        "CAP == DEPTH only (a depth-1 tree: the cap is the leaves themselves): path[N][0][ARITY-1] has no "
        "element, so there is nothing to wire; each leaf is picked from the cap by its index bits.",
    ),
    "group_path": (
        lambda tier: tier.groups > 0 and tier.cap == tier.depth - 1,
        "A grouped tier whose cap is the groups' own level (CAP == DEPTH - 1): group_path[G][0][ARITY-1] has no "
        "element; each group node is picked from the cap by its index bits.",
    ),
    "underlying": (
        lambda tier: tier.n_underlyings == 1,
        "U == 1 only: OneHot(1) (PositionPnl(1, K): u === 0) constrains idx === 0 (linear), so --O2 "
        "substitutes the constant 0 for "
        "underlying[j] everywhere (instrument leaf hash included) and drops the wire. The statement then "
        "fixes underlying[j] = 0, exactly the only valid value; nothing is left free.",
    ),
}


# ============================================================== market, account
def make_market(tier: Tier, seed: int) -> MarketState:
    """A deterministic validated market of ``tier``'s shape: options with non-zero greeks on every underlying."""
    rng = random.Random(seed)
    n_u, n_k = tier.n_underlyings, tier.n_scenarios
    n_instr = max(2, fp.MERKLE_ARITY ** (tier.depth - 1) + 1, tier.n_positions)  # a full account fits
    underlyings = tuple(Underlying(f"U{u}", 50_000 * 10**6 + u, (), 600_000, 600_000, 650_000, 550_000)
                        for u in range(n_u))
    instruments = tuple(
        Instrument(f"I{i}", i % n_u, InstrumentKind.CALL if i % 2 else InstrumentKind.PUT,
                   rng.randint(10**9, 10**11), 1_800_000_000 + i, rng.randint(10**8, 10**10),
                   (1 if i % 2 else -1) * abs(rng.randint(-10**8, 10**8)), rng.randint(1, 10**9), rng.randint(1, 10**11))
        for i in range(n_instr))
    params = Params(
        alpha=300_000, beta=500_000, v_scalar=700_000, risk_mode=tier.mode, es_level=500_000,  # c = 0.5: some e_k > 0
        min_ratio=1_100_000, horizon_seconds=86_400, var_z=2_326_000,
        scenarios=ScenarioSet(
            "tamper",
            tuple(tuple(rng.randint(-200_000, 200_000) for _ in range(n_k)) for _ in range(n_u)),
            tuple(tuple(rng.randint(-300_000, 300_000) for _ in range(n_k)) for _ in range(n_u)),
            tuple([fp.RATIO_SCALE // n_k] * (n_k - 1) + [fp.RATIO_SCALE - (n_k - 1) * (fp.RATIO_SCALE // n_k)]),
        ),
        var_loadings=tuple(tuple(rng.randint(-10**10, 10**10) for _ in range(n_u)) for _ in range(n_u)),
        gamma_addon=tuple(rng.randint(1, 10**21) for _ in range(n_u)),
        vega_stress=tuple(rng.randint(1, 500_000) for _ in range(n_u)),
    )
    collateral = (CollateralAsset("USD", 10**6, 0), CollateralAsset("ETH", 3_000 * 10**6, 100_000),
                  CollateralAsset("BTC", 60_000 * 10**6, 50_000))[: tier.n_collateral]
    market = MarketState(seed, params, underlyings, instruments, collateral)
    market = with_random_risk_arrays(market, rng) if tier.mode.is_revaluation else market.validated()
    assert tier.matches(market)
    return market


def solvent_account(market: MarketState, slots: list[tuple[int, int]],
                    empty_balance: bool = False) -> tuple[list[int], MarginResult]:
    """Balances making ``slots`` solvent by a thin cushion, and the reference result; with
    ``empty_balance`` the last asset's balance is 0 (one balance slot stays empty)."""
    others = [5 * 10**6, 10**6][: len(market.collateral) - 1]
    if empty_balance:
        others[-1] = 0
    zero = evaluate(market, slots, [0, *others])
    need = fp.ceil_div(zero.req_raw, fp.RATIO_SCALE) - zero.nav_raw
    usd = max(0, fp.ceil_div(need, 10**12)) + 1
    balances = [usd, *others]
    result = evaluate(market, slots, balances)
    assert result.solvent and result.mm > 0
    return balances, result


def account_slots(market: MarketState, kind: str, n_positions: int) -> list[tuple[int, int]]:
    """``full``: short options on the last ``n_positions`` instruments (every underlying when
    N >= U), every slot used; ``padded``: one position fewer, so the last slot is empty (q = 0)."""
    n = len(market.instruments)
    count = n_positions if kind == "full" else max(1, n_positions - 1)
    return [(n - 1 - j, -(3 + j) * 10**6) for j in range(count)]


# ============================================================== compiled case
@dataclass
class Case:
    """A compiled tier with one valid witness and everything the sweeps need."""

    key: str
    tier: Tier
    compiled: CompiledCircuit
    r1cs: R.R1CS
    symbols: list[R.Symbol]
    names: dict[int, list[str]]
    touching: dict[int, list[int]]
    market: MarketState
    slots: list[tuple[int, int]]
    balances: list[int]
    inputs: dict[str, Any]
    result: MarginResult
    witness: list[int]

    def wire(self, name: str) -> int:
        """Wire id of signal ``main.<name>``."""
        return R.signal_wires(self.symbols)[f"main.{name}"]

    def label(self, wire: int) -> str:
        """Shortest signal name of ``wire`` (for messages)."""
        return min(self.names.get(wire, [f"<wire {wire}>"]), key=len)


def compiled_tier(tier: Tier) -> CompiledCircuit:
    """The production build of ``tier`` (cached under build/test-circuits by source hash)."""
    out = BUILD / f"{tier.name}-prod-{circuit_source_hash(tier)[:16]}"
    try:
        return CompiledCircuit.from_dir(out, tier.name)
    except Exception:
        return compile_circuit(write_main(tier, BUILD / "src"), out, include_dirs())


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Case]:
    """``case(tier_key, account_kind)``: compile once, witness once per account."""
    compiled: dict[str, tuple[CompiledCircuit, R.R1CS, list[R.Symbol], dict[int, list[int]]]] = {}
    cases: dict[tuple[str, str], Case] = {}
    tmp = tmp_path_factory.mktemp("tamper")

    def get(key: str, kind: str = "full") -> Case:
        if (key, kind) in cases:
            return cases[(key, kind)]
        tier = TIERS[key]
        if key not in compiled:
            c = compiled_tier(tier)
            r = R.R1CS.load(c.r1cs)
            compiled[key] = (c, r, R.read_sym(c.sym), R.constraints_touching(r))
        c, r, syms, touching = compiled[key]
        market = make_market(tier, seed=sum(map(ord, key)))
        slots = account_slots(market, kind, tier.n_positions)
        balances, result = solvent_account(market, slots, empty_balance=kind == "padded")
        inputs = build_inputs(market, tier, slots, balances, 424242, result)
        w = R.read_wtns(calculate_witness(c.wasm, inputs, tmp / f"{key}_{kind}.wtns"))
        assert R.check(r, w) == []
        cases[(key, kind)] = Case(key, tier, c, r, syms, R.wire_names(syms), touching,
                                market, slots, balances, inputs, result, w)
        return cases[(key, kind)]

    return get


# ============================================================== sweeps
def sweep_wires(c: Case, seed: int) -> tuple[list[int], bool]:
    """Wires to tamper: all but wire 0, or a seeded sample if the tier is too large."""
    wires = list(range(1, c.r1cs.n_wires))
    if len(wires) <= FULL_SWEEP_MAX_WIRES:
        return wires, True
    return sorted(random.Random(seed).sample(wires, SAMPLE_SIZE)), False


def survivors(c: Case, wires: list[int], value: Callable[[int, int], int]) -> list[int]:
    """Wires whose tampering to ``value(wire, old)`` the checker does not reject."""
    return [wi for wi in wires
            if not R.tamper_rejected(c.r1cs, c.witness, wi, value(wi, c.witness[wi]), c.touching)]


def empty_slots(c: Case, slot_kind: str = "position") -> set[int]:
    """Slots of ``c``'s account that are empty: position slots with q = 0 (the unused tail), or
    balance slots with balance 0 (held balances fill the first slots)."""
    if slot_kind == "position":
        return set(range(len(c.slots), c.tier.n_positions))
    return set(range(sum(1 for b in c.balances if b), c.tier.n_collateral))


def allowed(c: Case, wire: int) -> bool:
    """True if a surviving wire is on the documented allow-list *for this account*: one of its names
    matches a pattern whose slot is empty in ``c``. A full account (no empty slot) allows nothing."""
    return any((m := re.fullmatch(pat, n)) and int(m.group(1)) in empty_slots(c, slot_kind)
               for pat, (slot_kind, _) in ALLOWED_SURVIVORS.items() for n in c.names.get(wire, []))


def iszero_inv_wires(c: Case, slot_kind: str = "position") -> dict[int, int]:
    """``slot -> wire`` of the IsZero inverse of every position (or balance) slot."""
    pat = next(p for p, (kind, _) in ALLOWED_SURVIVORS.items() if kind == slot_kind)
    out = {}
    for wire, names in c.names.items():
        for n in names:
            if m := re.fullmatch(pat, n):
                out[int(m.group(1))] = wire
    return out


@pytest.mark.parametrize("kind", ["full", "padded"])
@pytest.mark.parametrize("key", list(TIERS))
def test_tamper_sweep_rejects_every_wire(case, key: str, kind: str) -> None:
    c = case(key, kind)
    assert R.unconstrained_wires(c.r1cs) == []
    wires, full = sweep_wires(c, seed=len(key))
    inv = iszero_inv_wires(c)
    bal_inv = iszero_inv_wires(c, "balance")
    assert sorted(inv) == list(range(c.tier.n_positions)), f"IsZero inverses found for slots {sorted(inv)}"
    assert sorted(bal_inv) == list(range(c.tier.n_collateral)), f"balance IsZero inverses: {sorted(bal_inv)}"
    wires = sorted({*wires, *inv.values(), *bal_inv.values()})  # always swept, even in a sample
    rng = random.Random(99)
    start = time.perf_counter()
    plus_one = survivors(c, wires, lambda wi, old: old + 1)
    rand = survivors(c, wires, lambda wi, old: rng.randrange(P))
    elapsed = time.perf_counter() - start
    bad = sorted({*plus_one, *rand})
    unexplained = [c.label(wi) for wi in bad if not allowed(c, wi)]
    n = len(wires)
    print(f"\n[tamper] {c.tier.name} ({kind}): {n} wires {'(all)' if full else '(sample)'}, "
          f"constraints {c.r1cs.n_constraints}; +1 rejected {n - len(plus_one)}/{n}, "
          f"random rejected {n - len(rand)}/{n} in {elapsed:.2f} s; survivors {[c.label(wi) for wi in bad]}")
    assert not unexplained, f"{kind} account: tampering these wires goes unnoticed: {unexplained}"
    # docs/static_analysis.md: the IsZero inverse is rejected in every full account (inv = 1/q is
    # forced); it may only be free in an empty slot of a padded account
    if kind == "full":
        assert not empty_slots(c) and not empty_slots(c, "balance"), "a full account must use every slot"
        assert not bad, f"full account: {[c.label(wi) for wi in bad]} survive"
    else:
        assert empty_slots(c) and empty_slots(c, "balance"), "a padded account leaves a position and a balance slot empty"
    for slot_kind, wires_of in (("position", inv), ("balance", bal_inv)):
        for j, wi in wires_of.items():
            if j not in empty_slots(c, slot_kind):
                assert wi not in bad, f"{slot_kind} slot {j} is held: tampering its IsZero inverse goes unnoticed"


@pytest.mark.parametrize("key", list(TIERS))
def test_no_main_input_is_optimised_away(case, key: str) -> None:
    """Every input signal of main has a wire: none was dropped as unused by --O2."""
    c = case(key)
    dropped = {s.name for s in R.dropped_signals(c.symbols, ("main.",))}
    wires = R.signal_wires(c.symbols)
    for name in c.inputs:
        if name in ALLOWED_DROPPED_INPUTS and ALLOWED_DROPPED_INPUTS[name][0](c.tier):
            continue
        sym_names = [n for n in wires if n == f"main.{name}" or n.startswith(f"main.{name}[")]
        assert sym_names, f"input {name} has no wire"
        assert not any(d == f"main.{name}" or d.startswith(f"main.{name}[") for d in dropped), name


# ============================================================== hints in the cheating direction
def cheats(c: Case) -> list[tuple[str, str, int]]:
    """``(description, signal, new value)`` for each hint moved in the direction that lowers the margin."""
    h = c.result.hints
    out: list[tuple[str, str, int]] = [("mm - 1", "mm", h["mm"] - 1), ("mm = 0", "mm", 0)]  # type: ignore[operator]
    mode = c.tier.mode
    if mode is STRESS or mode is REVAL:
        for u, m in enumerate(h["m"]):  # type: ignore[arg-type]
            out += [(f"m[{u}] - 1", f"m[{u}]", m - 1), (f"m[{u}] = 0", f"m[{u}]", 0)]
    elif mode is ES:  # t is the only hint (e_k = max(0, L_k - t) is derived): any t bounds ES from
        # above, so a cheat is a t whose bound mm does not cover, or a t outside the sign-bit range
        joint = joint_losses(c.result.losses)
        out.append(("t = -2^200", "t", -(1 << 200)))
        out.append(("t = 2^200", "t", 1 << 200))
        out.append(("t > max L_k + 2^212", "t", max(joint) + (1 << fp.ES_EXCESS_BITS) + 1))
        out.append(("t <= min L_k - 2^212", "t", min(joint) - (1 << fp.ES_EXCESS_BITS)))
    else:
        for name in ("yt", "n", "v"):
            for u, x in enumerate(h[name]):  # type: ignore[arg-type]
                if x > 0:
                    out.append((f"{name}[{u}] - 1", f"{name}[{u}]", x - 1))
        out.append(("s - 1", "s", h["s"] - 1))  # type: ignore[operator]
    return out


def tight_hints(c: Case) -> None:
    """The reference hints are tight, so every 'minus 1' above lowers a bound below its true value."""
    h = c.result.hints
    assert h["mm"] > 0
    if c.tier.mode is STRESS or c.tier.mode is REVAL:
        assert all(m > 0 for m in h["m"])  # type: ignore[union-attr]
    if c.tier.mode is ES:
        assert any(e > 0 for e in es_excesses(joint_losses(c.result.losses), h["t"]))  # type: ignore[arg-type]
    if c.tier.mode is VAR:
        assert h["s"] > 0  # type: ignore[operator]


def set_input(inputs: dict[str, Any], signal: str, value: int) -> dict[str, Any]:
    """A copy of ``inputs`` with ``signal`` (``name`` or ``name[i]``) set to ``value`` (as a field element)."""
    out = {k: (list(v) if isinstance(v, list) else v) for k, v in inputs.items()}
    m = re.fullmatch(r"(\w+)(?:\[(\d+)\])?", signal)
    assert m
    if m.group(2) is None:
        out[m.group(1)] = str(value % P)
    else:
        out[m.group(1)][int(m.group(2))] = str(value % P)
    return out


@pytest.mark.parametrize("key", list(TIERS))
def test_cheating_hints_are_rejected(case, key: str, tmp_path: Path) -> None:
    c = case(key)
    tight_hints(c)
    assert set(MODE_HINTS[c.tier.mode]) <= set(c.inputs)
    moves = cheats(c)
    print(f"\n[cheat] {c.tier.name}: {len(moves)} hint moves, all rejected: " + ", ".join(m[0] for m in moves))
    for label, signal, value in moves:
        wire = c.wire(signal)
        assert R.tamper_rejected(c.r1cs, c.witness, wire, value, c.touching), f"{key}: {label} accepted"
        with pytest.raises(ProofError):
            calculate_witness(c.compiled.wasm, set_input(c.inputs, signal, value), tmp_path / "cheat.wtns")


@pytest.mark.parametrize("key", ["stress_u1_d1", "es_u1_d1", "var_u1_d1", "reval_u1_d1"])
def test_generous_hints_are_accepted(case, key: str, tmp_path: Path) -> None:
    """Sanity check of the one-sided design: hints moved against the prover (mm + 1) still prove."""
    c = case(key)
    # more margin needs more NAV: add USD so the statement still holds
    balances = [c.balances[0] + 10**9, *c.balances[1:]]
    result = evaluate(c.market, c.slots, balances)
    result.hints["mm"] = result.mm + 1  # type: ignore[operator]
    inputs = build_inputs(c.market, c.tier, c.slots, balances, 424242, result)
    w = R.read_wtns(calculate_witness(c.compiled.wasm, inputs, tmp_path / "generous.wtns"))
    assert R.check(c.r1cs, w) == []


# ============================================================== assumption: market data is validated
def test_es_level_one_is_stopped_by_market_validation_only(case, tmp_path: Path) -> None:
    """The circuit does not range-check public market data (docs/fixed_point.md §1): with
    es_level = 1e6 the ES condition degenerates to 0 >= sum w_k e_k and mm = 0 proves, with just
    enough collateral for NAV >= 0. Only ``MarketState.validated()`` (which the keeper must run
    before recomputing market_root) stops such a market. See docs/static_analysis.md §5."""
    import dataclasses

    from zksolv.core.errors import InputError

    c = case("es_u1_d1")
    bad = dataclasses.replace(c.market, params=dataclasses.replace(c.market.params, es_level=fp.RATIO_SCALE))
    with pytest.raises(InputError, match="es_level"):
        bad.validated()
    base = evaluate(c.market, c.slots, [0, 0])
    cheap = [max(0, -(base.nav_raw // 10**12)), 0]  # NAV >= 0, far below the honest requirement
    result = evaluate(c.market, c.slots, cheap)
    assert not result.solvent
    joint = [sum(col) for col in zip(*result.losses)]
    result.hints.update(mm=0, t=max(joint))
    try:
        w = R.read_wtns(calculate_witness(c.compiled.wasm, build_inputs(bad, c.tier, c.slots, cheap, 1, result),
                                          tmp_path / "es1.wtns"))
    except ProofError:
        print("\n[assumption] the circuit now refuses es_level = 1e6 by itself")
        return
    assert R.check(c.r1cs, w) == []
    print("\n[assumption] es_level = 1e6 (unvalidated market): an under-collateralised account proves with mm = 0")
