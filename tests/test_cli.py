"""The zksolv CLI through click's CliRunner: outputs, exit codes, bad input."""

from __future__ import annotations

import errno
import hashlib
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from zksolv.cli import EXIT_INPUT, EXIT_INVALID, EXIT_REFUSED, EXIT_TOOLCHAIN, main


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
    assert data["smallest_uniform_liquidation_fraction"] == "0"


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
    ok = run("verify", "--proof", str(proof), "--market", market, "--commitment", commitment, "--dev-key", "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout.splitlines()[0])["valid"] is True
    # another account's commitment
    other = run("verify", "--proof", str(proof), "--market", market, "--commitment", "12345", "--dev-key")
    assert other.exit_code == EXIT_INVALID and "account_commitment differs" in other.output
    # the next epoch's market
    nxt = tmp_path / "next.json"
    data = json.loads(Path(market).read_text())
    data["epoch"] += 1
    nxt.write_text(json.dumps(data))
    stale = run("verify", "--proof", str(proof), "--market", str(nxt), "--dev-key")
    assert stale.exit_code == EXIT_INVALID and "epoch" in stale.output
    # a corrupted proof file is an invalid proof, not a crash
    (proof / "proof.json").write_text('{"pi_a": [1, 2]')
    broken = run("verify", "--proof", str(proof), "--market", market, "--dev-key", "--json")
    assert broken.exit_code == EXIT_INVALID and "Traceback" not in broken.output
    assert json.loads(broken.stdout.splitlines()[0])["status"] == "malformed"
    sol = run("export-solidity", "--proof", str(proof), "--out", str(tmp_path / "sol"), "--json")
    assert sol.exit_code == 0, sol.output
    assert "development key" in sol.stderr
    (tier,) = json.loads(sol.stdout)["tiers"]
    text = Path(tier["verifier"]).read_text()
    statement = json.loads((proof / "statement.json").read_text())
    assert tier["capacity"] == 4 and "// SolvencyRegistry tier: position capacity 4\n" in text
    assert "auto-generated" in text and "// tier: avsl_n4_u2_a4_k16_d3_stress\n" in text
    assert f"// circuit hash: {statement['circuit_hash']}\n" in text


@pytest.mark.slow
def test_setup_then_prove_use_the_same_tier_and_say_cached(demo_files: Path, tmp_path: Path) -> None:
    """The README's sequence: `setup --positions N`, then `prove` proves in that very tier, from the cache."""
    market = str(demo_files / "market.json")
    account = str(demo_files / "accounts" / "short_strangle.json")  # 2 positions: the venue's smallest tier, 4
    setup = run("setup", "--market", market, "--positions", "4", "--json")
    assert setup.exit_code == 0, setup.output
    tier = json.loads(setup.stdout)["tier"]
    for extra in ((), ("--positions", "4")):
        out = run("prove", "--account", account, "--market", market, "--out", str(tmp_path / f"proof{len(extra)}"),
                  "--json", *extra)
        assert out.exit_code == 0, out.output
        assert json.loads(out.stdout)["tier"] == tier
        (line,) = [ln for ln in out.stderr.splitlines() if ln.startswith("compiling circuit")]
        assert line.startswith(f"compiling circuit and dev setup for {tier} ... done (") and line.endswith(", cached)")
    # a capacity the venue does not accept is refused by both, before any work
    assert run("setup", "--market", market, "--positions", "5").exit_code == EXIT_INPUT
    assert run("prove", "--account", account, "--market", market, "--out", str(tmp_path / "p5"),
               "--positions", "5").exit_code == EXIT_INPUT


@pytest.mark.slow
def test_verify_names_the_key_and_flags_a_development_setup(demo_files: Path, tmp_path: Path) -> None:
    market = str(demo_files / "market.json")
    proof = tmp_path / "proof"
    out = run("prove", "--account", str(demo_files / "accounts" / "short_strangle.json"), "--market", market,
              "--out", str(proof))
    assert out.exit_code == 0, out.output
    ok = run("verify", "--proof", str(proof), "--market", market, "--dev-key", "--json")
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.stdout.splitlines()[0])
    assert data["valid"] is True and data["insecure_setup"] is True and "INSECURE" in data["key_setup"]
    assert "NOT FOR REAL FUNDS" in ok.stderr
    text = run("verify", "--proof", str(proof), "--market", market, "--dev-key")
    assert "key_setup: dev (INSECURE development setup: NOT FOR REAL FUNDS)" in text.stdout
    # no key named: a usage error, with a verdict line under --json
    unnamed = run("verify", "--proof", str(proof), "--market", market, "--json")
    assert unnamed.exit_code == EXIT_INPUT and "--dev-key" in unnamed.stderr
    assert json.loads(unnamed.stdout) == {"status": "error", "valid": False, "reason": json.loads(unnamed.stdout)["reason"],
                                          "exit_code": EXIT_INPUT}
    # the key shipped with the proof is never trusted (exit 2)
    own = run("verify", "--proof", str(proof), "--market", market, "--vk", str(proof / "verification_key.json"))
    assert own.exit_code == EXIT_INPUT and "inside the proof folder" in own.stderr
    # an explicit key, for a submission that ships none: valid, and no claim about its setup
    venue_vk = proof.parent / "venue_vk.json"
    (proof / "verification_key.json").rename(venue_vk)
    given = run("verify", "--proof", str(proof), "--market", market, "--vk", str(venue_vk), "--json")
    venue_vk.rename(proof / "verification_key.json")
    assert given.exit_code == 0 and json.loads(given.stdout.splitlines()[0])["insecure_setup"] is None
    assert "NOT FOR REAL FUNDS" not in given.stderr
    # a well-formed statement whose tier does not fit the market: refused before any key is looked up
    statement = json.loads((proof / "statement.json").read_text())
    statement["tier"] = statement["tier"].replace("_d3_", "_d9_")
    (proof / "statement.json").write_text(json.dumps(statement))
    other = run("verify", "--proof", str(proof), "--market", market, "--dev-key")
    assert other.exit_code == EXIT_INVALID and "this market's shape" in other.output
    # a statement naming another circuit version: refused too (no downgrade to an older cached key)
    statement = json.loads(Path(proof / "statement.json").read_text())
    statement["tier"] = statement["tier"].replace("_d9_", "_d3_")
    statement["circuit_hash"] = "0" * 64
    (proof / "statement.json").write_text(json.dumps(statement))
    old = run("verify", "--proof", str(proof), "--market", market, "--dev-key")
    assert old.exit_code == EXIT_INVALID and "re-prove with the current circuits" in old.output


