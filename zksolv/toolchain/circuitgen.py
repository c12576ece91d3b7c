"""Generate the circuit ``main`` for a circuit shape (DESIGN §4).

The templates live in ``circuits/*.circom``; this module renders the one
file that instantiates a top template for a shape, together with the
fixed-point constants of :mod:`zksolv.core.fixedpoint` as circom functions
(``FP_QTY_BITS()`` …), so Python stays the single source of truth. Three
shapes, one per top template:

- :class:`Tier` — ``AvslSolvency``: a whole account in one circuit,
  ``(N positions, U underlyings, A collateral assets, K scenarios, tree depth, risk mode)``;
- :class:`ChunkTier` — ``AvslChunk``: ``C`` positions of a book proven in
  chunks, ``(C, U, depth)`` (no mode, scenarios or collateral: one key serves all);
- :class:`FinalTier` — ``AvslFinal``: the statement of a chunked book, ``(U, A, K, mode)``.

The revaluation mode (full-repricing risk arrays in the instrument leaves) has
its own top templates: ``AvslRevaluation`` (:class:`Tier`),
``AvslRevaluationChunk`` (:class:`ChunkTier`, which then also depends on K and
the mode: its slots open revaluation leaves and its state carries the
per-(underlying, scenario) sums) and ``AvslRevaluationFinal`` (:class:`FinalTier`).

Circuit names (``avsl_n8_u2_a4_k16_d4_stress`` ...) are rendered and parsed by
:mod:`zksolv.proofs.circuit_names`: each shape here is its name type plus what a circuit needs, so
``Tier.parse(name)`` gives the compilable tier a name states.

The rendered main includes the top file by its path relative to
``circuits/``: compile it with :func:`include_dirs` on the include path::

    compile_circuit(write_main(tier, build), out, include_dirs=include_dirs())

>>> tier = Tier(n_positions=8, n_underlyings=2, n_collateral=4, n_scenarios=16, depth=4, mode=RiskMode.STRESS)
>>> tier.name
'avsl_n8_u2_a4_k16_d4_stress'
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from zksolv.core import commitments
from zksolv.core import fixedpoint as fp
from zksolv.core import identity
from zksolv.core.atomic import atomic_write_text
from zksolv.core.errors import InputError
from zksolv.core.market import MarketState, RiskMode
from zksolv.core.merkle import cap_height, group_cap_height
from zksolv.proofs.circuit_names import ChunkName, FinalName, TierName

PRAGMA = "2.1.6"

#: Constants rendered into main as ``function FP_<NAME>() { return <value>; }``.
_CONSTANTS: dict[str, int] = {
    "QTY_BITS": fp.QTY_BITS,
    "BALANCE_BITS": fp.BALANCE_BITS,
    "STRESS_HINT_BITS": fp.STRESS_HINT_BITS,
    "STRESS_SLACK_BITS": fp.STRESS_SLACK_BITS,
    "SLACK_BITS": fp.SLACK_BITS,
    "MM_BITS": fp.MM_BITS,
    "ES_SLACK_BITS": fp.ES_SLACK_BITS,
    "ES_EXCESS_BITS": fp.ES_EXCESS_BITS,
    "VAR_Y_BITS": fp.VAR_Y_BITS,
    "VAR_S_BITS": fp.VAR_S_BITS,
    "GREEK_SUM_BITS": fp.GREEK_SUM_BITS,
    "SOLVENCY_BITS": fp.SOLVENCY_BITS,
    "RATIO_SCALE": fp.RATIO_SCALE,
    "NAV_POSITION_FACTOR": fp.NAV_POSITION_FACTOR,
    "DELTA_LOSS_FACTOR": fp.DELTA_LOSS_FACTOR,
    "VEGA_LOSS_FACTOR": fp.VEGA_LOSS_FACTOR,
    "MM_DIVISOR": fp.MM_DIVISOR,
    "VAR_Y_DIVISOR": fp.VAR_Y_DIVISOR,
    "AVSL_ONE": fp.AVSL_ONE,
    "HASH_CHUNK": commitments.CHUNK,
    "ENTRY_BLOCK": commitments.ENTRY_BLOCK,
    "ACCOUNT_DOMAIN": commitments.ACCOUNT_DOMAIN,
    "POSITION_ENTRY_SHIFT": identity.POSITION_ENTRY_SHIFT,
    "QTY_OFFSET": identity.QTY_OFFSET,
    "BALANCE_ENTRY_SHIFT": identity.BALANCE_ENTRY_SHIFT,
    "STATE_DOMAIN": commitments.STATE_DOMAIN,
    "NET_DELTA_BITS": fp.NET_DELTA_BITS,
    "NET_GAMMA_BITS": fp.NET_GAMMA_BITS,
    "NET_VEGA_BITS": fp.NET_VEGA_BITS,
    "POSITION_VALUE_BITS": fp.POSITION_VALUE_BITS,
    "MERKLE_ARITY": fp.MERKLE_ARITY,
    "REVAL_SUM_BITS": fp.REVAL_SUM_BITS,
    "REVAL_HINT_BITS": fp.REVAL_HINT_BITS,
    "REVAL_SLACK_BITS": fp.REVAL_SLACK_BITS,
    "REVAL_LOSS_FACTOR": fp.REVAL_LOSS_FACTOR,
    "STATE_DOMAIN_REVALUATION": commitments.STATE_DOMAIN_REVALUATION,
    "MODE_REVALUATION": RiskMode.REVALUATION.code,
}


def circuits_dir() -> Path:
    """The Circom templates: ``circuits/`` of the checkout, or the wheel's copy (:mod:`zksolv.toolchain.resources`)."""
    from zksolv.toolchain import resources
    return resources.circuits_dir()


