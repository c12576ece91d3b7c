"""EMA, realised vol, skew measure and the V-Scalar (float and fixed point)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zksolv.core import fixedpoint as fp
from zksolv.core import volatility as vol
from zksolv.core.errors import InputError
from zksolv.core.market import Underlying


def test_ema_recursion_and_decays() -> None:
    x = [1.0, 2.0, 3.0]
    lam = 0.94
    e1 = lam * 1.0 + (1 - lam) * 2.0
    assert vol.ema(x) == pytest.approx(lam * e1 + (1 - lam) * 3.0, rel=1e-15)
    assert vol.ema_series(x, lam=0.5).tolist() == [1.0, 1.5, 2.25]
    assert vol.ema_decay(halflife=1.0) == 0.5
    assert vol.ema_decay(span=3) == 0.5
    assert vol.ema_decay() == vol.RISKMETRICS_LAMBDA
    assert vol.ema([0.7]) == 0.7
    assert vol.ema([5.0] * 10, span=4) == pytest.approx(5.0)


def test_ema_halflife_halves_the_weight() -> None:
    # an impulse decays to half after `halflife` observations
    series = vol.ema_series([1.0] + [0.0] * 10, halflife=4.0)
    assert series[4] == pytest.approx(0.5 * series[0])


@given(st.lists(st.floats(0.0, 5.0), min_size=1, max_size=50), st.floats(0.0, 0.999))
def test_ema_within_range(values: list[float], lam: float) -> None:
    e = vol.ema(values, lam=lam)
    assert min(values) - 1e-12 <= e <= max(values) + 1e-12


@pytest.mark.parametrize(
    "kwargs, field",
    [({"lam": 1.0}, "lam"), ({"halflife": 0}, "halflife"), ({"span": 0.5}, "span"), ({"lam": 0.9, "span": 3}, "at most one")],
)
def test_ema_bad_parameters(kwargs: dict, field: str) -> None:
    with pytest.raises(InputError, match=field):
        vol.ema([1.0, 2.0], **kwargs)


def test_ema_bad_values() -> None:
    with pytest.raises(InputError, match=r"values\[1\]"):
        vol.ema([1.0, float("nan")])
    with pytest.raises(InputError, match="values"):
        vol.ema([])


def test_realised_vol_formula() -> None:
    prices = [100.0, 101.0, 99.0, 102.0]
    r = [math.log(101 / 100), math.log(99 / 101), math.log(102 / 99)]
    assert vol.realised_vol(prices) == pytest.approx(math.sqrt(365 * sum(x * x for x in r) / 3), rel=1e-14)
    assert vol.realised_vol(prices, demean=True, periods_per_year=252) == pytest.approx(
        math.sqrt(252) * float(np.std(r, ddof=1)), rel=1e-14
    )


def test_realised_vol_recovers_simulated_vol() -> None:
    rng = np.random.default_rng(0)
    sigma = 0.6
    r = rng.standard_normal(20_000) * sigma / math.sqrt(365)
    prices = 100 * np.exp(np.concatenate(([0.0], np.cumsum(r))))
    assert vol.realised_vol(prices) == pytest.approx(sigma, rel=0.02)


def test_rolling_realised_vol() -> None:
    rng = np.random.default_rng(1)
    prices = 100 * np.exp(np.cumsum(rng.standard_normal(50) * 0.02))
    roll = vol.rolling_realised_vol(prices, 10)
    assert roll.shape == (40,)
    assert roll[-1] == pytest.approx(vol.realised_vol(prices[-11:]), rel=1e-12)
    assert roll[0] == pytest.approx(vol.realised_vol(prices[:11]), rel=1e-12)


def test_realised_vol_errors() -> None:
    with pytest.raises(InputError, match=r"prices\[1\]"):
        vol.realised_vol([100.0, -1.0, 3.0])
    with pytest.raises(InputError, match="prices"):
        vol.realised_vol([100.0])
    with pytest.raises(InputError, match="periods_per_year"):
        vol.realised_vol([1.0, 2.0], periods_per_year=0)
    with pytest.raises(InputError, match="window"):
        vol.rolling_realised_vol([1.0, 2.0, 3.0], 0)
    with pytest.raises(InputError, match="prices"):
        vol.rolling_realised_vol([1.0, 2.0, 3.0], 5)


def test_skew_measure() -> None:
    assert vol.skew_measure(0.61, 0.55, 0.53) == pytest.approx(0.08)
    assert vol.skew_measure(0.50, 0.55, 0.58) == pytest.approx(0.08)  # call skew counts too
    assert vol.skew_measure(0.61, 0.55, 0.53, normalise=True) == pytest.approx(0.08 / 0.55)
    with pytest.raises(InputError, match="iv_put_25d"):
        vol.skew_measure(-0.1, 0.5, 0.5)
    with pytest.raises(InputError, match="iv_atm"):
        vol.skew_measure(0.1, float("inf"), 0.5)
    with pytest.raises(InputError, match="iv_atm"):
        vol.skew_measure(0.1, 0.0, 0.5, normalise=True)


def test_v_scalar_float() -> None:
    assert vol.v_scalar(0.6, 0.5, 0.08) == pytest.approx(0.6 * 0.5 + 0.4 * 0.08)
    with pytest.raises(InputError, match="alpha"):
        vol.v_scalar(1.2, 0.5, 0.1)
    with pytest.raises(InputError, match="skew"):
        vol.v_scalar(0.5, 0.5, -0.1)


@given(st.integers(0, fp.RATIO_SCALE), st.integers(0, 3 * 10**6), st.integers(0, 10**6))
def test_v_scalar_fixed_rounds_up_once(alpha: int, ema_raw: int, skew_raw: int) -> None:
    v = vol.v_scalar_fixed(alpha, ema_raw, skew_raw)
    exact = (Fraction(alpha, fp.RATIO_SCALE) * Fraction(ema_raw, fp.VOL_SCALE)
             + (1 - Fraction(alpha, fp.RATIO_SCALE)) * Fraction(skew_raw, fp.VOL_SCALE))
    assert 0 <= Fraction(v, fp.RATIO_SCALE) - exact < Fraction(1, fp.RATIO_SCALE)
    assert v / fp.RATIO_SCALE == pytest.approx(
        vol.v_scalar(alpha / fp.RATIO_SCALE, ema_raw / fp.VOL_SCALE, skew_raw / fp.VOL_SCALE), abs=1.01e-6
    )


def test_skew_fixed_and_market() -> None:
    assert vol.skew_fixed(610_000, 550_000, 530_000) == 80_000
    assert vol.skew_fixed(610_000, 550_000, 530_000, normalise=True) == fp.ceil_div(80_000 * 10**6, 550_000)
    with pytest.raises(InputError, match="alpha"):
        vol.v_scalar_fixed(fp.RATIO_SCALE + 1, 1, 1)
    und = [
        Underlying("A", 1, (), 500_000, 550_000, 610_000, 530_000),
        Underlying("B", 1, (), 700_000, 680_000, 750_000, 660_000),
    ]
    v = vol.v_scalar_market(600_000, und)
    assert v == max(vol.v_scalar_fixed(600_000, 500_000, 80_000), vol.v_scalar_fixed(600_000, 700_000, 90_000))
    assert v == 456_000


def test_ema_fixed_is_the_exact_recursion_rounded_up() -> None:
    history = (500_000, 520_000, 480_123, 610_007, 455_555)
    exact = Fraction(history[0])
    for x in history[1:]:
        exact = Fraction(94, 100) * exact + Fraction(6, 100) * x
    e = vol.ema_fixed(history)
    assert e == math.ceil(exact) and 0 <= e - exact < 1
    assert e / fp.VOL_SCALE == pytest.approx(vol.ema([x / fp.VOL_SCALE for x in history]), abs=1.01e-6)
    assert vol.ema_fixed((700_000,)) == 700_000 and vol.ema_fixed((300_000,) * 40) == 300_000  # no spurious +1
    with pytest.raises(InputError, match="vol_history"):
        vol.ema_fixed(())
    with pytest.raises(InputError, match=r"vol_history\[1\]"):
        vol.ema_fixed((1, -1))
