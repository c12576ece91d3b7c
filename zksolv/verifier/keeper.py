"""A keeper daemon: check every epoch's submitted proofs and list the accounts without a valid one.

The example of ``docs/keeper.md``, runnable as ``python -m zksolv.verifier.keeper``. It watches a
venue folder laid out as::

    VENUE/accounts.json                    {"<account>": "<registered commitment>", ...}
    VENUE/epochs/<epoch>/market.json       the market state the oracle published
    VENUE/epochs/<epoch>/proofs/<account>/ proof.json, public.json [, statement.json]

and for each epoch folder without a ``keeper_report.json`` it checks every submission with
:func:`zksolv.verifier.verify.verify_many` (one batch per key) against the registered commitments,
then writes the report: valid, invalid (with reasons) and missing accounts — the ones a
venue marks liquidatable once the proof window closes (on chain:
``SolvencyRegistry.markLiquidatable``). ``--once`` makes one pass; otherwise it polls.

This is the off-chain example (no web3). The keeper service ``zksolv keeper run``
(:mod:`zksolv.chain.keeper_service`, the ``chain`` extra) runs the same :func:`check_epoch`
each epoch, then submits the valid proofs and marks the missed accounts on chain, with its
state in SQLite (docs/keeper.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from zksolv.verifier.groth16 import PreparedVerifyingKey
from zksolv.proofs.proof_io import load_proof, load_public, load_verification_key
from zksolv.proofs.statement import STATEMENT_FILE, Statement, parse_tier_name
from zksolv.verifier.verify import Backend, Submission, prepare_key, verify_many
from zksolv.core.atomic import atomic_write_text
from zksolv.core.errors import VerificationError
from zksolv.core.market import MarketState

REPORT_FILE = "keeper_report.json"


@dataclass
class EpochReport:
    """What the keeper found for one epoch."""

    epoch: int
    valid: list[str] = field(default_factory=list)
    invalid: dict[str, str] = field(default_factory=dict)  # account -> reason
    missing: list[str] = field(default_factory=list)  # registered, nothing submitted
    unregistered: list[str] = field(default_factory=list)  # submitted, not a registered account
    seconds: float = 0.0

    @property
    def without_valid_proof(self) -> list[str]:
        """Registered accounts with no valid proof this epoch (invalid or missing)."""
        return sorted([*self.invalid, *self.missing])


def _submission(folder: Path, commitment: int, keys: Mapping[int, PreparedVerifyingKey] | None = None) -> Submission:
    """A submission folder as :func:`verify_many` takes it; unreadable files become a malformed verdict.

    With ``keys`` (position capacity -> key, the venue's tiers) the submission carries its
    tier's key: the capacity its ``statement.json`` names, or the only tier if there is one.
    """
    try:
        statement_path = folder / STATEMENT_FILE
        statement = Statement.load(statement_path) if statement_path.exists() else None
        key = None
        if keys:
            if statement is not None:
                capacity = parse_tier_name(statement.tier, f"{statement_path}: tier").n_positions
                key = keys.get(capacity)
                if key is None:
                    return Submission(account_commitment=commitment, label=folder.name,
                                      error=f"tier {capacity} is not one the venue accepts ({sorted(keys)})")
            elif len(keys) == 1:
                key = next(iter(keys.values()))
            else:
                return Submission(account_commitment=commitment, label=folder.name,
                                  error=f"no {STATEMENT_FILE} to name the proof's tier (the venue accepts {sorted(keys)})")
        return Submission(load_proof(folder / "proof.json"), load_public(folder / "public.json"), commitment,
                          statement, label=folder.name, key=key)
    except VerificationError as exc:
        return Submission(account_commitment=commitment, label=folder.name, error=str(exc))


def check_epoch(epoch_dir: Path, registered: dict[str, int], key: PreparedVerifyingKey | None,
                backend: Backend = "python", keys: Mapping[int, PreparedVerifyingKey] | None = None) -> EpochReport:
    """Verify every submission of one epoch folder; list who has no valid proof.

    ``key`` checks every proof, or ``keys`` (capacity -> key) each proof with its tier's key."""
    start = time.perf_counter()
    market = MarketState.load(epoch_dir / "market.json")
    report = EpochReport(market.epoch)
    proofs = epoch_dir / "proofs"
    submitted = {p.name: p for p in sorted(proofs.iterdir()) if p.is_dir()} if proofs.is_dir() else {}
    report.unregistered = sorted(set(submitted) - set(registered))
    names = [name for name in submitted if name in registered]
    verdicts = verify_many([_submission(submitted[n], registered[n], keys) for n in names], market, key, backend=backend)
    for name, verdict in zip(names, verdicts):
        if verdict.valid:
            report.valid.append(name)
        else:
            report.invalid[name] = verdict.reason
    report.missing = sorted(set(registered) - set(submitted))
    report.seconds = round(time.perf_counter() - start, 3)
    return report


def load_registered(venue: Path) -> dict[str, int]:
    """``accounts.json``: account name -> registered commitment (decimal string or int)."""
    data = json.loads((venue / "accounts.json").read_text(encoding="utf-8"))
    return {str(name): int(value) for name, value in data.items()}


def run_once(venue: Path, key: PreparedVerifyingKey, backend: Backend = "python") -> list[EpochReport]:
    """Check every epoch folder that has no report yet; write each report next to its market."""
    registered = load_registered(venue)
    reports = []
    epochs = venue / "epochs"
    for epoch_dir in sorted((p for p in epochs.iterdir() if p.is_dir()), key=lambda p: p.name) if epochs.is_dir() else []:
        if (epoch_dir / REPORT_FILE).exists() or not (epoch_dir / "market.json").exists():
            continue
        report = check_epoch(epoch_dir, registered, key, backend)
        atomic_write_text(epoch_dir / REPORT_FILE,
                          json.dumps({**asdict(report), "without_valid_proof": report.without_valid_proof}, indent=1))
        reports.append(report)
    return reports


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m zksolv.verifier.keeper --venue DIR --vk KEY [--once] [--interval S] [--backend B]``."""
    parser = argparse.ArgumentParser(prog="python -m zksolv.verifier.keeper", description=__doc__.split("\n")[0])
    parser.add_argument("--venue", required=True, type=Path, help="the venue folder (accounts.json, epochs/)")
    parser.add_argument("--vk", required=True, type=Path, help="the verification key this keeper trusts")
    parser.add_argument("--once", action="store_true", help="one pass, then exit")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between passes")
    parser.add_argument("--backend", choices=["python", "native", "auto"], default="python")
    args = parser.parse_args(argv)
    key = prepare_key(load_verification_key(args.vk))  # parsed and checked once, reused every epoch
    while True:
        for report in run_once(args.venue, key, args.backend):
            print(json.dumps({"epoch": report.epoch, "valid": len(report.valid),
                              "without_valid_proof": report.without_valid_proof, "seconds": report.seconds}),
                  flush=True)
        if args.once:
            return 0
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())

