"""A resident prover: keeps groth16py proving keys loaded across epochs.

Loading a dev-route proving key (``groth16py.ProvingKey.load``) costs ~0.1 s
per MB of key in a fresh process (2.7 s for the demo tier, 16 s at 116k
constraints: more than the proof), so a trader who proves every epoch keeps
one local process with the keys in memory::

    zksolv prover start      # detached; prints its pid and socket
    zksolv prover status
    zksolv prover stop

``zksolv prove`` and :func:`zksolv.prover.prove.prove` use it when it runs (and
prove in-process, with a one-line note, when it does not).

Boundaries:

* **Local only.** A Unix socket in a directory only the owner can enter
  (``<cache>/run/prover.sock``; ``$ZKSOLV_PROVER_SOCKET`` overrides), the
  socket itself 0600; the daemon answers only peers of its own uid
  (``SO_PEERCRED``) and the client talks only to a daemon of its own uid.
  Nothing listens on the network.
* **Private values stay put.** The client computes the witness in its own
  private temporary directory and sends its *path*; the daemon reads it,
  proves, and answers with the 256-byte proof. The daemon logs operations,
  key file names, sizes and timings, never a witness value or an input.
* **Keys are checked.** A request names the key file and the sha256 the
  artifact cache's manifest records for it. The daemon (re)loads a key by
  reading the file once into an anonymous in-memory file while hashing it,
  refuses it if the hash differs, and loads groth16py from that copy (so what
  is loaded is what was hashed). A resident key is reused only while the
  file's identity (device, inode, size, mtime, ctime) is unchanged and the
  expected hash is the one it was loaded with; anything else reloads and
  re-checks.
* **Failures are clean.** One request per connection, length-prefixed JSON.
  A daemon that dies mid-proof closes the connection: the client raises
  :class:`~zksolv.core.errors.ToolchainError` and nothing was written (the
  bundle is saved only after a proof returns). Errors cross the socket as
  (class name, message) and are re-raised as the same zksolv class.

Run in the foreground with ``python -m zksolv.prover.daemon --socket PATH``.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import signal
import socket
import socketserver
import stat
import struct
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zksolv.core.errors import CacheError, InputError, ProofError, ToolchainError, ZksolvError

log = logging.getLogger("zksolv.prover.daemon")

SOCKET_ENV = "ZKSOLV_PROVER_SOCKET"
PROTOCOL = 1
_MAX_MESSAGE = 1 << 20
_ERRORS: dict[str, type[ZksolvError]] = {cls.__name__: cls for cls in (ProofError, ToolchainError, InputError,
                                                                          CacheError)}
#: Longest ``sun_path`` Linux accepts (108 bytes with the terminating NUL).
_SUN_PATH_MAX = 107


# --------------------------------------------------------------------------
# where
# --------------------------------------------------------------------------

def socket_path() -> Path:
    """The daemon's socket: ``$ZKSOLV_PROVER_SOCKET`` or ``<cache>/run/prover.sock``.

    A cache path too long for a Unix socket falls back to
    ``/tmp/zksolv-<uid>/prover-<hash of the cache path>.sock``.
    """
    env = os.environ.get(SOCKET_ENV)
    if env:
        return Path(env).expanduser()
    from zksolv.toolchain.cache import cache_dir

    cache = Path(os.path.abspath(cache_dir()))
    path = cache / "run" / "prover.sock"
    if len(os.fsencode(path)) <= _SUN_PATH_MAX:
        return path
    digest = hashlib.sha256(os.fsencode(cache)).hexdigest()[:16]
    return Path(f"/tmp/zksolv-{os.getuid()}") / f"prover-{digest}.sock"


def _private_dir(directory: Path) -> None:
    """Create ``directory`` 0700 if needed; refuse one another user owns or others may enter."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    st = directory.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise ToolchainError(f"{directory} is not a directory of this user: refusing to use it for the prover socket")
    if st.st_mode & 0o077:
        os.chmod(directory, 0o700)


def _check_sun_path(path: Path) -> None:
    if len(os.fsencode(path)) > _SUN_PATH_MAX:
        raise ToolchainError(f"prover socket path is too long for a Unix socket ({len(os.fsencode(path))} bytes): "
                             f"set {SOCKET_ENV} to a shorter path")


