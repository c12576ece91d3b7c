"""Scenario grids and VaR parameters for the three risk modes (DESIGN §2).

Every builder returns a :class:`zksolv.core.market.ScenarioSet` of integers:
``price_shocks[u][k]`` relative moves at RATIO_SCALE, ``vol_shocks[u][k]``
absolute vol changes at VOL_SCALE, ``weights[k]`` at RATIO_SCALE summing to
exactly RATIO_SCALE (:func:`equal_weights` hands the rounding remainder, one
unit each, to the first scenarios — deterministic).

Scan ranges come from each underlying's own volatility and the liquidation
horizon (the "liquidation horizon buffer")::

    PSR_u = multiplier * sigma_u * sqrt(h)        h = horizon_seconds / (365 * 86400)
    VSR_u = vol_shift * sigma_u                   (the "vega stress", relative to the vol level)

For several underlyings the stress grids apply the *same scenario index* to
every underlying (row u holds scenario k scaled by that underlying's PSR_u /
VSR_u). Stress mode takes the worst scenario per underlying, so cross-
underlying structure does not matter there; ES uses the joint Monte-Carlo
set (:func:`monte_carlo_scenarios`).

Rounding: grid shocks are rounded **away from zero** (ceil of the magnitude,
computed exactly from the float via :class:`fractions.Fraction`; values
within 1e-6 of a unit of an integer — float noise such as ``0.1`` — snap to
it) so a published shock is never smaller than the model's; ``+x`` and
``-x`` stay exact negatives of each other. The absolute price move the circuit
uses, ``dS = r * S`` (:meth:`zksolv.core.market.MarketState.price_moves`), and the
VaR loadings likewise round their magnitude up, so neither is smaller than the
real-valued model's either. Monte-Carlo samples (random draws, with no model
value to bound) round half away.

Keeper side: the stress grids, the Monte-Carlo sets and :func:`var_parameters`
are pure Python (the factor is :func:`cholesky_lower`, not LAPACK; the draws
:func:`standard_normals`, not numpy's generator), and numpy is imported only by
:func:`cholesky`, so a keeper's audit (:mod:`zksolv.core.audit`) re-derives a
published grid, Monte-Carlo set and VaR parameters with this very code, without
numpy.

Grid layouts (``f`` = fraction of PSR_u, ``v`` = multiple of VSR_u):

* ``span`` (CME SPAN, 16): k=0,1: f=0, v=+1/-1; then f=+1/3 (v=+1,-1),
  -1/3 (+1,-1), +2/3, -2/3, +1, -1 (k=2..13); k=14,15: the extreme moves
  f=+3/-3 with v=0 at 35% coverage. SPAN charges 35% of the *loss* of a 3x
  move; a delta–gamma loss is not linear in the shock, so the extreme shock
  is published as ``3*sqrt(0.35) = 1.775`` PSR, which reproduces the covered
  gamma loss exactly and overstates the covered delta loss (1.775 vs 1.05
  PSR): conservative, as margin must be.
* ``deribit`` (Deribit PM): ``2*steps + 1`` evenly spaced price moves
  ``f in [-1, +1]`` (default steps=5, 11 buckets) x 3 vol shocks
  v in (-1, 0, +1) (down / unchanged / up), price-major: k = 3*i + j.
* ``paradex`` (24): 8 price moves f in (-1, -3/4, -1/2, -1/4, +1/4, +1/2,
  +3/4, +1) x 3 vol shocks v in (-1, 0, +1), price-major. There is no
  zero price move (8 x 3 keeps the count at 24 and the grid symmetric); a
  pure vol move is approximated by the +-1/4 rows, which differ from it
  only by a quarter-range delta/gamma term.
* ``horizon``: ``2*steps + 1`` price moves spanning ``+-multiplier*sigma*sqrt(h)``
  (default steps=4) x the two-sided vega stress v in (+1, -1). An
  unchanged-vol row would never bind: the loss is linear in the vol shock,
  so one of +-VSR is always at least as bad.
"""

from __future__ import annotations

import hashlib
import math
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Sequence

