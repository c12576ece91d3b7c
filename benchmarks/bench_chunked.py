"""Books of any size: proof time and peak memory against positions, one circuit vs chunks (issue 12).

For each book size the benchmark builds a market with enough instruments (4,096 by default:
tree depth 4 at arity 8; a 10,000-position book needs more distinct instruments, so its market
is the smallest demo market that holds it, depth 5), a solvent account of that many distinct positions,
builds the circuits and keys once (timed: compile + dev setup, cached afterwards), then runs
``zksolv prove`` as a **whole process** per configuration:

- chunked, with 1 and with 2 local workers (parallel efficiency = t1 / t2);
- chunked on the resident prover (``--resident``: a daemon started for the point and warmed by
  one proof, so its keys are loaded; the daemon's own peak RSS is reported apart);
- one circuit, where a tier holds the book (``--single-max``; compiling a tier beyond a few
  hundred positions takes circom2-in-wasm many minutes and gigabytes).

**What size privacy costs.** A venue accepts only some chunk counts and the prover pads a book
with empty chunks up to the next one (``zksolv/core/venue.py``). Every point is measured twice
with the largest worker count (``--policy both``, the default): under the **default policy**'s
chunk counts (what a trader pays by default) and **unpadded** (a venue accepting exactly the
count the book needs: the cost of the book alone). The worker sweep (1 and 2 workers) runs
unpadded, so parallel efficiency is not mixed with padding. ``--policy default`` or
``--policy unpadded`` measures one of them only.

Peak RSS is the largest resident set of the prover process and its workers
(``RUSAGE_CHILDREN.ru_maxrss`` of a fresh ``zksolv prove`` child: the maximum over every
descendant waited for). The keeper's check of the chunked bundle is timed as a whole
``zksolv verify`` process and as ``verify_many`` in-process.

    python benchmarks/bench_chunked.py                        # 64, 256, 1,024, 4,096, 10,000 positions
    python benchmarks/bench_chunked.py --positions 10000 --workers 2 --append   # one more point
    python benchmarks/bench_chunked.py --positions 1024 --resident --append     # + the resident prover
    python benchmarks/bench_chunked.py --quick                # CI-sized: a small market, chunks of 8
    python benchmarks/bench_chunked.py --replot benchmarks/results/chunked.json

Prints a table, writes ``benchmarks/results/chunked.json`` and ``chunked.md``, draws ``chunked.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))


def _market(n_instruments: int, chunk_size: int, counts: Sequence[int]):  # noqa: ANN202
    """A demo market (2 underlyings x (spot, perpetual, 2 futures, calls and puts on every strike of
    every expiry)) of about ``n_instruments`` instruments, at least as many as a book needs, with a
    venue policy accepting the benchmark's tiers, chunk size and chunk counts. The demo chain
    de-duplicates strikes on its tick grid: 2 expiries give at most 3,780 instruments (tree depth
    6, the circuit of any 1,025-4,096-instrument market); larger books get more expiries (depth 7)."""
    from zksolv.app.demo import demo_market
    from zksolv.core.venue import VenuePolicy

    if n_instruments <= 20:
        market = demo_market(n_strikes=3, n_expiries=1)
    else:
        n_expiries, n_strikes = 2, min(1023, max(1, (n_instruments // 2 - 4) // 4))
        market = demo_market(n_strikes=n_strikes, n_expiries=n_expiries)
        while len(market.instruments) < min(n_instruments, 3780) and n_strikes < 1023:
            n_strikes = min(1023, int(n_strikes * 1.25) + 1)
            market = demo_market(n_strikes=n_strikes, n_expiries=n_expiries)
        while len(market.instruments) < n_instruments:
            n_expiries += 1
            market = demo_market(n_strikes=1023, n_expiries=n_expiries)
    policy = VenuePolicy(tiers=(4, 16, 64, 256, 1024), chunk_sizes=(chunk_size,), chunk_counts=tuple(sorted(set(counts))))
    return dataclasses.replace(market, venue=policy).validated()


def _account(market, n_positions: int):  # noqa: ANN001, ANN202
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_proving import account_for

    return account_for(market, n_positions)


def _run(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall time, peak RSS (KiB, the largest of the process and its descendants) and stderr of a
    whole ``zksolv`` process, run through a tiny Python parent so RUSAGE_CHILDREN is its own."""
    probe = (
        "import resource, subprocess, sys, time, json;"
        "t = time.perf_counter();"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
        "dt = time.perf_counter() - t;"
        "print(json.dumps([dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode, p.stderr[-2000:]]))"
    )
    out = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "zksolv.cli", *args],
                         capture_output=True, text=True, env=env, check=True)
    dt, rss, code, err = json.loads(out.stdout)
    if code != 0:
        raise RuntimeError(f"zksolv {args[0]} failed ({code}): {err}")
    return dt, rss, err


