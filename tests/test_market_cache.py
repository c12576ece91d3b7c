"""The prover's per-market cache of public hashes (:mod:`zksolv.prover.market_cache`).

A market's instrument tree and symbols hash, stored after the first prover process on it, give
the same roots and paths as hashing afresh; a corrupted, foreign or unreadable file is recomputed;
and the keeper side never imports the cache.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from zksolv.prover import market_cache
from zksolv.core import commitments
from zksolv.app.demo import demo_market


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ZKSOLV_CACHE", str(tmp_path))
    return tmp_path


def _fresh():
    return demo_market(n_strikes=5, n_expiries=2)  # a new object: nothing memoised yet


def test_cached_hashes_equal_fresh_ones(cache: Path) -> None:
    first = _fresh()
    assert market_cache.prime(first) is False
    path = market_cache.cached_path(first)
    assert path.parent == cache / "markets" and path.is_file()
    second = _fresh()
    assert market_cache.prime(second) is True
    fresh, stored = commitments.instrument_tree(first), commitments.instrument_tree(second)
    assert stored is not fresh and stored.levels == fresh.levels and stored.root == fresh.root
    assert stored.cap(1) == fresh.cap(1) and stored.path(7, 1) == fresh.path(7, 1)
    assert commitments.market_root(second) == commitments.market_root(first)
    assert commitments.symbols_hash(second) == commitments.symbols_hash(first)
    other = demo_market(n_strikes=5, n_expiries=3)
    assert market_cache.market_key(other) != market_cache.market_key(first)
    assert market_cache.prime(other) is False


@pytest.mark.parametrize("damage", ["truncated", "node", "foreign", "format"])
def test_a_damaged_or_foreign_file_is_recomputed(cache: Path, damage: str) -> None:
    market = _fresh()
    market_cache.prime(market)
    path = market_cache.cached_path(market)
    data = json.loads(path.read_text())
    if damage == "truncated":
        path.write_text(path.read_text()[:100])
    else:
        if damage == "node":
            data["body"]["levels"][0][3] = "1"  # the checksum no longer matches
        elif damage == "foreign":
            data["body"]["market"] = "0" * 64
        else:
            data["body"]["format"] = 99
        if damage != "node":
            text = json.dumps(data["body"], separators=(",", ":"))
            data["sha256"] = __import__("hashlib").sha256(text.encode()).hexdigest()
        path.write_text(json.dumps(data))
    again = _fresh()
    assert market_cache.prime(again) is False
    assert commitments.market_root(again) == commitments.market_root(market)
    assert market_cache.prime(_fresh()) is True  # rewritten


def test_an_unwritable_cache_only_costs_the_hashing(cache: Path) -> None:
    (cache / "markets").write_text("not a folder")
    market = _fresh()
    assert market_cache.prime(market) is False
    assert commitments.market_root(market) == commitments.market_root(_fresh())


def test_remember_refuses_what_is_not_memoised() -> None:
    with pytest.raises(ValueError, match="not a memoised market value"):
        commitments.remember(_fresh(), "params_hash", 1)


def test_the_keeper_never_imports_the_cache() -> None:
    code = ("import sys, zksolv.verifier.verify, zksolv.verifier.keeper, zksolv.verifier.chunked; "
            "print('zksolv.prover.market_cache' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
