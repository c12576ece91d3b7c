"""Risk analytics around the AVSL rule (library only, never in the circuit).

- :func:`partial_liquidation`: positions to close at mark so the account meets
  the rule again — a greedy cut (largest margin reduction per unit of notional
  first, hedges kept) or, when that closes no less, the smallest uniform
  fraction of every position (:func:`smallest_uniform_fraction`);
- :func:`liquidation_prices`: the underlying price (down and up) at which the
  account stops meeting the rule, found by bisection on a fully repriced market;
- :func:`compare_rules`: Static vs Delta-weighted vs AVSL margins for a book
  (AVSL under the market's mode and, side by side, under every risk mode);
- :func:`compare_modes`: the AVSL figures under each risk mode for the same book
  and market data, the greeks approximations beside full revaluation;
- :func:`ratio_curve`: the margin ratio of the three rules as one underlying's price moves
  (the data of ``zksolv report --plot``);
- :func:`report`: all of it for one account, as a JSON-ready dict.

Everything runs locally on the trader's machine; nothing here is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from zksolv.core import fixedpoint as fp
from zksolv.core.account import Account
from zksolv.core.errors import InputError
from zksolv.core.market import MarketState, RiskMode
from zksolv.risk.model import MarginResult, Slots, evaluate, meets_requirement, requirement_raw

#: Resolution of the bisections on fractions and price multipliers.
FRACTION_STEPS = fp.RATIO_SCALE


#: Cap on model evaluations of the greedy search (it costs about N per closed position);
#: beyond it :func:`partial_liquidation` returns the smallest uniform cut.
GREEDY_MAX_EVALUATIONS = 20_000


@dataclass(frozen=True)
class PartialLiquidation:
    """Positions to close at mark so the account meets the rule again.

    ``method`` is ``"greedy"`` or ``"uniform"`` (whichever closes less notional);
    ``closed`` lists ``(leaf index, signed quantity closed)`` (same sign as the
    position); ``closed_notional_musd`` is ``sum |closed| * S_u`` (µUSD, up);
    ``uniform_fraction`` (RATIO_SCALE) is the smallest fraction of *every*
    position that also restores the rule — the bound the greedy answer is
    never worse than.
    """

    method: str
    closed: tuple[tuple[int, int], ...]
    slots_after: tuple[tuple[int, int], ...]
    requirement_after_musd: int
    closed_notional_musd: int
    uniform_fraction: int


def _bisect(inside: int, outside: int, is_inside: Callable[[int], bool]) -> int:
    """The point of ``outside``'s side nearest the boundary, to a step of 1.

    Requires ``is_inside(inside)`` and ``not is_inside(outside)`` (either order)
    and a single boundary between them (the rule is monotone along the search).
    """
    while abs(outside - inside) > 1:
        mid = (inside + outside) // 2
        if is_inside(mid):
            inside = mid
        else:
            outside = mid
    return outside


def _keep(q: int, keep: int) -> int:
    """``q * keep / 1e6`` rounded toward zero (never grows a position)."""
    magnitude = abs(q) * keep // fp.RATIO_SCALE
    return magnitude if q >= 0 else -magnitude


def _scaled(slots: Slots, keep: int) -> tuple[tuple[int, int], ...]:
    """Positions scaled by ``keep / 1e6``, rounded toward zero (never grows a position)."""
    return tuple((i, _keep(q, keep)) for i, q in slots)


def _notional(market: MarketState, index: int, quantity: int) -> int:
    """``|q| * S_u`` at scale QTY*PRICE (the size measure of a cut, as the static rule's)."""
    return abs(quantity) * market.underlyings[market.instruments[index].underlying].spot


class _Rule:
    """The rule after closing at mark: NAV stays that of the full book (position
    value turns into cash), only the margin moves."""

    def __init__(self, market: MarketState, slots: Slots, balances: Sequence[int], target: int):
        self.market, self.balances, self.target = market, balances, target
        self.nav = evaluate(market, slots, balances).nav_raw
        self.evaluations = 0

    def margin(self, slots: Slots) -> MarginResult:
        self.evaluations += 1
        return evaluate(self.market, slots, self.balances)

    def meets(self, result: MarginResult) -> bool:
        return meets_requirement(self.nav, requirement_raw(result.mm, result.avsl_factor, self.target))


def smallest_uniform_fraction(
    market: MarketState, slots: Slots, balances: Sequence[int], target_ratio: int | None = None
) -> int | None:
    """Smallest fraction (RATIO_SCALE) such that closing that fraction of **every**
    position at mark gives NAV >= MM_AVSL * target; 0 if the account already
    meets it, ``None`` if even closing everything cannot (NAV below zero).

    Every risk mode's margin is convex in the book, so the fractions that work
    form an interval ending at 1 and bisection finds its left end exactly.
    """
    return _uniform_fraction(
        _Rule(market, slots, balances, market.params.min_ratio if target_ratio is None else target_ratio), slots
    )


def _uniform_fraction(rule: "_Rule", slots: Slots) -> int | None:
    """:func:`smallest_uniform_fraction` under an already built rule."""

    def works(fraction: int) -> bool:
        return rule.meets(rule.margin(_scaled(slots, FRACTION_STEPS - fraction)))

    if works(0):
        return 0
    if not works(FRACTION_STEPS):
        return None
    return _bisect(0, FRACTION_STEPS, lambda fraction: not works(fraction))


def _greedy_cut(rule: _Rule, slots: Slots) -> dict[int, int] | None:
    """Greedy cut: ``{slot number: signed quantity closed}``, or ``None`` if stuck.

    Moves are "close position j entirely" and "close every position on
    underlying u entirely" (the group keeps its hedge ratio, so a delta hedge
    goes together with what it hedges). Each round evaluates every move on the
    current book and applies the one with the largest margin reduction per
    unit of notional closed; a move that does not lower the margin (e.g.
    dropping a hedge alone) is never applied. The move that restores the rule
    is applied only as far as needed: the smallest fraction of it (RATIO_SCALE
    bisection; the margin is convex in the book, so the working fractions form
    an interval). Gives up (``None``) when no move lowers the margin or after
    :data:`GREEDY_MAX_EVALUATIONS` model evaluations.
    """
    market = rule.market
    start = rule.evaluations  # the cap counts this search's evaluations only
    book = [q for _, q in slots]
    moves = [[j] for j in range(len(slots))]
    by_underlying: dict[int, list[int]] = {}
    for j, (i, _) in enumerate(slots):
        by_underlying.setdefault(market.instruments[i].underlying, []).append(j)
    moves += [group for group in by_underlying.values() if len(group) > 1]

    def after(move: list[int], fraction: int) -> list[tuple[int, int]]:
        """The current book with ``fraction`` of each position in ``move`` closed."""
        cut = set(move)
        return [(i, _keep(book[j], FRACTION_STEPS - fraction) if j in cut else book[j]) for j, (i, _) in enumerate(slots)]

    while True:
        current = rule.margin([(i, book[j]) for j, (i, _) in enumerate(slots)])
        if rule.meets(current):
            break
        best: tuple[list[int], int, int, MarginResult] | None = None  # (move, benefit, cost, margin after)
        for move in moves:
            cost = sum(_notional(market, slots[j][0], book[j]) for j in move)
            if cost == 0:
                continue
            if rule.evaluations - start > GREEDY_MAX_EVALUATIONS:
                return None
            result = rule.margin(after(move, FRACTION_STEPS))
            benefit = current.mm - result.mm
            if benefit > 0 and (best is None or benefit * best[2] > best[1] * cost):
                best = (move, benefit, cost, result)
        if best is None:
            return None
        move = best[0]
        fraction = FRACTION_STEPS
        if rule.meets(best[3]):  # 0 (the current book) fails, the whole move works
            fraction = _bisect(0, FRACTION_STEPS, lambda f: not rule.meets(rule.margin(after(move, f))))
        book = [q for _, q in after(move, fraction)]
    return {j: q - book[j] for j, (_, q) in enumerate(slots) if q != book[j]}


def partial_liquidation(
    market: MarketState, slots: Slots, balances: Sequence[int], target_ratio: int | None = None
) -> PartialLiquidation | None:
    """Positions to close at mark so that NAV >= MM_AVSL * target again.

    Closing at mark turns position value into cash, so NAV is unchanged while
    the margin moves. Two candidates, measured by the notional closed
    (``sum |q closed| * S_u``):

    - **greedy** (:func:`_greedy_cut`): close whole positions in order of
      margin reduction per unit of notional, re-ranked after every closure,
      never cutting a position whose closure does not reduce the margin
      (hedges), and the last one only partly;
    - **uniform**: the smallest uniform fraction of every position
      (:func:`smallest_uniform_fraction`), hedges included — minimal only
      among uniform cuts, but always available, so it bounds the answer.

    The one closing less notional is returned (uniform on a tie, or when the
    greedy search gets stuck). ``target_ratio`` (RATIO_SCALE) defaults to
    ``params.min_ratio``. An account that already meets the target gets an
    empty cut; ``None`` when even closing everything cannot (NAV below zero).
    """
    target = market.params.min_ratio if target_ratio is None else target_ratio
    rule = _Rule(market, slots, balances, target)
    fraction = _uniform_fraction(rule, slots)
    if fraction is None:
        return None
    uniform_after = _scaled(slots, FRACTION_STEPS - fraction)
    candidates = [("uniform", {j: q - after for j, ((_, q), (_, after)) in enumerate(zip(slots, uniform_after))})]
    if fraction:
        greedy = _greedy_cut(rule, slots)
        if greedy is not None:
            candidates.append(("greedy", greedy))

    def notional(cut: dict[int, int]) -> int:
        return sum(_notional(market, slots[j][0], c) for j, c in cut.items())

    method, cut = min(candidates, key=lambda mc: notional(mc[1]))  # min keeps the first (uniform) on a tie
    after = tuple((i, q - cut.get(j, 0)) for j, (i, q) in enumerate(slots))
    result = rule.margin(after)
    assert rule.meets(result), "partial liquidation must restore the rule"
    return PartialLiquidation(
        method=method,
        closed=tuple((slots[j][0], c) for j, c in sorted(cut.items()) if c),
        slots_after=after,
        requirement_after_musd=fp.ceil_div(requirement_raw(result.mm, result.avsl_factor, target), fp.AVSL_ONE * fp.RATIO_SCALE),
        closed_notional_musd=fp.ceil_div(notional(cut), fp.QTY_SCALE),
        uniform_fraction=fraction,
    )


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
    marks, see :func:`zksolv.risk.repricing.reprice_underlying`) and re-evaluates
    the fixed-point model, so the answer is consistent with what a proof
    would show. Bisection to a 1e-6 relative price step.
    """
    if reprice is None:
        from zksolv.risk.repricing import cached_repricer

        reprice = cached_repricer()

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
        return fp.round_half_away(spot * _bisect(lo, hi, solvent_at), fp.RATIO_SCALE)

    return search(fp.RATIO_SCALE, 1), search(fp.RATIO_SCALE, max_move)


# -------------------------------------------------------------------- comparison
STATIC_RATE = 100_000  #: 10% of gross notional (RATIO_SCALE)
DELTA_RATE = 100_000  #: 10% of net delta notional per underlying


#: How each mode's figures were obtained, by :func:`mode_results`.
SOURCE_PUBLISHED = "published market data"
SOURCE_LOCAL_ARRAYS = "risk arrays repriced locally from the published marks and vegas (the market publishes none)"


def mode_results(market: MarketState, slots: Slots, balances: Sequence[int]
                 ) -> dict[RiskMode, tuple[MarginResult | None, str]]:
    """The book under every risk mode, on the same market data: ``mode -> (result, source)``.

    The greeks modes (stress, ES, VaR) use the published greeks, grid and VaR parameters of any
    market (ES over the published scenarios and weights). The revaluation mode uses the
    published risk arrays of a revaluation market; on a greeks market it reprices the arrays
    locally (:func:`zksolv.risk.revaluation.as_revaluation`: the options' total vols backed out of
    their marks), so a user sees what the approximation costs on their book either way — unless
    the market's grid admits no risk arrays (a move below zero): then ``(None, reason)``.
    """
    from zksolv.risk.revaluation import as_revaluation

    out: dict[RiskMode, tuple[MarginResult | None, str]] = {}
    for mode in RiskMode:
        if not mode.is_revaluation:
            out[mode] = (evaluate(market, slots, balances, mode), SOURCE_PUBLISHED)
            continue
        try:
            revalued, published = as_revaluation(market)
        except InputError as exc:
            out[mode] = (None, f"no risk arrays for this market: {exc}")
            continue
        out[mode] = (evaluate(revalued, slots, balances), SOURCE_PUBLISHED if published else SOURCE_LOCAL_ARRAYS)
    return out


def _figures(result: MarginResult) -> dict[str, Any]:
    """One mode's AVSL figures for a report (USD as exact decimal strings)."""
    usd = lambda musd: fp.format_fixed(musd, fp.PRICE_SCALE)  # noqa: E731
    return {
        "mm_base": usd(result.mm_base_musd),
        "mm_avsl": usd(result.mm_avsl_musd),
        "requirement": usd(result.requirement_musd),
        "margin_ratio": None if result.margin_ratio is None else round(result.margin_ratio, 6),
        "solvent": result.solvent,
    }