def _resident_runs(point: dict[str, Any], base: list[str], folder: Path, work: Path, env: dict[str, str]) -> None:
    """Start a resident prover for this point, warm it with one proof (key loads), time one more."""
    from zksolv.prover import daemon
    sock = work / "run" / "prover.sock"
    env = {**env, daemon.SOCKET_ENV: str(sock)}
    info = daemon.start(path=sock)
    try:
        dt, _, _ = _run([*base, "--out", str(folder / "proof_resident_cold")], env)
        point["prove_resident_first_s"] = round(dt, 2)
        dt, rss, err = _run([*base, "--out", str(folder / "proof_resident")], env)
        if "(resident engine)" not in err:
            raise RuntimeError("the chunks did not go to the resident prover")
        point["prove_resident_s"], point["peak_rss_resident_client_mib"] = round(dt, 2), round(rss / 1024, 1)
        status = Path(f"/proc/{info['pid']}/status").read_text()
        point["peak_rss_resident_daemon_mib"] = round(int(status.split("VmHWM:")[1].split()[0]) / 1024, 1)
    finally:
        daemon.stop(path=sock)


def bench_point(n_positions: int, *, market_size: int, chunk_size: int, workers: Sequence[int], single_max: int,
                work: Path, env: dict[str, str], resident: bool = False, policy: str = "both") -> dict[str, Any]:
    from zksolv.core.venue import DEFAULT_POLICY, chunks_needed
    from zksolv.toolchain.artifacts import build_artifacts
    from zksolv.toolchain.circuitgen import ChunkTier, FinalTier, Tier

    needed = chunks_needed(n_positions, chunk_size)
    market = _market(max(min(market_size, 3780), n_positions), chunk_size, [needed])
    default = dataclasses.replace(market, venue=dataclasses.replace(market.venue,
                                                                    chunk_counts=DEFAULT_POLICY.chunk_counts))
    padded = default.venue.padding(n_positions, chunk_size).padded
    account = _account(market, n_positions)
    folder = work / f"p{n_positions}"
    folder.mkdir(parents=True, exist_ok=True)
    market.save(folder / "market.json")
    default.save(folder / "market_default.json")  # the same market_root: the venue policy is not in it
    account.save(folder / "account.json")
    point: dict[str, Any] = {"positions": n_positions, "instruments": len(market.instruments),
                             "tree_depth": market.tree_depth, "chunk_size": chunk_size, "chunks": needed,
                             "chunks_default_policy": padded}
    # circuits and keys, once (cold unless cached)
    for label, shape in (("chunk", ChunkTier.for_market(market, chunk_size)), ("final", FinalTier.for_market(market))):
        t = time.perf_counter()
        art = build_artifacts(shape, "dev")
        point[f"{label}_constraints"] = art.circuit.n_constraints
        point[f"{label}_build_s"] = round(time.perf_counter() - t, 2)
    base = ["prove", "--account", str(folder / "account.json"), "--market", str(folder / "market.json"),
            "--chunk-size", str(chunk_size), "--json"]
    if policy in ("both", "unpadded"):
        for w in workers:
            dt, rss, _ = _run([*base, "--out", str(folder / f"proof_w{w}"), "--workers", str(w)], env)
            point[f"prove_w{w}_s"], point[f"peak_rss_w{w}_mib"] = round(dt, 2), round(rss / 1024, 1)
        if len(workers) >= 2 and point.get(f"prove_w{workers[1]}_s"):
            point["parallel_efficiency"] = round(point[f"prove_w{workers[0]}_s"] / point[f"prove_w{workers[1]}_s"], 2)
    if policy in ("both", "default"):
        w = workers[-1]
        dt, rss, err = _run([*base[:4], str(folder / "market_default.json"), *base[5:],
                             "--out", str(folder / "proof_default"), "--workers", str(w)], env)
        point["padding_reported"] = padded == needed or f"padded to {padded}" in err
        point["prove_default_s"], point["peak_rss_default_mib"] = round(dt, 2), round(rss / 1024, 1)
        point["default_workers"] = w
        if point.get(f"prove_w{w}_s"):
            point["padding_cost"] = round(dt / point[f"prove_w{w}_s"], 3)
    if resident:
        _resident_runs(point, base, folder, work, env)
    if n_positions <= single_max:
        tier = Tier.for_market(market, next(t for t in (4, 16, 64, 256, 1024) if n_positions <= t))
        t = time.perf_counter()
        art = build_artifacts(tier, "dev")
        point["single_constraints"], point["single_build_s"] = art.circuit.n_constraints, round(time.perf_counter() - t, 2)
        dt, rss, _ = _run(["prove", "--account", str(folder / "account.json"), "--market", str(folder / "market.json"),
                           "--positions", str(tier.n_positions), "--out", str(folder / "proof_single"), "--json"],
                          env)
        point["single_prove_s"], point["single_peak_rss_mib"] = round(dt, 2), round(rss / 1024, 1)
    # the keeper: a whole `zksolv verify` process, and verify_many in-process (the unpadded bundle)
    proof = folder / (f"proof_w{workers[-1]}" if policy != "default" else "proof_default")
    dt, _, _ = _run(["verify", "--proof", str(proof), "--market", str(folder / "market.json"), "--dev-key", "--json"],
                    env)
    point["verify_process_s"] = round(dt, 2)
    point["verify_library_s"] = round(_verify_library(proof, market), 3)
    return point


