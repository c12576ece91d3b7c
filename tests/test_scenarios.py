"""Scenario grids, Monte-Carlo sets and VaR parameters."""

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
from zksolv.core import scenarios as sc
from zksolv.core.errors import InputError
from zksolv.core.market import (
    CollateralAsset, Instrument, InstrumentKind, MarketState, Params, RiskMode, ScenarioSet, Underlying,
)

VOLS = [0.55, 0.68]
CORR = [[1.0, 0.8], [0.8, 1.0]]
UNDS = (
    Underlying("BTC", 65_000 * 10**6, (), 500_000, 550_000, 610_000, 530_000),
    Underlying("ETH", 3_400 * 10**6, (), 700_000, 680_000, 750_000, 660_000),
)


def _market(s: ScenarioSet, mode: RiskMode = RiskMode.STRESS) -> MarketState:
    """Wrap a scenario set in a minimal market and validate it."""
    loadings, gamma, vega = sc.var_parameters(UNDS, CORR, 2.326, 86_400, 0.1)
    params = Params(600_000, 500_000, 400_000, mode, 975_000, 10**6, 86_400, 2_326_000, s, loadings, gamma, vega)
    ins = (Instrument("BTC-PERP", 0, InstrumentKind.PERPETUAL, 0, 0, 0, 10**8, 0, 0),)
    return MarketState(1, params, UNDS, ins, (CollateralAsset("USDC", 10**6, 0),)).validated()


@pytest.mark.parametrize(
    "builder, count",
    [
        (sc.span_scenarios, 16),
        (sc.deribit_scenarios, 33),
        (sc.paradex_scenarios, 24),
        (sc.horizon_scenarios, 18),
    ],
)
def test_grid_shapes_weights_symmetry(builder, count: int) -> None:
    s = builder(VOLS, 86_400)
    assert s.size == count
    assert sum(s.weights) == fp.RATIO_SCALE
    assert len(s.price_shocks) == len(s.vol_shocks) == 2
    for u in range(2):
        assert len(s.price_shocks[u]) == len(s.vol_shocks[u]) == count
        # symmetric: the multiset of (price, vol) pairs is closed under negating the price move
        pairs = sorted(zip(s.price_shocks[u], s.vol_shocks[u]))
        assert pairs == sorted((-p, v) for p, v in pairs)
        assert sorted(s.vol_shocks[u]) == sorted(-v for v in s.vol_shocks[u])
    # each underlying has its own scan range (ETH's vol is higher)
    assert max(s.price_shocks[1]) > max(s.price_shocks[0])
    _market(s)


def test_span_layout_values() -> None:
    s = sc.span_scenarios([0.5], 86_400, multiplier=3.0, vol_shift=0.25)
    psr = 3 * 0.5 * math.sqrt(1 / 365)
    row = s.price_shocks[0]
    assert row[:2] == (0, 0)
    assert row[10] == row[11] == math.ceil(psr * 10**6) and row[12] == row[13] == -row[10]
    assert row[2] == math.ceil(psr / 3 * 10**6)
    ext = 3 * math.sqrt(0.35) * psr
    assert row[14] == math.ceil(ext * 10**6) and row[15] == -row[14]
    assert s.vol_shocks[0][14:] == (0, 0)
    assert set(s.vol_shocks[0][:14]) == {125_000, -125_000}
    assert s.weights == (62_500,) * 16


def test_rounding_is_away_from_zero() -> None:
    s = sc.horizon_scenarios([0.37], 3_600, multiplier=2.5, steps=3, vega_stress=0.3)
    sqrt_h = math.sqrt(3_600 / sc.SECONDS_PER_YEAR)
    for k, r in enumerate(s.price_shocks[0]):
        i = k // 2 - 3
        exact = Fraction(i / 3 * 2.5 * 0.37 * sqrt_h) * 10**6  # the float the builder rounds
        assert abs(r) >= abs(exact) - Fraction(1, 10**6) and abs(r) - abs(exact) < 1