def include_dirs() -> list[Path]:
    """Include path the rendered main needs besides ``node_modules``."""
    return [circuits_dir()]


class CircuitShape:
    """What :func:`render_main` needs of a shape: its top template, file, public inputs and arguments."""

    #: Top-level template and its public inputs in order.
    template: str = ""
    public: tuple[str, ...] = ()

    @property
    def top_file(self) -> str:
        """The file defining :attr:`template`, relative to circuits/: its snake-case name
        (``AvslRevaluationFinal`` -> ``avsl_revaluation_final.circom``)."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.template).lower() + ".circom"

    @property
    def name(self) -> str:  # pragma: no cover - every shape defines it
        raise NotImplementedError

    @property
    def template_args(self) -> tuple[int, ...]:  # pragma: no cover - every shape defines it
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - every shape defines it
        raise NotImplementedError


def _check_shape(kind: str, **dims: tuple[int, int, int]) -> None:
    """The circuit's own bounds (``fixedpoint.MAX_*``); the name's rules (mode, digits) are checked by
    its :mod:`~zksolv.proofs.circuit_names` type."""
    for name, (value, lo, hi) in dims.items():
        fp.check_interval(f"{kind}.{name}", value, lo, hi)


def _check_groups(kind: str, groups: int, capacity: int) -> None:
    """A grouped circuit has at most one group per slot (more could never be used)."""
    if groups:
        fp.check_interval(f"{kind}.groups", groups, 1, capacity)


def _cap(capacity: int, groups: int, depth: int) -> int:
    """The cap height of a circuit opening ``capacity`` leaves, each its own path or through ``groups``."""
    return group_cap_height(groups, depth) if groups else cap_height(capacity, depth)


def _groups_text(groups: int) -> str:
    return f", leaves through {groups} groups of {fp.MERKLE_ARITY}" if groups else ""


@dataclass(frozen=True)
class Tier(TierName, CircuitShape):
    """A capacity tier: the shape one compiled circuit (and one key) serves.

    ``n_positions`` is a capacity (accounts with fewer positions are padded);
    the other dimensions must equal the market's exactly (they are hashed into
    ``market_root``). Its fields and :attr:`name` are :class:`~zksolv.proofs.circuit_names.TierName`'s.
    """

    public = ("account_commitment", "market_root")

    @property
    def template(self) -> str:  # type: ignore[override]
        """``AvslRevaluation`` for the revaluation mode, else ``AvslSolvency``."""
        return "AvslRevaluation" if self.mode.is_revaluation else "AvslSolvency"

    def __post_init__(self) -> None:
        _check_shape("tier", n_positions=(self.n_positions, 1, fp.MAX_POSITIONS),
                     n_underlyings=(self.n_underlyings, 1, fp.MAX_UNDERLYINGS),
                     n_collateral=(self.n_collateral, 1, fp.MAX_COLLATERAL),
                     n_scenarios=(self.n_scenarios, 1, fp.MAX_SCENARIOS), depth=(self.depth, 1, fp.MAX_TREE_DEPTH))
        super().__post_init__()
        _check_groups("tier", self.groups, self.n_positions)

    @classmethod
    def for_market(cls, market: MarketState, n_positions: int, groups: int = 0) -> "Tier":
        """The tier of ``market``'s shape with capacity ``n_positions`` (leaves opened through
        ``groups`` groups when > 0)."""
        n_u, n_a, n_k, depth = market.shape
        return cls(n_positions, n_u, n_a, n_k, depth, market.params.risk_mode, groups)

    @property
    def cap(self) -> int:
        """Height of the instrument tree's cap the circuit opens once (:func:`zksolv.core.merkle.cap_height`,
        or :func:`~zksolv.core.merkle.group_cap_height` for a grouped circuit)."""
        return _cap(self.n_positions, self.groups, self.depth)

    @property
    def template_args(self) -> tuple[int, ...]:
        """``(N, U, A, K, DEPTH, CAP, G, MODE)`` for ``AvslSolvency``; ``(N, U, A, K, DEPTH, CAP)`` for
        ``AvslRevaluation``."""
        dims = (self.n_positions, self.n_underlyings, self.n_collateral, self.n_scenarios, self.depth, self.cap)
        return dims if self.mode.is_revaluation else (*dims, self.groups, self.mode.code)

    def describe(self) -> str:
        return (f"N={self.n_positions} positions, U={self.n_underlyings} underlyings, A={self.n_collateral} "
                f"collateral assets, K={self.n_scenarios} scenarios, depth {self.depth} (cap {self.cap}"
                f"{_groups_text(self.groups)}), mode {self.mode.value}")

    def matches(self, market: MarketState) -> bool:
        """True if ``market`` has exactly this tier's shape and mode."""
        return (market.shape == (self.n_underlyings, self.n_collateral, self.n_scenarios, self.depth)
                and market.params.risk_mode is self.mode)


