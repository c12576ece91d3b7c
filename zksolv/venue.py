"""The venue's size-privacy policy: which circuit shapes (so which size buckets) it accepts.

Positions are private, but the circuit a proof uses is not: a proof in the
4-position tier says "at most 4 positions", a chunked book's chunk count says
"at most 64 x count". The venue decides what may leak by publishing a small
set of buckets with its market state (``"venue"`` in the market JSON):

- ``tiers``: the position capacities of the one-circuit tiers it accepts;
- ``chunk_sizes`` and ``chunk_counts``: the chunk capacities and the chunk
  counts it accepts for chunked books. Books beyond the largest tier use the
  largest size; a smaller one lets a book that fits a tier be proven as
  parallel chunks on several cores (``zksolv prove --chunk-size 32``: lower
  latency, k + 1 proofs for the keeper, not taken by the on-chain registry).

Provers pad to the smallest accepted tier or count that fits (empty slots and
empty chunks cost nothing in soundness, see docs/fixed_point.md §3 and
docs/chunked.md); keepers refuse any other tier, size or count; the registry
holds one verifier per accepted tier. With no ``"venue"`` section the defaults
apply: three tiers (4, 16, 64), chunks of 32 or 64 positions and power-of-two
counts from 2, so a proof reveals one of 13 capacities (4, 16, 64, 128, ...,
65,536) rather than a power of two per size: 2 chunks of 32 say "at most 64",
as the 64 tier does, and 2k chunks of 32 say what k chunks of 64 say.

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
    chunk_sizes: tuple[int, ...] = (32, 64)
    chunk_counts: tuple[int, ...] = (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)

    def validated(self) -> "VenuePolicy":
        """Check every field (ascending, distinct, within the circuits' limits); returns ``self``."""
        _check_ascending("venue.tiers", self.tiers, 1, fp.MAX_POSITIONS)
        _check_ascending("venue.chunk_sizes", self.chunk_sizes, _ENTRY_BLOCK, fp.MAX_POSITIONS)
        for i, size in enumerate(self.chunk_sizes):
            if size % _ENTRY_BLOCK:
                raise InputError(f"venue.chunk_sizes[{i}]: must be a multiple of {_ENTRY_BLOCK} "
                                 "(the commitment's entry block)")
        _check_ascending("venue.chunk_counts", self.chunk_counts, 1, MAX_CHUNK_COUNT)
        return self

    @property
    def chunk_size(self) -> int:
        """The chunk capacity of books beyond the largest tier: the largest accepted (fewest proofs)."""
        return self.chunk_sizes[-1]

    # ------------------------------------------------------------ the prover's side
    def tier_for(self, n_positions: int) -> int | None:
        """The smallest accepted one-circuit capacity holding ``n_positions``, or None (prove in chunks)."""
        return next((t for t in self.tiers if n_positions <= t), None)

    def chunks_for(self, needed: int, chunk_size: int | None = None) -> int:
        """The smallest accepted chunk count of at least ``needed`` (chunks of ``chunk_size``, default
        :attr:`chunk_size`; it only names the size in the error); :class:`InputError` if none."""
        count = next((c for c in self.chunk_counts if needed <= c), None)
        if count is None:
            raise InputError(f"positions: the book needs {needed} chunks of {chunk_size or self.chunk_size}; the "
                             f"venue accepts at most {self.chunk_counts[-1]} chunks")
        return count

    # ------------------------------------------------------------ what a proof reveals
    def check_tier(self, capacity: int) -> None:
        """:class:`InputError` unless ``capacity`` is an accepted one-circuit tier."""
        if capacity not in self.tiers:
            raise InputError(f"tier capacity {capacity}: the venue accepts tiers {list(self.tiers)} only")

    def check_chunks(self, chunk_size: int, count: int) -> None:
        """:class:`InputError` unless chunks of ``chunk_size`` and their ``count`` are accepted."""
        if chunk_size not in self.chunk_sizes:
            raise InputError(f"chunk size {chunk_size}: the venue accepts chunks of {_or(self.chunk_sizes)} only")
        if count not in self.chunk_counts:
            raise InputError(f"{count} chunks: the venue accepts chunk counts {list(self.chunk_counts)} only")

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
        sizes = ((_int("market.venue.chunk_size", data["chunk_size"]),) if "chunk_size" in data else
                 _int_tuple("market.venue.chunk_sizes", data.get("chunk_sizes", list(default.chunk_sizes))))
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


def _or(values: tuple[int, ...]) -> str:
    """``64``, ``32 or 64``, ``8, 16 or 32``."""
    return f"{', '.join(map(str, values[:-1]))} or {values[-1]}" if len(values) > 1 else str(values[0])


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
