"""zksolv: zero-knowledge proofs that an account meets the AVSL maintenance margin.

Importing ``zksolv`` is light (no numba, no node): the keeper-side
``verifier`` package depends on :mod:`zksolv.market`, :mod:`zksolv.poseidon`
and :mod:`zksolv.commitments` only. Heavy modules (pricing with numba, the
toolchain that runs node) are imported where they are used.
"""

__version__ = "0.1.0"

import logging as _logging

# Library convention: no output unless the application configures logging.
_logging.getLogger(__name__).addHandler(_logging.NullHandler())
