"""``zksolv setup``, ``zksolv prove`` and ``zksolv prover ...``: the trader's proving side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from zksolv.app.progress import step, task_bar, timing_keys
from zksolv.cli.common import (
    SectionedCommand,
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


#: What a cold build costs, from the project's own measurements (benchmarks/results/proving_cold.md:
#: compile + dev setup on a 2-core machine, 64-instrument market; the demo's 152 instruments cost a
#: little more, README "Figures": 18 s for its 4-position tier).
COLD_BUILD_ESTIMATE = {
    "dev": "about 15-20 s for a 4-position tier, 30 s for 16, 70 s for 64 on 2 cores "
           "(benchmarks/results/proving_cold.md)",
    "snarkjs": "snarkjs phase 2 takes minutes per circuit (2-4 min at 1-8 positions on 2 cores, "
               "benchmarks/results/proving_cold.md)",
}


@click.command()
@market_option
@click.option("--for-account", "for_account", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="only the circuits `zksolv prove` needs for this account: its tier, or for a book above the "
                   "largest tier the chunk and final circuits (the account stays local; nothing of it is written)")
@click.option("--positions", "n_positions", type=click.IntRange(1, 1024), default=None, metavar="N",
              help="only the tier of this position capacity, one the venue accepts (default: every tier it "
                   "accepts); `zksolv prove` picks the smallest tier that holds the book, or this one with the "
                   "same --positions")
@click.option("--chunks", "with_chunks", is_flag=True,
              help="also the venue's chunk circuits (one per accepted chunk size) and the final circuit")
@click.option("--keys-out", type=click.Path(file_okay=False), metavar="DIR",
              help="write the verification keys as a key set: <circuit name>.json each (what a venue publishes "
                   "and keepers pass to `zksolv verify --keys`)")
@route_option
@ptau_option
@json_option
@handle_errors
def setup(market_path: str, for_account: str | None, n_positions: int | None, with_chunks: bool,
          keys_out: str | None, route: str, ptau: str | None, as_json: bool) -> None:
    """Compile the circuits for a market's shape and run the trusted setup (cached).

    By default every one-circuit tier of the venue's policy (the market's "venue"
    section); with --chunks also its chunk and final circuits; with --for-account
    only what that account's proof needs. It says up front which circuits it
    builds, why, and which are cached.

    \b
    Example:
      $ zksolv setup --market market.json --for-account accounts/short_strangle.json
      $ zksolv setup --market market.json --positions 16
      $ zksolv setup --market market.json --chunks --keys-out keys/
    """
    needs("prover")
    from zksolv.core.atomic import atomic_write_text
    from zksolv.toolchain.artifacts import build_artifacts

    if for_account is not None and (n_positions is not None or with_chunks):
        raise InputError("--for-account: builds what that account needs; it excludes --positions and --chunks")
    ptau_path = check_route(route, ptau)
    check_output(keys_out, folder=True)
    state = load_market(market_path)
    # the tiers `zksolv prove` picks from: a capacity the venue does not accept would never be used
    _check_venue_options(state.venue, n_positions, None, None)
    shapes, why = _setup_plan(state, for_account, n_positions, with_chunks)
    _announce_plan(shapes, why, route)
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
        from zksolv.proofs.keyset import write_manifest

        # no ceremony transcript: keepers see the route (dev: NOT FOR REAL FUNDS) in every report
        write_manifest(Path(keys_out), entries, transcript_sha256=None, route=route)
    if as_json:
        emit(rows[0] if n_positions is not None and not with_chunks else {"circuits": rows}, as_json)
    else:
        _print_setup_table(rows, keys_out)


def _setup_plan(state: Any, for_account: str | None, n_positions: int | None,
                with_chunks: bool) -> tuple[list[Any], str]:
    """The circuits ``zksolv setup`` builds and one line saying why (checked before any work)."""
    from zksolv.toolchain.circuitgen import ChunkTier, FinalTier, Tier, circuit_set

    venue = state.venue
    if for_account is not None:
        from zksolv.prover.prove import circuits_for

        try:
            shapes = circuits_for(load_account(for_account), state)
        except InputError as exc:  # name the option and the file: the message names only the field
            raise InputError(f"--for-account {for_account}: {exc}") from None
        if len(shapes) == 1:
            return shapes, (f"the tier {for_account} proves in (the smallest the venue accepts that holds its "
                            "book; `zksolv prove` picks the same)")
        return shapes, (f"the chunked route of {for_account} (its book exceeds the venue's largest tier, "
                        f"{venue.tiers[-1]} positions): chunks of {venue.chunk_size} and the final circuit")
    if n_positions is not None:
        shapes = [Tier.for_market(state, n_positions)]
        why = f"--positions {n_positions}"
        if with_chunks:
            shapes += [*(ChunkTier.for_market(state, size) for size in venue.chunk_sizes), FinalTier.for_market(state)]
    else:
        shapes = circuit_set(state, with_chunks)
        why = (f"every tier the venue accepts ({', '.join(map(str, venue.tiers))} positions): `zksolv prove` "
               "picks the smallest that holds a book; --for-account FILE builds only what one account needs")
        if any(getattr(shape, "groups", 0) for shape in shapes):
            why += f", each also grouped in {', '.join(map(str, venue.groups))} groups where it holds them"
    if with_chunks:
        why += (f"; --chunks: the chunk circuits ({', '.join(map(str, venue.chunk_sizes))} positions each) and "
                "the final circuit")
    return shapes, why


def _announce_plan(shapes: list[Any], why: str, route: str) -> None:
    """On stderr, before any work: the circuits, why these, which were built before and the cost of the rest."""
    from zksolv.core.errors import CacheError
    from zksolv.toolchain.artifacts import local_key
    from zksolv.toolchain.circuitgen import circuit_source_hash

    count = f"{len(shapes)} circuit{'s' if len(shapes) != 1 else ''}"
    click.echo(f"setup builds {count}: {why}", err=True)
    width = max(len(shape.name) for shape in shapes)
    missing = 0
    for shape in shapes:
        try:  # this machine's key index names a key for this very circuit: a prediction, the step line confirms
            local_key(shape.name, circuit_source_hash(shape), route)
            status = "set up before on this machine"
        except CacheError:
            status, missing = "to build", missing + 1
        click.echo(f"  {shape.name:<{width}}  {status}", err=True)
    if missing:
        click.echo(f"estimate for the {missing} to build, cold: {COLD_BUILD_ESTIMATE[route]}", err=True)


def _print_setup_table(rows: list[dict[str, Any]], keys_out: str | None) -> None:
    """The human-readable result of ``zksolv setup``: one aligned line per circuit, then where the keys are."""
    width = max(len(row["tier"]) for row in rows)
    click.echo(f"{'circuit':<{width}}  {'constraints':>11}  route    circuit hash")
    for row in rows:
        click.echo(f"{row['tier']:<{width}}  {row['constraints']:>11,}  {row['route']:<7}  {row['circuit_hash'][:16]}…")
    click.echo("verification keys:")
    for row in rows:
        click.echo(f"  {row['tier']:<{width}}  {row.get('exported_key') or row['verification_key']}")
    if keys_out is not None:
        click.echo(f"key set: {keys_out} (manifest.json; pass it to `zksolv verify --keys`)")


#: `zksolv prove --help`: the options under headings (the chunking ones apart from keys and engines).
_PROVE_SECTIONS = {
    "Input and output": ("account_path", "market_path", "out", "as_json"),
    "One circuit (books up to the venue's largest tier)": ("n_positions",),
    "Chunks (larger books, or smaller chunks side by side)": ("chunk_size", "n_chunks", "workers", "ray_address"),
    "Grouped openings (clustered books)": ("groups",),
    "Keys and engines": ("keys_dir", "route", "ptau", "backend", "resident", "witness_engine"),
}


@click.command(cls=SectionedCommand, sections=_PROVE_SECTIONS)
@account_option
@market_option
@click.option("--out", required=True, type=click.Path(file_okay=False), metavar="DIR",
              help="new folder for proof.json, public.json, statement.json (written only when complete)")
@click.option("--positions", "n_positions", type=click.IntRange(1, 1024), metavar="N",
              help="prove in the tier of N positions, one the venue accepts. Default: the smallest that holds "
                   "the book")
@click.option("--chunk-size", type=click.IntRange(8, 1024), default=None, metavar="N",
              help="prove in chunks of N positions, a size the venue accepts (a multiple of 8). Default: one "
                   "circuit if the book fits the largest tier, else chunks of the largest chunk size (64). "
                   "Smaller chunks prove side by side: 32 proves a 17-64 position book as 2 chunks, faster on "
                   "2+ cores. The keeper then checks 3 proofs; the on-chain registry takes one-circuit proofs only")
@click.option("--chunks", "n_chunks", type=click.IntRange(1, 4096), default=None, metavar="COUNT",
              help="pad the book to exactly COUNT chunks, a count the venue accepts. The proof then shows only "
                   "that the book fits COUNT chunks. Default: the smallest accepted count that holds it")
@click.option("--workers", type=click.IntRange(1, 256), default=None, metavar="N",
              help="prove chunks on N local processes. Default: the resident prover if it runs, else one per core")
@click.option("--groups", type=click.IntRange(0, 1024), default=None, metavar="G",
              help="open the positions' leaves through G groups of 8 listings (a grouped circuit, for books "
                   "whose positions cluster; the proof then also shows that the book, or each chunk, lies in "
                   "at most G groups); a count the venue accepts (venue.groups). 0: a path per position. "
                   "Default: the cheapest the venue accepts for this book, else 0")
@click.option("--ray", "ray_address", default=None, metavar="ADDRESS",
              help="prove the chunks on a Ray cluster at ADDRESS ('local' starts one here). Needs "
                   "pip install 'zksolv[ray]'")
@click.option("--backend", type=click.Choice(["arkworks", "snarkjs"]), default="arkworks", show_default=True,
              help="arkworks (groth16py, in this process) proves with either route's keys; snarkjs (node) needs "
                   "--route snarkjs")
@route_option
@ptau_option
@click.option("--keys", "keys_dir", type=click.Path(exists=True, file_okay=False), metavar="DIR",
              help="prove with the proving keys of the venue's key set (`zksolv ceremony finalize --keys-out`), "
                   "instead of --route/--ptau")
@click.option("--resident", type=click.Choice(["auto", "require", "off"]), default="auto", show_default=True,
              help="arkworks: use the resident prover (`zksolv prover start`) if it runs, require it, or never")
@click.option("--witness", "witness_engine", type=click.Choice(["auto", "wasmtime", "node"]), default=None,
              help="witness calculator: circom's wasm in this process (wasmtime) or under node. Default: auto, "
                   "wasmtime if installed; $ZKSOLV_WITNESS overrides")
@json_option
@handle_errors
def prove(account_path: str, market_path: str, out: str, n_positions: int | None, chunk_size: int | None,
          n_chunks: int | None, workers: int | None, groups: int | None, ray_address: str | None, backend: str,
          route: str, ptau: str | None, keys_dir: str | None, resident: str, witness_engine: str | None,
          as_json: bool) -> None:
    """Prove the account meets the AVSL rule; exit 4 (no proof) if it does not.

    A book that fits the venue's largest tier (64 positions by default) is
    proven in one circuit: the smallest tier that holds it. A larger book is
    proven in chunks: one proof per chunk plus a final proof, in parallel.
    The account commitment is the same either way. The proof reveals only the
    size bucket (the tier, or the chunk count times the chunk size).

    \b
    Example:
      $ zksolv prove --account accounts/short_strangle.json --market market.json --out proof/
      $ zksolv prove --account accounts/market_maker.json --market market.json --out proof/ --keys keys/
      $ zksolv prove --account accounts/market_maker.json --market market.json --out proof/ --chunk-size 32
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
    if groups and state.params.risk_mode.is_revaluation:
        raise InputError("--groups: grouped openings serve the greeks modes only (this market revalues)")
    if groups and (unlisted := state.venue.groups_refusal(groups)):
        raise InputError(f"--groups: {unlisted}")
    if n_chunks is not None:  # too few chunks for the book: say so naming the option, before any work
        from zksolv.core.venue import chunks_needed

        size = chunk_size or state.venue.chunk_size
        needed = chunks_needed(len(account.position_slots(state)), size)
        if n_chunks < needed:
            raise InputError(f"--chunks: the book needs {needed} chunks of {size}, more than {n_chunks} (the "
                             f"smallest count the venue accepts that holds it: {state.venue.chunks_for(needed, size)})")
    timings: dict[str, float] = {}
    bundle = make_proof(account, state, n_positions=n_positions,
                        chunk_size=chunk_size, n_chunks=n_chunks, workers=workers, ray_address=ray_address,
                        backend=backend, route=route, ptau=ptau_path, progress=lambda label: step(label, timings),
                        task_progress=task_bar(), resident=resident, witness_engine=witness_engine,
                        note=lambda line: click.echo(f"note: {line}", err=True),
                        keys=Path(keys_dir) if keys_dir is not None else None, groups=groups)
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

    \b
    Example:
      $ zksolv prover start --idle-timeout 3600
      $ zksolv prover status
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
    """Start the resident prover in the background (no-op if it runs).

    \b
    Example:
      $ zksolv prover start --max-keys 3 --idle-timeout 3600
    """
    needs("prover")
    from zksolv.prover import daemon
    info = daemon.start(max_keys=max_keys, idle_timeout=idle_timeout, workers=workers)
    emit({"running": True, "pid": info["pid"], "socket": str(daemon.socket_path()),
           "already_running": info.get("already_running", False)}, as_json)


@prover.command("stop")
@json_option
@handle_errors
def prover_stop(as_json: bool) -> None:
    """Stop the resident prover (no-op if none runs).

    \b
    Example:
      $ zksolv prover stop
    """
    from zksolv.prover import daemon
    pid = daemon.stop()
    emit({"stopped": pid is not None, "pid": pid}, as_json)


@prover.command("status")
@json_option
@handle_errors
def prover_status(as_json: bool) -> None:
    """Whether the resident prover runs, and which keys it holds.

    \b
    Example:
      $ zksolv prover status
      $ zksolv prover status --json
    """
    from zksolv.prover import daemon
    info = daemon.status()
    if info is None:
        emit({"running": False, "socket": str(daemon.socket_path())}, as_json)
        return
    data = {"running": True, "pid": info["pid"], "socket": str(daemon.socket_path()), "uptime_s": info["uptime_s"],
            "proofs": info["proofs"], "keys": info["keys"]}
    if not as_json:  # one line per key (a list on one line grew to a thousand characters)
        data["keys"] = [{"key": f"{k['directory']}/{k['file']}", "size": f"{k['size_mb']} MB", "proofs": k["proofs"]}
                        for k in info["keys"]] or "none loaded yet"
    emit(data, as_json)