# ------------------------------------------- untrusted statement.json: key selection
GOOD_STATEMENT = {"tier": "avsl_n4_u2_a4_k16_d3_stress", "circuit_hash": "ab" * 32, "risk_mode": "stress", "epoch": 1,
                  "market_root": "1", "account_commitment": "2", "setup_route": "dev", "insecure_setup": True}


def _proof_folder(tmp_path: Path, **fields: object) -> Path:
    folder = tmp_path / "proof"
    folder.mkdir(exist_ok=True)
    (folder / "statement.json").write_text(json.dumps({**GOOD_STATEMENT, **fields}))
    (folder / "proof.json").write_text("{}")
    (folder / "public.json").write_text("[]")
    return folder


def _plant_attacker_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An index file and key the attacker shipped next to the proof, reachable by '../' from the cache."""
    cache = tmp_path / "cache"
    (cache / "tiers").mkdir(parents=True)
    monkeypatch.setenv("ZKSOLV_CACHE", str(cache))
    evil = tmp_path / "evilproof"
    evil.mkdir()
    (evil / "vk.json").write_text("{}")
    (evil / f"x-{'ab' * 8}-dev.json").write_text(json.dumps({"verification_key": str(evil / "vk.json")}))
    return evil


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"tier": "../../evilproof/x"}, "statement.tier"),
        ({"tier": "avsl_n4_u2_a4_k16_d3_stress/../../../evilproof/x"}, "statement.tier"),
        ({"circuit_hash": "../../evilproof/" + "a" * 48}, "statement.circuit_hash"),
        ({"circuit_hash": "AB" * 32}, "statement.circuit_hash"),
        ({"setup_route": "../dev"}, "statement.setup_route"),
        ({"risk_mode": "es"}, "statement.risk_mode"),
    ],
)
@pytest.mark.parametrize("command", ["verify", "export-solidity"])
def test_traversal_tier_or_bad_hash_is_refused(demo_files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               fields: dict, message: str, command: str) -> None:
    _plant_attacker_key(tmp_path, monkeypatch)
    folder = _proof_folder(tmp_path, **fields)
    if command == "verify":  # one submission among many: refused as malformed, nothing looked up
        out = run(command, "--proof", str(folder), "--market", str(demo_files / "market.json"), "--dev-key", "--json")
        assert out.exit_code == EXIT_INVALID, out.output
        verdict = json.loads(out.stdout.splitlines()[0])
        assert verdict["status"] == "malformed" and verdict["reason"].startswith(f"malformed: {message}:")
        assert "Traceback" not in out.output
        return
    out = run(command, "--proof", str(folder), "--out", str(tmp_path / "sol"))
    assert out.exit_code == EXIT_INPUT, out.output
    assert out.output.startswith(f"error: {message}:") and "Traceback" not in out.output
    assert len(out.output.strip().splitlines()) == 1
    assert not (tmp_path / "sol").exists()


def test_verify_takes_only_the_capacity_from_the_statement(demo_files: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A well-formed tier of another shape is refused as an invalid proof, without a key lookup."""
    _plant_attacker_key(tmp_path, monkeypatch)
    folder = _proof_folder(tmp_path, tier="avsl_n4_u1_a1_k2_d1_stress")
    out = run("verify", "--proof", str(folder), "--market", str(demo_files / "market.json"), "--dev-key", "--json")
    assert out.exit_code == EXIT_INVALID, out.output
    data = json.loads(out.stdout.splitlines()[0])
    assert data["valid"] is False and "avsl_n4_u2_a4_k16_d3_stress" in data["reason"]


