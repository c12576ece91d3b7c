"""Bad input everywhere: truncated / flipped / mistyped / huge / non-finite files, foreign keys,
corrupted cache entries, missing node — a clean one-line error and a non-zero exit, never a traceback.

The generators live in ``benchmarks/fuzz_inputs.py`` (the >= 10,000-case job); here a few hundred
cases run in CI. Any crash, and any hostile input that is *accepted*, fails the test; the six
crashes the fuzzer found are fixed and kept below as ``test_bug_*`` regression tests.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import sys
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from zksolv.cli import EXIT_INPUT, EXIT_INVALID, EXIT_TOOLCHAIN, main
from zksolv.core.errors import InputError, VerificationError

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("zksolv_fuzz_inputs", ROOT / "benchmarks" / "fuzz_inputs.py")
fuzz = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = fuzz
_spec.loader.exec_module(fuzz)

def _check(tallies: dict) -> None:
    """Fail on any crash or any hostile input that was accepted (the fuzzer's six finds are fixed and kept
    below as ``test_bug_*`` regression tests)."""
    sigs = fuzz.crash_signatures(tallies)
    print(fuzz.table(tallies))
    for s, n in sigs.most_common():
        print(f"  {n:5d} {s}")
    assert not sigs, f"crashes / accepted hostile inputs: {dict(sigs)}"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory) -> "fuzz.Context":
    return fuzz.make_context(tmp_path_factory.mktemp("fuzz"))


# ----------------------------------------------------------- parsers (fast)
def test_fuzz_parsers_and_cli(ctx) -> None:
    """~450 cases over every non-proof category, CLI sample included."""
    _check(fuzz.run(450, seed=20260102, ctx=ctx))


@pytest.mark.parametrize("name", ["market", "account"])
def test_every_truncation_is_refused(ctx, name: str) -> None:
    from zksolv.core.account import Account
    from zksolv.core.market import MarketState

    text = (ctx.market_text if name == "market" else ctx.account_text).rstrip()
    load = MarketState.from_json if name == "market" else Account.from_json
    for cut in range(0, len(text), max(1, len(text) // 150)):
        with pytest.raises(InputError) as info:
            load(text[:cut])
        assert "\n" not in str(info.value)


def test_cli_bad_inputs_one_line_no_traceback(ctx, tmp_path: Path) -> None:
    market = tmp_path / "market.json"
    market.write_text(ctx.market_text)
    cases = {
        "nan.json": ctx.account_text.replace('"USDC": "98765.432101"', '"USDC": NaN'),
        "inf.json": ctx.market_text.replace('"epoch": ', '"epoch": Infinity, "x": ', 1),
        "unknown.json": ctx.account_text.replace(ctx.account.positions[0].instrument, "NOPE-XYZ"),
        "types.json": json.dumps({**json.loads(ctx.account_text), "positions": {"a": 1}}),
        "huge.json": ctx.account_text.replace('"USDC": "98765.432101"', '"USDC": "4503599627.370496"'),  # 2^52 µ
    }
    for name, content in cases.items():
        (tmp_path / name).write_text(content)
        target = ["market", "commit", str(tmp_path / name)] if name == "inf.json" else \
            ["commit", "--account", str(tmp_path / name), "--market", str(market)]
        res = CliRunner().invoke(main, target)
        assert res.exit_code == EXIT_INPUT, (name, res.output)
        assert isinstance(res.exception, SystemExit) and "Traceback" not in res.output
        assert len(res.output.strip().splitlines()) == 1 and res.output.startswith("error: ")
        assert "98765" not in res.output  # never the private value


# ------------------------------------- regressions: crashes this fuzzer found, now fixed
def _statement_file(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "statement.json"
    path.write_bytes(content)
    return path


def test_bug_statement_invalid_utf8(tmp_path: Path) -> None:
    from zksolv.proofs.statement import Statement

    with pytest.raises(VerificationError):
        Statement.load(_statement_file(tmp_path, b'{"tier": "\xff"}'))


def test_bug_statement_infinite_epoch(ctx, tmp_path: Path) -> None:
    from zksolv.proofs.statement import Statement

    text = ctx.statement_text.replace('"epoch": ', '"epoch": Infinity, "_": ', 1)
    with pytest.raises(VerificationError):
        Statement.load(_statement_file(tmp_path, text.encode()))


def test_bug_market_json_int_digit_limit(ctx) -> None:
    from zksolv.core.account import Account

    text = ctx.account_text.replace('"format": 1', '"format": ' + "9" * 5000)
    try:
        Account.from_json(text)
    except InputError:
        return
    pytest.fail("accepted")


def test_bug_proof_json_int_digit_limit(tmp_path: Path) -> None:
    from zksolv.proofs.proof_io import load_proof

    (tmp_path / "proof.json").write_text('{"pi_a": ' + "9" * 5000 + "}")
    with pytest.raises(VerificationError):
        load_proof(tmp_path / "proof.json")


def test_bug_parse_fixed_huge_exponent() -> None:
    from zksolv.core.fixedpoint import parse_fixed

    with pytest.raises(InputError):
        parse_fixed("q", "1e1000000000", 10**6)


@pytest.mark.parametrize("text", ["1." + "0" * 40 + "1", "1e-99999999999"])
def test_bug_parse_fixed_silent_rounding(text: str) -> None:
    from zksolv.core.fixedpoint import parse_fixed

    with pytest.raises(InputError):
        parse_fixed("q", text, 10**6)


@pytest.mark.parametrize("module", ["zksolv", "zksolv.cli"])
def test_bug_python_dash_m_runs_the_cli(module: str) -> None:
    """`python -m zksolv.cli` used to import the CLI and exit 0 without doing anything."""
    import subprocess

    proc = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert "prove" in proc.stdout and "verify" in proc.stdout


def test_cli_verify_bad_statement_exits_cleanly(tmp_path: Path) -> None:
    """CLI verify on a statement with epoch Infinity: one clean line, exit 1 (invalid proof)."""
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "statement.json").write_text('{"epoch": Infinity}')
    (tmp_path / "m.json").write_text(fuzz.small_market().to_json())
    res = CliRunner().invoke(main, ["verify", "--proof", str(tmp_path / "p"), "--market", str(tmp_path / "m.json"),
                                    "--dev-key"])
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit)
    assert f"MALFORMED {tmp_path / 'p'}: malformed: statement" in res.output and "Traceback" not in res.output


# ------------------------------------------------ proofs, keys, cache, node (slow)
@pytest.fixture(scope="module")
def proof_ctx(tmp_path_factory) -> "fuzz.Context":
    c = fuzz.make_context(tmp_path_factory.mktemp("fuzzp"))
    fuzz.attach_proof(c)
    return c


@pytest.mark.slow
def test_fuzz_proofs_public_inputs_and_keys(proof_ctx) -> None:
    """~100 mutated proofs / public inputs / keys (+ CLI verify sample): never valid, never a traceback."""
    cats = ["proof_mutated", "public_mutated", "vk_mutated", "cli"]
    _check(fuzz.run(100, seed=7, ctx=proof_ctx, categories=cats))


@pytest.mark.slow
def test_proof_for_another_circuit_is_invalid(proof_ctx, tmp_path: Path) -> None:
    from zksolv.verifier.verify import verify

    b = proof_ctx.bundle
    assert verify(b.proof, b.public, proof_ctx.market, b.verification_key).valid
    verdict = verify(b.proof, b.public, proof_ctx.market, proof_ctx.other_vk)
    assert not verdict.valid and "pairing" in verdict.reason
    (tmp_path / "vk.json").write_text(json.dumps(proof_ctx.other_vk))
    res = CliRunner().invoke(main, ["verify", "--proof", str(proof_ctx.proof_dir), "--market",
                                    str(proof_ctx.tmp / "market.json"), "--vk", str(tmp_path / "vk.json"), "--json"])
    assert res.exit_code == EXIT_INVALID and json.loads(res.stdout.splitlines()[0])["valid"] is False


@pytest.mark.slow
def test_corrupted_cache_entry_is_detected_and_rebuilt(tmp_path: Path, monkeypatch) -> None:
    """Flip bytes in a cached proving key / circuit file: CacheError internally, rebuilt, never used."""
    from zksolv import toolchain
    from zksolv.toolchain import trusted_setup
    from zksolv.toolchain.cache import ArtifactCache, verify_manifest
    from zksolv.core.errors import CacheError

    monkeypatch.setenv("ZKSOLV_CACHE", str(tmp_path / "cache"))
    cache = ArtifactCache()
    circuit = toolchain.compile_cached(ROOT / "tests" / "circuits" / "two_public.circom", cache=cache)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keys = trusted_setup.dev_setup(circuit, cache=cache)
        rng = random.Random(5)
        for victim in (keys.arkworks_pk, circuit.wasm, keys.verification_key):
            good = victim.read_bytes()
            bad = bytearray(good)
            i = rng.randrange(len(bad))
            bad[i] ^= 0x40
            victim.write_bytes(bytes(bad))
            entry = victim.parent if victim.parent.joinpath("MANIFEST.json").exists() else victim.parent.parent
            with pytest.raises(CacheError):
                verify_manifest(entry)
            before = cache.builds
            again = toolchain.compile_cached(ROOT / "tests" / "circuits" / "two_public.circom", cache=cache)
            keys2 = trusted_setup.dev_setup(again, cache=cache)
            assert cache.builds == before + 1  # exactly the corrupt entry was rebuilt
            verify_manifest(keys2.directory)
            verify_manifest(Path(again.wasm).parent.parent if (Path(again.wasm).parent.parent / "MANIFEST.json").exists()
                            else Path(again.wasm).parent.parent.parent)
            if victim != circuit.wasm:
                assert victim.read_bytes() != bytes(bad)  # the corrupt bytes are gone


@pytest.mark.slow
def test_missing_node_exit_3(tmp_path: Path) -> None:
    """PATH emptied: `zksolv setup` (empty cache) exits 3 with 'node not found', one line, no traceback."""
    import subprocess

    (tmp_path / "m.json").write_text(fuzz.small_market().to_json())
    env = {k: v for k, v in os.environ.items() if k not in ("PATH",)}
    env.update(PATH=str(tmp_path / "nothing"), ZKSOLV_CACHE=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", "from zksolv.cli import main; main()", "setup", "--market", str(tmp_path / "m.json"),
                           "--positions", "4"], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert proc.returncode == EXIT_TOOLCHAIN, proc.stderr
    assert "node not found" in proc.stderr and "Traceback" not in proc.stderr
    assert [line for line in proc.stderr.splitlines() if line.startswith("error:")] == \
        [line for line in proc.stderr.splitlines() if "node not found" in line]
