"""zksolv: zero-knowledge proofs that an account meets the AVSL maintenance margin.

The library's front door (each name is imported on first use, so ``import zksolv`` stays light
and a keeper never pulls in numpy, numba or node)::

    from zksolv import MarketState, Account, prove, verify, verify_many

- :class:`MarketState` (:mod:`zksolv.core.market`), :class:`Account` (:mod:`zksolv.core.account`);
- :func:`prove` (:mod:`zksolv.prover.prove`; the ``prover`` extra), :func:`prove_chunked`;
- :func:`verify`, :func:`verify_many` (:mod:`zksolv.verifier.verify`), the keeper's side.

The folders are the architecture (README, "Layout"): ``core`` → ``risk`` / ``proofs`` →
``verifier`` / ``toolchain`` → ``prover`` / ``oracle`` / ``chain`` → ``app`` → ``cli``.
"""

from __future__ import annotations

import importlib
import logging as _logging
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Library convention: no output unless the application configures logging.
_logging.getLogger(__name__).addHandler(_logging.NullHandler())

#: public name -> the module that defines it (imported lazily by __getattr__)
_EXPORTS = {
    "MarketState": "zksolv.core.market",
    "Account": "zksolv.core.account",
    "ZksolvError": "zksolv.core.errors",
    "InputError": "zksolv.core.errors",
    "VerificationError": "zksolv.core.errors",
    "ProofError": "zksolv.core.errors",
    "prove": "zksolv.prover.prove",
    "prove_chunked": "zksolv.prover.prove",
    "verify": "zksolv.verifier.verify",
    "verify_many": "zksolv.verifier.verify",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:
    from zksolv.core.account import Account
    from zksolv.core.errors import InputError, ProofError, VerificationError, ZksolvError
    from zksolv.core.market import MarketState
    from zksolv.prover.prove import prove, prove_chunked
    from zksolv.verifier.verify import verify, verify_many


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'zksolv' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
