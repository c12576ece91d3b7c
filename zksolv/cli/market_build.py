"""``zksolv market build``: the oracle's command (a thin click layer over :mod:`zksolv.oracle`)."""

from __future__ import annotations

import click

from zksolv.app.progress import step
from zksolv.cli.common import check_output, emit, handle_errors, json_option, needs
from zksolv.core.errors import InputError

_FILE = click.Path(exists=True, dir_okay=False)


@click.command("build")
@click.option("--instruments", type=_FILE, help="venue layout: instruments (.csv or .json)")
@click.option("--underlyings", type=_FILE, help="venue layout: underlyings with price histories (.json)")
@click.option("--collateral", type=_FILE, help="venue layout: collateral table (.csv or .json)")
@click.option("--deribit", "deribit_dir", type=click.Path(exists=True, file_okay=False),
              help="folder of saved Deribit responses: instruments_<CUR>.json, book_summary_<CUR>.json, "
                   "historical_volatility_<CUR>.json")
@click.option("--params", "params_path", required=True, type=_FILE,
              help="risk parameters, grid, valuation time and venue policy (.json)")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="where to write the market JSON")
@json_option
@handle_errors
def market_build(instruments: str | None, underlyings: str | None, collateral: str | None, deribit_dir: str | None,
                 params_path: str, out: str, as_json: bool) -> None:
    """Build a validated, audited market state from a venue's data (docs/oracle.md).

    \b
    Example:
      $ zksolv market build --instruments I.csv --underlyings U.json --collateral C.csv --params P.json --out m.json
      $ zksolv market build --deribit snapshot/ --params P.json --out m.json
    """
    needs("prover")
    from zksolv.core.commitments import market_root
    from zksolv.oracle.build import build_market

    venue_files = (instruments, underlyings, collateral)
    if deribit_dir is not None and any(venue_files):
        raise InputError("--deribit: give either --deribit DIR or --instruments/--underlyings/--collateral, not both")
    if deribit_dir is None and not all(venue_files):
        raise InputError("--instruments, --underlyings, --collateral: all three are needed (or --deribit DIR)")
    check_output(out, folder=False)
    with step("reading inputs"):
        if deribit_dir is not None:
            from zksolv.oracle.deribit import read_deribit

            inputs = read_deribit(deribit_dir, params_path)
        else:
            from zksolv.oracle.inputs import read_inputs

            inputs = read_inputs(instruments, underlyings, collateral, params_path)  # type: ignore[arg-type]
    with step("building market"):
        state = build_market(inputs)
    state.save(out)
    emit({"market": out, "epoch": state.epoch, "valuation_time": state.valuation_time,
           "market_root": str(market_root(state)), "instruments": len(state.instruments),
           "skipped": dict(inputs.skipped)}, as_json)
