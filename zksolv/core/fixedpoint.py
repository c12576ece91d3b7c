"""Fixed-point scales, bit widths and integer helpers shared by every part.

This module is the single source of truth for the numeric contract between
the Python reference (:mod:`zksolv.risk.model`) and the circuits: the circuit
generator passes these constants into the Circom templates, and
``docs/fixed_point.md`` explains each of them. Change a value here and the
circuit hash changes with it, so every cached key is rebuilt.

All reals are Python ``int`` at a decimal scale. Signed values are carried in
the BN254 scalar field as ``p - |x|`` (see :func:`to_field`).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from zksolv.core.errors import InputError

#: BN254 (alt_bn128) scalar field modulus: the field circom and Groth16 work in.
FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617

# --- scales (value = raw / SCALE) -------------------------------------------
PRICE_SCALE = 10**6  #: USD prices, strikes, marks, vegas, price moves: micro-USD
QTY_SCALE = 10**6  #: position quantities and collateral balances (units of the asset)
RATIO_SCALE = 10**6  #: dimensionless ratios: haircut, alpha, beta, V, min_ratio, ES level, weights, relative shocks, correlations
VOL_SCALE = 10**6  #: annualised volatilities and vol shocks (0.55 = 55 vol points)
DELTA_SCALE = 10**8  #: delta, units of underlying per unit of instrument
GAMMA_SCALE = 10**12  #: gamma, units of underlying per unit per USD
VEGA_SCALE = PRICE_SCALE  #: vega, USD per 1.00 (=100 vol points) change of vol

#: NAV is carried exactly at this scale: bal*P*(1-h) is QTY*PRICE*RATIO.
NAV_SCALE = QTY_SCALE * PRICE_SCALE * RATIO_SCALE  # 1e18
#: Losses are carried *doubled* (2L, so 1/2*Gamma needs no division) at 1e30.
LOSS_SCALE = 10**30
#: The per-position NAV term q*mark is QTY*PRICE = 1e12; times this reaches NAV_SCALE.
NAV_POSITION_FACTOR = NAV_SCALE // (QTY_SCALE * PRICE_SCALE)  # 1e6
#: 2L scale = (QTY*DELTA)*PRICE * DELTA_LOSS_FACTOR, and likewise for vega.
DELTA_LOSS_FACTOR = LOSS_SCALE // (QTY_SCALE * DELTA_SCALE * PRICE_SCALE)  # 1e10
VEGA_LOSS_FACTOR = LOSS_SCALE // (QTY_SCALE * VEGA_SCALE * VOL_SCALE)  # 1e12
#: MM_raw (2L at 1e30) -> margin in micro-USD: mm * MM_DIVISOR >= MM_raw.
MM_DIVISOR = 2 * LOSS_SCALE // PRICE_SCALE  # 2e24
#: VaR: y_f = sum_u a_uf * Delta_u is at PRICE*QTY*DELTA = 1e20; y~ in micro-USD.
VAR_Y_DIVISOR = QTY_SCALE * DELTA_SCALE  # 1e14
#: AVSL factor (1 + V*beta) at RATIO^2 = 1e12.
AVSL_ONE = RATIO_SCALE * RATIO_SCALE
#: ACT/365 year in seconds (crypto venues trade every day): option expiries and
#: the liquidation horizon are converted to years with it.
SECONDS_PER_YEAR = 365 * 24 * 3600

assert NAV_POSITION_FACTOR * QTY_SCALE * PRICE_SCALE == NAV_SCALE
assert DELTA_LOSS_FACTOR * QTY_SCALE * DELTA_SCALE * PRICE_SCALE == LOSS_SCALE
assert VEGA_LOSS_FACTOR * QTY_SCALE * VEGA_SCALE * VOL_SCALE == LOSS_SCALE
assert QTY_SCALE * GAMMA_SCALE * PRICE_SCALE * PRICE_SCALE == LOSS_SCALE

# --- capacities ---------------------------------------------------------------
MAX_POSITIONS = 2**10
MAX_UNDERLYINGS = 16
MAX_COLLATERAL = 16
MAX_SCENARIOS = 256
#: Children per node of the instrument tree (a power of two; circuits/merkle.circom reads it
#: as FP_MERKLE_ARITY()). 8 is the cheapest per index bit in circomlib Poseidon: 416
#: constraints per level of 3 bits vs 304 per 2 bits at arity 4 (benchmarks/README.md).
MERKLE_ARITY = 8
MAX_TREE_DEPTH = 6  # 8^6 = 262,144 instruments (>= 65,536)

# --- bit widths (|x| < 2^BITS for signed fields) ------------------------------
QTY_BITS = 52  #: private, signed, range-checked in circuit as q + 2^52 < 2^53
BALANCE_BITS = 52  #: private, unsigned, range-checked in circuit
PRICE_BITS = 48  #: spot, strike, mark, collateral price, |price move| (market data)
DELTA_BITS = 31  #: signed (market data)
GAMMA_BITS = 48  #: signed (market data)
VEGA_BITS = 48  #: signed (market data)
VOL_BITS = 31  #: vols and signed vol shocks (market data)
RATIO_BITS = 32  #: V, beta, min_ratio, alpha, weights, |relative shock|, |correlation|
LOADING_BITS = 48  #: VaR factor loadings a_uf, signed, micro-USD per unit underlying
GAMMA_ADDON_BITS = 96  #: VaR gamma add-on coefficient g_u = (z*sigma_h*S)^2 at PRICE^2
EPOCH_BITS = 64
EXPIRY_BITS = 40  #: unix seconds

#: |2L_{u,k}| < 2^SCENARIO_LOSS_BITS for any tier within the capacities (N <= 1024, |q| <= 2^52,
#: market data within its widths; checked below): 2e10|Delta||dS| + |Gamma|dS^2 + 2e12|Vega||dsig|
#: < 2^175.3 + 2^206 + 2^181.9 < 2^206.0000001. Any prover's values obey it (q is range-checked).
SCENARIO_LOSS_BITS = 207
#: |L_k| = |sum_u 2L_{u,k}| < 16 * 2^206.0000001 < 2^LOSS_BITS (U <= 16).
LOSS_BITS = 211
#: ES: |L_k - t| < 2^ES_EXCESS_BITS whenever t is one of the L_j (the reference threshold, the
#: c-quantile), since both are < 2^210.0000001 in size; the circuit range-checks L_k - t to it.
ES_EXCESS_BITS = 212
#: Stress: the hint m_u (max(0, max_k 2L_{u,k}) or more) is range-checked to [0, 2^STRESS_HINT_BITS),
#: each slack m_u - 2L_{u,k} to [0, 2^STRESS_SLACK_BITS): every honest value fits (|2L| < 2^207),
#: and any admitted difference lies in (-2^207, 2^208), so a negative one wraps far above 2^208.
STRESS_HINT_BITS = SCENARIO_LOSS_BITS
STRESS_SLACK_BITS = SCENARIO_LOSS_BITS + 1
#: Other one-sided slacks (hint - value: margin rounding, VaR) are range-checked to SLACK_BITS.
SLACK_BITS = 216
#: Margin in micro-USD (the rounding quotient mm) is < 2^MM_BITS.
MM_BITS = 128
#: The ES slack mm*2e24*(1e6-c) - (t*(1e6-c) + sum w_k e_k) is < 2^ES_SLACK_BITS in size for any
#: values the circuit admits: (2^209 + 2^213) * 2^20 + 2^20 * 2^212 < 2^235 (mm < 2^128, |t| < 2^213,
#: 0 <= e_k < 2^212, sum w_k = 1e6 < 2^20), so every honest slack fits and a negative one wraps above.
ES_SLACK_BITS = 235
#: VaR hints: y~_f (micro-USD) < 2^VAR_Y_BITS, s < 2^VAR_S_BITS.
VAR_Y_BITS = 100
VAR_S_BITS = 104
#: Gamma/vega add-on hints n_u >= -Gamma_u, a_u >= |Vega_u| (scale 1e12).
GREEK_SUM_BITS = 112
#: Net sums of a book (signed): what <= MAX_POSITIONS slots give at most (|q*delta| < 2^83,
#: |q*gamma|, |q*vega|, q*mark < 2^100, times 2^10 slots). Every width downstream assumes
#: them; a book proven in chunks has them range-checked in its final proof.
NET_DELTA_BITS = 93
NET_GAMMA_BITS = 110
NET_VEGA_BITS = 110
POSITION_VALUE_BITS = 110
#: Positions of one account proven in chunks (one circuit holds at most MAX_POSITIONS).
MAX_BOOK_POSITIONS = 2**16
#: Final solvency slack NAV_raw*1e6 - REQ_raw is < 2^SOLVENCY_BITS.
SOLVENCY_BITS = 240

assert MERKLE_ARITY in (4, 8, 16) and MERKLE_ARITY**MAX_TREE_DEPTH >= 2**16
assert max(LOSS_BITS, SLACK_BITS, ES_SLACK_BITS, SOLVENCY_BITS) <= 252


def _scenario_loss_bound() -> int:
    """Largest |2L_{u,k}| any values within the widths and capacities can give (fixed_point.md §2)."""
    greek_sum = lambda bits: MAX_POSITIONS * 2**QTY_BITS * 2**bits  # noqa: E731  (|q| <= 2^52, N <= 1024)
    return (2 * DELTA_LOSS_FACTOR * greek_sum(DELTA_BITS) * 2**PRICE_BITS
            + greek_sum(GAMMA_BITS) * 2 ** (2 * PRICE_BITS)
            + 2 * VEGA_LOSS_FACTOR * greek_sum(VEGA_BITS) * 2**VOL_BITS)


assert _scenario_loss_bound() < 2**SCENARIO_LOSS_BITS
assert MAX_UNDERLYINGS * _scenario_loss_bound() < 2**LOSS_BITS
assert 2 * MAX_UNDERLYINGS * _scenario_loss_bound() < 2**ES_EXCESS_BITS
assert (2**MM_BITS * MM_DIVISOR + 2 ** (ES_EXCESS_BITS + 1)) * RATIO_SCALE + RATIO_SCALE * 2**ES_EXCESS_BITS \
    < 2**ES_SLACK_BITS

# --- revaluation mode (full repricing risk arrays, docs/fixed_point.md §2) ----------
#: Published P&L of one unit of an instrument under one scenario (micro-USD, signed, market data):
#: a difference of two values each below a shocked spot S + dS < 2^49 (or a strike < 2^48).
PNL_BITS = 49
#: q * pnl is at QTY*PRICE = 1e12 (|.| < 2^(52+49)); the book's sums PnL[u][k] and losses
#: L[u][k] = -PnL[u][k] over <= MAX_POSITIONS slots stay below 2^REVAL_SUM_BITS.
REVAL_SUM_BITS = 111
#: Revaluation hints m_u (>= max(0, max_k L[u][k]), scale 1e12) are < 2^REVAL_HINT_BITS;
#: the one-sided slacks m_u - L[u][k] are range-checked to REVAL_SLACK_BITS.
REVAL_HINT_BITS = 112
REVAL_SLACK_BITS = 113
#: A loss at QTY*PRICE (1e12) times this is a doubled loss at LOSS_SCALE (MM_raw's scale 2e30).
REVAL_LOSS_FACTOR = 2 * LOSS_SCALE // (QTY_SCALE * PRICE_SCALE)  # 2e18

assert REVAL_SUM_BITS >= QTY_BITS + PNL_BITS + 10
assert REVAL_HINT_BITS > REVAL_SUM_BITS and REVAL_SLACK_BITS > REVAL_HINT_BITS
assert REVAL_LOSS_FACTOR * QTY_SCALE * PRICE_SCALE == 2 * LOSS_SCALE
# MM_raw = 2e18 * sum_u m_u < 16 * 2^112 * 2^61 stays far below what MarginRounding admits (2^216)
assert MAX_UNDERLYINGS * (1 << REVAL_HINT_BITS) * REVAL_LOSS_FACTOR < 1 << (SLACK_BITS - 1)

assert NET_DELTA_BITS >= QTY_BITS + DELTA_BITS + 10 and NET_GAMMA_BITS >= QTY_BITS + GAMMA_BITS + 10
assert NET_VEGA_BITS >= QTY_BITS + VEGA_BITS + 10 and POSITION_VALUE_BITS >= QTY_BITS + PRICE_BITS + 10
assert MAX_POSITIONS == 2**10
assert MM_BITS + MM_DIVISOR.bit_length() + 20 < 253


# --- field encoding -----------------------------------------------------------
def to_field(x: int) -> int:
    """Encode a signed integer as a BN254 field element (negatives as ``p - |x|``)."""
    return x % FIELD_MODULUS


def from_field(x: int) -> int:
    """Decode a field element to the signed integer of least absolute value."""
    x %= FIELD_MODULUS
    return x - FIELD_MODULUS if x > FIELD_MODULUS // 2 else x


# --- rounding -----------------------------------------------------------------
def ceil_div(a: int, b: int) -> int:
    """``ceil(a / b)`` for integers, ``b > 0`` (exact for any sign of ``a``)."""
    if b <= 0:
        raise ValueError("ceil_div needs a positive divisor")
    return -((-a) // b)


def floor_div(a: int, b: int) -> int:
    """``floor(a / b)`` for integers, ``b > 0``."""
    if b <= 0:
        raise ValueError("floor_div needs a positive divisor")
    return a // b


def isqrt_ceil(x: int) -> int:
    """Smallest ``s >= 0`` with ``s * s >= x`` (``x >= 0``)."""
    if x < 0:
        raise ValueError("isqrt_ceil needs x >= 0")
    s = math.isqrt(x)
    return s if s * s == x else s + 1


def round_half_away(a: int, b: int) -> int:
    """Round ``a / b`` to the nearest integer, halves away from zero (``b > 0``)."""
    q, r = divmod(abs(a), b)
    if 2 * r >= b:
        q += 1
    return q if a >= 0 else -q


def round_away(a: int, b: int) -> int:
    """``a / b`` with its magnitude rounded up, sign kept (``b > 0``):
    ``sign(a) * ceil(|a| / b)``. A quantity rounded this way is never smaller
    in size than the real value, and ``round_away(-a, b) == -round_away(a, b)``."""
    if b <= 0:
        raise ValueError("round_away needs a positive divisor")
    q = -((-abs(a)) // b)
    return q if a >= 0 else -q


#: Rounding rules of :func:`from_float`.
ROUNDINGS = ("half_away", "up", "down", "away")


def from_float(x: float, scale: int, rounding: str = "half_away") -> int:
    """A float to fixed point at ``scale``, computed on the float's exact binary value.

    ``x`` is converted to the exact rational it represents and multiplied by
    ``scale`` exactly (no double rounding in ``x * scale``), then rounded:
    ``"half_away"`` to nearest, halves away from zero (:func:`round_half_away`);
    ``"up"`` toward +infinity (:func:`ceil_div`); ``"down"`` toward -infinity
    (:func:`floor_div`); ``"away"`` magnitude up, sign kept (:func:`round_away`). The one float->fixed conversion of the oracle
    side (pricing, scenarios, demo). ``x`` must be finite.
    """
    num, den = float(x).as_integer_ratio()  # ValueError/OverflowError for NaN/inf
    if rounding == "half_away":
        return round_half_away(num * scale, den)
    if rounding == "up":
        return ceil_div(num * scale, den)
    if rounding == "down":
        return floor_div(num * scale, den)
    if rounding == "away":
        return round_away(num * scale, den)
    raise ValueError(f"rounding: must be one of {ROUNDINGS}")


# --- range checks with messages that name the field ---------------------------
def check_bits(field: str, value: int, bits: int, *, signed: bool) -> int:
    """Return ``value`` if it fits ``bits`` (magnitude for signed), else raise.

    The message names the field and the limit, never the value itself, so it
    is safe for private fields.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{field}: expected an integer, got {type(value).__name__}")
    if not signed and value < 0:
        raise InputError(f"{field}: must not be negative")
    if abs(value) >= 1 << bits:
        raise InputError(f"{field}: magnitude exceeds the {bits}-bit limit (2^{bits})")
    return value


