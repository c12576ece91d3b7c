"""`zksolv setup` says up front which circuits it builds and why, and `--for-account FILE` builds only
what that account's proof needs: its tier, or for a book above the largest tier the chunk and final
circuits of its chunked route (issue 22, item 3)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from zksolv.cli import EXIT_INPUT, main
from zksolv.core.errors import CacheError
from zksolv.core.market import MarketState
from zksolv.toolchain.circuitgen import ChunkTier, FinalTier, Tier


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Record the circuits `setup` builds (a fake build: the choice is under test, not the compiler)."""
    import zksolv.toolchain.artifacts

    names: list[str] = []
    vk = tmp_path / "vk.json"
    vk.write_text("{}")
    keys = SimpleNamespace(insecure=False, warning="", verification_key=vk, route="dev")

    def fake(shape, *_a, **_k):
        names.append(shape.name)
        return SimpleNamespace(cached=False, keys=keys, circuit_hash="ab" * 32,
                               circuit=SimpleNamespace(n_constraints=1))

    monkeypatch.setattr(zksolv.toolchain.artifacts, "build_artifacts", fake)
    return names


@pytest.fixture
def cold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing set up before on this machine (the plan checks the key index)."""
    import zksolv.toolchain.artifacts

    def missing(*_a, **_k):
        raise CacheError("no local setup")

    monkeypatch.setattr(zksolv.toolchain.artifacts, "local_key", missing)


def _setup(market: Path, *extra: str):
    out = run("setup", "--market", str(market), "--json", *extra)
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout), out.stderr


def test_for_account_builds_only_its_tier(demo_files: Path, built: list[str], cold: None) -> None:
    market = MarketState.load(demo_files / "market.json")
    account = demo_files / "accounts" / "short_strangle.json"  # 2 positions: the venue's smallest tier
    data, stderr = _setup(demo_files / "market.json", "--for-account", str(account))
    tier = Tier.for_market(market, 4).name
    assert built == [tier] and [row["tier"] for row in data["circuits"]] == [tier]
    plan = stderr.split("compiling ", 1)[0]
    assert plan.startswith(f"setup builds 1 circuit: the tier {account} proves in")
    assert f"  {tier}  to build" in plan and "estimate for the 1 to build, cold: about" in plan
    # the account's positions are never printed
    assert "2 positions" not in stderr and "short_strangle" not in json.dumps(data)


def test_for_account_of_a_large_book_builds_its_chunk_and_final_circuits(demo_files: Path, tmp_path: Path,
                                                                          built: list[str]) -> None:
    """market_maker holds 60 positions; on a venue whose largest tier is 16 it proves in chunks of 64."""
    small = tmp_path / "m.json"
    made = run("market", "demo", "--out", str(small), "--tiers", "4,16", "--portfolios", str(tmp_path / "a"))
    assert made.exit_code == 0, made.output
    market = MarketState.load(small)
    data, stderr = _setup(small, "--for-account", str(tmp_path / "a" / "market_maker.json"))
    expected = [ChunkTier.for_market(market, 64).name, FinalTier.for_market(market).name]
    assert built == expected and [row["tier"] for row in data["circuits"]] == expected
    assert "setup builds 2 circuits: the chunked route of" in stderr and "largest tier, 16 positions" in stderr
    # the very circuits `prove` plans for this book (its default chunk size)
    from zksolv.core.account import Account
    from zksolv.prover.chunks import plan_chunks

    plan = plan_chunks(Account.load(tmp_path / "a" / "market_maker.json"), market, market.venue.chunk_size)
    assert expected == [plan.chunk_tier.name, plan.final_tier.name]


def test_default_builds_every_accepted_tier_and_says_why(demo_files: Path, built: list[str]) -> None:
    market = MarketState.load(demo_files / "market.json")
    data, stderr = _setup(demo_files / "market.json")
    assert built == [Tier.for_market(market, c).name for c in (4, 16, 64)] == [r["tier"] for r in data["circuits"]]
    assert stderr.startswith("setup builds 3 circuits: every tier the venue accepts (4, 16, 64 positions)")
    assert "--for-account FILE builds only what one account needs" in stderr


def test_the_plan_names_what_is_cached(demo_files: Path, built: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import zksolv.toolchain.artifacts

    monkeypatch.setattr(zksolv.toolchain.artifacts, "local_key", lambda *a, **k: None)
    _, stderr = _setup(demo_files / "market.json", "--positions", "16")
    assert "setup builds 1 circuit: --positions 16" in stderr and "set up before on this machine" in stderr
    assert "estimate" not in stderr


@pytest.mark.parametrize("content, message", [
    ("{", "malformed JSON"),
    ('{"format": 1, "positions": [{"instrument": "NOPE", "quantity": "1"}], "collateral": {}, "salt": "0x1"}',
     "not listed in this market"),
])
def test_a_bad_account_file_is_exit_2_before_any_work(demo_files: Path, tmp_path: Path, built: list[str],
                                                      content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    out = run("setup", "--market", str(demo_files / "market.json"), "--for-account", str(bad))
    assert out.exit_code == EXIT_INPUT, out.output
    assert f"--for-account {bad}: " in out.output and message in out.output and "Traceback" not in out.output
    assert built == [] and "setup builds" not in out.output


def test_a_missing_account_file_or_an_option_pair_is_exit_2(demo_files: Path, tmp_path: Path,
                                                             built: list[str]) -> None:
    market, account = str(demo_files / "market.json"), str(demo_files / "accounts" / "short_strangle.json")
    missing = run("setup", "--market", market, "--for-account", str(tmp_path / "nope.json"))
    assert missing.exit_code == EXIT_INPUT and "nope.json" in missing.output
    for extra in (["--positions", "4"], ["--chunks"]):
        out = run("setup", "--market", market, "--for-account", account, *extra)
        assert out.exit_code == EXIT_INPUT and "--for-account" in out.output and "excludes" in out.output
    assert built == []


@pytest.mark.slow
def test_for_account_for_real(demo_files: Path) -> None:
    """The real build (from the cache once the demo tier was built on this machine): one tier, and
    afterwards this machine's key index has it, so `zksolv prove` and `verify --dev-key` find it."""
    from zksolv.toolchain.artifacts import local_key
    from zksolv.toolchain.circuitgen import circuit_source_hash

    market = MarketState.load(demo_files / "market.json")
    data, stderr = _setup(demo_files / "market.json", "--for-account",
                          str(demo_files / "accounts" / "short_strangle.json"))
    tier = Tier.for_market(market, 4)
    assert [row["tier"] for row in data["circuits"]] == [tier.name]
    assert [ln for ln in stderr.splitlines() if ln.startswith("compiling ")] == \
        [ln for ln in stderr.splitlines() if ln.startswith(f"compiling {tier.name} ")]
    assert local_key(tier.name, circuit_source_hash(tier)).path.is_file()
