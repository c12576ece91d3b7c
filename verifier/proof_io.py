"""snarkjs-compatible JSON files (proof, public signals, verification key) and a ``.wtns`` reader.

Pure Python (stdlib + :mod:`zksolv.atomic` / :mod:`zksolv.errors`): safe for
the keeper-side ``verifier`` package. Loading checks only the JSON shape;
:mod:`verifier.groth16` validates numbers and curve points.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from zksolv.atomic import atomic_write_text
from zksolv.errors import VerificationError

PROOF_FILE = "proof.json"
PUBLIC_FILE = "public.json"
VK_FILE = "verification_key.json"

MAX_JSON_BYTES = 16 * 1024 * 1024


def _load_json(path: Path, what: str) -> Any:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise VerificationError(f"{what} {path.name}: file too large")
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VerificationError(f"{what} file {path} not found") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # incl. JSONDecodeError, over-long ints
        raise VerificationError(f"{what} {path.name}: not valid JSON ({exc.__class__.__name__})") from None
    except OSError as exc:
        raise VerificationError(f"{what} {path}: cannot read ({exc.strerror})") from None


def load_proof(path: Path) -> dict[str, Any]:
    """Read a snarkjs ``proof.json`` (must be a JSON object)."""
    data = _load_json(path, "proof")
    if not isinstance(data, dict):
        raise VerificationError("proof: expected a JSON object")
    return data


def load_public(path: Path) -> list[Any]:
    """Read a snarkjs ``public.json`` (must be a JSON list)."""
    data = _load_json(path, "public signals")
    if not isinstance(data, list):
        raise VerificationError("public signals: expected a JSON list")
    return data


def load_verification_key(path: Path) -> dict[str, Any]:
    """Read a snarkjs ``verification_key.json`` (must be a JSON object)."""
    data = _load_json(path, "verification key")
    if not isinstance(data, dict):
        raise VerificationError("verification key: expected a JSON object")
    return data


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=1) + "\n"


def save_proof(path: Path, proof: dict[str, Any]) -> None:
    """Write ``proof`` as snarkjs ``proof.json`` atomically."""
    atomic_write_text(Path(path), _dump(proof))


def save_public(path: Path, public: list[Any]) -> None:
    """Write public signals as snarkjs ``public.json`` (decimal strings) atomically."""
    atomic_write_text(Path(path), _dump([str(int(x)) if not isinstance(x, str) else x for x in public]))


def save_verification_key(path: Path, vk: dict[str, Any]) -> None:
    """Write a snarkjs ``verification_key.json`` atomically."""
    atomic_write_text(Path(path), _dump(vk))


def read_wtns(path: Path) -> tuple[int, list[int]]:
    """Read a circom/snarkjs ``.wtns`` file: returns ``(prime, witness)``.

    ``witness[0]`` is the constant 1, then outputs, public inputs, private
    inputs and internal signals. Raises :class:`VerificationError` on a
    malformed or truncated file.
    """
    data = Path(path).read_bytes()
    if len(data) < 12 or data[:4] != b"wtns":
        raise VerificationError(f"{Path(path).name}: not a .wtns file")
    _version, n_sections = struct.unpack_from("<II", data, 4)
    pos, sections = 12, {}
    for _ in range(n_sections):
        if pos + 12 > len(data):
            raise VerificationError(f"{Path(path).name}: truncated section table")
        sid, size = struct.unpack_from("<IQ", data, pos)
        if pos + 12 + size > len(data):
            raise VerificationError(f"{Path(path).name}: truncated")
        sections[sid] = (pos + 12, size)
        pos += 12 + size
    if 1 not in sections or 2 not in sections:
        raise VerificationError(f"{Path(path).name}: missing header or witness section")
    hoff, _ = sections[1]
    (n8,) = struct.unpack_from("<I", data, hoff)
    prime = int.from_bytes(data[hoff + 4 : hoff + 4 + n8], "little")
    (n_witness,) = struct.unpack_from("<I", data, hoff + 4 + n8)
    woff, wsize = sections[2]
    if wsize != n8 * n_witness:
        raise VerificationError(f"{Path(path).name}: witness section size mismatch")
    values = [int.from_bytes(data[woff + i * n8 : woff + (i + 1) * n8], "little") for i in range(n_witness)]
    return prime, values


def public_signals_from_wtns(path: Path, n_public: int) -> list[str]:
    """The public signals (witness indices ``1..n_public``) as snarkjs decimal strings."""
    _prime, witness = read_wtns(path)
    if n_public < 0 or n_public + 1 > len(witness):
        raise VerificationError(f"witness has {len(witness)} values, cannot hold {n_public} public signals")
    return [str(v) for v in witness[1 : 1 + n_public]]
