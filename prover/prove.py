"""The trader's side end to end: account + market -> Groth16 proof bundle.

:func:`prove` picks the tier, checks the account against the Python reference
(an insolvent or out-of-range account is refused here, before any proving),
builds or reuses the cached circuit and keys, computes the witness in a
private temporary directory (deleted afterwards: it holds every private
value), checks it against the reference (public signals, net greeks, NAV,
margin and requirement must equal the Python values) before proving with the
chosen backend, and checks the proof's public signals once more.

Latency (what a trader waits for every epoch): the witness is computed
in-process by circom's wasm under wasmtime when the optional ``wasmtime``
package is installed (:mod:`prover.witness_wasm`; node otherwise), and the
arkworks proof is made by the resident prover (:mod:`prover.daemon`, started
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

from prover import daemon
from prover.backends import Proof, get_backend
from prover.witness import check_witness, expected_signals, reference_inputs
from verifier.proof_io import save_proof, save_public, save_verification_key
from verifier.statement import STATEMENT_FILE, Statement
from zksolv.account import Account
from zksolv.artifacts import build_artifacts, default_capacity
from zksolv.circuitgen import Tier
from zksolv.commitments import account_commitment_of, market_root
from zksolv.errors import ProofError, ToolchainError
from zksolv.market import MarketState
from prover.witness_wasm import calculate_witness
from zksolv.trusted_setup import ROUTE_DEV, KeyPair

log = logging.getLogger(__name__)

Progress = Callable[[str], ContextManager[Any]]
Note = Callable[[str], None]

#: ``resident=`` choices: use the resident prover if it runs (else prove here, with a note),
#: require it, or never use it.
RESIDENT_MODES = ("auto", "require", "off")
NOT_RUNNING_NOTE = "no resident prover running (`zksolv prover start` keeps the proving key loaded); proving in this process"

PROOF_FILE, PUBLIC_FILE, VK_FILE = "proof.json", "public.json", "verification_key.json"


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
    backend: str = "arkworks",
    route: str = ROUTE_DEV,
    ptau: Path | None = None,
    progress: Progress | None = None,
    resident: str = "auto",
    witness_engine: str | None = None,
    note: Note | None = None,
) -> ProofBundle:
    """Prove ``account`` meets the AVSL rule under ``market``.

    Raises :class:`~zksolv.errors.InputError` (bad or oversized account),
    :class:`~zksolv.errors.ProofError` (insolvent: no proof is produced) or
    :class:`~zksolv.errors.ToolchainError`. ``progress(label)`` is entered
    around each slow step (the CLI prints timings with it).

    ``resident`` (arkworks backend only): ``"auto"`` proves with the resident
    prover when it runs and in this process otherwise, calling ``note`` (default:
    the log) with one line; ``"require"`` raises :class:`ToolchainError` when
    none runs; ``"off"`` never uses it. A resident prover that dies during the
    proof raises :class:`ToolchainError` in every mode. ``witness_engine``:
    ``"auto"`` (wasmtime if installed, else node), ``"wasmtime"`` or ``"node"``.
    """
    if resident not in RESIDENT_MODES:
        raise ToolchainError(f"resident must be one of {', '.join(RESIDENT_MODES)}, not {resident!r}")
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
