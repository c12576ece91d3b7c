"""The venue's size-privacy policy: which circuit shapes (so which size buckets) it accepts.

Positions are private, but the circuit a proof uses is not: a proof in the
4-position tier says "at most 4 positions", a chunked book's chunk count says
"at most 64 x count". The venue decides what may leak by publishing a small
set of buckets with its market state (``"venue"`` in the market JSON):

- ``tiers``: the position capacities of the one-circuit tiers it accepts;
- ``chunk_sizes`` and ``chunk_counts``: the chunk capacities and the chunk
  counts it accepts for chunked books.

Its **size buckets** are the tiers and ``largest chunk size x count`` for
each accepted count; books beyond the largest tier are chunked at the largest
size. A smaller chunk size never adds a bucket: chunks of it are accepted only
in counts that fill an existing bucket (``count x size`` a tier or a bucket of
the largest size). It exists for speed, not resolution: a book that fits a
tier can be proven as parallel chunks on several cores (``zksolv prove
--chunk-size 32``: lower latency, k + 1 proofs for the keeper, not taken by
the on-chain registry).

Provers pad to the smallest accepted tier or count that fits (empty slots and
empty chunks cost nothing in soundness, see docs/fixed_point.md §3 and
docs/chunked.md); keepers refuse any other shape, with the reason
:meth:`VenuePolicy.refusal` gives; the registry holds one verifier per
accepted tier. With no ``"venue"`` section the defaults apply: three tiers
(4, 16, 64), chunks of 32 or 64 positions and power-of-two counts from 2, so a
proof reveals one of 13 capacities (4, 16, 64, 128, ..., 65,536) rather than a
power of two per size: 2 chunks of 32 say "at most 64", as the 64 tier does.

The policy is published with the market state but is not part of
``market_root``: no circuit depends on it; it is the keepers' and the
registry's rule, read from the state they trust.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zksolv.core import fixedpoint as fp
from zksolv.core.errors import InputError

#: Entry block of the account commitment: chunk capacities are multiples of it
#: (``zksolv.core.commitments.ENTRY_BLOCK``; repeated here to keep this module import-light).
_ENTRY_BLOCK = 8
#: Most chunks one bundle may have (``zksolv.proofs.statement.MAX_CHUNKS``).
MAX_CHUNK_COUNT = 4096


@dataclass(frozen=True)
class VenuePolicy:
    """The size buckets a venue accepts (see the module docstring)."""

    tiers: tuple[int, ...] = (4, 16, 64)
    chunk_sizes: tuple[int, ...] = (32, 64)
    chunk_counts: tuple[int, ...] = (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)

    def __post_init__(self) -> None:
        for name in ("tiers", "chunk_sizes", "chunk_counts"):  # lists from library callers: hashable tuples
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))

    def validated(self) -> "VenuePolicy":
        """Check every field (ascending, distinct, within the circuits' limits); returns ``self``."""
        _check_ascending("venue.tiers", self.tiers, 1, fp.MAX_POSITIONS)
        _check_ascending("venue.chunk_sizes", self.chunk_sizes, _ENTRY_BLOCK, fp.MAX_POSITIONS)
        for i, size in enumerate(self.chunk_sizes):
            _check_chunk_size(f"venue.chunk_sizes[{i}]", size)
        _check_ascending("venue.chunk_counts", self.chunk_counts, 1, MAX_CHUNK_COUNT)
        return self

    @property
    def chunk_size(self) -> int:
        """The chunk capacity of books beyond the largest tier: the largest accepted (fewest proofs)."""
        return self.chunk_sizes[-1]

    @property
    def capacities(self) -> frozenset[int]:
        """The size buckets: the tiers and the largest chunk size times each accepted count."""
        return frozenset(self.tiers) | {self.chunk_size * c for c in self.chunk_counts}

    # ------------------------------------------------------------ the prover's side
    def tier_for(self, n_positions: int) -> int | None:
        """The smallest accepted one-circuit capacity holding ``n_positions``, or None (prove in chunks)."""
        return next((t for t in self.tiers if n_positions <= t), None)

    def chunks_for(self, needed: int, chunk_size: int | None = None) -> int:
        """The smallest accepted count of at least ``needed`` chunks of ``chunk_size`` (default
        :attr:`chunk_size`) whose capacity is a bucket; :class:`InputError` if none. A size the venue
        does not list is padded by count alone (the library proves it; keepers refuse it)."""
        size = chunk_size or self.chunk_size
        counts = [c for c in self.chunk_counts if size not in self.chunk_sizes or self.refusal(size, c) is None]
        count = next((c for c in counts if needed <= c), None)
        if count is None:
            most = f"at most {counts[-1]} chunks of {size}" if counts else f"no chunks of {size}"
            raise InputError(f"positions: the book needs {needed} chunks of {size}; the venue accepts {most}")
        return count

    # ------------------------------------------------------------ what a proof reveals
    def refusal(self, capacity: int | None, chunks: int | None = None) -> str | None:
        """Why the venue refuses a proof of this shape, or None if it accepts it.

        One circuit of ``capacity`` positions when ``chunks`` is None; otherwise ``chunks`` chunks
        of ``capacity`` (``capacity`` None: not known, only the count is checked). Provers and
        keepers give the same reasons."""
        if chunks is None:
            if capacity not in self.tiers:
                return f"tier capacity {capacity}: the venue accepts tiers {list(self.tiers)} only"
            return None
        if capacity is not None and capacity not in self.chunk_sizes:
            return f"chunk size {capacity}: the venue accepts chunk sizes {list(self.chunk_sizes)} only"
        if chunks not in self.chunk_counts:
            return f"{chunks} chunks: the venue accepts chunk counts {list(self.chunk_counts)} only"
        if capacity is not None and capacity * chunks not in self.capacities:
            return (f"{chunks} chunks of {capacity} = {capacity * chunks} positions: not one of the venue's size "
                    f"buckets {sorted(self.capacities)}")
        return None

    def check_tier(self, capacity: int) -> None:
        """:class:`InputError` unless ``capacity`` is an accepted one-circuit tier."""
        reason = self.refusal(capacity)
        if reason:
            raise InputError(reason)

    def check_chunks(self, chunk_size: int, count: int) -> None:
        """:class:`InputError` unless ``count`` chunks of ``chunk_size`` are an accepted shape."""
        reason = self.refusal(chunk_size, count)
        if reason:
            raise InputError(reason)

    # ------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        return {"tiers": list(self.tiers), "chunk_sizes": list(self.chunk_sizes), "chunk_counts": list(self.chunk_counts)}

    @classmethod
    def from_dict(cls, data: Any) -> "VenuePolicy":
        """Parse the market JSON's ``"venue"`` object (every field optional: the default).

        ``"chunk_size": n`` (one size, the format before ``chunk_sizes``) reads as ``"chunk_sizes": [n]``."""
        if not isinstance(data, dict):
            raise InputError("market.venue: expected a JSON object")
        unknown = set(data) - {"tiers", "chunk_sizes", "chunk_size", "chunk_counts"}
        if unknown:
            raise InputError(f"market.venue: unknown field {sorted(unknown)[0]!r}")
        if "chunk_size" in data and "chunk_sizes" in data:
            raise InputError("market.venue: give chunk_sizes or the older chunk_size, not both")
        default = cls()
        if "chunk_size" in data:
            sizes: tuple[int, ...] = (_check_chunk_size("market.venue.chunk_size",
                                                         _int("market.venue.chunk_size", data["chunk_size"])),)
        else:
            sizes = _int_tuple("market.venue.chunk_sizes", data.get("chunk_sizes", list(default.chunk_sizes)))
        return cls(
            tiers=_int_tuple("market.venue.tiers", data.get("tiers", list(default.tiers))),
            chunk_sizes=sizes,
            chunk_counts=_int_tuple("market.venue.chunk_counts", data.get("chunk_counts", list(default.chunk_counts))),
        ).validated()


#: The policy of a market state without a ``"venue"`` section.
DEFAULT_POLICY = VenuePolicy()


def bucket(capacity: int | None = None, *, chunk_size: int | None = None, chunks: int | None = None) -> dict[str, Any]:
    """What a proof reveals about the book's size, as a JSON-ready dict (``zksolv prove`` prints it)."""
    if chunks is None:
        return {"kind": "one circuit", "capacity": capacity}
    assert chunk_size is not None
    return {"kind": "chunks", "chunks": chunks, "chunk_size": chunk_size, "capacity": chunks * chunk_size}


def _check_chunk_size(field: str, size: int) -> int:
    """``size`` if it is a chunk capacity the circuits allow; :class:`InputError` naming ``field`` otherwise."""
    fp.check_interval(field, size, _ENTRY_BLOCK, fp.MAX_POSITIONS)
    if size % _ENTRY_BLOCK:
        raise InputError(f"{field}: must be a multiple of {_ENTRY_BLOCK} (the commitment's entry block)")
    return size


def _int(field: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{field}: expected an integer")
    return value


def _int_tuple(field: str, value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise InputError(f"{field}: expected a non-empty list of integers")
    return tuple(_int(f"{field}[{i}]", v) for i, v in enumerate(value))


def _check_ascending(field: str, values: tuple[int, ...], lo: int, hi: int) -> None:
    if not values:
        raise InputError(f"{field}: must not be empty")
    for i, v in enumerate(values):
        fp.check_interval(f"{field}[{i}]", v, lo, hi)
        if i and v <= values[i - 1]:
            raise InputError(f"{field}: must be strictly increasing")
