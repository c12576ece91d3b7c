"""From a capacity tier to compiled circuit and keys, cached by content.

``build_artifacts(tier)`` renders the tier's main (under ``build/``, never
committed; see :func:`build_dir`), compiles it through the artifact cache (keyed by every circuit
source, the rendered main and the toolchain versions) and runs the trusted
setup of the chosen route (cached likewise). A small index per tier and route
records which verification key this machine's setup produced, so a keeper can
find *its own* key for a proof's tier without rebuilding anything and without
ever trusting a key shipped by the prover.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zksolv.toolchain import resources
from zksolv.core.atomic import atomic_write_text
from zksolv.toolchain.cache import ArtifactCache, cache_dir
from zksolv.toolchain.circuitgen import Tier, circuit_source_hash, include_dirs, write_main
from zksolv.core.errors import CacheError, InputError
from zksolv.toolchain import CompiledCircuit, compile_cached
from zksolv.toolchain.trusted_setup import ROUTE_DEV, KeyPair, setup_keys

#: Position capacities a prover picks from by default (the smallest that fits).
DEFAULT_CAPACITIES = (4, 8, 16, 32, 64, 128, 256, 512, 1024)


@dataclass(frozen=True)
class Artifacts:
    """Everything needed to prove for one tier.

    ``cached``: both the compiled circuit and the keys came from the cache (nothing was
    built by this call), so a progress line can say "cached" only when it is true.
    """

    tier: Tier
    circuit_hash: str
    circuit: CompiledCircuit
    keys: KeyPair
    cached: bool = False


def default_capacity(n_positions: int) -> int:
    """The smallest default capacity holding ``n_positions`` positions."""
    for capacity in DEFAULT_CAPACITIES:
        if n_positions <= capacity:
            return capacity
    raise InputError(f"positions: {n_positions} exceed the largest tier ({DEFAULT_CAPACITIES[-1]})")


def build_dir() -> Path:
    """Where generated mains go: ``build/circuits`` of the checkout (git-ignored) or, for an
    installed wheel, ``<cache>/build/circuits`` (never site-packages)."""
    root = resources.checkout_root()
    return (root if root is not None else cache_dir()) / "build" / "circuits"


def compile_tier(tier: Tier, cache: ArtifactCache | None = None) -> tuple[str, CompiledCircuit]:
    """Render and compile ``tier`` (cached); returns ``(circuit_hash, circuit)``."""
    circuit_hash = circuit_source_hash(tier)
    main = write_main(tier, build_dir())
    return circuit_hash, compile_cached(main, include_dirs(), extra_key=(circuit_hash,), cache=cache)


def build_artifacts(tier: Tier, route: str = ROUTE_DEV, *, ptau: Path | None = None, **setup_options: Any) -> Artifacts:
    """Compile ``tier`` and run the trusted setup of ``route`` (both cached); ``cached`` in the
    result says whether both were cache hits."""
    cache = ArtifactCache()
    circuit_hash, circuit = compile_tier(tier, cache)
    keys = setup_keys(circuit, route, ptau=ptau, cache=cache, **setup_options)
    _write_index(tier, circuit_hash, keys)
    return Artifacts(tier, circuit_hash, circuit, keys, cached=cache.builds == 0)


_SAFE_NAME = re.compile(r"[A-Za-z0-9_]{1,128}", re.ASCII)
_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)


def _index_path(tier_name: str, circuit_hash: str, route: str) -> Path:
    """The index file of a tier; refuses names that could leave the cache directory.

    ``tier_name`` and ``circuit_hash`` may come from a prover's statement.json:
    they are checked here too (not only where the statement is parsed), and the
    resolved path must stay inside ``<cache>/tiers``.
    """
    for field, value, pattern in (("tier", tier_name, _SAFE_NAME), ("circuit_hash", circuit_hash, _HEX64),
                                  ("route", route, _SAFE_NAME)):
        if not isinstance(value, str) or pattern.fullmatch(value) is None:
            raise InputError(f"{field}: not a valid {field} name for the key cache")
    root = Path(os.path.abspath(cache_dir() / "tiers"))
    path = Path(os.path.abspath(root / f"{tier_name}-{circuit_hash[:16]}-{route}.json"))
    if path.parent != root:
        raise InputError(f"tier: {tier_name!r} does not name a file inside the key cache")
    return path


def _write_index(tier: Tier, circuit_hash: str, keys: KeyPair) -> None:
    record = {"tier": tier.name, "circuit_hash": circuit_hash, "route": keys.route,
              "verification_key": str(keys.verification_key), "insecure": keys.insecure}
    atomic_write_text(_index_path(tier.name, circuit_hash, keys.route), json.dumps(record, indent=1) + "\n")


@dataclass(frozen=True)
class LocalKey:
    """A verification key this machine's own setup produced, and whether that setup was insecure."""

    path: Path
    route: str
    insecure: bool


def local_key(tier_name: str, circuit_hash: str, route: str = ROUTE_DEV) -> LocalKey:
    """The verification key this machine's setup produced for a tier, or :class:`CacheError`.

    ``insecure`` is true for a development (single-party) setup: NOT FOR REAL FUNDS.
    """
    index = _index_path(tier_name, circuit_hash, route)
    try:
        record = json.loads(index.read_text())
        path = Path(record["verification_key"])
        insecure = record.get("insecure", route == ROUTE_DEV)
        if not isinstance(insecure, bool):
            raise ValueError("insecure")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise CacheError(
            f"no local {route} setup for tier {tier_name} (circuit {circuit_hash[:16]}): "
            "run `zksolv setup` for this market, or pass the venue's key with --vk"
        ) from None
    if not path.is_file():
        raise CacheError(f"verification key {path} listed for tier {tier_name} is missing: run `zksolv setup` again")
    return LocalKey(path, route, insecure or route == ROUTE_DEV)



def check_keyset_has(keys_dir: Path, names: list[str]) -> None:
    """Refuse, before any work, a key set without a proving key for each circuit in ``names`` (exit 2)."""
    from zksolv.proofs.keyset import load_manifest

    manifest = load_manifest(Path(keys_dir))
    for name in names:
        if "proving_key" not in manifest["keys"].get(name, {}):
            raise InputError(f"--keys: the key set {keys_dir} has no proving key for {name} (it serves "
                             f"{', '.join(sorted(k for k, v in manifest['keys'].items() if 'proving_key' in v)) or 'none'})")


def keyset_artifacts(shape: Any, keys_dir: Path) -> Artifacts:
    """Compile ``shape`` (cached) and take its keys from the venue's key set ``keys_dir``
    (``zksolv ceremony finalize``): the manifest must list this circuit with this installation's
    circuit hash, and both key files must match their sha256 in it."""
    from zksolv.proofs.keyset import check_key_set

    cache = ArtifactCache()
    circuit_hash, circuit = compile_tier(shape, cache)
    check_keyset_has(keys_dir, [shape.name])
    manifest = check_key_set(Path(keys_dir), {shape.name: circuit_hash}, proving=True)
    vk = Path(keys_dir) / f"{shape.name}.json"
    n_public = int(json.loads(vk.read_text())["nPublic"])
    insecure = manifest.get("route") == ROUTE_DEV
    keys = KeyPair(route="snarkjs", directory=Path(keys_dir), verification_key=vk, n_public=n_public,
                   zkey=Path(keys_dir) / f"{shape.name}.zkey", insecure=insecure, n_wires=circuit.n_wires)
    return Artifacts(shape, circuit_hash, circuit, keys, cached=cache.builds == 0)
