"""Keeper-side check of a book proven in chunks (``zksolv prove`` on a large book).

A bundle is k chunk proofs and a final proof (``zksolv.prover.chunks``)::

    chunk i:  public [market_root, s_i, s_{i+1}]       (chunk circuit's key)
    final:    public [account_commitment, market_root, s_0, s_k]   (final circuit's key)

The checks are :class:`zksolv.verifier.verify.ChunkedSubmission`'s (shapes, roots,
the state chain, the registered commitment, then every pairing batched per
key); this module reads a saved bundle and offers :func:`verify_chunked` for
one bundle. Like :func:`zksolv.verifier.verify.verify`, untrusted input gives an
invalid :class:`~zksolv.verifier.verify.Verdict`, never an exception.

Pure Python (py_ecc): no node, numba or circuit code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from zksolv.proofs.proof_io import CHUNKS_DIR, PROOF_FILE, PUBLIC_FILE, load_proof, load_public
from zksolv.proofs.statement import Statement
from zksolv.verifier.verify import ChunkedSubmission, Verdict, malformed, prepare_key, verify_many
from zksolv.core.errors import VerificationError
from zksolv.core.market import MarketState



def load_chunks(folder: Path, n_chunks: int) -> list[tuple[Any, Any]]:
    """``(proof, public)`` of chunks ``0000`` .. of a bundle folder; :class:`VerificationError` if
    the folder holds another number of chunks than ``n_chunks`` (its statement's count)."""
    root = Path(folder) / CHUNKS_DIR
    names = sorted(p.name for p in root.iterdir()) if root.is_dir() else []
    expected = [f"{i:04d}" for i in range(n_chunks)]
    if names != expected:
        raise VerificationError(f"{CHUNKS_DIR}/: expected chunk folders 0000..{n_chunks - 1:04d}, found {len(names)}")
    return [(load_proof(root / n / PROOF_FILE), load_public(root / n / PUBLIC_FILE)) for n in names]


def verify_chunked(
    chunks: Sequence[tuple[Any, Any]],
    proof: Any,
    public: Sequence[Any],
    market: MarketState,
    verification_key: Any,
    chunk_verification_key: Any,
    *,
    account_commitment: int | None = None,
    statement: Statement | None = None,
) -> Verdict:
    """Is this chunked bundle a valid solvency proof for ``market`` (and the given account)?

    ``verification_key`` is the keeper's key of the final circuit, ``chunk_verification_key``
    of the chunk circuit (snarkjs JSON or prepared). One :class:`ChunkedSubmission` through
    :func:`zksolv.verifier.verify.verify_many`; a malformed key or bundle is an invalid verdict.
    """
    try:
        final_key, chunk_key = prepare_key(verification_key), prepare_key(chunk_verification_key)
    except VerificationError as exc:
        return malformed(str(exc), epoch=market.epoch)
    submission = ChunkedSubmission(chunks, proof, public, final_key, chunk_key, account_commitment, statement)
    return verify_many([submission], market)[0]
