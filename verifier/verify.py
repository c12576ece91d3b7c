"""Keeper-side verification of a solvency proof against a public market state.

:func:`verify` checks, in order: the public inputs are exactly
``[account_commitment, market_root]``; ``market_root`` equals the root this
keeper recomputes from the :class:`~zksolv.market.MarketState` it trusts (so a
proof for another epoch or another market is refused before any pairing);
the commitment equals the one the venue stores for the account (when given);
then the Groth16 pairing check with the keeper's own verification key.

Imports only pure-Python modules: no node, numba or circuit code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from verifier.groth16 import parse_public_signals, parse_verification_key, parse_proof, verify_parsed
from verifier.statement import Statement
from zksolv.commitments import market_root as compute_market_root
from zksolv.errors import VerificationError
from zksolv.market import MarketState

N_PUBLIC = 2  #: [account_commitment, market_root]


@dataclass(frozen=True)
class Verdict:
    """The outcome of :func:`verify`; ``reason`` says why a proof was refused."""

    valid: bool
    reason: str
    account_commitment: int | None = None
    market_root: int | None = None
    epoch: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "reason": self.reason,
            "account_commitment": None if self.account_commitment is None else str(self.account_commitment),
            "market_root": None if self.market_root is None else str(self.market_root),
            "epoch": self.epoch,
        }


def verify(
    proof: Any,
    public: Sequence[Any],
    market: MarketState,
    verification_key: Any,
    *,
    account_commitment: int | None = None,
    statement: Statement | None = None,
) -> Verdict:
    """Is ``proof`` a valid solvency proof for ``market`` (and the given account)?

    Returns a :class:`Verdict`; a malformed proof, key or public-input list is
    an invalid verdict too (with the parse error as the reason), never an
    exception, so a keeper can process untrusted submissions in a loop.
    The market state is the keeper's own input: it is validated here (the
    circuit relies on its ranges) and an invalid one raises
    :class:`~zksolv.errors.InputError`.
    """
    market.validated()
    root = compute_market_root(market)
    try:
        vk = parse_verification_key(verification_key)
        if vk.n_public != N_PUBLIC:
            return Verdict(False, f"verification key has {vk.n_public} public inputs, a solvency circuit has {N_PUBLIC}")
        signals = parse_public_signals(public, N_PUBLIC)
        parsed = parse_proof(proof)
    except VerificationError as exc:
        return Verdict(False, f"malformed: {exc}")
    commitment, claimed_root = signals
    base = dict(account_commitment=commitment, market_root=claimed_root, epoch=market.epoch)
    if statement is not None and statement.epoch != market.epoch:
        return Verdict(False, f"proof is for epoch {statement.epoch}, the market state is epoch {market.epoch}", **base)
    if claimed_root != root:
        return Verdict(False, "market_root differs: the proof is for another market state or epoch", **base)
    if account_commitment is not None and commitment != account_commitment:
        return Verdict(False, "account_commitment differs from the account's registered commitment", **base)
    if not verify_parsed(vk, parsed, signals):
        return Verdict(False, "pairing check failed: the proof is not valid for these public inputs", **base)
    return Verdict(True, "valid", **base)
