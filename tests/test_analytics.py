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
