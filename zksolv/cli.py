"""The ``zksolv`` command line: a thin click layer over the library.

Exit codes: 0 success (``verify``: proof valid), 1 ``verify``: proof invalid,
2 bad input or usage (including an output path that cannot be written: not a
directory, no permission, read-only), 3 toolchain / cache failure or a full /
failing disk, 4 proof refused (e.g. the account is insolvent). Errors print one
line naming the field or path, never a traceback and never a private value.
"""

from __future__ import annotations

import errno
import functools
import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from zksolv.errors import CacheError, InputError, ProofError, ToolchainError, VerificationError, ZksolvError

EXIT_INVALID, EXIT_INPUT, EXIT_TOOLCHAIN, EXIT_REFUSED = 1, 2, 3, 4

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


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Map the exception hierarchy to exit codes and one-line messages."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            _fail(str(exc), EXIT_INPUT)
        except VerificationError as exc:
            _fail(str(exc), EXIT_INVALID)
        except ProofError as exc:
            _fail(str(exc), EXIT_REFUSED)
        except (ToolchainError, CacheError) as exc:
            _fail(str(exc), EXIT_TOOLCHAIN)
        except ZksolvError as exc:  # pragma: no cover - every subclass is mapped above
            _fail(str(exc), EXIT_INPUT)
        except OSError as exc:  # e.g. --out under a regular file, in /proc, read-only, disk full
            _fail(_os_error_message(exc), EXIT_TOOLCHAIN if exc.errno in _ENVIRONMENTAL_ERRNOS else EXIT_INPUT)

    return wrapper


@contextmanager
def step(label: str, timings: dict[str, float] | None = None) -> Iterator[None]:
    """Print ``label ...`` then ``done (1.23 s)`` on stderr; record the time."""
    click.echo(f"{label} ...", err=True, nl=False)
    start = time.perf_counter()
    try:
        yield
    except BaseException:
        click.echo(" failed", err=True)
        raise
    elapsed = time.perf_counter() - start
    if timings is not None:
        timings[label] = elapsed
    click.echo(f" done ({elapsed:.2f} s)", err=True)


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


@click.group()
@click.version_option(package_name="zksolv")
def main() -> None:
    """Zero-knowledge proofs that an account meets the AVSL maintenance margin."""
    import warnings

    from zksolv.trusted_setup import InsecureSetupWarning

    # the commands print their own one-line warning about development keys
    warnings.filterwarnings("ignore", category=InsecureSetupWarning)


# ------------------------------------------------------------------- market
@main.group()
def market() -> None:
    """Build or commit a market state (the oracle's side)."""


