"""Content-addressed artifact cache shared safely between processes.

Layout (outside the clone)::

    <cache root>/<kind>/<key>/          one finished artifact directory
    <cache root>/<kind>/<key>/MANIFEST.json   sha256 + size of every file in it
    <cache root>/<kind>/<key>.lock      flock'ed while (re)building

The root is ``$ZKSOLV_CACHE``, else ``$XDG_CACHE_HOME/zksolv``, else
``~/.cache/zksolv``.

:meth:`ArtifactCache.get_or_build` is the whole API: it returns the directory
of a verified artifact, building it first if it is missing or corrupt. Builds
run under an exclusive ``fcntl.flock`` (two processes never build the same
entry twice, the second waits and then reuses), write into a temporary
directory and ``rename`` it into place, so an interrupted build leaves nothing
that looks finished. Every use re-checks the manifest: a truncated or altered
file raises :class:`~zksolv.core.errors.CacheError` internally and the entry is
rebuilt, never used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

from zksolv.core.atomic import atomic_write_text, exclusive_lock, fsync_tree
from zksolv.core.cache_root import cache_dir  # noqa: F401  (re-exported: the one definition, shared with the keeper)
from zksolv.core.errors import CacheError

log = logging.getLogger(__name__)

MANIFEST = "MANIFEST.json"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's contents (streamed)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def content_key(*parts: str | bytes | int | Path) -> str:
    """sha256 hex of ``parts``, each length-prefixed and typed so concatenations cannot collide.

    A :class:`~pathlib.Path` contributes the sha256 of the file's *contents*
    (not its name), so renaming a file keeps the key and editing it changes it.
    """
    h = hashlib.sha256(b"zksolv-cache-v1")
    for part in parts:
        if isinstance(part, Path):
            tag, data = b"F", bytes.fromhex(file_sha256(part))
        elif isinstance(part, bytes):
            tag, data = b"B", part
        elif isinstance(part, bool):
            raise TypeError("content_key: booleans are ambiguous, pass str or int")
        elif isinstance(part, int):
            tag, data = b"I", str(part).encode()
        elif isinstance(part, str):
            tag, data = b"S", part.encode("utf-8")
        else:
            raise TypeError(f"content_key: unsupported part type {type(part).__name__}")
        h.update(tag + len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


def _check_name(what: str, value: str) -> None:
    if not _NAME_RE.match(value):
        raise CacheError(f"invalid cache {what} {value!r}: use letters, digits, '.', '_' and '-'")


def write_manifest(directory: Path) -> dict[str, dict[str, int | str]]:
    """Hash every regular file under ``directory`` into ``MANIFEST.json`` (written atomically)."""
    files: dict[str, dict[str, int | str]] = {}
    for path in sorted(directory.rglob("*")):
        if path.is_symlink():
            raise CacheError(f"cache artifacts may not contain symlinks ({path.name})")
        if path.is_file() and path.name != MANIFEST:
            rel = path.relative_to(directory).as_posix()
            files[rel] = {"sha256": file_sha256(path), "size": path.stat().st_size}
    if not files:
        raise CacheError("builder produced no files")
    atomic_write_text(directory / MANIFEST, json.dumps({"version": 1, "files": files}, indent=1, sort_keys=True))
    return files


def verify_manifest(directory: Path) -> None:
    """Check every file listed in ``MANIFEST.json`` exists with its recorded size and sha256.

    Raises :class:`CacheError` naming the first bad file.
    """
    mpath = directory / MANIFEST
    try:
        manifest = json.loads(mpath.read_text())
        files = manifest["files"]
        if not isinstance(files, dict) or not files:
            raise ValueError("empty")
    except FileNotFoundError:
        raise CacheError(f"cache entry {directory.name}: manifest missing") from None
    except (ValueError, KeyError, TypeError, OSError):
        raise CacheError(f"cache entry {directory.name}: manifest unreadable") from None
    for rel, meta in files.items():
        path = directory / rel
        if ".." in Path(rel).parts or not path.is_file():
            raise CacheError(f"cache entry {directory.name}: {rel} missing")
        if path.stat().st_size != meta.get("size"):
            raise CacheError(f"cache entry {directory.name}: {rel} has the wrong size (truncated?)")
        if file_sha256(path) != meta.get("sha256"):
            raise CacheError(f"cache entry {directory.name}: {rel} does not match its checksum")


class ArtifactCache:
    """A directory of content-addressed, checksummed artifact directories.

    ``builds`` counts the builder calls made through this instance (tests use
    it to check that a second request is a cache hit).
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else cache_dir()
        self.builds = 0

    def path_for(self, kind: str, key: str) -> Path:
        """Directory an entry lives in once built (it may not exist)."""
        _check_name("kind", kind)
        _check_name("key", key)
        return self.root / kind / key

    def lookup(self, kind: str, key: str) -> Path | None:
        """The verified entry directory, or ``None`` if it is missing; raises CacheError if corrupt."""
        path = self.path_for(kind, key)
        if not path.is_dir():
            return None
        verify_manifest(path)
        return path

    def _lock(self, kind: str, key: str) -> contextlib.AbstractContextManager[None]:
        return exclusive_lock(self.path_for(kind, key).with_name(key + ".lock"))

    def get_or_build(self, kind: str, key: str, builder: Callable[[Path], None]) -> Path:
        """Return the directory of entry ``kind/key``, building it with ``builder(staging)`` if needed.

        ``builder`` writes its files into the empty ``staging`` directory it is
        given; it must not keep references to that path (it is renamed). If it
        raises, nothing is cached and the exception propagates.
        """
        with contextlib.suppress(CacheError):
            found = self.lookup(kind, key)
            if found is not None:
                return found
        final = self.path_for(kind, key)
        with self._lock(kind, key):
            # another process may have built (or repaired) it while we waited
            try:
                found = self.lookup(kind, key)
                if found is not None:
                    return found
            except CacheError as exc:
                log.warning("discarding corrupt cache entry %s/%s: %s", kind, key[:12], exc)
                self._discard(final)
            staging = Path(tempfile.mkdtemp(prefix=f".{key[:16]}.", suffix=".building", dir=final.parent))
            try:
                started = time.monotonic()
                self.builds += 1
                builder(staging)
                write_manifest(staging)
                fsync_tree(staging)
                os.chmod(staging, 0o755)
                os.rename(staging, final)
                _fsync_dir(final.parent)
                log.info("built cache entry %s/%s in %.1f s", kind, key[:12], time.monotonic() - started)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        verify_manifest(final)
        return final

    @staticmethod
    def _discard(path: Path) -> None:
        if not path.exists():
            return
        trash = Path(tempfile.mkdtemp(prefix=f".{path.name[:16]}.", suffix=".corrupt", dir=path.parent))
        os.rename(path, trash / "entry")
        shutil.rmtree(trash, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
