"""Every command's default (human, non-JSON) output is aligned lines of plain values, never a Python
repr (issue 22, item 3: `circuits: [{'tier': ...}]`, `bucket: {'kind': ...}`, `running: False`).

The fast tests run the cheap commands for real and the expensive ones over a fake of the slow
library call (the formatting is what is checked); the slow ones set up, prove, verify, export
the Solidity verifier and run the demo for real on the demo market."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from zksolv.cli import main

#: What a Python repr looks like in text: dict/list-of-dict/tuple literals, quoted keys, bare
#: True/False/None, default object reprs, paths and dataclass-style ``Name(field=...)``.
REPR_PATTERNS = {
    "dict literal": re.compile(r"\{'|\{\""),
    "list of dicts or tuples": re.compile(r"\[\{|\[\(|\('"),
    "quoted key": re.compile(r"'\s*:\s"),
    "bare True/False/None": re.compile(r"(?<![\w-])(True|False|None)(?![\w-])"),
    "object repr": re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>"),
    "path repr": re.compile(r"\b(Posix|Windows|Pure)?Path\('"),
    "dataclass repr": re.compile(r"\b[A-Z][A-Za-z0-9]*\([a-z_][a-z0-9_]*="),
    "bytes or decimal repr": re.compile(r"\bb'|\bDecimal\('|\bFraction\("),
}


def repr_findings(text: str) -> list[str]:
    """``kind: line`` for every line of ``text`` that looks like a Python repr."""
    return [f"{kind}: {line.strip()[:160]}" for line in text.splitlines()
            for kind, pattern in REPR_PATTERNS.items() if pattern.search(line)]


def assert_plain(result: object, args: list[str]) -> None:
    """The command succeeded and neither stdout nor stderr holds a repr."""
    assert result.exit_code == 0, (args, result.output)  # type: ignore[attr-defined]
    for stream in (result.stdout, result.stderr):  # type: ignore[attr-defined]
        found = repr_findings(stream)
        assert not found, f"`zksolv {' '.join(args)}` prints Python reprs:\n" + "\n".join(found)


def run_plain(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert_plain(result, list(args))
    return result.stdout


@pytest.mark.parametrize("text", [
    "circuits: [{'tier': 'avsl_n4'}]", "bucket: {'kind': 'one circuit'}", "running:  False", "pid: None",
    "files: [PosixPath('proof/proof.json')]", "<zksolv.core.market.MarketState object at 0x7f3a2c>",
    "tier: Tier(n_positions=4, n_underlyings=2)", "venue: VenuePolicy(tiers=(4, 16))", "keys: [('a', 1)]",
    "salt: b'\\x00'", "'tier': 4",
])
def test_the_check_finds_reprs(text: str) -> None:
    assert repr_findings(text)


@pytest.mark.parametrize("text", [
    "running:  no", "pid:      -", "tier:  avsl_n4_u2_a4_k16_d3_stress", "files:  proof/proof.json, proof/public.json",
    "VALID     proof", "1 proof(s): 1 valid, 0 invalid", "none needed: the account meets the rule",
    "compiling avsl_n4 and running the dev setup ... done (0.18 s, cached)", "--dev-key (NOT FOR REAL FUNDS)",
])
def test_the_check_passes_plain_lines(text: str) -> None:
    assert not repr_findings(text)


# ----------------------------------------------------------------------------- fast: real, cheap commands
def test_market_and_account_commands(demo_files: Path, tmp_path: Path) -> None:
    market, account = str(demo_files / "market.json"), str(demo_files / "accounts" / "short_strangle.json")
    run_plain("market", "demo", "--out", str(tmp_path / "m.json"), "--portfolios", str(tmp_path / "accounts"))
    run_plain("market", "demo", "--out", str(tmp_path / "r.json"), "--mode", "revaluation", "--tiers", "4,16")
    run_plain("market", "commit", market)
    run_plain("commit", "--account", account, "--market", market)
    run_plain("report", "--account", account, "--market", market)
    run_plain("report", "--account", str(demo_files / "accounts" / "market_maker.json"), "--market", market,
              "--no-prices")


def test_market_build(tmp_path: Path) -> None:
    from zksolv.app.demo import demo_inputs
    from zksolv.oracle.inputs import write_inputs

    paths = write_inputs(demo_inputs(7, "stress", "span", n_strikes=3, n_expiries=1), tmp_path / "inputs")
    out = run_plain("market", "build", "--instruments", str(paths["instruments"]), "--underlyings",
                    str(paths["underlyings"]), "--collateral", str(paths["collateral"]), "--params",
                    str(paths["params"]), "--out", str(tmp_path / "built.json"))
    assert "market_root:" in out


def test_prover_commands_without_a_resident_prover(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZKSOLV_PROVER_SOCKET", str(tmp_path / "none.sock"))
    assert re.search(r"^running:\s+no$", run_plain("prover", "status"), re.M)
    assert re.search(r"^stopped:\s+no$", run_plain("prover", "stop"), re.M)


def test_prover_status_with_keys_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    from zksolv.prover import daemon

    key = {"file": "proving_key.bin", "directory": "6d54c0f2986671bb", "kind": "dev", "size_mb": 21.4,
           "sha256": "ab" * 8, "load_s": 2.61, "proofs": 3}  # what the daemon's status request answers
    status = {"ok": True, "protocol": 1, "pid": 4242, "uptime_s": 12.5, "proofs": 5, "max_keys": 2, "workers": 2,
              "keys": [key, {**key, "directory": "88489c34ba8bacef", "proofs": 2}]}
    monkeypatch.setattr(daemon, "status", lambda: status)
    out = run_plain("prover", "status")
    assert re.search(r"^running:\s+yes$", out, re.M)
    assert re.search(r"^  - key=6d54c0f2986671bb/proving_key.bin, size=21.4 MB, proofs=3$", out, re.M), out
    assert len(out.splitlines()) == 8 and max(len(line) for line in out.splitlines()) < 100  # a line per key


def _fake_artifacts(tmp_path: Path):
    vk = tmp_path / "vk.json"
    vk.write_text("{}")
    keys = SimpleNamespace(insecure=True, warning="NOT FOR REAL FUNDS: development setup", verification_key=vk,
                           route="dev")
    return lambda shape, *a, **k: SimpleNamespace(cached=True, keys=keys, circuit_hash="ab" * 32,
                                                   circuit=SimpleNamespace(n_constraints=19776))


@pytest.mark.parametrize("extra", [[], ["--chunks", "--keys-out", "{keys}"], ["--positions", "16"]])
def test_setup_output(demo_files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: list[str]) -> None:
    """The formatting of `setup` over a fake build (the real one is the slow test below)."""
    import zksolv.toolchain.artifacts

    monkeypatch.setattr(zksolv.toolchain.artifacts, "build_artifacts", _fake_artifacts(tmp_path))
    out = run_plain("setup", "--market", str(demo_files / "market.json"),
                    *[a.replace("{keys}", str(tmp_path / "keys")) for a in extra])
    assert "avsl_n" in out and "19,776" in out


def test_chain_rows_and_status_formatting(capsys: pytest.CaptureFixture[str]) -> None:
    """The chain commands need a node; their output goes through these two functions."""
    from zksolv.cli.chain import _rows
    from zksolv.cli.common import emit

    _rows([{"tier": 4, "proofs": 2, "tx": "0xab", "block": 7, "gas_used": 123_456, "gas_per_proof": 61_728},
           {"account": "0x7099", "skipped": "ProofWindowOpen(1800000000)", "replaced": False, "previous": None}],
          False)
    emit({"chain_id": 31337, "registry": "0x5FbD", "venue": "0xf39F", "tiers": [4, 16, 64], "epoch": 20455,
          "market_root": "1407", "proof_deadline": 1_800_000_000, "block_time": 1_799_999_000, "window_open": True,
          "registered": 2, "proven_this_epoch": 1, "marked_this_epoch": 0}, False)
    text = capsys.readouterr().out
    assert not repr_findings(text), repr_findings(text)
    assert "tiers:" in text and "4, 16, 64" in text and "replaced=no  previous=-" in text


# ----------------------------------------------------------------------------- slow: the real thing
@pytest.mark.slow
def test_setup_prove_verify_export(demo_files: Path, tmp_path: Path) -> None:
    """On the demo market's smallest tier (cached after the first run anywhere on the machine)."""
    market, account = str(demo_files / "market.json"), str(demo_files / "accounts" / "short_strangle.json")
    run_plain("setup", "--market", market, "--positions", "4")
    run_plain("setup", "--market", market, "--for-account", account)
    out = run_plain("prove", "--account", account, "--market", market, "--out", str(tmp_path / "proof"))
    assert re.search(r"^bucket:\n\s+kind:\s+one circuit\n\s+capacity:\s+4$", out, re.M), out
    out = run_plain("verify", "--proof", str(tmp_path / "proof"), "--market", market, "--dev-key")
    assert out.startswith("VALID")
    out = run_plain("export-solidity", "--proof", str(tmp_path / "proof"), "--out", str(tmp_path / "sol"))
    assert out.startswith("registry: ") and "(accepts tiers 4)" in out


