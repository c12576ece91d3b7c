"""Full-revaluation risk arrays (SPAN / portfolio-margin style): the oracle's side.

The greeks risk modes price a scenario with the delta-gamma-vega approximation
of a book's net greeks. The ``revaluation`` mode instead sums, per scenario,
the P&L of every position by **full repricing**: the oracle publishes for each
instrument ``i`` and scenario ``k`` the P&L of one unit (its *risk array*,
:attr:`zksolv.core.market.Instrument.pnl`, committed in the instrument's leaf), and
the model / circuit only add ``q * pnl`` up per underlying.

Definition (micro-USD per unit, scenario ``k`` moving underlying ``u`` by the
published integer move ``dS[u][k]`` (:meth:`~zksolv.core.market.MarketState.price_moves`)
and shifting its vols by ``dsig[u][k]``)::

    spot, perpetual, future:   pnl[k] = dS'[u][k]                                (exact)
    call, put:                 pnl[k] = floor(1e6 * BS(S + dS', K, w'_k)) - mark
                               w'_k   = max(sigma + dsig'[u][k], 0) * sqrt(tau)

where ``(dS', dsig')`` is the market's **scan range** (:meth:`~zksolv.core.market.MarketState.scan_range`):
the published moves and vol shocks scaled by the AVSL factor ``1 + V*beta``. The statement of a
revaluation market then multiplies MM_base by 1 (``MarginResult.avsl_factor``): the volatility
scaling widens the scenarios instead of multiplying a loss that full repricing has already capped.

``BS(S, K, w)`` is the Black–Scholes value at zero rate with total volatility
``w = sigma * sqrt(tau)`` (:func:`zksolv.risk.pricing.greeks_numpy` at ``tau = 1``),
``sigma`` the option's own implied vol (a parallel shift of the smile by the
underlying's vol shock, floored at 0) and ``mark`` its published mark.

Decisions (docs/design.md, "Full revaluation"):

* **P&L against the published mark**, not against a float value: the NAV the
  statement uses counts ``q * mark``, so ``NAV + sum q * pnl[k]`` is the
  account's value in scenario ``k``, and since the repriced value is never
  negative, ``pnl[k] >= -mark``: a long option never loses more than its
  premium (``MarketState.validated`` checks it for every published array).
* **Never below intrinsic value**: the repriced value is at least
  ``max(0, S + dS' - K)`` (call) or ``max(0, K - S - dS')`` (put), an integer the
  float repricing is clamped to where it falls a rounding error short. Validation
  checks it too: it is the one model-free tie between an option's array and the
  *widened* moves, so a market whose option arrays dropped the AVSL widening is
  refused (``tests/test_adversary_review_reval.py``).
* **Rounded toward -infinity** (the repriced value rounded down): a unit's
  loss is never understated, so a long holder's loss rounds up. A short holder
  gains the opposite error, below 1 micro-USD per unit per scenario (as with
  the greeks modes' published moves, no single rounding of a per-unit array is
  conservative for both signs of a position).
* **Same time to expiry** (an instantaneous shock, no look-ahead): the greeks
  modes are the Taylor expansion of exactly this repricing, so a report that
  shows both modes shows the cost of the approximation and nothing else; and
  short option sellers get no theta credit over the liquidation horizon (the
  premium decay is earned only if the position survives it). CME SPAN reprices
  at a look-ahead time instead (one trading day), which charges option buyers
  the horizon's decay: a venue that wants it publishes arrays computed with
  ``tau - horizon``; the circuit does not care how the arrays were computed.
* **Linear instruments gain exactly the scan range's move** (``pnl = dS'``), so a
  linear book has the same requirement under ``stress`` and ``revaluation`` (up to the
  rounding of ``dS * (1 + V*beta)`` to micro-USD per unit).

The same function serves the oracle (with the options' exact implied vols) and
the local analytics on a market whose arrays must be recomputed, e.g. at a
moved spot for a liquidation price (:mod:`zksolv.risk.repricing`), from the total
vol implied by each published mark.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

import numpy as np

from zksolv.core import fixedpoint as fp
from zksolv.core.errors import InputError
from zksolv.core.market import InstrumentKind, MarketState, RiskMode
from zksolv.risk.pricing import KIND_CALL, KIND_PUT, greeks_numpy

__all__ = ["option_risk_arrays", "risk_arrays", "with_risk_arrays", "local_risk_arrays", "as_revaluation"]


def option_risk_arrays(
    spot: int,
    strikes: Sequence[int],
    is_call: Sequence[bool],
    total_vol: Sequence[float],
    sqrt_tau: Sequence[float],
    marks: Sequence[int],
    moves: Sequence[int],
    vol_shocks: Sequence[int],
) -> list[tuple[int, ...]]:
    """Risk arrays of options on one underlying, ``pnl[k] = floor(1e6 * BS(S + dS_k, K, w'_k)) - mark``,
    the repriced value never below the option's intrinsic value ``max(0, +-(S + dS_k - K))`` (which
    ``BS`` never is; the float repricing can be a rounding error short of it).

    Parameters
    ----------
    spot : int
        The underlying's spot, PRICE_SCALE.
    strikes, marks : sequence of int
        Per option, PRICE_SCALE.
    is_call : sequence of bool
    total_vol, sqrt_tau : sequence of float
        Per option: ``w = sigma * sqrt(tau)`` and ``sqrt(tau)`` (years), so the
        shocked total vol is ``max(w + dsig * sqrt(tau), 0)``.
    moves, vol_shocks : sequence of int
        The underlying's published moves ``dS[k]`` (PRICE_SCALE) and vol shocks
        ``dsig[k]`` (VOL_SCALE).

    Returns
    -------
    list of tuple of int
        One array of ``len(moves)`` entries per option (micro-USD).
    """
    n, n_k = len(strikes), len(moves)
    if n == 0:
        return []
    w = np.asarray(total_vol, dtype=np.float64)
    root = np.asarray(sqrt_tau, dtype=np.float64)
    shocked_spot = np.repeat([(spot + ds) / fp.PRICE_SCALE for ds in moves], n)  # scenario-major
    shocked_vol = np.concatenate([np.maximum(w + dsig / fp.VOL_SCALE * root, 0.0) for dsig in vol_shocks])
    calls = np.tile(np.asarray(is_call, dtype=bool), n_k)
    strike = np.tile(np.asarray(strikes, dtype=np.float64) / fp.PRICE_SCALE, n_k)
    # a move to (or, in an invalid grid, below) zero: the limit S' -> 0, where a call is worth 0 and a
    # put its strike (zero rate); MarketState.validated refuses revaluation grids that go below zero
    alive = shocked_spot > 0
    value = np.where(calls, 0.0, strike)
    value[alive] = greeks_numpy(shocked_spot[alive], strike[alive], np.ones(int(alive.sum())), shocked_vol[alive],
                                np.where(calls[alive], KIND_CALL, KIND_PUT)).mark
    floor = [fp.from_float(float(v), fp.PRICE_SCALE, "down") for v in value.tolist()]
    # never below the intrinsic value at the shocked spot (an integer: BS >= intrinsic exactly, the
    # float repricing can fall a rounding error short of it where no time value is left, and
    # MarketState.validated refuses an array below it)
    shocked = [max(0, spot + ds) for ds in moves]

    def intrinsic(j: int, k: int) -> int:
        return max(0, shocked[k] - strikes[j]) if is_call[j] else max(0, strikes[j] - shocked[k])

    return [tuple(max(floor[k * n + j], intrinsic(j, k)) - marks[j] for k in range(n_k)) for j in range(n)]


def risk_arrays(
    market: MarketState, vols: Sequence[float], taus: Sequence[float]
) -> tuple[tuple[int, ...], ...]:
    """The oracle's risk array of every listed instrument (listing order).

    ``vols[i]`` and ``taus[i]`` are instrument ``i``'s implied vol (fraction)
    and time to expiry (years, ACT/365) as the oracle priced it; both are
    ignored for linear instruments. The scenarios, moves and marks are
    ``market``'s own (its mode need not be ``revaluation`` yet: see
    :func:`with_risk_arrays`).
    """
    n = len(market.instruments)
    if len(vols) != n or len(taus) != n:
        raise InputError(f"vols, taus: expected {n} entries each (one per instrument)")
    tau = np.maximum(np.asarray(taus, dtype=np.float64), 0.0)
    if not np.all(np.isfinite(tau)) or not np.all(np.isfinite(np.asarray(vols, dtype=np.float64))):
        raise InputError("vols, taus: must be finite")
    sqrt_tau = np.sqrt(tau)
    total = np.asarray(vols, dtype=np.float64) * sqrt_tau
    return _arrays(market, lambda i: (float(total[i]), float(sqrt_tau[i])))


def _arrays(market: MarketState, vol_of: Callable[[int], tuple[float, float]]) -> tuple[tuple[int, ...], ...]:
    """Arrays of every instrument: linear ones from the moves, options repriced per underlying
    with ``vol_of(i) = (total vol, sqrt(tau))``."""
    moves, shocks = market.scan_range()
    out: list[tuple[int, ...]] = [moves[ins.underlying] for ins in market.instruments]
    for u, und in enumerate(market.underlyings):
        options = [i for i, ins in enumerate(market.instruments) if ins.underlying == u and ins.kind.is_option]
        vols = [vol_of(i) for i in options]
        arrays = option_risk_arrays(
            und.spot, [market.instruments[i].strike for i in options],
            [market.instruments[i].kind is InstrumentKind.CALL for i in options],
            [w for w, _ in vols], [r for _, r in vols], [market.instruments[i].mark for i in options],
            moves[u], shocks[u])
        for i, array in zip(options, arrays):
            out[i] = array
    return tuple(out)


def with_risk_arrays(market: MarketState, arrays: Sequence[Sequence[int]]) -> MarketState:
    """``market`` as a validated revaluation market publishing ``arrays`` (one per instrument)."""
    if len(arrays) != len(market.instruments):
        raise InputError(f"risk arrays: expected {len(market.instruments)} (one per instrument), got {len(arrays)}")
    instruments = tuple(replace(ins, pnl=tuple(a)) for ins, a in zip(market.instruments, arrays))
    params = replace(market.params, risk_mode=RiskMode.REVALUATION)
    return replace(market, params=params, instruments=instruments).validated()


def local_risk_arrays(market: MarketState) -> tuple[tuple[int, ...], ...]:
    """Risk arrays recomputed from ``market``'s published data alone (analytics, never published):
    each option's total vol and ``sqrt(tau)`` backed out of its mark and vega
    (:func:`zksolv.risk.repricing.option_total_vols`). Agrees with the oracle's arrays to within the
    precision the published marks and vegas carry."""
    from zksolv.risk.repricing import option_total_vols  # lazy: repricing imports this module

    vols: dict[int, tuple[float, float]] = {}
    for u in range(len(market.underlyings)):
        options = [i for i, ins in enumerate(market.instruments) if ins.underlying == u and ins.kind.is_option]
        w, root = option_total_vols(market, options)
        vols.update(zip(options, zip(w.tolist(), root.tolist())))
    return _arrays(market, lambda i: vols[i])


def as_revaluation(market: MarketState) -> tuple[MarketState, bool]:
    """``(revaluation market, published)``: ``market`` itself if it publishes risk arrays,
    else a local copy in revaluation mode with :func:`local_risk_arrays` (for reports that
    put the modes side by side on a greeks market; ``published`` is then False)."""
    if market.params.risk_mode.is_revaluation:
        return market, True
    return with_risk_arrays(market, local_risk_arrays(market)), False
