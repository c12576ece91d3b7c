"""Faults: SIGKILL during setup and during proving, and two provers racing on an empty cache.

Each scenario runs the real CLI (``python -c 'from zksolv.cli import main; main()' ...``) in a
subprocess with its own ``ZKSOLV_CACHE``. Kills are aimed, not timed: the test waits until the
step is under way (the cache's ``.<key>.building`` staging directory of the circuit compile or of
the setup exists; the prover has printed ``computing the witness ...`` / ``proving with ...``
without ``done``), then kills the whole process group, and asserts it was killed (exit -SIGKILL)
before the step finished (no finished entry / no " done" / no proof folder). After a kill every
cache entry present must pass its sha256 manifest (no half-written entry looks finished), the
re-run must succeed, its entries pass their manifests and its proof verify.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from tests.processes import StderrTail
from zksolv.core.account import Account, Position
from zksolv.toolchain.cache import MANIFEST, verify_manifest
from zksolv.app.demo import demo_market

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


def _run(args: list[str], cache: Path, *, logged: bool = False):
    proc = subprocess.Popen((CLI_LOGGED if logged else CLI) + args, env=_env(cache), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    out, err = proc.communicate(timeout=600)
    return proc.returncode, out, err


def _kill_during(args: list[str], cache: Path, under_way: Callable[[str], bool], *, settle: float = 0.0,
                 timeout: float = 180.0) -> str:
    """Run the CLI, wait until ``under_way(stderr so far)`` holds, wait ``settle`` s, SIGKILL the whole
    process group (the CLI and its node children) and return the stderr printed before the kill.
    Asserts the process was still running and died of the kill."""
    proc = subprocess.Popen(CLI + args, env=_env(cache), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    stderr = StderrTail(proc)
    deadline = time.monotonic() + timeout
    try:
        while not under_way(stderr.text):
            assert proc.poll() is None, f"{args[0]} exited ({proc.returncode}) before the step: {stderr.raw!r}"
            assert time.monotonic() < deadline, f"{args[0]}: step not reached in {timeout} s"
            time.sleep(0.02)
        time.sleep(settle)
        assert proc.poll() is None, f"{args[0]} finished before the kill: {stderr.raw!r}"
        os.killpg(proc.pid, signal.SIGKILL)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
    stderr.join(timeout=10)
    assert code == -signal.SIGKILL, f"{args[0]}: exit {code}, not killed"
    return stderr.text


def _building(cache: Path, kind: str) -> bool:
    """A cache build of ``kind`` is in progress: its staging directory exists."""
    return (cache / kind).is_dir() and any((cache / kind).glob(".*.building"))


def _finished(cache: Path, kind: str) -> list[Path]:
    return [e for e in (cache / kind).glob("*") if e.is_dir() and not e.name.startswith(".")] \
        if (cache / kind).is_dir() else []


def _entries_sound(cache: Path) -> int:
    """Every finished-looking entry (a directory next to its .lock, not a dot-staging dir) passes its manifest."""
    n = 0
    for kind in ("circuit", "setup", "ptau"):
        for entry in _finished(cache, kind):
            assert (entry / MANIFEST).is_file(), f"{entry} has no manifest"
            verify_manifest(entry)
            n += 1
    return n


def _prove_and_verify(files: Path, cache: Path, out: str) -> None:
    code, _, err = _run(["prove", "--account", str(files / "account.json"), "--market", str(files / "market.json"),
                         "--out", str(files / out), "--positions", "4"], cache)
    assert code == 0, err
    for f in (files / out).glob("*.json"):
        json.loads(f.read_text())  # complete JSON
    code, _, err = _run(["verify", "--proof", str(files / out), "--market", str(files / "market.json"), "--dev-key"], cache)
    assert code == 0, err


def test_kill_during_setup_then_rerun(files: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    setup = ["setup", "--market", str(files / "market.json"), "--positions", "4"]
    # 1. mid-compile: circom runs for ~15 s after the circuit's staging dir appears
    _kill_during(setup, cache, lambda _: _building(cache, "circuit"), settle=2.0)
    assert _finished(cache, "circuit") == [], "killed mid-compile, yet a circuit entry looks finished"
    assert _entries_sound(cache) == 0
    # 2. mid-setup: the circuit is compiled (and cached) in full, the dev setup (~2.5 s) is running
    _kill_during(setup, cache, lambda _: _building(cache, "setup"), settle=0.3)
    assert len(_finished(cache, "circuit")) == 1 and _finished(cache, "setup") == [], \
        "killed mid-setup: expected the circuit entry only"
    assert _entries_sound(cache) == 1
    # 3. the re-run completes both entries (the killed staging dirs are never used) and they verify
    code, _, err = _run(setup, cache)
    assert code == 0, err
    assert len(_finished(cache, "circuit")) == 1 and len(_finished(cache, "setup")) == 1
    assert _entries_sound(cache) == 2
    _prove_and_verify(files, cache, "proof_after_setup_kills")


def test_kill_during_proving_then_rerun(files: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert _run(["setup", "--market", str(files / "market.json"), "--positions", "4"], cache)[0] == 0
    assert _entries_sound(cache) == 2
    folder = files / "proof_killed"
    prove = ["prove", "--account", str(files / "account.json"), "--market", str(files / "market.json"),
             "--out", str(folder), "--positions", "4"]
    for label in ("computing the witness ...", "proving with "):
        err = _kill_during(prove, cache, lambda text, label=label: label in text)
        after = err[err.index(label):]
        assert " done" not in after, f"killed after '{label}' had finished: {after!r}"
        assert not folder.exists(), "killed before the proof was written, yet its folder exists"
        assert _entries_sound(cache) == 2, "a kill while proving damaged the cache"
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
        code, _, err = _run(["verify", "--proof", str(files / name), "--market", str(files / "market.json"), "--dev-key"], cache)
        assert code == 0, err
