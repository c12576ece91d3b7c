"""The oracle's one market builder: venue data in, a validated and audited MarketState out.

:func:`build_market` takes what a venue has (:class:`BuildInputs`: instruments with an implied
vol or a mark each, spot and a realised-vol source per underlying, the skew quotes, the
collateral table and the risk parameters) and computes every derived field the way the demo
always has (:mod:`zksolv.app.demo` is now one caller): the vol EMA, V, the scenario grid (or the
Monte-Carlo set), the VaR loadings, marks and greeks by :func:`zksolv.risk.pricing.greeks`, and, in a
revaluation market, every instrument's risk array. The result passes the keeper's audit
(:meth:`zksolv.core.market.MarketState.audit_derived`) before it is returned, so an oracle never
publishes a state a keeper would refuse.

Readers of the two input forms build :class:`BuildInputs`: :mod:`zksolv.oracle.inputs` (the
venue's own CSV/JSON layout) and :mod:`zksolv.oracle.deribit` (saved Deribit API responses).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from zksolv.core import fixedpoint as fp
from zksolv.core.audit import IV_SCALE, check_valuation_time, implied_total_vol
from zksolv.core.errors import InputError
from zksolv.core.market import (
    CollateralAsset,
    Instrument,
    InstrumentKind,
    MarketState,
    Params,
    RiskMode,
    ScenarioSet,
    Underlying,
)
from zksolv.core.venue import DEFAULT_POLICY, VenuePolicy

__all__ = ["UnderlyingInput", "InstrumentInput", "CollateralInput", "BuildParams", "BuildInputs", "build_market",
           "MC_GRID", "VOL_WINDOW"]

#: ``grid`` value for the Monte-Carlo set under the revaluation mode.
MC_GRID = "mc"
#: Trailing window (days) of the realised vol computed from daily closes, and the number of
#: its latest values published as the vol history (the EMA's input).
VOL_WINDOW = 30


@dataclass(frozen=True)
class UnderlyingInput:
    """One underlying. ``spot`` at PRICE_SCALE; the realised-vol source is either ``closes`` (daily
    closes, oldest first, floats: the 30-day realised vol of each trailing window, the last 30
    published) or ``vol_history`` (a venue's own realised-vol series, VOL_SCALE, published as
    given); the 25-delta skew quotes and ATM vol at VOL_SCALE."""

    symbol: str
    spot: int
    iv_atm: int
    iv_put_25d: int
    iv_call_25d: int
    closes: tuple[float, ...] = ()
    vol_history: tuple[int, ...] = ()


@dataclass(frozen=True)
class InstrumentInput:
    """One listed instrument: ``strike`` (PRICE_SCALE) and ``expiry`` (unix seconds) as the kind
    needs them; an option gives its implied vol ``iv`` (a fraction, float) or its ``mark``
    (micro-USD per unit), from which the implied vol is backed out."""

    symbol: str
    underlying: str
    kind: InstrumentKind
    strike: int = 0
    expiry: int = 0
    iv: float | None = None
    mark: int | None = None


@dataclass(frozen=True)
class CollateralInput:
    """A collateral asset: ``price`` at PRICE_SCALE (None: the spot of the underlying of the same
    symbol) and ``haircut`` at RATIO_SCALE."""

    symbol: str
    price: int | None
    haircut: int


@dataclass(frozen=True)
class BuildParams:
    """The venue's risk parameters and policy (ratios at RATIO_SCALE, floats where the model
    takes floats). ``valuation_time`` is the pricing time (unix seconds)."""

    epoch: int
    valuation_time: int
    risk_mode: RiskMode = RiskMode.STRESS
    grid: str = "span"
    alpha: int = 600_000
    beta: int = 500_000
    es_level: int = 975_000
    min_ratio: int = fp.RATIO_SCALE
    horizon_seconds: int = 86_400
    var_z: int = 2_326_000
    vol_shift: float = 0.25
    correlation: tuple[tuple[float, ...], ...] | None = None
    #: scenarios of a Monte-Carlo set (ES, or the revaluation ``mc`` grid), seeded by ``epoch``
    mc_scenarios: int = 128
    venue: VenuePolicy = DEFAULT_POLICY


@dataclass(frozen=True)
class BuildInputs:
    """Everything :func:`build_market` needs."""

    params: BuildParams
    underlyings: tuple[UnderlyingInput, ...]
    instruments: tuple[InstrumentInput, ...]
    collateral: tuple[CollateralInput, ...]
    #: what a reader left out (e.g. ``{"expired": 3, "inactive": 1}``), reported by the CLI
    skipped: dict[str, int] = field(default_factory=dict)


def _vol_history(und: UnderlyingInput) -> tuple[int, ...]:
    from zksolv.core import volatility
    if und.closes:
        if len(und.closes) < 2 * VOL_WINDOW + 1:
            raise InputError(f"underlying {und.symbol!r}.closes: {len(und.closes)} closes is too short for the EMA "
                             f"(needs at least {2 * VOL_WINDOW + 1}: {VOL_WINDOW} trailing {VOL_WINDOW}-day windows)")
        history = volatility.rolling_realised_vol(list(und.closes), VOL_WINDOW)[-VOL_WINDOW:]
        return tuple(fp.from_float(float(v), fp.VOL_SCALE) for v in history)
    if len(und.vol_history) < 2:
        raise InputError(f"underlying {und.symbol!r}.vol_history: {len(und.vol_history)} value(s) is too short for "
                         "the EMA (needs at least 2)")
    return tuple(und.vol_history)


def _option_vol(ins: InstrumentInput, spot: int, tau: float) -> float:
    """The option's implied vol: given, or backed out of its mark."""
    name = f"instrument {ins.symbol!r}"
    if ins.iv is not None:
        if not (math.isfinite(ins.iv) and 0.0 < ins.iv <= 20.0):
            raise InputError(f"{name}.iv: must be a vol in (0, 20] (a fraction, 0.55 = 55 vol points)")
        return ins.iv
    if ins.mark is None:
        raise InputError(f"{name}: an option needs its implied vol (iv) or its mark")
    if ins.mark <= 0:
        raise InputError(f"{name}.mark: must be positive")
    s, k = spot / fp.PRICE_SCALE, ins.strike / fp.PRICE_SCALE
    call = ins.kind is InstrumentKind.CALL
    intrinsic = max(0, spot - ins.strike) if call else max(0, ins.strike - spot)
    if ins.mark < intrinsic:
        raise InputError(f"{name}.mark: {fp.format_fixed(ins.mark, fp.PRICE_SCALE)} is below its intrinsic value "
                         f"{fp.format_fixed(intrinsic, fp.PRICE_SCALE)} at spot {fp.format_fixed(spot, fp.PRICE_SCALE)}")
    w = implied_total_vol(s, k, ins.mark / fp.PRICE_SCALE, call, name=f"{name}.mark")
    vol = w / math.sqrt(tau)
    if not 0.0 < vol <= 20.0:
        raise InputError(f"{name}.mark: the implied vol does not solve to a vol in (0, 20] (got {vol!r})")
    return vol


