"""What every ``zksolv`` command shares: exit codes, error handling, output and common options.

Exit codes, one meaning each (also in ``zksolv --help`` and the README):

0  success: the command did what it was asked (``verify``: every proof valid;
   ``prove``: the account meets the rule and the proof is written);
1  ``verify``: a proof is invalid or malformed;
2  usage or bad input: a missing or malformed option, file or field, an output
   path that cannot be written, an option pair that cannot work together
   (e.g. ``--backend snarkjs`` with development keys);
3  the environment failed: node / circom / snarkjs, the artifact cache, a
   missing optional package, a full or failing disk;
4  no proof: the prover refused (the account does not meet the rule, or its
   witness disagrees with the reference model);
5  internal error: a bug in zksolv (please report it);
130 interrupted (Ctrl-C).

Errors print one line naming the field or path, never a traceback and never a
private value.
"""

from __future__ import annotations

import errno
import functools
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

from zksolv.core.errors import CacheError, InputError, ProofError, ToolchainError, VerificationError, ZksolvError

if TYPE_CHECKING:  # the commands import their modules lazily, to start fast
    pass

EXIT_INVALID, EXIT_INPUT, EXIT_TOOLCHAIN, EXIT_REFUSED, EXIT_INTERNAL = 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130

#: every command takes -h as well as --help (the group passes these settings down)
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}

#: The exit codes as ``zksolv --help`` lists them (the README has the same table; a test keeps them in step).
EXIT_CODES = {
    0: "success (verify: every proof valid; prove: solvent, proof written)",
    EXIT_INVALID: "verify: a proof is invalid or malformed",
    EXIT_INPUT: "usage or bad input (option, file, field, unwritable output path, option pair)",
    EXIT_TOOLCHAIN: "environment: node/circom/snarkjs, cache, missing optional package, disk",
    EXIT_REFUSED: "no proof: the account does not meet the rule (insolvent) or its witness was refused",
    EXIT_INTERNAL: "internal error (a bug: please report it)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}

#: OS errors that say the machine is in trouble (exit 3), not that the user named a bad path (exit 2).
_ENVIRONMENTAL_ERRNOS = frozenset(
    getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EIO", "ENOMEM", "EMFILE", "ENFILE") if hasattr(errno, name)
)


def _os_error_message(exc: OSError) -> str:
    from zksolv.core.atomic import WriteError

    if isinstance(exc, WriteError):
        return str(exc)
    reason = exc.strerror or exc.__class__.__name__
    if exc.filename is not None:
        return f"{exc.filename}: {reason}"
    return f"file system error: {reason}"


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def exit_code(exc: BaseException) -> int:
    """The exit code of a :class:`ZksolvError` or :class:`OSError` (see the module docstring)."""
    if isinstance(exc, InputError):  # before VerificationError: MalformedFieldError is both
        return EXIT_INPUT
    if isinstance(exc, VerificationError):
        return EXIT_INVALID
    if isinstance(exc, ProofError):
        return EXIT_REFUSED
    if isinstance(exc, (ToolchainError, CacheError)):
        return EXIT_TOOLCHAIN
    if isinstance(exc, OSError):  # e.g. --out under a regular file, in /proc, read-only, disk full
        return EXIT_TOOLCHAIN if exc.errno in _ENVIRONMENTAL_ERRNOS else EXIT_INPUT
    return EXIT_INPUT


def error_message(exc: BaseException) -> str:
    """The one-line message for ``exc`` (names the field or path, never a private value)."""
    return _os_error_message(exc) if isinstance(exc, OSError) else str(exc)


def _command_name() -> str:
    """``zksolv <subcommand>`` of the running command (for messages)."""
    ctx = click.get_current_context(silent=True)
    return " ".join(["zksolv", *ctx.command_path.split()[1:]]) if ctx is not None else "zksolv"


def _missing_extra(exc: ImportError) -> ZksolvError:
    """An ImportError of an optional dependency as the error naming its extra; others propagate."""
    from zksolv.core.extras import missing_extra

    error = missing_extra(exc, _command_name())
    if error is None:
        raise exc
    return error


def needs(extra: str) -> None:
    """Refuse, before any work, a command whose extra is not installed (names ``pip install 'zksolv[extra]'``)."""
    from zksolv.core.extras import require

    require(extra, _command_name())


def internal_error_message(exc: BaseException) -> str:
    """One line for an unexpected exception: its type and where it was raised, not its text
    (which could hold a private value); ``ZKSOLV_DEBUG=1`` prints the traceback instead."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return (f"internal error ({type(exc).__name__}{where}): a bug in zksolv, please report it "
            "(ZKSOLV_DEBUG=1 shows the traceback)")


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Map the exception hierarchy to exit codes and one-line messages (see the module docstring):
    a missing optional dependency is a one-line error naming the extra that provides it (exit 3),
    an unexpected exception is an internal error (exit 5, never 1, which means an invalid proof)
    and Ctrl-C exits 130."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import os

        try:
            try:
                return func(*args, **kwargs)
            except ImportError as exc:
                raise _missing_extra(exc) from None
        except (ZksolvError, OSError) as exc:
            _fail(error_message(exc), exit_code(exc))
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            _fail("interrupted", EXIT_INTERRUPTED)
        except Exception as exc:
            if os.environ.get("ZKSOLV_DEBUG"):
                raise
            _fail(internal_error_message(exc), EXIT_INTERNAL)

    return wrapper


def check_output(path: str | Path | None, *, folder: bool) -> None:
    """Refuse, before any work, an output path that cannot be written (exit 2, naming the path)."""
    from zksolv.core.atomic import check_writable

    if path is not None:
        check_writable(Path(path), folder=folder)


def emit(data: dict[str, Any], as_json: bool) -> None:
    """Print a command's result: JSON (stable snake_case keys) or aligned ``key  value`` lines."""
    click.echo(json.dumps(data, indent=1) if as_json else render_text(data))


def render_text(data: dict[str, Any], indent: int = 0) -> str:
    """``data`` as aligned human-readable lines: nested objects indented under their key, a list of
    objects one ``- a=1, b=2`` line per item, a list of scalars comma-separated; never a Python repr."""
    pad = " " * indent
    width = max((len(str(k)) for k in data), default=0)
    lines: list[str] = []
    for key, value in data.items():
        if isinstance(value, dict) and value:
            lines.append(f"{pad}{key}:")
            lines.append(render_text(value, indent + 2))
        elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
            lines.append(f"{pad}{key}:")
            lines.extend(f"{pad}  - {_inline(v)}" for v in value)
        else:
            lines.append(f"{pad}{str(key) + ':':<{width + 1}}  {_scalar(value)}")
    return "\n".join(lines)


def plain(value: Any) -> str:
    """One value as plain text for human output (yes/no, ``-`` for none, comma-separated lists), never a repr."""
    return _scalar(value)


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_scalar(v)}" for k, v in value.items())
    return _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_inline(v) for v in value) if value else "-"
    if isinstance(value, dict):
        return _inline(value) or "-"
    return str(value)


