"""The demo market and portfolios: validity, JSON round trip, reproducibility, solvency."""

from __future__ import annotations

import dataclasses

import pytest

from zksolv.app import demo

from zksolv.core import scenarios
from zksolv.core import fixedpoint as fp
from zksolv.core.account import Account
from zksolv.core.errors import InputError
from zksolv.core.market import InstrumentKind, MarketState, RiskMode

SOLVENT = ("covered_call", "short_strangle", "delta_neutral", "calendar_spread", "market_maker")
INSOLVENT = ("naked_short_insolvent", "overlevered_perp")


@pytest.fixture(scope="module")
def all_markets() -> list[MarketState]:
    return demo.all_demo_markets()


def test_default_market_shape(market: MarketState) -> None:
    assert [u.symbol for u in market.underlyings] == ["BTC", "ETH"]
    assert market.underlyings[0].spot == 65_000 * fp.PRICE_SCALE
    assert market.underlyings[1].spot == 3_400 * fp.PRICE_SCALE
    assert len(market.instruments) == 152 <= 512 and market.tree_depth == 3
    kinds = {k: sum(i.kind is k for i in market.instruments) for k in InstrumentKind}
    assert kinds == {
        InstrumentKind.SPOT: 2, InstrumentKind.PERPETUAL: 2, InstrumentKind.FUTURE: 4,
        InstrumentKind.CALL: 72, InstrumentKind.PUT: 72,
    }
    assert {a.symbol: a.haircut for a in market.collateral} == {"USDC": 0, "USDT": 20_000, "BTC": 100_000, "ETH": 150_000}
    assert market.collateral[2].price == market.underlyings[0].spot
    p = market.params
    assert (p.alpha, p.beta, p.es_level, p.min_ratio, p.horizon_seconds, p.var_z) == (
        600_000, 500_000, 975_000, 1_000_000, 86_400, 2_326_000,
    )
    assert p.risk_mode is RiskMode.STRESS and p.scenarios.size == 16
    assert market.epoch == demo.DEMO_EPOCH
    for u in market.underlyings:
        assert len(u.vol_history) == 30 and 0.2e6 < u.vol_ema < 1.5e6
        assert u.iv_put_25d > u.iv_atm > u.iv_call_25d


def test_marks_and_greeks_are_sane(market: MarketState) -> None:
    for ins in market.instruments:
        if ins.kind is InstrumentKind.SPOT:
            assert ins.mark == market.underlyings[ins.underlying].spot and ins.delta == fp.DELTA_SCALE
        elif not ins.kind.is_option:
            assert (ins.mark, ins.delta, ins.gamma, ins.vega) == (0, fp.DELTA_SCALE, 0, 0)
        else:
            assert ins.expiry > demo.REFERENCE_TIME and ins.mark >= 0 and ins.gamma >= 0 and ins.vega >= 0
            assert (0 <= ins.delta <= fp.DELTA_SCALE) if ins.kind is InstrumentKind.CALL else (-fp.DELTA_SCALE <= ins.delta <= 0)


def test_smile_passes_through_quotes() -> None:
    # at the strike whose ATM-vol call delta is 0.25 the smile returns the 25-delta call vol
    import math

    spot, tau, atm, put25, call25 = 100.0, 0.25, 0.5, 0.58, 0.47
    tv = atm * math.sqrt(tau)
    for target, quote in ((0.25, call25), (0.75, put25), (0.5, atm)):
        d1 = -math.sqrt(2) * _erfcinv(2 * target)
        strike = spot * math.exp(0.5 * tv * tv - d1 * tv)
        assert demo.smile_vol(strike, spot, tau, atm, put25, call25) == pytest.approx(quote, abs=1e-9)


def _erfcinv(y: float) -> float:
    lo, hi = -10.0, 10.0
    import math

    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if math.erfc(mid) > y else (lo, mid)
    return 0.5 * (lo + hi)


@pytest.mark.parametrize("mode", ["stress", "es", "var"])
def test_json_round_trip(mode: str) -> None:
    m = demo.demo_market(risk_mode=mode)
    text = m.to_json()
    back = MarketState.from_json(text)
    assert back == m
    assert back.to_json() == text


def test_reproducible_bit_for_bit() -> None:
    a, b = demo.demo_market(seed=3, risk_mode="es"), demo.demo_market(seed=3, risk_mode="es")
    assert a == b and a.to_json() == b.to_json()
    c = demo.demo_market(seed=4, risk_mode="es")
    assert c.underlyings[0].vol_history != a.underlyings[0].vol_history
    assert c.params.scenarios != a.params.scenarios
    assert [i.symbol for i in c.instruments] == [i.symbol for i in a.instruments]
    pa, pb = demo.demo_portfolios(a, 3), demo.demo_portfolios(b, 3)
    assert pa == pb


def test_modes_and_grids(all_markets: list[MarketState]) -> None:
    names = [(m.params.risk_mode.value, m.params.scenarios.name) for m in all_markets]
    mc = f"mc128-seed{all_markets[0].epoch}"  # a Monte-Carlo set is seeded by the market's epoch
    assert names[0] == ("es", mc)
    assert {n for _, n in names[1:]} == {"span16", "deribit33", "paradex24", "horizon18", mc}
    assert {mode for mode, _ in names} == {m.value for m in RiskMode}
    assert names.count(("revaluation", mc)) == 1
    for m in all_markets:
        # one instrument table; a revaluation market adds each instrument's risk array over its grid
        assert [dataclasses.replace(i, pnl=()) for i in m.instruments] == list(all_markets[0].instruments)
        revaluation = m.params.risk_mode is RiskMode.REVALUATION
        assert all(len(i.pnl) == (m.params.scenarios.size if revaluation else 0) for i in m.instruments)
        assert sum(m.params.scenarios.weights) == fp.RATIO_SCALE


