"""The AVSL margin model in fixed point: the reference the circuits match bit for bit.

Every step is the integer formula of ``docs/fixed_point.md`` §2, with the same
names as the circuit signals (``Delta_u``, ``nav_raw``, ``mm``, ``req_raw``).
Besides the figures, :func:`evaluate` returns the **hints** the prover feeds
the circuit: the tightest upper-bound witnesses (stress and revaluation maxima
``m``, the ES threshold ``t`` and excesses ``e``, the VaR magnitudes ``yt``,
root ``s`` and add-on bounds ``n``, ``v``) and the margin quotient ``mm``. The circuit checks
each hint one-sidedly, so any larger value would also be accepted — it would
only raise the trader's own margin.

Rounding: NAV is exact (it never needs rescaling); the margin is rounded up
once, to whole micro-USD (``mm = ceil(MM_raw / 2e24)``). The statement
``nav_raw * 1e6 >= mm * (1e12 + V*beta) * min_ratio`` is then exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from zksolv.core import fixedpoint as fp
from zksolv.core.errors import InputError
from zksolv.core.fixedpoint import ceil_div, isqrt_ceil
from zksolv.core.market import MarketState, RiskMode

Slots = Sequence[tuple[int, int]]  #: (instrument leaf index, signed quantity at QTY_SCALE)


@dataclass(frozen=True)
class Greeks:
    """Net greeks per underlying and the positions' NAV term."""

    Delta: tuple[int, ...]  #: sum q*delta per underlying, scale 1e14
    Gamma: tuple[int, ...]  #: sum q*gamma per underlying, scale 1e18
    Vega: tuple[int, ...]  #: sum q*vega per underlying, scale 1e12
    position_value: int  #: sum q*mark, scale 1e12
    #: revaluation markets only (else empty): sum q*pnl[k] per underlying and scenario, scale 1e12
    PnL: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class MarginResult:
    """Everything the model computes for one account under one market state.

    Raw values carry the scales of ``docs/fixed_point.md``; the ``*_musd``
    properties are whole micro-USD rounded in the conservative direction.
    """

    mode: RiskMode
    greeks: Greeks
    nav_raw: int  #: exact NAV, scale 1e18
    #: doubled scenario losses 2L[u][k], scale 1e30 (revaluation: 2e18 * loss[u][k], the repriced losses)
    losses: tuple[tuple[int, ...], ...]
    mm: int  #: MM_base in micro-USD, rounded up
    avsl_factor: int  #: 1e12 + V*beta (scale 1e12); 1e12 in revaluation mode (the scan range carries it)
    min_ratio: int  #: scale 1e6
    req_raw: int  #: mm * avsl_factor * min_ratio, scale 1e24
    hints: dict[str, int | list[int]] = field(repr=False)

    @property
    def solvent(self) -> bool:
        """The circuit's predicate: ``nav_raw * 1e6 >= req_raw`` (exact)."""
        return meets_requirement(self.nav_raw, self.req_raw)

    @property
    def nav_musd(self) -> int:
        """NAV in micro-USD, rounded down."""
        return self.nav_raw // (fp.NAV_SCALE // fp.PRICE_SCALE)

    @property
    def mm_base_musd(self) -> int:
        """MM_base in micro-USD, rounded up."""
        return self.mm

    @property
    def mm_avsl_musd(self) -> int:
        """MM_AVSL = MM_base * (1 + V*beta) in micro-USD, rounded up."""
        return ceil_div(self.mm * self.avsl_factor, fp.AVSL_ONE)

    @property
    def requirement_musd(self) -> int:
        """MM_AVSL * min_ratio in micro-USD, rounded up."""
        return ceil_div(self.req_raw, fp.AVSL_ONE * fp.RATIO_SCALE)

    @property
    def margin_ratio(self) -> float | None:
        """NAV / MM_AVSL (None when the margin is zero)."""
        if self.mm == 0:
            return None
        return (self.nav_raw * fp.AVSL_ONE) / (self.mm * self.avsl_factor * (fp.NAV_SCALE // fp.PRICE_SCALE))


# ------------------------------------------------------------------ the statement
def requirement_raw(mm: int, avsl_factor: int, min_ratio: int) -> int:
    """``REQ_raw = mm * (1e12 + V*beta) * min_ratio`` at scale 1e24 (exact)."""
    return mm * avsl_factor * min_ratio


def meets_requirement(nav_raw: int, req_raw: int) -> bool:
    """The solvency statement ``NAV_raw * 1e6 >= REQ_raw`` (exact; the circuit's predicate)."""
    return nav_raw * fp.RATIO_SCALE >= req_raw


# ----------------------------------------------------------------- building blocks
def aggregate(market: MarketState, slots: Slots) -> Greeks:
    """Net Delta, Gamma, Vega per underlying and sum of q*mark; on a revaluation market also
    the risk-array sums ``PnL[u][k] = sum q*pnl[k]`` (scale 1e12, exact)."""
    n_u = len(market.underlyings)
    delta, gamma, vega = [0] * n_u, [0] * n_u, [0] * n_u
    value = 0
    pnl = [[0] * market.params.scenarios.size for _ in range(n_u)] if market.params.risk_mode.is_revaluation else []
    for index, q in slots:
        ins = market.instruments[index]
        delta[ins.underlying] += q * ins.delta
        gamma[ins.underlying] += q * ins.gamma
        vega[ins.underlying] += q * ins.vega
        value += q * ins.mark
        if pnl:
            row = pnl[ins.underlying]
            for k, x in enumerate(ins.pnl):
                row[k] += q * x
    return Greeks(tuple(delta), tuple(gamma), tuple(vega), value, tuple(map(tuple, pnl)))


def nav_raw(market: MarketState, greeks: Greeks, balances: Sequence[int]) -> int:
    """``sum_a bal_a*P_a*(1e6-h_a) + 1e6 * sum_j q_j*mark_j`` at scale 1e18 (exact)."""
    collateral = sum(bal * a.price * (fp.RATIO_SCALE - a.haircut) for bal, a in zip(balances, market.collateral))
    return collateral + fp.NAV_POSITION_FACTOR * greeks.position_value


def scenario_losses(market: MarketState, greeks: Greeks) -> tuple[tuple[int, ...], ...]:
    """Doubled losses ``2L[u][k]`` at scale 1e30 (exact)::

        2L = -(2e10*Delta_u*dS + Gamma_u*dS^2 + 2e12*Vega_u*dsig)
    """
    moves = market.price_moves()
    vol_shocks = market.params.scenarios.vol_shocks
    return tuple(
        tuple(
            -(
                2 * fp.DELTA_LOSS_FACTOR * greeks.Delta[u] * ds
                + greeks.Gamma[u] * ds * ds
                + 2 * fp.VEGA_LOSS_FACTOR * greeks.Vega[u] * dsig
            )
            for ds, dsig in zip(moves[u], vol_shocks[u])
        )
        for u in range(len(market.underlyings))
    )


def joint_losses(losses: Sequence[Sequence[int]]) -> list[int]:
    """``L_k = sum_u 2L[u][k]``: the loss of joint scenario k (doubled, 1e30)."""
    return [sum(column) for column in zip(*losses)]


# ----------------------------------------------------------------------- risk modes
def stress_margin(losses: Sequence[Sequence[int]]) -> tuple[int, dict[str, int | list[int]]]:
    """``MM_raw = sum_u max(0, max_k 2L[u][k])``; hints ``m[u]``."""
    m = [max(0, *row) for row in losses]
    return sum(m), {"m": m}


def es_threshold(joint: Sequence[int], weights: Sequence[int], es_level: int) -> int:
    """The c-quantile (VaR) of the weighted losses: the minimiser of the RU objective.

    Smallest loss ``t`` among the ``L_k`` whose cumulative weight of losses
    ``<= t`` reaches ``c``; then ``t + 1/(1-c) * E[(L-t)^+]`` is exactly ES_c.
    """
    cumulative = 0
    for loss, weight in sorted(zip(joint, weights)):
        cumulative += weight
        if cumulative >= es_level:
            return loss
    return max(joint)


def es_margin(
    losses: Sequence[Sequence[int]], weights: Sequence[int], es_level: int
) -> tuple[int, dict[str, int | list[int]]]:
    """Rockafellar–Uryasev ES. Returns ``mm`` (micro-USD, up) and the hint ``t``.

    Circuit condition: ``mm*2e24*(1e6-c) >= t*(1e6-c) + sum_k w_k*e_k`` with
    ``e_k = max(0, L_k - t)`` computed in the circuit from ``t`` (the sign of
    ``L_k - t`` is a bit of its range check), so ``t`` is the only hint;
    :func:`es_excesses` gives the same ``e_k``.
    """
    joint = joint_losses(losses)
    t = es_threshold(joint, weights, es_level)
    e = es_excesses(joint, t)
    tail = fp.RATIO_SCALE - es_level
    numerator = t * tail + sum(w * x for w, x in zip(weights, e))
    mm = max(0, ceil_div(numerator, fp.MM_DIVISOR * tail))
    return mm, {"t": t}


def es_excesses(joint: Sequence[int], t: int) -> list[int]:
    """``e_k = max(0, L_k - t)``: the excesses the circuit derives from the threshold ``t``."""
    return [max(0, loss - t) for loss in joint]


def var_margin(market: MarketState, greeks: Greeks) -> tuple[int, dict[str, int | list[int]]]:
    """Factor delta-normal VaR with gamma and vega add-ons; ``MM_raw`` and hints.

    ``y_f = sum_u a[u][f]*Delta_u``; ``yt_f = ceil(|y_f|/1e14)``;
    ``s = ceil(sqrt(sum yt_f^2))``; ``n_u = max(0, -Gamma_u)``; ``v_u = |Vega_u|``;
    ``MM_raw = 2e24*s + sum_u (n_u*g_u + 2e12*v_u*vs_u)``.
    """
    p = market.params
    n_u = len(market.underlyings)
    y = [sum(p.var_loadings[u][f] * greeks.Delta[u] for u in range(n_u)) for f in range(n_u)]
    yt = [ceil_div(abs(v), fp.VAR_Y_DIVISOR) for v in y]
    s = isqrt_ceil(sum(v * v for v in yt))
    n = [max(0, -g) for g in greeks.Gamma]
    v = [abs(x) for x in greeks.Vega]
    addons = sum(n[u] * p.gamma_addon[u] + 2 * fp.VEGA_LOSS_FACTOR * v[u] * p.vega_stress[u] for u in range(n_u))
    return fp.MM_DIVISOR * s + addons, {"yt": yt, "s": s, "n": n, "v": v}


def revaluation_losses(greeks: Greeks) -> tuple[tuple[int, ...], ...]:
    """Full-revaluation losses ``loss[u][k] = -PnL[u][k]`` (scale 1e12 = QTY*PRICE, exact):
    the exact signed sum over the positions on ``u`` of ``q * pnl[k]``, negated."""
    if not greeks.PnL:
        raise InputError("risk_mode: the revaluation mode needs a market that publishes risk arrays")
    return tuple(tuple(-x for x in row) for row in greeks.PnL)


def revaluation_margin(loss: Sequence[Sequence[int]]) -> tuple[int, dict[str, int | list[int]]]:
    """``MM_raw = 2e18 * sum_u max(0, max_k loss[u][k])`` (scale 2e30 as every mode's MM_raw);
    hints ``m[u]`` at the loss scale 1e12. Per-underlying worst scenario, no credit across
    underlyings: the structure of the stress mode, on repriced instead of approximated losses."""
    m = [max(0, *row) for row in loss]
    return fp.REVAL_LOSS_FACTOR * sum(m), {"m": m}


# ----------------------------------------------------------------------- the model
def evaluate(
    market: MarketState, slots: Slots, balances: Sequence[int], mode: RiskMode | None = None
) -> MarginResult:
    """Evaluate the AVSL rule for one account; also checks every circuit bit width.

    ``slots`` are ``(leaf index, quantity)`` pairs (see
    :meth:`zksolv.core.account.Account.position_slots`), ``balances`` one entry per
    market collateral asset. ``mode`` defaults to ``market.params.risk_mode``.
    Raises :class:`InputError` if any intermediate value would exceed the
    width the circuit range-checks it to (such an account cannot be proven).

    >>> # result = evaluate(market, account.position_slots(market), account.balances(market))
    >>> # result.solvent, result.nav_musd, result.mm_avsl_musd
    """
    mode = mode or market.params.risk_mode
    _check_inputs(market, slots, balances)
    greeks = aggregate(market, slots)
    nav = nav_raw(market, greeks, balances)
    losses = scenario_losses(market, greeks)
    p = market.params
    if mode is RiskMode.STRESS:
        mm_raw, hints = stress_margin(losses)
        mm = ceil_div(mm_raw, fp.MM_DIVISOR)
    elif mode is RiskMode.ES:
        mm, hints = es_margin(losses, p.scenarios.weights, p.es_level)
    elif mode.is_revaluation:
        loss = revaluation_losses(greeks)
        losses = tuple(tuple(fp.REVAL_LOSS_FACTOR * x for x in row) for row in loss)
        mm_raw, hints = revaluation_margin(loss)
        mm = ceil_div(mm_raw, fp.MM_DIVISOR)
    else:
        mm_raw, hints = var_margin(market, greeks)
        mm = ceil_div(mm_raw, fp.MM_DIVISOR)
    # a revaluation market applies 1 + V*beta to its scan range (MarketState.scan_range), not to MM_base
    avsl_factor = fp.AVSL_ONE if mode.is_revaluation else fp.AVSL_ONE + p.v_scalar * p.beta
    req_raw = requirement_raw(mm, avsl_factor, p.min_ratio)
    result = MarginResult(
        mode=mode,
        greeks=greeks,
        nav_raw=nav,
        losses=losses,
        mm=mm,
        avsl_factor=avsl_factor,
        min_ratio=p.min_ratio,
        req_raw=req_raw,
        hints={"mm": mm, **hints},
    )
    check_circuit_bounds(result)
    return result


def _check_inputs(market: MarketState, slots: Slots, balances: Sequence[int]) -> None:
    if len(slots) > fp.MAX_BOOK_POSITIONS:
        raise InputError(f"positions: more than the limit of {fp.MAX_BOOK_POSITIONS}")
    for j, (index, q) in enumerate(slots):
        fp.check_interval(f"positions[{j}].instrument_index", index, 0, len(market.instruments) - 1)
        fp.check_bits(f"positions[{j}].quantity", q, fp.QTY_BITS, signed=True)
    if len(balances) != len(market.collateral):
        raise InputError(f"collateral: expected {len(market.collateral)} balances (one per asset), got {len(balances)}")
    for a, bal in enumerate(balances):
        fp.check_bits(f"collateral[{market.collateral[a].symbol}]", bal, fp.BALANCE_BITS, signed=False)


def check_circuit_bounds(result: MarginResult) -> None:
    """Refuse results the circuit could not prove because a value exceeds its width.

    The messages name the quantity and the limit, never the value.
    """
    def fits(name: str, value: int, bits: int) -> None:
        if not 0 <= value < 1 << bits:
            raise InputError(f"{name}: exceeds the circuit's {bits}-bit range")

    g = result.greeks
    sums = ((("revaluation P&L sum", [x for row in g.PnL for x in row], fp.REVAL_SUM_BITS),)
            if result.mode.is_revaluation else
            (("net Delta", g.Delta, fp.NET_DELTA_BITS), ("net Gamma", g.Gamma, fp.NET_GAMMA_BITS),
             ("net Vega", g.Vega, fp.NET_VEGA_BITS)))
    for name, values, bits in (*sums, ("position value", (g.position_value,), fp.POSITION_VALUE_BITS)):
        if any(abs(v) >= 1 << bits for v in values):
            raise InputError(f"{name}: exceeds the circuit's {bits}-bit range (the book is too large to prove)")
    for row in result.losses:
        for loss in row:
            if abs(loss) >= 1 << fp.SCENARIO_LOSS_BITS:
                raise InputError(f"scenario loss: exceeds the circuit's {fp.SCENARIO_LOSS_BITS}-bit range")
    fits("margin (mm)", result.mm, fp.MM_BITS)
    h = result.hints
    if result.mode is RiskMode.STRESS:
        for m in h["m"]:  # type: ignore[union-attr]
            fits("stress maximum hint", m, fp.STRESS_HINT_BITS)
    elif result.mode.is_revaluation:
        for m in h["m"]:  # type: ignore[union-attr]
            fits("revaluation maximum hint", m, fp.REVAL_HINT_BITS)
    elif result.mode is RiskMode.ES:
        for loss in joint_losses(result.losses):  # |L_k - t| < 2^212: the circuit's sign-bit range
            fits("ES threshold hint", loss - h["t"] + (1 << fp.ES_EXCESS_BITS), fp.ES_EXCESS_BITS + 1)  # type: ignore[operator]
    else:
        for y in h["yt"]:  # type: ignore[union-attr]
            fits("VaR factor hint", y, fp.VAR_Y_BITS)
        fits("VaR root hint", h["s"], fp.VAR_S_BITS)  # type: ignore[arg-type]
        for x in (*h["n"], *h["v"]):  # type: ignore[misc]
            fits("VaR add-on hint", x, fp.GREEK_SUM_BITS)
    if abs(result.nav_raw) * fp.RATIO_SCALE >= 1 << fp.SOLVENCY_BITS or result.req_raw >= 1 << fp.SOLVENCY_BITS:
        raise InputError(f"NAV or requirement: exceeds the circuit's {fp.SOLVENCY_BITS}-bit range")
