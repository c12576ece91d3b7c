"""A reproducible demo market (BTC, ETH) and named demo portfolios.

:func:`demo_market` plays the venue and calls the oracle's builder for one epoch:
:func:`demo_inputs` simulates a seeded price history per underlying and lists a chain
whose implied vols come from a smile on the 25-delta skew inputs; the builder
(:func:`zksolv.oracle.build.build_market`, the same one ``zksolv market build`` runs)
publishes the realised-vol history and its EMA, prices every listed instrument with
:mod:`zksolv.risk.pricing`, derives the V-Scalar (:mod:`zksolv.core.volatility`), the scenario
grid (:mod:`zksolv.core.scenarios`) and the VaR parameters, and returns a validated,
audited :class:`~zksolv.core.market.MarketState`.
The vol history is the trailing 30-day realised vol (zero-mean, ACT/365)
over the last 30 days of a 120-day simulated path; ``vol_ema`` is its
RiskMetrics EMA :func:`zksolv.core.volatility.ema_fixed` (lambda 0.94, exact,
rounded up); V is :func:`zksolv.core.volatility.v_scalar_market` (max over
underlyings, alpha 0.6) — the integers a keeper's audit recomputes
(:meth:`~zksolv.core.market.MarketState.audit_derived`).
Scan ranges use ``max(vol_ema, iv_atm)`` per underlying, 3 standard
deviations over a 1-day horizon, vol shift +-25% of the vol; VaR uses z = 2.326
and the same vol shift as its vega stress. Nothing reads the wall clock: the pricing time is :data:`REFERENCE_TIME`
(Friday 2026-01-02 00:00 UTC) unless given, so the same arguments give the
same state bit for bit (on the same numpy version — the seeded simulation
uses ``numpy.random.default_rng``).

Listed by default (per underlying): 4 expiries x 9 strikes x call/put, one
perpetual, two dated futures and the spot pair — 152 instruments, tree depth
3 (arity 8). ``n_expiries`` / ``n_strikes`` grow the chain for benchmarks (e.g. 16 x 63
gives ~4,000 instruments).

Smile: Malz (1997) quadratic in call delta (computed at the ATM vol)::

    sigma(D) = ATM - 2 RR (D - 1/2) + 16 BF (D - 1/2)^2,
    RR = sigma_25C - sigma_25P,   BF = (sigma_25C + sigma_25P)/2 - ATM

which passes through the three published quotes (D = 0.25, 0.5, 0.75),
floored at 5 vol points.

:func:`demo_portfolios` returns named :class:`~zksolv.core.account.Account` s,
some solvent and some insolvent under the AVSL rule in every risk mode
(tests check this with :func:`zksolv.risk.model.evaluate`). Their salts are
derived from the seed with SHA-256 — **demo only**: a real account must use
:meth:`Account.new_salt` (a CSPRNG), or its commitment is not hiding.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timezone
from typing import Any

import numpy as np

from zksolv.core import fixedpoint as fp
from zksolv.core import scenarios
from zksolv.risk import pricing
from zksolv.core.account import Account, Position
from zksolv.core.audit import EPOCH_SECONDS
from zksolv.core.errors import InputError
from zksolv.core.market import Instrument, InstrumentKind, MarketState, RiskMode
from zksolv.oracle.build import BuildInputs, BuildParams, CollateralInput, InstrumentInput, UnderlyingInput, build_market

__all__ = [
    "REFERENCE_TIME",
    "DEMO_EPOCH",
    "DEMO_CORRELATION",
    "demo_market",
    "demo_inputs",
    "all_demo_markets",
    "demo_portfolios",
    "demo_salt",
    "smile_vol",
    "expiry_times",
]

#: Pricing time of the demo: Friday 2026-01-02 00:00:00 UTC (unix seconds).
REFERENCE_TIME = 1_767_312_000
#: Default epoch: the day number of REFERENCE_TIME.
DEMO_EPOCH = REFERENCE_TIME // 86_400
#: BTC–ETH daily-return correlation used for the ES scenarios and VaR loadings.
DEMO_CORRELATION = ((1.0, 0.8), (0.8, 1.0))

_EXPIRY_HOUR = 8 * 3600  # venues expire at 08:00 UTC
_DEFAULT_WEEKS = (1, 2, 4, 13)
_FUTURE_WEEKS = (13, 26)
_SMILE_FLOOR = 0.05
#: ``grid`` value of :func:`demo_market` for the Monte-Carlo set under the revaluation mode.
MC_GRID = "mc"
_HISTORY_DAYS = 120
_VOL_WINDOW = 30


# (symbol, spot, true vol of the simulated history, iv_atm, iv_25d_put, iv_25d_call, strike tick)
_UNDERLYINGS: tuple[tuple[str, float, float, float, float, float, float], ...] = (
    ("BTC", 65_000.0, 0.50, 0.55, 0.61, 0.53, 500.0),
    ("ETH", 3_400.0, 0.65, 0.68, 0.75, 0.66, 25.0),
)
# (symbol, price, haircut)
_COLLATERAL: tuple[tuple[str, float | None, float], ...] = (
    ("USDC", 1.0, 0.0),
    ("USDT", 1.0, 0.02),
    ("BTC", None, 0.10),  # priced at the BTC spot
    ("ETH", None, 0.15),  # priced at the ETH spot
)

_RATIO = fp.RATIO_SCALE


# --------------------------------------------------------------------- helpers
def expiry_times(n_expiries: int = 4, reference_time: int = REFERENCE_TIME) -> list[int]:
    """Option expiries (unix seconds, 08:00 UTC), the first ``n_expiries`` of
    weeks (1, 2, 4, 13, 26, 39, 52, 3, 5, 6, 7, ...) after ``reference_time``, sorted."""
    order = list(_DEFAULT_WEEKS) + [26, 39, 52] + [w for w in range(3, 1000) if w not in (4, 13, 26, 39, 52)]
    weeks = sorted(order[:n_expiries])
    return [reference_time + 7 * 86_400 * w + _EXPIRY_HOUR for w in weeks]


def _date_code(ts: int) -> str:
    d = datetime.fromtimestamp(ts, tz=timezone.utc)
    return f"{d.day}{d.strftime('%b').upper()}{d.strftime('%y')}"


def smile_vol(
    strike: float, spot: float, tau: float, iv_atm: float, iv_put_25d: float, iv_call_25d: float
) -> float:
    """Implied vol at ``strike`` from the Malz quadratic-in-delta smile (see module docstring).

    Parameters are USD and years; vols as fractions. Returns a vol >= 0.05.
    """
    rr = iv_call_25d - iv_put_25d
    bf = 0.5 * (iv_call_25d + iv_put_25d) - iv_atm
    tv = iv_atm * math.sqrt(max(tau, 1e-12))
    d1 = (math.log(spot / strike) + 0.5 * tv * tv) / tv
    call_delta = 0.5 * math.erfc(-d1 / math.sqrt(2.0))
    x = call_delta - 0.5
    return max(_SMILE_FLOOR, iv_atm - 2.0 * rr * x + 16.0 * bf * x * x)


def demo_salt(seed: int, name: str) -> int:
    """Deterministic salt ``SHA-256("zksolv-demo-salt:{seed}:{name}") mod p`` — DEMO ONLY (not hiding)."""
    digest = hashlib.sha256(f"zksolv-demo-salt:{seed}:{name}".encode()).digest()
    return int.from_bytes(digest, "big") % fp.FIELD_MODULUS


def _history(rng: np.random.Generator, spot: float, vol: float) -> np.ndarray:
    """Seeded daily GBM closes ending exactly at ``spot`` (oldest first)."""
    r = rng.standard_normal(_HISTORY_DAYS) * vol / math.sqrt(365.0)
    path = np.exp(np.concatenate(([0.0], np.cumsum(r))))
    return spot * path / path[-1]


# ---------------------------------------------------------------------- market
def demo_market(
    seed: int = 7,
    risk_mode: str | RiskMode = "stress",
    grid: str = "span",
    epoch: int = DEMO_EPOCH,
    *,
    n_strikes: int = 9,
    n_expiries: int = 4,
    reference_time: int | None = None,
    horizon_seconds: int = 86_400,
    mc_scenarios: int = 128,
    backend: str = "numpy",
) -> MarketState:
    """Build the demo market state for one epoch.

    Parameters
    ----------
    seed : int
        Seeds the simulated price histories (hence vol history, EMA, V) and
        the ES Monte-Carlo scenarios.
    risk_mode : {"stress", "es", "var", "revaluation"}
        Published risk mode. ``es`` publishes ``mc_scenarios`` joint
        Monte-Carlo scenarios; ``stress`` and ``var`` publish the ``grid``;
        ``revaluation`` publishes the ``grid`` (or, with ``grid="mc"``, the
        Monte-Carlo set) and every instrument's risk array over it
        (:func:`zksolv.risk.revaluation.risk_arrays`, repriced at each option's own
        smile vol shifted by the scenario's vol shock).
    grid : {"span", "deribit", "paradex", "horizon", "mc"}
        Stress grid (see :mod:`zksolv.core.scenarios`); ``mc`` (revaluation only):
        the ``mc_scenarios`` Monte-Carlo set.
    epoch : int
        Epoch number: the UTC day the market is priced on (default: the day of
        :data:`REFERENCE_TIME`; :func:`zksolv.core.audit.check_valuation_time`).
    n_strikes, n_expiries : int
        Option chain size per underlying (calls and puts on each strike).
    reference_time : int, optional
        Pricing time, unix seconds (no wall clock); default the epoch's timestamp
        ``epoch * 86400`` (:data:`REFERENCE_TIME` for the default epoch).
    horizon_seconds : int
        Liquidation horizon (default 1 day).
    mc_scenarios : int
        Number of ES scenarios (even, <= 256).
    backend : {"numpy", "numba"}
        Pricing implementation; the published state uses numpy by default.

    Returns
    -------
    MarketState
        Validated; every number a fixed-point int.
    """
    try:
        mode = RiskMode(risk_mode)
    except ValueError:
        raise InputError(f"risk_mode: must be one of {[m.value for m in RiskMode]}") from None
    if grid not in scenarios.GRIDS and not (grid == MC_GRID and mode.is_revaluation):
        extra = f" (and {MC_GRID!r} with the revaluation mode)"
        raise InputError(f"grid: must be one of {list(scenarios.GRIDS)}{extra}")
    for name, value, lo, hi in (("n_strikes", n_strikes, 1, 1023), ("n_expiries", n_expiries, 1, 60)):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise InputError(f"{name}: must be an integer in [{lo}, {hi}]")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError("seed: must be a non-negative integer")
    if reference_time is None:
        reference_time = epoch * EPOCH_SECONDS
    fp.check_bits("reference_time", reference_time, fp.EXPIRY_BITS, signed=False)

    return build_market(demo_inputs(seed, mode, grid, epoch, n_strikes=n_strikes, n_expiries=n_expiries,
                                    reference_time=reference_time, horizon_seconds=horizon_seconds,
                                    mc_scenarios=mc_scenarios), backend=backend)


def demo_inputs(
    seed: int = 7,
    risk_mode: str | RiskMode = "stress",
    grid: str = "span",
    epoch: int = DEMO_EPOCH,
    *,
    n_strikes: int = 9,
    n_expiries: int = 4,
    reference_time: int | None = None,
    horizon_seconds: int = 86_400,
    mc_scenarios: int = 128,
) -> BuildInputs:
    """The demo venue's data (seeded closes, the smile's implied vols, the collateral table and
    parameters) as :class:`~zksolv.oracle.build.BuildInputs`: what :func:`demo_market` feeds to
    the oracle's builder :func:`~zksolv.oracle.build.build_market`, and what
    :func:`zksolv.oracle.inputs.write_inputs` writes as the venue's input files."""
    mode = RiskMode(risk_mode)
    if reference_time is None:
        reference_time = epoch * EPOCH_SECONDS
    rng = np.random.default_rng(seed)
    underlyings: list[UnderlyingInput] = []
    for sym, spot, true_vol, atm, put25, call25, _tick in _UNDERLYINGS:
        closes = _history(rng, spot, true_vol)
        underlyings.append(
            UnderlyingInput(
                symbol=sym,
                spot=fp.from_float(spot, fp.PRICE_SCALE),
                closes=tuple(float(x) for x in closes),
                iv_atm=fp.from_float(atm, fp.VOL_SCALE),
                iv_put_25d=fp.from_float(put25, fp.VOL_SCALE),
                iv_call_25d=fp.from_float(call25, fp.VOL_SCALE),
            )
        )

    rows: list[InstrumentInput] = []
    expiries = expiry_times(n_expiries, reference_time)
    for sym, spot, _tv, atm, put25, call25, tick in _UNDERLYINGS:
        rows.append(InstrumentInput(symbol=f"{sym}-USD", underlying=sym, kind=InstrumentKind.SPOT))
        rows.append(InstrumentInput(symbol=f"{sym}-PERPETUAL", underlying=sym, kind=InstrumentKind.PERPETUAL))
        for w in _FUTURE_WEEKS:
            exp = reference_time + 7 * 86_400 * w + _EXPIRY_HOUR
            rows.append(InstrumentInput(symbol=f"{sym}-{_date_code(exp)}", underlying=sym, kind=InstrumentKind.FUTURE,
                                        expiry=exp))
        for exp in expiries:
            tau = pricing.year_fraction(exp, reference_time)
            half = n_strikes // 2
            # log-spaced strikes, +-0.35 ATM standard deviations apart, within [S/4, 4S]
            step = max(0.02, 0.35 * atm * math.sqrt(tau))
            if half:
                step = min(step, math.log(4.0) / half)
            strikes: list[int] = []
            for j in range(-half, n_strikes - half):
                k = round(spot * math.exp(j * step) / tick) * tick
                k_int = int(k) if k >= tick else int(tick)
                if k_int not in strikes:
                    strikes.append(k_int)
            for k_int in sorted(strikes):
                vol = smile_vol(float(k_int), spot, tau, atm, put25, call25)
                for kind, letter in ((InstrumentKind.CALL, "C"), (InstrumentKind.PUT, "P")):
                    rows.append(InstrumentInput(symbol=f"{sym}-{_date_code(exp)}-{k_int}-{letter}", underlying=sym,
                                                kind=kind, strike=k_int * fp.PRICE_SCALE, expiry=exp, iv=vol))
    collateral = tuple(
        CollateralInput(symbol=sym, price=None if price is None else fp.from_float(price, fp.PRICE_SCALE),
                        haircut=fp.from_float(haircut, _RATIO))
        for sym, price, haircut in _COLLATERAL
    )
    params = BuildParams(
        epoch=epoch, valuation_time=reference_time, risk_mode=mode, grid=grid,
        alpha=fp.from_float(0.6, _RATIO), beta=fp.from_float(0.5, _RATIO), es_level=fp.from_float(0.975, _RATIO),
        min_ratio=_RATIO, horizon_seconds=horizon_seconds, var_z=fp.from_float(2.326, _RATIO), vol_shift=0.25,
        correlation=DEMO_CORRELATION, mc_scenarios=mc_scenarios)
    return BuildInputs(params=params, underlyings=tuple(underlyings), instruments=tuple(rows), collateral=collateral)


