"""The trader's side end to end: account + market -> Groth16 proof bundle.

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
from prover.witness import check_witness, expected_signals, reference_inputs
from verifier.proof_io import save_proof, save_public, save_verification_key
from verifier.statement import STATEMENT_FILE, Statement
from zksolv.account import Account
from zksolv.artifacts import build_artifacts, default_capacity
from zksolv.circuitgen import Tier
from zksolv.commitments import account_commitment_of, market_root
from zksolv.errors import ProofError
from zksolv.market import MarketState
from zksolv.toolchain import calculate_witness
from zksolv.trusted_setup import ROUTE_DEV

Progress = Callable[[str], ContextManager[Any]]

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
) -> ProofBundle:
    """Prove ``account`` meets the AVSL rule under ``market``.

    Raises :class:`~zksolv.errors.InputError` (bad or oversized account),
    :class:`~zksolv.errors.ProofError` (insolvent: no proof is produced) or
    :class:`~zksolv.errors.ToolchainError`. ``progress(label)`` is entered
    around each slow step (the CLI prints timings with it).
    """
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
