"""Adversarial accounts: the margin boundary, maximal and cancelling positions, overflow attempts.

Python side (fast, many examples): out-of-range values are refused with an InputError naming the
field (never the value) before any compile, witness or proof. Circuit side (slow, few examples,
small tier ``avsl_n4_u2_a4_k16_d3_stress`` compiled once and cached): at the boundary the minimal
solvent balance proves and one micro-unit less has no witness even with honest hints fed straight
to ``build_inputs``; insolvent accounts never get a witness; solvent accounts with slack above the
documented rounding error (< 1 µUSD of margin) always do; overflowing private inputs have no
witness and, written into an honest witness, violate the R1CS (independent checker); cancelling
positions give the circuit the same greeks, NAV and margin as the empty book; the exact boundary, a
maximal short and a maximal cancelling pair are proven and verified in full.
"""

from __future__ import annotations

import dataclasses
import warnings
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zksolv.prover.witness import build_inputs, circuit_inputs
from zksolv.core import fixedpoint as fp
from zksolv.toolchain import r1cs as R
from zksolv.core.account import Account, Position
from zksolv.toolchain.circuitgen import Tier
from zksolv.app.demo import demo_market
from zksolv.core.errors import InputError, ProofError
from zksolv.risk.exact import evaluate_exact
from zksolv.core.market import CollateralAsset, MarketState
from zksolv.risk.model import MarginResult, evaluate

QMAX = (1 << fp.QTY_BITS) - 1
P = fp.FIELD_MODULUS
USDC_UNIT = 10**12  # NAV_raw per µ-unit of USDC (price 1e6 µUSD, haircut 0)


def _market(mode: str = "stress") -> MarketState:
    """Small demo market; its ETH collateral swapped for a 'dust' asset (one unit = 1 NAV_raw) so
    NAV can be placed *exactly* at the requirement. Same shape, so the same tier."""
    m = demo_market(risk_mode=mode, n_strikes=3, n_expiries=1)
    coll = m.collateral[:3] + (CollateralAsset("DUST", 1, fp.RATIO_SCALE - 1),)
    return MarketState(m.epoch, m.params, m.underlyings, m.instruments, coll).validated()


MARKET = _market()
TIER = Tier.for_market(MARKET, 4)
N_INSTR = len(MARKET.instruments)
#: The same market data under the revaluation mode (published risk arrays; tier ..._revaluation).
REVAL_MARKET = _market("revaluation")
REVAL_TIER = Tier.for_market(REVAL_MARKET, 4)


def boundary_balances(slots, extra: int = 0, market: MarketState = MARKET) -> list[int] | None:
    """Balances [USDC, 0, 0, DUST] with NAV_raw*1e6 >= REQ_raw by exactly ``extra`` NAV_raw units
    above the least solvent NAV (``extra = -1``: one unit below). None if unreachable."""
    zero = evaluate(market, slots, [0, 0, 0, 0])
    target = fp.ceil_div(zero.req_raw, fp.RATIO_SCALE) - zero.nav_raw + extra
    if target < 0:
        return None
    usdc, dust = divmod(target, USDC_UNIT)
    return [usdc, 0, 0, dust] if usdc < 1 << fp.BALANCE_BITS else None


slots_st = st.lists(
    st.tuples(st.integers(0, N_INSTR - 1), st.integers(-10**10, 10**10).filter(bool)),
    min_size=1, max_size=4, unique_by=lambda s: s[0],
)


