"""The native Poseidon behind :func:`zksolv.core.poseidon.poseidon`, trusted only once cross-checked.

The optional ``poseidon`` extra installs ``light-poseidon`` (PyPI, Rust: the light-poseidon crate with
circomlib's constants, module ``light_poseidon_python``), which hashes 1..12 inputs. The project's
arities are 4 (account commitment), 6 (instrument leaf, market root), 8 (Merkle node) and 9
(entry blocks) natively; 16 (``hash_list``) stays pure Python. ``light-poseidon-python`` (the
same module name) is recognised too, but it only hashes 2 inputs, which the project never does.

Nothing from the extension is used unchecked: before an arity's first hash in a process,
:func:`checked_native` hashes fixed vectors with both implementations and keeps the native one
only if every output matches. An import error, an arity the library lacks, or an exception on a
check vector quietly means pure Python for that arity; a *mismatch* disables the native library for
every arity of the process and says so once on stderr (a library that computes a different
function must not be half trusted). ``ZKSOLV_POSEIDON=python`` in the environment forces the
reference (benchmarks use it for the before figure). Inputs reach the native code only after
:func:`zksolv.core.poseidon.poseidon` has range-checked them.
"""

from __future__ import annotations

import os
import sys
from typing import Callable, Sequence

from zksolv.core.fixedpoint import FIELD_MODULUS as P

#: The extension module both native distributions install.
MODULE = "light_poseidon_python"
#: The environment variable that forces the pure-Python reference when set to ``python``.
ENV = "ZKSOLV_POSEIDON"

HashFn = Callable[[Sequence[int]], int]

_state = {"disabled": False, "warned": False}


def check_vectors(n: int) -> list[list[int]]:
    """Fixed inputs of arity ``n`` every native arity must reproduce: zeros, ``p - 1``, a counter
    and a spread of large values (all bytes of the 32-byte encoding in play)."""
    spread = [(0x9E3779B97F4A7C15F39CC0605CEDC834 * (i + 1) ** 7 + 0xB7E151628AED2A6A * i) % P for i in range(n)]
    return [[0] * n, [P - 1] * n, list(range(1, n + 1)), spread]


def _load():  # type: ignore[no-untyped-def]
    """The extension module, or ``None`` if it is not installed, unloadable or switched off."""
    if os.environ.get(ENV, "").strip().lower() == "python" or _state["disabled"]:
        return None
    try:
        import light_poseidon_python as mod  # type: ignore[import-not-found]
    except Exception:  # ImportError, or a broken wheel raising anything while loading
        return None
    return mod


def _to_int(out: object) -> int:
    """The library's output (``0x``-hex string, decimal string or int) as an int."""
    if isinstance(out, int) and not isinstance(out, bool):
        return out
    if isinstance(out, str):
        return int(out, 16) if out[:2].lower() == "0x" else int(out, 10)
    raise TypeError(f"unexpected native Poseidon output type {type(out).__name__}")


def _adapter(mod, n: int) -> HashFn | None:  # type: ignore[no-untyped-def]
    """A function hashing ``n`` inputs with ``mod``, or ``None`` if the library lacks arity ``n``."""
    try:
        hasher = mod.Hasher(n)
    except Exception:
        return None
    if hasattr(hasher, "hash_bytes_be"):  # light-poseidon: 32-byte big-endian field elements
        hash_be = hasher.hash_bytes_be
        return lambda xs: _to_int(hash_be([x.to_bytes(32, "big") for x in xs]))
    if hasattr(hasher, "hash"):  # light-poseidon-python: ints in, decimal string out
        plain = hasher.hash
        return lambda xs: _to_int(plain(list(xs)))
    return None


def checked_native(n: int, reference: HashFn) -> HashFn | None:
    """The native hash of arity ``n`` if it reproduces ``reference`` on :func:`check_vectors`, else ``None``.

    On a mismatch the native library is disabled for the rest of the process (every arity) and one
    line goes to stderr.
    """
    mod = _load()
    if mod is None:
        return None
    fn = _adapter(mod, n)
    if fn is None:
        return None
    for xs in check_vectors(n):
        try:
            got = fn(xs)
        except Exception:
            return None  # the library refuses this arity or input: pure Python, no alarm
        if got != reference(xs):
            _state["disabled"] = True
            if not _state["warned"]:
                _state["warned"] = True
                print(f"zksolv: native Poseidon ({MODULE} {getattr(mod, '__version__', '?')}) disagrees with the "
                      f"circomlib reference on {n} inputs; using pure-Python Poseidon for this process",
                      file=sys.stderr)
            return None
    return fn


def backend() -> dict[int, str]:
    """Which implementation each arity resolved so far in this process uses (``native``/``python``)."""
    from zksolv.core.poseidon import _NATIVE

    return {n: ("native" if fn is not None else "python") for n, fn in sorted(_NATIVE.items())}


def reset() -> None:
    """Forget every arity's decision and a mismatch seen (tests; the next hash re-checks)."""
    from zksolv.core.poseidon import _NATIVE

    _NATIVE.clear()
    _state.update(disabled=False, warned=False)