@dataclass(frozen=True)
class ChunkTier(ChunkName, CircuitShape):
    """``AvslChunk``: ``capacity`` positions (a multiple of the entry block) of a book proven in chunks.

    Under a revaluation market (``mode`` REVALUATION, ``n_scenarios`` = K) the chunk circuit is
    ``AvslRevaluationChunk``: its slots open revaluation leaves and its state carries the
    per-(underlying, scenario) sums, so it depends on K and the mode; otherwise ``n_scenarios``
    is 0 and ``mode`` None (one greeks chunk key serves every greeks mode and market of its shape).
    Its fields and :attr:`name` are :class:`~zksolv.proofs.circuit_names.ChunkName`'s.
    """

    public = ("market_root", "state_in", "state_out")

    def __post_init__(self) -> None:
        _check_shape("chunk", capacity=(self.capacity, 1, fp.MAX_POSITIONS),
                     n_underlyings=(self.n_underlyings, 1, fp.MAX_UNDERLYINGS), depth=(self.depth, 1, fp.MAX_TREE_DEPTH))
        if self.capacity % commitments.ENTRY_BLOCK:
            raise InputError(f"chunk.capacity: must be a multiple of {commitments.ENTRY_BLOCK} (the entry block)")
        super().__post_init__()  # the mode / scenarios rule of a chunk name
        if self.mode is not None:
            _check_shape("chunk", n_scenarios=(self.n_scenarios, 1, fp.MAX_SCENARIOS))
        _check_groups("chunk", self.groups, self.capacity)

    @classmethod
    def for_market(cls, market: MarketState, capacity: int, groups: int = 0) -> "ChunkTier":
        """The chunk circuit of ``market``'s shape with ``capacity`` slots (opened through ``groups``
        groups when > 0: greeks modes only)."""
        n_u, _a, n_k, depth = market.shape
        if market.params.risk_mode.is_revaluation:
            return cls(capacity, n_u, depth, n_k, RiskMode.REVALUATION, groups)
        return cls(capacity, n_u, depth, groups=groups)

    @property
    def template(self) -> str:  # type: ignore[override]
        return "AvslRevaluationChunk" if self.mode is not None else "AvslChunk"

    @property
    def cap(self) -> int:
        """Height of the instrument tree's cap the circuit opens once (:func:`zksolv.core.merkle.cap_height`,
        or :func:`~zksolv.core.merkle.group_cap_height` for a grouped chunk)."""
        return _cap(self.capacity, self.groups, self.depth)

    @property
    def template_args(self) -> tuple[int, ...]:
        """``(C, U, DEPTH, CAP, G)`` for ``AvslChunk``; ``(C, U, K, DEPTH, CAP)`` for ``AvslRevaluationChunk``."""
        if self.mode is not None:
            return (self.capacity, self.n_underlyings, self.n_scenarios, self.depth, self.cap)
        return (self.capacity, self.n_underlyings, self.depth, self.cap, self.groups)

    def describe(self) -> str:
        extra = f", K={self.n_scenarios} scenarios, mode {self.mode.value}" if self.mode is not None else ""
        return (f"chunk of C={self.capacity} positions, U={self.n_underlyings} underlyings, "
                f"depth {self.depth} (cap {self.cap}{_groups_text(self.groups)}){extra}")

    def matches(self, market: MarketState) -> bool:
        return self == ChunkTier.for_market(market, self.capacity, self.groups)


