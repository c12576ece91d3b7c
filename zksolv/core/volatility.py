"""Realised volatility, its EMA, the implied-vol skew measure and the V-Scalar.

AVSL scales the base maintenance margin by ``1 + V * beta`` with (DESIGN §1)::

    V = alpha * EMA(sigma_realised) + (1 - alpha) * Skew(sigma_implied)

Both terms are annualised volatilities as fractions (0.55 = 55 vol points), so
``V`` is dimensionless and published at RATIO_SCALE.

Definitions chosen here
-----------------------
* **Realised vol** (:func:`realised_vol`): close-to-close log returns
  ``r_t = ln(P_t / P_{t-1})``, zero-mean estimator (RiskMetrics convention;
  the sample mean of daily crypto returns is noise at this horizon)::

      sigma = sqrt( periods_per_year * mean(r_t^2) )

  ``periods_per_year`` defaults to 365 (daily closes, crypto trades every day).
  ``demean=True`` gives the sample standard deviation (ddof=1) instead.
* **EMA** (:func:`ema`): the exponentially weighted recursion, seeded with the
  first observation::

      e_0 = x_0,     e_t = lam * e_{t-1} + (1 - lam) * x_t

  with decay ``lam`` given directly (default 0.94, the RiskMetrics daily
  decay), or by ``halflife`` h (``lam = 2^(-1/h)``, weight halves every h
  observations), or by ``span`` N (``lam = 1 - 2/(N + 1)``, the pandas
  ``ewm(span=N, adjust=False)`` convention). The EMA is taken over a
  realised-vol *history* (a vol per observation), as the published
  ``Underlying.vol_history`` / ``vol_ema`` pair.
* **Skew** (:func:`skew_measure`): the magnitude of the 25-delta risk
  reversal, in vol units::

      Skew = | sigma_25d_put - sigma_25d_call |

  The risk reversal is the market-standard skew quote (Deribit, CME and the
  FX market quote it directly). Its magnitude is used because crypto skew
  flips sign — put skew in sell-offs, call skew in squeezes — and both are a
  priced tail (so ``Skew >= 0`` and V never *lowers* margin). Being in vol
  units it is commensurate with the EMA term. ``normalise=True`` divides by
  the ATM vol (a dimensionless skew ratio ``|RR25| / sigma_ATM``) for users
  who prefer the relative form; then ``V`` mixes a vol with a ratio and
  ``alpha``/``beta`` must be calibrated for it.
* **Several underlyings**: the market publishes one V. :func:`v_scalar_market`
  takes the maximum of the per-underlying V's (the most conservative choice).

Fixed point (what an oracle publishes and a keeper audits,
:meth:`zksolv.core.market.MarketState.audit_derived`):

* :func:`ema_fixed` is the published ``vol_ema``: the RiskMetrics EMA
  (``lam = 47/50 = 0.94`` exactly) of the published VOL_SCALE
  ``vol_history``, in exact rationals, rounded **up** once;
* :func:`v_scalar_market` is the published V: the maximum over underlyings of
  :func:`v_scalar_fixed` (alpha at RATIO_SCALE, ``vol_ema`` and the
  un-normalised skew at VOL_SCALE), each rounded **up** once (V raises margin,
  and margin rounds up).

Every input is a committed integer (alpha in the params header, ``vol_ema``
and the ``iv_*`` quotes in ``underlyings_hash``), so V is reproducible bit for
bit. ``normalise=True`` is for analysis only: a published V must use the
plain risk-reversal skew, or the keeper's audit rejects the state.

numpy is imported only by the float functions (realised vol, EMA paths): the
fixed-point ones above are what a keeper's market audit runs, and a keeper's
install has no numpy.
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    import numpy as np

from zksolv.core import fixedpoint as fp
from zksolv.core.errors import InputError

__all__ = [
    "RISKMETRICS_LAMBDA",
    "ema_decay",
    "ema_series",
    "ema",
    "ema_fixed",
    "log_returns",
    "realised_vol",
    "rolling_realised_vol",
    "skew_measure",
    "skew_fixed",
    "v_scalar",
    "v_scalar_fixed",
    "v_scalar_market",
]

#: RiskMetrics (J.P. Morgan, 1996) decay factor for daily data.
RISKMETRICS_LAMBDA = 0.94
#: The same decay as an exact rational, for the published (integer) EMA.
RISKMETRICS_LAMBDA_EXACT = Fraction(47, 50)


def _is_number(value: Any) -> bool:
    """int, float or a numpy integer / floating scalar (not bool); never imports numpy itself."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    np = sys.modules.get("numpy")  # a numpy scalar exists only once numpy is imported
    return np is not None and isinstance(value, (np.integer, np.floating))


