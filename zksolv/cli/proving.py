"""``zksolv setup``, ``zksolv prove`` and ``zksolv prover ...``: the trader's proving side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from zksolv.app.progress import step, task_bar, timing_keys
from zksolv.cli.common import (
    account_option,
    check_output,
    emit,
    handle_errors,
    json_option,
    load_account,
    load_market,
    market_option,
    needs,
)
from zksolv.core.errors import InputError

route_option = click.option("--route", type=click.Choice(["dev", "snarkjs"]), default="dev", show_default=True,
                            help="dev: single-party setup in seconds, NOT FOR REAL FUNDS; snarkjs: phase 2 on --ptau")
ptau_option = click.option("--ptau", type=click.Path(dir_okay=False, exists=True),
                           help="powers-of-tau file (prepared for phase 2) for --route snarkjs")
positions_option = click.option("--positions", "n_positions", type=click.IntRange(1, 1024),
                                help="position capacity of the circuit tier (default: smallest that fits)")


def check_route(route: str, ptau: str | None, backend: str | None = None) -> Path | None:
    """Refuse, before any work, a setup route without its powers of tau (or with one it ignores), and
    a proving backend that cannot prove with the route's keys; the ``--ptau`` path."""
    if route == "snarkjs" and not ptau:
        raise InputError("--ptau: required with --route snarkjs (a phase-2-prepared powers-of-tau file)")
    if route != "snarkjs" and ptau:
        raise InputError(f"--ptau: only with --route snarkjs (the {route} route makes its own keys)")
    if backend is not None:
        from zksolv.prover.backends import check_backend_route

        check_backend_route(backend, route)
    return Path(ptau) if ptau else None


@click.command()
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
    from zksolv.core.atomic import atomic_write_text
    from zksolv.toolchain.artifacts import build_artifacts
    from zksolv.toolchain.circuitgen import ChunkTier, FinalTier, Tier

    ptau_path = check_route(route, ptau)
    check_output(keys_out, folder=True)
    state = load_market(market_path)
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
    emit(rows[0] if n_positions is not None and not with_chunks else {"circuits": rows}, as_json)



@click.command()
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
@click.option("--keys", "keys_dir", type=click.Path(exists=True, file_okay=False),
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
    from zksolv.core.venue import bucket
    from zksolv.prover.prove import prove as make_proof

    if keys_dir is not None:
        if route != "dev" or ptau:
            raise InputError("--keys: proves with the key set's proving keys; it excludes --route and --ptau")
        if not Path(keys_dir).is_dir():
            raise InputError(f"--keys: {keys_dir} is not a folder")
        route = "snarkjs"  # the key set's .zkey proving keys (either backend)
    ptau_path = check_route(route, ptau, backend) if keys_dir is None else None
    if n_positions is not None and (chunk_size is not None or n_chunks is not None):
        raise InputError("--positions: one circuit's capacity; it excludes --chunk-size and --chunks")
    if chunk_size is not None and chunk_size % 8:
        raise InputError("--chunk-size: must be a multiple of 8 (the commitment's entry block)")
    check_output(out, folder=True)
    state, account = load_market(market_path), load_account(account_path)
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
    emit({"tier": st.tier, **({"chunk_tier": st.chunk_tier, "chunks": st.n_chunks} if st.chunked else {}),
           "bucket": reveals,
           "epoch": st.epoch, "account_commitment": st.account_commitment, "market_root": st.market_root,
           "files": [str(p) for p in paths.values()], "seconds": timing_keys(timings)}, as_json)


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



@click.group()
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
    from zksolv.prover import daemon
    info = daemon.start(max_keys=max_keys, idle_timeout=idle_timeout, workers=workers)
    emit({"running": True, "pid": info["pid"], "socket": str(daemon.socket_path()),
           "already_running": info.get("already_running", False)}, as_json)


@prover.command("stop")
@json_option
@handle_errors
def prover_stop(as_json: bool) -> None:
    """Stop the resident prover (no-op if none runs)."""
    from zksolv.prover import daemon
    pid = daemon.stop()
    emit({"stopped": pid is not None, "pid": pid}, as_json)


@prover.command("status")
@json_option
@handle_errors
def prover_status(as_json: bool) -> None:
    """Whether the resident prover runs, and which keys it holds."""
    from zksolv.prover import daemon
    info = daemon.status()
    if info is None:
        emit({"running": False, "socket": str(daemon.socket_path())}, as_json)
        return
    data = {"running": True, "pid": info["pid"], "socket": str(daemon.socket_path()), "uptime_s": info["uptime_s"],
            "proofs": info["proofs"], "keys": info["keys"]}
    if not as_json:
        data["keys"] = ", ".join(f"{k['directory']}/{k['file']} ({k['size_mb']} MB, {k['proofs']} proofs)"
                                 for k in info["keys"]) or "none loaded yet"
    emit(data, as_json)