@dataclass(frozen=True)
class FinalTier(FinalName, CircuitShape):
    """``AvslFinal``: the margin statement of a book proven in chunks (fields and :attr:`name`:
    :class:`~zksolv.proofs.circuit_names.FinalName`'s)."""

    public = ("account_commitment", "market_root", "state_first", "state_last")

    @property
    def template(self) -> str:  # type: ignore[override]
        """``AvslRevaluationFinal`` for the revaluation mode, else ``AvslFinal``."""
        return "AvslRevaluationFinal" if self.mode.is_revaluation else "AvslFinal"

    def __post_init__(self) -> None:
        _check_shape("final", n_underlyings=(self.n_underlyings, 1, fp.MAX_UNDERLYINGS),
                     n_collateral=(self.n_collateral, 1, fp.MAX_COLLATERAL),
                     n_scenarios=(self.n_scenarios, 1, fp.MAX_SCENARIOS))
        super().__post_init__()

    @classmethod
    def for_market(cls, market: MarketState) -> "FinalTier":
        n_u, n_a, n_k, _depth = market.shape
        return cls(n_u, n_a, n_k, market.params.risk_mode)

    @property
    def template_args(self) -> tuple[int, ...]:
        """``(U, A, K, MODE)`` for ``AvslFinal``; ``(U, A, K)`` for ``AvslRevaluationFinal``."""
        dims = (self.n_underlyings, self.n_collateral, self.n_scenarios)
        return dims if self.mode.is_revaluation else (*dims, self.mode.code)

    def describe(self) -> str:
        return (f"final statement, U={self.n_underlyings} underlyings, A={self.n_collateral} collateral assets, "
                f"K={self.n_scenarios} scenarios, mode {self.mode.value}")

    def matches(self, market: MarketState) -> bool:
        n_u, n_a, n_k, _depth = market.shape
        return (n_u, n_a, n_k) == (self.n_underlyings, self.n_collateral, self.n_scenarios) \
            and market.params.risk_mode is self.mode


