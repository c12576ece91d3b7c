"""The revaluation risk mode (issue 16): full-repricing risk arrays instead of the greeks.

Fast: the published arrays against an independent float repricing of the same grid (within the
documented rounding: each array entry is the repriced value rounded down, against the published
mark); a long option never loses more than its premium in any scenario (the oracle's function on
random inputs, every demo grid, and the model on any market that passes validation); the issue's
example account on the demo stress market's data under every mode; linear books margin alike
under stress and revaluation; validation names the field of a wrong shape, width or bound; the
leaf commits the arrays; the chunk plan, CLI and report.
Slow: a real Groth16 proof of a revaluation account verifies (dev setup, the small demo market),
is refused under the greeks market of the same data, and the same book proven in chunks gives
the same commitment and verifies.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zksolv.prover.chunks import plan_chunks
from tests.strategies import accounts, markets
from zksolv.core import commitments as cm
from zksolv.core import fixedpoint as fp
from zksolv.core.account import Account, Position
from zksolv.toolchain.circuitgen import ChunkTier, FinalTier, Tier
from zksolv.app.demo import REFERENCE_TIME, _UNDERLYINGS, demo_market, smile_vol
from zksolv.core.errors import InputError
from zksolv.core.market import InstrumentKind, MarketState, RiskMode
from zksolv.risk.model import evaluate
from zksolv.risk.pricing import greeks_numpy, quantise
from zksolv.risk.revaluation import as_revaluation, local_risk_arrays, option_risk_arrays, with_risk_arrays
from zksolv.proofs.circuit_names import parse_chunk_capacity
from zksolv.proofs.statement import Statement

REVAL = RiskMode.REVALUATION
GRIDS = ("span", "deribit", "paradex", "horizon", "mc")
EXAMPLE = "BTC-9JAN26-67000-C"
MUSD = fp.PRICE_SCALE


@pytest.fixture(scope="module")
def reval_markets() -> dict[str, MarketState]:
    return {grid: demo_market(risk_mode="revaluation", grid=grid) for grid in GRIDS}


# ------------------------------------------------------------- an independent float repricing
def bs_value(spot: float, strike: float, tau: float, vol: float, call: bool) -> float:
    """Black–Scholes at zero rate with math.erfc (not zksolv.risk.pricing), intrinsic at zero total vol."""
    total = vol * math.sqrt(max(tau, 0.0))
    if total < 1e-12:
        return max(spot - strike, 0.0) if call else max(strike - spot, 0.0)
    d1 = (math.log(spot / strike) + 0.5 * total * total) / total
    d2 = d1 - total
    n = lambda x: 0.5 * math.erfc(-x / math.sqrt(2.0))  # noqa: E731
    return spot * n(d1) - strike * n(d2) if call else strike * n(-d2) - spot * n(-d1)


@pytest.mark.parametrize("grid", GRIDS)
def test_arrays_match_an_independent_float_repricing(reval_markets, grid: str) -> None:
    """Each option's pnl[k] is its value repriced at S + dS'_k and its smile vol + dsig'_k (same time
    to expiry) minus the published mark, rounded down: 0 <= exact - published < 1 µUSD (+ float
    noise of two implementations, 1e-8 USD). Linear units gain exactly the scan range's move. The
    scan range is the published grid widened by 1 + V*beta, recomputed here from the shocks."""
    market = reval_markets[grid]
    factor = fp.AVSL_ONE + market.params.v_scalar * market.params.beta
    moves = [[fp.round_away(r * und.spot * factor, fp.RATIO_SCALE * fp.AVSL_ONE) for r in row]
             for und, row in zip(market.underlyings, market.params.scenarios.price_shocks)]
    shocks = [[fp.round_away(x * factor, fp.AVSL_ONE) for x in row] for row in market.params.scenarios.vol_shocks]
    assert factor > fp.AVSL_ONE and (tuple(map(tuple, moves)), tuple(map(tuple, shocks))) == market.scan_range()
    spots = {sym: spot for sym, spot, *_ in _UNDERLYINGS}
    quotes = {sym: (atm, put, call) for sym, _s, _v, atm, put, call, _t in _UNDERLYINGS}
    checked = 0
    for ins in market.instruments:
        u = ins.underlying
        if not ins.kind.is_option:
            assert list(ins.pnl) == moves[u]
            continue
        sym = market.underlyings[u].symbol
        tau = (ins.expiry - REFERENCE_TIME) / fp.SECONDS_PER_YEAR
        strike = ins.strike / MUSD
        vol = smile_vol(strike, spots[sym], tau, *quotes[sym])
        for k, pnl in enumerate(ins.pnl):
            shocked = bs_value((market.underlyings[u].spot + moves[u][k]) / MUSD, strike, tau,
                               max(vol + shocks[u][k] / fp.VOL_SCALE, 0.0), ins.kind is InstrumentKind.CALL)
            gap = (shocked - ins.mark / MUSD) - pnl / MUSD
            assert -1e-8 <= gap < 1e-6 + 1e-8, (ins.symbol, k, gap)
            checked += 1
    assert checked >= 100


# ------------------------------------------------------------- a long option's loss <= its premium
@settings(max_examples=300, deadline=None)
@given(spot=st.integers(10**6, 10**12), strike=st.integers(10**6, 10**12), vol=st.floats(0.0, 3.0),
       tau=st.floats(0.0, 3.0), call=st.booleans(),
       scenarios=st.lists(st.tuples(st.integers(-999_999, 999_999), st.integers(-3 * 10**6, 3 * 10**6)),
                          min_size=1, max_size=8))
def test_long_option_never_loses_more_than_its_premium(spot, strike, vol, tau, call, scenarios) -> None:
    """The oracle's arrays, for any option, grid and vol shock (negative shocked vols floor at 0):
    pnl[k] >= -mark with the mark published as the oracle does (BS rounded half away)."""
    kind = "call" if call else "put"
    mark = quantise("mark", greeks_numpy([spot / MUSD], [strike / MUSD], [tau], [vol], [kind]).mark, MUSD)[0]
    moves = [fp.round_away(r * spot, fp.RATIO_SCALE) for r, _ in scenarios]
    (array,) = option_risk_arrays(spot, [strike], [call], [vol * math.sqrt(tau)], [math.sqrt(tau)], [mark],
                                  moves, [dsig for _, dsig in scenarios])
    assert all(pnl >= -mark for pnl in array)
    bound = [spot + m for m in moves] if call else [strike] * len(moves)
    assert all(pnl <= b - mark for pnl, b in zip(array, bound))


def test_every_demo_array_caps_a_long_option_at_its_mark(reval_markets) -> None:
    for market in reval_markets.values():
        for ins in market.instruments:
            if ins.kind.is_option:
                assert min(ins.pnl) >= -ins.mark, ins.symbol


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_long_option_books_lose_at_most_their_premium(data: st.DataObject) -> None:
    """On any market that passes validation: a book of long options has MM_base <= its premium, so
    the account's worst scenario value is at least its collateral."""
    market = data.draw(markets(mode=REVAL))
    slots, balances = data.draw(accounts(market))
    longs = [(i, abs(q)) for i, q in slots if q]
    result = evaluate(market, longs, balances)
    premium = sum(q * market.instruments[i].mark for i, q in longs)  # scale 1e12
    assert result.mm <= fp.ceil_div(premium, fp.QTY_SCALE)
    for row in result.greeks.PnL:
        assert min(row, default=0) >= -premium


