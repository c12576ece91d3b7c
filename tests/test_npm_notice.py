"""The first use of node installs the pinned npm packages (`npm ci`, hundreds of MB): a line on
stderr says so first (what, how big, where) and a step shows the elapsed time, live on a terminal
(issue 22, item 3: it was silent for 19 s). The install is a fake `npm` here (tests/test_packaging.py)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from tests.test_packaging import ROOT, _fake_toolchain, wheel_layout  # noqa: F401  (the fixture)
from zksolv import toolchain
from zksolv.app import progress
from zksolv.core.errors import ToolchainError

NOTICE = re.compile(r"first use of the node toolchain: installing circom2 [\d.]+, snarkjs [\d.]+, hardhat [\d.]+, "
                    r"solc [\d.]+ and \d+ more npm packages, about \d+ MB on disk, into (\S+) \(`npm ci`, once per "
                    r"lock file\)")


def test_a_first_install_says_what_and_how_big_then_the_seconds(wheel_layout: Path, tmp_path: Path,  # noqa: F811
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(_fake_toolchain(tmp_path)))
    toolchain.ensure_node_modules()
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout carries the command's result only
    notice, timing, *rest = captured.err.splitlines()
    found = NOTICE.fullmatch(notice)
    assert found and found.group(1) == str(toolchain.project_root()), notice
    assert re.fullmatch(r"npm ci \.\.\. done \(\d+\.\d\d s\)", timing) and rest == [], captured.err
    toolchain.ensure_node_modules()  # installed: not a word
    assert capsys.readouterr().err == ""


def test_inside_a_running_step_the_lines_do_not_run_into_each_other(wheel_layout: Path, tmp_path: Path,  # noqa: F811
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """`setup` compiles inside a step; the first compile is where node gets installed."""
    monkeypatch.setenv("PATH", str(_fake_toolchain(tmp_path)))
    with progress.step("compiling avsl_n4 and running the dev setup"):
        toolchain.ensure_node_modules()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "compiling avsl_n4 and running the dev setup ..."
    assert NOTICE.fullmatch(lines[1]) and re.fullmatch(r"npm ci \.\.\. done \(\d+\.\d\d s\)", lines[2])
    assert re.fullmatch(r"compiling avsl_n4 and running the dev setup \.\.\. done \(\d+\.\d\d s\)", lines[3])
    assert len(lines) == 4


def test_the_elapsed_time_is_live_on_a_terminal(wheel_layout: Path, tmp_path: Path,  # noqa: F811
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    bin_dir = _fake_toolchain(tmp_path)
    npm = (bin_dir / "npm").read_text()
    (bin_dir / "npm").write_text(npm.replace("import os,", "import time; time.sleep(0.3)\nimport os,"))
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: True)
    monkeypatch.setattr(progress, "REDRAW_INTERVAL", 0.02)
    toolchain.ensure_node_modules()
    err = capsys.readouterr().err
    assert NOTICE.search(err.splitlines()[0])
    assert err.count("\rnpm ci ... 0 s") > 2  # redrawn while npm ran
    assert re.search(r"\rnpm ci \.\.\. done \(\d+\.\d\d s\)(\x1b\[K)?\n$", err), err


def test_a_failed_install_closes_its_line_as_failed(wheel_layout: Path, tmp_path: Path,  # noqa: F811
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    bin_dir = _fake_toolchain(tmp_path)
    (bin_dir / "npm").write_text(f"#!{sys.executable}\nimport sys\nsys.exit('network unreachable')\n")
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(ToolchainError, match="network unreachable"):
        toolchain.ensure_node_modules()
    assert capsys.readouterr().err.splitlines()[1] == "npm ci ... failed"


def test_the_stated_size_is_the_installed_size() -> None:
    """NODE_MODULES_MB is measured (a lock file lists no sizes): within a fifth of this checkout's install."""
    modules = ROOT / "node_modules"
    if not (modules / toolchain.LOCK_MARKER).is_file():
        pytest.skip("the checkout's node_modules is not installed")
    total = sum(os.lstat(os.path.join(d, f)).st_size for d, _, files in os.walk(modules) for f in files)
    assert abs(total / 1e6 - toolchain.NODE_MODULES_MB) < toolchain.NODE_MODULES_MB / 5, total / 1e6


def test_a_library_user_without_the_app_layer_gets_plain_lines(wheel_layout: Path, tmp_path: Path,  # noqa: F811
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The toolchain may not import zksolv.app: it reports through zksolv.core.progress_hook, whose own
    lines (no zksolv.app.progress registered) are the notice, a start line and an end line with seconds."""
    from zksolv.core import progress_hook

    monkeypatch.setattr(progress_hook, "_registered", {})
    monkeypatch.setenv("PATH", str(_fake_toolchain(tmp_path)))
    toolchain.ensure_node_modules()
    notice, start, end, *rest = capsys.readouterr().err.splitlines()
    assert NOTICE.fullmatch(notice) and start == "npm ci ..." and rest == []
    assert re.fullmatch(r"npm ci: done in \d+\.\d\d s", end), end


def test_the_toolchain_does_not_import_the_app_layer() -> None:
    """README, Layout: toolchain imports core and risk only (the progress lines come through a hook)."""
    import ast

    for path in (ROOT / "zksolv" / "toolchain").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            assert not any(n.startswith(("zksolv.app", "zksolv.cli")) for n in names), (path.name, names)
