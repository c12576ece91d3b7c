"""Black–Scholes marks and greeks for a whole instrument table at once.

The oracle prices every listed instrument once per epoch and publishes the
results as fixed-point integers (:func:`quantise_greeks`). Three
implementations compute the same floats:

* :func:`greeks_numpy` — vectorised numpy (default, no compilation);
* :func:`greeks_numba` — a ``numba.njit`` loop (``numba`` is imported lazily on
  first use, so ``import zksolv.risk.pricing`` stays cheap; the compiled kernel is
  cached on disk);
* :func:`greeks_python` — the same scalar loop uncompiled (a baseline for
  ``benchmarks/bench_pricing.py`` and a readable reference).

All three agree to 1e-12 (relative, or absolute against the spot for marks
that are tiny differences of large terms): numpy evaluates the normal CDF
with its own vectorised erfc (:func:`norm_cdf`, ~5e-14 relative), the loops
use :func:`math.erfc`; the numba and Python loops are the same source and
agree bit for bit.

Model (per unit of instrument, underlying spot ``S`` in USD, strike ``K`` in
USD, time to expiry ``tau`` in years (ACT/365), annualised volatility
``sigma`` (0.55 = 55 vol points), flat continuously compounded rate ``r``)::

    d1 = (ln(S/K) + (r + sigma^2/2) tau) / (sigma sqrt(tau)),   d2 = d1 - sigma sqrt(tau)
    call = S N(d1) - K e^{-r tau} N(d2)           put = K e^{-r tau} N(-d2) - S N(-d1)
    delta_call = N(d1)                             delta_put = -N(-d1)  (not N(d1) - 1: it cancels to 0 deep OTM)
    gamma = phi(d1) / (S sigma sqrt(tau))          (USD^-1)
    vega  = S phi(d1) sqrt(tau)                    (USD per 1.00 change of sigma,
                                                    i.e. per 100 vol points)

Linear instruments:

* ``spot``: mark ``S``, delta 1, gamma 0, vega 0;
* ``perpetual`` and ``future``: mark 0 (their P&L is settled into collateral
  every epoch), delta 1, gamma 0, vega 0. The carry of a dated future
  (``e^{r tau}``) is ignored: the venue settles variation margin on the
  future's own mark, and its sensitivity to the index is 1 to within
  ``r*tau``.

Degenerate options (``tau <= 0`` or ``sigma * sqrt(tau) < 1e-12``) take their
limits, never NaN: mark is the (discounted-strike) intrinsic value
``max(S - K e^{-r tau}, 0)`` / ``max(K e^{-r tau} - S, 0)``, delta is the step
1/0 (call) or 0/-1 (put) with exactly ±0.5 at the money, gamma 0 (the limit is
a Dirac mass, which no finite number represents) and vega 0 for expired
options or ``S phi(0) sqrt(tau)`` at the forward money with ``sigma = 0`` (the
one-sided limit; 0 away from the money).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from zksolv.core import fixedpoint as fp
from zksolv.core.errors import InputError
from zksolv.core.market import InstrumentKind

__all__ = [
    "KIND_SPOT",
    "KIND_PERPETUAL",
    "KIND_FUTURE",
    "KIND_CALL",
    "KIND_PUT",
    "SECONDS_PER_YEAR",
    "InstrumentGreeks",
    "QuantisedGreeks",
    "kind_codes",
    "year_fraction",
    "norm_cdf",
    "greeks",
    "greeks_numpy",
    "greeks_numba",
    "greeks_python",
    "quantise",
    "quantise_greeks",
]

#: Integer kind codes (equal to :attr:`InstrumentKind.code`).
KIND_SPOT = InstrumentKind.SPOT.code
KIND_PERPETUAL = InstrumentKind.PERPETUAL.code
KIND_FUTURE = InstrumentKind.FUTURE.code
KIND_CALL = InstrumentKind.CALL.code
KIND_PUT = InstrumentKind.PUT.code

#: ACT/365 year (crypto venues trade every day); defined once in :mod:`zksolv.core.fixedpoint`.
SECONDS_PER_YEAR = fp.SECONDS_PER_YEAR

#: Below this total volatility ``sigma*sqrt(tau)`` an option is priced at its limit.
_MIN_TOTAL_VOL = 1e-12
_SQRT_PI = math.sqrt(math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)

# erfc evaluation (numpy path): positive-term series for erf below the cut,
# continued fraction above it. Measured against math.erfc: N(x) within 5e-14
# relative for |x| <= 12, degrading like x^2 * 1e-16 in the far lower tail
# (the rounding of exp(-x^2/2)); tests/test_pricing.py checks both.
_ERFC_CUT = 1.5
_ERFC_SERIES_TERMS = 35
_ERFC_CF_TERMS = 70


@dataclass(frozen=True)
class InstrumentGreeks:
    """Float marks and greeks per instrument (1-D arrays of equal length) — not
    :class:`zksolv.risk.model.Greeks`, the fixed-point net greeks of a book.

    ``mark`` in USD per unit, ``delta`` in units of underlying per unit,
    ``gamma`` in units of underlying per unit per USD, ``vega`` in USD per
    1.00 change of vol.
    """

    mark: np.ndarray
    delta: np.ndarray
    gamma: np.ndarray
    vega: np.ndarray


@dataclass(frozen=True)
class QuantisedGreeks:
    """Fixed-point marks and greeks (Python ints) at PRICE/DELTA/GAMMA/VEGA scales."""

    mark: tuple[int, ...]
    delta: tuple[int, ...]
    gamma: tuple[int, ...]
    vega: tuple[int, ...]


# ----------------------------------------------------------------------- input
def kind_codes(kinds: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Map kinds (:class:`InstrumentKind`, their string values or int codes) to codes.

    Raises
    ------
    InputError
        ``kind[i]`` names an unknown kind.
    """
    if isinstance(kinds, np.ndarray) and kinds.dtype.kind in "iu":
        out = kinds.astype(np.int64)
    else:
        codes = []
        for i, k in enumerate(kinds):
            if isinstance(k, InstrumentKind):
                codes.append(k.code)
            elif isinstance(k, str):
                try:
                    codes.append(InstrumentKind(k).code)
                except ValueError:
                    raise InputError(f"kind[{i}]: unknown instrument kind {k!r}") from None
            elif isinstance(k, (int, np.integer)) and not isinstance(k, bool):
                codes.append(int(k))
            else:
                raise InputError(f"kind[{i}]: expected an InstrumentKind, got {type(k).__name__}")
        out = np.asarray(codes, dtype=np.int64)
    bad = np.nonzero((out < 0) | (out > KIND_PUT))[0]
    if bad.size:
        raise InputError(f"kind[{int(bad[0])}]: unknown instrument kind code")
    return out


