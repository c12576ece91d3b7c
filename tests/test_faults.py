"""Faults: SIGKILL during setup and during proving, and two provers racing on an empty cache.

Each scenario runs the real CLI (``python -c 'from zksolv.cli import main; main()' ...``) in a
subprocess with its own ``ZKSOLV_CACHE``. After a kill every cache entry present must pass its
manifest (no half-written entry looks finished), the re-run must succeed and its proof verify.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zksolv.account import Account, Position
from zksolv.cache import MANIFEST, verify_manifest
from zksolv.demo import demo_market

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from zksolv.cli import main; main()"]
# with INFO logging, so cache builds are countable ("built cache entry circuit/...")
CLI_LOGGED = [sys.executable, "-c",
              "import logging; logging.basicConfig(level=logging.INFO); from zksolv.cli import main; main()"]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("faults")
    market = demo_market(n_strikes=3, n_expiries=1)
    syms = [i.symbol for i in market.instruments]
    market.save(d / "market.json")
    Account((Position(syms[4], -1_000_000), Position(syms[1], 500_000)), {"USDC": 40_000_000_000}, 77).save(
        d / "account.json")
    return d


def _env(cache: Path) -> dict[str, str]:
    return {**os.environ, "ZKSOLV_CACHE": str(cache), "PYTHONPATH": str(ROOT)}


def _run(args: list[str], cache: Path, *, kill_after: float | None = None, logged: bool = False):
    proc = subprocess.Popen((CLI_LOGGED if logged else CLI) + args, env=_env(cache), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    if kill_after is not None:
        time.sleep(kill_after)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its node children, all at once
    out, err = proc.communicate(timeout=600)
    return proc.returncode, out, err


def _entries_sound(cache: Path) -> int:
    """Every finished-looking entry (a directory next to its .lock, not a dot-staging dir) passes its manifest."""
    n = 0
    for kind in ("circuit", "setup", "ptau"):
        for entry in (cache / kind).glob("*") if (cache / kind).is_dir() else []:
            if entry.is_dir() and not entry.name.startswith("."):
                assert (entry / MANIFEST).is_file(), f"{entry} has no manifest"
                verify_manifest(entry)
                n += 1
    return n


def _prove_and_verify(files: Path, cache: Path, out: str) -> None:
    code, _, err = _run(["prove", "--account", str(files / "account.json"), "--market", str(files / "market.json"),
                         "--out", str(files / out), "--positions", "4"], cache)
    assert code == 0, err
    code, _, err = _run(["verify", "--proof", str(files / out), "--market", str(files / "market.json")], cache)
    assert code == 0, err


def test_kill_during_setup_then_rerun(files: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    setup = ["setup", "--market", str(files / "market.json"), "--positions", "4"]
    for delay in (1.5, 6.0, 12.0):  # import / mid-compile / late compile or setup
        code, _, _ = _run(setup, cache, kill_after=delay)
        assert code in (-signal.SIGKILL, 0)
        _entries_sound(cache)
    code, _, err = _run(setup, cache)
    assert code == 0, err
    assert _entries_sound(cache) >= 2
    _prove_and_verify(files, cache, "proof_after_setup_kills")


def test_kill_during_proving_then_rerun(files: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert _run(["setup", "--market", str(files / "market.json"), "--positions", "4"], cache)[0] == 0
    prove = ["prove", "--account", str(files / "account.json"), "--market", str(files / "market.json"),
             "--out", str(files / "proof_killed"), "--positions", "4"]
    for delay in (0.8, 2.0, 3.5):
        code, _, _ = _run(prove, cache, kill_after=delay)
        assert code in (-signal.SIGKILL, 0)
        _entries_sound(cache)
        folder = files / "proof_killed"
        if folder.exists():  # atomic writes: every file present is complete JSON
            import json

            for f in folder.glob("*.json"):
                json.loads(f.read_text())
    _prove_and_verify(files, cache, "proof_killed")


def test_two_provers_share_an_empty_cache(files: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    procs = []
    for name in ("p1", "p2"):
        procs.append(subprocess.Popen(
            CLI_LOGGED + ["prove", "--account", str(files / "account.json"), "--market", str(files / "market.json"),
                          "--out", str(files / name), "--positions", "4"],
            env=_env(cache), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [p.communicate(timeout=600) + (p.returncode,) for p in procs]
    for _, err, code in results:
        assert code == 0, err
    logs = "".join(err for _, err, _ in results)
    assert logs.count("built cache entry circuit/") == 1, logs
    assert logs.count("built cache entry setup/") == 1, logs
    assert _entries_sound(cache) == 2
    for name in ("p1", "p2"):
        code, _, err = _run(["verify", "--proof", str(files / name), "--market", str(files / "market.json")], cache)
        assert code == 0, err
