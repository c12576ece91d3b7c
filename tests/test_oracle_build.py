"""`zksolv market build`: the oracle's builder from a venue's files and from saved Deribit responses."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from zksolv.cli import EXIT_INPUT, main
from zksolv.app.demo import REFERENCE_TIME, demo_inputs
from zksolv.core.fixedpoint import PRICE_SCALE
from zksolv.core.market import InstrumentKind, MarketState
from zksolv.oracle.inputs import write_inputs

sys.path.insert(0, str(Path(__file__).parent))
from oracle_snapshot import write_params, write_snapshot  # noqa: E402


def run(*args: str) -> "click.testing.Result":  # noqa: F821
    return CliRunner().invoke(main, list(args))


def build_args(paths: dict[str, Path], out: Path) -> list[str]:
    return ["market", "build", "--instruments", str(paths["instruments"]), "--underlyings", str(paths["underlyings"]),
            "--collateral", str(paths["collateral"]), "--params", str(paths["params"]), "--out", str(out), "--json"]


@pytest.mark.parametrize("mode, grid", [("stress", "span"), ("es", "span"), ("var", "paradex"), ("stress", "horizon"),
                                        ("revaluation", "deribit"),
                                        pytest.param("revaluation", "mc", marks=pytest.mark.slow)])
def test_demo_inputs_give_the_demo_market_root(tmp_path: Path, mode: str, grid: str) -> None:
    """The round trip: the demo venue's data written as the venue's files and fed to `market build`
    gives the same market root (and the same file) as `market demo`."""
    demo = run("market", "demo", "--out", str(tmp_path / "demo.json"), "--mode", mode, "--grid", grid, "--json")
    assert demo.exit_code == 0, demo.output
    epoch = json.loads(demo.stdout)["epoch"]
    paths = write_inputs(demo_inputs(7, mode, grid, epoch), tmp_path / "inputs")
    built = run(*build_args(paths, tmp_path / "built.json"))
    assert built.exit_code == 0, built.output
    assert json.loads(built.stdout)["market_root"] == json.loads(demo.stdout)["market_root"]
    assert (tmp_path / "built.json").read_text() == (tmp_path / "demo.json").read_text()


@pytest.fixture(scope="module")
def venue_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("venue")
    return write_inputs(demo_inputs(7, "stress", "span", n_strikes=3, n_expiries=1), folder)


def _copy(paths: dict[str, Path], tmp: Path) -> dict[str, Path]:
    out = {}
    for key, path in paths.items():
        out[key] = tmp / path.name
        out[key].write_text(path.read_text())
    return out


def _edit_csv(path: Path, row: int, **changes: str) -> None:
    rows = list(csv.DictReader(path.open()))
    rows[row].update(changes)
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def _first_option_row(path: Path, kind: str = "call") -> int:
    return next(i for i, r in enumerate(csv.DictReader(path.open())) if r["kind"] == kind)


def _bad_venue_cases() -> list[tuple[str, str]]:
    return ["missing", "kind", "price", "expiry", "duplicate", "intrinsic", "nosolve", "history", "mark_zero",
            "epoch"]


@pytest.mark.parametrize("case", _bad_venue_cases())
def test_bad_venue_input_exits_2_naming_file_row_and_field(venue_files: dict[str, Path], tmp_path: Path,
                                                          case: str) -> None:
    paths = _copy(venue_files, tmp_path)
    ins = paths["instruments"]
    k = _first_option_row(ins)
    rows = list(csv.DictReader(ins.open()))
    opt = rows[k]
    expect: tuple[str, ...]
    if case == "missing":
        _edit_csv(ins, k, strike="")
        expect = (str(ins), f"row {k + 2}", opt["symbol"], "strike: missing")
    elif case == "kind":
        _edit_csv(ins, k, kind="swaption")
        expect = (str(ins), f"row {k + 2}", "kind", "swaption")
    elif case == "price":
        _edit_csv(ins, k, strike="-100")
        expect = (str(ins), f"row {k + 2}", "strike", "positive")
    elif case == "mark_zero":
        _edit_csv(ins, k, iv="", mark="0")
        expect = (str(ins), f"row {k + 2}", "mark", "positive")
    elif case == "expiry":
        _edit_csv(ins, k, expiry=str(REFERENCE_TIME - 86_400))
        expect = (opt["symbol"], "expiry", "not after the valuation time")
    elif case == "duplicate":
        _edit_csv(ins, k + 1, symbol=opt["symbol"])
        expect = (str(ins), f"row {k + 3}", "symbol", "duplicate")
    elif case == "intrinsic":  # a deep in-the-money call marked below S - K
        _edit_csv(ins, k, strike="1000", iv="", mark="5")
        expect = (opt["symbol"], "mark", "below its intrinsic value")
    elif case == "nosolve":  # a call marked above the spot: no vol solves it
        _edit_csv(ins, k, iv="", mark="1000000")
        expect = (opt["symbol"], "mark", "no implied vol solves it")
    elif case == "epoch":  # priced days after its epoch: vegas would shrink (a keeper refuses it too)
        params = json.loads(paths["params"].read_text())
        params["valuation_time"] += 3 * 86_400
        paths["params"].write_text(json.dumps(params))
        expect = ("params.valuation_time", "lies outside", f"of epoch {params['epoch']}'s timestamp")
    else:  # history
        unds = json.loads(paths["underlyings"].read_text())
        unds[0]["closes"] = unds[0]["closes"][-40:]
        paths["underlyings"].write_text(json.dumps(unds))
        expect = ("BTC", "closes", "too short for the EMA")
    out = tmp_path / "m.json"
    result = run(*build_args(paths, out))
    assert result.exit_code == EXIT_INPUT, result.output
    for part in expect:
        assert part in result.stderr, (part, result.stderr)
    assert not out.exists()


def test_marks_given_instead_of_vols_build_the_same_figures(venue_files: dict[str, Path], tmp_path: Path) -> None:
    """An option quoted by its mark: the builder backs the vol out; the vol agrees with the
    vol-quoted build to what a micro-USD mark pins (half a micro-USD over the vega), the greeks to
    1e-6 relative, and the keeper's audit passes on load."""
    paths = _copy(venue_files, tmp_path)
    ref = tmp_path / "ref.json"
    assert run(*build_args(paths, ref)).exit_code == 0
    market = MarketState.load(ref)
    ins = paths["instruments"]
    rows = list(csv.DictReader(ins.open()))
    for i, r in enumerate(rows):
        if r["kind"] in ("call", "put"):
            mark = market.instruments[market.instrument_index(r["symbol"])].mark
            _edit_csv(ins, i, iv="", mark=f"{mark / PRICE_SCALE:.6f}")
    out = tmp_path / "marks.json"
    result = run(*build_args(paths, out))
    assert result.exit_code == 0, result.output
    again = MarketState.load(out)
    for a, b in zip(market.instruments, again.instruments):
        assert a.mark == b.mark
        if not a.kind.is_option:
            continue
        assert abs(a.iv - b.iv) <= 0.5 / a.vega * 1e12 + 1, a.symbol
        for x, y in ((a.delta, b.delta), (a.gamma, b.gamma), (a.vega, b.vega)):
            assert abs(x - y) <= max(2, abs(x) * 1e-6), a.symbol


