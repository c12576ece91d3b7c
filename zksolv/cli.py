"""The ``zksolv`` command line: a thin click layer over the library.

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
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import click

from zksolv.errors import CacheError, InputError, ProofError, ToolchainError, VerificationError, ZksolvError
from zksolv.progress import step, task_bar

if TYPE_CHECKING:  # the commands import their modules lazily, to start fast
    from zksolv.chain.solidity import TierKey

EXIT_INVALID, EXIT_INPUT, EXIT_TOOLCHAIN, EXIT_REFUSED, EXIT_INTERNAL = 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130

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
    from zksolv.atomic import WriteError

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
    from zksolv.extras import missing_extra

    error = missing_extra(exc, _command_name())
    if error is None:
        raise exc
    return error


def needs(extra: str) -> None:
    """Refuse, before any work, a command whose extra is not installed (names ``pip install 'zksolv[extra]'``)."""
    from zksolv.extras import require

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


def _check_output(path: str | Path | None, *, folder: bool) -> None:
    """Refuse, before any work, an output path that cannot be written (exit 2, naming the path)."""
    from zksolv.atomic import check_writable

    if path is not None:
        check_writable(Path(path), folder=folder)


def _emit(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=1))
    else:
        for key, value in data.items():
            click.echo(f"{key}: {value}")


def _load_market(path: str):
    from zksolv.market import MarketState

    return MarketState.load(path)


def _load_account(path: str):
    from zksolv.account import Account

    return Account.load(path)


market_option = click.option("--market", "market_path", required=True, type=click.Path(dir_okay=False), help="market state JSON")
account_option = click.option("--account", "account_path", required=True, type=click.Path(dir_okay=False), help="private account JSON")
json_option = click.option("--json", "as_json", is_flag=True, help="machine-readable output")


def _exit_code_epilog() -> str:
    lines = "\n".join(f"  {code:<3}  {meaning}" for code, meaning in EXIT_CODES.items())
    return f"\b\nExit codes:\n{lines}"


@click.group(epilog=_exit_code_epilog())
@click.version_option(package_name="zksolv")
def main() -> None:
    """Zero-knowledge proofs that an account meets the AVSL maintenance margin."""
    import warnings

    from zksolv.errors import InsecureSetupWarning

    # the commands print their own one-line warning about development keys
    warnings.filterwarnings("ignore", category=InsecureSetupWarning)


# ------------------------------------------------------------------- market
@main.group()
def market() -> None:
    """Build or commit a market state (the oracle's side)."""


@market.command("demo")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="where to write the market JSON")
@click.option("--mode", type=click.Choice(["stress", "es", "var", "revaluation"]), default="stress", show_default=True,
              help="revaluation: publish every instrument's full-repricing risk array over the grid")
@click.option("--grid", type=click.Choice(["span", "deribit", "paradex", "horizon", "mc"]), default="span",
              show_default=True, help="scenario grid; mc (revaluation only): the Monte-Carlo set (es always uses it)")
@click.option("--epoch", type=click.IntRange(0, 2**64 - 1), default=1, show_default=True,
              help="the epoch the market state is for (a proof binds to it)")
@click.option("--seed", type=int, default=7, show_default=True,
              help="seed of the demo's price history, volatility surface and market-maker book")
@click.option("--portfolios", type=click.Path(file_okay=False), help="also write the demo accounts into this folder")
@click.option("--tiers", default=None, metavar="N,N,...",
              help="the venue's accepted one-circuit capacities (size privacy; default 4,16,64)")
@click.option("--chunk-sizes", default=None, metavar="N,N,...",
              help="the venue's accepted chunk capacities (default 32,64; large books use the largest)")
@click.option("--chunk-counts", default=None, metavar="N,N,...",
              help="the chunk counts the venue accepts (default powers of two, 2..1024)")
@json_option
@handle_errors
def market_demo(out: str, mode: str, grid: str, epoch: int, seed: int, portfolios: str | None, tiers: str | None,
                chunk_sizes: str | None, chunk_counts: str | None, as_json: bool) -> None:
    """Write a seeded demo market (BTC, ETH option chains, perps, 4 collateral assets)."""
    needs("prover")
    from dataclasses import replace

    from zksolv.commitments import market_root
    from zksolv.demo import demo_market, demo_portfolios
    from zksolv.venue import DEFAULT_POLICY

    _check_output(out, folder=False)
    _check_output(portfolios, folder=True)
    venue = replace(DEFAULT_POLICY, **{k: v for k, v in (("tiers", _int_list("--tiers", tiers)),
                                                          ("chunk_sizes", _int_list("--chunk-sizes", chunk_sizes)),
                                                          ("chunk_counts", _int_list("--chunk-counts", chunk_counts)))
                                       if v is not None}).validated()
    with step("building demo market"):
        state = replace(demo_market(seed=seed, risk_mode=mode, grid=grid, epoch=epoch), venue=venue).validated()
    state.save(out)
    written = []
    if portfolios:
        for name, account in demo_portfolios(state, seed=seed).items():
            path = Path(portfolios) / f"{name}.json"
            account.save(path)
            written.append(str(path))
    _emit({"market": out, "epoch": state.epoch, "market_root": str(market_root(state)),
           "instruments": len(state.instruments), "accounts": written}, as_json)


def _int_list(option: str, text: str | None) -> tuple[int, ...] | None:
    """``"4,16,64"`` as integers, or None when the option was not given."""
    if text is None:
        return None
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise InputError(f"{option}: expected comma-separated integers, e.g. 4,16,64") from None


@market.command("commit")
@click.argument("market_path", type=click.Path(dir_okay=False))
@json_option
@handle_errors
def market_commit(market_path: str, as_json: bool) -> None:
    """Validate a market state and print its market_root."""
    from zksolv.commitments import market_root

    state = _load_market(market_path)
    u, a, k, depth = state.shape
    _emit({"epoch": state.epoch, "market_root": str(market_root(state)), "underlyings": u, "collateral": a,
           "scenarios": k, "tree_depth": depth, "risk_mode": state.params.risk_mode.value}, as_json)


# ------------------------------------------------------------------ account
@main.command()
@account_option
@market_option
@json_option
@handle_errors
def commit(account_path: str, market_path: str, as_json: bool) -> None:
    """Print the account commitment (public) to register with the venue."""
    from zksolv.commitments import account_commitment_of

    _emit({"account_commitment": str(account_commitment_of(_load_account(account_path), _load_market(market_path)))}, as_json)


