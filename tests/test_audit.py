"""The keeper's audit of a published market (zksolv.core.audit, run by every MarketState load)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner

from zksolv.cli import EXIT_INPUT, main
from zksolv.core.audit import EPOCH_SECONDS, MC_TOLERANCE, TOLERANCE, check_valuation_time
from zksolv.app.demo import all_demo_markets, demo_market
from zksolv.core.errors import InputError
from zksolv.core.fixedpoint import DELTA_SCALE, GAMMA_SCALE, PRICE_SCALE, format_fixed, parse_fixed
from zksolv.core.market import MarketState


@pytest.fixture(scope="module")
def reval() -> dict[str, Any]:
    return demo_market(7, "revaluation", "span").to_dict()


@pytest.fixture(scope="module")
def stress() -> dict[str, Any]:
    return demo_market(7, "stress", "span").to_dict()


def _option(data: dict[str, Any], kind: str = "call", nth: int = 5) -> int:
    return [i for i, ins in enumerate(data["instruments"]) if ins["kind"] == kind][nth]


def _bump(value: str, scale: int, units: int) -> str:
    return format_fixed(parse_fixed("x", value, scale) + units, scale)


def _tampered(data: dict[str, Any], edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    copy = json.loads(json.dumps(data))
    edit(copy)
    return copy


OVER = 2 * max(TOLERANCE.values()) + 1  # beyond the tolerance whatever the honest rounding was


@pytest.mark.parametrize("field, scale", [("gamma", GAMMA_SCALE), ("vega", PRICE_SCALE), ("delta", DELTA_SCALE),
                                          ("mark", PRICE_SCALE)])
@pytest.mark.parametrize("sign", [1, -1])
def test_a_greek_or_mark_off_by_more_than_the_tolerance_is_refused(stress: dict[str, Any], field: str, scale: int,
                                                                  sign: int) -> None:
    i = _option(stress)
    sym = stress["instruments"][i]["symbol"]

    def edit(d: dict[str, Any]) -> None:
        d["instruments"][i][field] = _bump(d["instruments"][i][field], scale, sign * OVER)

    with pytest.raises(InputError) as err:
        MarketState.from_dict(_tampered(stress, edit))
    msg = str(err.value)
    published = _bump(stress["instruments"][i][field], scale, sign * OVER)
    assert f"instruments[{i}] {sym!r}.{field}: published {published} != recomputed" in msg


def test_a_risk_array_entry_off_by_more_than_the_tolerance_is_refused(reval: dict[str, Any]) -> None:
    i = _option(reval, "put", 3)

    def edit(d: dict[str, Any]) -> None:
        d["instruments"][i]["pnl"][7] = _bump(d["instruments"][i]["pnl"][7], PRICE_SCALE, -OVER)

    with pytest.raises(InputError, match=rf"instruments\[{i}\] '[^']+'\.pnl\[7\]: published .* != recomputed"):
        MarketState.from_dict(_tampered(reval, edit))


def test_v_and_an_ema_off_are_refused(stress: dict[str, Any]) -> None:
    def v(d: dict[str, Any]) -> None:
        d["params"]["v_scalar"] = _bump(d["params"]["v_scalar"], 10**6, 1)

    def ema(d: dict[str, Any]) -> None:
        d["underlyings"][1]["vol_ema"] = _bump(d["underlyings"][1]["vol_ema"], 10**6, -1)

    with pytest.raises(InputError, match="params.V: published"):
        MarketState.from_dict(_tampered(stress, v))
    with pytest.raises(InputError, match=r"underlyings\[1\].vol_ema: published"):
        MarketState.from_dict(_tampered(stress, ema))


def test_the_issues_attack_every_option_array_at_its_validation_floor_is_refused(reval: dict[str, Any],
                                                                                tmp_path: Path) -> None:
    """Issue 24: every option's risk array set to intrinsic value after the widened move minus the
    mark passes the structural validation but not the audit (and `market commit` refuses it)."""
    market = MarketState.from_dict(reval)
    moves, _ = market.scan_range()

    def edit(d: dict[str, Any]) -> None:
        for i, ins in enumerate(market.instruments):
            if not ins.kind.is_option:
                continue
            spot = market.underlyings[ins.underlying].spot
            floor = []
            for move in moves[ins.underlying]:
                shocked = max(0, spot + move)
                intrinsic = max(0, shocked - ins.strike) if ins.kind.value == "call" else max(0, ins.strike - shocked)
                floor.append(format_fixed(intrinsic - ins.mark, PRICE_SCALE))
            d["instruments"][i]["pnl"] = floor

    attacked = _tampered(reval, edit)
    with pytest.raises(InputError, match=r"\.pnl\[\d+\]: published .* != recomputed"):
        MarketState.from_dict(attacked)
    path = tmp_path / "attacked.json"
    path.write_text(json.dumps(attacked))
    result = CliRunner().invoke(main, ["market", "commit", str(path)])
    assert result.exit_code == EXIT_INPUT and "recomputed" in result.stderr


def test_the_attack_passes_structural_validation(reval: dict[str, Any]) -> None:
    """So the refusal above is the audit's doing, not the validation floor's."""
    from dataclasses import replace

    market = MarketState.from_dict(reval)
    moves, _ = market.scan_range()
    instruments = []
    for ins in market.instruments:
        if ins.kind.is_option:
            spot = market.underlyings[ins.underlying].spot
            pnl = tuple((max(0, max(0, spot + m) - ins.strike) if ins.kind.value == "call"
                         else max(0, ins.strike - max(0, spot + m))) - ins.mark for m in moves[ins.underlying])
            ins = replace(ins, pnl=pnl)
        instruments.append(ins)
    attacked = replace(market, instruments=tuple(instruments))
    attacked.validated()  # structural: accepted
    with pytest.raises(InputError, match="recomputed"):
        attacked.validated(audit=True)


def test_audit_inputs_are_required_when_options_are_listed(stress: dict[str, Any]) -> None:
    def no_time(d: dict[str, Any]) -> None:
        del d["valuation_time"]

    def no_iv(d: dict[str, Any]) -> None:
        del d["instruments"][_option(d)]["iv"]

    def late(d: dict[str, Any]) -> None:
        d["valuation_time"] = d["instruments"][_option(d)]["expiry"]
        d["epoch"] = d["valuation_time"] // EPOCH_SECONDS  # within its epoch: the expiry check refuses it

    def next_day(d: dict[str, Any]) -> None:
        d["valuation_time"] += EPOCH_SECONDS

    with pytest.raises(InputError, match="valuation_time: missing"):
        MarketState.from_dict(_tampered(stress, no_time))
    with pytest.raises(InputError, match=r"\.iv: missing"):
        MarketState.from_dict(_tampered(stress, no_iv))
    with pytest.raises(InputError, match="is not after the market's valuation_time"):
        MarketState.from_dict(_tampered(stress, late))
    with pytest.raises(InputError, match=r"market\.valuation_time: \d+ lies outside .* of epoch \d+'s timestamp"):
        MarketState.from_dict(_tampered(stress, next_day))


def test_the_valuation_time_lies_within_a_day_of_its_epochs_timestamp() -> None:
    check_valuation_time(3, 2 * 86_400)
    check_valuation_time(3, 4 * 86_400 - 1)
    for vt in (2 * 86_400 - 1, 4 * 86_400):
        with pytest.raises(InputError, match=r"params\.valuation_time: \d+ lies outside \[172800, 345600\), within "
                                             r"86400 s of epoch 3's timestamp 259200"):
            check_valuation_time(3, vt, "params.valuation_time")


def test_the_audit_inputs_are_not_committed(stress: dict[str, Any]) -> None:
    """valuation_time and iv are published evidence: the market root (and so every circuit) is the
    same without them, which is why the keeper insists on them separately."""
    from dataclasses import replace

    from zksolv.core.commitments import market_root

    market = MarketState.from_dict(stress)
    bare = replace(market, valuation_time=0, instruments=tuple(replace(i, iv=0) for i in market.instruments))
    assert market_root(bare) == market_root(market)


@pytest.mark.slow
def test_every_honest_mode_and_grid_passes_the_audit() -> None:
    markets = all_demo_markets(7)
    assert {(m.params.risk_mode.value, m.params.scenarios.name) for m in markets}
    for m in markets:
        again = MarketState.from_json(m.to_json())  # audits
        assert again == m


def test_the_keeper_load_imports_no_numpy(tmp_path: Path, reval: dict[str, Any]) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps(reval))
    code = ("import sys; from zksolv.core.market import MarketState; MarketState.load(sys.argv[1]); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('numpy', 'numba')]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True)


@pytest.mark.parametrize("spot, strike, w, call", [(65_000.0, 60_000.0, 0.12, True), (65_000.0, 72_000.0, 0.3, False),
                                                   (3_400.0, 3_400.0, 0.05, True), (3_400.0, 1_000.0, 0.9, False)])
def test_pure_python_pricing_agrees_with_the_oracles(spot: float, strike: float, w: float, call: bool) -> None:
    """The keeper's Black-Scholes (math.erfc) against the oracle's numpy pricing, and the implied
    total vol solver inverting it; put-call parity at zero rate."""
    import numpy as np

    from zksolv.core.audit import bs_greeks, bs_value, implied_total_vol
    from zksolv.risk.pricing import KIND_CALL, KIND_PUT, greeks_numpy

    g = greeks_numpy(np.array([spot]), np.array([strike]), np.array([1.0]), np.array([w]),
                     np.array([KIND_CALL if call else KIND_PUT]))
    value, delta, gamma, vega = bs_greeks(spot, strike, w, 1.0, call)
    assert value == pytest.approx(float(g.mark[0]), rel=1e-12, abs=1e-9 * spot)
    assert delta == pytest.approx(float(g.delta[0]), rel=1e-12, abs=1e-15)
    assert gamma == pytest.approx(float(g.gamma[0]), rel=1e-12)
    assert vega == pytest.approx(float(g.vega[0]), rel=1e-12)
    assert bs_value(spot, strike, w, True) - bs_value(spot, strike, w, False) == pytest.approx(spot - strike, abs=1e-9 * spot)
    assert implied_total_vol(spot, strike, value, call) == pytest.approx(w, rel=1e-9)


def test_the_solver_refuses_marks_no_vol_solves() -> None:
    from zksolv.core.audit import implied_total_vol

    with pytest.raises(InputError, match="below the option's intrinsic value"):
        implied_total_vol(65_000.0, 60_000.0, 4_000.0, True, name="x")
    with pytest.raises(InputError, match="no implied vol solves it"):
        implied_total_vol(65_000.0, 60_000.0, 65_000.0, True, name="x")
    with pytest.raises(InputError, match="no implied vol solves it"):
        implied_total_vol(65_000.0, 60_000.0, 60_000.0, False, name="x")


@pytest.fixture(scope="module")
def var() -> dict[str, Any]:
    return demo_market(7, "var", "deribit").to_dict()


def _set(path: tuple[Any, ...], change: Callable[[Any], Any]) -> Callable[[dict[str, Any]], None]:
    def edit(d: dict[str, Any]) -> None:
        node = d
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = change(node[path[-1]])
    return edit


_RATIO, _VOL = 10**6, 10**6


@pytest.mark.parametrize("path, scale, field", [
    (("params", "scenarios", "price_shocks", 0, 4), _RATIO, r"params\.scenarios\.price_shocks\[0\]\[4\]"),
    (("params", "scenarios", "vol_shocks", 1, 2), _VOL, r"params\.scenarios\.vol_shocks\[1\]\[2\]"),
    (("params", "var_loadings", 1, 0), PRICE_SCALE, r"params\.var_loadings\[1\]\[0\]"),
    (("params", "gamma_addon", 1), PRICE_SCALE**2, r"params\.gamma_addon\[1\]"),
    (("params", "vega_stress", 0), _VOL, r"params\.vega_stress\[0\]"),
])
@pytest.mark.parametrize("units", [-1, 1])
def test_a_grid_or_var_parameter_off_by_one_unit_is_refused(var: dict[str, Any], path: tuple[Any, ...], scale: int,
                                                            field: str, units: int) -> None:
    """The grid and the VaR parameters are re-derived with the builder's own code: compared exactly."""
    MarketState.from_dict(var)  # the honest market passes
    with pytest.raises(InputError, match=field + r": published .* != re-derived .*compared exactly"):
        MarketState.from_dict(_tampered(var, _set(path, lambda v: _bump(v, scale, units))))