def test_price_moves_round_magnitude_up() -> None:
    """dS = r*S rounds away from zero: never smaller than the real move, and -r gives -dS."""
    s = ScenarioSet("odd", ((333_333, -333_333, 1, -1, 0), (7, -7, 999_999, -999_999, 0)),
                    ((0,) * 5, (0,) * 5), (200_000,) * 5)
    moves = _market(s).price_moves()
    for u, und in enumerate(UNDS):
        for r, ds in zip(s.price_shocks[u], moves[u]):
            exact = Fraction(r * und.spot, 10**6)
            assert abs(ds) >= abs(exact) and abs(ds) - abs(exact) < 1 and (ds < 0) == (exact < 0)
        assert moves[u][0] == -moves[u][1] and moves[u][2] == -moves[u][3] and moves[u][4] == 0
    assert moves[0][0] == math.ceil(Fraction(333_333 * 65_000 * 10**6, 10**6))


def test_multi_underlying_same_index() -> None:
    s = sc.paradex_scenarios([0.5, 0.5, 1.0], 86_400)
    assert s.price_shocks[0] == s.price_shocks[1]
    for a, b in zip(s.price_shocks[0], s.price_shocks[2]):
        assert (a > 0) == (b > 0) and abs(b) >= abs(a)


@given(st.integers(1, fp.MAX_SCENARIOS))
def test_equal_weights(k: int) -> None:
    w = sc.equal_weights(k)
    assert len(w) == k and sum(w) == fp.RATIO_SCALE
    assert max(w) - min(w) <= 1
    assert list(w) == sorted(w, reverse=True)  # remainder goes to the first scenarios


def test_monte_carlo_set() -> None:
    s = sc.monte_carlo_scenarios(VOLS, CORR, 86_400, n=128, seed=5)
    assert s.size == 128 and sum(s.weights) == fp.RATIO_SCALE
    assert s == sc.monte_carlo_scenarios(VOLS, CORR, 86_400, n=128, seed=5)
    assert s != sc.monte_carlo_scenarios(VOLS, CORR, 86_400, n=128, seed=6)
    r = np.array(s.price_shocks, dtype=float) / fp.RATIO_SCALE
    z = np.log1p(r) / (np.array(VOLS)[:, None] * math.sqrt(1 / 365))
    assert np.corrcoef(z)[0, 1] == pytest.approx(0.8, abs=0.1)
    assert np.all(r > -1)
    # vol rises when price falls (proportional shocks)
    dv = np.array(s.vol_shocks, dtype=float)
    assert np.all(dv * r <= 0)
    _market(s, RiskMode.ES)


@given(st.integers(0, 2**32), st.floats(-0.95, 0.95))
@settings(max_examples=25, deadline=None)
def test_monte_carlo_any_seed_validates(seed: int, rho: float) -> None:
    s = sc.monte_carlo_scenarios(VOLS, [[1, rho], [rho, 1]], 86_400, n=16, seed=seed)
    _market(s, RiskMode.ES)


def test_cholesky_validation() -> None:
    np.testing.assert_allclose(sc.cholesky(CORR) @ sc.cholesky(CORR).T, CORR)
    for bad, msg in [
        ([[1, 0.5], [0.4, 1]], "symmetric"),
        ([[1, 0.5], [0.5, 2]], "diagonal"),
        ([[1, 1.2], [1.2, 1]], r"\[-1, 1\]"),
        ([[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]], "positive definite"),
        ([[1, float("nan")], [float("nan"), 1]], "finite"),
        ([1, 2], "matrix"),
    ]:
        with pytest.raises(InputError, match=msg):
            sc.cholesky(bad)
    with pytest.raises(InputError, match="correlation"):
        sc.monte_carlo_scenarios(VOLS, [[1.0]], 86_400)


