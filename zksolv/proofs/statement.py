"""What a proof claims, in public terms: ``statement.json`` next to ``proof.json``.

It names the tier and circuit (so a keeper picks the right verification key),
the epoch and ``market_root`` the proof is bound to, and the public
``account_commitment``. Nothing in it is private: the position *capacity* of
the tier is public (choose a larger tier to hide the size of a book).

The file comes from the prover, so it is untrusted: ``tier``, ``circuit_hash``,
``risk_mode`` and ``setup_route`` are checked against strict patterns here
(they end up in cache paths on the keeper's machine; circuit names by
:mod:`zksolv.proofs.circuit_names`), and a keeper should take
only the *capacity* from it — the rest of the tier follows from the market
state it trusts (:func:`zksolv.toolchain.circuitgen.Tier.for_market`).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from zksolv.core.atomic import atomic_write_text
from zksolv.core.errors import MalformedFieldError, VerificationError
from zksolv.proofs.circuit_names import ChunkName, FinalName, TierName, parse_chunk_capacity, parse_tier_name

STATEMENT_FILE = "statement.json"

#: Setup routes of :mod:`zksolv.toolchain.trusted_setup` (``ROUTE_DEV``, ``ROUTE_SNARKJS``).
SETUP_ROUTES = ("dev", "snarkjs")

#: Most chunks one bundle may claim (a keeper refuses more before reading any proof).
MAX_CHUNKS = 4096
#: A sha256 in lowercase hex (:func:`zksolv.toolchain.circuitgen.circuit_source_hash`).
CIRCUIT_HASH = re.compile(r"[0-9a-f]{64}", re.ASCII)


def check_circuit_hash(value: Any, field: str = "circuit_hash") -> str:
    """``value`` if it is 64 lowercase hex digits, else :class:`MalformedFieldError` naming ``field``."""
    if not isinstance(value, str) or CIRCUIT_HASH.fullmatch(value) is None:
        raise MalformedFieldError(f"{field}: expected a sha256 as 64 lowercase hex digits")
    return value


@dataclass(frozen=True)
class Statement:
    """Public description of one solvency proof (or of a book proven in chunks).

    For a book proven in chunks, ``tier`` / ``circuit_hash`` name the final
    circuit and ``chunk_tier`` / ``chunk_circuit_hash`` / ``n_chunks`` the
    chunk proofs (all ``None`` for one circuit).
    """

    tier: str
    circuit_hash: str
    risk_mode: str
    epoch: int
    market_root: str
    account_commitment: str
    setup_route: str
    insecure_setup: bool
    chunk_tier: str | None = None
    chunk_circuit_hash: str | None = None
    n_chunks: int | None = None

    @property
    def chunked(self) -> bool:
        """True for a book proven in chunks."""
        return self.n_chunks is not None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if not self.chunked:
            for name in ("chunk_tier", "chunk_circuit_hash", "n_chunks"):
                del data[name]
        return data

    def save(self, path: Path) -> None:
        atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=1) + "\n")

    @property
    def shape(self) -> TierName:
        """The dimensions :attr:`tier` states (one circuit only; validated at parse time)."""
        return parse_tier_name(self.tier, "statement.tier")

    @property
    def capacity(self) -> int:
        """The position capacity of the tier (one circuit) or of each chunk: with :attr:`groups` the
        only parts of the circuits' shape a keeper takes from the prover."""
        if self.chunked:
            return parse_chunk_capacity(self.chunk_tier, "statement.chunk_tier")
        return self.shape.n_positions

    @property
    def groups(self) -> int:
        """The group count of a grouped circuit (0: a path per position), from :attr:`tier` or
        :attr:`chunk_tier`; like :attr:`capacity`, a part of the shape a keeper takes from the prover
        (and the venue's policy must accept)."""
        if self.chunked:
            return ChunkName.parse(self.chunk_tier, "statement.chunk_tier").groups
        return self.shape.groups

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
        check_circuit_hash(data["circuit_hash"], "statement.circuit_hash")
        chunks: dict[str, Any] = {}
        if "n_chunks" in data:
            mode = FinalName.parse(data["tier"], "statement.tier").mode.value
            n = data["n_chunks"]
            if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_CHUNKS:
                raise MalformedFieldError(f"statement.n_chunks: expected an integer in [1, {MAX_CHUNKS}]")
            for name in ("chunk_tier", "chunk_circuit_hash"):
                if not isinstance(data.get(name), str):
                    raise VerificationError(f"statement.{name}: expected a string")
            parse_chunk_capacity(data["chunk_tier"], "statement.chunk_tier")
            check_circuit_hash(data["chunk_circuit_hash"], "statement.chunk_circuit_hash")
            chunks = {"n_chunks": n, "chunk_tier": data["chunk_tier"], "chunk_circuit_hash": data["chunk_circuit_hash"]}
        else:
            mode = parse_tier_name(data["tier"], "statement.tier").mode.value
        if data["risk_mode"] != mode:
            raise MalformedFieldError(f"statement.risk_mode: must be the tier's mode {mode!r}")
        if data["setup_route"] not in SETUP_ROUTES:
            raise MalformedFieldError(f"statement.setup_route: must be one of {list(SETUP_ROUTES)}")
        return cls(epoch=epoch, insecure_setup=data["insecure_setup"], **{name: data[name] for name in texts}, **chunks)

    @classmethod
    def load(cls, path: Path) -> "Statement":
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise VerificationError(f"{path.name} not found in {path.parent}") from None
        except (OSError, UnicodeDecodeError):
            raise VerificationError(f"statement file {str(path)!r}: cannot be read as UTF-8 text") from None
        try:
            return cls.from_dict(json.loads(text))
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, over-long integers, absurd nesting
            if isinstance(exc, MalformedFieldError):  # an InputError is a ValueError too
                raise
            raise VerificationError(f"statement file {str(path)!r}: malformed JSON") from None
