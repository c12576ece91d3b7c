"""Where zksolv keeps its per-user cache: one definition for the prover's toolchain and the keeper.

Stdlib only, so the keeper's path (which must not import the toolchain) and
:mod:`zksolv.toolchain.cache` (which re-exports it) name the same folder.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The cache root: ``$ZKSOLV_CACHE`` or ``$XDG_CACHE_HOME/zksolv`` or ``~/.cache/zksolv``."""
    env = os.environ.get("ZKSOLV_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "zksolv"