from zksolv.core import fixedpoint as fp
from zksolv.core.errors import InputError
from zksolv.core.market import ScenarioSet, Underlying
from zksolv.core.volatility import _is_number

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = [
    "SECONDS_PER_YEAR",
    "GRIDS",
    "horizon_years",
    "risk_vols",
    "scan_ranges",
    "equal_weights",
    "span_layout",
    "span_scenarios",
    "deribit_scenarios",
    "paradex_scenarios",
    "horizon_scenarios",
    "stress_scenarios",
    "cholesky",
    "cholesky_lower",
    "standard_normals",
    "monte_carlo_scenarios",
    "var_parameters",
]

SECONDS_PER_YEAR = fp.SECONDS_PER_YEAR  #: ACT/365, defined once in :mod:`zksolv.core.fixedpoint`
#: SPAN extreme-move multiple and the share of its loss that is covered.
SPAN_EXTREME_MULTIPLE = 3.0
SPAN_EXTREME_COVERAGE = 0.35

GRIDS = ("span", "deribit", "paradex", "horizon")


# ---------------------------------------------------------------- helpers
def _pos_float(name: str, value: Any, *, allow_zero: bool = False) -> float:
    if not _is_number(value):
        raise InputError(f"{name}: expected a number, got {type(value).__name__}")
    x = float(value)
    if not math.isfinite(x):
        raise InputError(f"{name}: must be finite (got NaN or infinity)")
    if x < 0 or (x == 0 and not allow_zero):
        raise InputError(f"{name}: must be {'non-negative' if allow_zero else 'positive'}")
    return x


def _vols(vols: Sequence[float]) -> list[float]:
    out = [_pos_float(f"vols[{u}]", v) for u, v in enumerate(vols)]
    if not 1 <= len(out) <= fp.MAX_UNDERLYINGS:
        raise InputError(f"vols: need 1..{fp.MAX_UNDERLYINGS} underlyings, got {len(out)}")
    return out


def horizon_years(horizon_seconds: int) -> float:
    """Liquidation horizon in years (ACT/365)."""
    if (not _is_number(horizon_seconds) or isinstance(horizon_seconds, float)
            or int(horizon_seconds) != horizon_seconds or horizon_seconds <= 0):
        raise InputError("horizon_seconds: must be a positive integer")
    return int(horizon_seconds) / SECONDS_PER_YEAR


def risk_vols(underlyings: Sequence[Underlying]) -> list[float]:
    """Vol per underlying used for scan ranges: ``max(vol_ema, iv_atm)`` (fraction).

    Taking the larger of realised (EMA) and implied ATM vol keeps the grid
    wide when either signals stress.
    """
    return [max(u.vol_ema, u.iv_atm) / fp.VOL_SCALE for u in underlyings]


def scan_ranges(vols: Sequence[float], horizon_seconds: int, multiplier: float = 3.0) -> list[float]:
    """``PSR_u = multiplier * sigma_u * sqrt(horizon)`` (relative price move per underlying)."""
    h = horizon_years(horizon_seconds)
    m = _pos_float("multiplier", multiplier)
    return [m * s * math.sqrt(h) for s in _vols(vols)]


_SNAP = Fraction(1, 10**6)  #: float noise tolerance, in units of the last published digit


def _ceil_away(x: float, scale: int) -> int:
    """``sign(x) * ceil(|x| * scale)`` on the float's exact binary value.

    A value within 1e-6 of a unit of its nearest integer snaps to it, so a
    decimal input such as ``0.1`` (binary 0.1000000000000000055...) publishes
    as 100000, not 100001; anything further above rounds up.
    """
    exact = Fraction(abs(x)) * scale
    nearest = round(exact)
    q = nearest if abs(exact - nearest) <= _SNAP else math.ceil(exact)
    return -q if x < 0 else q


