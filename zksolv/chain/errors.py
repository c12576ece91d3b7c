"""Errors of the chain client (web3-free, so the CLI can name them without the extra)."""

from __future__ import annotations

from zksolv.core.errors import InputError, ToolchainError


class ChainError(ToolchainError):
    """The chain is unreachable, a transaction was dropped or could not be sent (exit 3)."""


class RevertedError(ChainError):
    """A transaction (or its simulation) reverted; ``error`` is the registry's custom error
    decoded by name, e.g. ``AlreadyProven(123, 456)``."""

    def __init__(self, what: str, error: str, tx_hash: str | None = None) -> None:
        self.what = what
        self.error = error
        self.tx_hash = tx_hash
        where = f" (tx {tx_hash})" if tx_hash else ""
        super().__init__(f"{what}: reverted {error}{where}")


class SignerError(InputError):
    """No usable signer: no key configured, a keystore that does not open (exit 2)."""