@main.command()
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
    liquidation, computed locally, as tables (--json: the same figures, exact)."""
    needs("prover")
    from zksolv.analytics import report as build_report
    from zksolv.report_format import format_report

    if plot_path is not None:
        from zksolv.report_plot import require_matplotlib

        if Path(plot_path).suffix.lower() != ".png":
            raise InputError(f"--plot: {plot_path} must end in .png (the plot is written as a PNG)")
        _check_output(plot_path, folder=False)
        require_matplotlib()
    account, market = _load_account(account_path), _load_market(market_path)
    label = "margins and partial liquidation" + ("" if no_prices else ", liquidation prices by repricing")
    with step(f"computing {label}"):
        data = build_report(account, market, with_prices=not no_prices)
    if plot_path is not None:
        from zksolv.analytics import ratio_curves
        from zksolv.report_plot import write_plot

        with step(f"plotting the margin ratio against each underlying's price into {plot_path}"):
            write_plot(ratio_curves(account, market), Path(plot_path))
    if as_json:
        click.echo(json.dumps(data, indent=1))
    else:
        click.echo(format_report(data))


# -------------------------------------------------------------------- setup
route_option = click.option("--route", type=click.Choice(["dev", "snarkjs"]), default="dev", show_default=True,
                            help="dev: single-party setup in seconds, NOT FOR REAL FUNDS; snarkjs: phase 2 on --ptau")
ptau_option = click.option("--ptau", type=click.Path(dir_okay=False, exists=True),
                           help="powers-of-tau file (prepared for phase 2) for --route snarkjs")
positions_option = click.option("--positions", "n_positions", type=click.IntRange(1, 1024),
                                help="position capacity of the circuit tier (default: smallest that fits)")


def _check_route(route: str, ptau: str | None, backend: str | None = None) -> Path | None:
    """Refuse, before any work, a setup route without its powers of tau (or with one it ignores), and
    a proving backend that cannot prove with the route's keys; the ``--ptau`` path."""
    if route == "snarkjs" and not ptau:
        raise InputError("--ptau: required with --route snarkjs (a phase-2-prepared powers-of-tau file)")
    if route != "snarkjs" and ptau:
        raise InputError(f"--ptau: only with --route snarkjs (the {route} route makes its own keys)")
    if backend is not None:
        from prover.backends import check_backend_route

        check_backend_route(backend, route)
    return Path(ptau) if ptau else None


@main.command()
@market_option
@click.option("--positions", "n_positions", type=click.IntRange(1, 1024), default=None,
              help="only the tier of this position capacity, one the venue accepts (default: every tier it "
                   "accepts); `zksolv prove` picks the smallest tier that holds the book, or this one with the "
                   "same --positions")
@click.option("--chunks", "with_chunks", is_flag=True,
              help="also the venue's chunk circuits (one per accepted chunk size) and the final circuit")
@click.option("--keys-out", type=click.Path(file_okay=False),
              help="write the verification keys as a key set: <circuit name>.json each (what a venue publishes "
                   "and keepers pass to `zksolv verify --keys`)")
@route_option
@ptau_option
@json_option
@handle_errors
def setup(market_path: str, n_positions: int | None, with_chunks: bool, keys_out: str | None, route: str,
          ptau: str | None, as_json: bool) -> None:
    """Compile the circuits for a market's shape and run the trusted setup (cached).

    By default every one-circuit tier of the venue's policy (the market's "venue"
    section); with --chunks also its chunk and final circuits.
    """
    needs("prover")
    from zksolv.toolchain.artifacts import build_artifacts
    from zksolv.atomic import atomic_write_text
    from zksolv.circuitgen import ChunkTier, FinalTier, Tier

    ptau_path = _check_route(route, ptau)
    _check_output(keys_out, folder=True)
    state = _load_market(market_path)
    # the tiers `zksolv prove` picks from: a capacity the venue does not accept would never be used
    _check_venue_options(state.venue, n_positions, None, None)
    capacities = (n_positions,) if n_positions is not None else state.venue.tiers
    shapes: list[Any] = [Tier.for_market(state, c) for c in capacities]
    if with_chunks:
        shapes += [*(ChunkTier.for_market(state, size) for size in state.venue.chunk_sizes), FinalTier.for_market(state)]
    rows = []
    entries: list[dict[str, Any]] = []
    for shape in shapes:
        with step(f"compiling {shape.name} and running the {route} setup") as shown:
            art = build_artifacts(shape, route, ptau=ptau_path)
            if art.cached:
                shown.note("cached")
        if art.keys.insecure:
            click.echo(f"warning: {art.keys.warning}", err=True)
        row = {"tier": shape.name, "circuit_hash": art.circuit_hash, "constraints": art.circuit.n_constraints,
               "route": route, "verification_key": str(art.keys.verification_key)}
        if keys_out is not None:
            exported = Path(keys_out) / f"{shape.name}.json"
            atomic_write_text(exported, art.keys.verification_key.read_text())
            row["exported_key"] = str(exported)
            entries.append({"circuit": shape.name, "circuit_hash": art.circuit_hash,
                            "verification_key": exported.name})
        rows.append(row)
    if keys_out is not None:
        from zksolv.verifier.keyset import write_manifest

        # no ceremony transcript: keepers see the route (dev: NOT FOR REAL FUNDS) in every report
        write_manifest(Path(keys_out), entries, transcript_sha256=None, route=route)
    _emit(rows[0] if n_positions is not None and not with_chunks else {"circuits": rows}, as_json)


# -------------------------------------------------------------------- prove
@main.command()
@account_option
@market_option
@click.option("--out", required=True, type=click.Path(file_okay=False), help="folder for proof.json, public.json, ...")
@positions_option
@click.option("--chunk-size", type=click.IntRange(8, 1024), default=None,
              help="prove in chunks of this many positions (a size the venue accepts; default: one circuit "
                   "up to its largest tier, its largest chunk size above; 64 and 64 by default). 32 proves a 17-64 "
                   "position book as 2 parallel chunks: faster on 2+ cores, but the keeper checks 3 proofs and "
                   "the on-chain registry takes one-circuit proofs only")
@click.option("--chunks", "n_chunks", type=click.IntRange(1, 4096), default=None,
              help="pad the book to exactly this many chunks (hides its size within the count)")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="local proving processes for chunks (default: the resident prover if it runs, else one per core)")
