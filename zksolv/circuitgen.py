"""Generate the circuit ``main`` for a capacity tier (DESIGN §4).

The templates live in ``circuits/*.circom``; this module renders the one
file that instantiates them for a tier ``(N positions, U underlyings, A
collateral assets, K scenarios, tree depth, risk mode)``, together with the
fixed-point constants of :mod:`zksolv.fixedpoint` as circom functions
(``FP_QTY_BITS()`` …), so Python stays the single source of truth.

The rendered main includes ``avsl_solvency.circom`` by its path relative to
``circuits/``: compile it with :func:`include_dirs` on the include path::

    compile_circuit(write_main(tier, build), out, include_dirs=include_dirs())

>>> tier = Tier(n_positions=8, n_underlyings=2, n_collateral=4, n_scenarios=16, depth=4, mode=RiskMode.STRESS)
>>> tier.name
'avsl_n8_u2_a4_k16_d4_stress'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from zksolv import commitments
from zksolv import fixedpoint as fp
from zksolv import identity
from zksolv.atomic import atomic_write_text
from zksolv.errors import InputError
from zksolv.market import MarketState, RiskMode

#: Top-level template and the file defining it (relative to circuits/).
TOP_TEMPLATE = "AvslSolvency"
TOP_FILE = "avsl_solvency.circom"
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
    "MERKLE_ARITY": fp.MERKLE_ARITY,
}


def circuits_dir() -> Path:
    """The ``circuits/`` directory of this checkout."""
    return Path(__file__).resolve().parent.parent / "circuits"


def include_dirs() -> list[Path]:
    """Include path the rendered main needs besides ``node_modules``."""
    return [circuits_dir()]


@dataclass(frozen=True)
class Tier:
    """A capacity tier: the shape one compiled circuit (and one key) serves.

    ``n_positions`` is a capacity (accounts with fewer positions are padded);
    the other dimensions must equal the market's exactly (they are hashed into
    ``market_root``).
    """

    n_positions: int
    n_underlyings: int
    n_collateral: int
    n_scenarios: int
    depth: int
    mode: RiskMode

    def __post_init__(self) -> None:
        fp.check_interval("tier.n_positions", self.n_positions, 1, fp.MAX_POSITIONS)
        fp.check_interval("tier.n_underlyings", self.n_underlyings, 1, fp.MAX_UNDERLYINGS)
        fp.check_interval("tier.n_collateral", self.n_collateral, 1, fp.MAX_COLLATERAL)
        fp.check_interval("tier.n_scenarios", self.n_scenarios, 1, fp.MAX_SCENARIOS)
        fp.check_interval("tier.depth", self.depth, 1, fp.MAX_TREE_DEPTH)
        if not isinstance(self.mode, RiskMode):
            raise InputError(f"tier.mode: must be one of {[m.value for m in RiskMode]}")

    @classmethod
    def for_market(cls, market: MarketState, n_positions: int) -> "Tier":
        """The tier of ``market``'s shape with capacity ``n_positions``."""
        n_u, n_a, n_k, depth = market.shape
        return cls(n_positions, n_u, n_a, n_k, depth, market.params.risk_mode)

    @property
    def name(self) -> str:
        """File-name-safe identifier, e.g. ``avsl_n8_u2_a4_k16_d4_stress``."""
        return (f"avsl_n{self.n_positions}_u{self.n_underlyings}_a{self.n_collateral}"
                f"_k{self.n_scenarios}_d{self.depth}_{self.mode.value}")

    @property
    def template_args(self) -> tuple[int, int, int, int, int, int]:
        """``(N, U, A, K, DEPTH, MODE)`` for :data:`TOP_TEMPLATE`."""
        return (self.n_positions, self.n_underlyings, self.n_collateral, self.n_scenarios, self.depth, self.mode.code)

    def matches(self, market: MarketState) -> bool:
        """True if ``market`` has exactly this tier's shape and mode."""
        return (market.shape == (self.n_underlyings, self.n_collateral, self.n_scenarios, self.depth)
                and market.params.risk_mode is self.mode)


def render_main(tier: Tier, *, debug: bool = False) -> str:
    """The main ``.circom`` of ``tier``.

    ``debug=True`` makes the circuit ``log`` intermediate values (NAV, greeks,
    margin) during witness calculation — for tests only, since they are
    private; the constraint system is identical.
    """
    consts = "\n".join(f"function FP_{name}() {{ return {value}; }}" for name, value in _CONSTANTS.items())
    args = ", ".join(map(str, tier.template_args))
    return (
        f"// auto-generated by zksolv — do not edit (zksolv/circuitgen.py)\n"
        f"// tier {tier.name}: N={tier.n_positions} positions, U={tier.n_underlyings} underlyings, "
        f"A={tier.n_collateral} collateral assets, K={tier.n_scenarios} scenarios, "
        f"depth {tier.depth}, mode {tier.mode.value}{' (DEBUG: logs private values)' if debug else ''}\n"
        f"pragma circom {PRAGMA};\n\n"
        f'include "{TOP_FILE}";\n\n'
        f"// fixed-point constants from zksolv/fixedpoint.py\n{consts}\n"
        f"function FP_DEBUG() {{ return {1 if debug else 0}; }}\n\n"
        f"component main {{public [account_commitment, market_root]}} = {TOP_TEMPLATE}({args});\n"
    )


def circuit_source_hash(tier: Tier, *, debug: bool = False) -> str:
    """sha256 over every ``circuits/*.circom`` (name and content), the rendered
    main and the tier: the cache key of compiled circuits and proving keys."""
    h = hashlib.sha256()
    for path in sorted(circuits_dir().glob("*.circom")):
        data = path.read_bytes()
        h.update(f"{path.name}\0{len(data)}\0".encode())
        h.update(data)
    main = render_main(tier, debug=debug).encode()
    h.update(f"main\0{len(main)}\0".encode())
    h.update(main)
    h.update(repr(tier.template_args).encode())
    return h.hexdigest()


def write_main(tier: Tier, build_dir: Path, *, debug: bool = False) -> Path:
    """Write the rendered main to ``build_dir/<tier.name>.circom`` atomically."""
    path = Path(build_dir) / f"{tier.name}{'_debug' if debug else ''}.circom"
    atomic_write_text(path, render_main(tier, debug=debug))
    return path