def test_index_path_stays_inside_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zksolv.toolchain.artifacts import local_key
    from zksolv.core.errors import CacheError, InputError

    monkeypatch.setenv("ZKSOLV_CACHE", str(tmp_path / "cache"))
    for tier, circuit_hash, route in (("../../x", "ab" * 32, "dev"), ("t", "../" * 21 + "a", "dev"),
                                      ("t", "ab" * 32, "../dev"), ("t", "ab" * 31, "dev")):
        with pytest.raises(InputError):
            local_key(tier, circuit_hash, route)
    with pytest.raises(CacheError, match="run `zksolv setup`"):
        local_key("avsl_n4_u2_a4_k16_d3_stress", "ab" * 32, "dev")


def test_missing_statement_is_named(demo_files: Path, tmp_path: Path) -> None:
    (tmp_path / "proof").mkdir()
    out = run("verify", "--proof", str(tmp_path / "proof"), "--market", str(demo_files / "market.json"), "--dev-key")
    assert out.exit_code == EXIT_INVALID
    assert f"statement.json not found in {tmp_path / 'proof'}" in out.output and "UTF-8" not in out.output


# ------------------------------------------------------------ export-solidity --vk
def _vk_json() -> dict:
    from py_ecc.optimized_bn128 import G1, G2, multiply, normalize

    def g1(k: int) -> list[str]:
        x, y = normalize(multiply(G1, k))
        return [str(x.n), str(y.n), "1"]

    def g2(k: int) -> list[list[str]]:
        x, y = normalize(multiply(G2, k))
        return [[str(x.coeffs[0]), str(x.coeffs[1])], [str(y.coeffs[0]), str(y.coeffs[1])], ["1", "0"]]

    return {"protocol": "groth16", "curve": "bn128", "nPublic": 2, "vk_alpha_1": g1(2), "vk_beta_2": g2(3),
            "vk_gamma_2": g2(5), "vk_delta_2": g2(7), "IC": [g1(11), g1(13), g1(17)]}


