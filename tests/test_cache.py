"""Tests of zksolv.toolchain.cache: keys, build-once, corruption detection, locking across processes."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from zksolv.toolchain.cache import MANIFEST, ArtifactCache, cache_dir, content_key, verify_manifest
from zksolv.core.errors import CacheError


def _builder(calls: list[int], payload: bytes = b"x" * 1000):
    def build(staging: Path) -> None:
        calls.append(1)
        (staging / "a.bin").write_bytes(payload)
        (staging / "sub").mkdir()
        (staging / "sub" / "b.txt").write_text("hello")

    return build


def test_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZKSOLV_CACHE", str(tmp_path / "z"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "z"
    monkeypatch.delenv("ZKSOLV_CACHE")
    assert cache_dir() == tmp_path / "x" / "zksolv"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "zksolv"


def test_content_key(tmp_path: Path) -> None:
    assert content_key("ab", "c") != content_key("a", "bc")  # length-prefixed
    assert content_key("1") != content_key(1)  # typed
    assert content_key(b"x") != content_key("x")
    f1, f2 = tmp_path / "one", tmp_path / "two"
    f1.write_bytes(b"same")
    f2.write_bytes(b"same")
    assert content_key(f1) == content_key(f2)  # a Path contributes its contents
    f2.write_bytes(b"different")
    assert content_key(f1) != content_key(f2)
    assert len(content_key()) == 64
    with pytest.raises(TypeError):
        content_key(True)


def test_build_once_then_hit(tmp_path: Path) -> None:
    calls: list[int] = []
    cache = ArtifactCache(tmp_path)
    key = content_key("t")
    entry = cache.get_or_build("thing", key, _builder(calls))
    assert (entry / "a.bin").read_bytes() == b"x" * 1000
    assert (entry / "sub" / "b.txt").read_text() == "hello"
    manifest = json.loads((entry / MANIFEST).read_text())
    assert set(manifest["files"]) == {"a.bin", "sub/b.txt"}
    # a second instance (as in a second process / CI run) hits the cache
    again = ArtifactCache(tmp_path)
    assert again.get_or_build("thing", key, _builder(calls)) == entry
    assert calls == [1] and again.builds == 0
    # no staging directories left behind
    assert [p.name for p in (tmp_path / "thing").iterdir() if not p.name.endswith(".lock")] == [key]


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete", "manifest", "bad-manifest"])
def test_corrupt_entry_is_detected_and_rebuilt(tmp_path: Path, damage: str) -> None:
    calls: list[int] = []
    cache = ArtifactCache(tmp_path)
    key = content_key("t", damage)
    entry = cache.get_or_build("thing", key, _builder(calls))
    target = entry / "a.bin"
    if damage == "truncate":
        target.write_bytes(b"x" * 10)
    elif damage == "flip":
        target.write_bytes(b"y" + b"x" * 999)  # same size, different content
    elif damage == "delete":
        target.unlink()
    elif damage == "manifest":
        (entry / MANIFEST).unlink()
    else:
        (entry / MANIFEST).write_text("{not json")
    with pytest.raises(CacheError):
        verify_manifest(entry)
    with pytest.raises(CacheError):
        cache.lookup("thing", key)
    rebuilt = cache.get_or_build("thing", key, _builder(calls))
    assert calls == [1, 1]
    assert (rebuilt / "a.bin").read_bytes() == b"x" * 1000
    verify_manifest(rebuilt)


def test_failed_build_caches_nothing(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path)

    def broken(staging: Path) -> None:
        (staging / "half.bin").write_bytes(b"partial")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        cache.get_or_build("thing", "k1", broken)
    assert cache.lookup("thing", "k1") is None
    assert not [p for p in (tmp_path / "thing").iterdir() if not p.name.endswith(".lock")]


def test_empty_build_and_bad_names_rejected(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path)
    with pytest.raises(CacheError):
        cache.get_or_build("thing", "k2", lambda staging: None)
    with pytest.raises(CacheError):
        cache.path_for("../escape", "k")
    with pytest.raises(CacheError):
        cache.path_for("thing", "a/b")


def _concurrent_worker(root: str, counter: str) -> None:
    def build(staging: Path) -> None:
        with open(counter, "a") as fh:  # one line per builder call, across processes
            fh.write("built\n")
        import time

        time.sleep(0.5)  # hold the lock long enough for the other process to queue
        (staging / "out.txt").write_text("done")

    entry = ArtifactCache(Path(root)).get_or_build("thing", "shared", build)
    assert (entry / "out.txt").read_text() == "done"


def test_two_processes_build_once(tmp_path: Path) -> None:
    counter = tmp_path / "counter.txt"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_concurrent_worker, args=(str(tmp_path / "c"), str(counter))) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert counter.read_text().count("built") == 1
