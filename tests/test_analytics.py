"""Liquidation price, partial liquidation, rule comparison and the report."""

from __future__ import annotations

import pytest

from zksolv.core import fixedpoint as fp
from zksolv.app.analytics import (
    _scaled, compare_rules, liquidation_prices, partial_liquidation, report, smallest_uniform_fraction,
)
from zksolv.app.demo import _option, demo_market, demo_portfolios
from zksolv.core.market import InstrumentKind, RiskMode
from zksolv.risk.model import evaluate
from zksolv.risk.repricing import reprice_underlying


@pytest.fixture(scope="module")
def books(market):
    return {name: (acc.position_slots(market), acc.balances(market)) for name, acc in demo_portfolios(market).items()}


def test_repricing_at_unchanged_spot_reproduces_published_values(market) -> None:
    same = reprice_underlying(market, 0, fp.RATIO_SCALE)
    assert same.instruments == market.instruments
    assert same.collateral == market.collateral


def test_repricing_moves_calls_up_and_puts_down(market) -> None:
    up = reprice_underlying(market, 0, 1_100_000)
    for before, after in zip(market.instruments, up.instruments):
        if before.underlying == 0 and before.kind.value == "call":
            assert after.mark >= before.mark
        if before.underlying == 0 and before.kind.value == "put":
            assert after.mark <= before.mark
        if before.underlying != 0:
            assert after == before


def test_repricing_linear_instruments_carry_unsettled_pnl(market) -> None:
    """Perps and futures were settled at S0 (mark 0): after S0 -> S' a unit is worth S' - S0."""
    s0 = market.underlyings[0].spot
    moved = reprice_underlying(market, 0, 900_000)
    s1 = moved.underlyings[0].spot
    assert s1 == s0 * 9 // 10
    for before, after in zip(market.instruments, moved.instruments):
        if before.underlying != 0:
            continue
        if before.kind.value in ("perpetual", "future"):
            assert after.mark == s1 - s0 < 0 and after.delta == before.delta
        elif before.kind.value == "spot":
            assert after.mark == s1
    btc = market.collateral_index("BTC")
    assert moved.collateral[btc].price == s1  # collateral named like the underlying moves with it
    assert moved.collateral[market.collateral_index("ETH")] == market.collateral[market.collateral_index("ETH")]


def test_liquidation_price_of_long_perp_matches_closed_form(market) -> None:
    """1 BTC long perp on 20,000 USDC, stress mode: NAV(S) = 20,000 + (S - S0) and the margin is
    |r_min| * S (the worst published down shock), so the rule fails below
    S* = (S0 - 20,000) / (1 - |r_min| (1 + V beta) min_ratio); above S0 NAV grows faster than the
    margin, so there is no upper liquidation price. Computed from the published inputs only."""
    p = market.params
    slots = [(market.instrument_index("BTC-PERPETUAL"), fp.QTY_SCALE)]
    balances = [0] * len(market.collateral)
    balances[market.collateral_index("USDC")] = 20_000 * fp.QTY_SCALE
    s0 = market.underlyings[0].spot / fp.PRICE_SCALE
    r_min = min(p.scenarios.price_shocks[0]) / fp.RATIO_SCALE
    factor = -r_min * (1 + p.v_scalar * p.beta / fp.RATIO_SCALE**2) * p.min_ratio / fp.RATIO_SCALE
    expected = (s0 - 20_000) / (1 - factor)
    down, up = liquidation_prices(market, slots, balances, 0)
    assert up is None
    assert down is not None and down / fp.PRICE_SCALE == pytest.approx(expected, rel=2e-6)
    assert 55_000 < expected < 56_000