@click.option("--ray", "ray_address", default=None, metavar="ADDRESS",
              help="prove the chunks on a Ray cluster (ADDRESS, or 'local' to start one here); "
                   "needs pip install 'zksolv[ray]'")
@click.option("--backend", type=click.Choice(["arkworks", "snarkjs"]), default="arkworks", show_default=True,
              help="arkworks (groth16py, in-process) proves with either route's keys; snarkjs (node) needs "
                   "--route snarkjs")
@route_option
@ptau_option
@click.option("--keys", "keys_dir", type=click.Path(file_okay=False),
              help="the venue's key set (`zksolv ceremony finalize --keys-out`): prove with its proving keys "
                   "(instead of --route/--ptau)")
@click.option("--resident", type=click.Choice(["auto", "require", "off"]), default="auto", show_default=True,
              help="arkworks: prove with the resident prover (`zksolv prover start`) if it runs; require it; or never")
@click.option("--witness", "witness_engine", type=click.Choice(["auto", "wasmtime", "node"]), default=None,
              help="witness calculator: circom's wasm in-process (wasmtime) or under node [default: auto, "
                   "wasmtime if installed; $ZKSOLV_WITNESS]")
@json_option
@handle_errors
def prove(account_path: str, market_path: str, out: str, n_positions: int | None, chunk_size: int | None,
          n_chunks: int | None, workers: int | None, ray_address: str | None, backend: str, route: str,
          ptau: str | None, keys_dir: str | None, resident: str, witness_engine: str | None, as_json: bool) -> None:
    """Prove the account meets the AVSL rule; refuses (exit 4) if it does not.

    Books that fit the venue's largest tier (64 positions by default) prove in
    one circuit, larger ones in chunks of its largest chunk size (64 by
    default: a chunk proof each plus a final proof, in parallel); the
    commitment is the same either way.
    """
    needs("prover")
    from prover.prove import prove as make_proof

    from zksolv.venue import bucket

    if keys_dir is not None:
        if route != "dev" or ptau:
            raise InputError("--keys: proves with the key set's proving keys; it excludes --route and --ptau")
        if not Path(keys_dir).is_dir():
            raise InputError(f"--keys: {keys_dir} is not a folder")
        route = "snarkjs"  # the key set's .zkey proving keys (either backend)
    ptau_path = _check_route(route, ptau, backend) if keys_dir is None else None
    if n_positions is not None and (chunk_size is not None or n_chunks is not None):
        raise InputError("--positions: one circuit's capacity; it excludes --chunk-size and --chunks")
    if chunk_size is not None and chunk_size % 8:
        raise InputError("--chunk-size: must be a multiple of 8 (the commitment's entry block)")
    _check_output(out, folder=True)
    state, account = _load_market(market_path), _load_account(account_path)
    _check_venue_options(state.venue, n_positions, chunk_size, n_chunks)
    timings: dict[str, float] = {}
    bundle = make_proof(account, state, n_positions=n_positions,
                        chunk_size=chunk_size, n_chunks=n_chunks, workers=workers, ray_address=ray_address,
                        backend=backend, route=route, ptau=ptau_path, progress=lambda label: step(label, timings),
                        task_progress=task_bar(), resident=resident, witness_engine=witness_engine,
                        note=lambda line: click.echo(f"note: {line}", err=True),
                        keys=Path(keys_dir) if keys_dir is not None else None)
    paths = bundle.save(out)
    if bundle.statement.insecure_setup:
        click.echo("warning: proved with development keys — NOT FOR REAL FUNDS", err=True)
    st = bundle.statement
    reveals = bucket(chunk_size=st.capacity, chunks=st.n_chunks) if st.chunked else bucket(st.capacity)
    click.echo(f"the proof reveals the size bucket: at most {reveals['capacity']} positions "
               f"({'%d chunks of %d' % (st.n_chunks, st.capacity) if st.chunked else 'tier ' + str(st.capacity)})",
               err=True)
    _emit({"tier": st.tier, **({"chunk_tier": st.chunk_tier, "chunks": st.n_chunks} if st.chunked else {}),
           "bucket": reveals,
           "epoch": st.epoch, "account_commitment": st.account_commitment, "market_root": st.market_root,
           "files": [str(p) for p in paths.values()], "seconds": {k: round(v, 3) for k, v in timings.items()}}, as_json)


def _check_venue_options(venue: Any, n_positions: int | None, chunk_size: int | None, n_chunks: int | None) -> None:
    """Refuse, before any work, a tier or chunk count the venue's keepers would refuse."""
    try:
        if n_positions is not None:
            venue.check_tier(n_positions)
        size = chunk_size or venue.chunk_size
        if n_chunks is not None or size not in venue.chunk_sizes:  # an accepted size alone: padded to a bucket
            venue.check_chunks(size, n_chunks or venue.chunk_counts[0])
    except InputError as exc:
        option = "--positions" if n_positions is not None else ("--chunk-size" if chunk_size is not None and
                                                                chunk_size not in venue.chunk_sizes else "--chunks")
        raise InputError(f"{option}: {exc}") from None


# ------------------------------------------------------------------- prover
@main.group()
def prover() -> None:
    """The resident prover: a local process that keeps proving keys loaded across epochs.

    It listens on a Unix socket only this user can reach (<cache>/run/prover.sock,
    $ZKSOLV_PROVER_SOCKET overrides); `zksolv prove` uses it while it runs.
    """


@prover.command("start")
@click.option("--max-keys", type=click.IntRange(1, 64), default=2, show_default=True,
              help="proving keys kept loaded (least recently used dropped first)")
@click.option("--idle-timeout", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="stop after this many seconds without a request (0: never)")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="proofs at a time, e.g. the chunks of a book (default: one per core)")
@json_option
@handle_errors
def prover_start(max_keys: int, idle_timeout: float, workers: int | None, as_json: bool) -> None:
    """Start the resident prover in the background (no-op if it runs)."""
    needs("prover")
    from prover import daemon

    info = daemon.start(max_keys=max_keys, idle_timeout=idle_timeout, workers=workers)
    _emit({"running": True, "pid": info["pid"], "socket": str(daemon.socket_path()),
           "already_running": info.get("already_running", False)}, as_json)


@prover.command("stop")
@json_option
@handle_errors
def prover_stop(as_json: bool) -> None:
    """Stop the resident prover (no-op if none runs)."""
    from prover import daemon

    pid = daemon.stop()
    _emit({"stopped": pid is not None, "pid": pid}, as_json)


