"""The trader's side end to end: account + market -> Groth16 proof bundle.

A book of up to :data:`SINGLE_CIRCUIT_MAX` positions is proven in one circuit
(:class:`ProofBundle`); a larger one (or any, with ``chunk_size``) in chunks
(:class:`ChunkedBundle`: k chunk proofs and a final proof, see
:mod:`prover.chunks`), proven in parallel by :mod:`prover.engines`. The
commitment is the same either way.

:func:`prove` picks the tier, checks the account against the Python reference
(an insolvent or out-of-range account is refused here, before any proving),
builds or reuses the cached circuit and keys, computes the witness in a
private temporary directory (deleted afterwards: it holds every private
value), checks it against the reference (public signals, net greeks, NAV,
margin and requirement must equal the Python values) before proving with the
chosen backend, and checks the proof's public signals once more.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ContextManager

from prover.backends import get_backend
from prover.chunks import DEFAULT_CHUNK_SIZE, plan_chunks
from prover.engines import Progress as TaskProgress
from prover.engines import ProofTask, get_engine
from prover.witness import check_witness, expected_signals, reference_inputs
from verifier.proof_io import save_proof, save_public, save_verification_key
from verifier.statement import STATEMENT_FILE, Statement
from zksolv.account import Account
from zksolv.artifacts import build_artifacts, default_capacity
from zksolv.atomic import staged_dir
from zksolv.circuitgen import Tier
from zksolv.commitments import account_commitment_of, market_root
from zksolv.errors import ProofError
from zksolv.market import MarketState
from zksolv.toolchain import calculate_witness
from zksolv.trusted_setup import ROUTE_DEV

Progress = Callable[[str], ContextManager[Any]]

PROOF_FILE, PUBLIC_FILE, VK_FILE = "proof.json", "public.json", "verification_key.json"
#: A chunked bundle's extra files: the chunk circuit's key, the final proof's and the chunks' folders.
CHUNK_VK_FILE, FINAL_DIR, CHUNKS_DIR = "chunk_verification_key.json", "final", "chunks"
#: Books up to this many positions prove in one circuit by default; larger ones in chunks.
SINGLE_CIRCUIT_MAX = 64


@dataclass(frozen=True)
class ProofBundle:
    """A proof with its public signals, statement and the verification key it was made for."""

    proof: dict[str, Any]
    public: list[str]
    statement: Statement
    verification_key: dict[str, Any]

    def save(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``proof.json``, ``public.json`` (snarkjs formats), ``statement.json``
        and ``verification_key.json`` atomically; returns their paths."""
        out = Path(out_dir)
        paths = {name: out / name for name in (PROOF_FILE, PUBLIC_FILE, STATEMENT_FILE, VK_FILE)}
        save_proof(paths[PROOF_FILE], self.proof)
        save_public(paths[PUBLIC_FILE], self.public)
        save_verification_key(paths[VK_FILE], self.verification_key)
        self.statement.save(paths[STATEMENT_FILE])
        return paths


@dataclass(frozen=True)
class ChunkedBundle:
    """A book proven in chunks: ``chunks[i] = (proof, public)`` for chunk i, the final proof, the
    statement and both verification keys it was made for (snarkjs formats throughout)."""

    chunks: tuple[tuple[dict[str, Any], list[str]], ...]
    proof: dict[str, Any]
    public: list[str]
    statement: Statement
    verification_key: dict[str, Any]
    chunk_verification_key: dict[str, Any]

    def save(self, out_dir: str | Path) -> dict[str, Path]:
        """Write the bundle into ``out_dir`` as a whole: it is staged next to it and renamed into
        place, so ``out_dir`` is never half-written. Layout: ``statement.json``,
        ``verification_key.json`` (final), ``chunk_verification_key.json``,
        ``final/{proof,public}.json``, ``chunks/0000/{proof,public}.json`` ..."""
        out = Path(out_dir)
        with staged_dir(out) as tmp:
            self.statement.save(tmp / STATEMENT_FILE)
            save_verification_key(tmp / VK_FILE, self.verification_key)
            save_verification_key(tmp / CHUNK_VK_FILE, self.chunk_verification_key)
            save_proof(tmp / FINAL_DIR / PROOF_FILE, self.proof)
            save_public(tmp / FINAL_DIR / PUBLIC_FILE, self.public)
            for i, (proof, public) in enumerate(self.chunks):
                save_proof(tmp / CHUNKS_DIR / f"{i:04d}" / PROOF_FILE, proof)
                save_public(tmp / CHUNKS_DIR / f"{i:04d}" / PUBLIC_FILE, public)
        return {STATEMENT_FILE: out / STATEMENT_FILE, FINAL_DIR: out / FINAL_DIR, CHUNKS_DIR: out / CHUNKS_DIR}


def _no_progress(label: str) -> ContextManager[Any]:
    return contextlib.nullcontext()


def tier_for(account: Account, market: MarketState, n_positions: int | None = None) -> Tier:
    """The tier an account proves in: ``n_positions`` or the smallest default capacity."""
    capacity = n_positions if n_positions is not None else default_capacity(len(account.positions))
    return Tier.for_market(market, capacity)


