"""``python -m zksolv.cli`` runs the CLI."""

from zksolv.cli.main import main

main()
