"""Black–Scholes greeks: finite differences, parity, limits, backends, quantisation."""

from __future__ import annotations

import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zksolv.core import fixedpoint as fp
from zksolv.risk import pricing
from zksolv.core.errors import InputError
from zksolv.core.market import InstrumentKind

C, P = pricing.KIND_CALL, pricing.KIND_PUT


def _table(n: int = 400, seed: int = 1, rate: float = 0.0):
    rng = np.random.default_rng(seed)
    spot = rng.uniform(50.0, 150.0, n)
    strike = spot * np.exp(rng.uniform(-0.8, 0.8, n))
    tau = rng.uniform(0.01, 3.0, n)
    vol = rng.uniform(0.05, 1.5, n)
    kind = rng.integers(0, 5, n)
    return spot, strike, tau, vol, kind


def _price(s, k, t, v, kind, r=0.0):
    return pricing.greeks_numpy(s, k, t, v, kind, r).mark


@pytest.mark.parametrize("rate", [0.0, 0.05])
def test_greeks_match_finite_differences(rate: float) -> None:
    s, k, t, v, _ = _table(300)
    k = np.clip(k, 0.6 * s, 1.6 * s)  # keep away from degenerate deep-ITM/OTM corners
    for code in (C, P):
        kind = np.full(s.shape, code)
        g = pricing.greeks_numpy(s, k, t, v, kind, rate)
        hs = 1e-4 * s
        up, dn = _price(s + hs, k, t, v, kind, rate), _price(s - hs, k, t, v, kind, rate)
        mid = _price(s, k, t, v, kind, rate)
        np.testing.assert_allclose(g.delta, (up - dn) / (2 * hs), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(g.gamma, (up - 2 * mid + dn) / hs**2, rtol=1e-3, atol=1e-7)
        hv = 1e-5
        vega_fd = (_price(s, k, t, v + hv, kind, rate) - _price(s, k, t, v - hv, kind, rate)) / (2 * hv)
        np.testing.assert_allclose(g.vega, vega_fd, rtol=1e-6, atol=1e-7 * s.max())


@pytest.mark.parametrize("rate", [0.0, 0.03])
def test_put_call_parity(rate: float) -> None:
    s, k, t, v, _ = _table(500)
    call = pricing.greeks_numpy(s, k, t, v, np.full(s.shape, C), rate)
    put = pricing.greeks_numpy(s, k, t, v, np.full(s.shape, P), rate)
    np.testing.assert_allclose(call.mark - put.mark, s - k * np.exp(-rate * t), rtol=0, atol=1e-10 * s.max())
    np.testing.assert_allclose(call.delta - put.delta, 1.0, atol=1e-13)
    np.testing.assert_allclose(call.gamma, put.gamma, rtol=1e-13)
    np.testing.assert_allclose(call.vega, put.vega, rtol=1e-13)


def test_known_value() -> None:
    # S=K=100, T=1, sigma=0.2, r=0: call = 100*(2N(0.1)-1) = 7.965567455405804
    g = pricing.greeks_numpy([100.0], [100.0], [1.0], [0.2], [InstrumentKind.CALL])
    assert g.mark[0] == pytest.approx(7.965567455405804, rel=1e-13)
    assert g.delta[0] == pytest.approx(0.5 * math.erfc(-0.1 / math.sqrt(2)), rel=1e-14)
    assert g.vega[0] == pytest.approx(100 * math.exp(-0.005) / math.sqrt(2 * math.pi), rel=1e-13)


def test_norm_cdf_against_math_erfc() -> None:
    xs = np.linspace(-12.0, 9.0, 20001)
    ref = np.array([0.5 * math.erfc(-x / math.sqrt(2.0)) for x in xs])
    np.testing.assert_allclose(pricing.norm_cdf(xs), ref, rtol=5e-14)
    # far tail: relative error grows like x^2 * eps (rounding of exp(-x^2/2)), still tiny
    far = np.linspace(-37.0, -12.0, 2001)
    ref_far = np.array([0.5 * math.erfc(-x / math.sqrt(2.0)) for x in far])
    np.testing.assert_allclose(pricing.norm_cdf(far), ref_far, rtol=1e-12)
    # the lower tail stays relative-accurate, not just absolute
    assert pricing.norm_cdf(np.array([-30.0]))[0] == pytest.approx(0.5 * math.erfc(30 / math.sqrt(2)), rel=1e-12)


@pytest.mark.parametrize("rate", [0.0, 0.04])
def test_numpy_numba_python_agree(rate: float) -> None:
    s, k, t, v, kind = _table(2000, seed=3)
    t[::11] = -0.1  # expired
    v[::13] = 0.0  # zero vol
    a = pricing.greeks_numpy(s, k, t, v, kind, rate)
    b = pricing.greeks_numba(s, k, t, v, kind, rate)
    c = pricing.greeks_python(s, k, t, v, kind, rate)
    for f in ("mark", "delta", "gamma", "vega"):
        x, y, z = getattr(a, f), getattr(b, f), getattr(c, f)
        assert not np.isnan(x).any() and not np.isnan(y).any()
        np.testing.assert_array_equal(y, z)  # same kernel, compiled or not
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12 * s.max())


