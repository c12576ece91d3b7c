"""Liquidation price, partial liquidation, rule comparison and the report."""

from __future__ import annotations

import pytest

from zksolv import fixedpoint as fp
from zksolv.analytics import _scaled, compare_rules, liquidation_prices, partial_liquidation, report
from zksolv.demo import demo_market, demo_portfolios
from zksolv.model import evaluate
from zksolv.repricing import reprice_underlying


@pytest.fixture(scope="module")
def market():
    return demo_market()


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
def test_partial_liquidation_is_minimal(market, books, name) -> None:
    slots, balances = books[name]
    result = partial_liquidation(market, slots, balances)
    assert result is not None and 0 < result.fraction <= fp.RATIO_SCALE
    nav = evaluate(market, slots, balances).nav_raw

    def meets(fraction: int) -> bool:
        after = evaluate(market, _scaled(slots, fp.RATIO_SCALE - fraction), balances)
        return nav * fp.RATIO_SCALE >= after.req_raw

    assert meets(result.fraction)
    assert not meets(result.fraction - 1)


def test_partial_liquidation_of_solvent_book_is_zero(market, books) -> None:
    slots, balances = books["short_strangle"]
    assert partial_liquidation(market, slots, balances).fraction == 0


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
    assert set(table) == {"static", "delta_weighted", "avsl"}


def test_report_fields(market) -> None:
    account = demo_portfolios(market)["short_strangle"]
    data = report(account, market)
    for key in ("nav", "mm_base", "mm_avsl", "requirement", "margin_ratio", "solvent", "liquidation_prices",
                "partial_liquidation_fraction", "comparison"):
        assert key in data
    result = evaluate(market, account.position_slots(market), account.balances(market))
    assert data["nav"] == fp.format_fixed(result.nav_musd, fp.PRICE_SCALE)
    assert data["solvent"] is True
