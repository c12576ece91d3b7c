"""The optional dependency groups ("extras") of the zksolv package, by role.

The base install is what a keeper needs (``zksolv verify``, ``commit``, ``market
commit``, ``export-solidity``): py_ecc and click. Everything else is an extra
(``pyproject.toml``, ``[project.optional-dependencies]``)::

    pip install 'zksolv[prover]'         numpy, numba, groth16py: market demo, report, setup, prove, demo
    pip install 'zksolv[keeper-native]'  groth16py: zksolv verify --backend native
    pip install 'zksolv[plots]'          matplotlib: the benchmark plots
    pip install 'zksolv[fast]'           wasmtime: the in-process witness calculator
    pip install 'zksolv[poseidon]'       light-poseidon: native Poseidon (cross-checked; pure Python without it)
    pip install 'zksolv[ray]'            ray: chunk proofs on a Ray cluster
    pip install 'zksolv[chain]'          web3: zksolv chain ..., zksolv keeper run (a real chain)

:func:`require` fails early with a message naming the extra; :func:`missing_extra`
turns an ``ImportError`` of an optional module met later into the same message.
"""

from __future__ import annotations

import importlib.util
import sys

from zksolv.core.errors import ToolchainError

#: The modules each extra provides (checked by :func:`require`; keep in step with pyproject.toml).
EXTRAS: dict[str, tuple[str, ...]] = {
    "prover": ("numpy", "numba", "groth16py"),
    "keeper-native": ("groth16py",),
    "plots": ("matplotlib",),
    "fast": ("wasmtime",),
    "poseidon": ("light_poseidon_python",),
    "ray": ("ray",),
    "chain": ("web3",),
}

#: The distribution (pyproject name) of a module whose import name differs from it.
DISTRIBUTION: dict[str, str] = {"light_poseidon_python": "light-poseidon"}

#: The extra to name when a module is missing (numba's llvmlite comes with numba).
EXTRA_OF: dict[str, str] = {"numpy": "prover", "numba": "prover", "llvmlite": "prover", "groth16py": "prover",
                            "matplotlib": "plots", "wasmtime": "fast", "ray": "ray",
                            "web3": "chain", "eth_account": "chain", "eth_abi": "chain", "eth_utils": "chain"}


class MissingExtraError(ToolchainError):
    """An optional dependency group is not installed (exit code 3 on the command line)."""


def importable(module: str) -> bool:
    """Whether ``module`` (top level) can be imported, without importing it."""
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _message(what: str, extra: str, missing: list[str]) -> str:
    return (f"{what} needs the '{extra}' extra ({', '.join(missing)} not installed): "
            f"pip install 'zksolv[{extra}]'")


def require(extra: str, what: str) -> None:
    """Raise :class:`MissingExtraError` naming ``extra`` if any of its modules is missing.

    ``what`` names the feature in the message (``"zksolv prove"``).
    """
    missing = [m for m in EXTRAS[extra] if not importable(m)]
    if missing:
        raise MissingExtraError(_message(what, extra, missing))


def missing_extra(exc: ImportError, what: str = "this command") -> MissingExtraError | None:
    """The :class:`MissingExtraError` for an ``ImportError`` of an optional module, else ``None``."""
    name = (getattr(exc, "name", None) or "").partition(".")[0]
    extra = EXTRA_OF.get(name)
    if extra is None:
        return None
    return MissingExtraError(_message(what, extra, [name]))