@pytest.mark.parametrize("backend", ["numpy", "numba", "python"])
def test_deep_otm_put_delta_does_not_cancel(backend: str) -> None:
    # delta_put = -N(-d1); the textbook N(d1) - 1 rounds to exactly 0.0 here (true value about -1e-21)
    s, k, t, v = 12.743, 8.8424, 0.05, 0.15
    d1 = (math.log(s / k) + 0.5 * v * v * t) / (v * math.sqrt(t))
    expected = -0.5 * math.erfc(d1 / math.sqrt(2))
    assert 0.5 * math.erfc(-d1 / math.sqrt(2)) - 1.0 == 0.0  # the cancellation this guards against
    g = pricing.greeks([s], [k], [t], [v], [P], backend=backend)
    assert g.delta[0] < 0.0
    assert g.delta[0] == pytest.approx(expected, rel=1e-12)


def test_linear_instruments() -> None:
    kinds = [InstrumentKind.SPOT, InstrumentKind.PERPETUAL, InstrumentKind.FUTURE]
    g = pricing.greeks_numpy([65000.0] * 3, [0.0] * 3, [0.0, 0.0, 0.25], [0.0] * 3, kinds)
    assert g.mark.tolist() == [65000.0, 0.0, 0.0]
    assert g.delta.tolist() == [1.0, 1.0, 1.0]
    assert g.gamma.tolist() == [0.0] * 3 and g.vega.tolist() == [0.0] * 3


@pytest.mark.parametrize("backend", ["numpy", "numba", "python"])
def test_degenerate_limits(backend: str) -> None:
    # expired ITM / OTM / ATM calls and puts, and zero vol with time left
    s = [110.0, 90.0, 100.0, 110.0, 90.0, 100.0, 120.0, 100.0]
    k = [100.0] * 8
    t = [0.0, -1.0, 0.0, 0.0, -0.5, 0.0, 0.5, 0.5]
    v = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.0, 0.0]
    kind = [C, C, C, P, P, P, C, P]
    g = pricing.greeks(s, k, t, v, kind, backend=backend)
    assert g.mark.tolist() == [10.0, 0.0, 0.0, 0.0, 10.0, 0.0, 20.0, 0.0]
    assert g.delta.tolist() == [1.0, 0.0, 0.5, 0.0, -1.0, -0.5, 1.0, -0.5]
    assert g.gamma.tolist() == [0.0] * 8
    assert g.vega[:7].tolist() == [0.0] * 7
    assert g.vega[7] == pytest.approx(100 * math.sqrt(0.5) / math.sqrt(2 * math.pi))


def test_continuity_towards_expiry() -> None:
    s = np.array([105.0, 95.0])
    k = np.array([100.0, 100.0])
    g = pricing.greeks_numpy(s, k, [1e-9, 1e-9], [0.5, 0.5], [C, P])
    np.testing.assert_allclose(g.mark, [5.0, 5.0], atol=1e-9)
    np.testing.assert_allclose(g.delta, [1.0, -1.0], atol=1e-12)