def _finite(name: str, value: Any) -> float:
    if not _is_number(value):
        raise InputError(f"{name}: expected a number, got {type(value).__name__}")
    x = float(value)
    if not math.isfinite(x):
        raise InputError(f"{name}: must be finite (got NaN or infinity)")
    return x


def _nonneg(name: str, value: Any) -> float:
    x = _finite(name, value)
    if x < 0:
        raise InputError(f"{name}: must not be negative")
    return x


def _array(name: str, values: Any, *, min_len: int, positive: bool = False, nonneg: bool = False) -> np.ndarray:
    import numpy as np

    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected a sequence of numbers") from None
    if arr.ndim != 1:
        raise InputError(f"{name}: expected a 1-D sequence")
    if arr.shape[0] < min_len:
        raise InputError(f"{name}: needs at least {min_len} values, got {arr.shape[0]}")
    bad = np.nonzero(~np.isfinite(arr))[0]
    if bad.size:
        raise InputError(f"{name}[{int(bad[0])}]: must be finite (got NaN or infinity)")
    if positive:
        bad = np.nonzero(arr <= 0)[0]
        if bad.size:
            raise InputError(f"{name}[{int(bad[0])}]: must be positive")
    if nonneg:
        bad = np.nonzero(arr < 0)[0]
        if bad.size:
            raise InputError(f"{name}[{int(bad[0])}]: must not be negative")
    return arr


# ------------------------------------------------------------------------ EMA
def ema_decay(*, lam: float | None = None, halflife: float | None = None, span: float | None = None) -> float:
    """Decay factor ``lam`` from exactly one of ``lam``, ``halflife``, ``span``.

    ``halflife`` h (observations): ``lam = 2^(-1/h)``; ``span`` N:
    ``lam = 1 - 2/(N+1)``; none given: :data:`RISKMETRICS_LAMBDA` (0.94).

    Raises
    ------
    InputError
        More than one given, or a value outside ``0 <= lam < 1``, ``h > 0``, ``N >= 1``.
    """
    given = [x is not None for x in (lam, halflife, span)]
    if sum(given) > 1:
        raise InputError("ema: give at most one of lam, halflife, span")
    if halflife is not None:
        h = _finite("halflife", halflife)
        if h <= 0:
            raise InputError("halflife: must be positive")
        return 2.0 ** (-1.0 / h)
    if span is not None:
        n = _finite("span", span)
        if n < 1:
            raise InputError("span: must be >= 1")
        return 1.0 - 2.0 / (n + 1.0)
    value = RISKMETRICS_LAMBDA if lam is None else _finite("lam", lam)
    if not 0.0 <= value < 1.0:
        raise InputError("lam: must lie in [0, 1)")
    return value


def ema_series(
    values: Sequence[float] | np.ndarray,
    *,
    lam: float | None = None,
    halflife: float | None = None,
    span: float | None = None,
) -> np.ndarray:
    """The whole EMA path ``e_t = lam*e_{t-1} + (1-lam)*x_t``, ``e_0 = x_0``.

    Parameters
    ----------
    values : sequence of float, length >= 1
        Observations (e.g. annualised realised vols), oldest first.
    lam, halflife, span
        Decay, see :func:`ema_decay` (default RiskMetrics ``lam = 0.94``).

    Returns
    -------
    numpy.ndarray
        ``e_t`` for every t, same units as ``values``.
    """
    import numpy as np

    x = _array("values", values, min_len=1)
    d = ema_decay(lam=lam, halflife=halflife, span=span)
    out = np.empty_like(x)
    acc = x[0]
    out[0] = acc
    for t in range(1, x.shape[0]):
        acc = d * acc + (1.0 - d) * x[t]
        out[t] = acc
    return out


