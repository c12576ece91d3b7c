"""Where a chunked prove's time goes outside the proofs (issue 26 item 2): the serial path, profiled.

For each book size it builds ``bench_chunked``'s market and account (unpadded venue: the count
the book needs), builds the circuits and keys once (not profiled), then runs ``zksolv prove
--chunk-size 64`` **in this process under cProfile**, exactly as the command line does. The
proving workers are other processes, so what the profile sees is the trader's own process: start-up,
loading and checking the market and account, the reference check, the chunk plan (chained states,
Merkle openings, witness inputs), and the wait for the engine. The report splits the wall time into

* ``serial_s``: everything but the engine's run (what no number of cores shortens), and its phases
  (market and account load, plan, artifacts, save);
* ``engine_s``: the engine's run (chunk witnesses and proofs on the workers, key loads included);

and lists the top entries of the serial path by own time. Books of ``--plan-only-from`` positions
or more are profiled up to the engine and stop there (the 10,000-position book's serial path
without its ten minutes of proofs).

    python benchmarks/profile_serial.py                                   # 1,024 whole, 10,000 to the engine
    python benchmarks/profile_serial.py --pure-python-poseidon            # the same before native Poseidon
    python benchmarks/profile_serial.py --cold-market --plan-only-from 1  # a first proof on the market
    python benchmarks/profile_serial.py --quick                           # CI-sized: 16 positions, chunks of 8

Prints a table, writes ``benchmarks/results/profile_serial.json`` (rows keyed by label and size,
so a ``--pure-python-poseidon`` run sits beside the native one) and draws ``profile_serial.png``.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

#: the engines' ``run`` (module path suffix, function name): the proofs, on other processes
ENGINE_RUN = ("zksolv/prover/engines.py", "run")

#: (phase, module path suffix, function name): cumulative time of each, from the profile.
PHASES = (
    ("market load", "zksolv/core/market.py", "load"),
    ("account load", "zksolv/core/account.py", "load"),
    ("market hashes (prime)", "zksolv/prover/market_cache.py", "prime"),
    ("plan (reference check, states, inputs)", "zksolv/prover/chunks.py", "plan_chunks"),
    ("artifacts (cached circuits, keys)", "zksolv/toolchain/artifacts.py", "build_artifacts"),
    ("engine run", *ENGINE_RUN),
    ("save", "zksolv/prover/prove.py", "save"),
)


#: the phases of the serial path (everything but the engine's run), in order
SERIAL_PHASES = tuple(p for p, _, _ in PHASES if p != "engine run")


class _StopAtEngine(BaseException):
    """Raised in place of the engine's run for a book profiled up to the engine (a BaseException, so
    the command's own error handler, which reports any Exception as an internal error, lets it through)."""


