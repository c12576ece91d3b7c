"""The resident prover (``zksolv prover start|stop|status``, :mod:`zksolv.prover.daemon`).

A real daemon is started in each test that needs one (on a socket under the test's temporary
directory) and stopped or killed by the test. Covered: proving through it (proofs verify, the
key is loaded once), a key tampered with on disk is refused and a changed file is noticed, the
socket is owner-only and a foreign one is not used, a daemon that is not running (no socket,
stale socket, killed) gives the in-process fallback with one note line, a daemon that dies
mid-proof gives a clear ToolchainError and no output, and the daemon's log holds no private value.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Iterator

import pytest

from zksolv.prover import daemon
from tests.processes import StderrTail
from zksolv.prover.backends import ArkworksBackend
from zksolv.verifier.groth16 import verify_groth16
from zksolv import toolchain
from zksolv.toolchain import trusted_setup
from zksolv.core.errors import ToolchainError

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from zksolv.cli import main; main()"]
CIRCUIT = ROOT / "tests" / "circuits" / "range_multiplier.circom"
SECRET_A, SECRET_K = 3_141_592_653, 2_718_281_828
INPUTS = {"a": SECRET_A, "b": 1, "c": SECRET_A, "k": SECRET_K}


def _stop_or_kill(sock: Path) -> None:
    info = daemon.status(sock)
    if info is not None:
        daemon.stop(path=sock)


@pytest.fixture()
def sock(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "run" / "prover.sock"
    yield path
    _stop_or_kill(path)


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The toy circuit compiled and set up in a private cache (its key file may be tampered with)."""
    cache = tmp_path_factory.mktemp("resident-cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("ZKSOLV_CACHE", str(cache))
    try:
        circuit = toolchain.compile_cached(CIRCUIT)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", trusted_setup.InsecureSetupWarning)
            keys = trusted_setup.dev_setup(circuit)
        wtns = toolchain.calculate_witness(circuit.wasm, INPUTS, cache / "w.wtns")
        yield {"keys": keys, "wtns": wtns, "public": [str(SECRET_A * SECRET_K), str(SECRET_A), str(SECRET_K)]}
    finally:
        mp.undo()


def _verifies(toy: dict[str, Any], proof: Any) -> bool:
    return proof.public_signals == toy["public"] and verify_groth16(toy["keys"].load_verification_key(), proof.proof,
                                                                     proof.public_signals)


# ------------------------------------------------------------------ the daemon itself

def test_prove_through_the_daemon(toy: dict[str, Any], sock: Path) -> None:
    info = daemon.start(path=sock)
    assert info["pid"] != os.getpid() and not info["already_running"]
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600 and stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
    assert daemon.start(path=sock)["already_running"]
    first = daemon.prove_resident(toy["keys"], toy["wtns"], path=sock)
    second = daemon.prove_resident(toy["keys"], toy["wtns"], path=sock)
    assert first.backend == "arkworks-resident"
    assert _verifies(toy, first) and _verifies(toy, second)
    status = daemon.status(sock)
    assert status is not None and status["proofs"] == 2
    assert [(k["file"], k["proofs"]) for k in status["keys"]] == [("proving_key.ark", 2)]  # loaded once
    # the same proof statement as the in-process backend
    assert ArkworksBackend().prove(toy["keys"], toy["wtns"]).public_signals == first.public_signals
    assert daemon.stop(path=sock) == info["pid"]
    assert not sock.exists() and daemon.status(sock) is None
    log = (sock.parent / "prover.log").read_text()
    assert "loaded proving key proving_key.ark" in log
    for secret in (SECRET_A, SECRET_K, SECRET_A * SECRET_K):
        assert str(secret) not in log


def test_tampered_key_is_refused_and_a_changed_file_noticed(toy: dict[str, Any], sock: Path) -> None:
    daemon.start(path=sock)
    assert _verifies(toy, daemon.prove_resident(toy["keys"], toy["wtns"], path=sock))  # key now resident
    key = Path(toy["keys"].arkworks_pk)
    original, st = key.read_bytes(), key.stat()
    tampered = bytearray(original)
    tampered[len(tampered) // 2] ^= 0x01
    try:
        key.write_bytes(bytes(tampered))
        os.utime(key, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size and mtime: only the contents differ
        with pytest.raises(ToolchainError, match="does not match the sha256 in its cache manifest"):
            daemon.prove_resident(toy["keys"], toy["wtns"], path=sock)
        status = daemon.status(sock)
        assert status is not None and status["keys"] == []  # the stale key was dropped, the daemon lives on
    finally:
        key.write_bytes(original)
    assert _verifies(toy, daemon.prove_resident(toy["keys"], toy["wtns"], path=sock))  # reloaded and checked


def test_least_recently_used_key_is_dropped(toy: dict[str, Any], sock: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZKSOLV_CACHE", str(Path(toy["keys"].directory).parent.parent))
    other = toolchain.compile_cached(ROOT / "tests" / "circuits" / "two_public.circom")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trusted_setup.InsecureSetupWarning)
        other_keys = trusted_setup.dev_setup(other)
    other_wtns = toolchain.calculate_witness(other.wasm, {"account_commitment": 36, "market_root": 99, "secret": 5,
                                                          "salt": 11}, toy["wtns"].parent / "other.wtns")
    daemon.start(path=sock, max_keys=1)
    assert _verifies(toy, daemon.prove_resident(toy["keys"], toy["wtns"], path=sock))
    second = daemon.prove_resident(other_keys, other_wtns, path=sock)
    assert verify_groth16(other_keys.load_verification_key(), second.proof, second.public_signals)
    status = daemon.status(sock)
    assert status is not None and [k["directory"] for k in status["keys"]] == [other_keys.directory.name[:16]]
    assert _verifies(toy, daemon.prove_resident(toy["keys"], toy["wtns"], path=sock))  # reloaded after eviction


def test_not_running_stale_and_foreign_sockets(toy: dict[str, Any], tmp_path: Path) -> None:
    missing = tmp_path / "none" / "prover.sock"
    assert daemon.status(missing) is None
    with pytest.raises(daemon.NotRunning):
        daemon.prove_resident(toy["keys"], toy["wtns"], path=missing)
    stale = tmp_path / "stale" / "prover.sock"
    stale.parent.mkdir(mode=0o700)
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(stale))
    s.close()  # the file stays, nobody listens: what a killed daemon leaves
    assert daemon.status(stale) is None
    foreign = tmp_path / "shared" / "prover.sock"
    foreign.parent.mkdir()
    os.chmod(foreign.parent, 0o777)  # anyone could have put a socket here
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(foreign))
    listener.listen()
    try:
        with pytest.raises(ToolchainError, match="not a prover socket of this user"):
            daemon.prove_resident(toy["keys"], toy["wtns"], path=foreign)
    finally:
        listener.close()


def _fake_daemon(path: Path, answers: int) -> threading.Thread:
    """A stand-in that answers ``status``, then reads a prove request and dies without answering."""
    path.parent.mkdir(mode=0o700, exist_ok=True)
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    os.chmod(path, 0o600)
    server.listen()

    def run() -> None:
        with server:
            for _ in range(answers):
                conn, _ = server.accept()
                with conn:
                    message = daemon._recv(conn)  # noqa: SLF001
                    if message["op"] == "status":
                        daemon._send(conn, {"ok": True, "pid": 1, "keys": [], "proofs": 0})  # noqa: SLF001
                    # a prove request: the connection closes without an answer (a crash mid-proof)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_daemon_dying_mid_proof_is_a_clear_error(toy: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "fake" / "prover.sock"
    _fake_daemon(path, answers=1)
    with pytest.raises(ToolchainError, match="closed the connection before answering") as info:
        daemon.prove_resident(toy["keys"], toy["wtns"], path=path)
    assert not isinstance(info.value, daemon.NotRunning)  # not silently retried in-process


# ------------------------------------------------------------------ through `zksolv prove`

@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo market (the end-to-end tests' stress tier, usually cached) and a 2-position book."""
    from zksolv.app.demo import demo_market, demo_portfolios

    d = tmp_path_factory.mktemp("resident-cli")
    market = demo_market(risk_mode="stress", mc_scenarios=16)
    market.save(d / "market.json")
    account = demo_portfolios(market)["short_strangle"]
    account.save(d / "account.json")
    (d / "secrets.json").write_text(json.dumps([str(account.salt)] + [str(abs(p.quantity)) for p in account.positions]))
    return d


def _prove_cli(book: Path, sock: Path, out: str, *extra: str, kill_daemon_at_proof: bool = False) -> tuple[int, str]:
    """Run ``zksolv prove``; with ``kill_daemon_at_proof``, SIGKILL the daemon once the proving step is under way."""
    env = {**os.environ, daemon.SOCKET_ENV: str(sock), "PYTHONPATH": str(ROOT)}
    args = CLI + ["prove", "--account", str(book / "account.json"), "--market", str(book / "market.json"),
                  "--out", str(book / out), *extra]
    pid = daemon.status(sock)["pid"] if kill_daemon_at_proof else None  # type: ignore[index]
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = StderrTail(proc)
    if pid is not None:
        deadline = time.monotonic() + 600
        while "(resident prover" not in stderr.text:
            assert proc.poll() is None, f"prove exited before proving: {stderr.raw!r}"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.3)  # the request is sent; the daemon is loading the key or proving
        os.kill(pid, signal.SIGKILL)
    code = proc.wait(timeout=900)
    stderr.join(timeout=30)
    return code, stderr.text


def _verify_out(book: Path, out: str) -> bool:
    from zksolv.verifier.verify import verify
    from zksolv.core.market import MarketState

    d = book / out
    proof, public = json.loads((d / "proof.json").read_text()), json.loads((d / "public.json").read_text())
    vk = json.loads((d / "verification_key.json").read_text())
    return verify(proof, public, MarketState.load(book / "market.json"), vk).valid


def test_cli_falls_back_uses_and_survives_the_daemon(book: Path, sock: Path) -> None:
    code, err = _prove_cli(book, sock, "p1")
    assert code == 0, err
    notes = [line for line in err.splitlines() if line.startswith("note:")]
    assert notes == ["note: no resident prover running (`zksolv prover start` keeps the proving key loaded); "
                     "proving in this process"]
    assert _verify_out(book, "p1")
    code, err = _prove_cli(book, sock, "p2", "--resident", "require")
    assert code == 3 and "no resident prover running" in err and not (book / "p2").exists()

    info = daemon.start(path=sock)
    code, err = _prove_cli(book, sock, "p3")
    assert code == 0, err
    assert f"resident prover, pid {info['pid']}" in err and "note:" not in err
    assert _verify_out(book, "p3")

    os.kill(info["pid"], signal.SIGKILL)  # killed between epochs: a stale socket is left
    deadline = time.monotonic() + 30
    while daemon.status(sock) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    code, err = _prove_cli(book, sock, "p4")
    assert code == 0 and "note: no resident prover running" in err
    assert _verify_out(book, "p4")
    log = (sock.parent / "prover.log").read_text()
    for secret in json.loads((book / "secrets.json").read_text()):
        assert secret not in log


def test_cli_daemon_killed_mid_proof(book: Path, sock: Path) -> None:
    daemon.start(path=sock)  # fresh: the first request loads the key (seconds), the kill lands in it
    code, err = _prove_cli(book, sock, "killed", "--resident", "require", kill_daemon_at_proof=True)
    assert code == 3, err
    assert "closed the connection before answering" in err
    assert not (book / "killed" / "proof.json").exists()
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1


def test_library_prove_uses_or_falls_back(book: Path, sock: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``zksolv.prover.prove.prove``: one note and an in-process proof without a daemon, the daemon's proof with one."""
    from zksolv.prover.prove import NOT_RUNNING_NOTE, prove
    from zksolv.verifier.verify import verify
    from zksolv.core.account import Account
    from zksolv.core.market import MarketState

    monkeypatch.setenv(daemon.SOCKET_ENV, str(sock))
    market, account = MarketState.load(book / "market.json"), Account.load(book / "account.json")
    notes: list[str] = []
    labels: list[str] = []

    def progress(label: str) -> Any:
        labels.append(label)
        return contextlib.nullcontext()

    bundle = prove(account, market, note=notes.append, progress=progress)
    assert notes == [NOT_RUNNING_NOTE] and "proving with arkworks" in labels
    assert verify(bundle.proof, bundle.public, market, bundle.verification_key).valid
    with pytest.raises(ToolchainError, match="no resident prover running"):
        prove(account, market, resident="require")
    daemon.start(path=sock)
    notes.clear()
    labels.clear()
    bundle = prove(account, market, note=notes.append, progress=progress, resident="require")
    assert notes == [] and any("resident prover, pid" in label for label in labels)
    assert verify(bundle.proof, bundle.public, market, bundle.verification_key).valid