@market.command("demo")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="where to write the market JSON")
@click.option("--mode", type=click.Choice(["stress", "es", "var"]), default="stress", show_default=True)
@click.option("--grid", type=click.Choice(["span", "deribit", "paradex", "horizon"]), default="span", show_default=True)
@click.option("--epoch", type=click.IntRange(0, 2**64 - 1), default=1, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--portfolios", type=click.Path(file_okay=False), help="also write the demo accounts into this folder")
@json_option
@handle_errors
def market_demo(out: str, mode: str, grid: str, epoch: int, seed: int, portfolios: str | None, as_json: bool) -> None:
    """Write a seeded demo market (BTC, ETH option chains, perps, 4 collateral assets)."""
    from zksolv.commitments import market_root
    from zksolv.demo import demo_market, demo_portfolios

    with step("building demo market"):
        state = demo_market(seed=seed, risk_mode=mode, grid=grid, epoch=epoch)
    state.save(out)
    written = []
    if portfolios:
        for name, account in demo_portfolios(state, seed=seed).items():
            path = Path(portfolios) / f"{name}.json"
            account.save(path)
            written.append(str(path))
    _emit({"market": out, "epoch": state.epoch, "market_root": str(market_root(state)),
           "instruments": len(state.instruments), "accounts": written}, as_json)


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
@json_option
@handle_errors
def report(account_path: str, market_path: str, no_prices: bool, as_json: bool) -> None:
    """NAV, margins, ratio, liquidation prices, partial liquidation — computed locally."""
    from zksolv.analytics import report as build_report

    account, market = _load_account(account_path), _load_market(market_path)
    label = "margins and partial liquidation" + ("" if no_prices else ", liquidation prices by repricing")
    with step(f"computing {label}"):
        data = build_report(account, market, with_prices=not no_prices)
    if as_json:
        click.echo(json.dumps(data, indent=1))
    else:
        for key, value in data.items():
            click.echo(f"{key}: {json.dumps(value) if isinstance(value, (dict, list)) else value}")


# -------------------------------------------------------------------- setup
route_option = click.option("--route", type=click.Choice(["dev", "snarkjs"]), default="dev", show_default=True,
                            help="dev: single-party setup in seconds, NOT FOR REAL FUNDS; snarkjs: phase 2 on --ptau")
ptau_option = click.option("--ptau", type=click.Path(dir_okay=False, exists=True),
                           help="powers-of-tau file (prepared for phase 2) for --route snarkjs")
positions_option = click.option("--positions", "n_positions", type=click.IntRange(1, 1024),
                                help="position capacity of the circuit tier (default: smallest that fits)")


def _check_route(route: str, ptau: str | None) -> Path | None:
    if route == "snarkjs" and not ptau:
        raise InputError("--ptau: required with --route snarkjs (a phase-2-prepared powers-of-tau file)")
    return Path(ptau) if ptau else None


@main.command()
@market_option
@click.option("--positions", "n_positions", type=click.IntRange(1, 1024), default=8, show_default=True,
              help="position capacity of the circuit tier")
@route_option
@ptau_option
@json_option
@handle_errors
def setup(market_path: str, n_positions: int, route: str, ptau: str | None, as_json: bool) -> None:
    """Compile the circuit tier for a market's shape and run the trusted setup (cached)."""
    from zksolv.artifacts import build_artifacts
    from zksolv.circuitgen import Tier

    ptau_path = _check_route(route, ptau)
    tier = Tier.for_market(_load_market(market_path), n_positions)
    with step(f"compiling {tier.name} and running the {route} setup (cached)"):
        art = build_artifacts(tier, route, ptau=ptau_path)
    if art.keys.insecure:
        click.echo(f"warning: {art.keys.warning}", err=True)
    _emit({"tier": tier.name, "circuit_hash": art.circuit_hash, "constraints": art.circuit.n_constraints,
           "route": route, "verification_key": str(art.keys.verification_key)}, as_json)


# -------------------------------------------------------------------- prove
@main.command()
@account_option
@market_option
@click.option("--out", required=True, type=click.Path(file_okay=False), help="folder for proof.json, public.json, ...")
@positions_option
@click.option("--backend", type=click.Choice(["arkworks", "snarkjs"]), default="arkworks", show_default=True)
@route_option
@ptau_option
@click.option("--resident", type=click.Choice(["auto", "require", "off"]), default="auto", show_default=True,
              help="arkworks: prove with the resident prover (`zksolv prover start`) if it runs; require it; or never")
@click.option("--witness", "witness_engine", type=click.Choice(["auto", "wasmtime", "node"]), default=None,
              help="witness calculator: circom's wasm in-process (wasmtime) or under node [default: auto, "
                   "wasmtime if installed; $ZKSOLV_WITNESS]")
@json_option
@handle_errors
def prove(account_path: str, market_path: str, out: str, n_positions: int | None, backend: str, route: str,
          ptau: str | None, resident: str, witness_engine: str | None, as_json: bool) -> None:
    """Prove the account meets the AVSL rule; refuses (exit 4) if it does not."""
    from prover.prove import prove as make_proof

    ptau_path = _check_route(route, ptau)
    timings: dict[str, float] = {}
    bundle = make_proof(_load_account(account_path), _load_market(market_path), n_positions=n_positions,
                        backend=backend, route=route, ptau=ptau_path, progress=lambda label: step(label, timings),
                        resident=resident, witness_engine=witness_engine,
                        note=lambda line: click.echo(f"note: {line}", err=True))
    paths = bundle.save(out)
    if bundle.statement.insecure_setup:
        click.echo("warning: proved with development keys — NOT FOR REAL FUNDS", err=True)
    _emit({"tier": bundle.statement.tier, "epoch": bundle.statement.epoch,
           "account_commitment": bundle.statement.account_commitment, "market_root": bundle.statement.market_root,
           "files": [str(p) for p in paths.values()], "seconds": {k: round(v, 3) for k, v in timings.items()}}, as_json)


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
@json_option
@handle_errors
def prover_start(max_keys: int, idle_timeout: float, as_json: bool) -> None:
    """Start the resident prover in the background (no-op if it runs)."""
    from prover import daemon

    info = daemon.start(max_keys=max_keys, idle_timeout=idle_timeout)
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
@main.command()
@click.option("--proof", "proof_dir", required=True, type=click.Path(file_okay=False),
              help="folder written by `zksolv prove`")
@market_option
@click.option("--vk", "vk_path", type=click.Path(dir_okay=False),
              help="verification key to trust (default: this machine's own setup for the proof's tier)")
@click.option("--commitment", type=str, help="the account commitment the venue stores (decimal)")
@click.option("--route", type=click.Choice(["dev", "snarkjs"]), default="dev", show_default=True,
              help="which local setup to take the key from when --vk is not given")
@json_option
@handle_errors
def verify(proof_dir: str, market_path: str, vk_path: str | None, commitment: str | None, route: str,
           as_json: bool) -> None:
    """Check a proof against a market state. Exit 0 valid, 1 invalid."""
    from verifier.proof_io import load_proof, load_public, load_verification_key
    from verifier.statement import STATEMENT_FILE, Statement
    from verifier.verify import Verdict
    from verifier.verify import verify as check

    state = _load_market(market_path)
    expected = None
    if commitment is not None:
        try:
            expected = int(commitment, 0)
        except ValueError:
            raise InputError("--commitment: expected a decimal or 0x-hex integer") from None
    folder = Path(proof_dir)
    statement = Statement.load(folder / STATEMENT_FILE)
    if vk_path is None:
        key, refusal = _keeper_key(statement, state, route)
        if refusal is not None:
            _emit({**Verdict(False, refusal, epoch=state.epoch).to_dict(), "tier": statement.tier}, as_json)
            sys.exit(EXIT_INVALID)
        vk_file, setup = key.path, (f"{route} (INSECURE development setup: NOT FOR REAL FUNDS)" if key.insecure
                                    else route)
        insecure: bool | None = key.insecure
    else:
        vk_file, setup, insecure = Path(vk_path), "given with --vk (its setup is not known to zksolv)", None
    if insecure:
        click.echo("warning: verifying with a development key (single-party setup) — NOT FOR REAL FUNDS", err=True)
    with step("verifying (py_ecc pairing check)"):
        verdict = check(load_proof(folder / "proof.json"), load_public(folder / "public.json"), state,
                        load_verification_key(vk_file), account_commitment=expected, statement=statement)
    _emit({**verdict.to_dict(), "tier": statement.tier, "verification_key": str(vk_file), "key_setup": setup,
           "insecure_setup": insecure}, as_json)
    sys.exit(0 if verdict.valid else EXIT_INVALID)


def _keeper_key(statement: Any, state: Any, route: str) -> tuple[Any, str | None]:
    """This machine's own key for a proof, trusting from its statement only the position capacity.

    The tier is rebuilt from the market state the keeper trusts and the circuit hash from
    this checkout's circuits, so a statement can neither point the key lookup elsewhere
    nor pick an older circuit whose key is still cached. Returns ``(key, None)``, or
    ``(None, reason)`` when the statement does not describe a proof this keeper could accept.
    """
    from zksolv.artifacts import local_key
    from zksolv.circuitgen import Tier

    tier = Tier.for_market(state, statement.capacity)
    circuit_hash = _local_circuit_hash(tier)
    if statement.tier != tier.name:
        return None, (f"proof is for tier {statement.tier}; this market's shape with capacity "
                      f"{statement.capacity} is tier {tier.name}")
    if statement.circuit_hash != circuit_hash:
        return None, (f"proof is for circuit {statement.circuit_hash[:16]}…; this keeper's circuit for tier "
                      f"{tier.name} is {circuit_hash[:16]}… (re-prove with the current circuits)")
    return local_key(tier.name, circuit_hash, route), None


def _local_circuit_hash(tier: Any) -> str:
    """This checkout's circuit hash for ``tier`` (the circuit sources must be present)."""
    from zksolv.circuitgen import circuit_source_hash, circuits_dir

    if not any(circuits_dir().glob("*.circom")):
        raise CacheError(f"no circuit sources in {circuits_dir()}: run zksolv from its checkout, or pass --vk")
    return circuit_source_hash(tier)


# ---------------------------------------------------------- export-solidity
@main.command("export-solidity")
@click.option("--proof", "proof_dir", type=click.Path(file_okay=False),
              help="a proof folder: export this machine's key for its tier (header: circuit hash and tier)")
@click.option("--vk", "vk_path", type=click.Path(dir_okay=False),
              help="a verification key file to export instead (header: the file's sha256, no tier claimed)")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="folder for the .sol files")