def test_portfolios_validate(market: MarketState) -> None:
    ports = demo.demo_portfolios(market)
    assert set(ports) == set(SOLVENT) | set(INSOLVENT)
    assert len(ports["market_maker"].positions) >= 50
    salts = {a.salt for a in ports.values()}
    assert len(salts) == len(ports)
    for name, acc in ports.items():
        assert isinstance(acc, Account)
        acc.validated(market)
        syms = [p.instrument for p in acc.positions]
        assert len(syms) == len(set(syms)), name
        assert all(p.quantity != 0 for p in acc.positions)
        assert acc.salt == demo.demo_salt(7, name)
        assert Account.from_json(acc.to_json()) == acc


def test_solvency_in_every_mode(all_markets: list[MarketState]) -> None:
    model = pytest.importorskip("zksolv.risk.model")
    ports = demo.demo_portfolios(all_markets[0])
    for m in all_markets:
        for name, acc in ports.items():
            result = model.evaluate(m, acc.position_slots(m), acc.balances(m))
            label = f"{name} under {m.params.risk_mode.value}/{m.params.scenarios.name}"
            if name in SOLVENT:
                assert result.solvent and result.margin_ratio > 1.2, label
            else:
                assert not result.solvent and result.margin_ratio < 0.5, label


@pytest.mark.parametrize("seed", [0, 1, 2, 10, 19, 22, 26])
def test_solvency_other_seeds(seed: int) -> None:
    model = pytest.importorskip("zksolv.risk.model")
    for mode in ("stress", "es", "var"):
        m = demo.demo_market(seed, mode)
        for name, acc in demo.demo_portfolios(m, seed).items():
            result = model.evaluate(m, acc.position_slots(m), acc.balances(m))
            assert result.solvent == (name in SOLVENT), (seed, mode, name)


def test_bigger_market_knobs() -> None:
    big = demo.demo_market(n_strikes=63, n_expiries=16)
    assert 3_500 <= len(big.instruments) <= 4_096 and big.tree_depth == 4
    small = demo.demo_market(n_strikes=3, n_expiries=1)
    assert len(small.instruments) == 2 * (4 + 6) and small.tree_depth == 2
    # the portfolios still resolve on other chain sizes
    for acc in demo.demo_portfolios(big).values():
        acc.validated(big)


def test_numba_backend_publishes_the_same_ints(market: MarketState) -> None:
    other = demo.demo_market(backend="numba")
    for a, b in zip(market.instruments, other.instruments):
        for f in ("mark", "delta", "gamma", "vega"):
            assert abs(getattr(a, f) - getattr(b, f)) <= 1


def test_bad_arguments() -> None:
    with pytest.raises(InputError, match="risk_mode"):
        demo.demo_market(risk_mode="max")
    with pytest.raises(InputError, match="grid"):
        demo.demo_market(grid="cme")
    with pytest.raises(InputError, match="n_strikes"):
        demo.demo_market(n_strikes=0)
    with pytest.raises(InputError, match="seed"):
        demo.demo_market(seed=-1)


def test_expiry_times_and_grids_are_listed() -> None:
    exps = demo.expiry_times(4)
    assert exps == sorted(exps) and len(set(exps)) == 4
    assert all((e - demo.REFERENCE_TIME) % 86_400 == 8 * 3_600 for e in exps)
    assert scenarios.GRIDS == ("span", "deribit", "paradex", "horizon")


def test_market_root_is_stable(market: MarketState) -> None:
    commitments = pytest.importorskip("zksolv.core.commitments")
    assert commitments.market_root(MarketState.from_json(market.to_json())) == commitments.market_root(market)


def test_published_v_and_ema_are_audited(market: MarketState) -> None:
    """A keeper loading the state recomputes V from alpha, vol_ema and the 25-delta quotes (all
    committed) and each vol_ema from its history: the oracle's integers match exactly."""
    from zksolv.core import volatility
    p = market.params
    assert p.v_scalar == volatility.v_scalar_market(p.alpha, market.underlyings)
    for u in market.underlyings:
        assert u.vol_ema == volatility.ema_fixed(u.vol_history)
    assert market.validated(audit=True) is market
    data = market.to_dict()
    bumped = dict(data, params=dict(data["params"], v_scalar=fp.format_fixed(p.v_scalar + 1, fp.RATIO_SCALE)))
    with pytest.raises(InputError, match=r"params\.V: published .* != recomputed .* from the committed vol inputs"):
        MarketState.from_dict(bumped)
    und = [dict(x) for x in data["underlyings"]]
    und[1]["vol_ema"] = fp.format_fixed(market.underlyings[1].vol_ema - 1, fp.VOL_SCALE)
    with pytest.raises(InputError, match=r"underlyings\[1\]\.vol_ema: published"):
        MarketState.from_dict(dict(data, underlyings=und))
    und = [dict(x) for x in data["underlyings"]]
    und[1]["iv_put_25d"] = fp.format_fixed(market.underlyings[1].iv_put_25d + 300_000, fp.VOL_SCALE)  # ETH sets V
    with pytest.raises(InputError, match=r"params\.V"):
        MarketState.from_dict(dict(data, underlyings=und))
