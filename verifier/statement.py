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
        texts = ("tier", "circuit_hash", "risk_mode", "market_root", "account_commitment", "setup_route")
        for name in (*texts, "epoch", "insecure_setup"):
            if name not in data:
                raise VerificationError(f"statement: missing field {name!r}")
        for name in texts:
            if not isinstance(data[name], str):
                raise VerificationError(f"statement.{name}: expected a string")
        epoch = data["epoch"]
        if isinstance(epoch, bool) or not isinstance(epoch, int) or not 0 <= epoch < 2**64:
            raise VerificationError("statement.epoch: expected an integer in [0, 2^64)")
        if not isinstance(data["insecure_setup"], bool):
            raise VerificationError("statement.insecure_setup: expected true or false")
        return cls(epoch=epoch, insecure_setup=data["insecure_setup"], **{name: data[name] for name in texts})

    @classmethod
    def load(cls, path: Path) -> "Statement":
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise VerificationError(f"statement file {str(path)!r}: cannot be read as UTF-8 text") from None
        try:
            return cls.from_dict(json.loads(text))
        except (ValueError, RecursionError):  # JSONDecodeError, over-long integers, absurd nesting
            raise VerificationError(f"statement file {str(path)!r}: malformed JSON") from None