@json_option
@handle_errors
def export_solidity(proof_dir: str | None, vk_path: str | None, out: str, as_json: bool) -> None:
    """Write the Groth16 Solidity verifier of a tier plus the SolvencyRegistry contract."""
    if proof_dir is not None and vk_path is not None:
        raise InputError("--proof, --vk: give one (the tier of a key file cannot be checked against a proof)")
    if vk_path is not None:
        from zksolv.solidity import export_solidity as export

        written = export(Path(vk_path), Path(out))
    elif proof_dir is not None:
        written = _export_for_proof(Path(proof_dir), Path(out))
    else:
        raise InputError("--proof or --vk: one is required")
    _emit({name: str(path) for name, path in written.items()}, as_json)


def _export_for_proof(proof_dir: Path, out: Path) -> dict[str, Any]:
    from verifier.statement import STATEMENT_FILE, Statement
    from zksolv.artifacts import local_key
    from zksolv.circuitgen import Tier
    from zksolv.solidity import export_solidity as export

    statement = Statement.load(proof_dir / STATEMENT_FILE)
    shape = statement.shape
    tier = Tier(shape.n_positions, shape.n_underlyings, shape.n_collateral, shape.n_scenarios, shape.depth, shape.mode)
    circuit_hash = _local_circuit_hash(tier)
    if statement.circuit_hash != circuit_hash:
        raise InputError(f"statement.circuit_hash: the proof is for circuit {statement.circuit_hash[:16]}…, "
                         f"this checkout's circuit for tier {tier.name} is {circuit_hash[:16]}…")
    key = local_key(tier.name, circuit_hash, statement.setup_route)
    if key.insecure:
        click.echo("warning: exporting a development key (single-party setup) — NOT FOR REAL FUNDS", err=True)
    return export(key.path, out, circuit_hash, tier.name)


