"""The README documents the whole CLI (in the spirit of sqlite-utils' test_docs): every command
and every option of the click command tree appears in the README and in its ``--help``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import click
import pytest
from click.testing import CliRunner

from zksolv.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _walk(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _walk(sub, (*path, name))


COMMANDS = [(path, cmd) for path, cmd in _walk(main) if path]
LEAVES = [(path, cmd) for path, cmd in COMMANDS if not isinstance(cmd, click.Group)]


def _options(command: click.Command) -> list[str]:
    return [opt for param in command.params if isinstance(param, click.Option) for opt in param.opts
            if opt.startswith("--")]


def _section(path: tuple[str, ...]) -> str:
    """The README's ``### `zksolv <path>` `` section, up to the next heading."""
    heading = f"### `zksolv {' '.join(path)}`\n"
    assert heading in README, f"README has no section {heading.strip()}"
    rest = README.split(heading, 1)[1]
    return re.split(r"^#{2,3} ", rest, maxsplit=1, flags=re.M)[0]


def _help(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(main, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def _ids(items: list[tuple[tuple[str, ...], click.Command]]) -> list[str]:
    return [" ".join(path) for path, _ in items]


@pytest.mark.parametrize("path, command", LEAVES, ids=_ids(LEAVES))
def test_every_command_and_option_is_in_the_readme(path: tuple[str, ...], command: click.Command) -> None:
    section = _section(path)
    missing = [opt for opt in _options(command) if not re.search(rf"`{re.escape(opt)}\b", section)]
    assert not missing, f"README section of `zksolv {' '.join(path)}` misses {missing}"


@pytest.mark.parametrize("path, command", LEAVES, ids=_ids(LEAVES))
def test_every_option_is_in_its_help_with_a_description(path: tuple[str, ...], command: click.Command) -> None:
    text = _help(path)
    for param in command.params:
        if isinstance(param, click.Option):
            assert any(opt in text for opt in param.opts), (path, param.opts)
            assert param.help or param.is_flag and param.name in ("help", "version"), \
                f"`zksolv {' '.join(path)} {param.opts[0]}` has no help text"


@pytest.mark.parametrize("path, command", [(p, c) for p, c in _walk(main) if isinstance(c, click.Group)],
                         ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_subcommand_is_in_its_groups_help(path: tuple[str, ...], command: click.Group) -> None:
    text = _help(path)
    for name in command.commands:
        assert re.search(rf"^\s+{re.escape(name)}\s", text, re.M), (path, name)


def test_the_readme_command_list_names_every_command() -> None:
    """The overview block of "## The CLI" shows every top-level command (it once missed `bench`)."""
    overview = README.split("## The CLI\n", 1)[1].strip("\n").split("\n\n", 1)[0]
    for name in main.commands:
        assert f"zksolv {name}" in overview, f"the README's command list misses `zksolv {name}`"
    assert "`zksolv --version`" in README


def test_the_readme_documents_the_fast_test_subset() -> None:
    assert '.venv/bin/python -m pytest -m "not slow"' in README
    assert "about a minute" in README


def test_readme_library_example_names_exist_and_the_keeper_uses_the_venue_key_set() -> None:
    """The README's library example is not run (it proves), but every name it imports must exist, and its
    keeper must verify with the venue's key set, never with a key taken from the prover's bundle."""
    import importlib
    import re

    block = README.split("## Library\n", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    imports = re.findall(r"^from (zksolv[\w.]*) import ([\w, ]+)$", block, re.M)
    assert len(imports) >= 5, imports
    for module, names in imports:
        mod = importlib.import_module(module)
        for name in (n.strip() for n in names.split(",")):
            assert hasattr(mod, name), f"README imports {name} from {module}, which has no such name"
    assert "KeySet.from_folder(" in block and "read_submission(" in block and "check_epoch(" in block
    assert "bundle.statement" not in block and "venue_vk" not in block  # no key picked by the prover's statement