def _verify_library(proof: Path, market) -> float:  # noqa: ANN001
    from zksolv.proofs.proof_io import (CHUNK_VK_FILE, FINAL_DIR, PROOF_FILE, PUBLIC_FILE, VK_FILE, load_proof,
                                        load_public, load_verification_key)
    from zksolv.verifier.chunked import load_chunks
    from zksolv.proofs.statement import Statement
    from zksolv.verifier.verify import ChunkedSubmission, prepare_key, verify_many

    st = Statement.load(proof / "statement.json")
    final_key = prepare_key(load_verification_key(proof / VK_FILE))
    chunk_key = prepare_key(load_verification_key(proof / CHUNK_VK_FILE))
    sub = ChunkedSubmission(load_chunks(proof, st.n_chunks or 0), load_proof(proof / FINAL_DIR / PROOF_FILE),
                            load_public(proof / FINAL_DIR / PUBLIC_FILE), final_key, chunk_key, statement=st)
    t = time.perf_counter()
    verdict = verify_many([sub], market)[0]
    if not verdict.valid:
        raise RuntimeError(f"chunked bundle did not verify: {verdict.reason}")
    return time.perf_counter() - t


# ----------------------------------------------------------------------------- output
COLUMNS = (("positions", "positions"), ("instruments", "instruments"), ("chunks", "chunks"),
           ("chunks_default_policy", "chunks, default policy"),
           ("chunk_constraints", "chunk constraints"), ("prove_w1_s", "chunked 1 worker s"),
           ("prove_w2_s", "chunked 2 workers s"), ("parallel_efficiency", "t1/t2"),
           ("prove_default_s", "default policy s"), ("padding_cost", "padded / unpadded"),
           ("peak_rss_w2_mib", "peak RSS MiB (2 workers)"), ("prove_resident_s", "resident prover s"),
           ("peak_rss_resident_daemon_mib", "resident prover RSS MiB"), ("single_prove_s", "one circuit s"),
           ("single_peak_rss_mib", "one circuit RSS MiB"), ("verify_process_s", "zksolv verify s"),
           ("verify_library_s", "verify_many s"))


def table_md(points: list[dict[str, Any]]) -> str:
    head = "| " + " | ".join(h for _, h in COLUMNS) + " |\n|" + "---:|" * len(COLUMNS) + "\n"
    rows = ["| " + " | ".join("–" if p.get(k) is None else f"{p[k]:,}" if isinstance(p[k], int) else str(p[k])
                              for k, _ in COLUMNS) + " |" for p in points]
    return head + "\n".join(rows) + "\n"