def circuit_set(market: MarketState, chunks: bool) -> list[CircuitShape]:
    """The circuits of ``market``'s shape a venue needs keys for: every accepted tier and, with
    ``chunks``, every accepted chunk size and the final circuit (what ``zksolv setup --chunks`` builds);
    each tier and chunk size also in every accepted group count it can hold (greeks modes)."""
    venue, groups = market.venue, market.group_counts
    shapes: list[CircuitShape] = [Tier.for_market(market, c) for c in venue.tiers]
    shapes += [Tier.for_market(market, c, g) for c in venue.tiers for g in groups if g <= c]
    if chunks:
        shapes += [ChunkTier.for_market(market, s) for s in venue.chunk_sizes]
        shapes += [ChunkTier.for_market(market, s, g) for s in venue.chunk_sizes for g in groups if g <= s]
        shapes.append(FinalTier.for_market(market))
    return shapes


def constants_source(*, debug: bool = False) -> str:
    """The fixed-point constants as circom functions (``function FP_QTY_BITS() { return 52; }`` ...),
    ``FP_DEBUG()`` last: what every main — and every test harness of a single template — needs."""
    consts = "\n".join(f"function FP_{name}() {{ return {value}; }}" for name, value in _CONSTANTS.items())
    return f"{consts}\nfunction FP_DEBUG() {{ return {1 if debug else 0}; }}\n"


def render_main(tier: CircuitShape, *, debug: bool = False) -> str:
    """The main ``.circom`` of ``tier`` (any :class:`CircuitShape`).

    ``debug=True`` makes the circuit ``log`` intermediate values (NAV, greeks,
    margin) during witness calculation — for tests only, since they are
    private; the constraint system is identical.
    """
    args = ", ".join(map(str, tier.template_args))
    return (
        f"// auto-generated by zksolv — do not edit (zksolv/toolchain/circuitgen.py)\n"
        f"// {tier.name}: {tier.describe()}{' (DEBUG: logs private values)' if debug else ''}\n"
        f"pragma circom {PRAGMA};\n\n"
        f'include "{tier.top_file}";\n\n'
        f"// fixed-point constants from zksolv/core/fixedpoint.py\n{constants_source(debug=debug)}\n"
        f"component main {{public [{', '.join(tier.public)}]}} = {tier.template}({args});\n"
    )


def circuit_source_hash(tier: CircuitShape, *, debug: bool = False) -> str:
    """sha256 over every ``circuits/*.circom`` (name and content), the rendered
    main and the shape: the cache key of compiled circuits and proving keys."""
    h = hashlib.sha256()
    for path in sorted(circuits_dir().glob("*.circom")):
        data = path.read_bytes()
        h.update(f"{path.name}\0{len(data)}\0".encode())
        h.update(data)
    main = render_main(tier, debug=debug).encode()
    h.update(f"main\0{len(main)}\0".encode())
    h.update(main)
    h.update(repr((tier.template, tier.template_args)).encode())
    return h.hexdigest()


def write_main(tier: CircuitShape, build_dir: Path, *, debug: bool = False) -> Path:
    """Write the rendered main to ``build_dir/<tier.name>.circom`` atomically."""
    path = Path(build_dir) / f"{tier.name}{'_debug' if debug else ''}.circom"
    atomic_write_text(path, render_main(tier, debug=debug))
    return path