# ------------------------------------------------------------------ portfolios
def _option(market: MarketState, und: str, kind: InstrumentKind, expiry_rank: int, moneyness: float) -> str:
    """Symbol of the ``kind`` option on ``und`` at the ``expiry_rank``-th expiry
    (negative counts from the last) whose strike is nearest ``moneyness * spot``."""
    u = [x.symbol for x in market.underlyings].index(und)
    spot = market.underlyings[u].spot
    chain = [i for i in market.instruments if i.underlying == u and i.kind is kind]
    exps = sorted({i.expiry for i in chain})
    exp = exps[expiry_rank]
    target = moneyness * spot
    best = min((i for i in chain if i.expiry == exp), key=lambda i: (abs(i.strike - target), i.strike))
    return best.symbol


def _qty(x: float) -> int:
    return fp.from_float(x, fp.QTY_SCALE)


#: The names of :func:`demo_portfolios`, in its order (the CLI checks ``--account`` against them
#: before building anything).
DEMO_ACCOUNTS = ("covered_call", "short_strangle", "delta_neutral", "calendar_spread", "market_maker",
                 "naked_short_insolvent", "overlevered_perp")


def demo_portfolios(market: MarketState, seed: int = 7) -> dict[str, Account]:
    """Named demo accounts for ``market`` (built by :func:`demo_market`).

    Solvent under the AVSL rule in every risk mode and grid (revaluation included): ``covered_call``,
    ``short_strangle``, ``delta_neutral``, ``calendar_spread``,
    ``market_maker`` (a 60-position two-underlying book). Insolvent in every
    mode: ``naked_short_insolvent`` (short near-dated ATM calls on thin
    collateral) and ``overlevered_perp`` (~45x long BTC perpetual).

    Quantities and balances at QTY_SCALE; salts from :func:`demo_salt` (demo only).
    """
    C, P = InstrumentKind.CALL, InstrumentKind.PUT
    books: dict[str, tuple[list[tuple[str, float]], dict[str, float]]] = {
        "covered_call": (
            [("BTC-USD", 1.0), (_option(market, "BTC", C, 2, 1.10), -1.0)],
            {"USDC": 1_000.0},
        ),
        "short_strangle": (
            [(_option(market, "ETH", P, 2, 0.85), -25.0), (_option(market, "ETH", C, 2, 1.15), -25.0)],
            {"USDC": 10_000.0, "ETH": 2.0},
        ),
        "delta_neutral": (
            [
                (_option(market, "BTC", C, 2, 1.0), 2.0),
                (_option(market, "BTC", P, 2, 1.0), 2.0),
                ("BTC-PERPETUAL", -0.1),
            ],
            {"USDC": 4_000.0},
        ),
        "calendar_spread": (
            [(_option(market, "BTC", C, 0, 1.0), -1.0), (_option(market, "BTC", C, -1, 1.0), 1.0)],
            {"USDC": 4_000.0, "USDT": 2_000.0},
        ),
        "market_maker": _market_maker_book(market, seed),
        "naked_short_insolvent": (
            [(_option(market, "BTC", C, 0, 1.0), -10.0)],
            {"USDC": 25_000.0},
        ),
        "overlevered_perp": (
            [("BTC-PERPETUAL", 20.0)],
            {"USDC": 30_000.0},
        ),
    }
    out: dict[str, Account] = {}
    for name, (positions, coll) in books.items():
        out[name] = Account(
            positions=tuple(Position(sym, _qty(q)) for sym, q in positions),
            collateral={sym: _qty(bal) for sym, bal in coll.items()},
            salt=demo_salt(seed, name),
        ).validated(market)
    return out