def ema(
    values: Sequence[float] | np.ndarray,
    *,
    lam: float | None = None,
    halflife: float | None = None,
    span: float | None = None,
) -> float:
    """Latest EMA value ``e_T`` of ``values`` (see :func:`ema_series`)."""
    return float(ema_series(values, lam=lam, halflife=halflife, span=span)[-1])


def ema_fixed(history: Sequence[int], lam: Fraction = RISKMETRICS_LAMBDA_EXACT) -> int:
    """The published ``vol_ema``: :func:`ema_series`' recursion on VOL_SCALE ints.

    ``e_0 = x_0``, ``e_t = lam*e_{t-1} + (1-lam)*x_t`` evaluated exactly in
    rationals (``lam`` default 47/50 = 0.94), then rounded **up** once to
    VOL_SCALE (a larger EMA raises V, hence margin: conservative). No float,
    so oracle and keeper agree bit for bit.

    Raises
    ------
    InputError
        Empty history, an entry that is not a non-negative VOL_BITS integer,
        or ``lam`` outside ``[0, 1)``.
    """
    if not history:
        raise InputError("vol_history: needs at least one value")
    lam = Fraction(lam)
    if not 0 <= lam < 1:
        raise InputError("lam: must lie in [0, 1)")
    for t, x in enumerate(history):
        fp.check_bits(f"vol_history[{t}]", x, fp.VOL_BITS, signed=False)
    acc = Fraction(history[0])
    for x in history[1:]:
        acc = lam * acc + (1 - lam) * x
    return fp.ceil_div(acc.numerator, acc.denominator)


# ------------------------------------------------------------- realised vol
def log_returns(prices: Sequence[float] | np.ndarray) -> np.ndarray:
    """``ln(P_t / P_{t-1})`` for a positive price path (length >= 2)."""
    import numpy as np

    p = _array("prices", prices, min_len=2, positive=True)
    return np.diff(np.log(p))


def realised_vol(
    prices: Sequence[float] | np.ndarray, *, periods_per_year: float = 365.0, demean: bool = False
) -> float:
    """Annualised realised volatility of a price path.

    ``sigma = sqrt(periods_per_year * mean(r^2))`` with ``r`` the log returns
    (zero-mean, RiskMetrics); with ``demean=True`` the sample standard
    deviation (ddof=1, needs >= 3 prices) times ``sqrt(periods_per_year)``.

    Parameters
    ----------
    prices : sequence of float
        Positive prices, oldest first, one per period.
    periods_per_year : float
        365 for daily closes (crypto), 365*24 for hourly, 252 for equities.

    Returns
    -------
    float
        Annualised vol as a fraction (0.55 = 55 vol points).
    """
    import numpy as np

    ppy = _finite("periods_per_year", periods_per_year)
    if ppy <= 0:
        raise InputError("periods_per_year: must be positive")
    r = log_returns(prices)
    if demean:
        if r.shape[0] < 2:
            raise InputError("prices: the demeaned estimator needs at least 3 prices")
        var = float(np.var(r, ddof=1))
    else:
        var = float(np.mean(r * r))
    return math.sqrt(ppy * var)


def rolling_realised_vol(
    prices: Sequence[float] | np.ndarray, window: int, *, periods_per_year: float = 365.0
) -> np.ndarray:
    """Realised vol over each trailing ``window`` of returns (zero-mean estimator).

    Returns ``len(prices) - window`` vols, oldest first: the vol history an
    oracle publishes as ``Underlying.vol_history``.
    """
    import numpy as np

    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise InputError("window: must be a positive integer")
    ppy = _finite("periods_per_year", periods_per_year)
    if ppy <= 0:
        raise InputError("periods_per_year: must be positive")
    r = log_returns(prices)
    if r.shape[0] < window:
        raise InputError(f"prices: need at least window + 1 = {window + 1} prices")
    sq = np.concatenate(([0.0], np.cumsum(r * r)))
    sums = sq[window:] - sq[:-window]
    return np.sqrt(np.maximum(sums, 0.0) * ppy / window)