def compare_modes(market: MarketState, slots: Slots, balances: Sequence[int],
                  modes: dict[RiskMode, tuple[MarginResult | None, str]] | None = None) -> dict[str, dict[str, Any]]:
    """``mode -> {mm_base, mm_avsl, requirement, margin_ratio, solvent, source, proven}`` under every
    risk mode for the same book (``modes``: :func:`mode_results`, computed here when not given);
    ``proven`` marks the market's own mode, the one a proof shows; a mode the market's data cannot
    give is ``{"unavailable": reason, "proven": False}``."""
    modes = mode_results(market, slots, balances) if modes is None else modes
    return {mode.value: ({**_figures(result), "source": source} if result is not None else {"unavailable": source})
            | {"proven": mode is market.params.risk_mode}
            for mode, (result, source) in modes.items()}


def _simple_rule_margins(market: MarketState, slots: Slots, result: MarginResult) -> tuple[int, int]:
    """``(static, delta_weighted)`` margins in micro-USD (up) of a book whose AVSL result is ``result``
    (see :func:`compare_rules`)."""
    gross = sum(abs(q) * market.underlyings[market.instruments[i].underlying].spot for i, q in slots)
    static = fp.ceil_div(gross * STATIC_RATE, fp.QTY_SCALE * fp.RATIO_SCALE)
    net = sum(abs(d) * und.spot for d, und in zip(result.greeks.Delta, market.underlyings))
    delta_weighted = fp.ceil_div(net * DELTA_RATE, fp.QTY_SCALE * fp.DELTA_SCALE * fp.RATIO_SCALE)
    return static, delta_weighted


