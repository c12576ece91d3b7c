"""The keeper's memo of the market roots it computed, keyed by the sha256 of the market file's bytes.

A keeper recomputes ``market_root`` from the market file it trusts (the oracle's), and that is
most of a ``zksolv verify`` process: 1.0-1.3 s of Poseidon at 3,780 instruments with the native
library, 2.4 s in pure Python, several seconds at 11,324. The root depends on nothing but the
file's bytes and this installation's code, so :func:`load_market` keeps each root it computes in
``<cache>/keeper/roots/<sha256 of the file>.json`` and the next process reading the *same bytes*
takes it from there instead of hashing again. The first process on an epoch's market pays the
hashing; every later one (one ``zksolv verify`` per account, a restarted daemon, the keeper
service's passes over an open epoch) reads one small file.

Why a keeper may trust it:

- **It is the keeper's own state**, written only by this code after computing the root itself
  (never the prover's :mod:`zksolv.prover.market_cache`, never anything shipped with a proof),
  in the keeper's cache folder (``$ZKSOLV_CACHE``, else ``$XDG_CACHE_HOME/zksolv``, else
  ``~/.cache/zksolv``). Whoever can write that folder can as well edit the keeper's
  installed code, so it carries the same trust as the keeper's virtualenv: keep it owned by
  the keeper's user, not world-writable (or turn the cache off).
- **The key is the file, not its name**: ``sha256`` of the exact bytes read; a market with one
  byte changed is another entry. The market is still parsed, validated and audited from those
  bytes on every load (:meth:`MarketState.load`): a bad market is refused as before; only the
  hashing is skipped.
- **Bound to the implementation**: each entry names :data:`FORMAT` and a fingerprint of this
  installation's ``zksolv/core`` sources (the market parser, the commitments, Poseidon, the
  Merkle tree, the fixed-point rules), so a zksolv that computes the root differently never
  reads an older zksolv's entries.
- **Self-checked**: an entry that does not parse, whose sha256 over its body does not match,
  that names another format, fingerprint, file hash, epoch or instrument count than the market
  just parsed, or whose root is not a field element is ignored, and the root is recomputed and
  the entry replaced. The sha256 catches a torn or corrupted file; it is no signature (anyone
  who can write the folder can write a consistent entry: the first point is what covers that).
- **Off when asked**: ``zksolv verify --no-cache``, ``python -m zksolv.verifier.keeper --no-cache``,
  ``zksolv keeper run --no-cache``, or ``ZKSOLV_ROOT_CACHE=off`` in the environment recompute the
  root and neither read nor write an entry. A cache that cannot be written (read-only, full)
  only costs the next process the hashing.

Stdlib and :mod:`zksolv.core` only (the keeper's path: no node, numba, numpy or circuit code).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from zksolv.core import commitments
from zksolv.core.atomic import atomic_write_text
from zksolv.core.cache_root import cache_dir
from zksolv.core.errors import InputError
from zksolv.core.fixedpoint import FIELD_MODULUS
from zksolv.core.market import MarketState, load_json_text

#: Version of an entry's layout and of the root's definition it was computed under.
FORMAT = 1
#: ``off``, ``0``, ``no`` or ``false`` turns the cache off (read and write) for the process.
ENV = "ZKSOLV_ROOT_CACHE"
_OFF = ("off", "0", "no", "false")


def enabled(use_cache: bool = True) -> bool:
    """Whether the root cache is used: ``use_cache`` (a command's ``--no-cache`` gives False) and
    ``$ZKSOLV_ROOT_CACHE`` not set to ``off`` / ``0`` / ``no`` / ``false``."""
    return use_cache and os.environ.get(ENV, "").strip().lower() not in _OFF


@functools.lru_cache(maxsize=1)
def implementation() -> str | None:
    """sha256 over this installation's ``zksolv/core`` sources (names and bytes), or None if they
    cannot be read (then nothing is cached). Every module a market's parse and root depend on lives there."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256(f"format {FORMAT}\n".encode())
    try:
        for path in sorted(here.glob("*.py")):
            data = path.read_bytes()
            digest.update(f"{path.name} {len(data)}\n".encode())
            digest.update(data)
    except OSError:
        return None
    return digest.hexdigest()


def entry_path(market_sha256: str) -> Path:
    """Where the root of the market file with this sha256 is kept."""
    return cache_dir() / "keeper" / "roots" / f"{market_sha256}.json"


def load_market(path: str | Path, *, use_cache: bool = True) -> MarketState:
    """Read, parse, validate and audit a market file (as :meth:`MarketState.load`) and give it its
    ``market_root``: from the keeper's cache when an entry for these exact bytes checks out,
    otherwise computed here and stored. Errors are :meth:`MarketState.load`'s (an
    :class:`InputError` naming the file or field)."""
    data = _read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"market file {str(path)!r}: cannot be read (UnicodeDecodeError)") from None
    market = MarketState.from_dict(load_json_text(text, "market"))
    if enabled(use_cache):
        prime_root(market, hashlib.sha256(data).hexdigest())
    return market


def prime_root(market: MarketState, market_sha256: str) -> bool:
    """Give ``market`` (parsed from the file whose bytes have ``market_sha256``) its root for
    :func:`zksolv.core.commitments.market_root`: read from the cache (True) or computed and
    stored (False)."""
    impl = implementation()
    if impl is None:
        commitments.market_root(market)
        return False
    path = entry_path(market_sha256)
    root = _read(path, market, market_sha256, impl)
    if root is not None:
        commitments.remember(market, "market_root", root)
        return True
    root = commitments.market_root(market)
    body = {"format": FORMAT, "implementation": impl, "market_sha256": market_sha256, "epoch": market.epoch,
            "instruments": len(market.instruments), "market_root": str(root)}
    try:
        atomic_write_text(path, json.dumps({"sha256": _body_sha256(body), "body": body}, separators=(",", ":")))
    except OSError:  # WriteError is an OSError: a read-only or full cache costs the next process the hashing
        pass
    return False


def _read(path: Path, market: MarketState, market_sha256: str, impl: str) -> int | None:
    """The root an entry holds, or None when it is absent or does not check out for this market."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        body = data["body"]
        if (not isinstance(body, dict) or data["sha256"] != _body_sha256(body) or body["format"] != FORMAT
                or body["implementation"] != impl or body["market_sha256"] != market_sha256
                or body["epoch"] != market.epoch or body["instruments"] != len(market.instruments)):
            return None
        text = body["market_root"]
        if not isinstance(text, str) or not text.isascii() or not text.isdigit() or len(text) > 80:
            return None
        root = int(text)
        return root if root < FIELD_MODULUS else None
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None


def _body_sha256(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _read_bytes(path: str | Path) -> bytes:
    """The file's bytes, OS errors as :class:`InputError` (as :func:`zksolv.core.market.read_text`)."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"market file {str(path)!r}: not found") from None
    except OSError as exc:
        raise InputError(f"market file {str(path)!r}: cannot be read ({type(exc).__name__})") from None
