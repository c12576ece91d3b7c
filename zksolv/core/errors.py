"""The zksolv exception hierarchy.

Every error a user can trigger is a :class:`ZksolvError`. Messages name the
offending field and the limit it broke (``positions[3].quantity: 2^70 exceeds
the 52-bit limit``) and never contain private values (quantities, balances,
salts): callers format them from field *names* and public limits only.
"""

from __future__ import annotations


class ZksolvError(Exception):
    """Base class of every error zksolv raises on purpose."""


class InputError(ZksolvError, ValueError):
    """Bad user input: malformed JSON, unknown instrument, value out of range."""


class ToolchainError(ZksolvError):
    """node / npm / circom / snarkjs missing, failing or timing out."""


class CacheError(ZksolvError):
    """A cached artifact is missing, corrupt or does not match its checksum."""


class ProofError(ZksolvError):
    """A proof cannot be produced (e.g. the account is insolvent)."""


class VerificationError(ZksolvError):
    """A proof is malformed or bound to another market, epoch or account."""


class InsecureSetupWarning(UserWarning):
    """Emitted whenever development (single-party) keys are created or loaded.

    Defined here (re-exported by :mod:`zksolv.toolchain.trusted_setup`) so that the CLI can
    silence it without importing the setup code, which no keeper needs.
    """


class MalformedFieldError(InputError, VerificationError):
    """A prover-supplied field (statement, calldata value) is not in its canonical form.

    An :class:`InputError` (the CLI exits 2 and names the field) that is also a
    :class:`VerificationError`, so a keeper loop that treats every
    ``VerificationError`` of an untrusted submission as "reject" keeps working.
    """
