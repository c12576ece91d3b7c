"""Adversarial accounts: the margin boundary, maximal and cancelling positions, overflow attempts.

Python side (fast, many examples): out-of-range values are refused with an InputError naming the
field (never the value) before any compile, witness or proof. Circuit side (slow, few examples,
small tier ``avsl_n4_u2_a4_k16_d3_stress`` compiled once and cached): at the boundary the minimal
solvent balance proves and one micro-unit less has no witness even with honest hints fed straight
to ``build_inputs``; insolvent accounts never get a witness; solvent accounts with slack above the
documented rounding error (< 1 µUSD of margin) always do; a few are proven and verified in full.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prover.witness import build_inputs, circuit_inputs
from zksolv import fixedpoint as fp
from zksolv.account import Account, Position
from zksolv.circuitgen import Tier
from zksolv.demo import demo_market
from zksolv.errors import InputError, ProofError
from zksolv.market import CollateralAsset, MarketState
from zksolv.model import evaluate

QMAX = (1 << fp.QTY_BITS) - 1
P = fp.FIELD_MODULUS
USDC_UNIT = 10**12  # NAV_raw per µ-unit of USDC (price 1e6 µUSD, haircut 0)


def _market() -> MarketState:
    """Small demo market; its ETH collateral swapped for a 'dust' asset (one unit = 1 NAV_raw) so
    NAV can be placed *exactly* at the requirement. Same shape, so the same tier."""
    m = demo_market(n_strikes=3, n_expiries=1)
    coll = m.collateral[:3] + (CollateralAsset("DUST", 1, fp.RATIO_SCALE - 1),)
    return MarketState(m.epoch, m.params, m.underlyings, m.instruments, coll).validated()


MARKET = _market()
TIER = Tier.for_market(MARKET, 4)
N_INSTR = len(MARKET.instruments)


def boundary_balances(slots, extra: int = 0) -> list[int] | None:
    """Balances [USDC, 0, 0, DUST] with NAV_raw*1e6 >= REQ_raw by exactly ``extra`` NAV_raw units
    above the least solvent NAV (``extra = -1``: one unit below). None if unreachable."""
    zero = evaluate(MARKET, slots, [0, 0, 0, 0])
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
@settings(max_examples=200, deadline=None)
@given(slots=slots_st)
def test_model_boundary_exact(slots) -> None:
    at = boundary_balances(slots)
    if at is None:
        return
    r = evaluate(MARKET, slots, at)
    assert r.solvent and r.nav_raw * fp.RATIO_SCALE - r.req_raw < fp.RATIO_SCALE  # at the boundary
    below = boundary_balances(slots, -1)
    if below is not None:
        assert not evaluate(MARKET, slots, below).solvent
    above = boundary_balances(slots, USDC_UNIT)
    assert above is None or evaluate(MARKET, slots, above).solvent


@settings(max_examples=100, deadline=None)
@given(i=st.integers(0, N_INSTR - 1), q=st.integers(1, QMAX))
def test_opposing_positions_cancel(i: int, q: int) -> None:
    """q and -q of instruments with identical data net out exactly (greeks, margin, NAV)."""
    twins = [(a, b) for a in range(N_INSTR) for b in range(a + 1, N_INSTR)
             if _data(MARKET.instruments[a]) == _data(MARKET.instruments[b])]
    empty = evaluate(MARKET, [], [1, 0, 0, 0])
    # long and short of the same underlying's instruments: margin of +q and -q is the same magnitude
    long_, short = evaluate(MARKET, [(i, q)], [0] * 4), evaluate(MARKET, [(i, -q)], [0] * 4)
    assert long_.nav_raw == -short.nav_raw
    for a, b in twins:
        r = evaluate(MARKET, [(a, q), (b, -q)], [1, 0, 0, 0])
        assert (r.mm, r.nav_raw) == (empty.mm, empty.nav_raw)


def _data(inst) -> tuple:
    return (inst.underlying, inst.mark, inst.delta, inst.gamma, inst.vega)


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
    """prover.prove refuses with an InputError naming the field; nothing is compiled or run."""
    import prover.prove as pp

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


def test_maximal_quantities_model_is_consistent() -> None:
    """±(2^52-1) on every instrument: either refused by the circuit-width check or evaluated exactly."""
    for i in range(N_INSTR):
        for q in (QMAX, -QMAX):
            try:
                r = evaluate(MARKET, [(i, q)], [QMAX, QMAX, QMAX, QMAX])
            except InputError as exc:
                assert "range" in str(exc) or "limit" in str(exc)
                continue
            assert r.nav_raw * fp.RATIO_SCALE - r.req_raw == r.nav_raw * fp.RATIO_SCALE - r.req_raw  # no exception


# ====================================================== circuit side (slow)
@pytest.fixture(scope="module")
def wasm() -> Path:
    from zksolv.artifacts import compile_tier

    return compile_tier(TIER)[1].wasm


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
def test_circuit_refuses_overflowing_private_inputs(wasm, tmp_path: Path, name: str, value: int) -> None:
    """Bypassing Python entirely: values beyond a width (or a 'negative' balance) have no witness."""
    slots = [(5, 1_000_000)]
    inputs = _honest(slots, boundary_balances(slots, 10**20))
    if name == "salt":
        inputs["salt"] = str(value)  # the witness calculator reduces mod p: must not equal a valid salt
        ok = _witness_ok(wasm, inputs, tmp_path)
        assert not ok or inputs["account_commitment"] != _honest(slots, boundary_balances(slots, 10**20), 0)[
            "account_commitment"]
        return
    key = "q" if name == "q" else "balance"
    inputs[key] = list(inputs[key])
    inputs[key][0] = str(value)
    assert not _witness_ok(wasm, inputs, tmp_path)


@pytest.mark.slow
def test_full_proofs_for_adversarial_solvent_accounts(wasm) -> None:
    """A few end-to-end proofs: exact boundary, maximal short, cancelling pair; all verify."""
    from prover.prove import prove
    from verifier.verify import verify

    syms = [i.symbol for i in MARKET.instruments]
    cases = [[(4, -3_000_000), (1, 1_000_000), (0, -(1 << 30))]]
    for slots in cases:
        bal = boundary_balances(slots)
        assert bal is not None
        account = Account(tuple(Position(syms[i], q) for i, q in slots),
                          {c.symbol: b for c, b in zip(MARKET.collateral, bal) if b}, 99)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bundle = prove(account, MARKET, n_positions=4)
        assert verify(bundle.proof, bundle.public, MARKET, bundle.verification_key).valid