def test_the_policy_inputs_the_figures_derive_from_are_required(var: dict[str, Any]) -> None:
    for key, message in (("vol_shift", r"params\.vol_shift: missing"), ("correlation", r"params\.correlation: missing")):
        with pytest.raises(InputError, match=message):
            MarketState.from_dict(_tampered(var, lambda d, k=key: d["params"].pop(k)))
    # a vol shift other than the one the grid and vega_stress derive from
    with pytest.raises(InputError, match=r"params\.scenarios\.vol_shocks\[0\]\[0\]: published"):
        MarketState.from_dict(_tampered(var, _set(("params", "vol_shift"), lambda v: "0.2")))
    # a correlation other than the one the loadings derive from
    with pytest.raises(InputError, match=r"params\.var_loadings\[1\]\[0\]: published"):
        MarketState.from_dict(_tampered(var, lambda d: d["params"].update(correlation=[["1", "0.5"], ["0.5", "1"]])))
    with pytest.raises(InputError, match=r"params\.correlation: must be symmetric \(re-deriving the VaR parameters\)"):
        MarketState.from_dict(_tampered(var, _set(("params", "correlation", 0, 1), lambda v: "0.5")))


@pytest.mark.parametrize("name, message", [("cme16", "names no scenario set a keeper can re-derive"),
                                           ("deribit32", "3 \\* \\(2 \\* steps \\+ 1\\)"),
                                           ("paradex16", "not a grid the builder makes"),
                                           ("deribit21", r"params\.scenarios\.price_shocks: shape differs")])