def prove(
    account: Account,
    market: MarketState,
    *,
    n_positions: int | None = None,
    chunk_size: int | None = None,
    n_chunks: int | None = None,
    workers: int | None = None,
    ray_address: str | None = None,
    backend: str = "arkworks",
    route: str = ROUTE_DEV,
    ptau: Path | None = None,
    progress: Progress | None = None,
    task_progress: TaskProgress | None = None,
) -> ProofBundle | ChunkedBundle:
    """Prove ``account`` meets the AVSL rule under ``market``.

    One circuit of capacity ``n_positions`` (default: the smallest that fits)
    for books of up to :data:`SINGLE_CIRCUIT_MAX` positions; in chunks of
    ``chunk_size`` (default :data:`~prover.chunks.DEFAULT_CHUNK_SIZE`) when
    ``chunk_size`` or ``n_chunks`` is given or the book is larger, proven on
    ``workers`` local processes or the Ray cluster at ``ray_address``.

    Raises :class:`~zksolv.errors.InputError` (bad or oversized account),
    :class:`~zksolv.errors.ProofError` (insolvent: no proof is produced) or
    :class:`~zksolv.errors.ToolchainError`. ``progress(label)`` is entered
    around each slow step (the CLI prints timings with it); ``task_progress(done,
    total)`` is called as chunk proofs finish.
    """
    chunked = chunk_size is not None or n_chunks is not None or (
        n_positions is None and len(account.positions) > SINGLE_CIRCUIT_MAX)
    if chunked:
        if n_positions is not None:
            raise ProofError("n_positions (one circuit's capacity) and chunk_size / n_chunks exclude each other")
        return prove_chunked(account, market, chunk_size=chunk_size or DEFAULT_CHUNK_SIZE, n_chunks=n_chunks,
                             workers=workers, ray_address=ray_address, backend=backend, route=route, ptau=ptau,
                             progress=progress, task_progress=task_progress)
    step = progress or _no_progress
    tier = tier_for(account, market, n_positions)
    with step("checking the account against the reference model"):
        inputs, reference = reference_inputs(account, market, tier)
        commitment = account_commitment_of(account, market)
        root = market_root(market)
    with step(f"compiling circuit and {route} setup for {tier.name} (cached)"):
        artifacts = build_artifacts(tier, route, ptau=ptau)
    prover = get_backend(backend)
    with tempfile.TemporaryDirectory(prefix="zksolv-prove-") as tmp:
        wtns = Path(tmp) / "witness.wtns"
        with step("computing the witness"):
            calculate_witness(artifacts.circuit.wasm, inputs, wtns)
            check_witness(artifacts.circuit.sym, wtns, expected_signals(inputs, reference))
        with step(f"proving with {prover.name}"):
            proof = prover.prove(artifacts.keys, wtns)
    if proof.public_signals != [str(commitment), str(root)]:
        raise ProofError("the circuit's public signals differ from the commitment and root computed in Python")
    statement = Statement(
        tier=tier.name, circuit_hash=artifacts.circuit_hash, risk_mode=tier.mode.value, epoch=market.epoch,
        market_root=str(root), account_commitment=str(commitment), setup_route=artifacts.keys.route,
        insecure_setup=artifacts.keys.insecure,
    )
    return ProofBundle(proof.proof, proof.public_signals, statement, artifacts.keys.load_verification_key())


def prove_chunked(
    account: Account,
    market: MarketState,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    n_chunks: int | None = None,
    workers: int | None = None,
    ray_address: str | None = None,
    backend: str = "arkworks",
    route: str = ROUTE_DEV,
    ptau: Path | None = None,
    progress: Progress | None = None,
    task_progress: TaskProgress | None = None,
) -> ChunkedBundle:
    """Prove ``account`` in chunks of ``chunk_size`` (:mod:`prover.chunks`) plus a final proof.

    The chunk proofs and the final proof are independent once the plan is made,
    so they all run on one engine (:func:`prover.engines.get_engine`). A chunk that
    fails raises naming it, and nothing is written.
    """
    step = progress or _no_progress
    with step("checking the account against the reference model and planning the chunks"):
        plan = plan_chunks(account, market, chunk_size, n_chunks=n_chunks)
    with step(f"compiling circuits and {route} setup for {plan.chunk_tier.name} and {plan.final_tier.name}"):
        chunk_art = build_artifacts(plan.chunk_tier, route, ptau=ptau)
        final_art = build_artifacts(plan.final_tier, route, ptau=ptau)
    tasks = [ProofTask(f"chunk {i}", chunk_art.circuit, chunk_art.keys, inputs, tuple(plan.chunk_public(i)), backend)
             for i, inputs in enumerate(plan.chunk_inputs)]
    tasks.append(ProofTask("final proof", final_art.circuit, final_art.keys, plan.final_inputs,
                           tuple(plan.final_public()), backend))
    engine = get_engine(workers, ray_address)
    with step(f"proving {plan.n_chunks} chunks and the final proof ({engine.name} engine)"):
        proofs = engine.run(tasks, task_progress)
    statement = Statement(
        tier=plan.final_tier.name, circuit_hash=final_art.circuit_hash, risk_mode=plan.final_tier.mode.value,
        epoch=market.epoch, market_root=str(plan.market_root), account_commitment=str(plan.account_commitment),
        setup_route=final_art.keys.route, insecure_setup=final_art.keys.insecure or chunk_art.keys.insecure,
        chunk_tier=plan.chunk_tier.name, chunk_circuit_hash=chunk_art.circuit_hash, n_chunks=plan.n_chunks,
    )
    return ChunkedBundle(
        chunks=tuple((p.proof, p.public_signals) for p in proofs[:-1]),
        proof=proofs[-1].proof, public=proofs[-1].public_signals, statement=statement,
        verification_key=final_art.keys.load_verification_key(),
        chunk_verification_key=chunk_art.keys.load_verification_key(),
    )