# ====================================================== Python side (fast)
@pytest.mark.parametrize("market", [MARKET, REVAL_MARKET], ids=["stress", "revaluation"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(slots=slots_st)
def test_model_boundary_exact(market: MarketState, slots) -> None:
    at = boundary_balances(slots, market=market)
    if at is None:
        return
    r = evaluate(market, slots, at)
    assert r.solvent and r.nav_raw * fp.RATIO_SCALE - r.req_raw < fp.RATIO_SCALE  # at the boundary
    below = boundary_balances(slots, -1, market)
    if below is not None:
        assert not evaluate(market, slots, below).solvent
    above = boundary_balances(slots, USDC_UNIT, market)
    assert above is None or evaluate(market, slots, above).solvent


@settings(max_examples=100, deadline=None)
@given(i=st.integers(0, N_INSTR - 1), q=st.integers(1, QMAX))
def test_opposing_positions_cancel(i: int, q: int) -> None:
    """q and -q of instruments with identical data net out exactly (greeks, margin, NAV)."""
    twins = TWINS
    empty = evaluate(MARKET, [], [1, 0, 0, 0])
    # long and short of the same underlying's instruments: margin of +q and -q is the same magnitude
    long_, short = evaluate(MARKET, [(i, q)], [0] * 4), evaluate(MARKET, [(i, -q)], [0] * 4)
    assert long_.nav_raw == -short.nav_raw
    for a, b in twins:
        r = evaluate(MARKET, [(a, q), (b, -q)], [1, 0, 0, 0])
        assert (r.mm, r.nav_raw) == (empty.mm, empty.nav_raw)


def _data(inst) -> tuple:
    return (inst.underlying, inst.mark, inst.delta, inst.gamma, inst.vega)


#: Pairs of distinct instruments with identical data (perpetual and futures: mark 0, delta 1).
TWINS = [(a, b) for a in range(N_INSTR) for b in range(a + 1, N_INSTR)
         if _data(MARKET.instruments[a]) == _data(MARKET.instruments[b])]
assert len({MARKET.instruments[a].underlying for a, _ in TWINS}) == 2, "the demo market lost its twin instruments"


BAD = [
    ("positions[0].quantity", lambda s: Account((Position(s, 1 << fp.QTY_BITS),), {}, 1)),
    ("positions[0].quantity", lambda s: Account((Position(s, -(1 << fp.QTY_BITS)),), {}, 1)),
    ("positions[0].quantity", lambda s: Account((Position(s, P - 1),), {}, 1)),  # 'p - |q|' smuggled as q
    ("collateral['USDC']", lambda s: Account((), {"USDC": 1 << fp.BALANCE_BITS}, 1)),
    ("collateral['USDC']", lambda s: Account((), {"USDC": -1}, 1)),
    ("collateral['USDC']", lambda s: Account((), {"USDC": P - 5}, 1)),
    ("salt", lambda s: Account((), {"USDC": 1}, P)),
    ("salt", lambda s: Account((), {"USDC": 1}, P + 12345)),
    ("salt", lambda s: Account((), {"USDC": 1}, -1)),
    ("instrument 'NOPE'", lambda s: Account((Position(s, 1), Position("NOPE", 1)), {}, 1)),
    ("positions[1].instrument", lambda s: Account((Position(s, 1), Position(s, -1)), {}, 1)),  # duplicate
    ("positions", lambda s: Account(tuple(Position(i.symbol, 1) for i in MARKET.instruments[:5]), {}, 1)),
]


@pytest.mark.parametrize("field, make", BAD)
def test_out_of_range_refused_before_proving(field: str, make, monkeypatch) -> None:
    """zksolv.prover.prove refuses with an InputError naming the field; nothing is compiled or run."""
    import zksolv.prover.prove as pp

    def boom(*a, **k):
        raise AssertionError("proving machinery reached")

    monkeypatch.setattr(pp, "build_artifacts", boom)
    monkeypatch.setattr(pp, "calculate_witness", boom)
    account = make(MARKET.instruments[2].symbol)
    n = 4 if field == "positions" else None
    with pytest.raises(InputError) as info:
        pp.prove(account, MARKET, n_positions=n)
    msg = str(info.value)
    assert field in msg, msg
    for value in (str(1 << fp.QTY_BITS), str(P - 1), str(P - 5), str(P + 12345)):
        assert value not in msg


@settings(max_examples=100, deadline=None)
@given(q=st.integers(1 << fp.QTY_BITS, 1 << 300), sign=st.sampled_from([1, -1]), salt=st.integers(P, 1 << 300))
def test_overflow_attempts_hypothesis(q: int, sign: int, salt: int) -> None:
    sym = MARKET.instruments[3].symbol
    for account, field in ((Account((Position(sym, sign * q),), {}, 1), "positions[0].quantity"),
                           (Account((), {"BTC": q}, 1), "collateral['BTC']"),
                           (Account((), {}, salt), "salt")):
        with pytest.raises(InputError, match=field.replace("[", r"\[")):
            circuit_inputs(account, MARKET, TIER)


def test_maximal_quantities_match_exact_arithmetic() -> None:
    """±(2^52-1) on every instrument, every balance maximal: either refused by the circuit-width
    check (an InputError naming the range) or evaluated with NAV equal to the exact ``Fraction``
    NAV and margin rounded up by less than 1 µUSD (docs/fixed_point.md), so solvent => exactly solvent."""
    evaluated = 0
    for i in range(N_INSTR):
        for q in (QMAX, -QMAX):
            where = f"instrument {i}, q = {'+' if q > 0 else '-'}(2^52-1)"
            try:
                r = evaluate(MARKET, [(i, q)], [QMAX] * 4)
            except InputError as exc:
                assert "range" in str(exc) or "limit" in str(exc), f"{where}: {exc}"
                continue
            ex = evaluate_exact(MARKET, [(i, q)], [QMAX] * 4)
            assert Fraction(r.nav_raw, fp.NAV_SCALE) == ex.nav, f"{where}: NAV not exact"
            err = Fraction(r.mm, fp.PRICE_SCALE) - ex.mm_base
            assert 0 <= err < Fraction(1, fp.PRICE_SCALE), f"{where}: margin off by {float(err)} USD"
            assert not r.solvent or ex.solvent, f"{where}: solvent in the model, insolvent exactly"
            evaluated += 1
    assert evaluated >= N_INSTR, f"only {evaluated} of {2 * N_INSTR} maximal positions evaluated"


# ====================================================== circuit side (slow)
@pytest.fixture(scope="module")
def compiled():
    from zksolv.toolchain.artifacts import compile_tier

    return compile_tier(TIER)[1]


@pytest.fixture(scope="module")
def wasm(compiled) -> Path:
    return compiled.wasm


@pytest.fixture(scope="module")
def constraints(compiled):
    """``(r1cs, touching, wire of each main signal)`` for the independent checker :mod:`zksolv.toolchain.r1cs`."""
    r1cs = R.R1CS.load(compiled.r1cs)
    return r1cs, R.constraints_touching(r1cs), R.signal_wires(R.read_sym(compiled.sym))


def _witness(wasm: Path, inputs, tmp: Path) -> list[int]:
    from zksolv.toolchain import calculate_witness

    return R.read_wtns(calculate_witness(wasm, inputs, tmp / "w.wtns"))


def _witness_ok(wasm: Path, inputs, tmp: Path) -> bool:
    from zksolv.toolchain import calculate_witness

    try:
        calculate_witness(wasm, inputs, tmp / "w.wtns")
        return True
    except ProofError as exc:
        assert "\n" not in str(exc)
        return False


def _honest(slots, balances, salt: int = 424242):
    return build_inputs(MARKET, TIER, slots, balances, salt, evaluate(MARKET, slots, balances))


small = settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])