def _published_policy(p: BuildParams, n_u: int) -> tuple[int, tuple[tuple[int, ...], ...]]:
    """``(vol_shift, correlation)`` at RATIO_SCALE (nearest 1e-6) as the market publishes them; the
    identity correlation when none is given."""
    if not (isinstance(p.vol_shift, (int, float)) and math.isfinite(p.vol_shift) and 0.0 < p.vol_shift <= 10.0):
        raise InputError("params.vol_shift: must be a fraction of the risk vol in (0, 10] (0.25 = 25%)")
    vol_shift = fp.from_float(p.vol_shift, fp.RATIO_SCALE)
    if vol_shift <= 0:
        raise InputError("params.vol_shift: rounds to 0 at 1e-6")
    if p.correlation is None:
        return vol_shift, tuple(tuple(fp.RATIO_SCALE if i == j else 0 for j in range(n_u)) for i in range(n_u))
    rows = p.correlation
    if len(rows) != n_u or any(len(row) != n_u for row in rows):
        raise InputError(f"params.correlation: expected a {n_u} x {n_u} matrix (one row and column per underlying)")
    out = []
    for i, row in enumerate(rows):
        q = []
        for j, x in enumerate(row):
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or abs(x) > 1.0:
                raise InputError(f"params.correlation[{i}][{j}]: must be a number in [-1, 1]")
            q.append(fp.from_float(x, fp.RATIO_SCALE))
        out.append(tuple(q))
    return vol_shift, tuple(out)


