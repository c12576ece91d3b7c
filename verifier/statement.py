"""What a proof claims, in public terms: ``statement.json`` next to ``proof.json``.

It names the tier and circuit (so a keeper picks the right verification key),
the epoch and ``market_root`` the proof is bound to, and the public
``account_commitment``. Nothing in it is private: the position *capacity* of
the tier is public (choose a larger tier to hide the size of a book).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from zksolv.atomic import atomic_write_text
from zksolv.errors import VerificationError

STATEMENT_FILE = "statement.json"


@dataclass(frozen=True)
class Statement:
    """Public description of one solvency proof."""

    tier: str
    circuit_hash: str
    risk_mode: str
    epoch: int
    market_root: str
    account_commitment: str
    setup_route: str
    insecure_setup: bool

    def save(self, path: Path) -> None:
        atomic_write_text(Path(path), json.dumps(asdict(self), indent=1) + "\n")

    @classmethod
    def from_dict(cls, data: Any) -> "Statement":
        if not isinstance(data, dict):
            raise VerificationError("statement: expected a JSON object")
        try:
            return cls(
                tier=str(data["tier"]), circuit_hash=str(data["circuit_hash"]), risk_mode=str(data["risk_mode"]),
                epoch=int(data["epoch"]), market_root=str(data["market_root"]),
                account_commitment=str(data["account_commitment"]), setup_route=str(data["setup_route"]),
                insecure_setup=bool(data["insecure_setup"]),
            )
        except KeyError as exc:
            raise VerificationError(f"statement: missing field {exc.args[0]!r}") from None
        except (TypeError, ValueError):
            raise VerificationError("statement: a field has the wrong type") from None

    @classmethod
    def load(cls, path: Path) -> "Statement":
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError:
            raise VerificationError(f"statement file {str(path)!r}: cannot be read") from None
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError:
            raise VerificationError(f"statement file {str(path)!r}: malformed JSON") from None
