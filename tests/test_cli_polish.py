"""CLI polish (issue 15, item 5): output paths, option pairs and named accounts checked before any
work; setup and prove agree on the tier; "cached" only on a real cache hit; live progress on a
terminal only; one meaning per exit code; JSON error lines from `verify --json`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from zksolv.app import progress
from zksolv.cli.common import EXIT_CODES
from zksolv.cli import EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_INVALID, EXIT_REFUSED, EXIT_TOOLCHAIN, main

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a command gets as far as compiling, proving or building a demo market."""
    import zksolv.prover.prove
    import zksolv.toolchain.artifacts
    import zksolv.app.demo

    def boom(*_args: object, **_kwargs: object) -> None:
        pytest.fail("the command started working before refusing its options")

    monkeypatch.setattr(zksolv.prover.prove, "prove", boom)
    monkeypatch.setattr(zksolv.toolchain.artifacts, "build_artifacts", boom)
    monkeypatch.setattr(zksolv.app.demo, "demo_market", boom)


# ------------------------------------------------ (a) validation before any work
def _outputs(files: Path, blocked: Path) -> list[list[str]]:
    market, account = str(files / "market.json"), str(files / "accounts" / "short_strangle.json")
    return [
        ["market", "demo", "--out", str(blocked / "m.json")],
        ["market", "demo", "--out", str(files / "ok.json"), "--portfolios", str(blocked / "accounts")],
        ["setup", "--market", market, "--keys-out", str(blocked / "keys")],
        ["prove", "--account", account, "--market", market, "--out", str(blocked / "proof")],
        ["export-solidity", "--vk", f"4={files / 'vk.json'}", "--out", str(blocked / "sol")],
        ["demo", "--out", str(blocked / "demo")],
        ["bench", "--quick", "--out", str(blocked / "bench")],
        ["report", "--account", account, "--market", market, "--plot", str(blocked / "r.png")],
    ]


