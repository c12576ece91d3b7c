"""Risk analytics around the AVSL rule (library only, never in the circuit).

- :func:`partial_liquidation`: the smallest fraction of the book to close at
  mark so the account meets the rule again;
- :func:`liquidation_prices`: the underlying price (down and up) at which the
  account stops meeting the rule, found by bisection on a fully repriced market;
- :func:`compare_rules`: Static vs Delta-weighted vs AVSL margins for a book;
- :func:`report`: all of it for one account, as a JSON-ready dict.

Everything runs locally on the trader's machine; nothing here is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from zksolv import fixedpoint as fp
from zksolv.account import Account
from zksolv.market import MarketState
from zksolv.model import MarginResult, Slots, evaluate

#: Resolution of the bisections on fractions and price multipliers.
FRACTION_STEPS = fp.RATIO_SCALE


@dataclass(frozen=True)
class PartialLiquidation:
    """Close ``fraction`` (RATIO_SCALE) of every position at mark to restore the rule."""

    fraction: int
    slots_after: tuple[tuple[int, int], ...]
    requirement_after_musd: int


def _scaled(slots: Slots, keep: int) -> tuple[tuple[int, int], ...]:
    """Positions scaled by ``keep / 1e6``, rounded toward zero (never grows a position)."""
    def toward_zero(q: int) -> int:
        magnitude = abs(q) * keep // fp.RATIO_SCALE
        return magnitude if q >= 0 else -magnitude

    return tuple((i, toward_zero(q)) for i, q in slots)


def _meets(nav_raw: int, result: MarginResult, target_ratio: int) -> bool:
    return nav_raw * fp.RATIO_SCALE * fp.RATIO_SCALE >= result.mm * result.avsl_factor * target_ratio * fp.RATIO_SCALE


def partial_liquidation(
    market: MarketState, slots: Slots, balances: Sequence[int], target_ratio: int | None = None
) -> PartialLiquidation | None:
    """Minimal fraction of the book to close at mark so NAV >= MM_AVSL * target.

    Closing at mark turns position value into cash, so NAV is unchanged while
    the margin shrinks (every risk mode is positively homogeneous in the book).
    ``target_ratio`` (RATIO_SCALE) defaults to ``params.min_ratio``. Returns
    fraction 0 for an account that already meets the target, and ``None`` when
    even closing everything cannot (NAV below zero).
    """
    target = market.params.min_ratio if target_ratio is None else target_ratio
    nav = evaluate(market, slots, balances).nav_raw

    def result_after(fraction: int) -> MarginResult:
        return evaluate(market, _scaled(slots, FRACTION_STEPS - fraction), balances)

    if _meets(nav, result_after(0), target):
        lo = hi = 0
    elif not _meets(nav, result_after(FRACTION_STEPS), target):
        return None
    else:
        lo, hi = 0, FRACTION_STEPS  # invariant: lo fails, hi meets
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _meets(nav, result_after(mid), target):
                hi = mid
            else:
                lo = mid
    after = result_after(hi)
    return PartialLiquidation(hi, _scaled(slots, FRACTION_STEPS - hi), after.requirement_musd)


# -------------------------------------------------------------- liquidation price
Repricer = Callable[[MarketState, int, int], MarketState]
"""``reprice(market, underlying, spot_multiplier at RATIO_SCALE) -> market``."""


def liquidation_prices(
    market: MarketState,
    slots: Slots,
    balances: Sequence[int],
    underlying: int,
    reprice: Repricer | None = None,
    max_move: int = 10 * fp.RATIO_SCALE,
) -> tuple[int | None, int | None]:
    """Spot prices (PRICE_SCALE) of ``underlying`` below and above the current
    one at which the account stops meeting the rule (``None`` if it never does
    within a factor ``max_move/1e6`` down to zero and up).

    Every step reprices the whole market with ``reprice`` (default: full
    Black–Scholes repricing with the implied vols backed out of the published
    marks, see :func:`zksolv.repricing.reprice_underlying`) and re-evaluates
    the fixed-point model, so the answer is consistent with what a proof
    would show. Bisection to a 1e-6 relative price step.
    """
    if reprice is None:
        from zksolv.repricing import reprice_underlying as reprice

    def solvent_at(multiplier: int) -> bool:
        moved = reprice(market, underlying, multiplier)
        return evaluate(moved, slots, balances).solvent

    spot = market.underlyings[underlying].spot
    if not solvent_at(fp.RATIO_SCALE):
        return spot, spot

    def search(lo: int, hi: int) -> int | None:
        # lo is solvent, hi is the far end; None if hi is solvent too
        if solvent_at(hi):
            return None
        while abs(hi - lo) > 1:
            mid = (lo + hi) // 2
            if solvent_at(mid):
                lo = mid
            else:
                hi = mid
        return fp.round_half_away(spot * hi, fp.RATIO_SCALE)

    return search(fp.RATIO_SCALE, 1), search(fp.RATIO_SCALE, max_move)


# -------------------------------------------------------------------- comparison
STATIC_RATE = 100_000  #: 10% of gross notional (RATIO_SCALE)
DELTA_RATE = 100_000  #: 10% of net delta notional per underlying


def compare_rules(market: MarketState, slots: Slots, balances: Sequence[int]) -> dict[str, dict[str, Any]]:
    """Maintenance margin of the book under three rules, in micro-USD (up).

    - ``static``: ``STATIC_RATE`` x gross notional ``sum_j |q_j| * S_u`` — blind to hedges;
    - ``delta_weighted``: ``DELTA_RATE`` x ``sum_u |Delta_u| * S_u`` — nets hedges, blind to
      gamma, vega and volatility regime;
    - ``avsl``: ``MM_AVSL`` of :func:`zksolv.model.evaluate` (scenario risk x (1 + V*beta)).
    Each entry gives the margin, NAV/margin and whether the rule would liquidate.
    """
    result = evaluate(market, slots, balances)
    gross = sum(abs(q) * market.underlyings[market.instruments[i].underlying].spot for i, q in slots)
    static = fp.ceil_div(gross * STATIC_RATE, fp.QTY_SCALE * fp.RATIO_SCALE)
    net = sum(abs(d) * und.spot for d, und in zip(result.greeks.Delta, market.underlyings))
    delta_weighted = fp.ceil_div(net * DELTA_RATE, fp.QTY_SCALE * fp.DELTA_SCALE * fp.RATIO_SCALE)
    nav = result.nav_musd
    rows = {"static": static, "delta_weighted": delta_weighted, "avsl": result.mm_avsl_musd}
    return {
        name: {
            "margin": fp.format_fixed(mm, fp.PRICE_SCALE),
            "ratio": None if mm == 0 else round(nav / mm, 6),
            "liquidate": nav * fp.RATIO_SCALE < mm * market.params.min_ratio,
        }
        for name, mm in rows.items()
    }


# ------------------------------------------------------------------------ report
def report(account: Account, market: MarketState, *, with_prices: bool = True) -> dict[str, Any]:
    """NAV, MM_base, MM_AVSL, requirement, ratio, liquidation prices, partial
    liquidation and the rule comparison for one account (USD as exact decimal
    strings, ratios as floats). Local only: it contains private figures."""
    slots = account.position_slots(market)
    balances = account.balances(market)
    result = evaluate(market, slots, balances)
    usd = lambda musd: fp.format_fixed(musd, fp.PRICE_SCALE)  # noqa: E731
    partial = partial_liquidation(market, slots, balances)
    out: dict[str, Any] = {
        "epoch": market.epoch,
        "risk_mode": result.mode.value,
        "nav": usd(result.nav_musd),
        "mm_base": usd(result.mm_base_musd),
        "mm_avsl": usd(result.mm_avsl_musd),
        "requirement": usd(result.requirement_musd),
        "margin_ratio": None if result.margin_ratio is None else round(result.margin_ratio, 6),
        "solvent": result.solvent,
        "partial_liquidation_fraction": None if partial is None else fp.format_fixed(partial.fraction, fp.RATIO_SCALE),
        "comparison": compare_rules(market, slots, balances),
    }
    if with_prices:
        prices = {}
        held = {market.instruments[i].underlying for i, _ in slots}
        for u in sorted(held):
            down, up = liquidation_prices(market, slots, balances, u)
            prices[market.underlyings[u].symbol] = {
                "spot": usd(market.underlyings[u].spot),
                "down": None if down is None else usd(down),
                "up": None if up is None else usd(up),
            }
        out["liquidation_prices"] = prices
    return out

