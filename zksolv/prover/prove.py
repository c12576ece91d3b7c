"""The trader's side end to end: account + market -> Groth16 proof bundle.

The market's venue policy (:mod:`zksolv.core.venue`) decides the circuit: a book
that fits one of its tiers is proven in the smallest such tier
(:class:`ProofBundle`), a larger one in the venue's chunks, padded to the
smallest chunk count it accepts (:class:`ChunkedBundle`: k chunk proofs and a
final proof, see :mod:`zksolv.prover.chunks`), proven in parallel by
:mod:`zksolv.prover.engines`. The commitment is the same either way, and the proof
reveals only the bucket. Explicit ``n_positions`` / ``chunk_size`` /
``n_chunks`` override the policy (development, benchmarks); keepers refuse
proofs outside it, and ``zksolv prove`` refuses such options up front.

:func:`prove` picks the tier, checks the account against the Python reference
(an insolvent or out-of-range account is refused here, before any proving),
builds or reuses the cached circuit and keys, computes the witness in a
private temporary directory (deleted afterwards: it holds every private
value), checks it against the reference (public signals, net greeks, NAV,
margin and requirement must equal the Python values) before proving with the
chosen backend, and checks the proof's public signals once more.

Latency (what a trader waits for every epoch): the witness is computed
in-process by circom's wasm under wasmtime when the optional ``wasmtime``
package is installed (:mod:`zksolv.prover.witness_wasm`; node otherwise), and the
arkworks proof is made by the resident prover (:mod:`zksolv.prover.daemon`, started
with ``zksolv prover start``) when one runs, so the proving key is not loaded
again; without one the key is loaded in this process, with a one-line note.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ContextManager

from zksolv.prover import daemon, market_cache
from zksolv.prover.backends import Proof, check_backend_route, get_backend
from zksolv.prover.chunks import chunk_groups_touched, plan_chunks
from zksolv.prover.engines import Progress as TaskProgress
from zksolv.prover.engines import ProofTask, get_engine
from zksolv.prover.witness import check_witness, expected_signals, reference_inputs
from zksolv.prover.witness_wasm import calculate_witness
from zksolv.proofs.proof_io import (CHUNK_VK_FILE, CHUNKS_DIR, FINAL_DIR, PROOF_FILE, PUBLIC_FILE, VK_FILE, save_proof,
                                    save_public, save_verification_key)
from zksolv.proofs.statement import STATEMENT_FILE, Statement
from zksolv.core.account import Account
from zksolv.toolchain.artifacts import build_artifacts, check_keyset_has, keyset_artifacts
from zksolv.core.atomic import staged_dir
from zksolv.toolchain.circuitgen import Tier
from zksolv.core.commitments import account_commitment_of, market_root
from zksolv.core.errors import InputError, ProofError, ToolchainError
from zksolv.core.market import MarketState
from zksolv.core.merkle import cheapest_groups, groups_touched
from zksolv.core.venue import Padding, chunks_needed
from zksolv.toolchain.trusted_setup import ROUTE_DEV, KeyPair

log = logging.getLogger(__name__)

#: ``progress(label)``: a context manager entered around each slow step. Whatever it yields may
#: have a ``note(text)`` method: the compile-and-setup step calls ``note("cached")`` on a real
#: cache hit (nothing compiled, no setup run), so a progress line never claims a cold build was cached.
Progress = Callable[[str], ContextManager[Any]]
Note = Callable[[str], None]


def _note_cached(handle: Any, cached: bool) -> None:
    """``handle.note("cached")`` when the artifacts were a real cache hit and the handle takes notes."""
    note = getattr(handle, "note", None)
    if cached and callable(note):
        note("cached")

#: ``resident=`` choices: use the resident prover if it runs (else prove here, with a note),
#: require it, or never use it.
RESIDENT_MODES = ("auto", "require", "off")
NOT_RUNNING_NOTE = "no resident prover running (`zksolv prover start` keeps the proving key loaded); proving in this process"



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


def tier_for(account: Account, market: MarketState, n_positions: int | None = None,
             groups: int | None = None) -> Tier | None:
    """The one-circuit tier an account proves in: capacity ``n_positions``, else the smallest tier of
    the venue's policy that holds its positions; None when none does (the book proves in chunks).
    Its leaves open through ``groups`` groups (0: a path per position; None: :func:`groups_for`)."""
    slots = account.position_slots(market)
    capacity = n_positions if n_positions is not None else market.venue.tier_for(len(slots))
    if capacity is None:
        return None
    if groups is None:
        groups = groups_for(market, groups_touched(i for i, _ in slots), capacity)
    return Tier.for_market(market, capacity, groups)


def groups_for(market: MarketState, touched: int, capacity: int) -> int:
    """The group count a circuit of ``capacity`` slots uses when its positions lie in ``touched``
    groups of 8 listings: the cheapest grouped circuit the venue accepts (``venue.groups``,
    greeks modes), or 0 (a path per position; :func:`zksolv.core.merkle.cheapest_groups`)."""
    return cheapest_groups(touched, market.group_counts, capacity, market.tree_depth)


def circuits_for(account: Account, market: MarketState) -> list[Any]:
    """The circuits :func:`prove` (with its default options) proves ``account`` in, so ``zksolv setup
    --for-account`` builds exactly those: its one-circuit tier (:func:`tier_for`), or for a book larger
    than the venue's largest tier the chunk circuit of the venue's chunk size and the final circuit.
    :class:`~zksolv.core.errors.InputError` for an account the market does not list, or a book no
    accepted chunk count holds."""
    tier = tier_for(account, market)
    if tier is not None:
        return [tier]
    from zksolv.toolchain.circuitgen import ChunkTier, FinalTier

    size = market.venue.chunk_size
    market.venue.padding(len(account.position_slots(market)), size)  # refuses a book no accepted count holds
    groups = groups_for(market, chunk_groups_touched(account, market, size), size)
    return [ChunkTier.for_market(market, size, groups), FinalTier.for_market(market)]


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
    resident: str = "auto",
    witness_engine: str | None = None,
    note: Note | None = None,
    keys: Path | None = None,
    groups: int | None = None,
) -> ProofBundle | ChunkedBundle:
    """Prove ``account`` meets the AVSL rule under ``market``.

    One circuit of capacity ``n_positions`` (default: the venue's smallest tier
    that fits); in chunks of ``chunk_size`` (default: the venue's) padded to
    ``n_chunks`` (default: the venue's smallest count that fits) when either is
    given or no tier fits, proven on ``workers`` local processes or the Ray
    cluster at ``ray_address``.

    Raises :class:`~zksolv.core.errors.InputError` (bad or oversized account),
    :class:`~zksolv.core.errors.ProofError` (insolvent: no proof is produced) or
    :class:`~zksolv.core.errors.ToolchainError`. ``progress(label)`` is entered
    around each slow step (the CLI prints timings with it); ``task_progress(done,
    total)`` is called as chunk proofs finish.

    ``resident`` (arkworks backend): ``"auto"`` proves with the resident prover when
    it runs and in this process (chunks: on the local pool) otherwise, calling ``note``
    (default: the log) with one line; ``"require"`` raises :class:`ToolchainError` when
    none runs; ``"off"`` never uses it. Chunks go to Ray when ``ray_address`` is
    given, and to the local pool when ``workers`` is (unless ``"require"``). A resident prover that dies during the
    proof raises :class:`ToolchainError` in every mode. ``witness_engine``:
    ``"auto"`` (wasmtime if installed, else node), ``"wasmtime"`` or ``"node"``.
    A chunked book also gets one ``note`` line saying what the size bucket costs it
    (:meth:`~zksolv.core.venue.Padding.describe`; never the log: it names the unpadded count).

    ``keys``: the venue's key set (``zksolv ceremony finalize``): prove with its proving keys
    (``route`` and ``ptau`` are then unused); a set without the needed circuit is refused
    (:class:`InputError`) before any work.

    ``groups``: open the leaves through that many groups of 8 instruments (a grouped circuit,
    ``_g<G>``; 0: a path per position); default the cheapest the venue accepts for this book
    (:func:`groups_for`: none unless the market's ``venue.groups`` lists some).
    """
    if resident not in RESIDENT_MODES:
        raise ToolchainError(f"resident must be one of {', '.join(RESIDENT_MODES)}, not {resident!r}")
    check_backend_route(backend, route)
    if n_positions is not None and (chunk_size is not None or n_chunks is not None):
        raise InputError("n_positions (one circuit's capacity) and chunk_size / n_chunks exclude each other")
    tier = None if chunk_size is not None or n_chunks is not None else tier_for(account, market, n_positions, groups)
    if tier is None:
        return prove_chunked(account, market, chunk_size=chunk_size, n_chunks=n_chunks,
                             workers=workers, ray_address=ray_address, backend=backend, route=route, ptau=ptau,
                             progress=progress, task_progress=task_progress, resident=resident, note=note, keys=keys,
                             groups=groups)
    if keys is not None:
        check_keyset_has(keys, [tier.name])
    step = progress or _no_progress
    with step("checking the account against the reference model"):
        market_cache.prime(market)
        inputs, reference = reference_inputs(account, market, tier)
        commitment = account_commitment_of(account, market)
        root = market_root(market)
    with step(f"compiling circuit and {'the key set' if keys else route + ' setup'} for {tier.name}") as shown:
        artifacts = keyset_artifacts(tier, keys) if keys is not None else build_artifacts(tier, route, ptau=ptau)
        _note_cached(shown, artifacts.cached)
    prover = get_backend(backend)
    with tempfile.TemporaryDirectory(prefix="zksolv-prove-") as tmp:
        wtns = Path(tmp) / "witness.wtns"
        with step("computing the witness"):
            engine = {} if witness_engine is None else {"engine": witness_engine}  # None: $ZKSOLV_WITNESS or auto
            calculate_witness(artifacts.circuit.wasm, inputs, wtns, **engine)
            check_witness(artifacts.circuit.sym, wtns, expected_signals(inputs, reference))
        proof: Proof | None = None
        if prover.name == "arkworks" and resident != "off":
            try:
                proof = _prove_resident(artifacts.keys, wtns, step)
            except daemon.NotRunning:
                if resident == "require":
                    raise ToolchainError("no resident prover running: start one with `zksolv prover start`") from None
                (note or log.info)(NOT_RUNNING_NOTE)
        if proof is None:
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


def _prove_resident(keys: KeyPair, wtns: Path, step: Progress) -> Proof:
    """The proof from the resident prover; :class:`daemon.NotRunning` if none answers."""
    connection = daemon.socket_path()
    running = daemon.status(connection)
    if running is None:
        raise daemon.NotRunning(f"no resident prover at {connection}")
    with step(f"proving with arkworks (resident prover, pid {running['pid']})"):
        return daemon.prove_resident(keys, wtns, path=connection)


def prove_chunked(
    account: Account,
    market: MarketState,
    *,
    chunk_size: int | None = None,
    n_chunks: int | None = None,
    workers: int | None = None,
    ray_address: str | None = None,
    backend: str = "arkworks",
    route: str = ROUTE_DEV,
    ptau: Path | None = None,
    progress: Progress | None = None,
    task_progress: TaskProgress | None = None,
    resident: str = "auto",
    note: Note | None = None,
    keys: Path | None = None,
    groups: int | None = None,
) -> ChunkedBundle:
    """Prove ``account`` in chunks of ``chunk_size`` (:mod:`zksolv.prover.chunks`) plus a final proof.

    ``chunk_size`` defaults to the venue's, ``n_chunks`` to the venue's smallest
    accepted count that holds the book (:mod:`zksolv.core.venue`). The chunk proofs
    and the final proof are independent once the plan is made,
    so they all run on one engine (:func:`zksolv.prover.engines.get_engine`: Ray, the
    resident prover, or the local pool). A chunk that fails raises naming it, and
    nothing is written. ``groups``: as :func:`prove`'s, for every chunk (the group count must hold
    the positions of the chunk that touches the most groups).
    """
    if resident not in RESIDENT_MODES:
        raise ToolchainError(f"resident must be one of {', '.join(RESIDENT_MODES)}, not {resident!r}")
    check_backend_route(backend, route)
    step = progress or _no_progress
    size = chunk_size or market.venue.chunk_size
    n_positions = len(account.position_slots(market))
    padding = market.venue.padding(n_positions, size) if n_chunks is None else \
        Padding(n_positions, size, chunks_needed(n_positions, size), n_chunks)
    n_chunks = padding.padded
    if groups is None:
        groups = groups_for(market, chunk_groups_touched(account, market, size), size)
    if keys is not None:
        from zksolv.toolchain.circuitgen import ChunkTier, FinalTier

        check_keyset_has(keys, [ChunkTier.for_market(market, size, groups).name, FinalTier.for_market(market).name])
    with step("checking the account against the reference model and planning the chunks"):
        market_cache.prime(market)
        plan = plan_chunks(account, market, size, n_chunks=n_chunks, groups=groups)
    if note is not None:  # the trader's own console only: the unpadded count is what the bucket hides
        note(padding.describe())
    with step(f"compiling circuits and {'the key set' if keys else route + ' setup'} for {plan.chunk_tier.name} "
              f"and {plan.final_tier.name}") as shown:
        if keys is not None:
            chunk_art, final_art = keyset_artifacts(plan.chunk_tier, keys), keyset_artifacts(plan.final_tier, keys)
        else:
            chunk_art = build_artifacts(plan.chunk_tier, route, ptau=ptau)
            final_art = build_artifacts(plan.final_tier, route, ptau=ptau)
        _note_cached(shown, chunk_art.cached and final_art.cached)
    tasks = [ProofTask(f"chunk {i}", chunk_art.circuit, chunk_art.keys, inputs, tuple(plan.chunk_public(i)), backend)
             for i, inputs in enumerate(plan.chunk_inputs)]
    tasks.append(ProofTask("final proof", final_art.circuit, final_art.keys, plan.final_inputs,
                           tuple(plan.final_public()), backend))
    engine = get_engine(workers, ray_address, backend=backend, resident=resident, note=note or log.info)
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