@prover.command("status")
@json_option
@handle_errors
def prover_status(as_json: bool) -> None:
    """Whether the resident prover runs, and which keys it holds."""
    from prover import daemon

    info = daemon.status()
    if info is None:
        _emit({"running": False, "socket": str(daemon.socket_path())}, as_json)
        return
    data = {"running": True, "pid": info["pid"], "socket": str(daemon.socket_path()), "uptime_s": info["uptime_s"],
            "proofs": info["proofs"], "keys": info["keys"]}
    if not as_json:
        data["keys"] = ", ".join(f"{k['directory']}/{k['file']} ({k['size_mb']} MB, {k['proofs']} proofs)"
                                 for k in info["keys"]) or "none loaded yet"
    _emit(data, as_json)


# ------------------------------------------------------------------- verify
def _json_error_line(reason: str, code: int) -> str:
    """The one JSON line ``verify --json`` prints for an error that stops it (exit 2, 3 or 5)."""
    return json.dumps({"status": "error", "valid": False, "reason": reason, "exit_code": code})


class _JsonErrorCommand(click.Command):
    """A command whose usage errors (an unknown option, a bad choice) also print the JSON error
    line when ``--json`` is among its arguments, so a script reading stdout always gets JSON."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        wants_json = "--json" in args
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            if wants_json:
                click.echo(_json_error_line(exc.format_message(), EXIT_INPUT))
            raise


#: Submissions handed to one verify_many call (one batch; the progress bar moves per chunk).
_VERIFY_CHUNK = {"python": 64, "native": 2048, "auto": 2048, "py_ecc": 16}
_TRUST_HINT = ("name the verification keys this keeper trusts: --keys DIR (the venue's published key set), --vk FILE "
               "(one key), or --dev-key for this machine's own development keys (NOT FOR REAL FUNDS)")


@main.command(cls=_JsonErrorCommand)
@click.option("--proof", "proof_dirs", multiple=True, type=click.Path(file_okay=False),
              help="a folder written by `zksolv prove` (repeatable)")
@click.option("--proofs", "proofs_root", type=click.Path(file_okay=False),
              help="a folder of proof folders: every subfolder is one submission")
@click.option("--market", "market_path", type=click.Path(dir_okay=False),
              help="market state JSON  [required; checked here so that --json reports its absence too]")
@click.option("--vk", "vk_path", type=click.Path(dir_okay=False),
              help="the verification key this keeper trusts (the venue's verification_key.json)")
@click.option("--keys", "keys_dir", type=click.Path(file_okay=False),
              help="the venue's key set: a folder of <circuit name>.json verification keys, one per tier it "
                   "accepts (chunked books need their chunk and final keys from it)")
@click.option("--transcript-sha256", "transcript_pin", metavar="HEX",
              help="with --keys: the ceremony transcript hash you checked once with `zksolv ceremony verify`; "
                   "a key set naming another transcript is refused (exit 2)")
@click.option("--dev-key", is_flag=True,
              help="use this machine's own development setup for each proof's tier: NOT FOR REAL FUNDS")
@click.option("--commitment", type=str, help="the account commitment the venue stores (one proof; decimal or 0x-hex)")
@click.option("--commitments", "commitments_path", type=click.Path(dir_okay=False),
              help="JSON object: proof folder name -> the commitment the venue stores for that account")
@click.option("--backend", type=click.Choice(["python", "native", "auto", "py_ecc"]), default="python",
              show_default=True,
              help="python: batched integer pairing (checked against py_ecc); py_ecc: py_ecc's own pairing, one proof "
                   "at a time (the slow reference); native: groth16py over a process pool; auto: native if installed")
@click.option("--workers", type=click.IntRange(1, 512), help="processes for --backend native (default: all cores)")
@json_option
@handle_errors
def verify(proof_dirs: tuple[str, ...], proofs_root: str | None, market_path: str | None, vk_path: str | None,
           keys_dir: str | None, transcript_pin: str | None, dev_key: bool,
           commitment: str | None, commitments_path: str | None, backend: str, workers: int | None,
           as_json: bool) -> None:
    """Check proofs against a market state: one line per proof and a summary.

    Exit 0 if every proof is valid, 1 if any is invalid or malformed, 2 for usage errors.
    Under --json every outcome is a JSON line, errors included.
    """
    try:
        try:
            _verify(proof_dirs, proofs_root, market_path, vk_path, keys_dir, transcript_pin, dev_key, commitment,
                    commitments_path, backend, workers, as_json)
        except ImportError as exc:
            raise _missing_extra(exc) from None
    except (ZksolvError, OSError) as exc:  # handle_errors prints the one-line error and exits
        if as_json:
            click.echo(_json_error_line(error_message(exc), exit_code(exc)))
        raise
    except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:  # a bug: handle_errors exits 5; the JSON line says so too
        if as_json:
            click.echo(_json_error_line(internal_error_message(exc), EXIT_INTERNAL))
        raise


def _verify(proof_dirs: tuple[str, ...], proofs_root: str | None, market_path: str | None, vk_path: str | None,
            keys_dir: str | None, transcript_pin: str | None, dev_key: bool, commitment: str | None,
            commitments_path: str | None, backend: str, workers: int | None, as_json: bool) -> None:
    from verifier.proof_io import load_verification_key
    from verifier.verify import verify_many

    if backend == "native":
        needs("keeper-native")
    folders = _proof_folders(proof_dirs, proofs_root)
    if backend == "native":
        from verifier import native

        if not native.available():  # a missing package is the environment (exit 3), checked before any work
            raise ToolchainError("--backend native: groth16py is not installed (pip install 'zksolv[keeper-native]')")
    if market_path is None:
        raise InputError("--market: required (the market state JSON of the epoch the proofs are for)")
    given = [name for name, value in (("--vk", vk_path), ("--keys", keys_dir), ("--dev-key", dev_key)) if value]
    if len(given) > 1:
        raise InputError(f"{', '.join(given)}: give one (" + _TRUST_HINT + ")")
    if not given:
        raise InputError(_TRUST_HINT)
    if transcript_pin is not None:
        from zksolv.verifier.keyset import parse_transcript_pin

        if keys_dir is None:
            raise InputError("--transcript-sha256: pins the ceremony transcript of a key set; give it with --keys DIR")
        transcript_pin = parse_transcript_pin(transcript_pin)
    if keys_dir is not None and not Path(keys_dir).is_dir():
        raise InputError(f"--keys: {keys_dir} is not a folder")
    expected = _registered_commitments(folders, commitment, commitments_path)
    if vk_path is not None:
        _refuse_shipped_key(Path(vk_path), folders)
    state = _load_market(market_path)
    keys_label, keys_listed = None, frozenset()
    if keys_dir is not None:
        from zksolv.circuitgen import circuit_set
        from zksolv.verifier.keyset import check_key_set, key_setup_label

        shapes = circuit_set(state, chunks=True)
        manifest = check_key_set(Path(keys_dir), {s.name: _local_circuit_hash(s) for s in shapes},
                                 transcript_sha256=transcript_pin)
        keys_label, keys_listed = key_setup_label(manifest, pinned=transcript_pin is not None), frozenset(manifest["keys"])
    if dev_key:
        click.echo("warning: verifying with this machine's development key (single-party setup) — NOT FOR REAL FUNDS",
                   err=True)
    keys: dict[str, Any] = {}  # key path -> prepared key (parsed and checked once)
    if vk_path is not None:
        try:
            keys[str(Path(vk_path))] = _prepared(load_verification_key(Path(vk_path)))
        except VerificationError as exc:
            raise InputError(f"--vk: {exc}") from None
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    pending: dict[str, list[tuple[int, Any]]] = {}  # key path -> (row index, submission)
    trust = _KeySource(vk_path, keys_dir, keys, keys_label, keys_listed)
    for i, folder in enumerate(folders):
        submission, row, refusal = _read_submission(folder, state, expected, trust)
        rows.append(row if refusal is None else {**row, **refusal.to_dict()})
        if refusal is None:
            pending.setdefault(row["verification_key"], []).append((i, submission))
    chunk = _VERIFY_CHUNK[backend]
    show_bar = sys.stderr.isatty()  # stderr only: --json output on stdout stays clean
    with click.progressbar(length=len(folders), label="verifying", file=sys.stderr) if show_bar else _no_bar() as bar:
        bar.update(len(folders) - sum(len(members) for members in pending.values()))
        for key_path, members in pending.items():
            for at in range(0, len(members), chunk):
                part = members[at:at + chunk]
                verdicts = verify_many([sub for _, sub in part], state, trust.prepared[key_path], backend=backend,
                                       workers=workers)
                for (i, _), verdict in zip(part, verdicts):
                    rows[i] = {**rows[i], **verdict.to_dict()}
                bar.update(len(part))
    elapsed = time.perf_counter() - start
    counts = {status: sum(r["status"] == status for r in rows) for status in ("valid", "invalid", "malformed")}
    summary = {"proofs": len(rows), **counts, "seconds": round(elapsed, 3),
               "proofs_per_second": round(len(rows) / elapsed, 1) if elapsed > 0 else None, "backend": backend}
    for r in rows:
        if as_json:
            click.echo(json.dumps(r))
        else:
            line = f"{r['status'].upper():<9} {r['folder']}"
            click.echo(line if r["valid"] else f"{line}: {r['reason']}")
    if as_json:
        click.echo(json.dumps({"summary": summary}))
    else:
        if len(rows) == 1 and "key_setup" in rows[0]:
            click.echo(f"key_setup: {rows[0]['key_setup']}")
        click.echo(f"{summary['proofs']} proof(s): {counts['valid']} valid, {counts['invalid']} invalid, "
                   f"{counts['malformed']} malformed ({summary['proofs_per_second']} proofs/s)")
    sys.exit(0 if counts["valid"] == len(rows) else EXIT_INVALID)


def _refuse_shipped_key(vk: Path, folders: list[Path]) -> None:
    """A keeper never takes its key from the proof: refuse (exit 2) a ``--vk`` that is a file of a proof
    folder being verified — by its path, through a symbolic link, or as a hard link of one of its files.

    The key's *content* is deliberately not compared with the keys the folders ship: every honest bundle
    ships the venue's key, so equal content cannot tell a venue key obtained elsewhere from an attacker's
    key copied out of its own bundle (and any re-encoding would defeat the comparison anyway). What makes
    a key trustworthy is where the keeper got it: the venue's key set, ``--keys DIR`` checked once with
    ``zksolv ceremony verify`` and pinned with ``--transcript-sha256``.
    """
    if not vk.is_file():
        raise InputError(f"--vk: {vk} not found")
    resolved, literal = vk.resolve(), Path(os.path.abspath(vk))
    info = vk.stat()
    for folder in folders:
        root = folder.resolve()
        if resolved.is_relative_to(root) or literal.is_relative_to(Path(os.path.abspath(folder))):
            raise InputError(f"--vk: {vk} lies inside the proof folder {folder}: a keeper never trusts a key "
                             "shipped with the proof (use the venue's key set, --keys DIR)")
        if info.st_nlink < 2 or not root.is_dir():
            continue  # a file with one name that is not inside the folder is not one of the folder's files
        for shipped in root.rglob("*"):
            try:
                other = shipped.lstat()  # a link in the folder pointing out is not the folder's file
            except OSError:
                continue
            if (other.st_dev, other.st_ino) == (info.st_dev, info.st_ino):
                raise InputError(f"--vk: {vk} is a link to {shipped}, a file of the proof folder: a keeper never "
                                 "trusts a key shipped with the proof (use the venue's key set, --keys DIR)")


@contextmanager
def _no_bar() -> Iterator[Any]:
    class _Silent:
        def update(self, _n: int) -> None:
            pass

    yield _Silent()


def _proof_folders(proof_dirs: tuple[str, ...], proofs_root: str | None) -> list[Path]:
    folders = [Path(p) for p in proof_dirs]
    if proofs_root is not None:
        root = Path(proofs_root)
        if not root.is_dir():
            raise InputError(f"--proofs: {root} is not a folder")
        folders += sorted(p for p in root.iterdir() if p.is_dir())
    if not folders:
        raise InputError("--proof or --proofs: give the proof folder(s) to check")
    return folders


def _registered_commitments(folders: list[Path], commitment: str | None,
                            commitments_path: str | None) -> dict[str, int] | None:
    """Folder name -> the commitment the venue stores, or None when nothing was given."""
    if commitment is not None and commitments_path is not None:
        raise InputError("--commitment, --commitments: give one")
    if commitment is not None:
        if len(folders) != 1:
            raise InputError("--commitment: only with a single proof (use --commitments FILE for many)")
        return {folders[0].name: _commitment_value(commitment, "--commitment")}
    if commitments_path is None:
        return None
    try:
        data = json.loads(Path(commitments_path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"--commitments {commitments_path}: cannot read ({exc.strerror})") from None
    except (ValueError, RecursionError):
        raise InputError(f"--commitments {commitments_path}: not valid JSON") from None
    if not isinstance(data, dict):
        raise InputError("--commitments: expected a JSON object {folder name: commitment}")
    return {str(name): _commitment_value(value, f"--commitments[{name!r}]") for name, value in data.items()}


def _commitment_value(value: Any, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(value, 0)
    except (TypeError, ValueError):
        raise InputError(f"{what}: expected a decimal or 0x-hex integer") from None


@dataclass
class _KeySource:
    """Where this keeper's verification keys come from: one ``--vk`` file, the venue's ``--keys``
    folder (one ``<circuit name>.json`` per accepted tier) or, with neither, this machine's own
    development setup. ``prepared`` caches each key file, parsed and checked once, by path."""

    vk_path: str | None
    keys_dir: str | None
    prepared: dict[str, Any]
    keys_label: str | None = None  # the checked key set's origin (manifest route / transcript)
    keys_listed: frozenset[str] = frozenset()  # circuits the checked manifest lists (only these are used)

    def key(self, shape: Any, statement_name: str, statement_hash: str, state: Any) -> tuple[str, str, bool | None]:
        """``(key path, setup description, insecure)`` for the circuit ``shape`` that the keeper's market
        and the statement's capacity define; :class:`VerificationError` when the statement names
        another circuit, or the venue publishes no key for it."""
        if statement_name != shape.name:
            raise VerificationError(f"proof is for circuit {statement_name}; this market's shape gives {shape.name}")
        if self.keys_dir is not None:
            path = Path(self.keys_dir) / f"{shape.name}.json"
            if shape.name not in self.keys_listed or not path.is_file():
                raise VerificationError(f"the venue's key set has no key for {shape.name}")
            setup: tuple[str, bool | None] = (self.keys_label or "the venue's key set (--keys)", None)
        elif self.vk_path is not None:
            path, setup = Path(self.vk_path), ("given with --vk (its setup is not known to zksolv)", None)
        else:
            from zksolv.toolchain.artifacts import local_key

            circuit_hash = _local_circuit_hash(shape)
            if statement_hash != circuit_hash:
                raise VerificationError(f"proof is for circuit {statement_hash[:16]}…; this keeper's circuit for "
                                        f"{shape.name} is {circuit_hash[:16]}… (re-prove with the current circuits)")
            local = local_key(shape.name, circuit_hash, "dev")
            path = local.path
            setup = ("dev (INSECURE development setup: NOT FOR REAL FUNDS)" if local.insecure else "dev", bool(local.insecure))
        if str(path) not in self.prepared:
            from verifier.proof_io import load_verification_key

            self.prepared[str(path)] = _prepared(load_verification_key(path))
        return str(path), setup[0], setup[1]


def _read_submission(folder: Path, state: Any, expected: dict[str, int] | None,
                     trust: _KeySource) -> tuple[Any, dict[str, Any], Any]:
    """(submission, report fields, refusal or None) for one proof folder; nothing here raises for the folder's files.

    The keys come from ``trust``; a keeper takes from a statement only the position capacity
    (and, for a chunked book, the chunk count): the circuits follow from the market it trusts.
    """
    from verifier.chunked import load_chunks
    from verifier.proof_io import load_proof, load_public
    from verifier.statement import STATEMENT_FILE, Statement
    from verifier.verify import ChunkedSubmission, Submission, Verdict, malformed, policy_refusal
    from zksolv.circuitgen import ChunkTier, FinalTier, Tier

    row: dict[str, Any] = {"folder": str(folder), "tier": None}
    try:
        statement = Statement.load(folder / STATEMENT_FILE)
    except VerificationError as exc:  # includes MalformedFieldError
        return None, row, malformed(str(exc), epoch=state.epoch)
    row["tier"] = statement.tier
    refused = policy_refusal(state, statement)  # before any key lookup: a shape the venue refuses needs none
    if refused:
        return None, row, Verdict(False, refused, epoch=state.epoch)
    registered = None
    if expected is not None:
        registered = expected.get(folder.name)
        if registered is None:
            return None, row, Verdict(False, f"no registered commitment for {folder.name!r} in --commitments",
                                      epoch=state.epoch)
    try:
        if statement.chunked:
            if trust.vk_path is not None:
                raise VerificationError("a book proven in chunks needs the chunk and final keys: use --keys DIR")
            row["chunk_tier"], row["chunks"] = statement.chunk_tier, statement.n_chunks
            path, setup, insecure = trust.key(FinalTier.for_market(state), statement.tier, statement.circuit_hash, state)
            chunk_path, _, _ = trust.key(ChunkTier.for_market(state, statement.capacity), statement.chunk_tier or "",
                                         statement.chunk_circuit_hash or "", state)
        else:
            path, setup, insecure = trust.key(Tier.for_market(state, statement.capacity), statement.tier,
                                              statement.circuit_hash, state)
    except (VerificationError, ZksolvError) as exc:
        dev_key = trust.vk_path is None and trust.keys_dir is None
        if isinstance(exc, CacheError) and dev_key and statement.setup_route != "dev":
            # no local development key for a proof made with another route's keys: say that, for this proof
            return None, row, Verdict(False, "verification key of another setup: the statement says the proof was "
                                             f"made with keys of the {statement.setup_route} setup route; --dev-key "
                                             "checks this machine's development setup: verify with the venue's key "
                                             "(--keys DIR or --vk FILE)", epoch=state.epoch)
        if isinstance(exc, CacheError):
            raise
        return None, row, Verdict(False, str(exc), epoch=state.epoch)
    row.update(verification_key=path, key_setup=setup, insecure_setup=insecure)
    try:
        if statement.chunked:
            chunks = load_chunks(folder, statement.n_chunks or 0)
            proof, public = load_proof(folder / "final" / "proof.json"), load_public(folder / "final" / "public.json")
            final_key, chunk_key = trust.prepared[path], trust.prepared[chunk_path]
            if isinstance(final_key, dict) or isinstance(chunk_key, dict):
                return None, row, malformed("a verification key of the key set is malformed", epoch=state.epoch)
            return ChunkedSubmission(chunks, proof, public, final_key, chunk_key, registered, statement,
                                     label=str(folder)), row, None
        proof, public = load_proof(folder / "proof.json"), load_public(folder / "public.json")
    except VerificationError as exc:
        return None, row, malformed(str(exc), epoch=state.epoch)
    return Submission(proof, public, registered, statement, label=str(folder)), row, None


def _prepared(vk_json: Any) -> Any:
    """The prepared key, or the raw JSON when it is malformed (verify_many then refuses every proof with the reason)."""
    from verifier.verify import prepare_key

    try:
        return prepare_key(vk_json)
    except VerificationError:
        return vk_json


def _local_circuit_hash(tier: Any) -> str:
    """This installation's circuit hash for ``tier`` (the circuit sources must be present)."""
    from zksolv.circuitgen import circuit_source_hash, circuits_dir

    if not any(circuits_dir().glob("*.circom")):
        raise CacheError(f"no circuit sources in {circuits_dir()}: reinstall zksolv, or pass --vk / --keys")
    return circuit_source_hash(tier)