def year_fraction(expiry: int, now: int) -> float:
    """Time to expiry in years (ACT/365): ``(expiry - now) / SECONDS_PER_YEAR``.

    Parameters
    ----------
    expiry, now
        Unix seconds.
    """
    return (expiry - now) / SECONDS_PER_YEAR


def _as_float_array(name: str, values: Any, n: int | None, *, allow_negative: bool = False) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected numbers") from None
    if arr.ndim == 0 and n is not None:
        arr = np.full(n, float(arr))
    if arr.ndim != 1:
        raise InputError(f"{name}: expected a 1-D array")
    if n is not None and arr.shape[0] != n:
        raise InputError(f"{name}: expected {n} entries, got {arr.shape[0]}")
    bad = np.nonzero(~np.isfinite(arr))[0]
    if bad.size:
        raise InputError(f"{name}[{int(bad[0])}]: must be finite (got NaN or infinity)")
    if not allow_negative:
        neg = np.nonzero(arr < 0)[0]
        if neg.size:
            raise InputError(f"{name}[{int(neg[0])}]: must not be negative")
    return np.ascontiguousarray(arr)


def _prepare(
    spot: Any, strike: Any, tau: Any, vol: Any, kind: Any, rate: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    kinds = kind_codes(kind if isinstance(kind, np.ndarray) else list(kind))
    n = kinds.shape[0]
    s = _as_float_array("spot", spot, n)
    k = _as_float_array("strike", strike, n)
    t = _as_float_array("tau", tau, n, allow_negative=True)
    v = _as_float_array("vol", vol, n)
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating)) or not math.isfinite(rate):
        raise InputError("rate: must be a finite number")
    opt = (kinds == KIND_CALL) | (kinds == KIND_PUT)
    zero_spot = np.nonzero(opt & (s <= 0))[0]
    if zero_spot.size:
        raise InputError(f"spot[{int(zero_spot[0])}]: an option needs a positive spot")
    zero_strike = np.nonzero(opt & (k <= 0))[0]
    if zero_strike.size:
        raise InputError(f"strike[{int(zero_strike[0])}]: an option needs a positive strike")
    return s, k, t, v, kinds, float(rate)