def test_a_grid_name_the_audit_cannot_rebuild_is_refused(var: dict[str, Any], name: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        MarketState.from_dict(_tampered(var, _set(("params", "scenarios", "name"), lambda v: name)))


def test_a_market_without_vol_history_is_refused(stress: dict[str, Any]) -> None:
    with pytest.raises(InputError, match=r"underlyings\[1\] 'ETH'\.vol_history: missing"):
        MarketState.from_dict(_tampered(stress, _set(("underlyings", 1, "vol_history"), lambda v: [])))


def test_a_monte_carlo_set_is_re_derived_from_its_seed() -> None:
    """ES markets' Monte-Carlo sets are re-derived in pure Python from the seed their name carries, the
    market's epoch (within one unit: libm's last bit), so shrunken draws, another seed or tilted weights
    are refused."""
    es = demo_market(7, "es", "span", n_strikes=3, n_expiries=1).to_dict()
    epoch = es["epoch"]
    assert es["params"]["scenarios"]["name"] == f"mc128-seed{epoch}"
    MarketState.from_dict(es)
    MarketState.from_dict(_tampered(es, _set(("params", "scenarios", "price_shocks", 0, 3),
                                             lambda v: _bump(v, _RATIO, MC_TOLERANCE))))  # within the tolerance
    with pytest.raises(InputError, match=r"params\.scenarios\.price_shocks\[0\]\[3\]: published .* tolerance 1 unit"):
        MarketState.from_dict(_tampered(es, _set(("params", "scenarios", "price_shocks", 0, 3),
                                                 lambda v: _bump(v, _RATIO, -MC_TOLERANCE - 1))))

    def shrink(d: dict[str, Any]) -> None:  # every draw a tenth (weights unchanged): the O4 attack on ES
        sc = d["params"]["scenarios"]
        for key in ("price_shocks", "vol_shocks"):
            sc[key] = [[format_fixed(parse_fixed("x", x, _RATIO) // 10, _RATIO) for x in row] for row in sc[key]]
    with pytest.raises(InputError, match=r"params\.scenarios\.price_shocks\[0\]\[0\]: published"):
        MarketState.from_dict(_tampered(es, shrink))
    with pytest.raises(InputError, match=r"params\.scenarios\.name: 'mc128-seed8': a Monte-Carlo set is seeded by the market's epoch"):
        MarketState.from_dict(_tampered(es, _set(("params", "scenarios", "name"), lambda v: "mc128-seed8")))
    with pytest.raises(InputError, match=r"params\.scenarios\.price_shocks: shape differs"):
        MarketState.from_dict(_tampered(es, _set(("params", "scenarios", "name"), lambda v: f"mc64-seed{epoch}")))

    def tilt(d: dict[str, Any]) -> None:  # weight moved onto scenario 0, still summing to 1
        w = d["params"]["scenarios"]["weights"]
        w[0], w[1] = _bump(w[0], _RATIO, 1000), _bump(w[1], _RATIO, -1000)
    with pytest.raises(InputError, match=r"params\.scenarios\.weights\[0\]: published"):
        MarketState.from_dict(_tampered(es, tilt))