# ---------------------------------------------------------- export-solidity
_EXPORT_SOURCES = "--keys DIR (the venue's key set), --vk TIER=FILE (repeatable) or --proof DIR (repeatable)"


@main.command("export-solidity")
@click.option("--keys", "keys_dir", type=click.Path(file_okay=False),
              help="the venue's key set (as for `zksolv verify --keys`): a folder of <circuit name>.json keys; every "
                   "single-circuit tier in it is accepted (at most 4; chunk and final keys are left out)")
@click.option("--vk", "vk_specs", multiple=True, metavar="TIER=FILE",
              help="a verification key and the tier it serves: its position capacity (16=vk.json) or its circuit "
                   "name (avsl_n16_u2_a4_k16_d4_stress=vk.json); repeatable, one per accepted tier")
@click.option("--proof", "proof_dirs", multiple=True, type=click.Path(file_okay=False),
              help="a proof folder: export this machine's key for its tier (header: circuit hash and tier); "
                   "repeatable, one per accepted tier")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="folder for the .sol files and deploy.json")
@json_option
@handle_errors
def export_solidity(keys_dir: str | None, vk_specs: tuple[str, ...], proof_dirs: tuple[str, ...], out: str,
                    as_json: bool) -> None:
    """Write the Groth16 verifier and batch verifier of every accepted tier, the SolvencyRegistry
    contract, and deploy.json (deploy order and the registry's constructor argument)."""
    from zksolv.chain.solidity import export_registry, tier_keys_from_folder

    given = [name for name, value in (("--keys", keys_dir), ("--vk", vk_specs), ("--proof", proof_dirs)) if value]
    if len(given) > 1:
        raise InputError(f"{', '.join(given)}: give one of {_EXPORT_SOURCES}")
    if not given:
        raise InputError(f"the tiers to accept: give {_EXPORT_SOURCES}")
    _check_output(out, folder=True)
    skipped: dict[str, str] = {}
    key_set = None
    if keys_dir is not None:
        tiers, skipped = tier_keys_from_folder(keys_dir)
        key_set = _checked_export_key_set(Path(keys_dir), tiers)
    elif vk_specs:
        tiers = [_tier_key_spec(spec) for spec in vk_specs]
    else:
        tiers = _unique_tiers([_export_for_proof(Path(folder)) for folder in proof_dirs])
    written = export_registry(tiers, Path(out), key_set=key_set)
    result: dict[str, Any] = {
        "registry": str(written["registry"]), "deploy_note": str(written["deploy_note"]),
        "tiers": [{**row, "verifier": str(row["verifier"]), "batch_verifier": str(row["batch_verifier"])}
                  for row in written["tiers"]],
    }
    if skipped:
        result["skipped"] = skipped
    if as_json:
        _emit(result, True)
        return
    click.echo(f"registry: {result['registry']} (accepts tiers {', '.join(str(t['capacity']) for t in result['tiers'])})")
    for row in result["tiers"]:
        click.echo(f"tier {row['capacity']}: {row['verifier']}, {row['batch_verifier']}")
    for name, reason in skipped.items():
        click.echo(f"left out {name}: {reason}")
    click.echo(f"deploy note: {result['deploy_note']}")


