"""Where zksolv finds the files it reads at run time besides its Python code.

Two layouts, one rule each:

* **a checkout** (the repository, installed editable by ``scripts/bootstrap.sh``):
  ``circuits/``, ``contracts/``, ``package.json`` and ``package-lock.json`` at the
  repository root, as developers edit them, and ``node_modules/`` next to them
  (``npm ci`` by ``scripts/bootstrap.sh``);
* **an installed wheel**: the same files shipped as package data under
  ``zksolv/_data/`` (in the repository these are symlinks to the root folders, so
  there is one copy in git and the wheel gets real files), and the pinned npm
  packages installed with ``npm ci`` on first use into the user cache
  (:func:`zksolv.toolchain.project_root`), never into site-packages.

This module imports nothing beyond the standard library: the keeper's ``zksolv
verify`` reaches :func:`circuits_dir` through the circuit generator.
"""

from __future__ import annotations

from pathlib import Path

#: The installed ``zksolv`` package directory.
PACKAGE_DIR = Path(__file__).resolve().parent.parent
#: Package data of a wheel: circuits/, contracts/, package.json, package-lock.json.
DATA_DIR = PACKAGE_DIR / "_data"


def checkout_root() -> Path | None:
    """The repository root when zksolv runs from a checkout (editable install), else ``None``.

    A checkout is recognised by ``package.json`` and ``circuits/`` next to the package.
    """
    root = PACKAGE_DIR.parent
    if (root / "package.json").is_file() and (root / "circuits").is_dir():
        return root
    return None


def source_root() -> Path:
    """The folder holding ``circuits/``, ``contracts/``, ``package.json`` and ``package-lock.json``:
    the checkout's root, or the wheel's package data."""
    return checkout_root() or DATA_DIR


def circuits_dir() -> Path:
    """The Circom templates (``circuits/*.circom``)."""
    return source_root() / "circuits"


def contracts_dir() -> Path:
    """The hand-written Solidity sources (``contracts/*.sol``)."""
    return source_root() / "contracts"


def js_dir() -> Path:
    """zksolv's own node scripts (``zksolv/js/*.mjs``; package data in both layouts)."""
    return PACKAGE_DIR / "js"