@pytest.mark.slow
@small
@given(slots=slots_st)
def test_circuit_boundary(wasm, tmp_path_factory, slots) -> None:
    """Least solvent NAV proves; one NAV_raw unit (1e-18 µUSD·…) below has no witness, even with honest hints."""
    at, below = boundary_balances(slots), boundary_balances(slots, -1)
    if at is None or below is None:
        return
    tmp = tmp_path_factory.mktemp("b")
    assert _witness_ok(wasm, _honest(slots, at), tmp)
    r = evaluate(MARKET, slots, below)
    assert not r.solvent
    with pytest.raises(ProofError):  # the Python gate
        circuit_inputs(Account(tuple(Position(MARKET.instruments[i].symbol, q) for i, q in slots),
                               dict(zip([c.symbol for c in MARKET.collateral], below)), 1), MARKET, TIER)
    assert not _witness_ok(wasm, _honest(slots, below), tmp)  # the circuit itself


@pytest.mark.slow
@small
@given(slots=slots_st, frac=st.integers(2, 1000))
def test_circuit_insolvent_never_witnesses(wasm, tmp_path_factory, slots, frac) -> None:
    at = boundary_balances(slots)
    if at is None or at == [0, 0, 0, 0]:
        return
    usdc = at[0] * (frac - 1) // frac  # well below the requirement
    bal = [usdc, 0, 0, 0]
    if evaluate(MARKET, slots, bal).solvent:
        return
    assert not _witness_ok(wasm, _honest(slots, bal), tmp_path_factory.mktemp("i"))