# ---------------------------------------------------------------------- skew
def skew_measure(iv_put_25d: float, iv_atm: float, iv_call_25d: float, *, normalise: bool = False) -> float:
    """Skew = ``|iv_put_25d - iv_call_25d|`` (25-delta risk-reversal magnitude).

    Parameters
    ----------
    iv_put_25d, iv_atm, iv_call_25d : float
        Implied vols (fractions) of the 25-delta put, ATM and 25-delta call.
    normalise : bool
        Divide by ``iv_atm`` (dimensionless skew ratio), default False.

    Returns
    -------
    float
        ``>= 0``; vol units unless ``normalise``.
    """
    p = _nonneg("iv_put_25d", iv_put_25d)
    a = _nonneg("iv_atm", iv_atm)
    c = _nonneg("iv_call_25d", iv_call_25d)
    rr = abs(p - c)
    if not normalise:
        return rr
    if a <= 0:
        raise InputError("iv_atm: must be positive to normalise the skew")
    return rr / a


def skew_fixed(iv_put_25d: int, iv_atm: int, iv_call_25d: int, *, normalise: bool = False) -> int:
    """:func:`skew_measure` on VOL_SCALE ints, result at VOL_SCALE (exact, or rounded up if normalised)."""
    for name, x in (("iv_put_25d", iv_put_25d), ("iv_atm", iv_atm), ("iv_call_25d", iv_call_25d)):
        fp.check_bits(name, x, fp.VOL_BITS, signed=False)
    rr = abs(iv_put_25d - iv_call_25d)
    if not normalise:
        return rr
    if iv_atm <= 0:
        raise InputError("iv_atm: must be positive to normalise the skew")
    return fp.ceil_div(rr * fp.VOL_SCALE, iv_atm)


# ------------------------------------------------------------------ V-Scalar
def v_scalar(alpha: float, ema_vol: float, skew: float) -> float:
    """``V = alpha * ema_vol + (1 - alpha) * skew`` (floats).

    Parameters
    ----------
    alpha : float
        Weight of the realised-vol term, in [0, 1].
    ema_vol : float
        EMA of realised vol (fraction, annualised), ``>= 0``.
    skew : float
        Skew measure (:func:`skew_measure`), ``>= 0``.
    """
    a = _finite("alpha", alpha)
    if not 0.0 <= a <= 1.0:
        raise InputError("alpha: must lie in [0, 1]")
    e = _nonneg("ema_vol", ema_vol)
    s = _nonneg("skew", skew)
    return a * e + (1.0 - a) * s


def v_scalar_fixed(alpha: int, ema_vol: int, skew: int) -> int:
    """V at RATIO_SCALE from alpha (RATIO_SCALE) and ema_vol, skew (VOL_SCALE).

    ``V = ceil((alpha*ema_vol + (RATIO_SCALE - alpha)*skew) / VOL_SCALE)``:
    exact up to one upward rounding (V raises margin, so up is conservative).
    """
    fp.check_interval("alpha", alpha, 0, fp.RATIO_SCALE)
    fp.check_bits("ema_vol", ema_vol, fp.VOL_BITS, signed=False)
    fp.check_bits("skew", skew, fp.VOL_BITS, signed=False)
    v = fp.ceil_div(alpha * ema_vol + (fp.RATIO_SCALE - alpha) * skew, fp.VOL_SCALE)
    return fp.check_bits("v_scalar", v, fp.RATIO_BITS, signed=False)


def v_scalar_market(alpha: int, underlyings: Sequence[Any], *, normalise: bool = False) -> int:
    """Published V for a market: max over underlyings of :func:`v_scalar_fixed`.

    ``underlyings`` are :class:`zksolv.core.market.Underlying` (their ``vol_ema``
    and ``iv_*`` fields, VOL_SCALE ints).
    """
    if not underlyings:
        raise InputError("underlyings: need at least one")
    return max(
        v_scalar_fixed(alpha, u.vol_ema, skew_fixed(u.iv_put_25d, u.iv_atm, u.iv_call_25d, normalise=normalise))
        for u in underlyings
    )
