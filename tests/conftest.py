"""Fixtures shared by several test modules (a module may still override one by name)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from zksolv.app.demo import demo_market
from zksolv.core.market import MarketState


@pytest.fixture(scope="session")
def market() -> MarketState:
    """The demo market (152 instruments, stress mode): immutable, so one per session."""
    return demo_market()


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``zksolv market demo``'s ``market.json`` and ``accounts/`` (tests write other
    names next to them, never these)."""
    from zksolv.cli import main

    folder = tmp_path_factory.mktemp("demo-files")
    result = CliRunner().invoke(main, ["market", "demo", "--out", str(folder / "market.json"),
                                       "--portfolios", str(folder / "accounts")])
    assert result.exit_code == 0, result.output
    return folder