def plot(points: list[dict[str, Any]], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, label in (("prove_w1_s", "chunked, 1 worker"), ("prove_w2_s", "chunked, 2 workers"),
                       ("prove_default_s", "chunked, 2 workers, default policy (padded)"),
                       ("prove_resident_s", "chunked, resident prover"), ("single_prove_s", "one circuit")):
        pts = [(p["positions"], p[key]) for p in points if p.get(key) is not None]
        if pts:
            ax1.plot(*zip(*pts), marker="o", label=label)
    ax1.set(xscale="log", yscale="log", xlabel="positions", ylabel="zksolv prove, whole process (s)",
            title="proof time vs book size")
    ax1.legend()
    for key, label in (("peak_rss_w1_mib", "chunked, 1 worker"), ("peak_rss_w2_mib", "chunked, 2 workers"),
                       ("single_peak_rss_mib", "one circuit")):
        pts = [(p["positions"], p[key]) for p in points if p.get(key) is not None]
        if pts:
            ax2.plot(*zip(*pts), marker="o", label=label)
    ax2.axhline(1536, color="grey", linestyle=":", label="1.5 GiB per worker")
    ax2.set(xscale="log", xlabel="positions", ylabel="peak RSS of one process (MiB)", title="memory vs book size")
    ax2.legend()
    fig.tight_layout()
    path = out / "chunked.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--positions", default="64,256,1024,4096,10000")
    ap.add_argument("--market-size", type=int, default=4096)
    ap.add_argument("--chunk-size", type=int, default=64)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--single-max", type=int, default=64, help="also prove in one circuit up to this size")
    ap.add_argument("--resident", action="store_true", help="also prove on a resident prover (started per point)")
    ap.add_argument("--policy", choices=("both", "default", "unpadded"), default="both",
                    help="the venue's chunk counts: the default policy's (padded), exactly the book's, or both")
    ap.add_argument("--quick", action="store_true", help="CI-sized: 16 positions, chunks of 8, a small market")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--append", action="store_true", help="keep the other sizes' points of an earlier results JSON")
    ap.add_argument("--replot", type=Path, default=None, help="redraw the plot of a results JSON")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.replot is not None:
        data = json.loads(args.replot.read_text())
        print(plot(data["points"], args.out))
        return data
    if args.quick:
        args.positions, args.market_size, args.chunk_size, args.single_max = "16", 20, 8, 16
    positions = [int(x) for x in args.positions.split(",")]
    workers = [int(x) for x in args.workers.split(",")]
    env = dict(os.environ)
    env.setdefault("PYTHONWARNINGS", "ignore")
    name = "chunked_quick" if args.quick else "chunked"
    path = args.out / f"{name}.json"
    # --append keeps the points of earlier runs (other sizes), so a long sweep can run in parts
    points = json.loads(path.read_text())["points"] if args.append and path.exists() else []
    with tempfile.TemporaryDirectory(prefix="zksolv-bench-chunked-") as tmp:
        for n in positions:
            print(f"... {n} positions", file=sys.stderr, flush=True)
            point = bench_point(n, market_size=args.market_size, chunk_size=args.chunk_size, workers=workers,
                                single_max=args.single_max, work=Path(tmp), env=env, resident=args.resident,
                                policy=args.policy)
            point["loadavg"] = [round(x, 2) for x in os.getloadavg()]
            points = sorted([p for p in points if p["positions"] != n] + [point], key=lambda p: p["positions"])
            data = _write(points, args, path)  # after every point: a stopped sweep keeps what it measured
            print(table_md([point]), file=sys.stderr)
    if not args.quick:
        plot(points, args.out)
    print(table_md(points))
    return data


def _write(points: list[dict[str, Any]], args: argparse.Namespace, path: Path) -> dict[str, Any]:
    from zksolv.core.atomic import atomic_write_text

    data = {"label": "chunked", "quick": args.quick, "cpu_count": os.cpu_count(), "points": points}
    atomic_write_text(path, json.dumps(data, indent=1) + "\n")
    atomic_write_text(path.with_suffix(".md"), table_md(points))
    return data


if __name__ == "__main__":
    main()