def _cumulative(stats: pstats.Stats, suffix: str, name: str) -> float:
    """The largest cumulative time of a function ``name`` defined in a file ending with ``suffix``."""
    best = 0.0
    for (filename, _, func), (_, _, _, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        if func == name and filename.replace(os.sep, "/").endswith(suffix):
            best = max(best, ct)
    return best


def _top(stats: pstats.Stats, n: int, exclude: Callable[[str, str], bool]) -> list[dict[str, Any]]:
    """The ``n`` entries with the most own time, skipping what ``exclude(filename, func)`` names."""
    rows = []
    for (filename, line, func), (_, calls, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        if exclude(filename, func):
            continue
        where = filename.replace(os.sep, "/")
        for marker in ("/zksolv/", "/site-packages/", "/lib/python"):
            if marker in where:
                where = where.split(marker, 1)[1]
                break
        rows.append({"function": f"{where}:{line}({func})", "calls": calls, "own_s": round(tt, 3),
                     "cumulative_s": round(ct, 3)})
    rows.sort(key=lambda r: -r["own_s"])
    return rows[:n]


def _waiting(filename: str, func: str) -> bool:
    """Time the trader's process spends blocked on the workers or the engine (not serial work)."""
    return any(word in func for word in ("acquire", "select", "poll", "wait", "recv")) or \
        (func == ENGINE_RUN[1] and filename.replace(os.sep, "/").endswith(ENGINE_RUN[0]))


def profile_point(n_positions: int, *, market_size: int, chunk_size: int, workers: int, plan_only: bool,
                  cold_market: bool, top: int, work: Path) -> dict[str, Any]:
    """Profile one ``zksolv prove`` of a book of ``n_positions`` in this process; ``cold_market``
    drops the prover's cached market hashes first (the first proof on a market file)."""
    from bench_chunked import _account, _market

    from zksolv.cli.main import main as cli
    from zksolv.core.venue import chunks_needed
    from zksolv.prover import engines
    from zksolv.prover.market_cache import cached_path
    from zksolv.toolchain.artifacts import build_artifacts
    from zksolv.toolchain.circuitgen import ChunkTier, FinalTier

    needed = chunks_needed(n_positions, chunk_size)
    market = _market(max(market_size, n_positions), chunk_size, [needed])
    account = _account(market, n_positions)
    folder = work / f"p{n_positions}"
    folder.mkdir(parents=True, exist_ok=True)
    market.save(folder / "market.json")
    account.save(folder / "account.json")
    for shape in (ChunkTier.for_market(market, chunk_size), FinalTier.for_market(market)):
        build_artifacts(shape, "dev")  # once, outside the profile
    if cold_market:
        cached_path(market).unlink(missing_ok=True)
    args = ["prove", "--account", str(folder / "account.json"), "--market", str(folder / "market.json"),
            "--chunk-size", str(chunk_size), "--workers", str(workers), "--out", str(folder / "proof"), "--json"]
    saved = {name: getattr(engines, name).run for name in ("LocalPool", "SerialEngine", "ResidentEngine", "RayEngine")}
    if plan_only:
        def stop(self: Any, tasks: Sequence[Any], progress: Any = None) -> list[Any]:
            raise _StopAtEngine
        for name in saved:
            setattr(getattr(engines, name), "run", stop)
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    try:
        profiler.enable()
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # the command's JSON report
                cli.main(args, standalone_mode=False)
        except _StopAtEngine:
            pass
        finally:
            profiler.disable()
    finally:
        for name, run in saved.items():
            setattr(getattr(engines, name), "run", run)
    wall = time.perf_counter() - t0
    stats = pstats.Stats(profiler)
    phases = {phase: round(_cumulative(stats, suffix, name), 3) for phase, suffix, name in PHASES}
    engine = 0.0 if plan_only else phases["engine run"]
    return {"positions": n_positions, "instruments": len(market.instruments), "chunk_size": chunk_size,
            "chunks": needed, "workers": workers, "plan_only": plan_only,
            "market_cache": "cold" if cold_market else "warm", "wall_s": round(wall, 2),
            "engine_s": round(engine, 2), "serial_s": round(wall - engine, 2), "phases_s": phases,
            "top_serial": _top(stats, top, _waiting)}


def table(rows: list[dict[str, Any]]) -> str:
    """A markdown table of the rows' phases."""
    head = ["label", "positions", "chunks", "wall s", "serial s", "engine s", *SERIAL_PHASES]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["label"], f"{r['positions']:,}", str(r["chunks"]), f"{r['wall_s']:.2f}", f"{r['serial_s']:.2f}",
                 "–" if r["plan_only"] else f"{r['engine_s']:.2f}"]
        cells += [f"{r['phases_s'].get(p, 0.0):.2f}" for p in SERIAL_PHASES]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], out: Path) -> Path | None:
    """Horizontal stacked bars of the serial path's phases per row; the engine's time written beside
    each bar (it would dwarf them)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    names = [*SERIAL_PHASES, "other serial"]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.6))
    labels = [f"{r['positions']:,}: {r['label']}" for r in rows]
    left = [0.0] * len(rows)
    for name in names:
        if name == "other serial":
            vals = [max(0.0, r["serial_s"] - sum(r["phases_s"].get(p, 0.0) for p in SERIAL_PHASES)) for r in rows]
        else:
            vals = [r["phases_s"].get(name, 0.0) for r in rows]
        ax.barh(labels, vals, left=left, label=name)
        left = [a + v for a, v in zip(left, vals)]
    for y, r in enumerate(rows):
        engine = "engine not run" if r["plan_only"] else f"+ engine {r['engine_s']:.1f} s"
        ax.text(left[y] + 0.1, y, f"{r['serial_s']:.2f} s  ({engine})", va="center", fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, max(left) * 1.45 + 0.5)
    ax.set_xlabel("seconds of the serial path (zksolv prove in one process, outside the engine)")
    ax.set_title(f"The serial path of a chunked prove (chunks of {rows[0]['chunk_size']}, {rows[0]['workers']} workers)")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--positions", type=int, nargs="+", default=[1024, 10000])
    ap.add_argument("--plan-only-from", type=int, default=4096,
                    help="books of at least this many positions are profiled up to the engine only")
    ap.add_argument("--market-size", type=int, default=3780, help="instruments (more when the book needs them)")
    ap.add_argument("--chunk-size", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--pure-python-poseidon", action="store_true",
                    help="hash with the pure-Python reference only (ZKSOLV_POSEIDON=python: the serial path "
                         "before native Poseidon)")
    ap.add_argument("--cold-market", action="store_true",
                    help="drop the prover's cached market hashes before each point (a first proof on the market)")
    ap.add_argument("--label", default=None,
                    help="row label (default: native / pure-python, from the hashing, and ', cold market')")
    ap.add_argument("--quick", action="store_true", help="16 positions, chunks of 8 (CI-sized)")
    ap.add_argument("--out", type=Path, default=RESULTS / "profile_serial.json")
    args = ap.parse_args(argv)
    if args.quick:
        args.positions, args.chunk_size, args.market_size = [16], 8, 16
    if args.label is None:
        args.label = ("pure-python" if args.pure_python_poseidon else "native") + \
            (", cold market" if args.cold_market else "")
    if args.pure_python_poseidon:
        os.environ["ZKSOLV_POSEIDON"] = "python"  # zksolv.core.poseidon_native: every arity on the reference
    old = json.loads(args.out.read_text()) if args.out.exists() else {"rows": []}
    rows = [r for r in old["rows"] if not (r["label"] == args.label and r["positions"] in args.positions)]
    with tempfile.TemporaryDirectory(prefix="zksolv-profile-") as tmp:
        for n in args.positions:
            row = profile_point(n, market_size=args.market_size, chunk_size=args.chunk_size, workers=args.workers,
                                plan_only=n >= args.plan_only_from, cold_market=args.cold_market, top=args.top,
                                work=Path(tmp))
            row["label"] = args.label
            row["loadavg"] = [round(x, 2) for x in os.getloadavg()]
            rows.append(row)
            print(f"\n{args.label}, {n:,} positions: wall {row['wall_s']} s, serial {row['serial_s']} s", flush=True)
            for t in row["top_serial"]:
                print(f"  {t['own_s']:8.3f} s own  {t['cumulative_s']:8.3f} s cum  {t['calls']:>9,}  {t['function']}")
    rows.sort(key=lambda r: (r["positions"], r.get("market_cache") != "cold", not r["label"].startswith("pure"),
                             r["label"]))
    data = {"benchmark": "profile_serial", "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    from zksolv.core.atomic import atomic_write_text
    atomic_write_text(args.out, json.dumps(data, indent=1) + "\n")
    md = table(rows)
    atomic_write_text(args.out.with_suffix(".md"), md + "\n")
    print("\n" + md)
    plot(rows, args.out.with_suffix(".png"))
    return data


if __name__ == "__main__":
    main()