def check_interval(field: str, value: int, lo: int, hi: int) -> int:
    """Return ``value`` if ``lo <= value <= hi`` else raise an :class:`InputError`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{field}: expected an integer, got {type(value).__name__}")
    if not lo <= value <= hi:
        raise InputError(f"{field}: must lie in [{lo}, {hi}]")
    return value


# --- decimal <-> fixed point ----------------------------------------------------
#: Longest decimal accepted (digits after stripping trailing zeros) and the
#: largest decimal exponent: far beyond any field (2^256 < 10^78).
MAX_DECIMAL_DIGITS = 120
MAX_DECIMAL_EXPONENT = 80
#: A plain ASCII decimal string short enough that no digit or magnitude limit can apply: parsed
#: without Decimal (a published market has tens of thousands of them). Anything else (exponents,
#: a sign ``+``, underscores, spaces, other scripts' digits, ``1.`` / ``.5``) takes the Decimal path.
_PLAIN_DECIMAL = re.compile(r"(-?)([0-9]{1,36})(?:\.([0-9]{1,36}))?")


def parse_fixed(field: str, value: Any, scale: int, *, exact: bool = True) -> int:
    """Parse a JSON number or decimal string into a fixed-point integer.

    ``exact=True`` (the default, used when loading a published state) refuses a
    value with more precision than ``scale``; ``exact=False`` rounds half away
    from zero (used when quantising float model outputs). The arithmetic is on
    the decimal digits themselves (no 28-digit decimal context, no float), so
    nothing is silently rounded. NaN, infinities, booleans, non-numeric strings
    and absurd magnitudes or digit counts raise :class:`InputError` naming ``field``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise InputError(f"{field}: expected a number, got {type(value).__name__}")
    if isinstance(value, int):
        if abs(value) >= 1 << 256:
            raise InputError(f"{field}: magnitude exceeds 2^256")
        return value * scale
    if isinstance(value, str) and len(value) > 4 * MAX_DECIMAL_DIGITS:
        raise InputError(f"{field}: more than {MAX_DECIMAL_DIGITS} digits")
    plain = _PLAIN_DECIMAL.fullmatch(value) if isinstance(value, str) else None
    if plain is not None:  # the same result as the Decimal path below, without Decimal
        negative, whole, fraction = plain.groups()
        fraction = (fraction or "").rstrip("0")
        numerator = int(whole + fraction) * scale * (-1 if negative else 1)
        denominator = 10 ** len(fraction)
        if numerator % denominator == 0:
            return numerator // denominator
        if exact:
            raise InputError(f"{field}: more precision than the scale 1/{scale} allows")
        return round_half_away(numerator, denominator)
    try:
        dec = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError):
        raise InputError(f"{field}: not a number") from None
    if not dec.is_finite():
        raise InputError(f"{field}: must be finite (got NaN or infinity)")
    sign, digits, exponent = dec.as_tuple()
    end = len(digits)
    while end > 1 and digits[end - 1] == 0:
        end -= 1
    exponent += len(digits) - end
    digits = digits[:end]
    if digits == (0,):
        return 0
    if exponent + len(digits) > MAX_DECIMAL_EXPONENT:
        raise InputError(f"{field}: magnitude exceeds 2^256")
    if len(digits) > MAX_DECIMAL_DIGITS or exponent < -MAX_DECIMAL_EXPONENT:
        if exact:
            raise InputError(f"{field}: more precision than the scale 1/{scale} allows")
        if exponent + len(digits) < -MAX_DECIMAL_EXPONENT:
            return 0
        raise InputError(f"{field}: more than {MAX_DECIMAL_DIGITS} digits")
    coefficient = int("".join(map(str, digits))) * (-1 if sign else 1)
    numerator = coefficient * scale * 10 ** max(exponent, 0)
    denominator = 10 ** max(-exponent, 0)
    if numerator % denominator == 0:
        return numerator // denominator
    if exact:
        raise InputError(f"{field}: more precision than the scale 1/{scale} allows")
    return round_half_away(numerator, denominator)


def format_fixed(raw: int, scale: int) -> str:
    """Exact decimal string of ``raw / scale`` (no float rounding), e.g. ``'-1.5'``."""
    sign = "-" if raw < 0 else ""
    whole, frac = divmod(abs(raw), scale)
    if frac == 0:
        return f"{sign}{whole}"
    digits = len(str(scale)) - 1
    return f"{sign}{whole}.{str(frac).rjust(digits, '0').rstrip('0')}"