def test_every_output_path_is_checked_before_any_work(demo_files: Path, tmp_path: Path, no_work: None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import zksolv.app.bench

    monkeypatch.setattr(zksolv.app.bench, "run_bench", lambda *a: pytest.fail("bench ran"))
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    for args in _outputs(demo_files, blocked):
        out = run(*args)
        assert out.exit_code == EXIT_INPUT, (args, out.output)
        assert "cannot write" in out.output and "Not a directory" in out.output, (args, out.output)
        assert out.output.count("error: ") == 1 and "Traceback" not in out.output
    assert not (demo_files / "ok.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


@pytest.mark.parametrize("args, message", [
    (["prove", "--backend", "snarkjs"], "--backend snarkjs: proves only with keys of the snarkjs setup route"),
    (["prove", "--ptau", "{ptau}"], "--ptau: only with --route snarkjs"),
    (["prove", "--route", "snarkjs"], "--ptau: required with --route snarkjs"),
    (["prove", "--positions", "5"], "--positions"),
    (["setup", "--positions", "5"], "--positions"),
    (["setup", "--ptau", "{ptau}"], "--ptau: only with --route snarkjs"),
    (["demo", "--backend", "snarkjs"], "--backend snarkjs"),
    (["demo", "--account", "nobody"], "--account: unknown demo portfolio 'nobody'"),
])
def test_option_pairs_and_names_are_usage_errors_before_any_work(demo_files: Path, tmp_path: Path, no_work: None,
                                                                 args: list[str], message: str) -> None:
    """e.g. `prove --backend snarkjs` with the development keys: exit 2 (usage), not 4 (refused)."""
    ptau = tmp_path / "pot.ptau"
    ptau.write_bytes(b"x")
    args = [a.replace("{ptau}", str(ptau)) for a in args]
    command, rest = args[0], args[1:]
    market, account = str(demo_files / "market.json"), str(demo_files / "accounts" / "short_strangle.json")
    base = {"prove": ["--account", account, "--market", market, "--out", str(tmp_path / "proof")],
            "setup": ["--market", market], "demo": ["--out", str(tmp_path / "demo")]}[command]
    out = run(command, *base, *rest)
    assert out.exit_code == EXIT_INPUT, out.output
    assert message in out.output and "Traceback" not in out.output
    assert not (tmp_path / "proof").exists() and not (tmp_path / "demo").exists()


def test_demo_account_names_are_the_demo_portfolios() -> None:
    from zksolv.app.demo import DEMO_ACCOUNTS, demo_market, demo_portfolios

    assert tuple(demo_portfolios(demo_market())) == DEMO_ACCOUNTS


def test_library_refuses_snarkjs_backend_with_dev_keys_as_input_error(demo_files: Path) -> None:
    from zksolv.prover.prove import prove
    from zksolv.core.account import Account
    from zksolv.core.errors import InputError
    from zksolv.core.market import MarketState

    market = MarketState.load(demo_files / "market.json")
    account = Account.load(demo_files / "accounts" / "short_strangle.json")
    with pytest.raises(InputError, match="--backend snarkjs"):
        prove(account, market, backend="snarkjs", route="dev")


# ------------------------------------------------------- (c) "cached" only on a hit
def _fake_artifacts(cached: bool, tmp_path: Path) -> SimpleNamespace:
    vk = tmp_path / "vk.json"
    vk.write_text("{}")
    keys = SimpleNamespace(insecure=False, warning="", verification_key=vk, route="dev")
    return SimpleNamespace(cached=cached, keys=keys, circuit_hash="ab" * 32, circuit=SimpleNamespace(n_constraints=1))


@pytest.mark.parametrize("cached", [False, True])
def test_setup_says_cached_only_on_a_cache_hit(demo_files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               cached: bool) -> None:
    import zksolv.toolchain.artifacts

    monkeypatch.setattr(zksolv.toolchain.artifacts, "build_artifacts", lambda *a, **k: _fake_artifacts(cached, tmp_path))
    out = run("setup", "--market", str(demo_files / "market.json"), "--positions", "4")
    assert out.exit_code == 0, out.output
    (line,) = [line for line in out.stderr.splitlines() if line.startswith("compiling ")]
    assert re.fullmatch(r"compiling avsl_n4_\w+ and running the dev setup \.\.\. done \(\d+\.\d\d s"
                        + (", cached" if cached else "") + r"\)", line), line


class _Sentinel(Exception):
    pass


@pytest.mark.parametrize("cached", [False, True])
def test_prove_says_cached_only_on_a_cache_hit(demo_files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               cached: bool) -> None:
    """The compile step of prove(): no '(cached)' in its label, a 'cached' note only on a real hit."""
    import zksolv.prover.prove as pp
    from zksolv.core.account import Account
    from zksolv.core.market import MarketState

    monkeypatch.setattr(pp, "reference_inputs", lambda *a: (None, None))
    monkeypatch.setattr(pp, "account_commitment_of", lambda *a: 0)
    monkeypatch.setattr(pp, "market_root", lambda *a: 0)
    monkeypatch.setattr(pp, "build_artifacts", lambda *a, **k: _fake_artifacts(cached, tmp_path))

    def stop(_name: str) -> None:
        raise _Sentinel

    monkeypatch.setattr(pp, "get_backend", stop)
    steps: dict[str, list[str]] = {}

    def record(label: str):
        handle = progress.Step(label, live=False)
        steps[label] = handle.notes
        return _Entered(handle)

    market = MarketState.load(demo_files / "market.json")
    with pytest.raises(_Sentinel):
        pp.prove(Account.load(demo_files / "accounts" / "short_strangle.json"), market, progress=record)
    (label,) = [label for label in steps if label.startswith("compiling")]
    assert "cached" not in label
    assert steps[label] == (["cached"] if cached else [])


class _Entered:
    def __init__(self, handle: progress.Step) -> None:
        self.handle = handle

    def __enter__(self) -> progress.Step:
        return self.handle

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.mark.parametrize("compiled, set_up", [(False, False), (True, False), (False, True), (True, True)])
def test_build_artifacts_reports_a_real_cache_hit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                  compiled: bool, set_up: bool) -> None:
    """cached is true only when neither the compile nor the setup ran its builder (one shared cache)."""
    import zksolv.toolchain.artifacts as artifacts
    from zksolv.toolchain.circuitgen import Tier
    from zksolv.core.market import RiskMode

    caches = []

    def compile_tier(tier, cache):
        caches.append(cache)
        cache.builds += compiled
        return "ab" * 32, SimpleNamespace()

    def setup_keys(circuit, route, *, ptau=None, cache=None):
        caches.append(cache)
        cache.builds += set_up
        return SimpleNamespace(route=route, verification_key=tmp_path / "vk.json", insecure=True)

    monkeypatch.setattr(artifacts, "compile_tier", compile_tier)
    monkeypatch.setattr(artifacts, "setup_keys", setup_keys)
    monkeypatch.setattr(artifacts, "_write_index", lambda *a: None)
    built = artifacts.build_artifacts(Tier(4, 2, 4, 16, 3, RiskMode.STRESS))
    assert caches[0] is caches[1]
    assert built.cached is not (compiled or set_up)


# ------------------------------------------------------------- (d) live progress
def test_steps_print_plain_lines_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with progress.step("compiling x") as shown:
        shown.note("cached")
    with pytest.raises(RuntimeError):
        with progress.step("proving y"):
            raise RuntimeError
    err = capsys.readouterr().err
    assert re.fullmatch(r"compiling x \.\.\. done \(\d+\.\d\d s, cached\)\nproving y \.\.\. failed\n", err), err
    assert progress.task_bar() is None


def test_steps_are_live_on_a_terminal(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: True)
    monkeypatch.setattr(progress, "REDRAW_INTERVAL", 0.02)
    bar = progress.task_bar()
    assert bar is not None
    with progress.step("proving 2 chunks"):
        time.sleep(0.1)
        bar(1, 3)
        bar(3, 3)
    err = capsys.readouterr().err
    frames = err.split("\r")
    assert "proving 2 chunks ... 0 s" in err and len(frames) > 3  # redrawn while it ran
    assert "[##########....................] 1/3 proofs" in err
    # (click strips the clear-to-end-of-line escape when the stream is not a real terminal)
    assert re.fullmatch(r"proving 2 chunks \.\.\. done \(\d+\.\d\d s\)(\x1b\[K)?\n", frames[-1]), frames[-1]


def test_cli_output_is_unchanged_without_a_terminal(demo_files: Path) -> None:
    out = run("report", "--account", str(demo_files / "accounts" / "short_strangle.json"),
              "--market", str(demo_files / "market.json"), "--no-prices")
    assert out.exit_code == 0
    assert "\r" not in out.stderr and "\x1b" not in out.stderr
    assert re.fullmatch(r"computing margins and partial liquidation \.\.\. done \(\d+\.\d\d s\)\n", out.stderr)


# ---------------------------------------------------------- (e) exit codes
def test_exit_codes_are_distinct_and_documented() -> None:
    assert len(set(EXIT_CODES)) == len(EXIT_CODES)
    assert (EXIT_INVALID, EXIT_INPUT, EXIT_TOOLCHAIN, EXIT_REFUSED, EXIT_INTERNAL, EXIT_INTERRUPTED) == (1, 2, 3, 4, 5, 130)
    text = run("--help").output
    readme = (ROOT / "README.md").read_text()
    for code in EXIT_CODES:
        assert re.search(rf"^\s+{code}\s+\S", text, re.M), code
        assert re.search(rf"^\| {code} \|", readme, re.M), f"README's exit-code table misses {code}"


def test_an_unexpected_exception_is_an_internal_error_not_an_invalid_proof(demo_files: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import zksolv.core.commitments

    def bug(*_args: object) -> None:
        raise ZeroDivisionError("private value 123456789")

    monkeypatch.setattr(zksolv.core.commitments, "account_commitment_of", bug)
    out = run("commit", "--account", str(demo_files / "accounts" / "short_strangle.json"),
              "--market", str(demo_files / "market.json"))
    assert out.exit_code == EXIT_INTERNAL, out.output
    assert "internal error (ZeroDivisionError at test_cli_polish.py:" in out.output
    assert "123456789" not in out.output and "Traceback" not in out.output


def test_internal_error_under_verify_json_is_a_json_line(demo_files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import zksolv.cli.verify

    monkeypatch.setattr(zksolv.cli.verify, "_proof_folders", lambda *a: [][1])
    out = run("verify", "--proof", str(demo_files), "--market", str(demo_files / "market.json"), "--dev-key", "--json")
    assert out.exit_code == EXIT_INTERNAL
    line = json.loads(out.stdout)
    assert line["status"] == "error" and line["exit_code"] == EXIT_INTERNAL and "IndexError" in line["reason"]


def test_ctrl_c_exits_130(demo_files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import zksolv.core.commitments

    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(zksolv.core.commitments, "market_root", interrupted)
    out = run("market", "commit", str(demo_files / "market.json"))
    assert out.exit_code == EXIT_INTERRUPTED and "error: interrupted" in out.output


# ----------------------------------------------------- (g) verify --json errors
@pytest.mark.parametrize("extra, needle", [
    (["--market", "{missing}"], "does not exist"),
    (["--market", "{market}", "--vk", "{missing}"], "does not exist"),
    (["--market", "{market}", "--keys", "{missing}"], "does not exist"),
    (["--market", "{market}", "--commitments", "{missing}"], "does not exist"),
    (["--market", "{market}", "--backend", "bogus"], "'bogus' is not one of"),
    (["--market", "{market}", "--no-such-option"], "No such option"),
])
def test_verify_json_prints_a_json_error_line(demo_files: Path, tmp_path: Path, extra: list[str], needle: str) -> None:
    extra = [a.replace("{missing}", str(tmp_path / "missing.json")).replace("{market}", str(demo_files / "market.json"))
             for a in extra]
    trust = [] if "--vk" in extra or "--keys" in extra else ["--dev-key"]
    out = run("verify", "--proof", str(tmp_path), *extra, *trust, "--json")
    assert out.exit_code == EXIT_INPUT, out.output
    (line,) = out.stdout.splitlines()
    data = json.loads(line)
    assert data["status"] == "error" and data["valid"] is False and data["exit_code"] == EXIT_INPUT
    assert needle in data["reason"]


# ---------------------------------------------- (f) a key of another setup route
def _g1(k: int) -> list[str]:
    from py_ecc.optimized_bn128 import G1, multiply, normalize

    x, y = normalize(multiply(G1, k))
    return [str(x.n), str(y.n), "1"]


def _g2(k: int) -> list[list[str]]:
    from py_ecc.optimized_bn128 import G2, multiply, normalize

    x, y = normalize(multiply(G2, k))
    return [[str(x.coeffs[0]), str(x.coeffs[1])], [str(y.coeffs[0]), str(y.coeffs[1])], ["1", "0"]]


def _key(gamma: int) -> dict:
    return {"protocol": "groth16", "curve": "bn128", "nPublic": 2, "vk_alpha_1": _g1(2), "vk_beta_2": _g2(3),
            "vk_gamma_2": _g2(gamma), "vk_delta_2": _g2(7), "IC": [_g1(11), _g1(13), _g1(17)]}


@pytest.mark.parametrize("route, gamma, mismatch", [
    ("snarkjs", 5, True),   # a snarkjs-route proof against a development-style key (random gamma)
    ("dev", 1, True),       # a development proof against a snarkjs key (gamma = the G2 generator)
    ("dev", 5, False),      # same route: nothing tells them apart, the plain pairing failure
    ("snarkjs", 1, False),
])
def test_a_key_of_another_setup_route_is_named(demo_files: Path, route: str, gamma: int, mismatch: bool) -> None:
    from zksolv.proofs.statement import Statement
    from zksolv.verifier.verify import PAIRING_FAILED, Submission, key_is_snarkjs, prepare_key, verify_many
    from zksolv.core.commitments import market_root
    from zksolv.core.market import MarketState

    market = MarketState.load(demo_files / "market.json")
    root = market_root(market)
    statement = Statement(tier="avsl_n4_u2_a4_k16_d3_stress", circuit_hash="ab" * 32, risk_mode="stress",
                          epoch=market.epoch, market_root=str(root), account_commitment="5", setup_route=route,
                          insecure_setup=route == "dev")
    proof = {"pi_a": _g1(3), "pi_b": _g2(4), "pi_c": _g1(5), "protocol": "groth16", "curve": "bn128"}
    key = prepare_key(_key(gamma))
    assert key_is_snarkjs(key) is (gamma == 1)
    (verdict,) = verify_many([Submission(proof, ["5", str(root)], statement=statement)], market, key)
    assert verdict.valid is False and verdict.status == "invalid"
    if mismatch:
        assert verdict.reason.startswith("verification key of another setup: ") and route in verdict.reason
    else:
        assert verdict.reason == PAIRING_FAILED


def test_dev_key_for_a_snarkjs_route_proof_says_so(demo_files: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """--dev-key with no local development setup for a proof the statement says is of the snarkjs
    route: an invalid verdict naming the other setup (not exit 3 'run zksolv setup' for the batch)."""
    from zksolv.toolchain.circuitgen import Tier, circuit_source_hash
    from zksolv.core.market import MarketState

    monkeypatch.setenv("ZKSOLV_CACHE", str(tmp_path / "empty-cache"))
    market = MarketState.load(demo_files / "market.json")
    tier = Tier.for_market(market, 4)
    folder = tmp_path / "proof"
    folder.mkdir()
    statement = {"tier": tier.name, "circuit_hash": circuit_source_hash(tier), "risk_mode": "stress",
                 "epoch": market.epoch, "market_root": "1", "account_commitment": "2", "setup_route": "snarkjs",
                 "insecure_setup": False}
    (folder / "statement.json").write_text(json.dumps(statement))
    out = run("verify", "--proof", str(folder), "--market", str(demo_files / "market.json"), "--dev-key", "--json")
    assert out.exit_code == EXIT_INVALID, out.output
    verdict = json.loads(out.stdout.splitlines()[0])
    assert verdict["status"] == "invalid" and verdict["reason"].startswith("verification key of another setup")
    assert "snarkjs setup route" in verdict["reason"]
    statement["setup_route"] = "dev"  # a development proof without a local setup: still "run zksolv setup", exit 3
    (folder / "statement.json").write_text(json.dumps(statement))
    out = run("verify", "--proof", str(folder), "--market", str(demo_files / "market.json"), "--dev-key")
    assert out.exit_code == EXIT_TOOLCHAIN and "run `zksolv setup`" in out.output


def test_verify_native_without_groth16py_is_the_environment(demo_files: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """It used to escape as a bare ValueError from verify_many: a traceback and exit 1 ('invalid')."""
    from zksolv.verifier import native
    monkeypatch.setattr(native, "available", lambda: False)
    out = run("verify", "--proof", str(tmp_path), "--market", str(demo_files / "market.json"), "--dev-key",
              "--backend", "native", "--json")
    assert out.exit_code == EXIT_TOOLCHAIN, out.output
    line = json.loads(out.stdout)
    assert line["exit_code"] == EXIT_TOOLCHAIN and "zksolv[keeper-native]" in line["reason"]