def compare_rules(market: MarketState, slots: Slots, balances: Sequence[int],
                  modes: dict[RiskMode, tuple[MarginResult | None, str]] | None = None) -> dict[str, dict[str, Any]]:
    """Maintenance margin of the book under three rules, in micro-USD (up).

    - ``static``: ``STATIC_RATE`` x gross notional ``sum_j |q_j| * S_u`` — blind to hedges;
    - ``delta_weighted``: ``DELTA_RATE`` x ``sum_u |Delta_u| * S_u`` — nets hedges, blind to
      gamma, vega and volatility regime;
    - ``avsl``: ``MM_AVSL`` of :func:`zksolv.risk.model.evaluate` (scenario risk x (1 + V*beta))
      under the market's risk mode; and ``avsl_<mode>`` for every risk mode side by side
      (``modes``: :func:`mode_results`, computed here when not given; a mode the market's data
      cannot give has no row).
    Each entry gives the margin, NAV/margin and whether the rule would liquidate.
    """
    result = evaluate(market, slots, balances)
    modes = mode_results(market, slots, balances) if modes is None else modes
    static, delta_weighted = _simple_rule_margins(market, slots, result)
    nav = result.nav_musd
    rows = {"static": static, "delta_weighted": delta_weighted, "avsl": result.mm_avsl_musd,
            **{f"avsl_{mode.value}": r.mm_avsl_musd for mode, (r, _) in modes.items() if r is not None}}
    return {
        name: {
            "margin": fp.format_fixed(mm, fp.PRICE_SCALE),
            "ratio": None if mm == 0 else round(nav / mm, 6),
            "liquidate": nav * fp.RATIO_SCALE < mm * market.params.min_ratio,
        }
        for name, mm in rows.items()
    }