class SectionedCommand(click.Command):
    """A command whose ``--help`` lists its options under headings, e.g. ``zksolv prove``'s chunking
    options apart from its keys. ``sections``: heading -> parameter names; the rest go under "Other"."""

    def __init__(self, *args: Any, sections: dict[str, tuple[str, ...]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sections = sections

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        grouped: dict[str, list[tuple[str, str]]] = {heading: [] for heading in (*self.sections, "Other")}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                heading = next((h for h, names in self.sections.items() if param.name in names), "Other")
                grouped[heading].append(record)
        for heading, records in grouped.items():
            if records:
                with formatter.section(heading):
                    formatter.write_dl(records)


def load_market(path: str):
    from zksolv.core.market import MarketState

    return MarketState.load(path)


def load_account(path: str):
    from zksolv.core.account import Account

    return Account.load(path)


market_option = click.option("--market", "market_path", required=True, type=click.Path(exists=True, dir_okay=False), help="market state JSON")
account_option = click.option("--account", "account_path", required=True, type=click.Path(exists=True, dir_okay=False), help="private account JSON")
json_option = click.option("--json", "as_json", is_flag=True, help="machine-readable output")


def exit_code_epilog() -> str:
    lines = "\n".join(f"  {code:<3}  {meaning}" for code, meaning in EXIT_CODES.items())
    return f"\b\nExit codes:\n{lines}"

