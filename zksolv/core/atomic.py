"""Atomic file writes: a reader sees the old file or the whole new one, never half.

Write to a temporary file in the same directory, fsync, then ``os.replace``
(atomic on POSIX). Used for every artifact zksolv writes: market and account
files, proofs, cached keys.

A failed write raises :class:`WriteError` (an :class:`OSError`) whose ``filename``
is the *target* path, not the temporary file, so callers can name the path the
user asked for.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator


class WriteError(OSError):
    """Writing a file failed; ``filename`` is the path that was to be written."""

    def __str__(self) -> str:
        return f"cannot write {self.filename}: {self.strerror}"


def _write_error(exc: OSError, path: Path) -> WriteError:
    code = exc.errno
    if isinstance(exc, FileExistsError):  # mkdir(exist_ok=True) on a parent that is a regular file
        code = errno.ENOTDIR
    return WriteError(code, os.strerror(code) if code else str(exc), str(path))


def check_writable(path: Path, *, folder: bool = False) -> None:
    """Raise :class:`WriteError` naming ``path`` unless it can be written (a file, or with
    ``folder`` a folder), without creating anything that stays.

    Checks, before any work: an existing ``path`` of the wrong kind (a folder where a file
    goes, or a file where a folder goes); the nearest existing ancestor is a folder (not a
    regular file); and a temporary file can be created and removed there (which catches
    missing permissions and read-only file systems as the real write would).
    """
    path = Path(path)
    if path.exists():
        if folder and not path.is_dir():
            raise WriteError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))
        if not folder and path.is_dir():
            raise WriteError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    probe = path if folder and path.is_dir() else path.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise WriteError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".zksolv-probe.", suffix=".tmp", dir=probe)
    except OSError as exc:
        raise _write_error(exc, path) from None
    os.close(fd)
    os.unlink(tmp)


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` atomically (parent directories are created).

    Raises :class:`WriteError` naming ``path`` if it cannot be written.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _write_error(exc, path) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, WriteError):
            raise _write_error(exc, path) from exc
        raise


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"), mode)


def fsync_tree(root: Path) -> None:
    """fsync every file below ``root`` (before a directory is renamed into place)."""
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created with its folder if missing) for the block:
    concurrent processes building the same thing wait for each other instead of racing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def replace_dir(staging: Path, final: Path) -> None:
    """Move the finished directory ``staging`` to ``final`` (same filesystem), replacing an existing one.

    ``final`` is at every moment absent, the old directory, or the complete new one.
    """
    staging, final = Path(staging), Path(final)
    if final.exists():
        trash = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=final.parent))
        os.rename(final, trash / "old")
        os.rename(staging, final)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.rename(staging, final)


@contextlib.contextmanager
def staged_dir(final: Path) -> Iterator[Path]:
    """Yield an empty staging directory next to ``final``; on success it replaces ``final``
    (:func:`replace_dir`), on any exception it is removed and ``final`` is untouched.

    Raises :class:`WriteError` naming ``final`` if its parent cannot be created or written.
    """
    final = Path(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    except OSError as exc:
        raise _write_error(exc, final) from None
    try:
        yield staging
        fsync_tree(staging)
        os.chmod(staging, 0o755)
        replace_dir(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