# ------------------------------------------------------------------ ratio curves
#: The rules of :class:`RatioCurve`, in drawing order.
CURVE_RULES = ("static", "delta_weighted", "avsl")

#: Default number of prices a :class:`RatioCurve` samples.
CURVE_POINTS = 121


@dataclass(frozen=True)
class RatioCurve:
    """The margin ratio of one book as one underlying's price alone moves, under three rules.

    ``prices`` (PRICE_SCALE, increasing) are the sampled spots of ``underlying`` (its
    ``symbol``; ``spot`` the published one); ``ratios[rule]`` the NAV / requirement at each
    price for ``rule`` in :data:`CURVE_RULES` (requirement = margin x ``min_ratio``; ``None``
    where the margin is zero), each price a full repricing of the market as for
    :func:`liquidation_prices`. The AVSL ratio is exactly the model's: it is >= 1 if and only
    if the book meets the rule at that price, so it crosses 1 at the ``liquidation`` prices
    ``(down, up)`` (``None``: no crossing within the search of :func:`liquidation_prices`).
    """

    underlying: int
    symbol: str
    spot: int
    prices: tuple[int, ...]
    ratios: dict[str, tuple[float | None, ...]]
    liquidation: tuple[int | None, int | None]


def _ratio(nav_raw: int, requirement_raw: int) -> float | None:
    """``NAV / requirement`` from NAV at 1e18 and a requirement at 1e24 (None when it is zero)."""
    if requirement_raw == 0:
        return None
    return nav_raw * fp.RATIO_SCALE / requirement_raw


