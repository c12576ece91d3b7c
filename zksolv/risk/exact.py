"""The same AVSL model in exact rational arithmetic (``fractions.Fraction``, USD).

This is the yardstick for :mod:`zksolv.risk.model`: it evaluates the formulas of
DESIGN §2 on the *published* market values with no rounding at all (ES by
sorting, not by a prover-chosen threshold; the VaR square root to 1e-30 USD).
Property tests assert ``model`` margin >= exact margin and ``model`` NAV <=
exact NAV, each within the bounds documented in ``docs/fixed_point.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from zksolv.core import fixedpoint as fp
from zksolv.core.market import MarketState, RiskMode

Slots = Sequence[tuple[int, int]]

_SQRT_PRECISION = 10**30  # sqrt is computed to 1e-30 USD (rounded up)


@dataclass(frozen=True)
class ExactResult:
    """Exact figures in USD."""

    nav: Fraction
    mm_base: Fraction
    mm_avsl: Fraction
    requirement: Fraction

    @property
    def solvent(self) -> bool:
        return self.nav >= self.requirement


def _frac(raw: int, scale: int) -> Fraction:
    return Fraction(raw, scale)


def evaluate_exact(market: MarketState, slots: Slots, balances: Sequence[int], mode: RiskMode | None = None) -> ExactResult:
    """NAV, MM_base, MM_AVSL and the requirement, exactly, in USD."""
    mode = mode or market.params.risk_mode
    p = market.params
    n_u = len(market.underlyings)
    delta = [Fraction(0)] * n_u
    gamma = [Fraction(0)] * n_u
    vega = [Fraction(0)] * n_u
    nav = Fraction(0)
    for index, q_raw in slots:
        ins = market.instruments[index]
        q = _frac(q_raw, fp.QTY_SCALE)
        delta[ins.underlying] += q * _frac(ins.delta, fp.DELTA_SCALE)
        gamma[ins.underlying] += q * _frac(ins.gamma, fp.GAMMA_SCALE)
        vega[ins.underlying] += q * _frac(ins.vega, fp.VEGA_SCALE)
        nav += q * _frac(ins.mark, fp.PRICE_SCALE)
    for bal, asset in zip(balances, market.collateral):
        nav += _frac(bal, fp.QTY_SCALE) * _frac(asset.price, fp.PRICE_SCALE) * (1 - _frac(asset.haircut, fp.RATIO_SCALE))

    if mode.is_revaluation:
        mm_base = _revaluation_exact(market, slots)  # the arrays are repriced at the scaled scan range
        return ExactResult(nav, mm_base, mm_base, mm_base * _frac(p.min_ratio, fp.RATIO_SCALE))
    moves = market.price_moves()
    losses = [
        [
            -(
                delta[u] * _frac(ds, fp.PRICE_SCALE)
                + Fraction(1, 2) * gamma[u] * _frac(ds, fp.PRICE_SCALE) ** 2
                + vega[u] * _frac(dsig, fp.VOL_SCALE)
            )
            for ds, dsig in zip(moves[u], p.scenarios.vol_shocks[u])
        ]
        for u in range(n_u)
    ]
    if mode is RiskMode.STRESS:
        mm_base = sum((max(Fraction(0), *row) for row in losses), Fraction(0))
    elif mode is RiskMode.ES:
        joint = [sum(col, Fraction(0)) for col in zip(*losses)]
        weights = [_frac(w, fp.RATIO_SCALE) for w in p.scenarios.weights]
        mm_base = max(Fraction(0), expected_shortfall(joint, weights, _frac(p.es_level, fp.RATIO_SCALE)))
    else:
        mm_base = _var_exact(market, delta, gamma, vega)
    mm_avsl = mm_base * (1 + _frac(p.v_scalar, fp.RATIO_SCALE) * _frac(p.beta, fp.RATIO_SCALE))
    return ExactResult(nav, mm_base, mm_avsl, mm_avsl * _frac(p.min_ratio, fp.RATIO_SCALE))


def expected_shortfall(losses: Sequence[Fraction], weights: Sequence[Fraction], level: Fraction) -> Fraction:
    """ES_c of a discrete loss distribution, by sorting (the tail-average definition).

    ``ES = VaR + E[(L - VaR)^+] / (1 - c)`` with VaR the c-quantile; equal to
    ``min_t t + E[(L-t)^+]/(1-c)`` (Rockafellar–Uryasev), computed here
    without any optimisation so it independently checks the prover's ``t``.
    """
    ordered = sorted(zip(losses, weights))
    cumulative = Fraction(0)
    var = ordered[-1][0]
    for loss, weight in ordered:
        cumulative += weight
        if cumulative >= level:
            var = loss
            break
    tail = sum((w * max(Fraction(0), loss - var) for loss, w in zip(losses, weights)), Fraction(0))
    return var + tail / (1 - level)


def _revaluation_exact(market: MarketState, slots: Slots) -> Fraction:
    """``sum_u max(0, max_k L_{u,k})`` with ``L_{u,k} = -sum_{j on u} q_j * pnl_{i(j),k}`` in USD."""
    n_k = market.params.scenarios.size
    losses = [[Fraction(0)] * n_k for _ in market.underlyings]
    for index, q_raw in slots:
        ins = market.instruments[index]
        q = _frac(q_raw, fp.QTY_SCALE)
        row = losses[ins.underlying]
        for k, pnl in enumerate(ins.pnl):
            row[k] -= q * _frac(pnl, fp.PRICE_SCALE)
    return sum((max(Fraction(0), *row) for row in losses), Fraction(0))


def _var_exact(market: MarketState, delta: list[Fraction], gamma: list[Fraction], vega: list[Fraction]) -> Fraction:
    p = market.params
    n_u = len(market.underlyings)
    y = [sum((_frac(p.var_loadings[u][f], fp.PRICE_SCALE) * delta[u] for u in range(n_u)), Fraction(0)) for f in range(n_u)]
    quad = sum((v * v for v in y), Fraction(0))
    # sqrt(quad) to 1e-30, rounded up: ceil(sqrt(quad * P^2)) / P
    scaled = quad * _SQRT_PRECISION**2
    root = Fraction(fp.isqrt_ceil(math.ceil(scaled)), _SQRT_PRECISION)
    gamma_addon = sum(
        (max(Fraction(0), -gamma[u]) * Fraction(1, 2) * _frac(p.gamma_addon[u], fp.PRICE_SCALE**2) for u in range(n_u)),
        Fraction(0),
    )
    vega_addon = sum((abs(vega[u]) * _frac(p.vega_stress[u], fp.VOL_SCALE) for u in range(n_u)), Fraction(0))
    return root + gamma_addon + vega_addon
