"""Hypothesis strategies for random (valid) market states and accounts.

Shared by the model, circuit and adversarial tests. Values span the full
documented widths, not just realistic magnitudes, so bit-width bugs show up.
"""

from __future__ import annotations

import dataclasses
import random

from hypothesis import strategies as st

from zksolv.core import fixedpoint as fp
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


@st.composite
def markets(draw, *, max_underlyings: int = 3, max_instruments: int = 12, max_scenarios: int = 8,
            mode: RiskMode | None = None, realistic: bool = False) -> MarketState:
    """A random validated MarketState. ``realistic`` keeps magnitudes market-like."""
    n_u = draw(st.integers(1, max_underlyings))
    n_i = draw(st.integers(1, max_instruments))
    n_k = draw(st.integers(1, max_scenarios))
    n_a = draw(st.integers(1, 4))
    spot_hi = 10**11 if realistic else (1 << fp.PRICE_BITS) - 1
    underlyings = tuple(
        Underlying(f"U{u}", draw(st.integers(1, spot_hi)), (), draw(st.integers(0, 2 * 10**6)),
                   draw(st.integers(0, 2 * 10**6)), draw(st.integers(0, 2 * 10**6)), draw(st.integers(0, 2 * 10**6)))
        for u in range(n_u)
    )
    greek = (lambda bits, cap: st.integers(0, cap)) if realistic else (lambda bits, cap: st.integers(0, (1 << bits) - 1))
    # distinct strikes: every listed contract has its own identity; calls and puts, so both delta
    # signs occur (an option's delta lies within one unit of its kind's sign, gamma and vega >= 0)
    strikes = draw(st.lists(st.integers(1, spot_hi), min_size=n_i, max_size=n_i, unique=True))
    kinds = draw(st.lists(st.sampled_from([InstrumentKind.CALL, InstrumentKind.PUT]), min_size=n_i, max_size=n_i))
    instruments = tuple(
        Instrument(
            symbol=f"I{i}", underlying=draw(st.integers(0, n_u - 1)), kind=kinds[i],
            strike=strikes[i], expiry=draw(st.integers(1, 2**40 - 1)),
            mark=draw(st.integers(0, spot_hi)),
            delta=draw(st.integers(0, 10**8)) * (1 if kinds[i] is InstrumentKind.CALL else -1),
            gamma=draw(greek(fp.GAMMA_BITS, 10**9)),
            vega=draw(greek(fp.VEGA_BITS, 10**11)),
        )
        for i in range(n_i)
    )
    risk_mode = mode or draw(st.sampled_from(list(RiskMode)))
    beta, v_scalar = draw(st.integers(0, 2 * 10**6)), draw(st.integers(0, 2 * 10**6))
    # price shocks small enough that |r*S| stays within PRICE_BITS; a revaluation market reprices
    # at r * (1 + V*beta) (MarketState.scan_range), which must not move a spot below zero either
    max_shock = fp.RATIO_SCALE if not realistic else fp.RATIO_SCALE // 2
    if risk_mode.is_revaluation:
        max_shock = max_shock * fp.AVSL_ONE // (fp.AVSL_ONE + v_scalar * beta)
    price_shocks = tuple(tuple(draw(st.integers(-max_shock, max_shock)) for _ in range(n_k)) for _ in range(n_u))
    vol_shocks = tuple(tuple(draw(st.integers(-10**6, 10**6)) for _ in range(n_k)) for _ in range(n_u))
    cuts = sorted(draw(st.lists(st.integers(0, fp.RATIO_SCALE), min_size=n_k - 1, max_size=n_k - 1)))
    bounds = [0, *cuts, fp.RATIO_SCALE]
    weights = tuple(bounds[k + 1] - bounds[k] for k in range(n_k))
    params = Params(
        alpha=draw(st.integers(0, fp.RATIO_SCALE)),
        beta=beta,
        v_scalar=v_scalar,
        risk_mode=risk_mode,
        es_level=draw(st.integers(500_000, 999_999)),
        min_ratio=draw(st.integers(10**6, 2 * 10**6)),
        horizon_seconds=86_400,
        var_z=2_326_000,
        scenarios=ScenarioSet("random", price_shocks, vol_shocks, weights),
        var_loadings=tuple(tuple(draw(st.integers(-10**10, 10**10)) for _ in range(n_u)) for _ in range(n_u)),
        gamma_addon=tuple(draw(st.integers(0, 10**21)) for _ in range(n_u)),
        vega_stress=tuple(draw(st.integers(0, 500_000)) for _ in range(n_u)),
    )
    collateral = tuple(
        CollateralAsset(f"C{a}", draw(st.integers(0, spot_hi)), draw(st.integers(0, fp.RATIO_SCALE)))
        for a in range(n_a)
    )
    market = MarketState(epoch=draw(st.integers(0, 2**64 - 1)), params=params, underlyings=underlyings,
                         instruments=instruments, collateral=collateral)
    if params.risk_mode.is_revaluation:
        market = dataclasses.replace(market, instruments=tuple(
            dataclasses.replace(ins, pnl=draw(risk_arrays(market, ins))) for ins in instruments))
    return market.validated()