@given(
    st.floats(1.0, 1e6), st.floats(0.2, 5.0), st.floats(0.0, 5.0), st.floats(0.0, 3.0),
    st.sampled_from([C, P]), st.floats(-0.1, 0.2),
)
@settings(max_examples=200, deadline=None)
def test_no_nan_and_bounds(spot: float, moneyness: float, tau: float, vol: float, kind: int, rate: float) -> None:
    g = pricing.greeks_numpy([spot], [spot * moneyness], [tau], [vol], [kind], rate)
    for f in ("mark", "delta", "gamma", "vega"):
        assert np.isfinite(getattr(g, f)).all()
    assert g.mark[0] >= 0.0
    assert g.gamma[0] >= 0.0 and g.vega[0] >= 0.0
    if kind == C:
        assert -1e-15 <= g.delta[0] <= 1.0 and g.mark[0] <= spot * (1 + 1e-12)
    else:
        assert -1.0 <= g.delta[0] <= 1e-15


@pytest.mark.parametrize(
    "field, args",
    [
        ("spot", ([-1.0], [100.0], [1.0], [0.2], [C])),
        ("strike", ([100.0], [-5.0], [1.0], [0.2], [C])),
        ("vol", ([100.0], [100.0], [1.0], [-0.2], [P])),
        ("vol", ([100.0], [100.0], [1.0], [float("nan")], [P])),
        ("tau", ([100.0], [100.0], [float("inf")], [0.2], [P])),
        ("spot", ([float("inf")], [100.0], [1.0], [0.2], [C])),
        ("strike", ([100.0], [0.0], [1.0], [0.2], [C])),
        ("spot", ([0.0], [100.0], [1.0], [0.2], [P])),
        ("kind", ([100.0], [100.0], [1.0], [0.2], ["straddle"])),
        ("tau", ([100.0, 1.0], [100.0, 1.0], [1.0], [0.2, 0.2], [C, C])),
    ],
)
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_bad_input_names_field(field: str, args: tuple, backend: str) -> None:
    with pytest.raises(InputError, match=field):
        pricing.greeks(*args, backend=backend)


def test_bad_rate_and_backend() -> None:
    with pytest.raises(InputError, match="rate"):
        pricing.greeks_numpy([1.0], [1.0], [1.0], [0.2], [C], float("nan"))
    with pytest.raises(InputError, match="backend"):
        pricing.greeks([1.0], [1.0], [1.0], [0.2], [C], backend="gpu")


@given(st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from([10**6, 10**8, 10**12]))
def test_quantise_is_exact_round_half_away(x: float, scale: int) -> None:
    (q,) = pricing.quantise("x", [x], scale)
    exact = Fraction(x) * scale
    assert abs(exact - q) <= Fraction(1, 2)
    if abs(exact - q) == Fraction(1, 2):
        assert abs(q) > abs(exact)  # halves away from zero


def test_quantise_halves_and_errors() -> None:
    assert pricing.quantise("x", [0.5, -0.5, 2.5, -2.5, 1e-7, -1e-7], 1) == (1, -1, 3, -3, 0, 0)
    # the float 5e-7 is just *below* 1/2 micro-unit in binary: exact rounding gives 0, deterministically
    assert Fraction(5e-7) < Fraction(1, 2 * 10**6)
    assert pricing.quantise("x", [5e-7], 10**6) == (0,)
    with pytest.raises(InputError, match=r"mark\[1\]"):
        pricing.quantise("mark", [1.0, float("nan")], 10**6)
    with pytest.raises(InputError, match=r"delta\[0\]"):
        pricing.quantise("delta", [100.0], fp.DELTA_SCALE, bits=fp.DELTA_BITS)


def test_quantise_greeks_scales() -> None:
    g = pricing.greeks_numpy([65000.0, 65000.0], [70000.0, 0.0], [0.1, 0.0], [0.55, 0.0], ["call", "perpetual"])
    q = pricing.quantise_greeks(g)
    assert q.mark[0] == fp.round_half_away(*(Fraction(float(g.mark[0])) * fp.PRICE_SCALE).as_integer_ratio())
    assert q.delta[1] == fp.DELTA_SCALE and q.mark[1] == 0 and q.gamma[1] == 0 and q.vega[1] == 0
    assert all(isinstance(x, int) for x in q.mark + q.delta + q.gamma + q.vega)


def test_import_is_cheap() -> None:
    code = "import sys, zksolv.risk.pricing; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"