def _checked_export_key_set(keys_dir: Path, tiers: list[TierKey]) -> dict[str, Any] | None:
    """A key set with a manifest: its files match it and its tiers are this installation's circuits
    (exit 2 otherwise); returns the provenance deploy.json records. None for a folder without a manifest."""
    from verifier.statement import parse_tier_name
    from zksolv.circuitgen import Tier
    from zksolv.verifier.keyset import MANIFEST, check_key_set

    if not (keys_dir / MANIFEST).is_file():
        click.echo(f"warning: {keys_dir} has no {MANIFEST}: nothing ties its keys to the published circuits "
                   "(finalize a ceremony: `zksolv ceremony finalize`)", err=True)
        return None
    expected = {}
    for t in tiers:
        shape = parse_tier_name(t.tier)
        expected[t.tier] = _local_circuit_hash(Tier(shape.n_positions, shape.n_underlyings, shape.n_collateral,
                                                     shape.n_scenarios, shape.depth, shape.mode))
    manifest = check_key_set(keys_dir, expected)
    if manifest.get("route") != "ceremony":
        click.echo(f"warning: the key set's route is {manifest.get('route')!r}, not a ceremony: NOT FOR REAL FUNDS",
                   err=True)
    return {"route": manifest.get("route"), "transcript_sha256": manifest.get("transcript_sha256")}


