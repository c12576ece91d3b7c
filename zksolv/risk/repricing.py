"""Reprice a published market at a moved underlying price (for liquidation prices).

A :class:`~zksolv.core.market.MarketState` publishes marks and greeks but no
pricing timestamp. With zero rates a Black–Scholes price depends on the
volatility and the time only through the *total* volatility ``w = sigma *
sqrt(tau)``, so :func:`implied_total_vol` backs ``w`` out of each published
option mark, and the option is repriced at the new spot with the same ``w``
(sticky-strike). Vega, the one greek that needs ``tau`` itself, is rescaled by
``sqrt(tau)`` recovered from the published vega.

On a move ``S0 -> S'`` of the underlying:

* spot instruments reprice at ``S'``;
* perpetuals and futures were settled at ``S0`` this epoch (published mark
  0), so one unit is now worth its *unsettled* P&L: mark ``S' - S0`` (delta
  1, carry ignored as in :mod:`zksolv.risk.pricing`). The mark may be negative:
  the repriced state is a hypothetical for analytics, never published or
  validated;
* options reprice by Black–Scholes as above;
* collateral assets whose symbol equals the underlying's (BTC collateral when
  BTC moves) reprice at ``P * S'/S0``: the market has no other link between a
  collateral asset and an underlying, so the symbol is the link
  (``docs/design.md``);
* VaR loadings scale with ``S`` (magnitude rounded up) and the gamma add-on
  with ``S^2`` (rounded up); scenario price moves follow from the new spot;
* in a revaluation market every risk array on the underlying is recomputed at
  the new spot (:func:`zksolv.risk.revaluation.option_risk_arrays` with the same
  total vol and ``sqrt(tau)``, against the new marks; linear units gain the
  new moves).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np

from zksolv.core import fixedpoint as fp
from zksolv.core.market import InstrumentKind, MarketState
from zksolv.risk.pricing import KIND_CALL, KIND_PUT, greeks_numpy, quantise_greeks
from zksolv.risk.revaluation import option_risk_arrays

_W_LO, _W_HI, _ITERATIONS = 1e-9, 10.0, 80


def implied_total_vol(spot: float, strike: np.ndarray, is_call: np.ndarray, mark: np.ndarray) -> np.ndarray:
    """Total vol ``w`` per option with BS(spot, strike, tau=1, vol=w) = mark, by bisection.

    Marks at or below intrinsic value give ``w ~ 0``; marks above the no-arbitrage
    bound give the top of the bracket.
    """
    kind = np.where(is_call, KIND_CALL, KIND_PUT)
    lo = np.full(strike.shape, _W_LO)
    hi = np.full(strike.shape, _W_HI)
    spots = np.full(strike.shape, spot)
    ones = np.ones(strike.shape)
    for _ in range(_ITERATIONS):
        mid = 0.5 * (lo + hi)
        too_low = greeks_numpy(spots, strike, ones, mid, kind).mark < mark
        lo = np.where(too_low, mid, lo)
        hi = np.where(too_low, hi, mid)
    return 0.5 * (lo + hi)


def option_total_vols(market: MarketState, options: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """``(w, sqrt_tau)`` of the listed options ``options`` (all on one underlying), backed out of the
    published data alone: the total vol ``w`` from each mark (:func:`implied_total_vol`) and
    ``sqrt(tau)`` from vega ``= S phi(d1) sqrt(tau)`` (0 where the vega is too small to tell)."""
    if not options:
        return np.zeros(0), np.zeros(0)
    instruments = market.instruments
    spot = market.underlyings[instruments[options[0]].underlying].spot / fp.PRICE_SCALE
    strike = np.array([instruments[i].strike / fp.PRICE_SCALE for i in options])
    is_call = np.array([instruments[i].kind is InstrumentKind.CALL for i in options])
    mark = np.array([instruments[i].mark / fp.PRICE_SCALE for i in options])
    vega = np.array([instruments[i].vega / fp.VEGA_SCALE for i in options])
    w = implied_total_vol(spot, strike, is_call, mark)
    unit_vega = greeks_numpy(np.full(len(options), spot), strike, np.ones(len(options)), w,
                             np.where(is_call, KIND_CALL, KIND_PUT)).vega
    return w, np.divide(vega, unit_vega, out=np.zeros_like(vega), where=unit_vega > 1e-12)


def _options_on(market: MarketState, underlying: int) -> list[int]:
    """Indices of the listed options on ``underlying``."""
    return [i for i, ins in enumerate(market.instruments) if ins.underlying == underlying and ins.kind.is_option]


def reprice_underlying(market: MarketState, underlying: int, multiplier: int, *,
                       total_vols: tuple[np.ndarray, np.ndarray] | None = None) -> MarketState:
    """The market with underlying ``underlying``'s spot times ``multiplier / 1e6``.

    ``total_vols``: :func:`option_total_vols` of the options on ``underlying`` in ``market``,
    when the caller already has them (:func:`cached_repricer`); backed out here otherwise.
    """
    und = market.underlyings[underlying]
    new_spot_raw = max(1, fp.round_half_away(und.spot * multiplier, fp.RATIO_SCALE))
    new_spot = new_spot_raw / fp.PRICE_SCALE
    instruments = list(market.instruments)
    options = _options_on(market, underlying)
    w, sqrt_tau = option_total_vols(market, options) if total_vols is None else total_vols
    if options:
        strike = np.array([instruments[i].strike / fp.PRICE_SCALE for i in options])
        kind = np.array([instruments[i].kind.code for i in options])
        g = greeks_numpy(np.full(len(options), new_spot), strike, np.ones(len(options)), w, kind)
        q = quantise_greeks(type(g)(g.mark, g.delta, g.gamma, g.vega * sqrt_tau))
        for n, i in enumerate(options):
            instruments[i] = replace(instruments[i], mark=q.mark[n], delta=q.delta[n], gamma=q.gamma[n], vega=q.vega[n])
    for i, ins in enumerate(instruments):
        if ins.underlying != underlying:
            continue
        if ins.kind is InstrumentKind.SPOT:
            instruments[i] = replace(ins, mark=new_spot_raw)
        elif ins.kind in (InstrumentKind.PERPETUAL, InstrumentKind.FUTURE):
            # settled at S0 this epoch: a unit is now worth its unsettled P&L S' - S0
            instruments[i] = replace(ins, mark=ins.mark + (new_spot_raw - und.spot))
    collateral = tuple(
        replace(a, price=fp.round_half_away(a.price * multiplier, fp.RATIO_SCALE)) if a.symbol == und.symbol else a
        for a in market.collateral
    )
    p = market.params
    loadings = tuple(
        tuple(fp.round_away(x * multiplier, fp.RATIO_SCALE) for x in row) if u == underlying else row
        for u, row in enumerate(p.var_loadings)
    )
    addon = tuple(
        fp.ceil_div(g_u * multiplier * multiplier, fp.RATIO_SCALE**2) if u == underlying else g_u
        for u, g_u in enumerate(p.gamma_addon)
    )
    underlyings = tuple(replace(x, spot=new_spot_raw) if u == underlying else x for u, x in enumerate(market.underlyings))
    moved = replace(
        market,
        underlyings=underlyings,
        instruments=tuple(instruments),
        collateral=collateral,
        params=replace(p, var_loadings=loadings, gamma_addon=addon),
    )
    if not p.risk_mode.is_revaluation:
        return moved
    scan_moves, scan_shocks = moved.scan_range()
    moves = scan_moves[underlying]
    arrays = option_risk_arrays(new_spot_raw, [instruments[i].strike for i in options],
                                [instruments[i].kind is InstrumentKind.CALL for i in options], w.tolist(),
                                sqrt_tau.tolist(), [instruments[i].mark for i in options], moves,
                                scan_shocks[underlying])
    pnl = dict(zip(options, arrays))
    return replace(moved, instruments=tuple(
        replace(ins, pnl=pnl.get(i, moves)) if ins.underlying == underlying else ins for i, ins in enumerate(instruments)))


def cached_repricer() -> Callable[[MarketState, int, int], MarketState]:
    """:func:`reprice_underlying` that backs the options' total vols out of each published market
    once per underlying (the bisection of :func:`implied_total_vol` is most of a repricing's
    cost), for searches and curves that reprice the same market many times. Same results."""
    vols: dict[tuple[int, int], tuple[MarketState, tuple[np.ndarray, np.ndarray]]] = {}

    def reprice(market: MarketState, underlying: int, multiplier: int) -> MarketState:
        known = vols.get((id(market), underlying))
        if known is None or known[0] is not market:
            known = vols[(id(market), underlying)] = (market, option_total_vols(market, _options_on(market, underlying)))
        return reprice_underlying(market, underlying, multiplier, total_vols=known[1])

    return reprice
