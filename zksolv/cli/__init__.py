"""The ``zksolv`` command line: a thin click layer over the library, one module per command family.

:mod:`~zksolv.cli.common` holds what every command shares (exit codes, error handling, output);
:mod:`~zksolv.cli.main` assembles the group. ``python -m zksolv.cli`` and ``python -m zksolv`` run it.
"""

from zksolv.cli.common import EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_INVALID, EXIT_REFUSED, EXIT_TOOLCHAIN
from zksolv.cli.main import main

__all__ = ["main", "EXIT_INVALID", "EXIT_INPUT", "EXIT_TOOLCHAIN", "EXIT_REFUSED", "EXIT_INTERNAL",
           "EXIT_INTERRUPTED"]