def _tier_key_spec(spec: str) -> TierKey:
    """``--vk TIER=FILE``: TIER is a position capacity or a single-circuit tier name."""
    from verifier.statement import TIER_NAME, parse_tier_name
    from zksolv.chain.solidity import TierKey

    tier, sep, path = spec.partition("=")
    if sep and tier.isascii() and tier.isdigit() and int(tier) > 0 and path:
        return TierKey(int(tier), Path(path))
    if sep and TIER_NAME.fullmatch(tier) and path:
        return TierKey(parse_tier_name(tier).n_positions, Path(path), tier=tier)
    raise InputError(f"--vk {spec}: expected TIER=FILE, TIER the position capacity the key serves (16=vk.json) "
                     "or its circuit name (avsl_n16_u2_a4_k16_d4_stress=vk.json)")


def _unique_tiers(tiers: list[TierKey]) -> list[TierKey]:
    """One entry per capacity: proofs of the same tier name the same key; two keys for one tier are refused."""
    by_capacity: dict[int, TierKey] = {}
    for t in tiers:
        seen = by_capacity.setdefault(t.capacity, t)
        if seen.vk_path != t.vk_path:
            raise InputError(f"--proof: two keys for tier {t.capacity} ({seen.vk_path}, {t.vk_path})")
    return list(by_capacity.values())


