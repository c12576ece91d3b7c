"""The venue's size-privacy policy: which circuit shapes (so which size buckets) it accepts.

Positions are private, but the circuit a proof uses is not: a proof in the
4-position tier says "at most 4 positions", a chunked book's chunk count says
"at most 64 x count". The venue decides what may leak by publishing a small
set of buckets with its market state (``"venue"`` in the market JSON):

- ``tiers``: the position capacities of the one-circuit tiers it accepts;
- ``chunk_sizes`` and ``chunk_counts``: the chunk capacities and the chunk
  counts it accepts for chunked books;
- ``groups`` (optional, none by default): the group counts G of the grouped
  circuits it also accepts, for every tier and chunk size above. A grouped
  circuit (``_g<G>`` in its name, docs/design.md "Grouped openings") opens the
  leaves of a clustered book through G groups of 8 instruments instead of a path
  per position: far fewer constraints, and it reveals one more thing: how many
  groups of 8 adjacent listings the book (or its busiest chunk) touches, to within
  the venue's counts. The prover's default is the smallest listed count that holds
  the book, so a ``_g<G>`` proof says "more than the next smaller count, at most G",
  and a plain proof of a tier where grouping would pay says "more than the largest
  count" (or that the trader chose ``--groups 0``). A venue that wants one bit lists
  one count; a trader may always prove with any larger listed count, or none.

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
(4, 16, 64), chunks of 32 or 64 positions and chunk counts from 2 to 1,024 in
steps of a quarter of a doubling (:func:`geometric_counts`: ratio 2^(1/4) ≈ 1.19,
35 counts), so a proof reveals one of 38 capacities (4, 16, 64, 128, 192, ...,
65,536) and a chunked book pays at most 1.19x its chunk proofs for it (1.08x on
average over 1,000-10,000 positions). Powers of two alone reveal a bit less
(13 capacities) and cost up to 2x; :func:`padding_profile` gives both sides of
the trade-off for any policy (docs/soundness.md, "What size privacy costs").
2 chunks of 32 say "at most 64", as the 64 tier does.

The policy is published with the market state but is not part of
``market_root``: no circuit depends on it; it is the keepers' and the
registry's rule, read from the state they trust.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from zksolv.core import fixedpoint as fp
from zksolv.core.errors import InputError

#: Entry block of the account commitment: chunk capacities are multiples of it
#: (``zksolv.core.commitments.ENTRY_BLOCK``; repeated here to keep this module import-light).
_ENTRY_BLOCK = 8
#: Most chunks one bundle may have (``zksolv.proofs.statement.MAX_CHUNKS``).
MAX_CHUNK_COUNT = 4096
#: Accepted chunk counts per doubling of the book in the default policy (ratio 2^(1/4) between counts).
DEFAULT_STEPS_PER_DOUBLING = 4


def chunks_needed(n_positions: int, chunk_size: int) -> int:
    """Chunks of ``chunk_size`` a book of ``n_positions`` needs (at least one)."""
    return max(1, -(-n_positions // chunk_size))


def _int(field: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{field}: expected an integer")
    return value


def geometric_counts(steps_per_doubling: int, first: int = 2, last: int = 1024) -> tuple[int, ...]:
    """Chunk counts from ``first`` to ``last`` spaced by the ratio ``2 ** (1 / steps_per_doubling)``,
    rounded to integers (repeats dropped): 1 gives the powers of two, 4 the default policy's 35
    counts. More steps: less padding (at most about that ratio), more buckets a keeper can tell apart."""
    for name, value in (("steps_per_doubling", steps_per_doubling), ("first", first), ("last", last)):
        _int(name, value)
    if steps_per_doubling < 1:
        raise InputError(f"steps_per_doubling: must be at least 1, got {steps_per_doubling}")
    if not 1 <= first <= last <= MAX_CHUNK_COUNT:
        raise InputError(f"chunk counts {first}..{last}: must satisfy 1 <= first <= last <= {MAX_CHUNK_COUNT}")
    doublings = math.log2(last / first)
    counts = {min(last, round(first * 2 ** (k / steps_per_doubling)))
              for k in range(math.ceil(doublings * steps_per_doubling) + 1)}
    return tuple(sorted(counts | {last}))


@dataclass(frozen=True)
class VenuePolicy:
    """The size buckets a venue accepts (see the module docstring)."""

    tiers: tuple[int, ...] = (4, 16, 64)
    chunk_sizes: tuple[int, ...] = (32, 64)
    chunk_counts: tuple[int, ...] = geometric_counts(DEFAULT_STEPS_PER_DOUBLING)
    groups: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for name in ("tiers", "chunk_sizes", "chunk_counts", "groups"):  # lists from library callers: hashable tuples
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
        if self.groups:
            _check_ascending("venue.groups", self.groups, 1, fp.MAX_POSITIONS)
        return self

    @property
    def chunk_size(self) -> int:
        """The chunk capacity of books beyond the largest tier: the largest accepted (fewest proofs)."""
        return self.chunk_sizes[-1]

    @cached_property
    def capacities(self) -> frozenset[int]:
        """The size buckets: the tiers and the largest chunk size times each accepted count (computed
        once per policy: every padding and refusal looks it up)."""
        return frozenset(self.tiers) | {self.chunk_size * c for c in self.chunk_counts}

    def accepted_counts(self, chunk_size: int | None = None) -> tuple[int, ...]:
        """The counts of chunks of ``chunk_size`` (default :attr:`chunk_size`) a prover may pad to,
        ascending: those whose capacity is a bucket; every count for a size the venue does not list
        (the library proves it; keepers refuse it). One pass over the counts."""
        size = chunk_size or self.chunk_size
        if size not in self.chunk_sizes:
            return self.chunk_counts
        return tuple(c for c in self.chunk_counts if size * c in self.capacities)

    # ------------------------------------------------------------ the prover's side
    def tier_for(self, n_positions: int) -> int | None:
        """The smallest accepted one-circuit capacity holding ``n_positions``, or None (prove in chunks)."""
        return next((t for t in self.tiers if n_positions <= t), None)

    def chunks_for(self, needed: int, chunk_size: int | None = None) -> int:
        """The smallest accepted count of at least ``needed`` chunks of ``chunk_size`` (default
        :attr:`chunk_size`) whose capacity is a bucket; :class:`InputError` if none. A size the venue
        does not list is padded by count alone (the library proves it; keepers refuse it)."""
        size = chunk_size or self.chunk_size
        counts = self.accepted_counts(size)
        at = bisect.bisect_left(counts, needed)
        if at == len(counts):
            most = f"at most {counts[-1]} chunks of {size}" if counts else f"no chunks of {size}"
            raise InputError(f"positions: the book needs {needed} chunks of {size}; the venue accepts {most}")
        return counts[at]

    def padding(self, n_positions: int, chunk_size: int | None = None) -> "Padding":
        """The shape a book of ``n_positions`` is proven in under this policy, against what it needs:
        the smallest tier holding it, else chunks of ``chunk_size`` (default :attr:`chunk_size`)
        padded to an accepted count (:meth:`chunks_for`). ``chunk_size`` given: chunks even when a
        tier would hold the book, as ``zksolv prove --chunk-size`` does."""
        tier = self.tier_for(n_positions) if chunk_size is None else None
        if tier is not None:
            return Padding(n_positions, None, n_positions, tier)
        size = chunk_size or self.chunk_size
        needed = chunks_needed(n_positions, size)
        return Padding(n_positions, size, needed, self.chunks_for(needed, size))

    # ------------------------------------------------------------ what a proof reveals
    def refusal(self, capacity: int | None, chunks: int | None = None, groups: int = 0) -> str | None:
        """Why the venue refuses a proof of this shape, or None if it accepts it.

        One circuit of ``capacity`` positions when ``chunks`` is None; otherwise ``chunks`` chunks
        of ``capacity`` (``capacity`` None: not known, only the count is checked); ``groups`` > 0 for
        a grouped circuit (the venue must list that group count). Provers and
        keepers give the same reasons. With ``capacity`` None a count is accepted only when it is a
        bucket in chunks of every accepted size (the count alone no longer implies one: 3 chunks of 64
        are a bucket of the default policy, 3 chunks of 32 = 96 positions are not)."""
        if groups and (unlisted := self.groups_refusal(groups)):
            return unlisted
        if groups and capacity is not None and groups > capacity:
            return f"grouped openings through {groups} groups: more groups than the {capacity} slots (no such circuit)"
        if chunks is None:
            if capacity not in self.tiers:
                return f"tier capacity {capacity}: the venue accepts tiers {list(self.tiers)} only"
            return None
        if capacity is not None and capacity not in self.chunk_sizes:
            return f"chunk size {capacity}: the venue accepts chunk sizes {list(self.chunk_sizes)} only"
        if chunks not in self.chunk_counts:
            return f"{chunks} chunks: the venue accepts chunk counts {list(self.chunk_counts)} only"
        if capacity is None:  # the chunk size is not known: a bucket whichever accepted size it is
            sizes = [s for s in self.chunk_sizes if s * chunks not in self.capacities]
            if sizes:
                return (f"{chunks} chunks: not a size bucket in chunks of {sizes[0]} "
                        f"({sizes[0] * chunks} positions), and the chunk size is not known (no statement)")
        if capacity is not None and capacity * chunks not in self.capacities:
            return (f"{chunks} chunks of {capacity} = {capacity * chunks} positions: not one of the venue's size "
                    f"buckets {sorted(self.capacities)}")
        return None

    def groups_refusal(self, groups: int) -> str | None:
        """Why the venue refuses a grouped circuit of ``groups`` groups (a count it does not list), or None."""
        if groups in self.groups:
            return None
        accepted = f"groups {list(self.groups)} only" if self.groups else "no grouped circuits"
        return f"grouped openings through {groups} groups: the venue accepts {accepted}"

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
        out = {"tiers": list(self.tiers), "chunk_sizes": list(self.chunk_sizes), "chunk_counts": list(self.chunk_counts)}
        return {**out, "groups": list(self.groups)} if self.groups else out

    @classmethod
    def from_dict(cls, data: Any) -> "VenuePolicy":
        """Parse the market JSON's ``"venue"`` object (every field optional: the default).

        ``"chunk_size": n`` (one size, the format before ``chunk_sizes``) reads as ``"chunk_sizes": [n]``."""
        if not isinstance(data, dict):
            raise InputError("market.venue: expected a JSON object")
        unknown = set(data) - {"tiers", "chunk_sizes", "chunk_size", "chunk_counts", "groups"}
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
            groups=_int_tuple("market.venue.groups", data["groups"]) if "groups" in data else (),
        ).validated()


#: The policy of a market state without a ``"venue"`` section.
DEFAULT_POLICY = VenuePolicy()


@dataclass(frozen=True)
class Padding:
    """What a book's size bucket costs it: :meth:`VenuePolicy.padding`.

    ``chunk_size`` None: one circuit, ``needed`` the book's positions and ``padded`` the tier's
    capacity. Otherwise chunks: ``needed`` chunks of ``chunk_size`` hold the book, ``padded`` are
    proven (the extra ones empty)."""

    positions: int
    chunk_size: int | None
    needed: int
    padded: int

    @property
    def chunked(self) -> bool:
        return self.chunk_size is not None

    @property
    def ratio(self) -> float:
        """Proven over needed: chunk proofs for a chunked book (an upper bound on its proving time's
        ratio: the final proof and the fixed costs are not padded), slots for one circuit."""
        return self.padded / self.needed

    @property
    def capacity(self) -> int:
        """The size bucket the proof reveals: at most this many positions."""
        return self.padded * (self.chunk_size or 1)

    def describe(self) -> str:
        """One line for the trader, e.g. ``157 chunks of 64 positions, padded to 181 for the size bucket``."""
        if not self.chunked:
            return f"{self.positions} positions in the {self.padded}-position tier"
        chunks = f"{self.needed} chunk{'' if self.needed == 1 else 's'} of {self.chunk_size} positions"
        if self.padded == self.needed:
            return f"{chunks}, no padding"
        return f"{chunks}, padded to {self.padded} for the size bucket ({self.ratio:.2f}x the chunk proofs)"


@dataclass(frozen=True)
class PaddingProfile:
    """The privacy/cost trade-off of a policy over a range of chunked book sizes (:func:`padding_profile`)."""

    low: int
    high: int
    buckets: int  #: distinct size buckets a book in [low, high] can fall in
    worst: float  #: largest padded / needed chunk count
    worst_at: int  #: the smallest book size paying it
    mean: float  #: padded / needed averaged over every book size in [low, high]

    @property
    def bits(self) -> float:
        """What a keeper learns about a book known to lie in [low, high]: log2 of its bucket count."""
        return math.log2(self.buckets)

    def to_dict(self) -> dict[str, Any]:
        return {"positions": [self.low, self.high], "buckets": self.buckets, "bits": round(self.bits, 2),
                "worst_padding": round(self.worst, 3), "worst_at": self.worst_at, "mean_padding": round(self.mean, 3)}


def padding_profile(policy: VenuePolicy, low: int, high: int) -> PaddingProfile:
    """Buckets, bits, worst and mean padding of chunked books of ``low``..``high`` positions under
    ``policy`` (books a tier holds are left out: their cost is the tier's, whatever their size).

    :class:`InputError` before any work when no chunked book lies in the range, or when ``high``
    is above the policy's largest bucket. One pass over the chunk counts and the policy's counts
    (a policy may publish 4,096 counts and the range reach 2^20 positions)."""
    low = max(low, policy.tiers[-1] + 1)
    if low > high:
        raise InputError(f"positions {low}..{high}: an empty range of chunked books (the largest tier is "
                         f"{policy.tiers[-1]})")
    size = policy.chunk_size
    counts = policy.accepted_counts(size)  # the largest size: every count, the last one the largest bucket
    if high > size * counts[-1]:
        raise InputError(f"positions {high}: above the largest size bucket ({counts[-1]} chunks of {size} = "
                         f"{size * counts[-1]} positions)")
    buckets: set[int] = set()
    total, worst, worst_at = 0.0, 0.0, low
    at = 0
    for needed in range(chunks_needed(low, size), chunks_needed(high, size) + 1):  # one padding per chunk count, weighted by its books
        while counts[at] < needed:  # needed only grows: the accepted count it pads to only moves up
            at += 1
        padded = counts[at]
        books = min(high, needed * size) - max(low, (needed - 1) * size + 1) + 1
        buckets.add(padded)
        total += books * padded / needed
        if padded / needed > worst:
            worst, worst_at = padded / needed, max(low, (needed - 1) * size + 1)
    return PaddingProfile(low, high, len(buckets), worst, worst_at, total / (high - low + 1))


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