def build_market(inputs: BuildInputs, *, backend: str = "numpy") -> MarketState:
    """Compute every derived field from ``inputs`` and return the validated, audited state.

    Raises :class:`InputError` naming the instrument / underlying and the field for every bad
    input (unknown underlying, non-positive price, expiry not after the valuation time, a mark
    below intrinsic value or one no implied vol solves, a history too short for the EMA).
    """
    from zksolv.core import scenarios, volatility
    from zksolv.risk import pricing, revaluation
    p = inputs.params
    fp.check_bits("params.valuation_time", p.valuation_time, fp.EXPIRY_BITS, signed=False)
    if p.valuation_time <= 0:
        raise InputError("params.valuation_time: must be a positive unix time")
    fp.check_bits("params.epoch", p.epoch, fp.EPOCH_BITS, signed=False)
    if any(ins.kind.is_option for ins in inputs.instruments):
        check_valuation_time(p.epoch, p.valuation_time, "params.valuation_time")
    mode = p.risk_mode
    if p.grid not in scenarios.GRIDS and not (p.grid == MC_GRID and mode.is_revaluation):
        raise InputError(f"params.grid: must be one of {list(scenarios.GRIDS)} (and {MC_GRID!r} with the "
                         "revaluation mode)")
    underlyings: list[Underlying] = []
    for und in inputs.underlyings:
        if und.spot <= 0:
            raise InputError(f"underlying {und.symbol!r}.spot: must be positive")
        history = _vol_history(und)
        underlyings.append(Underlying(symbol=und.symbol, spot=und.spot, vol_history=history,
                                      vol_ema=volatility.ema_fixed(history), iv_atm=und.iv_atm,
                                      iv_put_25d=und.iv_put_25d, iv_call_25d=und.iv_call_25d))
    index = {u.symbol: i for i, u in enumerate(underlyings)}
    if len(index) != len(underlyings):
        raise InputError("underlyings: duplicate symbol")

    rows: list[tuple[InstrumentInput, int, float, float]] = []  # (input, underlying index, tau, vol)
    seen: set[str] = set()
    for ins in inputs.instruments:
        name = f"instrument {ins.symbol!r}"
        if ins.symbol in seen:
            raise InputError(f"{name}.symbol: duplicate")
        seen.add(ins.symbol)
        if ins.underlying not in index:
            raise InputError(f"{name}.underlying: unknown underlying {ins.underlying!r}")
        u = index[ins.underlying]
        if ins.kind.is_option and ins.strike <= 0:
            raise InputError(f"{name}.strike: must be positive")
        if ins.kind.is_option or ins.kind is InstrumentKind.FUTURE:
            if ins.expiry <= p.valuation_time:
                raise InputError(f"{name}.expiry: {ins.expiry} is not after the valuation time {p.valuation_time}")
        tau = pricing.year_fraction(ins.expiry, p.valuation_time) if ins.expiry else 0.0
        vol = _option_vol(ins, underlyings[u].spot, tau) if ins.kind.is_option else 0.0
        rows.append((ins, u, tau, vol))
    if not rows:
        raise InputError("instruments: none listed")

    g = pricing.greeks([underlyings[u].spot / fp.PRICE_SCALE for _, u, _, _ in rows],
                       [ins.strike / fp.PRICE_SCALE for ins, _, _, _ in rows], [t for _, _, t, _ in rows],
                       [v for _, _, _, v in rows], [ins.kind for ins, _, _, _ in rows], backend=backend)
    q = pricing.quantise_greeks(g)
    instruments = tuple(
        Instrument(symbol=ins.symbol, underlying=u, kind=ins.kind, strike=ins.strike, expiry=ins.expiry,
                   mark=ins.mark if (ins.kind.is_option and ins.iv is None and ins.mark is not None) else q.mark[n],
                   delta=q.delta[n], gamma=q.gamma[n], vega=q.vega[n],
                   iv=fp.from_float(vol, IV_SCALE) if ins.kind.is_option else 0)
        for n, (ins, u, _t, vol) in enumerate(rows)
    )
    collateral: list[CollateralAsset] = []
    for a in inputs.collateral:
        if a.price is None:
            if a.symbol not in index:
                raise InputError(f"collateral {a.symbol!r}.price: no price given and no underlying of that symbol")
            price = underlyings[index[a.symbol]].spot
        elif a.price <= 0:
            raise InputError(f"collateral {a.symbol!r}.price: must be positive")
        else:
            price = a.price
        collateral.append(CollateralAsset(symbol=a.symbol, price=price, haircut=a.haircut))

    vols = scenarios.risk_vols(underlyings)
    # the vol shift and the correlation are published (audit inputs) at RATIO_SCALE, and every
    # figure derives from the published values, so a keeper re-derives them bit for bit
    vol_shift_q, correlation_q = _published_policy(p, len(underlyings))
    vol_shift = vol_shift_q / fp.RATIO_SCALE
    correlation = tuple(tuple(x / fp.RATIO_SCALE for x in row) for row in correlation_q)
    if mode is RiskMode.ES or p.grid == MC_GRID:
        # seeded by the epoch (committed), never by a choice of the oracle's: the keeper's audit refuses any
        # other seed (a free seed lets an oracle grind for the mildest set)
        sc: ScenarioSet = scenarios.monte_carlo_scenarios(vols, correlation, p.horizon_seconds, n=p.mc_scenarios,
                                                          seed=p.epoch)
    else:
        kw: dict[str, Any] = {"vega_stress": vol_shift} if p.grid == "horizon" else {"vol_shift": vol_shift}
        sc = scenarios.stress_scenarios(p.grid, vols, p.horizon_seconds, **kw)
    var_z = p.var_z / fp.RATIO_SCALE
    loadings, gamma_addon, vega_stress = scenarios.var_parameters(
        underlyings, correlation, var_z, p.horizon_seconds, [vol_shift * s for s in vols], vols=vols)
    params = Params(alpha=p.alpha, beta=p.beta, v_scalar=volatility.v_scalar_market(p.alpha, underlyings),
                    risk_mode=mode, es_level=p.es_level, min_ratio=p.min_ratio, horizon_seconds=p.horizon_seconds,
                    var_z=p.var_z, scenarios=sc, var_loadings=loadings, gamma_addon=gamma_addon,
                    vega_stress=vega_stress, vol_shift=vol_shift_q, correlation=correlation_q)
    state = MarketState(epoch=p.epoch, params=params, underlyings=tuple(underlyings), instruments=instruments,
                        collateral=tuple(collateral), venue=p.venue, valuation_time=p.valuation_time)
    if mode.is_revaluation:
        arrays = revaluation.risk_arrays(state, [v for _, _, _, v in rows], [t for _, _, t, _ in rows])
        return revaluation.with_risk_arrays(state, arrays).audit_derived()
    return state.validated(audit=True)