def equal_weights(k: int) -> tuple[int, ...]:
    """``k`` weights at RATIO_SCALE summing to exactly RATIO_SCALE.

    Each gets ``RATIO_SCALE // k``; the remainder goes one unit each to the
    first ``RATIO_SCALE % k`` scenarios.
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= fp.MAX_SCENARIOS:
        raise InputError(f"scenarios (count): must lie in [1, {fp.MAX_SCENARIOS}]")
    base, rem = divmod(fp.RATIO_SCALE, k)
    return tuple(base + (1 if i < rem else 0) for i in range(k))


def _grid(
    name: str,
    vols: Sequence[float],
    horizon_seconds: int,
    layout: Sequence[tuple[float, float]],
    multiplier: float,
    vol_shift: float,
) -> ScenarioSet:
    """Build a ScenarioSet from a layout of ``(price fraction of PSR, vol multiple of VSR)``."""
    sig = _vols(vols)
    psr = scan_ranges(sig, horizon_seconds, multiplier)
    vs = _pos_float("vol_shift", vol_shift, allow_zero=True)
    if len(layout) > fp.MAX_SCENARIOS:
        raise InputError(f"scenarios (count): {len(layout)} exceeds {fp.MAX_SCENARIOS}")
    price, vol = [], []
    for u, s in enumerate(sig):
        row_p = [_ceil_away(f * psr[u], fp.RATIO_SCALE) for f, _ in layout]
        row_v = [_ceil_away(v * vs * s, fp.VOL_SCALE) for _, v in layout]
        if any(abs(x) >= fp.RATIO_SCALE for x in row_p):
            raise InputError(f"vols[{u}]: the scan range reaches a 100% price move; shorten the horizon or multiplier")
        price.append(tuple(row_p))
        vol.append(tuple(row_v))
    return ScenarioSet(name=name, price_shocks=tuple(price), vol_shocks=tuple(vol), weights=equal_weights(len(layout)))


# ------------------------------------------------------------ stress grids
def span_layout(extreme_multiple: float = SPAN_EXTREME_MULTIPLE, coverage: float = SPAN_EXTREME_COVERAGE) -> list[tuple[float, float]]:
    """The 16 CME SPAN risk-array scenarios as ``(fraction of PSR, multiple of VSR)``."""
    extreme = extreme_multiple * math.sqrt(coverage)
    layout: list[tuple[float, float]] = [(0.0, 1.0), (0.0, -1.0)]
    for f in (1 / 3, -1 / 3, 2 / 3, -2 / 3, 1.0, -1.0):
        layout += [(f, 1.0), (f, -1.0)]
    layout += [(extreme, 0.0), (-extreme, 0.0)]
    return layout


def span_scenarios(
    vols: Sequence[float],
    horizon_seconds: int = 86_400,
    *,
    multiplier: float = 3.0,
    vol_shift: float = 0.25,
    extreme_multiple: float = SPAN_EXTREME_MULTIPLE,
    extreme_coverage: float = SPAN_EXTREME_COVERAGE,
) -> ScenarioSet:
    """CME-SPAN-like 16-scenario grid per underlying (layout in the module docstring).

    Parameters
    ----------
    vols : sequence of float
        Annualised vol per underlying (fraction), e.g. :func:`risk_vols`.
    horizon_seconds : int
        Liquidation horizon (default one day).
    multiplier : float
        Price scan range in standard deviations over the horizon.
    vol_shift : float
        Vol scan range as a fraction of each underlying's vol (0.25 = +-25%).
    extreme_multiple, extreme_coverage : float
        SPAN extreme move (3x PSR) and its covered share (35%).
    """
    _pos_float("extreme_multiple", extreme_multiple)
    cov = _pos_float("extreme_coverage", extreme_coverage)
    if cov > 1:
        raise InputError("extreme_coverage: must lie in (0, 1]")
    return _grid("span16", vols, horizon_seconds, span_layout(extreme_multiple, cov), multiplier, vol_shift)


def deribit_scenarios(
    vols: Sequence[float],
    horizon_seconds: int = 86_400,
    *,
    multiplier: float = 3.0,
    steps: int = 5,
    vol_shift: float = 0.25,
) -> ScenarioSet:
    """Deribit-PM-like grid: ``2*steps+1`` price buckets over ``[-PSR, +PSR]`` x (vol down, unchanged, up)."""
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 42:
        raise InputError("steps: must be an integer in [1, 42] (3*(2*steps+1) <= 256 scenarios)")
    layout = [(i / steps, v) for i in range(-steps, steps + 1) for v in (-1.0, 0.0, 1.0)]
    return _grid(f"deribit{len(layout)}", vols, horizon_seconds, layout, multiplier, vol_shift)


def paradex_scenarios(
    vols: Sequence[float],
    horizon_seconds: int = 86_400,
    *,
    multiplier: float = 3.0,
    vol_shift: float = 0.25,
) -> ScenarioSet:
    """Paradex-like 24-scenario grid: 8 price moves (+-1/4 .. +-1 PSR) x 3 vol shocks."""
    fracs = (-1.0, -0.75, -0.5, -0.25, 0.25, 0.5, 0.75, 1.0)
    layout = [(f, v) for f in fracs for v in (-1.0, 0.0, 1.0)]
    return _grid("paradex24", vols, horizon_seconds, layout, multiplier, vol_shift)


def horizon_scenarios(
    vols: Sequence[float],
    horizon_seconds: int = 86_400,
    *,
    multiplier: float = 3.0,
    steps: int = 4,
    vega_stress: float = 0.25,
) -> ScenarioSet:
    """Horizon-derived grid: price moves ``i/steps * m*sigma*sqrt(h)``, ``i = -steps..steps``, x vol +-vega_stress*sigma."""
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 63:
        raise InputError("steps: must be an integer in [1, 63] (2*(2*steps+1) <= 256 scenarios)")
    layout = [(i / steps, v) for i in range(-steps, steps + 1) for v in (1.0, -1.0)]
    return _grid(f"horizon{len(layout)}", vols, horizon_seconds, layout, multiplier, vega_stress)


def stress_scenarios(grid: str, vols: Sequence[float], horizon_seconds: int = 86_400, **kwargs: Any) -> ScenarioSet:
    """Dispatch by name: ``span`` | ``deribit`` | ``paradex`` | ``horizon``."""
    builders = {
        "span": span_scenarios,
        "deribit": deribit_scenarios,
        "paradex": paradex_scenarios,
        "horizon": horizon_scenarios,
    }
    try:
        fn = builders[grid]
    except KeyError:
        raise InputError(f"grid: must be one of {list(builders)}") from None
    return fn(vols, horizon_seconds, **kwargs)


# ------------------------------------------------------------ joint sets (ES)
def cholesky_lower(correlation: Any, n: int | None = None) -> tuple[tuple[float, ...], ...]:
    """Lower Cholesky factor ``L`` (``corr = L L^T``) in pure Python: the factor the VaR loadings
    are built from, by the oracle and by a keeper's audit alike (same IEEE operations in the same
    order, so both get the same floats bit for bit; no numpy on the keeper's path).

    ``L[i][j] = (c[i][j] - sum_{k<j} L[i][k] L[j][k]) / L[j][j]`` for ``j < i``,
    ``L[i][i] = sqrt(c[i][i] - sum_{k<i} L[i][k]^2)``, sums taken in increasing ``k``.

    Raises :class:`InputError` as :func:`cholesky` (shape, finiteness, symmetry, unit diagonal,
    entries in [-1, 1], positive definiteness).
    """
    try:
        rows = [[float(x) for x in row] for row in correlation]
    except (TypeError, ValueError):
        raise InputError("correlation: expected a matrix of numbers") from None
    size = len(rows)
    if any(len(row) != size for row in rows) or (n is not None and size != n):
        want = f"{n}x{n}" if n is not None else "square"
        raise InputError(f"correlation: expected a {want} matrix, got {size} rows of lengths {[len(r) for r in rows]}")
    if not all(math.isfinite(x) for row in rows for x in row):
        raise InputError("correlation: must be finite (got NaN or infinity)")
    if any(abs(rows[i][j] - rows[j][i]) > 1e-12 for i in range(size) for j in range(size)):
        raise InputError("correlation: must be symmetric")
    if any(abs(rows[i][i] - 1.0) > 1e-12 for i in range(size)):
        raise InputError("correlation: diagonal must be 1")
    if any(abs(x) > 1.0 for row in rows for x in row):
        raise InputError("correlation: entries must lie in [-1, 1]")
    low = [[0.0] * size for _ in range(size)]
    for i in range(size):
        for j in range(i + 1):
            acc = rows[i][j]
            for k in range(j):
                acc -= low[i][k] * low[j][k]
            if i == j:
                if not acc > 0.0:
                    raise InputError("correlation: not positive definite")
                low[i][i] = math.sqrt(acc)
            else:
                low[i][j] = acc / low[j][j]
    return tuple(tuple(row) for row in low)


def cholesky(correlation: Any, n: int | None = None) -> np.ndarray:
    """Lower Cholesky factor ``L`` with ``corr = L L^T`` of a validated correlation matrix.

    Raises
    ------
    InputError
        Not square (or not ``n x n``), not finite, not symmetric, diagonal not
        1, an entry outside [-1, 1], or not positive definite.
    """
    import numpy as np

    try:
        c = np.asarray(correlation, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("correlation: expected a matrix of numbers") from None
    if c.ndim != 2 or c.shape[0] != c.shape[1] or (n is not None and c.shape[0] != n):
        want = f"{n}x{n}" if n is not None else "square"
        raise InputError(f"correlation: expected a {want} matrix, got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise InputError("correlation: must be finite (got NaN or infinity)")
    if not np.allclose(c, c.T, rtol=0, atol=1e-12):
        raise InputError("correlation: must be symmetric")
    if not np.allclose(np.diag(c), 1.0, rtol=0, atol=1e-12):
        raise InputError("correlation: diagonal must be 1")
    if np.any(np.abs(c) > 1.0):
        raise InputError("correlation: entries must lie in [-1, 1]")
    try:
        return np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        raise InputError("correlation: not positive definite") from None


#: Domain of the Monte-Carlo generator's hash (a new generator takes a new tag).
MC_DOMAIN = "zksolv/mc/v1"


def standard_normals(seed: int, rows: int, count: int) -> list[list[float]]:
    """``rows x count`` standard normal draws, reproducible from ``seed`` in pure Python on any machine.

    Draw ``j`` of row ``f``: the first 52 bits ``k`` of ``SHA-256("zksolv/mc/v1:<seed>:<f>:<j>")``
    give the uniform ``p = (2k + 1) / 2^53`` (exact in a float, in ``(0, 1)``), and the draw is
    ``statistics.NormalDist().inv_cdf(p)``. No numpy: a keeper re-derives a published Monte-Carlo
    set with this very code (:func:`zksolv.core.audit.audit_risk_parameters`).
    """
    from statistics import NormalDist

    inv_cdf = NormalDist().inv_cdf
    out = []
    for f in range(rows):
        row = []
        for j in range(count):
            digest = hashlib.sha256(f"{MC_DOMAIN}:{seed}:{f}:{j}".encode()).digest()
            k = int.from_bytes(digest[:8], "big") >> 12
            row.append(inv_cdf((2 * k + 1) / 2.0**53))
        out.append(row)
    return out


def monte_carlo_scenarios(
    vols: Sequence[float],
    correlation: Any,
    horizon_seconds: int = 86_400,
    *,
    n: int = 128,
    seed: int = 0,
    spot_vol_beta: float = 2.0,
    antithetic: bool = True,
) -> ScenarioSet:
    """Seeded joint Monte-Carlo scenarios for ES, equal weights.

    For scenario k: ``z_k = L eps_k`` with ``eps_k ~ N(0, I)`` (:func:`standard_normals`) and ``L``
    the Cholesky factor of ``correlation`` (:func:`cholesky_lower`); per underlying
    ``r_{u,k} = exp(sigma_u sqrt(h) z_{u,k} - sigma_u^2 h / 2) - 1`` (log-normal
    over the horizon, mean-zero price change) and the vol shock proportional
    to the move and the vol level (spot–vol "leverage" effect)
    ``dsigma_{u,k} = -spot_vol_beta * sigma_u * r_{u,k}``, floored so the
    shocked vol stays >= 0. With ``antithetic`` the second half of the draws
    is the negation of the first (``n`` must be even).

    Pure Python and reproducible from ``seed`` (the name ``mc<n>-seed<seed>`` carries both), so a
    keeper re-derives a published set without numpy; float results can differ by a last bit
    between platforms' libm (``log`` in the inverse normal, ``expm1``), hence the audit's
    one-unit tolerance on these sets (:data:`zksolv.core.audit.MC_TOLERANCE`).
    """
    sig = _vols(vols)
    u_count = len(sig)
    chol = cholesky_lower(correlation, u_count)
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= fp.MAX_SCENARIOS:
        raise InputError(f"n: must be an integer in [2, {fp.MAX_SCENARIOS}]")
    if antithetic and n % 2:
        raise InputError("n: must be even for antithetic sampling")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError("seed: must be a non-negative integer")
    beta = _pos_float("spot_vol_beta", spot_vol_beta, allow_zero=True)
    h = horizon_years(horizon_seconds)
    half = n // 2 if antithetic else n
    eps = standard_normals(seed, u_count, half)
    if antithetic:
        eps = [row + [-x for x in row] for row in eps]
    price, vol = [], []
    for u, s in enumerate(sig):
        sh = s * math.sqrt(h)
        row_p, row_v = [], []
        for k in range(n):
            z = 0.0
            for f in range(u + 1):
                z += chol[u][f] * eps[f][k]
            r = math.expm1(sh * z - 0.5 * sh * sh)
            dv = max(-beta * s * r, -s)
            row_p.append(fp.from_float(r, fp.RATIO_SCALE))
            row_v.append(fp.from_float(dv, fp.VOL_SCALE))
        price.append(tuple(row_p))
        vol.append(tuple(row_v))
    return ScenarioSet(
        name=f"mc{n}-seed{seed}", price_shocks=tuple(price), vol_shocks=tuple(vol), weights=equal_weights(n)
    )


# ------------------------------------------------------------------- VaR
def var_parameters(
    underlyings: Sequence[Underlying],
    correlation: Any,
    z: float,
    horizon_seconds: int,
    vega_stress: float | Sequence[float],
    *,
    vols: Sequence[float] | None = None,
) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...], tuple[int, ...]]:
    """Published VaR parameters ``(var_loadings, gamma_addon, vega_stress)``.

    The model computes ``y_f = sum_u a[u][f] * Delta_u`` and
    ``VaR_delta = sqrt(sum_f y_f^2)``; with ``corr = L L^T`` this equals
    ``z * sqrt(x^T corr x)``, ``x_u = Delta_u S_u sigma_u sqrt(h)``, when::

        a[u][f] = z * L[u][f] * S_u * sigma_u * sqrt(h)        micro-USD per unit, magnitude rounded up
        g[u]    = (z * sigma_u * sqrt(h) * S_u)^2              PRICE^2 scale (1e12), rounded up
        vs[u]   = vega_stress_u                                VOL_SCALE, rounded up

    Parameters
    ----------
    underlyings : sequence of Underlying
        Spots ``S_u`` (PRICE_SCALE) and vols.
    correlation : (U, U) array_like
        Correlation of the underlyings' returns.
    z : float
        Normal quantile (2.326 for 99%).
    horizon_seconds : int
        Liquidation horizon; ``h`` in years (ACT/365).
    vega_stress : float or sequence of float
        Absolute vol shock(s) for the vega add-on (0.1 = 10 vol points).
    vols : sequence of float, optional
        ``sigma_u``; default :func:`risk_vols` (``max(vol_ema, iv_atm)``).
    """
    u_count = len(underlyings)
    if not 1 <= u_count <= fp.MAX_UNDERLYINGS:
        raise InputError(f"underlyings: need 1..{fp.MAX_UNDERLYINGS}")
    sig = _vols(risk_vols(underlyings) if vols is None else vols)
    if len(sig) != u_count:
        raise InputError(f"vols: expected {u_count} entries, got {len(sig)}")
    chol = cholesky_lower(correlation, u_count)
    zf = _pos_float("z", z)
    sqrt_h = math.sqrt(horizon_years(horizon_seconds))
    if _is_number(vega_stress):
        stresses = [vega_stress] * u_count
    else:
        stresses = list(vega_stress)
        if len(stresses) != u_count:
            raise InputError(f"vega_stress: expected {u_count} entries, got {len(stresses)}")
    loadings, gamma_addon, vs = [], [], []
    for u, und in enumerate(underlyings):
        spot = und.spot / fp.PRICE_SCALE
        scale_u = zf * spot * sig[u] * sqrt_h
        row = tuple(fp.from_float(chol[u][f] * scale_u, fp.PRICE_SCALE, "away") for f in range(u_count))
        for f, a in enumerate(row):
            fp.check_bits(f"var_loadings[{u}][{f}]", a, fp.LOADING_BITS, signed=True)
        loadings.append(row)
        num, den = (Fraction(scale_u) ** 2).as_integer_ratio()  # exact square of the float, then up
        g = fp.ceil_div(num * fp.PRICE_SCALE * fp.PRICE_SCALE, den)
        gamma_addon.append(fp.check_bits(f"gamma_addon[{u}]", g, fp.GAMMA_ADDON_BITS, signed=False))
        stress = _pos_float(f"vega_stress[{u}]", stresses[u], allow_zero=True)
        vs.append(fp.check_bits(f"vega_stress[{u}]", _ceil_away(stress, fp.VOL_SCALE), fp.VOL_BITS, signed=False))
    return tuple(loadings), tuple(gamma_addon), tuple(vs)