# ------------------------------------------------------------- normal CDF (numpy)
def _erfc_nonneg(z: np.ndarray) -> np.ndarray:
    """erfc(z) for z >= 0, vectorised, ~2e-14 relative (see module constants)."""
    out = np.empty_like(z)
    small = z < _ERFC_CUT
    if small.any():
        zs = z[small]
        # erf(z) = 2/sqrt(pi) e^{-z^2} sum_n 2^n z^{2n+1} / (2n+1)!!  (all terms positive)
        term = zs.copy()
        total = zs.copy()
        two_z2 = 2.0 * zs * zs
        for n in range(_ERFC_SERIES_TERMS):
            term = term * two_z2 / (2 * n + 3)
            total = total + term
        out[small] = 1.0 - (2.0 / _SQRT_PI) * np.exp(-zs * zs) * total
    large = ~small
    if large.any():
        zl = z[large]
        # erfc(z) = e^{-z^2}/sqrt(pi) / (z + (1/2)/(z + 1/(z + (3/2)/(z + ...)))), evaluated bottom-up
        frac = zl.copy()
        for k in range(_ERFC_CF_TERMS, 0, -1):
            frac = zl + (0.5 * k) / frac
        out[large] = np.exp(-zl * zl) / (_SQRT_PI * frac)
    return out


def norm_cdf(x: np.ndarray | float) -> np.ndarray:
    """Standard normal CDF ``N(x) = erfc(-x/sqrt(2))/2``, vectorised, full tails.

    Relative accuracy ~5e-14 for ``|x| <= 12`` and 1e-12 out to ``x = -37`` in the
    lower tail (``N(-30)`` is ~5e-198, not 0).
    """
    lower, _ = _norm_cdf_pair(np.asarray(x, dtype=np.float64))
    return lower


