"""`zksolv report`: the tables, --json unchanged, and --plot (its curve data and the PNG)."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from zksolv.core import fixedpoint as fp
from zksolv.app.analytics import CURVE_RULES, compare_rules, liquidation_prices, ratio_curve, report
from zksolv.cli import EXIT_INPUT, EXIT_TOOLCHAIN, main
from zksolv.app.demo import demo_portfolios
from zksolv.risk.model import evaluate
from zksolv.risk.repricing import cached_repricer, reprice_underlying
from zksolv.app.report_format import format_report, table

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: The keys `zksolv report --json` had before the tables (scripts read them); "greeks" was added with them.
REPORT_KEYS = {"epoch", "risk_mode", "nav", "mm_base", "mm_avsl", "requirement", "margin_ratio", "solvent",
               "partial_liquidation", "smallest_uniform_liquidation_fraction", "risk_modes", "comparison",
               "liquidation_prices"}


@pytest.fixture(scope="module")
def accounts(market):
    return demo_portfolios(market)


@pytest.fixture(scope="module")
def files(tmp_path_factory, market, accounts) -> Path:
    folder = tmp_path_factory.mktemp("report")
    market.save(folder / "market.json")
    for name, account in accounts.items():
        account.save(folder / f"{name}.json")
    return folder


def run(*args: str):
    return CliRunner().invoke(main, list(args))


# ----------------------------------------------------------------- curve data
def _crossings(prices: tuple[int, ...], ratios: tuple[float | None, ...]) -> list[float]:
    """Prices (PRICE_SCALE) where the sampled ratio crosses 1, by linear interpolation."""
    out = []
    for (p0, r0), (p1, r1) in zip(zip(prices, ratios), zip(prices[1:], ratios[1:])):
        if r0 is None or r1 is None:
            continue
        if (r0 >= 1) != (r1 >= 1):
            out.append(p0 + (1 - r0) * (p1 - p0) / (r1 - r0))
    return out


@pytest.mark.parametrize("name, symbol", [("short_strangle", "ETH"), ("market_maker", "BTC"), ("market_maker", "ETH")])
def test_avsl_curve_crosses_one_at_the_liquidation_prices(market, accounts, name: str, symbol: str) -> None:
    account = accounts[name]
    slots, balances = account.position_slots(market), account.balances(market)
    u = next(i for i, und in enumerate(market.underlyings) if und.symbol == symbol)
    reported = report(account, market)["liquidation_prices"][symbol]
    curve = ratio_curve(market, slots, balances, u)
    assert curve.symbol == symbol and set(curve.ratios) == set(CURVE_RULES)
    assert list(curve.prices) == sorted(curve.prices) and all(len(r) == len(curve.prices) for r in curve.ratios.values())
    # the report's liquidation prices are the curve's (exact decimal strings of the same integers)
    assert [None if p is None else fp.format_fixed(p, fp.PRICE_SCALE) for p in curve.liquidation] == \
        [reported["down"], reported["up"]]
    step = max(b - a for a, b in zip(curve.prices, curve.prices[1:]))
    crossings = _crossings(curve.prices, curve.ratios["avsl"])
    for price in curve.liquidation:
        if price is None:
            continue
        assert curve.prices[0] < price < curve.prices[-1], "the default span shows every liquidation price"
        assert any(abs(c - price) <= step for c in crossings), (price, crossings)
    # and no other crossing: the AVSL ratio is >= 1 exactly between the liquidation prices
    down, up = curve.liquidation
    for price, r in zip(curve.prices, curve.ratios["avsl"]):
        inside = (down is None or price > down) and (up is None or price < up)
        if (down is None or abs(price - down) > step) and (up is None or abs(price - up) > step):
            assert (r >= 1) == inside, (price, r)


def test_curve_ratio_is_the_models_and_matches_the_rule_comparison(market, accounts) -> None:
    account = accounts["short_strangle"]
    slots, balances = account.position_slots(market), account.balances(market)
    u = market.instruments[slots[0][0]].underlying
    curve = ratio_curve(market, slots, balances, u, span=(fp.RATIO_SCALE // 2, 3 * fp.RATIO_SCALE // 2), points=101)
    at_spot = curve.prices.index(market.underlyings[u].spot)  # the grid holds the multiplier 1 exactly
    result = evaluate(market, slots, balances)
    # repricing at the published spot reproduces the published market up to the greeks' quantisation
    assert curve.ratios["avsl"][at_spot] == pytest.approx(result.nav_raw * fp.RATIO_SCALE / result.req_raw, rel=1e-6)
    rules = compare_rules(market, slots, balances, modes={})
    for rule in ("static", "delta_weighted"):  # min_ratio 1: NAV / requirement = NAV / margin
        assert curve.ratios[rule][at_spot] == pytest.approx(rules[rule]["ratio"], rel=1e-5)
    # every sampled AVSL ratio is >= 1 exactly when the book meets the rule at that price
    for multiplier_price, r in zip(curve.prices[::10], curve.ratios["avsl"][::10]):
        multiplier = fp.round_half_away(multiplier_price * fp.RATIO_SCALE, market.underlyings[u].spot)
        assert (r >= 1) == evaluate(reprice_underlying(market, u, multiplier), slots, balances).solvent


def test_cached_repricer_gives_the_same_markets(market, accounts) -> None:
    account = accounts["market_maker"]
    slots, balances = account.position_slots(market), account.balances(market)
    fast = cached_repricer()
    for u in (0, 1):
        for multiplier in (400_000, 1_000_000, 1_730_000):
            assert fast(market, u, multiplier) == reprice_underlying(market, u, multiplier)
        assert liquidation_prices(market, slots, balances, u, reprice=reprice_underlying) == \
            liquidation_prices(market, slots, balances, u)


def test_curve_rejects_a_bad_span(market, accounts) -> None:
    from zksolv.core.errors import InputError

    slots, balances = accounts["covered_call"].position_slots(market), accounts["covered_call"].balances(market)
    with pytest.raises(InputError, match="span"):
        ratio_curve(market, slots, balances, 0, span=(2_000_000, 1_000_000), liquidation=(None, None))
    with pytest.raises(InputError, match="points"):
        ratio_curve(market, slots, balances, 0, points=1, liquidation=(None, None))


# ---------------------------------------------------------------------- tables
def test_table_aligns_columns() -> None:
    lines = table(["rule", "margin"], [["static", "17,000.00"], ["delta-weighted", "306.22"]])
    assert lines == ["  rule               margin",
                     "  static          17,000.00",
                     "  delta-weighted     306.22"]
    assert table(None, [["a", "1"]]) == ["  a  1"]


def test_report_prints_tables_not_json(files: Path) -> None:
    out = run("report", "--account", str(files / "market_maker.json"), "--market", str(files / "market.json"))
    assert out.exit_code == 0, out.output
    text = out.stdout
    assert "{" not in text  # no JSON blobs
    for heading in ("Margin under the AVSL rule", "Net greeks per underlying", "Liquidation prices",
                    "AVSL under every risk mode", "Rule comparison", "Partial liquidation"):
        assert heading in text, heading
    lines = text.splitlines()
    rules = lines[lines.index(next(line for line in lines if line.startswith("Rule comparison"))) + 1:][:4]
    assert rules[0].split() == ["rule", "margin", "ratio", "verdict"]
    column = rules[0].index("verdict")
    assert all(line[column:] in ("ok", "liquidate") for line in rules[1:]), rules
    assert {line.split()[0] for line in rules[1:]} == {"static", "delta-weighted", "AVSL"}
    greeks = lines[lines.index("Net greeks per underlying") + 1:][:3]
    assert [g.split()[0] for g in greeks] == ["underlying", "BTC", "ETH"]
    assert "SOLVENT" in text and "none needed" in text


def test_report_tables_of_an_insolvent_book(market, accounts) -> None:
    text = format_report(report(accounts["naked_short_insolvent"], market))
    assert "LIQUIDATABLE" in text and "already below the requirement" in text
    assert "BTC-9JAN26-65000-C" in text and "closed notional (USD)" in text


def test_report_json_keeps_its_keys(files: Path, market, accounts) -> None:
    out = run("report", "--account", str(files / "short_strangle.json"), "--market", str(files / "market.json"),
              "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert set(data) == REPORT_KEYS | {"greeks"}
    assert data == json.loads(json.dumps(report(accounts["short_strangle"], market)))
    assert set(data["greeks"]["ETH"]) == {"delta", "gamma", "vega"}
    assert data["comparison"]["static"].keys() == {"margin", "ratio", "liquidate"}


# ------------------------------------------------------------------------ plot
def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


def test_report_plot_writes_a_png(files: Path, tmp_path: Path) -> None:
    target = tmp_path / "sub" / "ratio.png"
    out = run("report", "--account", str(files / "market_maker.json"), "--market", str(files / "market.json"),
              "--plot", str(target), "--json")
    assert out.exit_code == 0, out.output
    data = target.read_bytes()
    width, height = _png_size(data)
    assert width > 300 and height > 2 * 300  # one subplot per underlying (BTC, ETH)
    assert data.endswith(b"IEND\xaeB`\x82")
    assert json.loads(out.stdout)["nav"]  # --json output unchanged by --plot
    assert sorted(p.name for p in target.parent.iterdir()) == ["ratio.png"]  # written atomically, no temp file


@pytest.mark.parametrize("name, message", [("ratio.jpg", "must end in .png"), ("file/ratio.png", "Not a directory"),
                                           ("folder", "is a directory")])
def test_plot_path_is_checked_before_any_work(files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              name: str, message: str) -> None:
    import zksolv.app.analytics

    (tmp_path / "file").write_text("x")
    (tmp_path / "folder").mkdir()
    monkeypatch.setattr(zksolv.app.analytics, "report", lambda *a, **k: pytest.fail("computed before checking --plot"))
    out = run("report", "--account", str(files / "short_strangle.json"), "--market", str(files / "market.json"),
              "--plot", str(tmp_path / name))
    assert out.exit_code == EXIT_INPUT, out.output
    assert message in out.output and "Traceback" not in out.output


def test_plot_without_matplotlib_names_the_extra(files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import zksolv.app.analytics

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    monkeypatch.setattr(zksolv.app.analytics, "report", lambda *a, **k: pytest.fail("computed before the check"))
    out = run("report", "--account", str(files / "short_strangle.json"), "--market", str(files / "market.json"),
              "--plot", str(tmp_path / "r.png"))
    assert out.exit_code == EXIT_TOOLCHAIN, out.output
    assert "pip install 'zksolv[plots]'" in out.output
    assert not (tmp_path / "r.png").exists()
