"""``python -m zksolv`` runs the CLI."""

from zksolv.cli import main

main()