@pytest.mark.slow
def test_demo(tmp_path: Path) -> None:
    run_plain("demo", "--out", str(tmp_path / "demo"))


def test_ceremony_commands(demo_files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ceremony step's output over the library's real result types, filled as a three-party
    ceremony fills them (a real one compiles and runs snarkjs for minutes: tests/test_ceremony.py)."""
    from zksolv.toolchain import ceremony as cer

    names = ["avsl_n4_u2_a4_k16_d3_stress", "avsl_chunk_c32_u2_d3_k16_stress", "avsl_final_u2_a4_k16_stress"]
    chain = [{"name": "alice", "hash": "1a" * 32, "type": "contribution"},
             {"name": "beacon", "hash": "2b" * 32, "type": "beacon"}]
    report = cer.CeremonyReport(
        transcript_sha256="3c" * 32, ptau_blake2b="4d" * 64, ptau_known_file=None,
        circuits=[{"circuit": n, "ok": True, "circuit_hash": "5e" * 32, "contributions": chain} for n in names],
        contributors=[{"name": "alice", "type": "contribution"},
                      {"name": "beacon", "type": "beacon", "beacon": "0b1f" * 16, "iterations_exp": 10}],
        failures=[], warnings=["the ptau is not a published Perpetual Powers of Tau file"], waived=["unpublished_ptau"])
    transcript = {"ptau": {"blake2b": "4d" * 64, "known_file": None}, "circuits": [{"name": n} for n in names]}
    monkeypatch.setattr(cer, "init", lambda *a, **k: cer.InitResult(transcript=transcript, warnings=["dev ptau"]))
    monkeypatch.setattr(cer, "contribute", lambda *a, **k: [cer.Contribution(n, "6f" * 32, "ab" * 32) for n in names])
    monkeypatch.setattr(cer, "beacon", lambda *a, **k: [cer.Contribution(n, "70" * 32, "cd" * 32) for n in names])
    monkeypatch.setattr(cer, "transcript_sha256", lambda folder: "3c" * 32)
    monkeypatch.setattr(cer, "verify", lambda *a, **k: report)
    monkeypatch.setattr(cer, "finalize", lambda *a, **k: {"transcript_sha256": "3c" * 32,
                                                          "keys": {n: {} for n in names}})
    ptau = tmp_path / "pot.ptau"
    ptau.write_bytes(b"x")
    folder, market = str(tmp_path), str(demo_files / "market.json")
    out = run_plain("ceremony", "init", "--market", market, "--ptau", str(ptau), "--out", str(tmp_path / "c"))
    assert "ptau_known_file:  -" in out and ", ".join(names) in out
    out = run_plain("ceremony", "contribute", folder, "--name", "alice")
    assert re.search(rf"^contributions:\n\s+{names[0]}:\s+(6f)+$", out, re.M), out
    run_plain("ceremony", "beacon", folder, "--hex", "0b1f" * 16)
    out = run_plain("ceremony", "verify", folder, "--market", market, "--allow-unpublished-ptau")
    assert out.rstrip().endswith("VALID only with waivers (unpublished_ptau): NOT FOR REAL FUNDS"), out
    assert "contributors: alice, beacon" in out
    out = run_plain("ceremony", "finalize", folder, "--keys-out", str(tmp_path / "keys"))
    assert re.search(r"^circuits:\s+avsl_chunk", out, re.M), out
