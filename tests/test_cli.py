"""The zksolv CLI through click's CliRunner: outputs, exit codes, bad input."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from zksolv.cli import EXIT_INPUT, EXIT_INVALID, EXIT_REFUSED, EXIT_TOOLCHAIN, main


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    result = CliRunner().invoke(main, ["market", "demo", "--out", str(folder / "market.json"),
                                       "--portfolios", str(folder / "accounts"), "--json"])
    assert result.exit_code == 0, result.output
    return folder


def run(*args: str) -> "click.testing.Result":  # noqa: F821
    return CliRunner().invoke(main, list(args))


def test_market_demo_and_commit_agree(demo_files: Path) -> None:
    out = run("market", "commit", str(demo_files / "market.json"), "--json")
    assert out.exit_code == 0
    data = json.loads(out.stdout)
    assert data["underlyings"] == 2 and data["collateral"] == 4 and data["risk_mode"] == "stress"
    again = run("market", "demo", "--out", str(demo_files / "again.json"), "--json")
    assert json.loads(again.stdout)["market_root"] == data["market_root"]  # reproducible


def test_commit_is_deterministic_and_public_only(demo_files: Path) -> None:
    args = ("commit", "--account", str(demo_files / "accounts" / "short_strangle.json"),
            "--market", str(demo_files / "market.json"), "--json")
    first, second = run(*args), run(*args)
    assert first.exit_code == 0 and first.output == second.output
    assert set(json.loads(first.stdout)) == {"account_commitment"}


def test_report_json(demo_files: Path) -> None:
    out = run("report", "--account", str(demo_files / "accounts" / "short_strangle.json"),
              "--market", str(demo_files / "market.json"), "--json", "--no-prices")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["solvent"] is True and float(data["nav"]) > float(data["requirement"]) > 0
    assert data["partial_liquidation_fraction"] == "0"


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "empty JSON document"),
        ("{", "malformed JSON"),
        ("[]", "expected a JSON object"),
        ('{"format": 1, "positions": [], "collateral": {}, "salt": "0x1", "extra": NaN}', "NaN is not allowed"),
        ('{"format": 1, "positions": [{"instrument": "NOPE", "quantity": "1"}], "collateral": {}, "salt": "0x1"}',
         "not listed in this market"),
        ('{"format": 1, "positions": [{"instrument": "X", "quantity": "1e30"}], "collateral": {}, "salt": "0x1"}',
         "52-bit limit"),
        ('{"format": 1, "positions": [], "collateral": {"USDC": "-1"}, "salt": "0x1"}', "must not be negative"),
        ('{"format": 1, "positions": [], "collateral": {}, "salt": "zz"}', "account.salt"),
    ],
)
def test_bad_account_files(demo_files: Path, tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    out = run("report", "--account", str(bad), "--market", str(demo_files / "market.json"))
    assert out.exit_code == EXIT_INPUT
    assert message in out.output and "Traceback" not in out.output


def test_bad_market_file(tmp_path: Path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text('{"format": 1, "epoch": -1}')
    out = run("market", "commit", str(bad))
    assert out.exit_code == EXIT_INPUT and "market" in out.output


def test_missing_file_and_bad_flags(demo_files: Path) -> None:
    assert run("market", "commit", "nope.json").exit_code == EXIT_INPUT
    assert run("report", "--market", str(demo_files / "market.json")).exit_code == 2  # missing --account
    assert run("market", "demo", "--out", "x.json", "--mode", "bogus").exit_code == 2
    assert run("setup", "--market", str(demo_files / "market.json"), "--positions", "0").exit_code == 2
    out = run("prove", "--account", str(demo_files / "accounts" / "short_strangle.json"), "--market",
              str(demo_files / "market.json"), "--out", "p", "--route", "snarkjs")
    assert out.exit_code == EXIT_INPUT and "--ptau" in out.output


def test_insolvent_account_is_refused_before_proving(demo_files: Path, tmp_path: Path) -> None:
    out = run("prove", "--account", str(demo_files / "accounts" / "naked_short_insolvent.json"),
              "--market", str(demo_files / "market.json"), "--out", str(tmp_path / "proof"))
    assert out.exit_code == EXIT_REFUSED and "insolvent" in out.output
    assert not (tmp_path / "proof").exists()


@pytest.mark.slow
def test_setup_prove_verify_export(demo_files: Path, tmp_path: Path) -> None:
    market = str(demo_files / "market.json")
    account = str(demo_files / "accounts" / "short_strangle.json")
    proof = tmp_path / "proof"
    out = run("prove", "--account", account, "--market", market, "--out", str(proof), "--json")
    assert out.exit_code == 0, out.output
    commitment = json.loads(run("commit", "--account", account, "--market", market, "--json").stdout)["account_commitment"]
    ok = run("verify", "--proof", str(proof), "--market", market, "--commitment", commitment, "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["valid"] is True
    # another account's commitment
    other = run("verify", "--proof", str(proof), "--market", market, "--commitment", "12345")
    assert other.exit_code == EXIT_INVALID and "account_commitment differs" in other.output
    # the next epoch's market
    nxt = tmp_path / "next.json"
    data = json.loads(Path(market).read_text())
    data["epoch"] += 1
    nxt.write_text(json.dumps(data))
    stale = run("verify", "--proof", str(proof), "--market", str(nxt))
    assert stale.exit_code == EXIT_INVALID and "epoch" in stale.output
    # a corrupted proof file is an invalid proof, not a crash
    (proof / "proof.json").write_text('{"pi_a": [1, 2]')
    broken = run("verify", "--proof", str(proof), "--market", market)
    assert broken.exit_code == EXIT_INVALID and "Traceback" not in broken.output
    sol = run("export-solidity", "--proof", str(proof), "--out", str(tmp_path / "sol"), "--json")
    assert sol.exit_code == 0, sol.output
    files = json.loads(sol.stdout)
    text = Path(files["verifier"]).read_text()
    assert "auto-generated" in text and "avsl_n4_u2_a4_k16_d4_stress" in text


# ----------------------------------------------------------- unwritable outputs
def test_unwritable_out_is_a_clean_input_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for target in (blocker / "m.json", blocker / "sub" / "m.json", Path("/proc/zksolv-test/m.json")):
        out = run("market", "demo", "--out", str(target))
        assert out.exit_code == EXIT_INPUT, out.output
        assert out.output.count("error: ") == 1 and "Traceback" not in out.output
        assert f"error: cannot write {target}: " in out.output
    assert "Not a directory" in run("market", "demo", "--out", str(blocker / "m.json")).output
    out = run("market", "demo", "--out", str(tmp_path / "m.json"), "--portfolios", str(blocker / "accounts"))
    assert out.exit_code == EXIT_INPUT and f"cannot write {blocker / 'accounts'}/" in out.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "m.json"]  # no temporary file left behind


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_permission_denied_is_an_input_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    out = run("market", "demo", "--out", str(locked / "m.json"))
    assert out.exit_code == EXIT_INPUT and f"cannot write {locked / 'm.json'}: Permission denied" in out.output


def test_full_disk_is_environmental(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import zksolv.atomic

    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(zksolv.atomic.os, "fsync", full)
    out = run("market", "demo", "--out", str(tmp_path / "m.json"))
    assert out.exit_code == EXIT_TOOLCHAIN and f"cannot write {tmp_path / 'm.json'}: No space left" in out.output
    assert not list(tmp_path.iterdir())  # the temporary file is removed