def _market_maker_book(market: MarketState, seed: int) -> tuple[list[tuple[str, float]], dict[str, float]]:
    """A seeded two-sided options book (28 options per underlying), delta-hedged with perps.

    The USDC balance is sized from a model-free upper bound on the margin, so
    the book is solvent in every risk mode whatever the seed::

        B = sum_u |Delta_u| S_u r_u + |Gamma_u| (S_u r_u)^2 / 2 + |Vega_u| sigma_u / 2,   r_u = 6 sigma_u sqrt(h)

    (net greeks per underlying) bounds every stress, ES and VaR loss the demo publishes (price shocks are
    at most 5.4 sigma sqrt(h), vol shocks at most sigma/2 in size); USDC =
    max(0, -premium) + 1.6 (1 + V beta) B, rounded up to 1,000.
    """
    rng = np.random.default_rng([seed, 0x6D6D])  # "mm"
    positions: list[tuple[str, float]] = []
    unit = {"BTC": 5.0, "ETH": 50.0}
    vols = scenarios.risk_vols(market.underlyings)
    sqrt_h = math.sqrt(scenarios.horizon_years(market.params.horizon_seconds))
    premium = 0.0
    bound = 0.0
    for u, und in enumerate(market.underlyings):
        spot = und.spot / fp.PRICE_SCALE
        move = spot * 6.0 * vols[u] * sqrt_h
        opts = [i for i in market.instruments if i.underlying == u and i.kind.is_option]
        picks = rng.choice(len(opts), size=min(28, len(opts)), replace=False)
        net_delta = 0.0
        legs: list[tuple[Instrument, float]] = []
        for idx in sorted(int(x) for x in picks):
            ins = opts[idx]
            q = float(np.round(rng.uniform(0.1, 2.0) * unit[und.symbol], 1)) * (1.0 if rng.random() < 0.5 else -1.0)
            legs.append((ins, q))
            net_delta += q * ins.delta / fp.DELTA_SCALE
        perp = market.instruments[market.instrument_index(f"{und.symbol}-PERPETUAL")]
        spot_ins = market.instruments[market.instrument_index(f"{und.symbol}-USD")]
        legs.append((perp, float(np.round(-net_delta, 3)) or 0.001))
        legs.append((spot_ins, 0.5 * unit[und.symbol]))
        net = [0.0, 0.0, 0.0]
        for ins, q in legs:
            positions.append((ins.symbol, q))
            premium += q * ins.mark / fp.PRICE_SCALE
            net[0] += q * ins.delta / fp.DELTA_SCALE
            net[1] += q * ins.gamma / fp.GAMMA_SCALE
            net[2] += q * ins.vega / fp.VEGA_SCALE
        bound += abs(net[0]) * move + 0.5 * abs(net[1]) * move * move + abs(net[2]) * 0.5 * vols[u]
    p = market.params
    avsl = 1.0 + (p.v_scalar / _RATIO) * (p.beta / _RATIO)
    usdc = max(0.0, -premium) + 1.6 * avsl * (p.min_ratio / _RATIO) * bound
    usdc = 1_000.0 * math.ceil(usdc / 1_000.0)
    return positions, {"USDC": usdc, "USDT": 50_000.0, "BTC": 1.0, "ETH": 10.0}


def all_demo_markets(seed: int = 7, **kwargs: Any) -> list[MarketState]:
    """Demo markets for every (risk mode, grid) combination, ES first (its scenarios are the MC set);
    the revaluation mode last, over every grid and the MC set.

    ``kwargs`` are passed to :func:`demo_market`.
    """
    out = [demo_market(seed, "es", "span", **kwargs)]
    for mode in ("stress", "var", "revaluation"):
        for grid in scenarios.GRIDS:
            out.append(demo_market(seed, mode, grid, **kwargs))
    out.append(demo_market(seed, "revaluation", MC_GRID, **kwargs))
    return out