def value_bounds(market: MarketState, ins: Instrument) -> list[tuple[int, int]]:
    """Per scenario, the repriced value of one unit of option ``ins`` that MarketState.validated
    admits: ``(intrinsic, bound)`` at the scan range's move (a call between max(0, S' - K) and the
    shocked spot S', a put between max(0, K - S') and its strike)."""
    spot = market.underlyings[ins.underlying].spot
    out = []
    for move in market.scan_range()[0][ins.underlying]:
        shocked = max(0, spot + move)
        if ins.kind is InstrumentKind.CALL:
            out.append((max(0, shocked - ins.strike), spot + move))
        else:
            out.append((max(0, ins.strike - shocked), ins.strike))
    return out


def risk_arrays(market: MarketState, ins: Instrument) -> st.SearchStrategy[tuple[int, ...]]:
    """A valid risk array of option ``ins`` (MarketState.validated's bounds): per scenario, the
    repriced value anywhere in [intrinsic, bound] (:func:`value_bounds`), extremes included, minus
    the mark."""
    values = [st.one_of(st.just(lo), st.just(hi), st.integers(lo, hi)) for lo, hi in value_bounds(market, ins)]
    return st.tuples(*values).map(lambda vs: tuple(v - ins.mark for v in vs))


@st.composite
def accounts(draw, market: MarketState, *, max_positions: int = 6, realistic: bool = False):
    """``(slots, balances)`` for ``market``: distinct instruments, full-width quantities."""
    n = draw(st.integers(0, min(max_positions, len(market.instruments))))
    indices = draw(st.lists(st.integers(0, len(market.instruments) - 1), min_size=n, max_size=n, unique=True))
    q_hi = 10**12 if realistic else (1 << fp.QTY_BITS) - 1
    slots = [(i, draw(st.integers(-q_hi, q_hi))) for i in indices]
    bal_hi = 10**15 if realistic else (1 << fp.BALANCE_BITS) - 1
    balances = [draw(st.integers(0, bal_hi)) for _ in market.collateral]
    return slots, balances


def with_random_risk_arrays(market: MarketState, rng: random.Random) -> MarketState:
    """``market`` (any mode, not yet validated) as a validated revaluation market with seeded random
    risk arrays within MarketState.validated's bounds: linear units gain the scan range's move, each
    option's repriced value is uniform in [intrinsic, bound] (:func:`value_bounds`, so pnl in
    [intrinsic - mark, bound - mark])."""
    market = dataclasses.replace(market, params=dataclasses.replace(market.params, risk_mode=RiskMode.REVALUATION))
    moves = market.scan_range()[0]
    instruments = []
    for ins in market.instruments:
        row = moves[ins.underlying]
        if ins.kind.is_option:
            row = tuple(rng.randint(lo, hi) - ins.mark for lo, hi in value_bounds(market, ins))
        instruments.append(dataclasses.replace(ins, pnl=row))
    return dataclasses.replace(market, instruments=tuple(instruments)).validated()