@pytest.fixture(scope="module")
def node_modules() -> None:
    from zksolv.toolchain import project_root

    if not (project_root() / "node_modules" / "snarkjs").is_dir():
        pytest.skip("node_modules/snarkjs not installed")


def test_export_solidity_from_key_files_alone(node_modules: None, tmp_path: Path) -> None:
    vk = tmp_path / "vk.json"
    vk.write_text(json.dumps(_vk_json()))
    digest = hashlib.sha256(vk.read_bytes()).hexdigest()
    out = run("export-solidity", "--vk", f"16={vk}", "--vk", f"avsl_n4_u2_a4_k16_d4_stress={vk}",
              "--out", str(tmp_path / "sol"), "--json")
    assert out.exit_code == 0, out.output
    files = json.loads(out.stdout)
    assert Path(files["registry"]).is_file() and Path(files["deploy_note"]).is_file()
    named, bare = files["tiers"]  # increasing capacity: the registry constructor's order
    assert (named["capacity"], bare["capacity"]) == (4, 16) and bare["vk_sha256"] == digest
    text = Path(bare["verifier"]).read_text()
    assert f"// verification key sha256: {digest} (circuit not identified)\n" in text
    assert "// tier: not claimed" in text and "circuit hash:" not in text and "avsl_" not in text
    assert "contract Groth16Verifier" in text and Path(bare["verifier"]).name == f"Groth16Verifier_n16_vk_{digest[:16]}.sol"
    assert "// tier: avsl_n4_u2_a4_k16_d4_stress (as the key set names it" in Path(named["verifier"]).read_text()


def test_export_solidity_options(tmp_path: Path) -> None:
    folder = _proof_folder(tmp_path)
    vk = tmp_path / "vk.json"
    vk.write_text("{}")
    both = run("export-solidity", "--proof", str(folder), "--vk", f"4={vk}", "--out", str(tmp_path / "sol"))
    assert both.exit_code == EXIT_INPUT and "--vk, --proof: give one of --keys DIR" in both.output
    neither = run("export-solidity", "--out", str(tmp_path / "sol"))
    assert neither.exit_code == EXIT_INPUT and "the tiers to accept: give --keys DIR" in neither.output
    untiered = run("export-solidity", "--vk", str(vk), "--out", str(tmp_path / "sol"))
    assert untiered.exit_code == EXIT_INPUT and "expected TIER=FILE" in untiered.output
    missing = run("export-solidity", "--vk", f"4={tmp_path / 'nope.json'}", "--out", str(tmp_path / "sol"))
    assert missing.exit_code == EXIT_INPUT and "nope.json" in missing.output
    vk.write_text("{")
    broken = run("export-solidity", "--vk", f"4={vk}", "--out", str(tmp_path / "sol"))
    assert broken.exit_code == EXIT_INPUT and "not valid JSON" in broken.output
    twice = run("export-solidity", "--vk", f"4={vk}", "--vk", f"4={vk}", "--out", str(tmp_path / "sol"))
    assert twice.exit_code == EXIT_INPUT and "capacity 4 is given twice" in twice.output
    empty = tmp_path / "keys"
    empty.mkdir()
    (empty / "avsl_chunk_c64_u2_d4.json").write_text("{}")
    no_tier = run("export-solidity", "--keys", str(empty), "--out", str(tmp_path / "sol"))
    assert no_tier.exit_code == EXIT_INPUT and "no single-circuit tier key" in no_tier.output
    assert not (tmp_path / "sol").exists()


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
    assert out.exit_code == EXIT_INPUT and f"cannot write {blocker / 'accounts'}: Not a directory" in out.output
    # every output path is checked before any work: not even the market is written, no temporary file left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_permission_denied_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import zksolv.core.atomic

    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.geteuid() == 0:  # root ignores directory modes: let the OS call refuse as it would for a user

        def denied(*_args: object, **_kwargs: object) -> None:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

        monkeypatch.setattr(zksolv.core.atomic.tempfile, "mkstemp", denied)
    out = run("market", "demo", "--out", str(locked / "m.json"))
    assert out.exit_code == EXIT_INPUT and f"cannot write {locked / 'm.json'}: Permission denied" in out.output
    assert not list(locked.iterdir())


