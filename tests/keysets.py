"""Test helper: a manifest for a key set folder built by hand (as `zksolv setup --keys-out` writes one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zksolv.toolchain.circuitgen import circuit_set, circuit_source_hash
from zksolv.proofs.keyset import write_manifest


def write_test_manifest(keys: Path, state: Any, route: str = "snarkjs") -> None:
    """List every ``<circuit>.json`` in ``keys`` that is a circuit of ``state``'s shape, with this
    checkout's circuit hash (keys of other shapes stay unlisted: never used)."""
    entries = [{"circuit": s.name, "circuit_hash": circuit_source_hash(s), "verification_key": f"{s.name}.json"}
               for s in circuit_set(state, True) if (Path(keys) / f"{s.name}.json").is_file()]
    write_manifest(Path(keys), entries, transcript_sha256=None, route=route)
