"""``zksolv commit`` and ``zksolv report``: a trader's account against a market."""

from __future__ import annotations

import json
from pathlib import Path

import click

from zksolv.app.progress import step
from zksolv.cli.common import (
    account_option,
    check_output,
    emit,
    handle_errors,
    json_option,
    load_account,
    load_market,
    market_option,
    needs,
)
from zksolv.core.errors import InputError


@click.command()
@account_option
@market_option
@json_option
@handle_errors
def commit(account_path: str, market_path: str, as_json: bool) -> None:
    """Print the account commitment (public) to register with the venue.

    \b
    Example:
      $ zksolv commit --account accounts/short_strangle.json --market market.json
    """
    from zksolv.core.commitments import account_commitment_of

    emit({"account_commitment": str(account_commitment_of(load_account(account_path), load_market(market_path)))}, as_json)


@click.command()
@account_option
@market_option
@click.option("--no-prices", is_flag=True, help="skip the liquidation-price search (faster)")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), metavar="FILE.png",
              help="also draw the margin ratio against each underlying's price (static, delta-weighted and "
                   "AVSL rules, liquidation prices marked) into this PNG; needs pip install 'zksolv[plots]'")
@json_option
@handle_errors
def report(account_path: str, market_path: str, no_prices: bool, plot_path: str | None, as_json: bool) -> None:
    """NAV, margins, ratio, greeks, liquidation prices, risk modes, rule comparison and partial
    liquidation, computed locally, as tables (--json: the same figures, exact).

    \b
    Example:
      $ zksolv report --account accounts/short_strangle.json --market market.json --no-prices
      $ zksolv report --account accounts/short_strangle.json --market market.json --plot ratio.png
    """
    needs("prover")
    from zksolv.app.analytics import report as build_report
    from zksolv.app.report_format import format_report

    if plot_path is not None:
        from zksolv.app.report_plot import require_matplotlib

        if Path(plot_path).suffix.lower() != ".png":
            raise InputError(f"--plot: {plot_path} must end in .png (the plot is written as a PNG)")
        check_output(plot_path, folder=False)
        require_matplotlib()
    account, market = load_account(account_path), load_market(market_path)
    label = "margins and partial liquidation" + ("" if no_prices else ", liquidation prices by repricing")
    with step(f"computing {label}"):
        data = build_report(account, market, with_prices=not no_prices)
    if plot_path is not None:
        from zksolv.app.analytics import ratio_curves
        from zksolv.app.report_plot import write_plot

        with step(f"plotting the margin ratio against each underlying's price into {plot_path}"):
            write_plot(ratio_curves(account, market), Path(plot_path))
    if as_json:
        click.echo(json.dumps(data, indent=1))
    else:
        click.echo(format_report(data))