# ------------------------------------------------------------- the issue's example
def test_issue_example_on_the_demo_stress_markets_data() -> None:
    """400 long BTC-9JAN26-67000-C (premium 460,145.3308 USD) + 60,000 USDC: the account is worth at
    least 60,000 USD in every scenario, and solvent under this mode. The arrays are repriced at the
    scan range widened by the AVSL factor (1 + V*beta = 1.215043): MM_base 459,701.8228 USD — below
    the premium, where stress (515,843.60) and VaR (813,469.11) price the 3-sigma moves with the
    delta-gamma-vega approximation and then multiply by 1.215 — and the requirement is MM_base
    itself (docs/design.md, "Full revaluation"). The collateral the rule asks of this book falls
    from 166,626.83 USD (stress) to none: a long option cannot lose more than it is worth."""
    stress, reval = demo_market(risk_mode="stress"), demo_market(risk_mode="revaluation")
    # the same market data: only the mode and the arrays differ
    assert [dataclasses.replace(i, pnl=()) for i in reval.instruments] == list(stress.instruments)
    assert reval.params == dataclasses.replace(stress.params, risk_mode=REVAL)
    account = Account((Position(EXAMPLE, 400 * 10**6),), {"USDC": 60_000 * 10**6}, 1).validated(reval)
    slots, balances = account.position_slots(reval), account.balances(reval)
    premium = 400 * reval.instruments[reval.instrument_index(EXAMPLE)].mark
    assert premium == 460_145_330_800
    r = evaluate(reval, slots, balances)
    figures = {mode: evaluate(stress, slots, balances, mode) for mode in (RiskMode.STRESS, RiskMode.VAR)}
    assert (r.mm, figures[RiskMode.STRESS].mm, figures[RiskMode.VAR].mm) == \
        (459_701_822_800, 515_843_601_193, 813_469_114_425)
    assert r.mm <= premium < figures[RiskMode.STRESS].mm < figures[RiskMode.VAR].mm
    assert r.avsl_factor == fp.AVSL_ONE and figures[RiskMode.STRESS].avsl_factor == fp.AVSL_ONE + 430_086 * 500_000
    assert r.nav_musd - r.mm >= 60_000 * MUSD  # never worth less than its collateral
    assert (r.nav_musd, r.requirement_musd, r.solvent) == (520_145_330_800, 459_701_822_800, True)
    assert not any(figures[m].solvent for m in figures)

    def least_collateral(market: MarketState, mode: RiskMode) -> int:
        base = evaluate(market, slots, [0] * len(balances), mode)
        return fp.ceil_div(fp.ceil_div(base.req_raw, fp.RATIO_SCALE) - base.nav_raw, 10**12)

    assert least_collateral(stress, RiskMode.STRESS) == 166_626_825_925  # µUSD of USDC
    assert least_collateral(reval, REVAL) < 0 and evaluate(reval, slots, [0] * 4).solvent