def _norm_cdf_pair(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(N(x), N(-x))`` from one erfc evaluation, both tails relative-accurate."""
    tail = 0.5 * _erfc_nonneg((np.abs(x) * _INV_SQRT2).reshape(-1)).reshape(x.shape)
    neg = x < 0
    return np.where(neg, tail, 1.0 - tail), np.where(neg, 1.0 - tail, tail)


# ------------------------------------------------------------------ numpy path
def greeks_numpy(
    spot: Any, strike: Any, tau: Any, vol: Any, kind: Any, rate: float = 0.0
) -> InstrumentGreeks:
    """Vectorised Black–Scholes marks and greeks for a whole table.

    Parameters
    ----------
    spot : array_like, shape (n,)
        Underlying price per instrument, USD (> 0 for options).
    strike : array_like, shape (n,)
        Strike, USD (> 0 for options, ignored otherwise).
    tau : array_like, shape (n,)
        Time to expiry in years; ``<= 0`` means expired (intrinsic value).
    vol : array_like, shape (n,)
        Annualised volatility (0.55 = 55 vol points), ``>= 0``.
    kind : sequence of InstrumentKind / str / int codes, shape (n,)
    rate : float
        Flat continuously compounded rate per year (default 0).

    Returns
    -------
    InstrumentGreeks
        Float arrays; never NaN.

    Raises
    ------
    InputError
        Negative, NaN or infinite input, a non-positive spot or strike for an
        option, or an unknown kind; the message names the field and index.
    """
    s, k, t, v, kinds, r = _prepare(spot, strike, tau, vol, kind, rate)
    n = kinds.shape[0]
    mark = np.zeros(n)
    delta = np.ones(n)
    gamma = np.zeros(n)
    vega = np.zeros(n)
    spot_rows = kinds == KIND_SPOT
    mark[spot_rows] = s[spot_rows]
    opt = (kinds == KIND_CALL) | (kinds == KIND_PUT)
    if not opt.any():
        return InstrumentGreeks(mark, delta, gamma, vega)
    so, ko, to, vo = s[opt], k[opt], t[opt], v[opt]
    is_call = kinds[opt] == KIND_CALL
    live_t = np.maximum(to, 0.0)
    sqrt_t = np.sqrt(live_t)
    total_vol = vo * sqrt_t
    regular = total_vol >= _MIN_TOTAL_VOL
    disc = np.exp(-r * live_t)
    kd = ko * disc
    safe_tv = np.where(regular, total_vol, 1.0)
    d1 = np.where(regular, (np.log(so / ko) + (r + 0.5 * vo * vo) * live_t) / safe_tv, 0.0)
    d2 = d1 - np.where(regular, total_vol, 0.0)
    nd1, nmd1 = _norm_cdf_pair(d1)
    nd2, nmd2 = _norm_cdf_pair(d2)
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1)
    o_mark = np.where(is_call, so * nd1 - kd * nd2, kd * nmd2 - so * nmd1)
    o_delta = np.where(is_call, nd1, -nmd1)
    o_gamma = pdf / (so * safe_tv)
    o_vega = so * pdf * sqrt_t
    # limits (expired or zero vol): intrinsic on the discounted strike
    itm_call = np.sign(so - kd)  # +1 ITM call, 0 at the money, -1 OTM call
    lim_mark = np.where(is_call, np.maximum(so - kd, 0.0), np.maximum(kd - so, 0.0))
    lim_delta = np.where(is_call, 0.5 + 0.5 * itm_call, -0.5 + 0.5 * itm_call)
    lim_vega = np.where((itm_call == 0) & (to > 0), so * _INV_SQRT_2PI * sqrt_t, 0.0)
    mark[opt] = np.where(regular, np.maximum(o_mark, 0.0), lim_mark)
    delta[opt] = np.where(regular, o_delta, lim_delta)
    gamma[opt] = np.where(regular, o_gamma, 0.0)
    vega[opt] = np.where(regular, o_vega, lim_vega)
    return InstrumentGreeks(mark, delta, gamma, vega)


# ----------------------------------------------------------- scalar loop (python/numba)
def _greeks_loop(
    s: np.ndarray,
    k: np.ndarray,
    t: np.ndarray,
    v: np.ndarray,
    kinds: np.ndarray,
    r: float,
    mark: np.ndarray,
    delta: np.ndarray,
    gamma: np.ndarray,
    vega: np.ndarray,
) -> None:
    """Scalar kernel, written so that numba can compile it unchanged."""
    inv_sqrt2 = 0.7071067811865476
    inv_sqrt_2pi = 0.3989422804014327
    for i in range(kinds.shape[0]):
        kd_code = kinds[i]
        if kd_code == 0:  # spot
            mark[i] = s[i]
            delta[i] = 1.0
            gamma[i] = 0.0
            vega[i] = 0.0
            continue
        if kd_code == 1 or kd_code == 2:  # perpetual, future
            mark[i] = 0.0
            delta[i] = 1.0
            gamma[i] = 0.0
            vega[i] = 0.0
            continue
        is_call = kd_code == 3
        live_t = t[i] if t[i] > 0.0 else 0.0
        sqrt_t = math.sqrt(live_t)
        total_vol = v[i] * sqrt_t
        kd = k[i] * math.exp(-r * live_t)
        if total_vol < 1e-12:
            diff = s[i] - kd
            itm = 1.0 if diff > 0.0 else (-1.0 if diff < 0.0 else 0.0)
            if is_call:
                mark[i] = diff if diff > 0.0 else 0.0
                delta[i] = 0.5 + 0.5 * itm
            else:
                mark[i] = -diff if diff < 0.0 else 0.0
                delta[i] = -0.5 + 0.5 * itm
            gamma[i] = 0.0
            vega[i] = s[i] * inv_sqrt_2pi * sqrt_t if (itm == 0.0 and t[i] > 0.0) else 0.0
            continue
        d1 = (math.log(s[i] / k[i]) + (r + 0.5 * v[i] * v[i]) * live_t) / total_vol
        d2 = d1 - total_vol
        pdf = inv_sqrt_2pi * math.exp(-0.5 * d1 * d1)
        if is_call:
            nd1 = 0.5 * math.erfc(-d1 * inv_sqrt2)
            nd2 = 0.5 * math.erfc(-d2 * inv_sqrt2)
            m = s[i] * nd1 - kd * nd2
            delta[i] = nd1
        else:
            nmd1 = 0.5 * math.erfc(d1 * inv_sqrt2)
            nmd2 = 0.5 * math.erfc(d2 * inv_sqrt2)
            m = kd * nmd2 - s[i] * nmd1
            delta[i] = -nmd1
        mark[i] = m if m > 0.0 else 0.0
        gamma[i] = pdf / (s[i] * total_vol)
        vega[i] = s[i] * pdf * sqrt_t


_NUMBA_KERNEL: Callable[..., None] | None = None


def _numba_kernel() -> Callable[..., None]:
    """Compile (or load from the on-disk cache) the numba version of the loop."""
    global _NUMBA_KERNEL
    if _NUMBA_KERNEL is None:
        import numba  # lazy: keeps `import zksolv.risk.pricing` cheap

        _NUMBA_KERNEL = numba.njit(cache=True, nogil=True)(_greeks_loop)
    return _NUMBA_KERNEL


def _run_loop(kernel: Callable[..., None], spot: Any, strike: Any, tau: Any, vol: Any, kind: Any, rate: float) -> InstrumentGreeks:
    s, k, t, v, kinds, r = _prepare(spot, strike, tau, vol, kind, rate)
    n = kinds.shape[0]
    out = [np.empty(n) for _ in range(4)]
    kernel(s, k, t, v, kinds, r, *out)
    return InstrumentGreeks(*out)


def greeks_numba(spot: Any, strike: Any, tau: Any, vol: Any, kind: Any, rate: float = 0.0) -> InstrumentGreeks:
    """Same as :func:`greeks_numpy`, computed by a ``numba.njit`` loop.

    The first call compiles the kernel (or loads it from numba's on-disk cache).
    """
    return _run_loop(_numba_kernel(), spot, strike, tau, vol, kind, rate)


def greeks_python(spot: Any, strike: Any, tau: Any, vol: Any, kind: Any, rate: float = 0.0) -> InstrumentGreeks:
    """Same as :func:`greeks_numpy`, computed by the uncompiled scalar loop (slow; a baseline)."""
    return _run_loop(_greeks_loop, spot, strike, tau, vol, kind, rate)


_BACKENDS: dict[str, Callable[..., InstrumentGreeks]] = {
    "numpy": greeks_numpy,
    "numba": greeks_numba,
    "python": greeks_python,
}


def greeks(
    spot: Any, strike: Any, tau: Any, vol: Any, kind: Any, rate: float = 0.0, *, backend: str = "numpy"
) -> InstrumentGreeks:
    """Dispatch to ``backend`` in ``{"numpy", "numba", "python"}`` (see :func:`greeks_numpy`)."""
    try:
        fn = _BACKENDS[backend]
    except KeyError:
        raise InputError(f"backend: must be one of {sorted(_BACKENDS)}") from None
    return fn(spot, strike, tau, vol, kind, rate)


# ------------------------------------------------------------------ quantise
def quantise(name: str, values: Any, scale: int, *, bits: int | None = None, signed: bool = True) -> tuple[int, ...]:
    """Float array -> fixed-point ints, ``round_half_away(x * scale)`` computed exactly.

    Each float is converted with :func:`zksolv.core.fixedpoint.from_float` (its
    exact rational value times ``scale``, rounded half away from zero), so the
    result is deterministic on every machine (no double rounding in
    ``x * scale``).

    Raises
    ------
    InputError
        ``name[i]`` is NaN/inf, or (with ``bits``) does not fit the width.
    """
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    out = []
    for i, x in enumerate(arr.tolist()):
        if not math.isfinite(x):
            raise InputError(f"{name}[{i}]: must be finite (got NaN or infinity)")
        q = fp.from_float(x, scale)
        if q == 0:
            q = 0  # no negative zero surprises downstream
        if bits is not None:
            fp.check_bits(f"{name}[{i}]", q, bits, signed=signed)
        out.append(q)
    return tuple(out)


def quantise_greeks(g: InstrumentGreeks) -> QuantisedGreeks:
    """Quantise float greeks to the published scales and check their widths.

    mark -> PRICE_SCALE (48 bits, unsigned), delta -> DELTA_SCALE (31 bits),
    gamma -> GAMMA_SCALE (48 bits), vega -> VEGA_SCALE (48 bits), each
    ``round_half_away(x * scale)`` exactly (see :func:`quantise`).
    """
    return QuantisedGreeks(
        mark=quantise("mark", g.mark, fp.PRICE_SCALE, bits=fp.PRICE_BITS, signed=False),
        delta=quantise("delta", g.delta, fp.DELTA_SCALE, bits=fp.DELTA_BITS),
        gamma=quantise("gamma", g.gamma, fp.GAMMA_SCALE, bits=fp.GAMMA_BITS),
        vega=quantise("vega", g.vega, fp.VEGA_SCALE, bits=fp.VEGA_BITS),
    )
