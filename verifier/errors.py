"""The keeper side's one extra exception class (stdlib + :mod:`zksolv.errors` only)."""

from __future__ import annotations

from zksolv.errors import InputError, VerificationError


class MalformedFieldError(InputError, VerificationError):
    """A prover-supplied field (statement, calldata value) is not in its canonical form.

    An :class:`InputError` (the CLI exits 2 and names the field) that is also a
    :class:`VerificationError`, so a keeper loop that treats every
    ``VerificationError`` of an untrusted submission as "reject" keeps working.
    """