def _peer_uid(sock: socket.socket) -> tuple[int, int]:
    """``(pid, uid)`` of the process at the other end of a Unix socket.

    Where the platform has no ``SO_PEERCRED`` (not Linux), ``(-1, own uid)``:
    the owner-only socket and directory are then the only gate.
    """
    if not hasattr(socket, "SO_PEERCRED"):  # pragma: no cover - Linux has it
        return -1, os.getuid()
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _gid = struct.unpack("3i", creds)
    return pid, uid


# --------------------------------------------------------------------------
# wire format: 4-byte big-endian length + UTF-8 JSON, one request per connection
# --------------------------------------------------------------------------

def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    data = json.dumps(message).encode()
    sock.sendall(struct.pack(">I", len(data)) + data)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 16))
        if not chunk:
            raise EOFError("connection closed")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _recv(sock: socket.socket) -> dict[str, Any]:
    (size,) = struct.unpack(">I", _recv_exact(sock, 4))
    if size > _MAX_MESSAGE:
        raise ValueError("message too large")
    message = json.loads(_recv_exact(sock, size))
    if not isinstance(message, dict):
        raise ValueError("not a JSON object")
    return message


# --------------------------------------------------------------------------
# server
# --------------------------------------------------------------------------

def _file_identity(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass
class _Resident:
    pk: Any
    kind: str
    sha256: str
    identity: tuple[int, ...]
    size: int
    load_s: float
    uses: int = 0


def _checked_copy(path: Path, expected_sha256: str) -> tuple[int, tuple[int, ...], int]:
    """Copy ``path`` into an anonymous in-memory file while hashing it.

    Returns ``(fd, identity of the file read, size)``. Raises
    :class:`ToolchainError` if the contents' sha256 is not ``expected_sha256``
    (the fd is closed then).
    """
    h = hashlib.sha256()
    try:
        src = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise ToolchainError(f"proving key {path.name}: {exc.strerror}") from None
    dst = os.memfd_create("zksolv-pk") if hasattr(os, "memfd_create") else None
    if dst is None:  # pragma: no cover - non-Linux: an unlinked private temporary file
        import tempfile

        dst, tmp = tempfile.mkstemp(prefix="zksolv-pk-")
        os.unlink(tmp)
    try:
        identity = _file_identity(os.fstat(src))
        size = 0
        while block := os.read(src, 1 << 20):
            h.update(block)
            os.write(dst, block)
            size += len(block)
    except BaseException:
        os.close(dst)
        raise
    finally:
        os.close(src)
    if h.hexdigest() != expected_sha256:
        os.close(dst)
        raise ToolchainError(f"proving key {path.name} does not match the sha256 in its cache manifest "
                             "(changed on disk?): refused — run `zksolv setup` again")
    return dst, identity, size


class ResidentProver:
    """The daemon's state: resident keys (LRU), up to ``workers`` proofs at a time, one key load at a time."""

    def __init__(self, max_keys: int = 2, workers: int | None = None) -> None:
        self.max_keys = max(1, max_keys)
        # groth16py proves on one core (measured: 5.0 s with 1 thread or 2 at 105k constraints) and
        # releases the GIL, so proofs with the same resident key run side by side, one per core
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.keys: OrderedDict[str, _Resident] = OrderedDict()
        self.slots = threading.BoundedSemaphore(self.workers)
        self.load_lock = threading.Lock()  # one key load at a time: keys are hundreds of MB
        self.active = 0  # requests proving or loading now (the idle watchdog waits for 0)
        self.keys_lock = threading.Lock()  # guards ``keys`` against a concurrent status snapshot
        self.started = time.time()
        self.proofs = 0
        self.last_activity = time.monotonic()

    def key(self, kind: str, path: Path, sha256: str) -> tuple[Any, float | None]:
        """The loaded key for ``path`` (reloaded and re-checked if the file changed); ``(pk, load seconds or None)``."""
        from zksolv.prover.backends import load_proving_key

        try:
            identity = _file_identity(os.stat(path))
        except OSError as exc:
            with self.keys_lock:
                self.keys.pop(str(path), None)
            raise ToolchainError(f"proving key {path.name}: {exc.strerror}") from None
        with self.keys_lock:
            resident = self.keys.get(str(path))
            if resident is not None and resident.identity == identity and resident.sha256 == sha256 \
                    and resident.kind == kind:
                self.keys.move_to_end(str(path))
                return resident.pk, None
            self.keys.pop(str(path), None)
            while len(self.keys) >= self.max_keys:  # make room before loading: keys are hundreds of MB
                old_path, _old = self.keys.popitem(last=False)
                log.info("evicted proving key %s", Path(old_path).name)
        started = time.perf_counter()
        try:
            fd, identity, size = _checked_copy(path, sha256)
        except ToolchainError:
            log.warning("refused proving key %s: checksum mismatch or unreadable", path.name)
            raise
        try:
            pk = load_proving_key(kind, f"/proc/self/fd/{fd}", name=path.name)
        finally:
            os.close(fd)
        load_s = time.perf_counter() - started
        with self.keys_lock:
            self.keys[str(path)] = _Resident(pk, kind, sha256, identity, size, load_s)
        log.info("loaded proving key %s (%.1f MB, sha256 %s…) in %.2f s", path.name, size / 1e6, sha256[:12], load_s)
        return pk, load_s

    def prove(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer one ``prove`` request (key + witness path) with the proof."""
        from zksolv.prover.backends import prove_with_key

        key = request.get("key")
        wtns = request.get("wtns")
        if not isinstance(key, dict) or not isinstance(wtns, str):
            raise InputError("malformed prove request")
        kind, path, sha256 = key.get("kind"), key.get("path"), key.get("sha256")
        if kind not in ("ark", "zkey") or not isinstance(path, str) or not isinstance(sha256, str) \
                or len(sha256) != 64:
            raise InputError("malformed prove request: key")
        key_path = Path(path)
        with self.keys_lock:
            self.active += 1
        try:
            with self.slots:
                with self.load_lock:
                    pk, load_s = self.key(kind, key_path, sha256)
                started = time.perf_counter()
                proof = prove_with_key(pk, Path(wtns))
                prove_s = time.perf_counter() - started
                with self.keys_lock:
                    if str(key_path) in self.keys:
                        self.keys[str(key_path)].uses += 1
                    self.proofs += 1
        finally:
            with self.keys_lock:
                self.active -= 1
        log.info("proof with %s in %.2f s%s", key_path.name, prove_s,
                 f" (key loaded in {load_s:.2f} s)" if load_s is not None else "")
        return {"ok": True, "proof": proof, "load_s": load_s, "prove_s": prove_s}

    def status(self) -> dict[str, Any]:
        """pid, uptime, resident keys, proofs served."""
        with self.keys_lock:
            keys = list(self.keys.items())
        return {"ok": True, "protocol": PROTOCOL, "pid": os.getpid(), "uptime_s": round(time.time() - self.started, 1),
                "proofs": self.proofs, "max_keys": self.max_keys, "workers": self.workers,
                "keys": [{"file": Path(p).name, "directory": Path(p).parent.name[:16], "kind": r.kind,
                          "size_mb": round(r.size / 1e6, 1), "sha256": r.sha256[:16], "load_s": round(r.load_s, 3),
                          "proofs": r.uses} for p, r in keys]}


class _Handler(socketserver.BaseRequestHandler):
    server: "_Server"

    def handle(self) -> None:
        sock: socket.socket = self.request
        try:
            _pid, uid = _peer_uid(sock)
            if uid != os.getuid():
                log.warning("refused a connection from uid %d", uid)
                return
            sock.settimeout(60)
            request = _recv(sock)
            sock.settimeout(None)
        except (OSError, EOFError, ValueError, struct.error):
            return
        state = self.server.state
        state.last_activity = time.monotonic()
        op = request.get("op")
        try:
            if op == "status":
                answer = state.status()
            elif op == "prove":
                answer = state.prove(request)
            elif op == "stop":
                answer = {"ok": True, "pid": os.getpid()}
                threading.Thread(target=self.server.shutdown, daemon=True).start()
            else:
                answer = {"ok": False, "error": "InputError", "message": f"unknown operation {str(op)[:40]!r}"}
        except ZksolvError as exc:
            answer = {"ok": False, "error": type(exc).__name__, "message": str(exc)}
        except Exception as exc:  # noqa: BLE001 — never let one request take the daemon down
            log.error("request %s failed: %s", str(op)[:40], type(exc).__name__)
            answer = {"ok": False, "error": "ToolchainError", "message": f"resident prover failed: {type(exc).__name__}"}
        state.last_activity = time.monotonic()
        with contextlib.suppress(OSError):
            _send(sock, answer)


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    state: ResidentProver


def serve(path: Path, *, max_keys: int = 2, idle_timeout: float = 0.0, workers: int | None = None) -> None:
    """Run the resident prover on the Unix socket ``path`` until stopped (``stop`` request, SIGTERM, SIGINT
    or ``idle_timeout`` seconds without a request, if > 0)."""
    path = Path(os.path.abspath(path))
    _check_sun_path(path)
    _private_dir(path.parent)
    lock_fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(lock_fd)
        raise ToolchainError(f"a resident prover already serves {path}") from None
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # stale socket of a daemon that died (we hold the lock)
    old_umask = os.umask(0o177)
    try:
        server = _Server(str(path), _Handler)
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o600)
    server.state = ResidentProver(max_keys, workers)

    def stop(_signum: int, _frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if idle_timeout > 0:
        def watchdog() -> None:
            while True:
                time.sleep(min(5.0, idle_timeout))
                if not server.state.active and time.monotonic() - server.state.last_activity > idle_timeout:
                    log.info("idle for %.0f s: stopping", idle_timeout)
                    server.shutdown()
                    return

        threading.Thread(target=watchdog, daemon=True).start()
    log.info("resident prover pid %d serving %s (max %d keys, %d proofs at a time)", os.getpid(), path,
             server.state.max_keys, server.state.workers)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(lock_fd)
        log.info("resident prover pid %d stopped after %d proofs", os.getpid(), server.state.proofs)


# --------------------------------------------------------------------------
# client
# --------------------------------------------------------------------------

class NotRunning(ToolchainError):
    """No resident prover answers at the socket (none started, or it exited)."""


class Disconnected(ToolchainError):
    """The resident prover accepted a request and closed the connection without answering (it died)."""


def _connect(path: Path, timeout: float) -> socket.socket:
    """Connect to a daemon of this user at ``path``, or raise :class:`NotRunning`."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        raise NotRunning(f"no resident prover at {path}") from None
    except OSError as exc:
        raise NotRunning(f"no resident prover at {path}: {exc.strerror}") from None
    parent = path.parent.lstat()
    if not stat.S_ISSOCK(st.st_mode) or st.st_uid != os.getuid() or parent.st_uid != os.getuid() \
            or parent.st_mode & 0o022:
        raise ToolchainError(f"{path} is not a prover socket of this user (wrong owner or permissions): not using it")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.ECONNREFUSED, errno.ENOENT):
            raise NotRunning(f"no resident prover at {path} (stale socket)") from None
        raise NotRunning(f"cannot reach the resident prover at {path}: {exc.strerror}") from None
    _pid, uid = _peer_uid(sock)
    if uid != os.getuid():
        sock.close()
        raise ToolchainError(f"the process at {path} runs as another user: not sending it a witness")
    return sock


def request(message: dict[str, Any], *, path: Path | None = None, timeout: float = 6 * 3600.0) -> dict[str, Any]:
    """Send one request and return the answer.

    Raises :class:`NotRunning` if no daemon listens, :class:`ToolchainError`
    if it dies before answering, and re-raises an error the daemon reports as
    the same zksolv class.
    """
    path = path or socket_path()
    sock = _connect(path, min(timeout, 10.0))
    with sock:
        try:
            _send(sock, message)
            sock.settimeout(timeout)
            answer = _recv(sock)
        except socket.timeout:
            raise ToolchainError(f"the resident prover did not answer within {timeout:.0f} s") from None
        except (EOFError, ConnectionError, OSError, ValueError, struct.error):
            raise Disconnected("the resident prover closed the connection before answering (it stopped or "
                                 "crashed during the request); no proof was made — prove again (in-process "
                                 "if it is not running) or restart it with `zksolv prover start`") from None
    if not answer.get("ok"):
        cls = _ERRORS.get(str(answer.get("error")), ToolchainError)
        raise cls(str(answer.get("message", "resident prover error"))[:2000])
    return answer


def status(path: Path | None = None) -> dict[str, Any] | None:
    """The running daemon's status, or ``None`` if none answers (or it is exiting)."""
    try:
        return request({"op": "status"}, path=path, timeout=10.0)
    except (NotRunning, Disconnected):
        return None


def expected_sha256(key_path: Path) -> str:
    """The sha256 the artifact cache's manifest records for ``key_path`` (a file of a cache entry)."""
    from zksolv.toolchain.cache import MANIFEST

    key_path = Path(key_path)
    try:
        manifest = json.loads((key_path.parent / MANIFEST).read_text())
        digest = manifest["files"][key_path.name]["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        raise CacheError(f"proving key {key_path.name}: no sha256 in its cache manifest") from None
    if not isinstance(digest, str) or len(digest) != 64:
        raise CacheError(f"proving key {key_path.name}: malformed sha256 in its cache manifest")
    return digest


def prove_resident(keys: Any, wtns_path: Path, *, path: Path | None = None) -> Any:
    """Prove with the resident prover: like ``ArkworksBackend().prove(keys, wtns_path)``.

    Returns a :class:`zksolv.prover.backends.Proof` (``backend="arkworks-resident"``).
    Raises :class:`NotRunning` when no daemon runs (the caller may prove
    in-process instead).
    """
    from zksolv.prover.backends import ArkworksBackend, Proof, key_source

    wtns_path, public = ArkworksBackend()._check(keys, wtns_path)  # noqa: SLF001 — same checks as in-process
    kind, key_path = key_source(keys)
    message = {"op": "prove", "protocol": PROTOCOL, "wtns": str(Path(wtns_path).resolve()),
               "key": {"kind": kind, "path": str(Path(key_path).resolve()), "sha256": expected_sha256(key_path)}}
    answer = request(message, path=path)
    proof = answer.get("proof")
    if not isinstance(proof, dict):
        raise ToolchainError("the resident prover answered without a proof")
    return Proof(proof=proof, public_signals=public, backend="arkworks-resident")


def start(*, path: Path | None = None, max_keys: int = 2, idle_timeout: float = 0.0, wait: float = 30.0,
          workers: int | None = None) -> dict[str, Any]:
    """Start a detached daemon (if none runs) and return its status.

    Its log (operations and timings only) is ``<socket dir>/prover.log``.
    """
    path = Path(os.path.abspath(path or socket_path()))
    running = status(path)
    if running is not None:
        return running | {"already_running": True}
    _check_sun_path(path)
    _private_dir(path.parent)
    log_path = path.with_name("prover.log")
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    root = Path(__file__).resolve().parents[2]  # the folder holding the zksolv package
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "zksolv.prover.daemon", "--socket", str(path), "--max-keys", str(max_keys),
             "--idle-timeout", str(idle_timeout), *(["--workers", str(workers)] if workers else [])],
            stdin=subprocess.DEVNULL, stdout=fd, stderr=fd, start_new_session=True, close_fds=True, env=env,
            cwd=str(root))
    finally:
        os.close(fd)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            answer = status(path)  # lost a race with another `start`: that one serves
            if answer is not None:
                return answer | {"already_running": True}
            raise ToolchainError(f"the resident prover exited at start (code {proc.returncode}); see {log_path}")
        answer = status(path)
        if answer is not None:
            return answer | {"already_running": False, "log": str(log_path)}
        time.sleep(0.05)
    raise ToolchainError(f"the resident prover did not answer within {wait:.0f} s; see {log_path}")