def test_avsl_factor_widens_the_scan_range() -> None:
    """V*beta widens the scenarios: with V = 0 the arrays are those of the published grid; a linear
    book's requirement then grows by the factor, a short straddle's by at least it, and a long
    option's stays capped at its premium."""
    reval = demo_market(risk_mode="revaluation", n_strikes=3, n_expiries=1)
    p = reval.params
    factor = fp.AVSL_ONE + p.v_scalar * p.beta
    bare = dataclasses.replace(reval, instruments=tuple(dataclasses.replace(i, pnl=()) for i in reval.instruments))
    calm = dataclasses.replace(bare, params=dataclasses.replace(p, v_scalar=0))
    calm = with_risk_arrays(calm, local_risk_arrays(calm))
    reval = with_risk_arrays(bare, local_risk_arrays(bare))  # both sides repriced the same way
    assert calm.scan_range() == (calm.price_moves(), p.scenarios.vol_shocks)
    future = next(i for i, ins in enumerate(reval.instruments) if not ins.kind.is_option)
    linear = [(future, 7 * 10**6)]
    wide, narrow = evaluate(reval, linear, [0] * 4), evaluate(calm, linear, [0] * 4)
    assert abs(wide.mm - fp.ceil_div(narrow.mm * factor, fp.AVSL_ONE)) <= 7  # 1 µUSD per unit of rounding
    calls = [i for i, ins in enumerate(reval.instruments) if ins.kind is InstrumentKind.CALL]
    puts = [i for i, ins in enumerate(reval.instruments) if ins.kind is InstrumentKind.PUT]
    straddle = [(calls[len(calls) // 2], -10**6), (puts[len(puts) // 2], -10**6)]
    assert evaluate(reval, straddle, [0] * 4).mm * fp.AVSL_ONE >= evaluate(calm, straddle, [0] * 4).mm * factor
    long_call = [(calls[0], 10**6)]
    assert evaluate(reval, long_call, [0] * 4).mm <= reval.instruments[calls[0]].mark


def test_linear_books_margin_alike_under_stress_and_revaluation(reval_markets) -> None:
    """pnl = dS' for spot, perpetuals and futures: the repriced loss at the widened scan range is the
    delta loss times 1 + V*beta, so the requirement is stress's up to the rounding of dS * (1 + V*beta)
    to 1 µUSD per unit (at most one µUSD per unit held), and never below it by more than that."""
    reval = reval_markets["span"]
    stress = demo_market(risk_mode="stress")
    linear = [i for i, ins in enumerate(reval.instruments) if not ins.kind.is_option]
    for n, i in enumerate(linear):
        slots = [(i, (-1) ** n * (n + 1) * 10**6), (linear[-1 - n], 3 * 10**6)] if linear[-1 - n] != i else [(i, 10**6)]
        units = sum(abs(q) for _, q in slots) // 10**6
        a, b = evaluate(reval, slots, [0] * 4).requirement_musd, evaluate(stress, slots, [0] * 4).requirement_musd
        assert abs(a - b) <= units + 1, (slots, a, b)


def test_revaluation_needs_published_arrays() -> None:
    stress = demo_market(risk_mode="stress", n_strikes=3, n_expiries=1)
    with pytest.raises(InputError, match="risk_mode: the revaluation mode needs a market that publishes risk arrays"):
        evaluate(stress, [(5, 10**6)], [0] * 4, REVAL)
    # the report's local repricing agrees with the oracle's arrays to the precision of the marks
    local, published = as_revaluation(stress)
    oracle = demo_market(risk_mode="revaluation", n_strikes=3, n_expiries=1)
    assert not published and local.params.risk_mode is REVAL
    for a, b in zip(local.instruments, oracle.instruments):
        assert max(abs(x - y) for x, y in zip(a.pnl, b.pnl)) <= 2, a.symbol


# ------------------------------------------------------------- validation names the field
def _with(market: MarketState, i: int, pnl: tuple[int, ...]) -> MarketState:
    instruments = list(market.instruments)
    instruments[i] = dataclasses.replace(instruments[i], pnl=pnl)
    return dataclasses.replace(market, instruments=tuple(instruments))


def test_validation_refuses_bad_arrays(reval_markets) -> None:
    market = reval_markets["span"]
    k = market.params.scenarios.size
    call = next(i for i, ins in enumerate(market.instruments) if ins.kind is InstrumentKind.CALL)
    put = next(i for i, ins in enumerate(market.instruments) if ins.kind is InstrumentKind.PUT)
    c, p = market.instruments[call], market.instruments[put]
    spot, move = market.underlyings[c.underlying].spot, market.scan_range()[0][c.underlying][0]
    cases = [
        (_with(market, call, c.pnl[:-1]), rf"instruments\[{call}\]\.pnl: expected {k} entries \(one per scenario\), got {k - 1}"),
        (_with(market, call, (*c.pnl, 0)), rf"instruments\[{call}\]\.pnl: expected {k} entries"),
        (_with(market, call, (1 << fp.PNL_BITS, *c.pnl[1:])), rf"instruments\[{call}\]\.pnl\[0\]: magnitude exceeds the 49-bit limit"),
        (_with(market, call, list(c.pnl)), rf"instruments\[{call}\]\.pnl: expected a tuple of integers"),  # type: ignore[arg-type]
        (_with(market, 0, (market.instruments[0].pnl[0] + 1, *market.instruments[0].pnl[1:])),
         r"instruments\[0\]\.pnl\[0\]: a spot unit gains exactly the scan range's price move"),
        (_with(market, call, (-c.mark - 1, *c.pnl[1:])), rf"instruments\[{call}\]\.pnl\[0\]: an option loses at most its mark"),
        (_with(market, call, (spot + move - c.mark + 1, *c.pnl[1:])),
         rf"instruments\[{call}\]\.pnl\[0\]: a call is worth at most the shocked spot"),
        (_with(market, put, (p.strike - p.mark + 1, *p.pnl[1:])), rf"instruments\[{put}\]\.pnl\[0\]: a put is worth at most its strike"),
        (_with(market, call, ()), rf"instruments\[{call}\]\.pnl: expected {k} entries"),
    ]
    for bad, message in cases:
        with pytest.raises(InputError, match=message):
            bad.validated()
    stress = demo_market(risk_mode="stress")
    with pytest.raises(InputError, match=r"instruments\[0\]\.pnl: only a revaluation market publishes risk arrays"):
        _with(stress, 0, market.instruments[0].pnl).validated()


def test_moves_to_zero_and_below(reval_markets) -> None:
    """A move to zero reprices at the limit (a call is worth 0, a put its strike); a revaluation grid
    that moves a spot below zero is refused naming the shock, and a report on a greeks market with
    such a grid says the revaluation column is unavailable instead of failing."""
    (call, put) = option_risk_arrays(10**9, [10**9, 10**9], [True, False], [0.5, 0.5], [1.0, 1.0], [3, 5],
                                     [-10**9, 0], [0, 0])
    assert (call[0], put[0]) == (-3, 10**9 - 5) and call[1] > -3 and put[1] > -5
    market = reval_markets["span"]
    sc = market.params.scenarios
    # -85 % is a valid greeks shock; scaled by 1 + V*beta = 1.215 it moves the spot below zero
    below = ((-850_000, *sc.price_shocks[0][1:]), *sc.price_shocks[1:])
    bad = dataclasses.replace(market, params=dataclasses.replace(market.params, scenarios=dataclasses.replace(
        sc, price_shocks=below)))
    with pytest.raises(InputError, match=r"params\.scenarios\.price_shocks\[0\]\[0\]: a revaluation grid scaled by "
                                         r"1 \+ V\*beta may not move a spot below zero"):
        bad.validated()
    greeks = dataclasses.replace(bad, params=dataclasses.replace(bad.params, risk_mode=RiskMode.STRESS),
                                 instruments=tuple(dataclasses.replace(i, pnl=()) for i in bad.instruments)).validated()
    from zksolv.app.analytics import compare_modes, compare_rules

    slots = [(greeks.instrument_index(EXAMPLE), 10**6)]
    table = compare_modes(greeks, slots, [0] * 4)
    assert table["revaluation"]["unavailable"].startswith("no risk arrays for this market: params.scenarios")
    assert table["stress"]["proven"] and "avsl_revaluation" not in compare_rules(greeks, slots, [0] * 4)


def test_liquidation_prices_reprice_the_arrays(reval_markets) -> None:
    """Under a revaluation market the liquidation-price search recomputes every array at each probed
    spot (a stale array would price the old spot's scenarios against the new marks)."""
    from zksolv.app.analytics import liquidation_prices
    from zksolv.risk.repricing import reprice_underlying

    market = reval_markets["span"]
    account = Account((Position("ETH-9JAN26-3525-C", -40 * 10**6), Position("ETH-9JAN26-3275-P", -40 * 10**6)),
                      {"USDC": 30_000 * 10**6}, 3).validated(market)
    slots, balances = account.position_slots(market), account.balances(market)
    down, up = liquidation_prices(market, slots, balances, 1)
    spot = market.underlyings[1].spot
    assert down is not None and up is not None and down < spot < up
    for price, inside in ((down, down + spot // 1000), (up, up - spot // 1000)):
        moved = reprice_underlying(market, 1, fp.round_half_away(price * fp.RATIO_SCALE, spot))
        again = reprice_underlying(market, 1, fp.round_half_away(inside * fp.RATIO_SCALE, spot))
        assert not evaluate(moved, slots, balances).solvent and evaluate(again, slots, balances).solvent
        # the recomputed arrays are those the oracle's rule gives at that spot (moves from the new spot)
        moves = moved.scan_range()[0][1]
        assert all(i.pnl == moves for i in moved.instruments if i.underlying == 1 and not i.kind.is_option)
        assert all(min(i.pnl) >= -i.mark for i in moved.instruments if i.kind.is_option)


def test_json_round_trip_and_field_errors(reval_markets) -> None:
    market = reval_markets["paradex"]
    assert MarketState.from_json(market.to_json()) == market
    data = json.loads(market.to_json())
    data["instruments"][3]["pnl"][2] = "1.0000001"
    with pytest.raises(InputError, match=r"market\.instruments\[3\]\.pnl\[2\]: more precision"):
        MarketState.from_dict(data)
    data = json.loads(market.to_json())
    data["instruments"][3]["pnl"] = data["instruments"][3]["pnl"][:5]
    with pytest.raises(InputError, match=r"instruments\[3\]\.pnl: expected 24 entries \(one per scenario\), got 5"):
        MarketState.from_dict(data)
    del data["instruments"][3]["pnl"]
    with pytest.raises(InputError, match=r"instruments\[3\]\.pnl: expected 24 entries"):
        MarketState.from_dict(data)
    # a greeks market's JSON carries no arrays (its root and file are unchanged by this mode)
    assert all("pnl" not in row for row in json.loads(demo_market().to_json())["instruments"])


def test_leaf_commits_every_array_entry(reval_markets) -> None:
    market = reval_markets["span"]
    i = market.instrument_index(EXAMPLE)
    ins, ident = market.instruments[i], market.instrument_ids[i]
    fields = [ident, ins.underlying, ins.mark, ins.delta, ins.gamma, ins.vega, *ins.pnl]
    assert cm.instrument_leaf(ident, ins) == cm.hash_list([fp.to_field(x) for x in fields])
    root = cm.market_root(market)
    for k in (0, len(ins.pnl) - 1):
        moved = list(ins.pnl)
        moved[k] += 1
        assert cm.market_root(_with(market, i, tuple(moved)).validated()) != root
    stress = dataclasses.replace(market, params=dataclasses.replace(market.params, risk_mode=RiskMode.STRESS),
                                 instruments=tuple(dataclasses.replace(x, pnl=()) for x in market.instruments))
    assert cm.market_root(stress.validated()) != root
    assert cm.params_vector(market)[0] == 3 == REVAL.code


# ------------------------------------------------------------- tiers, chunks, CLI, report
def test_tiers_and_statement_names() -> None:
    market = demo_market(risk_mode="revaluation", n_strikes=3, n_expiries=1)
    assert Tier.for_market(market, 4).name == "avsl_n4_u2_a4_k16_d2_revaluation"
    assert Tier.for_market(market, 4).template == "AvslRevaluation"
    assert Tier.for_market(market, 4).template_args == (4, 2, 4, 16, 2, 1)
    chunk = ChunkTier.for_market(market, 8)
    assert (chunk.name, chunk.template, chunk.template_args) == \
        ("avsl_chunk_c8_u2_d2_k16_revaluation", "AvslRevaluationChunk", (8, 2, 16, 2, 1))
    assert ChunkTier.for_market(demo_market(n_strikes=3, n_expiries=1), 8).name == "avsl_chunk_c8_u2_d2"
    assert FinalTier.for_market(market).template == "AvslRevaluationFinal"
    assert parse_chunk_capacity(chunk.name) == 8
    with pytest.raises(InputError, match="chunk.mode: only the revaluation mode"):
        ChunkTier(8, 2, 3, 16, RiskMode.STRESS)
    with pytest.raises(InputError, match="chunk.n_scenarios"):
        ChunkTier(8, 2, 3, 16)
    st_ = Statement("avsl_final_u2_a4_k16_revaluation", "0" * 64, "revaluation", 1, "1", "2", "dev", True,
                    chunk.name, "0" * 64, 2)
    assert Statement.from_dict(st_.to_dict()) == st_


def test_chunk_plan_carries_the_risk_array_sums() -> None:
    market = demo_market(risk_mode="revaluation", n_strikes=3, n_expiries=1)
    symbols = [i.symbol for i in market.instruments]
    account = Account(tuple(Position(s, (-1) ** n * (n % 4 + 1) * 10**6) for n, s in enumerate(symbols[:12])),
                      {"USDC": 10**7 * 10**6}, 77).validated(market)
    plan = plan_chunks(account, market, 8, blinding=5)
    result = evaluate(market, account.position_slots(market), account.balances(market))
    g = result.greeks
    assert plan.n_chunks == 2 and plan.chunk_tier.name.endswith("_k16_revaluation")
    assert plan.final_inputs["PnL"] == [[str(fp.to_field(x)) for x in row] for row in g.PnL]
    assert "Delta" not in plan.final_inputs and "PnL_in" in plan.chunk_inputs[1]
    chain = cm.positions_hash(account.holdings(market)[0])
    assert plan.states[-1] == cm.revaluation_chunk_state(2, chain, g.PnL, g.position_value, 5)
    assert plan.states[0] == cm.revaluation_chunk_state(0, 0, [[0] * 16] * 2, 0, 5)
    assert plan.states[0] != cm.chunk_state(0, 0, [0] * 2, [0] * 2, [0] * 2, 0, 5)
    assert len(plan.chunk_inputs[0]["pnl"]) == 8 and len(plan.chunk_inputs[0]["pnl"][0]) == 16


def test_cli_market_demo_and_report(tmp_path: Path) -> None:
    from zksolv.cli import main

    runner = CliRunner()
    out = runner.invoke(main, ["market", "demo", "--out", str(tmp_path / "m.json"), "--mode", "revaluation",
                               "--grid", "mc", "--portfolios", str(tmp_path / "acc"), "--json"])
    assert out.exit_code == 0, out.output
    market = MarketState.load(tmp_path / "m.json")
    assert market.params.risk_mode is REVAL and market.params.scenarios.size == 128
    assert all(len(i.pnl) == 128 for i in market.instruments)
    bad = runner.invoke(main, ["market", "demo", "--out", str(tmp_path / "s.json"), "--mode", "stress", "--grid", "mc"])
    assert bad.exit_code == 2 and "grid: must be one of" in bad.output and not (tmp_path / "s.json").exists()
    rep = runner.invoke(main, ["report", "--account", str(tmp_path / "acc" / "covered_call.json"), "--market",
                               str(tmp_path / "m.json"), "--no-prices", "--json"])
    assert rep.exit_code == 0, rep.output
    data = json.loads(rep.output[rep.output.index("{"):])
    assert data["risk_mode"] == "revaluation" and set(data["risk_modes"]) == {m.value for m in RiskMode}
    assert data["risk_modes"]["revaluation"]["proven"] and data["risk_modes"]["revaluation"]["mm_base"] == data["mm_base"]
    assert {f"avsl_{m.value}" for m in RiskMode} <= set(data["comparison"])


# ------------------------------------------------------------- slow: real proofs
SMALL = demo_market(risk_mode="revaluation", n_strikes=3, n_expiries=1)


def _long_calls() -> Account:
    """The example's shape on the small market: long calls funded above the revaluation requirement."""
    call = next(i.symbol for i in SMALL.instruments if i.kind is InstrumentKind.CALL and i.underlying == 0)
    return Account((Position(call, 40 * 10**6), Position("ETH-PERPETUAL", -2 * 10**6), Position("BTC-USD", 10**6)),
                   {"USDC": 60_000 * 10**6}, 0xCA11).validated(SMALL)


@pytest.mark.slow
def test_groth16_proof_of_a_revaluation_account_verifies(tmp_path: Path) -> None:
    from zksolv.prover.prove import prove
    from zksolv.verifier.verify import verify

    account = _long_calls()
    assert evaluate(SMALL, account.position_slots(SMALL), account.balances(SMALL)).solvent
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bundle = prove(account, SMALL)
    assert bundle.statement.tier == "avsl_n4_u2_a4_k16_d2_revaluation"
    commitment = cm.account_commitment_of(account, SMALL)
    verdict = verify(bundle.proof, bundle.public, SMALL, bundle.verification_key, account_commitment=commitment,
                     statement=bundle.statement)
    assert verdict.valid, verdict.reason
    # the same data published as a greeks market has another root: the proof does not carry over
    greeks = dataclasses.replace(SMALL, params=dataclasses.replace(SMALL.params, risk_mode=RiskMode.STRESS),
                                 instruments=tuple(dataclasses.replace(i, pnl=()) for i in SMALL.instruments)).validated()
    assert not verify(bundle.proof, bundle.public, greeks, bundle.verification_key).valid
    bundle.save(tmp_path / "proof")
    SMALL.save(tmp_path / "m.json")
    from zksolv.cli import main

    out = CliRunner().invoke(main, ["verify", "--proof", str(tmp_path / "proof"), "--market", str(tmp_path / "m.json"),
                                    "--dev-key", "--commitment", str(commitment), "--json"])
    assert out.exit_code == 0, out.output


@pytest.mark.slow
def test_revaluation_book_in_chunks_matches_one_circuit() -> None:
    from zksolv.prover.prove import prove
    from zksolv.verifier.chunked import verify_chunked
    from zksolv.verifier.verify import verify

    symbols = [i.symbol for i in SMALL.instruments]
    account = Account(tuple(Position(s, (-1) ** n * (n % 3 + 1) * 10**6) for n, s in enumerate(symbols[:12])),
                      {"USDC": 10**7 * 10**6, "BTC": 3 * 10**6}, 0xB00C).validated(SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chunked = prove(account, SMALL, chunk_size=8, workers=1)
        single = prove(account, SMALL, n_positions=16)
    assert chunked.statement.chunk_tier == "avsl_chunk_c8_u2_d2_k16_revaluation"
    assert chunked.statement.tier == "avsl_final_u2_a4_k16_revaluation"
    commitment = cm.account_commitment_of(account, SMALL)
    assert single.public == chunked.public[:2] == [str(commitment), str(cm.market_root(SMALL))]
    assert verify(single.proof, single.public, SMALL, single.verification_key).valid
    v = verify_chunked(chunked.chunks, chunked.proof, chunked.public, SMALL, chunked.verification_key,
                       chunked.chunk_verification_key, account_commitment=commitment)
    assert v.valid, v.reason
