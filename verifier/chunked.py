"""Keeper-side check of a book proven in chunks (``zksolv prove`` on a large book).

A bundle is k chunk proofs and a final proof (``prover.chunks``)::

    chunk i:  public [market_root, s_i, s_{i+1}]       (chunk circuit's key)
    final:    public [account_commitment, market_root, s_0, s_k]   (final circuit's key)

:func:`verify_chunked` checks, before any pairing: the counts and shapes of
the public inputs, that every proof names the ``market_root`` this keeper
recomputes from its own market state, that the states link in order
(``s_0`` of the final is chunk 0's input, each chunk's output the next one's
input, the last output is the final's ``s_k``: a re-ordered, dropped,
duplicated or foreign chunk breaks the chain), and the registered commitment
when given; then every pairing check with the keeper's two keys. Like
:func:`verifier.verify.verify`, untrusted input gives an invalid
:class:`~verifier.verify.Verdict`, never an exception.

Pure Python (py_ecc): no node, numba or circuit code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from verifier.groth16 import parse_proof, parse_public_signals, parse_verification_key, verify_parsed
from verifier.proof_io import load_proof, load_public
from verifier.statement import MAX_CHUNKS, Statement
from verifier.verify import Verdict
from zksolv.commitments import market_root as compute_market_root
from zksolv.errors import VerificationError
from zksolv.market import MarketState

N_PUBLIC_CHUNK = 3  #: [market_root, state_in, state_out]
N_PUBLIC_FINAL = 4  #: [account_commitment, market_root, state_first, state_last]

#: Folder layout of a saved chunked bundle (as ``prover.prove.ChunkedBundle.save`` writes it).
FINAL_DIR, CHUNKS_DIR, CHUNK_VK_FILE = "final", "chunks", "chunk_verification_key.json"


def load_chunks(folder: Path, n_chunks: int) -> list[tuple[Any, Any]]:
    """``(proof, public)`` of chunks ``0000`` .. of a bundle folder; :class:`VerificationError` if
    the folder holds another number of chunks than ``n_chunks`` (its statement's count)."""
    root = Path(folder) / CHUNKS_DIR
    names = sorted(p.name for p in root.iterdir()) if root.is_dir() else []
    expected = [f"{i:04d}" for i in range(n_chunks)]
    if names != expected:
        raise VerificationError(f"{CHUNKS_DIR}/: expected chunk folders 0000..{n_chunks - 1:04d}, found {len(names)}")
    return [(load_proof(root / n / "proof.json"), load_public(root / n / "public.json")) for n in names]


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
    """Is this chunked bundle a valid solvency proof for ``market`` (and the given account)?"""
    market.validated()
    root = compute_market_root(market)
    try:
        final_vk = parse_verification_key(verification_key)
        chunk_vk = parse_verification_key(chunk_verification_key)
        if final_vk.n_public != N_PUBLIC_FINAL or chunk_vk.n_public != N_PUBLIC_CHUNK:
            return Verdict(False, f"verification keys have {final_vk.n_public} / {chunk_vk.n_public} public inputs; "
                                  f"a final / chunk circuit has {N_PUBLIC_FINAL} / {N_PUBLIC_CHUNK}")
        if not 1 <= len(chunks) <= MAX_CHUNKS:
            return Verdict(False, f"malformed: a chunked bundle has 1 to {MAX_CHUNKS} chunk proofs, not {len(chunks)}")
        final = parse_public_signals(public, N_PUBLIC_FINAL)
        final_proof = parse_proof(proof)
        parsed = [(parse_proof(p), parse_public_signals(s, N_PUBLIC_CHUNK)) for p, s in chunks]
    except VerificationError as exc:
        return Verdict(False, f"malformed: {exc}")
    commitment, claimed_root, first, last = final
    base = dict(account_commitment=commitment, market_root=claimed_root, epoch=market.epoch)
    if statement is not None:
        if statement.epoch != market.epoch:
            return Verdict(False, f"proof is for epoch {statement.epoch}, the market state is epoch {market.epoch}", **base)
        if statement.n_chunks != len(chunks):
            return Verdict(False, f"the statement claims {statement.n_chunks} chunks, the bundle has {len(chunks)}", **base)
    if claimed_root != root or any(s[0] != root for _, s in parsed):
        return Verdict(False, "market_root differs: the proof is for another market state or epoch", **base)
    if account_commitment is not None and commitment != account_commitment:
        return Verdict(False, "account_commitment differs from the account's registered commitment", **base)
    link = first
    for i, (_, (_, state_in, state_out)) in enumerate(parsed):
        if state_in != link:
            return Verdict(False, f"chunk {i} does not continue the previous state: the chunks do not link", **base)
        link = state_out
    if link != last:
        return Verdict(False, "the last chunk does not end in the final proof's state: the chunks do not link", **base)
    if not verify_parsed(final_vk, final_proof, final):
        return Verdict(False, "pairing check failed on the final proof", **base)
    for i, (p, s) in enumerate(parsed):
        if not verify_parsed(chunk_vk, p, s):
            return Verdict(False, f"pairing check failed on chunk {i}", **base)
    return Verdict(True, "valid", **base)
