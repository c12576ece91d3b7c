"""A keeper daemon: check every epoch's submitted proofs and list the accounts without a valid one.

The example of ``docs/keeper.md``, runnable as ``python -m zksolv.verifier.keeper``. It watches a
venue folder laid out as::

    VENUE/accounts.json                    {"<account>": "<registered commitment>", ...}
    VENUE/epochs/<epoch>/market.json       the market state the oracle published
    VENUE/epochs/<epoch>/proofs/<account>/ a folder `zksolv prove` writes (one circuit or chunked)

and for each epoch folder without a ``keeper_report.json`` it reads every submission as
``zksolv verify`` does (:func:`zksolv.verifier.submissions.read_submission`), checks them with
:func:`zksolv.verifier.verify.verify_many` (one batch per key) against the registered
commitments, then writes the report: valid, invalid (with reasons) and missing accounts — the
ones a venue marks liquidatable once the proof window closes (on chain:
``SolvencyRegistry.markLiquidatable``). ``--once`` makes one pass; otherwise it polls.

Its keys: ``--keys DIR``, the venue's key set (every accepted tier and chunked books, checked
against each epoch's market by its manifest; pin what ``zksolv ceremony verify``
checked with ``--key-set-sha256``), or ``--vk FILE``, one key for every proof (a folder without
``statement.json`` is then checked with it as it stands).

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
from typing import Any, Mapping, Sequence

from zksolv.core.atomic import atomic_write_text
from zksolv.core.errors import InputError, ZksolvError
from zksolv.core.market import MarketState
from zksolv.core.policy import check_policy, load_policy
from zksolv.core.root_cache import load_market
from zksolv.verifier.groth16 import PreparedVerifyingKey
from zksolv.verifier.submissions import KeySet, read_submission, refuse_shipped_key
from zksolv.verifier.verify import Backend, ChunkedSubmission, Submission, Verdict, verify_many
from zksolv.verifier.verify import prepare_key  # noqa: F401  (re-exported: keeper.prepare_key(vk_json))

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


def as_key_set(key: Any = None, keys: KeySet | Mapping[int, Any] | None = None) -> KeySet:
    """The :class:`KeySet` for :func:`check_epoch`'s ``key`` / ``keys`` arguments: a key set as
    given, a mapping position capacity -> key (the venue's tiers), or one key for every proof."""
    if isinstance(keys, KeySet):
        return keys
    if keys:
        return KeySet.from_tiers(keys)
    if key is None:
        raise InputError("the keeper needs the venue's keys: a key set folder (--keys DIR) or one key (--vk FILE)")
    return KeySet.from_key(key)


def check_epoch(epoch_dir: Path, registered: dict[str, int], key: PreparedVerifyingKey | None = None,
                backend: Backend = "python", keys: KeySet | Mapping[int, Any] | None = None,
                policy: Mapping[str, Any] | None = None, *, market: MarketState | None = None,
                use_cache: bool = True) -> EpochReport:
    """Verify every submission of one epoch folder; list who has no valid proof.

    ``keys``: the :class:`~zksolv.verifier.submissions.KeySet` this keeper trusts (the venue's key
    set folder serves every accepted tier and chunked books), or a mapping position capacity ->
    key; ``key``: one key for every proof (folders without a ``statement.json`` included). Every
    folder is read by :func:`~zksolv.verifier.submissions.read_submission`, as ``zksolv verify``
    reads it, then all are verified in one :func:`verify_many` call (batched per key). ``policy``:
    the venue's risk policy this keeper pinned (:mod:`zksolv.core.policy`). ``market``: the epoch's
    market already loaded by the caller from ``epoch_dir/market.json`` (else it is loaded here, its
    root from the keeper's root cache unless ``use_cache`` is False: :mod:`zksolv.core.root_cache`). Raises
    :class:`~zksolv.core.errors.InputError` when the key set does not check out for this epoch's
    market, or the market applies another risk policy.
    """
    start = time.perf_counter()
    trust = as_key_set(key, keys)
    if market is None:
        market = load_market(epoch_dir / "market.json", use_cache=use_cache)
    if policy is not None:
        check_policy(market, dict(policy))
    trust.check_market(market)  # at every epoch: a key set replaced since the last one is refused
    report = EpochReport(market.epoch)
    proofs = epoch_dir / "proofs"
    submitted = {p.name: p for p in sorted(proofs.iterdir()) if p.is_dir()} if proofs.is_dir() else {}
    report.unregistered = sorted(set(submitted) - set(registered))
    names = [name for name in submitted if name in registered]
    verdicts: dict[str, Verdict] = {}
    pending: dict[str, Submission | ChunkedSubmission] = {}
    for name in names:
        read = read_submission(submitted[name], market, registered[name], trust, require_statement=False)
        if read.refusal is not None:  # refused before any pairing: the reader's reason, word for word
            verdicts[name] = read.refusal
        elif read.submission is not None:
            pending[name] = read.submission
    verdicts.update(zip(pending, verify_many(list(pending.values()), market, backend=backend)))
    for name in names:
        if verdicts[name].valid:
            report.valid.append(name)
        else:
            report.invalid[name] = verdicts[name].reason
    report.missing = sorted(set(registered) - set(submitted))
    report.seconds = round(time.perf_counter() - start, 3)
    return report


def load_registered(venue: Path) -> dict[str, int]:
    """``accounts.json``: account name -> registered commitment (decimal string or int)."""
    data = json.loads((venue / "accounts.json").read_text(encoding="utf-8"))
    return {str(name): int(value) for name, value in data.items()}


def run_once(venue: Path, keys: KeySet | PreparedVerifyingKey, backend: Backend = "python",
             policy: Mapping[str, Any] | None = None, *, use_cache: bool = True) -> list[EpochReport]:
    """Check every epoch folder that has no report yet; write each report next to its market.

    ``keys``: the :class:`~zksolv.verifier.submissions.KeySet` this keeper trusts, or one key;
    ``policy``: the risk policy it pinned (an epoch applying another raises before any report);
    ``use_cache``: False recomputes every market root (:mod:`zksolv.core.root_cache`)."""
    trust = keys if isinstance(keys, KeySet) else KeySet.from_key(keys)
    registered = load_registered(venue)
    reports = []
    epochs = venue / "epochs"
    for epoch_dir in sorted((p for p in epochs.iterdir() if p.is_dir()), key=lambda p: p.name) if epochs.is_dir() else []:
        if (epoch_dir / REPORT_FILE).exists() or not (epoch_dir / "market.json").exists():
            continue
        report = check_epoch(epoch_dir, registered, backend=backend, keys=trust, policy=policy, use_cache=use_cache)
        atomic_write_text(epoch_dir / REPORT_FILE,
                          json.dumps({**asdict(report), "without_valid_proof": report.without_valid_proof}, indent=1))
        reports.append(report)
    return reports


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m zksolv.verifier.keeper --venue DIR (--keys DIR [--key-set-sha256 HEX]
    [--transcript-sha256 HEX] | --vk KEY) [--policy FILE] [--once] [--interval S] [--backend B] [--no-cache]``;
    exit 2 for a key set or key it cannot use."""
    parser = argparse.ArgumentParser(prog="python -m zksolv.verifier.keeper", description=__doc__.split("\n")[0])
    parser.add_argument("--venue", required=True, type=Path, help="the venue folder (accounts.json, epochs/)")
    trust = parser.add_mutually_exclusive_group(required=True)
    trust.add_argument("--keys", type=Path, help="the venue's key set (a folder with manifest.json): every accepted "
                                                 "tier and chunked books")
    trust.add_argument("--vk", type=Path, help="one verification key for every proof (single-circuit proofs only)")
    parser.add_argument("--key-set-sha256", dest="key_set_sha256", metavar="HEX",
                        help="with --keys: the key_set_sha256 `zksolv ceremony verify` printed (the manifest: the "
                             "transcript and every key file); a key set changed since is refused")
    parser.add_argument("--transcript-sha256", dest="transcript_sha256", metavar="HEX",
                        help="with --keys: the ceremony transcript hash checked once with `zksolv ceremony verify` "
                             "(does not pin the key files: pin --key-set-sha256 too)")
    parser.add_argument("--policy", type=Path, metavar="FILE",
                        help="the venue's risk policy this keeper pinned (`zksolv market policy`)")
    parser.add_argument("--once", action="store_true", help="one pass, then exit")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between passes")
    parser.add_argument("--backend", choices=["python", "native", "auto"], default="python")
    parser.add_argument("--no-cache", dest="use_cache", action="store_false",
                        help="recompute every market root; neither read nor write the keeper's root cache "
                             "(docs/keeper.md; ZKSOLV_ROOT_CACHE=off does the same)")
    args = parser.parse_args(argv)
    try:
        for option, value in (("--transcript-sha256", args.transcript_sha256), ("--key-set-sha256", args.key_set_sha256)):
            if value is not None and args.keys is None:
                raise InputError(f"{option}: pins a venue key set; give it with --keys DIR")
        if args.keys is not None:
            keys = KeySet.from_folder(args.keys, transcript_sha256=args.transcript_sha256,
                                      key_set_sha256=args.key_set_sha256)
        else:
            refuse_shipped_key(args.vk, [args.venue])  # a key from the venue folder is the provers' to write
            keys = KeySet.from_file(args.vk)  # parsed and checked once, reused every epoch
        policy = load_policy(args.policy) if args.policy is not None else None
        while True:
            for report in run_once(args.venue, keys, args.backend, policy, use_cache=args.use_cache):
                print(json.dumps({"epoch": report.epoch, "valid": len(report.valid),
                                  "without_valid_proof": report.without_valid_proof, "seconds": report.seconds}),
                      flush=True)
            if args.once:
                return 0
            time.sleep(args.interval)
    except ZksolvError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, InputError) else 3  # as `zksolv`: bad input 2, the environment 3


if __name__ == "__main__":
    sys.exit(main())