@pytest.mark.slow
@small
@given(slots=st.lists(st.tuples(st.integers(0, N_INSTR - 1), st.sampled_from([QMAX, -QMAX, 1, -1])),
                      min_size=1, max_size=4, unique_by=lambda s: s[0]),
       slack=st.integers(fp.RATIO_SCALE * fp.AVSL_ONE * 3, 10**24))
def test_circuit_solvent_with_slack_always_witnesses(wasm, tmp_path_factory, slots, slack) -> None:
    """Maximal / minimal quantities, NAV above the requirement by more than the rounding error."""
    bal = boundary_balances(slots, slack // fp.RATIO_SCALE)
    if bal is None:
        return
    try:
        r = evaluate(MARKET, slots, bal)
    except InputError:
        return  # beyond a circuit width: refused in Python (covered above)
    assert r.solvent
    assert _witness_ok(wasm, _honest(slots, bal), tmp_path_factory.mktemp("s"))


@pytest.mark.slow
@pytest.mark.parametrize("name, value", [("q", 1 << fp.QTY_BITS), ("q", P - (1 << fp.QTY_BITS)),
                                         ("balance", 1 << fp.BALANCE_BITS), ("balance", P - 1), ("salt", P)])
def test_circuit_refuses_overflowing_private_inputs(wasm, constraints, tmp_path: Path, name: str, value: int) -> None:
    """Bypassing Python entirely: values beyond a width (or a 'negative' balance), or a salt >= p
    against the commitment of the honest salt, have no witness; and the honest witness with just that
    signal overwritten violates a constraint of the R1CS (independent checker)."""
    r1cs, touching, wires = constraints
    slots = [(5, 1_000_000)]
    balances = boundary_balances(slots, 10**20)
    honest = _honest(slots, balances)
    w = _witness(wasm, honest, tmp_path)
    assert R.check(r1cs, w) == [], "the honest witness must satisfy the R1CS"
    signal = "salt" if name == "salt" else f"{name}[0]"
    tampered = dict(honest)
    if name == "salt":
        tampered["salt"] = str(value)
    else:
        tampered[name] = list(honest[name])
        tampered[name][0] = str(value)
    assert not _witness_ok(wasm, tampered, tmp_path), f"{signal} = {value} got a witness"
    assert R.tamper_rejected(r1cs, w, wires[f"main.{signal}"], value, touching), \
        f"the R1CS accepts the honest witness with {signal} = {value} mod p"
    if name == "salt":
        # salt = p is the field element 0, not a new salt: it proves exactly the salt-0 account (whose
        # commitment differs from the honest one, asserted above); Python refuses salt >= p (BAD list)
        zero = dict(_honest(slots, balances, salt=0), salt=str(value))
        assert zero["account_commitment"] != honest["account_commitment"]
        assert _witness_ok(wasm, zero, tmp_path), "salt = p must alias salt 0 in the field"


def btc_funded(slots) -> list[int]:
    """Balances [0, 0, BTC, 0] with the least BTC that makes ``slots`` solvent (for positions whose
    requirement is beyond what USDC's 52-bit balance can cover)."""
    zero = evaluate(MARKET, slots, [0, 0, 0, 0])
    btc = MARKET.collateral[2]
    unit = btc.price * (fp.RATIO_SCALE - btc.haircut)  # NAV_raw per BTC µ-unit
    need = fp.ceil_div(zero.req_raw, fp.RATIO_SCALE) - zero.nav_raw
    return [0, 0, max(0, fp.ceil_div(need, unit)), 0]


def _circuit_values(w: list[int], wires: dict[str, int]) -> dict[str, int]:
    """The aggregated greeks, NAV, margin and requirement as the circuit computed them (signed)."""
    names = ["nav_raw", "mm", "req_raw"] + [f"{g}[{u}]" for g in ("Delta", "Gamma", "Vega", "m")
                                               for u in range(TIER.n_underlyings)]
    return {n: fp.from_field(w[wires[f"main.{n}"]]) for n in names}


def _reference_values(r: MarginResult) -> dict[str, int]:
    out = {"nav_raw": r.nav_raw, "mm": r.mm, "req_raw": r.req_raw}
    for u in range(TIER.n_underlyings):
        out |= {f"Delta[{u}]": r.greeks.Delta[u], f"Gamma[{u}]": r.greeks.Gamma[u],
                f"Vega[{u}]": r.greeks.Vega[u], f"m[{u}]": r.hints["m"][u]}  # type: ignore[index]
    return out


#: q and -q on instruments with identical data, maximal and small, on one or both underlyings.
CANCELLING = [
    [(1, QMAX), (2, -QMAX)],
    [(13, -QMAX), (11, QMAX)],
    [(3, 123_456_789), (1, -123_456_789), (12, -(1 << 40)), (13, 1 << 40)],
]


@pytest.mark.slow
@pytest.mark.parametrize("slots", CANCELLING, ids=["btc_max", "eth_max", "both"])
def test_circuit_cancelling_positions_net_out(wasm, constraints, tmp_path: Path, slots) -> None:
    """In the circuit: the greeks, NAV, stress maxima, margin and requirement of a cancelling book
    equal the reference *and* those of the empty book with the same collateral (all zero margin)."""
    r1cs, _, wires = constraints
    assert all(_data(MARKET.instruments[a]) == _data(MARKET.instruments[b]) for (a, _), (b, _) in
               zip(slots[::2], slots[1::2])), "each pair must be twins"
    balances = [5_000_000, 0, 0, 0]  # 5 USDC
    r, empty = evaluate(MARKET, slots, balances), evaluate(MARKET, [], balances)
    assert _reference_values(r) == _reference_values(empty)
    w = _witness(wasm, _honest(slots, balances), tmp_path)
    assert R.check(r1cs, w) == []
    got = _circuit_values(w, wires)
    assert got == _reference_values(r), f"circuit {got} != reference {_reference_values(r)}"
    assert got["mm"] == 0 and all(got[f"Delta[{u}]"] == 0 for u in range(TIER.n_underlyings)), got


@pytest.mark.slow
def test_full_proofs_for_adversarial_solvent_accounts(wasm) -> None:
    """End-to-end proofs, all verified: the exact boundary (short call, perp, huge short spot), a
    maximal short call funded with BTC, and a maximal cancelling pair with no collateral at all."""
    from zksolv.prover.prove import prove
    from zksolv.verifier.verify import verify

    syms = [i.symbol for i in MARKET.instruments]
    boundary = [(4, -3_000_000), (1, 1_000_000), (0, -(1 << 30))]
    btc = MARKET.collateral[2]
    cases = {  # name: (slots, balances, NAV_raw above the least solvent NAV must be below this)
        "exact boundary": (boundary, boundary_balances(boundary), 1),
        "maximal short call": ([(4, -QMAX)], btc_funded([(4, -QMAX)]), btc.price * (fp.RATIO_SCALE - btc.haircut)),
        "cancelling pair": (CANCELLING[0], [0, 0, 0, 0], 1),
    }
    for name, (slots, bal, slack) in cases.items():
        assert bal is not None, name
        r = evaluate(MARKET, slots, bal)
        assert r.solvent, f"{name}: insolvent"
        assert r.nav_raw - fp.ceil_div(r.req_raw, fp.RATIO_SCALE) < slack, f"{name}: not at the boundary"
        account = Account(tuple(Position(syms[i], q) for i, q in slots),
                          {c.symbol: b for c, b in zip(MARKET.collateral, bal) if b}, 99)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bundle = prove(account, MARKET, n_positions=4)
        assert verify(bundle.proof, bundle.public, MARKET, bundle.verification_key).valid, f"{name}: invalid"


# ====================================================== the revaluation mode (circuit side, slow)
@pytest.fixture(scope="module")
def reval_compiled():
    from zksolv.toolchain.artifacts import compile_tier

    compiled = compile_tier(REVAL_TIER)[1]
    r1cs = R.R1CS.load(compiled.r1cs)
    return compiled.wasm, r1cs, R.constraints_touching(r1cs), R.signal_wires(R.read_sym(compiled.sym))


def _reval_honest(slots, balances, result: MarginResult | None = None, salt: int = 424242):
    result = result or evaluate(REVAL_MARKET, slots, balances)
    return build_inputs(REVAL_MARKET, REVAL_TIER, slots, balances, salt, result)


@pytest.mark.slow
@small
@given(slots=slots_st, frac=st.integers(2, 1000))
def test_revaluation_boundary_and_insolvent_accounts(reval_compiled, tmp_path_factory, slots, frac) -> None:
    """Under the revaluation mode too: the least solvent NAV proves, one NAV_raw unit below has no
    witness even with honest hints fed straight to build_inputs, and a book funded well below the
    requirement has none either."""
    wasm = reval_compiled[0]
    at, below = boundary_balances(slots, market=REVAL_MARKET), boundary_balances(slots, -1, REVAL_MARKET)
    if at is None or below is None:
        return
    tmp = tmp_path_factory.mktemp("rb")
    assert _witness_ok(wasm, _reval_honest(slots, at), tmp)
    assert not evaluate(REVAL_MARKET, slots, below).solvent
    assert not _witness_ok(wasm, _reval_honest(slots, below), tmp)
    poor = [at[0] * (frac - 1) // frac, 0, 0, 0]
    if not evaluate(REVAL_MARKET, slots, poor).solvent:
        assert not _witness_ok(wasm, _reval_honest(slots, poor), tmp)


@pytest.mark.slow
def test_revaluation_cheating_hints_have_no_witness(reval_compiled, tmp_path: Path) -> None:
    """An insolvent book (a short call funded 1 µUSD below its requirement) with every hint moved in
    the cheating direction: m_u below the worst loss (by one, or to 0) with mm lowered to match,
    mm rounded down: no witness, and each edit of the honest solvent witness violates the R1CS."""
    wasm, r1cs, touching, wires = reval_compiled
    slots = [(6, -3_000_000), (16, 2_000_000)]  # a short BTC call, a long ETH call
    at = boundary_balances(slots, market=REVAL_MARKET)
    honest = evaluate(REVAL_MARKET, slots, at)
    m = honest.hints["m"]
    assert honest.solvent and all(x > 0 for x in m) and honest.mm > 0  # type: ignore[union-attr]
    w = _witness(wasm, _reval_honest(slots, at, honest), tmp_path)
    assert R.check(r1cs, w) == []
    for u in range(REVAL_TIER.n_underlyings):
        for value in (m[u] - 1, 0):  # type: ignore[index]
            assert R.tamper_rejected(r1cs, w, wires[f"main.m[{u}]"], value, touching), f"m[{u}] = {value}"
    assert R.tamper_rejected(r1cs, w, wires["main.mm"], honest.mm - 1, touching)
    # insolvent: no hint the prover may pick gives it a witness
    below = boundary_balances(slots, -1, REVAL_MARKET)
    poor = evaluate(REVAL_MARKET, slots, below)
    assert not poor.solvent
    for u in range(REVAL_TIER.n_underlyings):
        cheat = dataclasses.replace(poor, hints={**poor.hints, "m": [x - (1 if v == u else 0) for v, x in enumerate(m)],
                                                  "mm": poor.mm - 1})
        assert not _witness_ok(wasm, _reval_honest(slots, below, cheat), tmp_path)
    zero = dataclasses.replace(poor, hints={**poor.hints, "m": [0] * len(m), "mm": 0})
    assert not _witness_ok(wasm, _reval_honest(slots, below, zero), tmp_path)
