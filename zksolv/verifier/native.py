"""The native fast path: groth16py (arkworks, Rust) over a local process pool.

Optional (``pip install zksolv[keeper-native]``): nothing here imports groth16py until a
check runs, so ``import zksolv.verifier.native`` stays light. Each worker process parses the
verification key once (:func:`_init_worker`) and checks chunks of proofs given as snarkjs
JSON strings; groth16py rejects off-curve points, points outside G2 and inputs ``>= r``.
The pool is :class:`concurrent.futures.ProcessPoolExecutor` (embedded: nothing to start);
``workers=1`` checks in this process, and so does the default for fewer than
:data:`MIN_PER_PROCESS` proofs a process (starting a worker, importing groth16py and parsing
the key there costs more than ~1.5 ms per proof saves: a 1,024-position chunked bundle is 17
proofs, ~25 ms in process, against 50-100 ms for a pool of two).

py_ecc (:mod:`zksolv.verifier.batch`) stays the independent reference: the tests run every case
through both paths and require the same verdicts.
"""

from __future__ import annotations

import importlib.util
import json
import os
from typing import Any, Sequence

_VERIFIER: Any = None
#: With the default ``workers``, a worker process is started per this many proofs (at least one).
MIN_PER_PROCESS = 256


def available() -> bool:
    """Whether groth16py is importable (the ``keeper-native`` extra)."""
    return importlib.util.find_spec("groth16py") is not None


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _init_worker(vk_json: str) -> None:
    global _VERIFIER
    import groth16py

    _VERIFIER = groth16py.Verifier(groth16py.VerifyingKey.from_snarkjs(vk_json))


def _check_chunk(chunk: Sequence[tuple[str, str]]) -> list[bool]:
    out = []
    for proof, public in chunk:
        try:
            out.append(bool(_VERIFIER.verify_snarkjs(proof, public)))
        except Exception:  # groth16py raises EncodingError / VerificationError on bad points
            out.append(False)
    return out


def check_native(vk: dict[str, Any], items: Sequence[tuple[Any, Sequence[int]]],
                 workers: int | None = None) -> list[bool]:
    """groth16py's verdict for each ``(proof JSON object, public ints)``, in order.

    ``workers``: processes to use (default: every core this process may use, one per
    :data:`MIN_PER_PROCESS` proofs, in process below that; 1 = in process).
    """
    if not items:
        return []
    vk_json = json.dumps(vk)
    encoded = [(json.dumps(proof), json.dumps([str(x) for x in public])) for proof, public in items]
    if workers is None:
        n = min(default_workers(), -(-len(encoded) // MIN_PER_PROCESS))
    else:
        n = min(workers, len(encoded))
    if n <= 1:
        _init_worker(vk_json)
        return _check_chunk(encoded)
    from concurrent.futures import ProcessPoolExecutor  # multiprocessing: only when a pool is used

    size = max(1, -(-len(encoded) // (4 * n)))
    chunks = [encoded[i:i + size] for i in range(0, len(encoded), size)]
    with ProcessPoolExecutor(max_workers=n, initializer=_init_worker, initargs=(vk_json,)) as pool:
        return [ok for part in pool.map(_check_chunk, chunks) for ok in part]