def test_market_maker_liquidation_prices_are_sensible(market, books) -> None:
    """The perp-hedged two-underlying book: solvent at spot, and every price found brackets a flip."""
    slots, balances = books["market_maker"]
    assert evaluate(market, slots, balances).solvent
    found = {}
    for u in (0, 1):
        down, up = liquidation_prices(market, slots, balances, u)
        spot = market.underlyings[u].spot
        assert down is not None or up is not None
        assert down is None or 0 < down < spot
        assert up is None or spot < up < 10 * spot

        def solvent_at(price: int) -> bool:
            multiplier = fp.round_half_away(price * fp.RATIO_SCALE, spot)
            return evaluate(reprice_underlying(market, u, multiplier), slots, balances).solvent

        if down is not None:
            assert not solvent_at(down) and solvent_at(down + spot // 1000)
        if up is not None:
            assert not solvent_at(up) and solvent_at(up - spot // 1000)
        found[u] = (down, up)
    # BTC: long spot + BTC collateral, delta-hedged options: only a fall liquidates it
    assert found[0][0] is not None and found[0][1] is None


@pytest.mark.parametrize("name", ["naked_short_insolvent", "overlevered_perp"])
def test_smallest_uniform_fraction_is_minimal(market, books, name) -> None:
    slots, balances = books[name]
    fraction = smallest_uniform_fraction(market, slots, balances)
    assert fraction is not None and 0 < fraction <= fp.RATIO_SCALE
    nav = evaluate(market, slots, balances).nav_raw

    def meets(fraction: int) -> bool:
        after = evaluate(market, _scaled(slots, fp.RATIO_SCALE - fraction), balances)
        return nav * fp.RATIO_SCALE >= after.req_raw

    assert meets(fraction)
    assert not meets(fraction - 1)
    result = partial_liquidation(market, slots, balances)
    assert result is not None and result.uniform_fraction == fraction
    assert nav * fp.RATIO_SCALE >= evaluate(market, result.slots_after, balances).req_raw
    uniform = sum(abs(q) - abs(a) for (_, q), (_, a) in zip(slots, _scaled(slots, fp.RATIO_SCALE - fraction)))
    spot = market.underlyings[0].spot  # both books hold BTC only
    assert result.closed_notional_musd <= fp.ceil_div(uniform * spot, fp.QTY_SCALE)


def _hedged_book(market):
    """Short 10 near ATM BTC calls delta-hedged with the perp, short 20 ETH puts and 2 ETH perps."""
    call = market.instrument_index(_option(market, "BTC", InstrumentKind.CALL, 0, 1.0))
    put = market.instrument_index(_option(market, "ETH", InstrumentKind.PUT, 1, 0.95))
    hedge = 10 * market.instruments[call].delta // 100  # QTY_SCALE units
    return [(call, -10 * fp.QTY_SCALE), (market.instrument_index("BTC-PERPETUAL"), hedge),
            (put, -20 * fp.QTY_SCALE), (market.instrument_index("ETH-PERPETUAL"), -2 * fp.QTY_SCALE)]


@pytest.mark.parametrize("mode", ["stress", "es", "var"])
@pytest.mark.parametrize("share", [0.8, 0.5])
def test_greedy_partial_liquidation_keeps_hedges_and_beats_uniform(mode, share) -> None:
    """NAV at ``share`` of the requirement: the greedy cut restores the rule, closes less notional
    than the smallest uniform cut, and never cuts the BTC delta hedge faster than the calls."""
    m = demo_market(risk_mode=mode)
    slots = _hedged_book(m)
    balances = [0] * len(m.collateral)
    base = evaluate(m, slots, balances)
    balances[m.collateral_index("USDC")] = int(share * base.requirement_musd) - base.nav_musd
    assert not evaluate(m, slots, balances).solvent
    result = partial_liquidation(m, slots, balances)
    assert result is not None and result.method == "greedy"
    nav = evaluate(m, slots, balances).nav_raw  # closing at mark keeps NAV
    assert nav * fp.RATIO_SCALE >= evaluate(m, result.slots_after, balances).req_raw
    uniform_after = _scaled(slots, fp.RATIO_SCALE - result.uniform_fraction)
    uniform_notional = sum((abs(q) - abs(a)) * m.underlyings[m.instruments[i].underlying].spot
                           for (i, q), (_, a) in zip(slots, uniform_after))
    assert result.closed_notional_musd * fp.QTY_SCALE < uniform_notional
    closed = dict(result.closed)
    for (i, q), (_, a) in zip(slots, result.slots_after):
        assert q - a == closed.get(i, 0) and abs(a) <= abs(q) and a * q >= 0  # only reduces, never flips
    (_, call_q), (_, perp_q) = slots[0], slots[1]
    (_, call_a), (_, perp_a) = result.slots_after[0], result.slots_after[1]
    assert perp_a / perp_q >= call_a / call_q - 1e-6  # share of the hedge kept >= share of the calls kept


def test_partial_liquidation_of_solvent_book_is_empty(market, books) -> None:
    slots, balances = books["short_strangle"]
    result = partial_liquidation(market, slots, balances)
    assert result.uniform_fraction == 0 and result.closed == () and result.closed_notional_musd == 0


def test_liquidation_prices_bracket_the_flip(market, books) -> None:
    slots, balances = books["short_strangle"]
    u = market.instruments[slots[0][0]].underlying
    down, up = liquidation_prices(market, slots, balances, u)
    spot = market.underlyings[u].spot
    assert down is not None and up is not None and down < spot < up

    def solvent_at(price: int) -> bool:
        multiplier = fp.round_half_away(price * fp.RATIO_SCALE, spot)
        return evaluate(reprice_underlying(market, u, multiplier), slots, balances).solvent

    assert not solvent_at(down) and solvent_at(down + spot // 1000)
    assert not solvent_at(up) and solvent_at(up - spot // 1000)


def test_insolvent_book_liquidates_at_spot(market, books) -> None:
    slots, balances = books["naked_short_insolvent"]
    u = market.instruments[slots[0][0]].underlying
    spot = market.underlyings[u].spot
    assert liquidation_prices(market, slots, balances, u) == (spot, spot)


def test_rule_comparison_delta_neutral_book(market, books) -> None:
    """A delta-neutral option book: the delta rule sees almost no risk, AVSL does."""
    slots, balances = books["delta_neutral"]
    table = compare_rules(market, slots, balances)
    static, delta, avsl = (float(table[k]["margin"]) for k in ("static", "delta_weighted", "avsl"))
    assert delta < avsl and delta < static
    # the three rules, and AVSL under every risk mode side by side (the market's own is "avsl")
    assert set(table) == {"static", "delta_weighted", "avsl", *(f"avsl_{mode.value}" for mode in RiskMode)}
    assert table["avsl"] == table[f"avsl_{market.params.risk_mode.value}"]


def test_report_fields(market) -> None:
    account = demo_portfolios(market)["short_strangle"]
    data = report(account, market)
    for key in ("nav", "mm_base", "mm_avsl", "requirement", "margin_ratio", "solvent", "liquidation_prices",
                "partial_liquidation", "smallest_uniform_liquidation_fraction", "comparison"):
        assert key in data
    assert data["smallest_uniform_liquidation_fraction"] == "0"
    assert "partial_liquidation_fraction" not in data
    assert data["partial_liquidation"]["close"] == [] and data["partial_liquidation"]["closed_notional"] == "0"
    result = evaluate(market, account.position_slots(market), account.balances(market))
    assert data["nav"] == fp.format_fixed(result.nav_musd, fp.PRICE_SCALE)
    assert data["solvent"] is True