def stop(*, path: Path | None = None, wait: float = 30.0) -> int | None:
    """Stop the daemon; returns its pid, or ``None`` if none was running."""
    path = path or socket_path()
    try:
        answer = request({"op": "stop"}, path=path, timeout=10.0)
    except (NotRunning, Disconnected):
        return None
    pid = int(answer["pid"])
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and path.exists():
        time.sleep(0.05)
    return pid


def main(argv: list[str] | None = None) -> None:
    """``python -m zksolv.prover.daemon --socket PATH``: serve in the foreground."""
    ap = argparse.ArgumentParser(description="zksolv resident prover (keeps proving keys loaded)")
    ap.add_argument("--socket", type=Path, default=None)
    ap.add_argument("--max-keys", type=int, default=2)
    ap.add_argument("--idle-timeout", type=float, default=0.0, help="stop after this many idle seconds (0: never)")
    ap.add_argument("--workers", type=int, default=None, help="proofs at a time (default: one per core)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        serve(args.socket or socket_path(), max_keys=args.max_keys, idle_timeout=args.idle_timeout,
              workers=args.workers)
    except ZksolvError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()


__all__ = ["SOCKET_ENV", "NotRunning", "Disconnected", "ResidentProver", "socket_path", "serve", "request", "status", "start", "stop",
           "prove_resident", "expected_sha256"]
