"""The circuit-name grammar: the one place circuit names are rendered and parsed.

A circuit name says which compiled circuit (and so which key) a proof belongs to. It is a
file name on every machine (``build/<name>.circom``, ``<keys>/<name>.json``), a key of a key
set's manifest and of a ceremony transcript, and a field of ``statement.json`` — where it comes
from the prover and is untrusted. Three shapes, one per top template of
:mod:`zksolv.toolchain.circuitgen` (whose :class:`~zksolv.toolchain.circuitgen.Tier`,
:class:`~zksolv.toolchain.circuitgen.ChunkTier` and :class:`~zksolv.toolchain.circuitgen.FinalTier`
are these names plus what a circuit needs)::

    avsl_n<N>_u<U>_a<A>_k<K>_d<D>[_g<G>]_<mode>   TierName   a whole account in one circuit
    avsl_chunk_c<C>_u<U>_d<D>[_g<G>]              ChunkName  a chunk of a book proven in chunks
    avsl_chunk_c<C>_u<U>_d<D>_k<K>_revaluation               (under a revaluation market)
    avsl_final_u<U>_a<A>_k<K>_<mode>              FinalName  the statement of a book proven in chunks

``_g<G>`` names a circuit whose positions open their leaves through G groups of 8 leaves
(``GroupedOpenings``, docs/design.md "Grouped openings") instead of each climbing its own path;
absent, G is 0. Greeks modes only (a revaluation circuit has no ``_g``).

Every dimension is a decimal in ``[1, 999999]`` without leading zeros and ``<mode>`` a
:class:`~zksolv.core.market.RiskMode` value, so a name has one spelling:
``parse(name).name == name`` for every name that parses, and ``parse(x.name) == x`` for every
name object (both checked by ``tests/test_circuit_names.py``). Whether the dimensions fit a
market is not the grammar's business: a keeper takes only the capacity from a prover's name
and the rest from the market it trusts.

Keeper-safe: imports only the standard library and :mod:`zksolv.core` (no numpy, no node).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Union

from zksolv.core.errors import InputError, MalformedFieldError
from zksolv.core.fixedpoint import check_interval
from zksolv.core.market import RiskMode

#: Largest dimension a name can state (six decimal digits).
MAX_DIM = 999_999

_DIM = r"([1-9][0-9]{0,5})"
_MODE = f"({'|'.join(re.escape(m.value) for m in RiskMode)})"
_REVALUATION = re.escape(RiskMode.REVALUATION.value)

#: The patterns of the three name shapes (use ``fullmatch``).
TIER_NAME = re.compile(rf"avsl_n{_DIM}_u{_DIM}_a{_DIM}_k{_DIM}_d{_DIM}(?:_g{_DIM})?_{_MODE}", re.ASCII)
CHUNK_TIER_NAME = re.compile(rf"avsl_chunk_c{_DIM}_u{_DIM}_d{_DIM}(?:_g{_DIM}|_k{_DIM}_({_REVALUATION}))?", re.ASCII)
FINAL_TIER_NAME = re.compile(rf"avsl_final_u{_DIM}_a{_DIM}_k{_DIM}_{_MODE}", re.ASCII)


def _check(kind: str, mode: RiskMode | None = None, **dims: int) -> None:
    """:class:`InputError` naming ``kind.<field>`` unless every dimension is in [1, MAX_DIM] and
    ``mode`` (when given) a :class:`RiskMode`."""
    for field, value in dims.items():
        check_interval(f"{kind}.{field}", value, 1, MAX_DIM)
    if mode is not None and not isinstance(mode, RiskMode):
        raise InputError(f"{kind}.mode: must be one of {[m.value for m in RiskMode]}")


def _check_groups(kind: str, groups: int, mode: RiskMode | None) -> None:
    """``groups`` is 0 (per-position paths) or in [1, MAX_DIM], and 0 under the revaluation mode."""
    if groups != 0:
        _check(kind, groups=groups)
        if mode is not None and mode.is_revaluation:
            raise InputError(f"{kind}.groups: grouped openings serve the greeks modes only (give 0)")


def _match(pattern: re.Pattern[str], text: Any, field: str, what: str, form: str) -> re.Match[str]:
    match = pattern.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise MalformedFieldError(f"{field}: not {what} of the form {form}")
    return match


@dataclass(frozen=True)
class TierName:
    """``avsl_n<N>_u<U>_a<A>_k<K>_d<D>[_g<G>]_<mode>``: a whole account in one circuit of capacity N
    (its leaves opened through G groups when ``groups`` > 0)."""

    n_positions: int
    n_underlyings: int
    n_collateral: int
    n_scenarios: int
    depth: int
    mode: RiskMode
    groups: int = 0

    FORM: ClassVar[str] = "avsl_n<N>_u<U>_a<A>_k<K>_d<D>[_g<G>]_<mode>"

    def __post_init__(self) -> None:
        _check("tier", self.mode, n_positions=self.n_positions, n_underlyings=self.n_underlyings,
               n_collateral=self.n_collateral, n_scenarios=self.n_scenarios, depth=self.depth)
        _check_groups("tier", self.groups, self.mode)

    @property
    def name(self) -> str:
        """The rendered name, e.g. ``avsl_n8_u2_a4_k16_d4_stress``, ``avsl_n64_u2_a4_k16_d4_g16_stress``."""
        groups = f"_g{self.groups}" if self.groups else ""
        return (f"avsl_n{self.n_positions}_u{self.n_underlyings}_a{self.n_collateral}"
                f"_k{self.n_scenarios}_d{self.depth}{groups}_{self.mode.value}")

    @classmethod
    def parse(cls, text: Any, field: str = "tier") -> "TierName":
        """The name ``text`` spells (as ``cls``: :class:`~zksolv.toolchain.circuitgen.Tier` adds the circuit's
        own bounds), or :class:`MalformedFieldError` naming ``field``."""
        n, u, a, k, d, g, mode = _match(TIER_NAME, text, field, "a tier name", cls.FORM).groups()
        try:
            return cls(int(n), int(u), int(a), int(k), int(d), RiskMode(mode), int(g or 0))
        except InputError as exc:  # a grouped revaluation name: well-formed digits, no such circuit
            raise MalformedFieldError(f"{field}: {exc}") from None


@dataclass(frozen=True)
class ChunkName:
    """``avsl_chunk_c<C>_u<U>_d<D>[_k<K>_revaluation]``: C positions of a book proven in chunks.

    A greeks-mode chunk depends on neither the scenarios nor the mode (``n_scenarios`` 0, ``mode``
    None: one key serves every greeks mode); a revaluation chunk states K and the mode.
    """

    capacity: int
    n_underlyings: int
    depth: int
    n_scenarios: int = 0
    mode: RiskMode | None = None
    groups: int = 0

    FORM: ClassVar[str] = "avsl_chunk_c<C>_u<U>_d<D>[_g<G> | _k<K>_revaluation]"

    def __post_init__(self) -> None:
        _check("chunk", capacity=self.capacity, n_underlyings=self.n_underlyings, depth=self.depth)
        if self.mode is None:
            if self.n_scenarios != 0:
                raise InputError("chunk.n_scenarios: only a revaluation chunk depends on the scenarios (give 0)")
        elif not isinstance(self.mode, RiskMode) or not self.mode.is_revaluation:
            raise InputError("chunk.mode: only the revaluation mode has a chunk circuit of its own (else give None)")
        else:
            _check("chunk", n_scenarios=self.n_scenarios)
        _check_groups("chunk", self.groups, self.mode)

    @property
    def name(self) -> str:
        """E.g. ``avsl_chunk_c64_u2_d6``, ``avsl_chunk_c64_u2_d6_g16``; ``avsl_chunk_c64_u2_d6_k16_revaluation``
        under a revaluation market."""
        suffix = f"_k{self.n_scenarios}_{self.mode.value}" if self.mode is not None else ""
        groups = f"_g{self.groups}" if self.groups else ""
        return f"avsl_chunk_c{self.capacity}_u{self.n_underlyings}_d{self.depth}{groups}{suffix}"

    @classmethod
    def parse(cls, text: Any, field: str = "chunk_tier") -> "ChunkName":
        """The name ``text`` spells, or :class:`MalformedFieldError` naming ``field``."""
        c, u, d, g, k, mode = _match(CHUNK_TIER_NAME, text, field, "a chunk tier name", cls.FORM).groups()
        if mode is None:
            return cls(int(c), int(u), int(d), groups=int(g or 0))
        return cls(int(c), int(u), int(d), int(k), RiskMode(mode))


@dataclass(frozen=True)
class FinalName:
    """``avsl_final_u<U>_a<A>_k<K>_<mode>``: the margin statement of a book proven in chunks."""

    n_underlyings: int
    n_collateral: int
    n_scenarios: int
    mode: RiskMode

    FORM: ClassVar[str] = "avsl_final_u<U>_a<A>_k<K>_<mode>"

    def __post_init__(self) -> None:
        _check("final", self.mode, n_underlyings=self.n_underlyings, n_collateral=self.n_collateral,
               n_scenarios=self.n_scenarios)

    @property
    def name(self) -> str:
        """E.g. ``avsl_final_u2_a4_k16_stress``."""
        return f"avsl_final_u{self.n_underlyings}_a{self.n_collateral}_k{self.n_scenarios}_{self.mode.value}"

    @classmethod
    def parse(cls, text: Any, field: str = "tier") -> "FinalName":
        """The name ``text`` spells, or :class:`MalformedFieldError` naming ``field``."""
        *dims, mode = _match(FINAL_TIER_NAME, text, field, "a final tier name", cls.FORM).groups()
        return cls(*(int(d) for d in dims), RiskMode(mode))


#: Any circuit name.
CircuitName = Union[TierName, ChunkName, FinalName]


def parse_circuit_name(text: Any, field: str = "circuit") -> CircuitName:
    """The name ``text`` spells, whichever of the three shapes; :class:`MalformedFieldError` naming
    ``field`` and the three forms if it is none of them."""
    prefix = text[:11] if isinstance(text, str) else ""
    kind = ChunkName if prefix == "avsl_chunk_" else FinalName if prefix == "avsl_final_" else TierName
    try:
        return kind.parse(text, field)
    except MalformedFieldError:
        raise MalformedFieldError(f"{field}: not a circuit name (one of {TierName.FORM}, {ChunkName.FORM}, "
                                  f"{FinalName.FORM})") from None


def parse_tier_name(text: Any, field: str = "tier") -> TierName:
    """:meth:`TierName.parse`: the one-circuit name ``text`` spells."""
    return TierName.parse(text, field)


def parse_chunk_capacity(text: Any, field: str = "chunk_tier") -> int:
    """The capacity a chunk tier name states, or :class:`MalformedFieldError` naming ``field``."""
    return ChunkName.parse(text, field).capacity
