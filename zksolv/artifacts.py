"""From a capacity tier to compiled circuit and keys, cached by content.

``build_artifacts(tier)`` renders the tier's main (under ``build/``, never
committed), compiles it through the artifact cache (keyed by every circuit
source, the rendered main and the toolchain versions) and runs the trusted
setup of the chosen route (cached likewise). A small index per tier and route
records which verification key this machine's setup produced, so a keeper can
find *its own* key for a proof's tier without rebuilding anything and without
ever trusting a key shipped by the prover.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zksolv.atomic import atomic_write_text
from zksolv.cache import cache_dir
from zksolv.circuitgen import Tier, circuit_source_hash, include_dirs, write_main
from zksolv.errors import CacheError, InputError
from zksolv.toolchain import CompiledCircuit, compile_cached, project_root
from zksolv.trusted_setup import ROUTE_DEV, KeyPair, setup_keys

#: Position capacities a prover picks from by default (the smallest that fits).
DEFAULT_CAPACITIES = (4, 8, 16, 32, 64, 128, 256, 512, 1024)


@dataclass(frozen=True)
class Artifacts:
    """Everything needed to prove for one tier."""

    tier: Tier
    circuit_hash: str
    circuit: CompiledCircuit
    keys: KeyPair


def default_capacity(n_positions: int) -> int:
    """The smallest default capacity holding ``n_positions`` positions."""
    for capacity in DEFAULT_CAPACITIES:
        if n_positions <= capacity:
            return capacity
    raise InputError(f"positions: {n_positions} exceed the largest tier ({DEFAULT_CAPACITIES[-1]})")


def build_dir() -> Path:
    """``build/`` of the checkout: generated mains (git-ignored)."""
    return project_root() / "build" / "circuits"


def compile_tier(tier: Tier) -> tuple[str, CompiledCircuit]:
    """Render and compile ``tier`` (cached); returns ``(circuit_hash, circuit)``."""
    circuit_hash = circuit_source_hash(tier)
    main = write_main(tier, build_dir())
    return circuit_hash, compile_cached(main, include_dirs(), extra_key=(circuit_hash,))


def build_artifacts(tier: Tier, route: str = ROUTE_DEV, *, ptau: Path | None = None, **setup_options: Any) -> Artifacts:
    """Compile ``tier`` and run the trusted setup of ``route`` (both cached)."""
    circuit_hash, circuit = compile_tier(tier)
    keys = setup_keys(circuit, route, ptau=ptau, **setup_options)
    _write_index(tier, circuit_hash, keys)
    return Artifacts(tier, circuit_hash, circuit, keys)


def _index_path(tier_name: str, circuit_hash: str, route: str) -> Path:
    return cache_dir() / "tiers" / f"{tier_name}-{circuit_hash[:16]}-{route}.json"


def _write_index(tier: Tier, circuit_hash: str, keys: KeyPair) -> None:
    record = {"tier": tier.name, "circuit_hash": circuit_hash, "route": keys.route,
              "verification_key": str(keys.verification_key), "insecure": keys.insecure}
    atomic_write_text(_index_path(tier.name, circuit_hash, keys.route), json.dumps(record, indent=1) + "\n")


def local_verification_key(tier_name: str, circuit_hash: str, route: str = ROUTE_DEV) -> Path:
    """The verification key this machine's setup produced for a tier, or :class:`CacheError`."""
    index = _index_path(tier_name, circuit_hash, route)
    try:
        path = Path(json.loads(index.read_text())["verification_key"])
    except (OSError, ValueError, KeyError):
        raise CacheError(
            f"no local {route} setup for tier {tier_name} (circuit {circuit_hash[:16]}): "
            "run `zksolv setup` for this market, or pass the venue's key with --vk"
        ) from None
    if not path.is_file():
        raise CacheError(f"verification key {path} listed for tier {tier_name} is missing: run `zksolv setup` again")
    return path
