"""The market's public hashes kept on disk per market, so a prover hashes a market once.

Every prover process derives the same public values from the oracle's market file: one
Poseidon leaf per instrument, the arity-8 tree above them, and the symbols hash (2.3 s of
pure-Python Poseidon at 2,784 instruments: most of the reference check, more than a 4-position
proof). They depend on nothing but the market, so :func:`prime` keeps them in the zksolv cache
(``markets/<sha256 of the market's JSON>.json``, ~0.2 MB at 2,784 instruments) and hands them to
:mod:`zksolv.core.commitments`' per-market memo. The first proof on a market pays the hashing; later
ones (other accounts or sub-accounts, a retry, a chunked book after a failed chunk, the next run
of a benchmark) read the file.

Prover side only. The keeper never reads this cache: it computes the market root from the
market it trusts (and keeps only that root, per market file, in its own cache:
:mod:`zksolv.core.root_cache`), so a wrong file here can only make this prover's own proof fail
(the circuit re-derives the root from these values). A file that does not parse, does not carry its own
sha256 or was written for another market is recomputed and replaced.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from zksolv.core import commitments
from zksolv.core.atomic import atomic_write_text
from zksolv.core.market import MarketState
from zksolv.core.merkle import MerkleTree
from zksolv.toolchain.cache import cache_dir

FORMAT = 1


def market_key(market: MarketState) -> str:
    """The sha256 of the market's JSON: the name of its cached hashes."""
    return hashlib.sha256(market.to_json().encode()).hexdigest()


def cached_path(market: MarketState, key: str | None = None) -> Path:
    """Where :func:`prime` keeps ``market``'s hashes."""
    return cache_dir() / "markets" / f"{key or market_key(market)}.json"


def prime(market: MarketState) -> bool:
    """Give ``market``'s instrument tree and symbols hash to :mod:`zksolv.core.commitments`, from the
    cache when it holds them (True) or computed here and stored (False)."""
    key = market_key(market)
    path = cached_path(market, key)
    stored = _read(path, key)
    if stored is not None:
        tree, symbols = stored
        commitments.remember(market, "instrument_tree", tree)
        commitments.remember(market, "symbols_hash", symbols)
        return True
    body = {"format": FORMAT, "market": key,
            "levels": [[format(x, "x") for x in level] for level in commitments.instrument_tree(market).levels],
            "symbols_hash": format(commitments.symbols_hash(market), "x")}
    text = json.dumps(body, separators=(",", ":"))
    try:
        atomic_write_text(path, json.dumps({"sha256": hashlib.sha256(text.encode()).hexdigest(), "body": body},
                                           separators=(",", ":")))
    except OSError:
        pass  # a read-only cache only costs the next prover the hashing again
    return False


def _read(path: Path, key: str) -> tuple[MerkleTree, int] | None:
    try:
        data = json.loads(path.read_text())
        body = data["body"]
        text = json.dumps(body, separators=(",", ":"))
        if hashlib.sha256(text.encode()).hexdigest() != data["sha256"] or body["format"] != FORMAT \
                or body["market"] != key:
            return None
        tree = MerkleTree.from_levels([[int(x, 16) for x in level] for level in body["levels"]])
        return tree, int(body["symbols_hash"], 16)
    except (OSError, ValueError, KeyError, TypeError):
        return None