def _export_for_proof(proof_dir: Path) -> TierKey:
    """This machine's key for the tier of the proof in ``proof_dir``, checked against this checkout's circuit."""
    from verifier.statement import STATEMENT_FILE, Statement
    from zksolv.toolchain.artifacts import local_key
    from zksolv.circuitgen import Tier
    from zksolv.chain.solidity import TierKey

    statement = Statement.load(proof_dir / STATEMENT_FILE)
    if statement.chunked:
        raise InputError(f"--proof {proof_dir}: a book proven in chunks; keepers verify those off chain "
                         "(the registry takes single-circuit tiers)")
    shape = statement.shape
    tier = Tier(shape.n_positions, shape.n_underlyings, shape.n_collateral, shape.n_scenarios, shape.depth, shape.mode)
    circuit_hash = _local_circuit_hash(tier)
    if statement.circuit_hash != circuit_hash:
        raise InputError(f"statement.circuit_hash: the proof is for circuit {statement.circuit_hash[:16]}…, "
                         f"this checkout's circuit for tier {tier.name} is {circuit_hash[:16]}…")
    key = local_key(tier.name, circuit_hash, statement.setup_route)
    if key.insecure:
        click.echo("warning: exporting a development key (single-party setup) — NOT FOR REAL FUNDS", err=True)
    return TierKey(tier.n_positions, Path(key.path), tier=tier.name, circuit_hash=circuit_hash)


# --------------------------------------------------------------------- demo
@main.command()
@click.option("--out", default="zksolv-demo", show_default=True, type=click.Path(file_okay=False),
              help="working folder for the demo's files")
@click.option("--account", "account_name", default="short_strangle", show_default=True,
              help="which demo portfolio to prove")
@click.option("--mode", type=click.Choice(["stress", "es", "var", "revaluation"]), default="stress", show_default=True,
              help="the demo market's risk mode (the margin the proof shows)")
@click.option("--backend", type=click.Choice(["arkworks", "snarkjs"]), default="arkworks", show_default=True,
              help="proving backend; the demo's development keys prove with arkworks only (snarkjs needs "
                   "`zksolv setup --route snarkjs --ptau FILE` and `zksolv prove --route snarkjs`)")
@handle_errors
def demo(out: str, account_name: str, mode: str, backend: str) -> None:
    """Market -> account commitment -> setup -> prove -> verify, with timings.

    Uses the development setup (NOT FOR REAL FUNDS). Also shows that an
    insolvent account is refused and that the proof fails for the next epoch.
    """
    needs("prover")
    from dataclasses import replace

    from prover.prove import prove as make_proof
    from verifier.verify import verify as check
    from zksolv.commitments import account_commitment_of, market_root
    from zksolv.demo import DEMO_ACCOUNTS, demo_market, demo_portfolios

    if account_name not in DEMO_ACCOUNTS:
        raise InputError(f"--account: unknown demo portfolio {account_name!r} (choose from {', '.join(DEMO_ACCOUNTS)})")
    _check_route("dev", None, backend)  # the demo proves with the development setup
    _check_output(out, folder=True)
    folder = Path(out)
    timings: dict[str, float] = {}
    with step("1. oracle: demo market and its market_root", timings):
        state = demo_market(risk_mode=mode)
        root = market_root(state)
        state.save(folder / "market.json")
    books = demo_portfolios(state)
    account = books[account_name]
    account.save(folder / "account.json")
    with step("2. trader: account commitment", timings):
        commitment = account_commitment_of(account, state)
    bundle = make_proof(account, state, backend=backend, progress=lambda label: step(f"3. trader: {label}", timings))
    bundle.save(folder / "proof")
    with step("4. keeper: verify (py_ecc)", timings):
        verdict = check(bundle.proof, bundle.public, state, bundle.verification_key, account_commitment=commitment)
    next_epoch = replace(state, epoch=state.epoch + 1)
    replay = check(bundle.proof, bundle.public, next_epoch, bundle.verification_key, account_commitment=commitment)
    refused = "not tried"
    try:
        make_proof(books["naked_short_insolvent"], state, backend=backend)
    except ProofError as exc:
        refused = f"refused ({exc})"
    click.echo("")
    click.echo(f"market_root          {root}")
    click.echo(f"account_commitment   {commitment}")
    click.echo(f"tier                 {bundle.statement.tier}")
    click.echo(f"verdict              {'VALID' if verdict.valid else 'INVALID: ' + verdict.reason}")
    click.echo(f"same proof, epoch+1  {'VALID (BUG)' if replay.valid else 'rejected: ' + replay.reason}")
    click.echo(f"insolvent account    {refused}")
    click.echo("timings (s):")
    for label, seconds in timings.items():
        click.echo(f"  {seconds:8.2f}  {label}")
    click.echo(f"files in {folder}/ (development keys: NOT FOR REAL FUNDS)")
    if replay.valid:  # a proof accepted for another epoch: a bug in zksolv, not an invalid proof
        _fail("the proof verified for the next epoch too: replay protection is broken", EXIT_INTERNAL)
    sys.exit(0 if verdict.valid else EXIT_INVALID)



# -------------------------------------------------------------------- bench
@main.command()
@click.option("--quick", is_flag=True, help="CI subset: positions 1-2, 64 instruments, stress (a few minutes)")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="results directory (default benchmarks/results)")
@handle_errors
def bench(quick: bool, out: Path | None) -> None:
    """Benchmark compile, setup, witness, prove and verify per portfolio size (JSON + plots)."""
    needs("prover")
    needs("plots")
    from zksolv.bench import run_bench, summary

    _check_output(out, folder=True)
    click.echo(summary(run_bench(quick, out)))


from zksolv.cli_ceremony import ceremony  # noqa: E402  (the group imports this module's helpers)

main.add_command(ceremony)
import zksolv.cli_market_build  # noqa: E402,F401  (registers `market build` on the market group)

from zksolv.cli_chain import chain as _chain, keeper as _keeper  # noqa: E402  (after main: it imports from here)

main.add_command(_chain)
main.add_command(_keeper)

if __name__ == "__main__":
    main()
