"""Every command's and group's ``--help`` ends its description with an ``Example:`` block of
invocations of that very command (issue 22, item 3), kept verbatim by click (``\\b``); the cheap
ones are run as written, in an empty folder, so they stay real."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Iterator

import click
import pytest
from click.testing import CliRunner

from zksolv.cli import main


def _walk(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _walk(sub, (*path, name))


ALL = list(_walk(main))


def examples(path: tuple[str, ...]) -> list[list[str]]:
    """The ``$ ...`` lines of the Example block of ``zksolv <path> --help``, split like a shell would."""
    result = CliRunner().invoke(main, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == "Example:"]
    assert len(starts) == 1, f"`zksolv {' '.join(path)} --help` has {len(starts)} Example blocks"
    block: list[list[str]] = []
    for line in lines[starts[0] + 1:]:
        if not line.strip():
            break
        assert line.strip().startswith("$ "), f"not an invocation in the Example block: {line!r}"
        block.append(shlex.split(line.strip()[2:]))
    assert block, f"`zksolv {' '.join(path)} --help`: empty Example block"
    # click rewraps paragraphs without \b: the block must come out one invocation per line
    assert all(len(" ".join(words)) < 200 for words in block)
    return block


@pytest.mark.parametrize("path, command", ALL, ids=[" ".join(p) or "zksolv" for p, _ in ALL])
def test_every_help_has_an_example_of_that_command(path: tuple[str, ...], command: click.Command) -> None:
    for words in examples(path):
        assert words[0] == "zksolv", words
        if path:  # the root group's examples show a whole session
            assert tuple(words[1:1 + len(path)]) == path, f"`zksolv {' '.join(path)}` example runs {words}"
        # every option an example uses exists on the command it runs
        target = main
        for name in words[1:]:
            if not isinstance(target, click.Group) or name not in target.commands:
                break
            target = target.commands[name]
        known = {opt for param in target.params for opt in getattr(param, "opts", ())}
        used = [w for w in words if w.startswith("--")]
        assert set(used) <= known, f"{words}: unknown options {set(used) - known}"


def test_the_cheap_examples_run_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The oracle's and the trader's first steps, exactly as the help shows them, in an empty folder."""
    monkeypatch.chdir(tmp_path)
    cheap = [("market", "demo"), ("market", "commit"), ("commit",), ("report",)]
    ran = 0
    for path in cheap:
        for words in examples(path):
            if "--plot" in words or "--mode" in words:  # needs matplotlib / builds a second market: not cheap
                continue
            result = CliRunner().invoke(main, words[1:])
            assert result.exit_code == 0, (words, result.output)
            ran += 1
    assert ran >= 4 and os.path.isfile("market.json") and os.path.isdir("accounts")


def test_prove_help_groups_its_options_with_readable_metavars() -> None:
    """`prove --help`: the chunking options under their own heading, apart from keys and engines;
    metavars that say what a value is (N, COUNT, DIR) rather than INTEGER RANGE."""
    text = CliRunner().invoke(main, ["prove", "--help"], terminal_width=80).output
    headings = [line[:-1] for line in text.splitlines() if line.endswith(":") and not line.startswith(" ")]
    assert headings == ["Input and output", "One circuit (books up to the venue's largest tier)",
                        "Chunks (larger books, or smaller chunks side by side)", "Grouped openings (clustered books)",
                        "Keys and engines", "Other"]
    chunks = text.split("Chunks (", 1)[1].split("Grouped openings", 1)[0]
    for option in ("--chunk-size N ", "--chunks COUNT ", "--workers N ", "--ray ADDRESS "):
        assert f"  {option}" in chunks, option
    assert "INTEGER" not in text and "DIRECTORY" not in text
    prove = main.commands["prove"]
    for param in prove.params:  # every option listed once, under some heading
        rows = [line for line in text.splitlines() if re.match(rf"  {re.escape(param.opts[0])}\b", line)]
        assert len(rows) == 1, (param.opts, rows)  # (wrapped help lines are indented further)


@pytest.mark.slow
def test_the_session_in_zksolv_help_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`zksolv --help`'s example is a whole session: market, setup for the account, prove, verify."""
    monkeypatch.chdir(tmp_path)
    session = examples(())
    assert [words[1] for words in session] == ["market", "setup", "prove", "verify"]
    for words in session:
        result = CliRunner().invoke(main, words[1:])
        assert result.exit_code == 0, (words, result.output)
    assert os.path.isfile("proof/proof.json")
