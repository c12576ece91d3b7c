"""The venue's size-privacy policy: which circuit shapes (so which size buckets) it accepts.

Positions are private, but the circuit a proof uses is not: a proof in the
4-position tier says "at most 4 positions", a chunked book's chunk count says
"at most 64 x count". The venue decides what may leak by publishing a small
set of buckets with its market state (``"venue"`` in the market JSON):

- ``tiers``: the position capacities of the one-circuit tiers it accepts;
- ``chunk_size`` and ``chunk_counts``: for books beyond the largest tier, the
  one chunk capacity and the chunk counts it accepts.

Provers pad to the smallest accepted tier or count that fits (empty slots and
empty chunks cost nothing in soundness, see docs/fixed_point.md §3 and
docs/chunked.md); keepers refuse any other tier or count; the registry holds
one verifier per accepted tier. With no ``"venue"`` section the defaults apply:
three tiers (4, 16, 64) and power-of-two chunk counts of 64 positions, so a
proof reveals one of 3 + 10 buckets rather than a power of two per size.

The policy is published with the market state but is not part of
``market_root``: no circuit depends on it; it is the keepers' and the
registry's rule, read from the state they trust.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zksolv import fixedpoint as fp
from zksolv.errors import InputError

#: Entry block of the account commitment: chunk capacities are multiples of it
#: (``zksolv.commitments.ENTRY_BLOCK``; repeated here to keep this module import-light).
_ENTRY_BLOCK = 8
#: Most chunks one bundle may have (``verifier.statement.MAX_CHUNKS``).
MAX_CHUNK_COUNT = 4096


@dataclass(frozen=True)
class VenuePolicy:
    """The size buckets a venue accepts (see the module docstring)."""

    tiers: tuple[int, ...] = (4, 16, 64)
    chunk_size: int = 64
    chunk_counts: tuple[int, ...] = (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)

    def validated(self) -> "VenuePolicy":
        """Check every field (ascending, distinct, within the circuits' limits); returns ``self``."""
        _check_ascending("venue.tiers", self.tiers, 1, fp.MAX_POSITIONS)
        fp.check_interval("venue.chunk_size", self.chunk_size, _ENTRY_BLOCK, fp.MAX_POSITIONS)
        if self.chunk_size % _ENTRY_BLOCK:
            raise InputError(f"venue.chunk_size: must be a multiple of {_ENTRY_BLOCK} (the commitment's entry block)")
        _check_ascending("venue.chunk_counts", self.chunk_counts, 1, MAX_CHUNK_COUNT)
        return self

    # ------------------------------------------------------------ the prover's side
    def tier_for(self, n_positions: int) -> int | None:
        """The smallest accepted one-circuit capacity holding ``n_positions``, or None (prove in chunks)."""
        return next((t for t in self.tiers if n_positions <= t), None)

    def chunks_for(self, needed: int) -> int:
        """The smallest accepted chunk count of at least ``needed``; :class:`InputError` if none."""
        count = next((c for c in self.chunk_counts if needed <= c), None)
        if count is None:
            raise InputError(f"positions: the book needs {needed} chunks of {self.chunk_size}; the venue accepts "
                             f"at most {self.chunk_counts[-1]} chunks")
        return count

    # ------------------------------------------------------------ what a proof reveals
    def check_tier(self, capacity: int) -> None:
        """:class:`InputError` unless ``capacity`` is an accepted one-circuit tier."""
        if capacity not in self.tiers:
            raise InputError(f"tier capacity {capacity}: the venue accepts tiers {list(self.tiers)} only")

    def check_chunks(self, chunk_size: int, count: int) -> None:
        """:class:`InputError` unless chunks of ``chunk_size`` and their ``count`` are accepted."""
        if chunk_size != self.chunk_size:
            raise InputError(f"chunk size {chunk_size}: the venue accepts chunks of {self.chunk_size} only")
        if count not in self.chunk_counts:
            raise InputError(f"{count} chunks: the venue accepts chunk counts {list(self.chunk_counts)} only")

    # ------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        return {"tiers": list(self.tiers), "chunk_size": self.chunk_size, "chunk_counts": list(self.chunk_counts)}

    @classmethod
    def from_dict(cls, data: Any) -> "VenuePolicy":
        """Parse the market JSON's ``"venue"`` object (every field optional: the default)."""
        if not isinstance(data, dict):
            raise InputError("market.venue: expected a JSON object")
        unknown = set(data) - {"tiers", "chunk_size", "chunk_counts"}
        if unknown:
            raise InputError(f"market.venue: unknown field {sorted(unknown)[0]!r}")
        default = cls()
        return cls(
            tiers=_int_tuple("market.venue.tiers", data.get("tiers", list(default.tiers))),
            chunk_size=_int("market.venue.chunk_size", data.get("chunk_size", default.chunk_size)),
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