# --------------------------------------------------------------------- demo
@main.command()
@click.option("--out", default="zksolv-demo", show_default=True, type=click.Path(file_okay=False),
              help="working folder for the demo's files")
@click.option("--account", "account_name", default="short_strangle", show_default=True,
              help="which demo portfolio to prove")
@click.option("--mode", type=click.Choice(["stress", "es", "var"]), default="stress", show_default=True)
@click.option("--backend", type=click.Choice(["arkworks", "snarkjs"]), default="arkworks", show_default=True)
@handle_errors
def demo(out: str, account_name: str, mode: str, backend: str) -> None:
    """Market -> account commitment -> setup -> prove -> verify, with timings.

    Uses the development setup (NOT FOR REAL FUNDS). Also shows that an
    insolvent account is refused and that the proof fails for the next epoch.
    """
    from dataclasses import replace

    from prover.prove import prove as make_proof
    from verifier.verify import verify as check
    from zksolv.commitments import account_commitment_of, market_root
    from zksolv.demo import demo_market, demo_portfolios

    folder = Path(out)
    timings: dict[str, float] = {}
    with step("1. oracle: demo market and its market_root", timings):
        state = demo_market(risk_mode=mode)
        root = market_root(state)
        state.save(folder / "market.json")
    books = demo_portfolios(state)
    if account_name not in books:
        raise InputError(f"--account: unknown demo portfolio (choose from {sorted(books)})")
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
    sys.exit(0 if verdict.valid and not replay.valid else EXIT_INVALID)



# -------------------------------------------------------------------- bench
@main.command()
@click.option("--quick", is_flag=True, help="CI subset: positions 1-2, 64 instruments, stress (a few minutes)")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="results directory (default benchmarks/results)")
@handle_errors
def bench(quick: bool, out: Path | None) -> None:
    """Benchmark compile, setup, witness, prove and verify per portfolio size (JSON + plots)."""
    from zksolv.bench import run_bench, summary

    click.echo(summary(run_bench(quick, out)))


if __name__ == "__main__":
    main()