def _curve_span(spot: int, liquidation: tuple[int | None, int | None]) -> tuple[int, int]:
    """Default multipliers (RATIO_SCALE) of a curve: +-50 % of spot, widened to show both
    liquidation prices with a margin, within (0, 10x]."""
    lo, hi = fp.RATIO_SCALE // 2, 3 * fp.RATIO_SCALE // 2
    down, up = liquidation
    if down is not None and down < spot:
        lo = min(lo, down * fp.RATIO_SCALE * 4 // (5 * spot))
    if up is not None and up > spot:
        hi = max(hi, -(-up * fp.RATIO_SCALE * 6 // (5 * spot)))
    return max(lo, fp.RATIO_SCALE // 100), min(hi, 10 * fp.RATIO_SCALE)


def ratio_curve(
    market: MarketState,
    slots: Slots,
    balances: Sequence[int],
    underlying: int,
    *,
    points: int = CURVE_POINTS,
    span: tuple[int, int] | None = None,
    liquidation: tuple[int | None, int | None] | None = None,
    reprice: Repricer | None = None,
) -> RatioCurve:
    """NAV / requirement of the book under the static, delta-weighted and AVSL rules at
    ``points`` prices of ``underlying`` (the data of ``zksolv report --plot``).

    ``span``: the lowest and highest spot multipliers (RATIO_SCALE; default
    :func:`_curve_span` around the liquidation prices); ``liquidation``: the
    :func:`liquidation_prices` of the book (computed here when not given); ``reprice`` as
    for :func:`liquidation_prices` (default: full Black-Scholes repricing).
    """
    if points < 2:
        raise InputError(f"points: a curve needs at least 2 prices, got {points}")
    if reprice is None:
        from zksolv.risk.repricing import cached_repricer

        reprice = cached_repricer()
    spot = market.underlyings[underlying].spot
    if liquidation is None:
        liquidation = liquidation_prices(market, slots, balances, underlying, reprice=reprice)
    lo, hi = span if span is not None else _curve_span(spot, liquidation)
    if not 0 < lo < hi:
        raise InputError(f"span: expected 0 < low < high multipliers, got {lo}, {hi}")
    multipliers = sorted({lo + (hi - lo) * n // (points - 1) for n in range(points)})
    prices: list[int] = []
    ratios: dict[str, list[float | None]] = {rule: [] for rule in CURVE_RULES}
    min_ratio = market.params.min_ratio
    for multiplier in multipliers:
        moved = reprice(market, underlying, multiplier)
        result = evaluate(moved, slots, balances)
        static, delta_weighted = _simple_rule_margins(moved, slots, result)
        prices.append(moved.underlyings[underlying].spot)
        # the simple rules' margins are whole micro-USD: as a requirement at 1e24, margin * 1e12 * min_ratio
        scale = fp.NAV_SCALE // fp.PRICE_SCALE
        ratios["static"].append(_ratio(result.nav_raw, static * scale * min_ratio))
        ratios["delta_weighted"].append(_ratio(result.nav_raw, delta_weighted * scale * min_ratio))
        ratios["avsl"].append(_ratio(result.nav_raw, result.req_raw))  # >= 1 exactly when result.solvent
    return RatioCurve(underlying, market.underlyings[underlying].symbol, spot, tuple(prices),
                      {rule: tuple(values) for rule, values in ratios.items()}, liquidation)


def held_underlyings(market: MarketState, slots: Slots) -> list[int]:
    """The underlyings the book has positions on, in market order."""
    return sorted({market.instruments[i].underlying for i, _ in slots})


def ratio_curves(account: Account, market: MarketState, *, points: int = CURVE_POINTS) -> list[RatioCurve]:
    """:func:`ratio_curve` for every underlying the account holds positions on."""
    slots, balances = account.position_slots(market), account.balances(market)
    return [ratio_curve(market, slots, balances, u, points=points) for u in held_underlyings(market, slots)]


# ------------------------------------------------------------------------ report
def _greeks(result: MarginResult, underlying: int) -> dict[str, str]:
    """Net greeks of the book on one underlying as exact decimal strings (see :func:`report`)."""
    g = result.greeks
    return {
        "delta": fp.format_fixed(g.Delta[underlying], fp.QTY_SCALE * fp.DELTA_SCALE),
        "gamma": fp.format_fixed(g.Gamma[underlying], fp.QTY_SCALE * fp.GAMMA_SCALE),
        "vega": fp.format_fixed(g.Vega[underlying], fp.QTY_SCALE * fp.VEGA_SCALE),
    }


def report(account: Account, market: MarketState, *, with_prices: bool = True) -> dict[str, Any]:
    """NAV, MM_base, MM_AVSL, requirement, ratio, liquidation prices, partial
    liquidation and the rule comparison for one account (USD as exact decimal
    strings, ratios as floats). Local only: it contains private figures.

    ``partial_liquidation`` is the cut of :func:`partial_liquidation` (method,
    positions to close, notional closed, requirement after);
    ``smallest_uniform_liquidation_fraction`` the smallest fraction of every
    position that would also do; ``risk_modes`` the AVSL figures under every
    risk mode side by side (:func:`compare_modes`; the market proves its own
    ``risk_mode``, the others show what the greeks approximation, or full
    revaluation, would ask of the same book); ``greeks`` the book's net Delta (units of the
    underlying), Gamma (units per USD) and Vega (USD per 1.00 of volatility) per underlying
    it holds."""
    slots = account.position_slots(market)
    balances = account.balances(market)
    result = evaluate(market, slots, balances)
    usd = lambda musd: fp.format_fixed(musd, fp.PRICE_SCALE)  # noqa: E731
    partial = partial_liquidation(market, slots, balances)
    modes = mode_results(market, slots, balances)
    uniform = None if partial is None else fp.format_fixed(partial.uniform_fraction, fp.RATIO_SCALE)
    symbol = lambda i: market.instruments[i].symbol  # noqa: E731
    out: dict[str, Any] = {
        "epoch": market.epoch,
        "risk_mode": result.mode.value,
        "nav": usd(result.nav_musd),
        **_figures(result),
        "partial_liquidation": None if partial is None else {
            "method": partial.method,
            "close": [{"instrument": symbol(i), "quantity": fp.format_fixed(c, fp.QTY_SCALE)} for i, c in partial.closed],
            "closed_notional": usd(partial.closed_notional_musd),
            "requirement_after": usd(partial.requirement_after_musd),
        },
        "smallest_uniform_liquidation_fraction": uniform,
        "risk_modes": compare_modes(market, slots, balances, modes),
        "comparison": compare_rules(market, slots, balances, modes),
        "greeks": {market.underlyings[u].symbol: _greeks(result, u) for u in held_underlyings(market, slots)},
    }
    if with_prices:
        prices = {}
        for u in held_underlyings(market, slots):
            down, up = liquidation_prices(market, slots, balances, u)
            prices[market.underlyings[u].symbol] = {
                "spot": usd(market.underlyings[u].spot),
                "down": None if down is None else usd(down),
                "up": None if up is None else usd(up),
            }
        out["liquidation_prices"] = prices
    return out