def test_full_disk_is_environmental(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import zksolv.core.atomic

    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(zksolv.core.atomic.os, "fsync", full)
    out = run("market", "demo", "--out", str(tmp_path / "m.json"))
    assert out.exit_code == EXIT_TOOLCHAIN and f"cannot write {tmp_path / 'm.json'}: No space left" in out.output
    assert not list(tmp_path.iterdir())  # the temporary file is removed


# ------------------------------------------------------------ verify: many proofs
def _lines(out: "click.testing.Result") -> list[dict]:  # noqa: F821
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_verify_missing_folder_is_a_usage_error(demo_files: Path, tmp_path: Path) -> None:
    """A --proof folder that does not exist is a typo (exit 2 naming it), not an invalid proof (exit 1);
    an existing folder without a statement is a malformed submission (exit 1)."""
    out = run("verify", "--proof", str(tmp_path / "nope"), "--market", str(demo_files / "market.json"), "--dev-key",
              "--json")
    assert out.exit_code == EXIT_INPUT, out.output
    (line,) = out.stdout.splitlines()
    error = json.loads(line)
    assert error["status"] == "error" and "--proof" in error["reason"] and "does not exist" in error["reason"]
    (tmp_path / "empty").mkdir()
    out = run("verify", "--proof", str(tmp_path / "empty"), "--market", str(demo_files / "market.json"), "--dev-key",
              "--json")
    assert out.exit_code == EXIT_INVALID, out.output
    verdict, summary = _lines(out)
    assert verdict["folder"] == str(tmp_path / "empty") and verdict["status"] == "malformed"
    assert "statement.json not found" in verdict["reason"]
    assert summary["summary"]["malformed"] == 1 and summary["summary"]["proofs"] == 1


def test_verify_usage_errors(demo_files: Path, tmp_path: Path) -> None:
    market = str(demo_files / "market.json")
    vk = tmp_path / "vk.json"
    vk.write_text("{}")
    cases = [
        ["verify", "--market", market, "--dev-key"],  # no proof
        ["verify", "--proof", str(tmp_path), "--dev-key"],  # no market
        ["verify", "--proof", str(tmp_path), "--market", market],  # no key named
        ["verify", "--proof", str(tmp_path), "--market", market, "--dev-key", "--vk", str(vk)],  # both
        ["verify", "--proof", "a", "--proof", "b", "--market", market, "--dev-key", "--commitment", "5"],
        ["verify", "--proofs", str(tmp_path / "none"), "--market", market, "--dev-key"],
        ["verify", "--proof", str(tmp_path), "--market", market, "--vk", str(tmp_path / "missing.json")],
        ["verify", "--proof", str(tmp_path), "--market", market, "--dev-key", "--commitments", str(vk.parent / "x")],
    ]
    for args in cases:
        out = run(*args, "--json")
        assert out.exit_code == EXIT_INPUT, (args, out.output)
        assert _lines(out)[0]["status"] == "error" and "Traceback" not in out.output
    assert "NOT FOR REAL FUNDS" in run("verify", "--proof", str(tmp_path), "--market", market).stderr


@pytest.fixture(scope="module")
def proof_folders(demo_files: Path, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """Two accounts proven once for the module: a folder of proof folders and their commitments."""
    market = str(demo_files / "market.json")
    root = tmp_path_factory.mktemp("proofs")
    commitments = {}
    for name in ("short_strangle", "covered_call"):
        account = str(demo_files / "accounts" / f"{name}.json")
        out = run("prove", "--account", account, "--market", market, "--out", str(root / name))
        assert out.exit_code == 0, out.output
        commitments[name] = json.loads(run("commit", "--account", account, "--market", market, "--json").stdout)[
            "account_commitment"]
    return root, commitments


@pytest.mark.slow
def test_verify_many_folders_json_lines(demo_files: Path, proof_folders, tmp_path: Path) -> None:
    import shutil

    source, commitments = proof_folders
    folder = tmp_path / "epoch"
    shutil.copytree(source, folder)
    shutil.copytree(folder / "short_strangle", folder / "tampered")
    public = json.loads((folder / "tampered" / "public.json").read_text())
    public[0] = str(int(public[0]) + 1)
    (folder / "tampered" / "public.json").write_text(json.dumps(public))
    (folder / "unreadable").mkdir()
    shutil.copy(folder / "covered_call" / "statement.json", folder / "unreadable")
    market = str(demo_files / "market.json")
    for backend in ("python", "native"):
        out = run("verify", "--proofs", str(folder), "--market", market, "--dev-key", "--json", "--backend", backend)
        assert out.exit_code == EXIT_INVALID, out.output
        *rows, summary = _lines(out)
        by_name = {Path(r["folder"]).name: r for r in rows}
        assert {n: r["status"] for n, r in by_name.items()} == {
            "covered_call": "valid", "short_strangle": "valid", "tampered": "invalid", "unreadable": "malformed"}
        assert "pairing check failed" in by_name["tampered"]["reason"]
        assert "proof.json" in by_name["unreadable"]["reason"]
        assert by_name["covered_call"]["account_commitment"] == commitments["covered_call"]
        assert summary["summary"]["proofs"] == 4 and summary["summary"]["valid"] == 2
        assert summary["summary"]["invalid"] == 1 and summary["summary"]["malformed"] == 1
        assert summary["summary"]["proofs_per_second"] > 0
    # the two valid ones alone, by repeated --proof: exit 0; the human form has one line each and a summary
    both = run("verify", "--proof", str(folder / "short_strangle"), "--proof", str(folder / "covered_call"),
               "--market", market, "--dev-key")
    assert both.exit_code == 0, both.output
    assert both.stdout.splitlines()[-1].startswith("2 proof(s): 2 valid, 0 invalid, 0 malformed")


@pytest.mark.slow
def test_verify_with_registered_commitments_file(demo_files: Path, proof_folders, tmp_path: Path) -> None:
    source, commitments = proof_folders
    market = str(demo_files / "market.json")
    registered = tmp_path / "commitments.json"
    registered.write_text(json.dumps(commitments))
    ok = run("verify", "--proofs", str(source), "--market", market, "--dev-key", "--commitments", str(registered))
    assert ok.exit_code == 0, ok.output
    registered.write_text(json.dumps({"short_strangle": commitments["covered_call"]}))  # swapped, one missing
    bad = run("verify", "--proofs", str(source), "--market", market, "--dev-key", "--commitments", str(registered),
              "--json")
    assert bad.exit_code == EXIT_INVALID
    by_name = {Path(r["folder"]).name: r for r in _lines(bad)[:-1]}
    assert by_name["short_strangle"]["reason"].startswith("account_commitment differs")
    assert by_name["covered_call"]["reason"] == "no registered commitment for 'covered_call' in --commitments"