# ------------------------------------------------------------------ Deribit
VT = REFERENCE_TIME


@pytest.fixture(scope="module")
def deribit(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("deribit")
    rows = write_snapshot(folder / "snap", VT)
    write_params(folder / "params.json")
    return folder, rows


def test_deribit_snapshot_builds_with_usd_marks(deribit: tuple[Path, dict], tmp_path: Path) -> None:
    folder, rows = deribit
    out = tmp_path / "m.json"
    result = run("market", "build", "--deribit", str(folder / "snap"), "--params", str(folder / "params.json"),
                 "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["skipped"] == {"expired": 1, "inactive": 1, "same_contract": 1}
    assert report["valuation_time"] == VT
    market = MarketState.load(out)  # the keeper's audit passes
    names = {i.symbol for i in market.instruments}
    assert "BTC_USDC-PERPETUAL" not in names and "BTC-PERPETUAL" in names
    inverse = linear = 0
    for ins in market.instruments:
        if not ins.kind.is_option:
            assert ins.mark == 0 and ins.kind in (InstrumentKind.PERPETUAL, InstrumentKind.FUTURE)
            continue
        row = rows[ins.symbol]
        if "_USDC-" in ins.symbol:
            usd, linear = row["mark_price"], linear + 1
        else:
            usd, inverse = row["mark_price"] * row["underlying_price"], inverse + 1
        assert abs(ins.mark - usd * PRICE_SCALE) <= 1, ins.symbol  # within the micro-USD rounding
    assert inverse > 0 and linear > 0
    assert market.valuation_time == VT


@pytest.mark.parametrize("case", ["error", "wrong_endpoint", "not_jsonrpc", "short_history"])
def test_bad_deribit_files_exit_2(deribit: tuple[Path, dict], tmp_path: Path, case: str) -> None:
    folder, _ = deribit
    snap = tmp_path / "snap"
    snap.mkdir()
    for f in (folder / "snap").iterdir():
        (snap / f.name).write_text(f.read_text())
    if case == "error":
        target = snap / "book_summary_ETH.json"
        target.write_text(json.dumps({"jsonrpc": "2.0", "id": 1, "error": {"code": 10028, "message": "too_many_requests"}}))
        expect = (str(target), "error", "too_many_requests")
    elif case == "wrong_endpoint":
        target = snap / "instruments_BTC.json"
        target.write_text((snap / "book_summary_BTC.json").read_text())
        expect = (str(target), "result[0]", "public/get_instruments", "wrong endpoint")
    elif case == "not_jsonrpc":
        target = snap / "historical_volatility_BTC.json"
        target.write_text(json.dumps([[1, 50.0]]))
        expect = (str(target), "JSON-RPC")
    else:
        target = snap / "historical_volatility_ETH.json"
        data = json.loads(target.read_text())
        data["result"] = data["result"][:5]
        target.write_text(json.dumps(data))
        expect = (str(target), "too short for the EMA")
    out = tmp_path / "m.json"
    result = run("market", "build", "--deribit", str(snap), "--params", str(folder / "params.json"), "--out", str(out))
    assert result.exit_code == EXIT_INPUT, result.output
    for part in expect:
        assert part in result.stderr, (part, result.stderr)
    assert not out.exists()


def test_both_input_forms_at_once_are_refused(deribit: tuple[Path, dict], venue_files: dict[str, Path],
                                              tmp_path: Path) -> None:
    folder, _ = deribit
    args = build_args(venue_files, tmp_path / "m.json") + ["--deribit", str(folder / "snap")]
    result = run(*args)
    assert result.exit_code == EXIT_INPUT and "either --deribit" in result.stderr


@pytest.mark.slow
def test_deribit_market_proves_and_verifies(deribit: tuple[Path, dict], tmp_path: Path) -> None:
    """A market built from the Deribit snapshot is a market like any other: an account over it
    proves (dev route, the cheapest one-circuit tier) and the proof verifies against it."""
    from zksolv.core.account import Account, Position
    from zksolv.app.demo import demo_salt
    from zksolv.core.fixedpoint import QTY_SCALE

    folder, _ = deribit
    market_path = tmp_path / "m.json"
    assert run("market", "build", "--deribit", str(folder / "snap"), "--params", str(folder / "params.json"),
               "--out", str(market_path)).exit_code == 0
    market = MarketState.load(market_path)
    call = next(i.symbol for i in market.instruments if i.kind is InstrumentKind.CALL and "_USDC-" not in i.symbol)
    linear_put = next(i.symbol for i in market.instruments if i.kind is InstrumentKind.PUT and "_USDC-" in i.symbol)
    account = Account(positions=(Position(call, -QTY_SCALE), Position(linear_put, QTY_SCALE // 2),
                                 Position("BTC-PERPETUAL", QTY_SCALE // 4)),
                      collateral={"USDC": 60_000 * QTY_SCALE}, salt=demo_salt(7, "deribit")).validated(market)
    account_path = tmp_path / "account.json"
    account.save(account_path)
    proof = tmp_path / "proof"
    proved = run("prove", "--account", str(account_path), "--market", str(market_path), "--out", str(proof), "--json")
    assert proved.exit_code == 0, proved.output
    commitment = json.loads(run("commit", "--account", str(account_path), "--market", str(market_path),
                                "--json").stdout)["account_commitment"]
    ok = run("verify", "--proof", str(proof), "--market", str(market_path), "--commitment", commitment, "--dev-key",
             "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout.splitlines()[0])["valid"] is True


def test_json_instruments_and_collateral_files_build_the_same_market(venue_files: dict[str, Path],
                                                                     tmp_path: Path) -> None:
    """The layout's JSON form (a list of records) is the CSV form's equivalent."""
    paths = _copy(venue_files, tmp_path)
    ref = tmp_path / "ref.json"
    assert run(*build_args(paths, ref)).exit_code == 0
    for key in ("instruments", "collateral"):
        records = [{k: v for k, v in r.items() if v != ""} for r in csv.DictReader(paths[key].open())]
        for r in records:
            if "expiry" in r:
                r["expiry"] = int(r["expiry"])
        target = tmp_path / f"{key}.json"
        target.write_text(json.dumps(records))
        paths[key] = target
    out = tmp_path / "json.json"
    result = run(*build_args(paths, out))
    assert result.exit_code == 0, result.output
    assert out.read_text() == ref.read_text()
