"""``zksolv ceremony``: the venue's multi-party phase-2 ceremony, a thin click layer over
:mod:`zksolv.toolchain.ceremony` (see docs/ceremony.md for the runbook)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from zksolv.app.progress import step
from zksolv.cli.common import EXIT_INVALID, check_output, emit, handle_errors, json_option, load_market, needs

folder_argument = click.argument("folder", type=click.Path(exists=True, file_okay=False))


@click.group()
def ceremony() -> None:
    """The venue's multi-party trusted setup (phase 2) over its whole circuit set.

    \b
    init -> contribute (each participant, in turn, on the folder the previous one published)
         -> beacon -> verify (anyone) -> finalize (the key set keepers and traders use)

    \b
    Example:
      $ zksolv ceremony init --market market.json --ptau powersOfTau28_hez_final_16.ptau --out cer/
      $ zksolv ceremony contribute cer/ --name alice
      $ zksolv ceremony beacon cer/ --hex 9f1c6a1e4b1bd3f0b8f2b6e5d4c3a2b1908f7e6d5c4b3a29180f7e6d5c4b3a29
      $ zksolv ceremony verify cer/ --market market.json
      $ zksolv ceremony finalize cer/ --keys-out keys/
    """


@ceremony.command("init")
@click.option("--market", "market_path", required=True, type=click.Path(exists=True, dir_okay=False), help="market state JSON")
@click.option("--ptau", required=True, type=click.Path(exists=True, dir_okay=False),
              help="phase-2-prepared powers-of-tau file (a public Perpetual Powers of Tau file for real use)")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="new ceremony folder")
@click.option("--chunks", "with_chunks", is_flag=True,
              help="also the venue's chunk circuits (one per accepted chunk size) and the final circuit")
@json_option
@handle_errors
def ceremony_init(market_path: str, ptau: str, out: str, with_chunks: bool, as_json: bool) -> None:
    """Compile the market's circuit set, check the ptau, write the initial keys and the transcript.

    \b
    Example:
      $ zksolv ceremony init --market market.json --ptau powersOfTau28_hez_final_16.ptau --out cer/ --chunks
    """
    needs("prover")
    from zksolv.toolchain.ceremony import init

    check_output(out, folder=True)
    state = load_market(market_path)
    with step("compiling the circuit set and writing the initial keys"):
        result = init(state, Path(ptau), Path(out), chunks=with_chunks)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    t = result.transcript
    emit({"folder": out, "ptau_blake2b": t["ptau"]["blake2b"], "ptau_known_file": t["ptau"]["known_file"],
           "circuits": [c["name"] for c in t["circuits"]]}, as_json)


@ceremony.command("contribute")
@folder_argument
@click.option("--name", required=True, help="your public name (stored in every key; at most 64 characters)")
@json_option
@handle_errors
def ceremony_contribute(folder: str, name: str, as_json: bool) -> None:
    """Add your contribution to every circuit (fresh entropy from os.urandom, never stored).

    Needs only the folder: publish the printed hashes, then pass the folder on.

    \b
    Example:
      $ zksolv ceremony contribute cer/ --name alice
    """
    from zksolv.toolchain.ceremony import contribute, transcript_sha256

    with step(f"contributing to every circuit in {folder}"):
        added = contribute(Path(folder), name)
    emit({"name": name, "transcript_sha256": transcript_sha256(Path(folder)),
           "contributions": {c.circuit: c.hash for c in added}}, as_json)


@ceremony.command("beacon")
@folder_argument
@click.option("--hex", "beacon_hex", required=True, help="the public random beacon, e.g. a future block hash")
@click.option("--iterations-exp", type=int, default=10, show_default=True, help="2^N hash iterations (10..63)")
@json_option
@handle_errors
def ceremony_beacon(folder: str, beacon_hex: str, iterations_exp: int, as_json: bool) -> None:
    """Close the ceremony with a public random beacon applied to every circuit.

    \b
    Example:
      $ zksolv ceremony beacon cer/ --hex 9f1c6a1e4b1bd3f0b8f2b6e5d4c3a2b1908f7e6d5c4b3a29180f7e6d5c4b3a29 --iterations-exp 10
    """
    from zksolv.toolchain.ceremony import beacon, transcript_sha256

    with step(f"applying the beacon to every circuit in {folder}"):
        added = beacon(Path(folder), beacon_hex, iterations_exp)
    emit({"transcript_sha256": transcript_sha256(Path(folder)),
           "contributions": {c.circuit: c.hash for c in added}}, as_json)


@ceremony.command("verify")
@folder_argument
@click.option("--market", "market_path", required=True, type=click.Path(exists=True, dir_okay=False), help="market state JSON")
@click.option("--ptau", type=click.Path(exists=True, dir_okay=False),
              help="the powers-of-tau file (default: the folder's powers_of_tau.ptau)")
@click.option("--allow-unpublished-ptau", is_flag=True,
              help="tests only: accept a ptau that is not a published Perpetual Powers of Tau file (a loud warning; "
                   "the report says waived, NOT FOR REAL FUNDS)")
@click.option("--allow-no-beacon", is_flag=True,
              help="tests only: accept a ceremony not closed by `zksolv ceremony beacon` (a loud warning; the report "
                   "says waived, NOT FOR REAL FUNDS)")
@json_option
@handle_errors
def ceremony_verify(folder: str, market_path: str, ptau: str | None, allow_unpublished_ptau: bool,
                    allow_no_beacon: bool, as_json: bool) -> None:
    """Recompile the circuits and check every key's whole contribution chain and the transcript.

    FOLDER is a ceremony folder or a finalized key set. VALID needs a published phase-1 file and
    the closing beacon. Exit 0 valid, 1 invalid (naming the circuit and what fails), 2 bad input.
    For a key set, pin the printed key_set_sha256 (the manifest: transcript and every key file):
    `zksolv verify --keys KEYS --key-set-sha256 HEX`.

    \b
    Example:
      $ zksolv ceremony verify cer/ --market market.json
      $ zksolv ceremony verify keys/ --market market.json --json
    """
    needs("prover")
    from zksolv.toolchain.ceremony import verify

    state = load_market(market_path)
    with step("recompiling the circuits and checking every key against r1cs and ptau"):
        report = verify(Path(folder), state, ptau=Path(ptau) if ptau else None,
                        allow_unpublished_ptau=allow_unpublished_ptau, allow_no_beacon=allow_no_beacon)
    for warning in report.warnings:  # on stderr in both modes: a waiver is never silent
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=1))
    else:
        click.echo(f"transcript_sha256: {report.transcript_sha256}")
        if report.key_set_sha256 is not None:
            click.echo(f"key_set_sha256: {report.key_set_sha256}"
                       + ("" if report.production else " (waived requirements: NOT FOR REAL FUNDS)"))
        click.echo(f"ptau: {report.ptau_known_file or 'NOT a published Perpetual Powers of Tau file'} "
                   f"(BLAKE2b {report.ptau_blake2b[:16]}…)")
        for row in report.circuits:
            click.echo(f"{'OK' if row['ok'] else 'FAIL':<5} {row['circuit']}")
            for c in row.get("contributions", []):
                click.echo(f"        {c['type']:<12} {c['name']}: {c['hash']}")
        click.echo("contributors: " + ", ".join(c["name"] for c in report.contributors))
        for c in report.contributors:
            if c["type"] == "beacon":
                click.echo(f"beacon: {c['beacon']} (2^{c['iterations_exp']} iterations): check it is the value the "
                           "venue announced before the ceremony")
        for failure in report.failures:
            click.echo(f"INVALID: {failure}")
        if not report.valid:
            click.echo("INVALID")
        elif report.waived:
            click.echo(f"VALID only with waivers ({', '.join(report.waived)}): NOT FOR REAL FUNDS")
        else:
            click.echo("VALID")
    sys.exit(0 if report.valid else EXIT_INVALID)


@ceremony.command("finalize")
@folder_argument
@click.option("--keys-out", required=True, type=click.Path(file_okay=False), help="new folder for the key set")
@json_option
@handle_errors
def ceremony_finalize(folder: str, keys_out: str, as_json: bool) -> None:
    """Write the key set: verification keys, proving keys, the transcript and manifest.json.

    \b
    Example:
      $ zksolv ceremony finalize cer/ --keys-out keys/
    """
    from zksolv.toolchain.ceremony import finalize

    check_output(keys_out, folder=True)
    with step(f"writing the key set to {keys_out}"):
        manifest = finalize(Path(folder), Path(keys_out))
    emit({"keys": keys_out, "transcript_sha256": manifest["transcript_sha256"],
           "circuits": sorted(manifest["keys"])}, as_json)