def test_var_parameters() -> None:
    z, h = 2.326, 86_400
    loadings, gamma, vega = sc.var_parameters(UNDS, CORR, z, h, [0.1, 0.2])
    sig = sc.risk_vols(UNDS)
    assert sig == [0.55, 0.7]
    chol = np.linalg.cholesky(np.array(CORR))
    sqrt_h = math.sqrt(h / sc.SECONDS_PER_YEAR)
    for u, und in enumerate(UNDS):
        s_u = und.spot / 10**6
        for f in range(2):
            assert loadings[u][f] == pytest.approx(z * chol[u, f] * s_u * sig[u] * sqrt_h * 1e6, abs=1.01)
            exact = Fraction(float(chol[u, f]) * (z * s_u * sig[u] * sqrt_h)) * 10**6  # the float it rounds
            assert abs(loadings[u][f]) >= abs(exact) and abs(loadings[u][f]) - abs(exact) < 1  # magnitude up
            assert (loadings[u][f] < 0) == (exact < 0)
        g = (z * sig[u] * sqrt_h * s_u) ** 2 * 1e12
        scale_u = z * s_u * sig[u] * sqrt_h
        assert gamma[u] == math.ceil(Fraction(scale_u) ** 2 * 10**12)  # exact square of the float, rounded up
        assert gamma[u] == pytest.approx(g, rel=1e-12)
    assert loadings[0][1] == 0  # lower-triangular factor
    assert vega == (100_000, 200_000)
    # sum_f y_f^2 reproduces the correlated delta-normal variance
    delta = np.array([1.0, -3.0])
    a = np.array(loadings, dtype=float) / 1e6
    y = a.T @ delta
    x = delta * np.array([u.spot / 1e6 for u in UNDS]) * np.array(sig) * sqrt_h
    assert math.sqrt(float(y @ y)) == pytest.approx(z * math.sqrt(float(x @ np.array(CORR) @ x)), rel=1e-9)


def test_bad_inputs_name_fields() -> None:
    with pytest.raises(InputError, match=r"vols\[1\]"):
        sc.span_scenarios([0.5, -0.1])
    with pytest.raises(InputError, match=r"vols\[0\]"):
        sc.span_scenarios([float("nan")])
    with pytest.raises(InputError, match="horizon_seconds"):
        sc.span_scenarios([0.5], 0)
    with pytest.raises(InputError, match="steps"):
        sc.deribit_scenarios([0.5], steps=100)
    with pytest.raises(InputError, match="grid"):
        sc.stress_scenarios("cme", [0.5])
    with pytest.raises(InputError, match=r"vols\[0\]"):
        sc.span_scenarios([50.0], 86_400 * 365)  # a >100% scan range
    with pytest.raises(InputError, match="vega_stress"):
        sc.var_parameters(UNDS, CORR, 2.326, 86_400, [0.1])
    with pytest.raises(InputError, match="z"):
        sc.var_parameters(UNDS, CORR, -1.0, 86_400, 0.1)
    with pytest.raises(InputError, match="n"):
        sc.monte_carlo_scenarios(VOLS, CORR, n=7)


def test_the_pure_python_cholesky_is_the_factor_and_needs_no_numpy() -> None:
    """The VaR loadings' factor (also the keeper audit's) agrees with LAPACK's to float precision and
    refuses what :func:`cholesky` refuses; importing the module loads no numpy."""
    corr = ((1.0, 0.3, -0.2), (0.3, 1.0, 0.5), (-0.2, 0.5, 1.0))
    low = sc.cholesky_lower(corr)
    np.testing.assert_allclose(np.array(low), np.linalg.cholesky(np.array(corr)), rtol=0, atol=1e-15)
    assert all(low[i][j] == 0.0 for i in range(3) for j in range(i + 1, 3))
    for bad in (((1.0, 0.5), (0.4, 1.0)), ((1.0, 1.0), (1.0, 1.0)), ((2.0,),), ((1.0, 0.0),)):
        with pytest.raises(InputError, match="correlation"):
            sc.cholesky_lower(bad)
    code = "import sys, zksolv.core.scenarios; assert 'numpy' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60).returncode == 0
