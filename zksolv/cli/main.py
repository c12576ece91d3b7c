"""The ``zksolv`` command group: assembles the command families of :mod:`zksolv.cli`.

Exit codes, one meaning each, are listed in :mod:`zksolv.cli.common` (and in
``zksolv --help`` and the README).
"""

from __future__ import annotations

import click

from zksolv.cli.account import commit, report
from zksolv.cli.ceremony import ceremony
from zksolv.cli.chain import chain, keeper
from zksolv.cli.common import CONTEXT_SETTINGS, exit_code_epilog
from zksolv.cli.market import market
from zksolv.cli.proving import prove, prover, setup
from zksolv.cli.tools import bench, demo
from zksolv.cli.verify import export_solidity, verify


@click.group(context_settings=CONTEXT_SETTINGS, epilog=exit_code_epilog())
@click.version_option(package_name="zksolv")
def main() -> None:
    """Zero-knowledge proofs that an account meets the AVSL maintenance margin.

    \b
    Example:
      $ zksolv market demo --out market.json --portfolios accounts/
      $ zksolv setup --market market.json --for-account accounts/short_strangle.json
      $ zksolv prove --account accounts/short_strangle.json --market market.json --out proof/
      $ zksolv verify --proof proof/ --market market.json --dev-key
    """
    import warnings

    from zksolv.core.errors import InsecureSetupWarning

    # the commands print their own one-line warning about development keys
    warnings.filterwarnings("ignore", category=InsecureSetupWarning)


for _command in (market, commit, report, setup, prove, prover, verify, export_solidity, ceremony, chain, keeper,
                 demo, bench):
    main.add_command(_command)

if __name__ == "__main__":
    main()
