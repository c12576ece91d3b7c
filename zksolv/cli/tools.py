"""``zksolv demo`` and ``zksolv bench``: the end-to-end walk-through and the benchmarks."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zksolv.app.progress import step
from zksolv.cli.common import EXIT_INTERNAL, EXIT_INVALID, _fail, check_output, handle_errors, needs
from zksolv.cli.proving import check_route
from zksolv.core.errors import InputError, ProofError


@click.command()
@click.option("--out", default="zksolv-demo", show_default=True, type=click.Path(file_okay=False),
              help="working folder for the demo's files")
@click.option("--account", "account_name", default="short_strangle", show_default=True,
              help="which demo portfolio to prove")
@click.option("--mode", type=click.Choice(["stress", "es", "var", "revaluation"]), default="stress", show_default=True,
              help="the demo market's risk mode (the margin the proof shows)")
@click.option("--backend", type=click.Choice(["arkworks", "snarkjs"]), default="arkworks", show_default=True,
              help="proving backend; the demo's development keys prove with arkworks only (snarkjs needs "
                   "`zksolv setup --route snarkjs --ptau FILE` and `zksolv prove --route snarkjs`)")
@handle_errors
def demo(out: str, account_name: str, mode: str, backend: str) -> None:
    """Market -> account commitment -> setup -> prove -> verify, with timings.

    Uses the development setup (NOT FOR REAL FUNDS). Also shows that an
    insolvent account is refused and that the proof fails for the next epoch.

    \b
    Example:
      $ zksolv demo
      $ zksolv demo --out demo/ --account market_maker --mode es
    """
    needs("prover")
    from dataclasses import replace

    from zksolv.app.demo import DEMO_ACCOUNTS, demo_market, demo_portfolios
    from zksolv.core.commitments import account_commitment_of, market_root
    from zksolv.prover.prove import prove as make_proof
    from zksolv.verifier.verify import verify as check

    if account_name not in DEMO_ACCOUNTS:
        raise InputError(f"--account: unknown demo portfolio {account_name!r} (choose from {', '.join(DEMO_ACCOUNTS)})")
    check_route("dev", None, backend)  # the demo proves with the development setup
    check_output(out, folder=True)
    folder = Path(out)
    timings: dict[str, float] = {}
    with step("1. oracle: demo market and its market_root", timings):
        state = demo_market(risk_mode=mode)
        root = market_root(state)
        state.save(folder / "market.json")
    books = demo_portfolios(state)
    account = books[account_name]
    account.save(folder / "account.json")
    with step("2. trader: account commitment", timings):
        commitment = account_commitment_of(account, state)
    bundle = make_proof(account, state, backend=backend, progress=lambda label: step(f"3. trader: {label}", timings))
    bundle.save(folder / "proof")
    with step("4. keeper: verify (pure-Python pairing)", timings):
        verdict = check(bundle.proof, bundle.public, state, bundle.verification_key, account_commitment=commitment)
    next_epoch = replace(state, epoch=state.epoch + 1)
    replay = check(bundle.proof, bundle.public, next_epoch, bundle.verification_key, account_commitment=commitment)
    refused = "not tried"
    try:
        make_proof(books["naked_short_insolvent"], state, backend=backend)
    except ProofError as exc:
        refused = f"refused ({exc})"
    click.echo("")
    click.echo(f"market_root          {root}")
    click.echo(f"account_commitment   {commitment}")
    click.echo(f"tier                 {bundle.statement.tier}")
    click.echo(f"verdict              {'VALID' if verdict.valid else 'INVALID: ' + verdict.reason}")
    click.echo(f"same proof, epoch+1  {'VALID (BUG)' if replay.valid else 'rejected: ' + replay.reason}")
    click.echo(f"insolvent account    {refused}")
    click.echo("timings (s):")
    for label, seconds in timings.items():
        click.echo(f"  {seconds:8.2f}  {label}")
    click.echo(f"files in {folder}/ (development keys: NOT FOR REAL FUNDS)")
    if replay.valid:  # a proof accepted for another epoch: a bug in zksolv, not an invalid proof
        _fail("the proof verified for the next epoch too: replay protection is broken", EXIT_INTERNAL)
    sys.exit(0 if verdict.valid else EXIT_INVALID)




@click.command()
@click.option("--quick", is_flag=True, help="CI subset: positions 1-2, 64 instruments, stress (a few minutes)")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="results directory (default benchmarks/results)")
@handle_errors
def bench(quick: bool, out: Path | None) -> None:
    """Benchmark compile, setup, witness, prove and verify per portfolio size (JSON + plots).

    \b
    Example:
      $ zksolv bench --quick --out results/
    """
    needs("prover")
    needs("plots")
    from zksolv.app.bench import run_bench, summary

    check_output(out, folder=True)
    click.echo(summary(run_bench(quick, out)))

