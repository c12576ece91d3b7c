"""snarkjs-compatible JSON files: proof, public signals, verification key.

Pure Python (stdlib + :mod:`zksolv.core.atomic` / :mod:`zksolv.core.errors`): safe for
the keeper-side ``verifier`` package. Loading checks only the JSON shape;
:func:`canonical_int` is the one reader of the numbers in them (a JSON int or a canonical
decimal string), which :mod:`zksolv.verifier.groth16` and :mod:`zksolv.verifier.calldata`
use to validate field elements and curve points.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from zksolv.core.atomic import atomic_write_text
from zksolv.core.errors import MalformedFieldError, VerificationError

#: The proof folder's file names (one circuit: ``proof.json``, ``public.json``,
#: ``verification_key.json`` and :data:`zksolv.proofs.statement.STATEMENT_FILE`). Every module that
#: writes or reads a proof folder, a cached key or a key set spells them through these names.
PROOF_FILE = "proof.json"
PUBLIC_FILE = "public.json"
VK_FILE = "verification_key.json"
#: A book proven in chunks adds the chunk circuit's key, the final proof's folder (``final/proof.json``,
#: ``final/public.json``) and one folder per chunk (``chunks/0000/proof.json`` ...).
CHUNK_VK_FILE = "chunk_verification_key.json"
FINAL_DIR = "final"
CHUNKS_DIR = "chunks"

MAX_JSON_BYTES = 16 * 1024 * 1024

#: A canonical decimal integer as snarkjs writes it (use ``fullmatch``: ``$`` would allow a
#: trailing newline). At most 80 digits: more than any BN254 element has.
CANONICAL_DECIMAL = re.compile(r"0|[1-9][0-9]{0,79}", re.ASCII)


def canonical_int(value: Any, where: str) -> int:
    """A non-negative integer from a JSON int or a canonical decimal string (snarkjs form).

    Only ``0`` or ``[1-9][0-9]*`` (ASCII, at most 80 digits) is accepted: no sign, no
    ``0x``, no ``_`` separators, no surrounding whitespace, no non-ASCII digits — all of
    which Python's ``int()`` would take. Raises :class:`MalformedFieldError` (an
    ``InputError`` and a ``VerificationError``) naming ``where``. Range checks (``< q``,
    ``< r``) are the caller's: it knows which field the value belongs to.
    """
    if isinstance(value, bool):
        raise MalformedFieldError(f"{where}: expected an integer, got a boolean")
    if isinstance(value, int):
        out = value
    elif isinstance(value, str):
        if CANONICAL_DECIMAL.fullmatch(value) is None:
            raise MalformedFieldError(f"{where}: not a canonical decimal integer")
        out = int(value)
    else:
        raise MalformedFieldError(f"{where}: expected an integer or a decimal string, got {type(value).__name__}")
    if out < 0:
        raise MalformedFieldError(f"{where}: negative")
    return out


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
