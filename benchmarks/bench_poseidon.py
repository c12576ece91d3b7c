"""Native vs pure-Python Poseidon: per-arity hash cost and the keeper's market root as a whole process.

    python benchmarks/bench_poseidon.py --bundle 64  # the recorded run (~2 min with cached keys)
    python benchmarks/bench_poseidon.py --quick    # one small market (a few seconds)

Two measurements, each with ``ZKSOLV_POSEIDON=python`` (the pure-Python reference: *before*) and
without it (the native library when installed and cross-checked: *after*):

- **per hash**: microseconds per Poseidon of each arity the project uses (4 account commitment,
  6 instrument leaf and market root, 8 Merkle node, 9 entry block, 16 ``hash_list``), median of
  ``--repeat`` runs of a few hundred hashes, in this process;
- **market root**: a fresh Python process that imports the keeper's code, loads the market JSON
  and computes :func:`zksolv.core.commitments.market_root` (what ``zksolv verify`` pays per
  process): the root alone (``root_s``) and the process wall time (``process_s``), medians of
  ``--repeat``. Markets are the demo markets of ``bench_chunked.py`` (3,780 and 11,324 instruments);
- with ``--bundle N``: ``zksolv verify`` of a chunked bundle of N positions on the 3,780-instrument
  market as a whole process (the market root is most of it).

Prints a table and writes ``benchmarks/results/poseidon.json``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))

from zksolv.core.atomic import atomic_write_text  # noqa: E402

ARITIES = (4, 6, 8, 9, 16)
BACKENDS = {"python": {"ZKSOLV_POSEIDON": "python"}, "native": {}}

_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from zksolv.core.market import MarketState
from zksolv.core import commitments, poseidon_native
market = MarketState.load(sys.argv[1])
t1 = time.perf_counter()
root = commitments.market_root(market)
t2 = time.perf_counter()
print(json.dumps({"root": str(root), "load_s": t1 - t0, "root_s": t2 - t1, "backend": poseidon_native.backend()}))
"""


def _env(backend: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ZKSOLV_POSEIDON"}
    env.update(BACKENDS[backend])
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def per_hash(repeat: int, n_hashes: int) -> dict[str, dict[str, float]]:
    """Median microseconds per hash of each arity, each backend in its own child process."""
    code = ("import json, sys, time, statistics\nfrom zksolv.core.poseidon import poseidon, P\n"
            f"out = {{}}\nfor n in {ARITIES!r}:\n"
            "    xs = [P - 1 - 7 ** 40 * i for i in range(n)]; poseidon(xs)\n"
            "    runs = []\n"
            f"    for _ in range({repeat}):\n"
            "        t = time.perf_counter()\n"
            f"        for _ in range({n_hashes}): poseidon(xs)\n"
            f"        runs.append((time.perf_counter() - t) / {n_hashes} * 1e6)\n"
            "    out[n] = round(statistics.median(runs), 1)\n"
            "print(json.dumps(out))\n")
    result: dict[str, dict[str, float]] = {}
    for backend in BACKENDS:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(backend), check=True)
        result[backend] = json.loads(out.stdout)
    return result


def market_root_point(n_instruments: int, repeat: int, work: Path) -> dict[str, Any]:
    """Whole-process market root of the demo market of about ``n_instruments``, both backends."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_chunked import _market

    market = _market(n_instruments, 64, [1])
    path = work / f"market_{n_instruments}.json"
    market.save(path)
    point: dict[str, Any] = {"instruments": len(market.instruments), "tree_depth": market.tree_depth}
    roots = set()
    for backend in BACKENDS:
        runs = []
        for _ in range(repeat):
            t = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True,
                                 env=_env(backend), check=True)
            wall = time.perf_counter() - t
            runs.append({**json.loads(out.stdout), "process_s": wall})
        roots |= {r["root"] for r in runs}
        point[backend] = {
            "root_s": round(statistics.median(r["root_s"] for r in runs), 3),
            "process_s": round(statistics.median(r["process_s"] for r in runs), 3),
            "load_s": round(statistics.median(r["load_s"] for r in runs), 3),
            "arities": runs[0]["backend"],
            "runs_root_s": [round(r["root_s"], 3) for r in runs],
        }
    if len(roots) != 1:
        raise RuntimeError(f"the backends disagree on the market root of {len(market.instruments)} instruments")
    point["speedup_root"] = round(point["python"]["root_s"] / point["native"]["root_s"], 2)
    return point


def verify_bundle_point(n_positions: int, repeat: int, work: Path) -> dict[str, Any]:
    """``zksolv verify`` (whole keeper process, ``--dev-key``) of a chunked bundle of ``n_positions``
    on the 3,780-instrument demo market, both backends (the bundle is proven once, native hashing)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_chunked import _account, _market, _run
    from zksolv.prover.chunks import chunks_needed
    from zksolv.toolchain.artifacts import build_artifacts
    from zksolv.toolchain.circuitgen import ChunkTier, FinalTier

    needed = chunks_needed(n_positions, 64)
    market = _market(3780, 64, [needed])
    folder = work / f"bundle{n_positions}"
    folder.mkdir(parents=True, exist_ok=True)
    market.save(folder / "market.json")
    _account(market, n_positions).save(folder / "account.json")
    for shape in (ChunkTier.for_market(market, 64), FinalTier.for_market(market)):
        build_artifacts(shape, "dev")
    _run(["prove", "--account", str(folder / "account.json"), "--market", str(folder / "market.json"),
          "--chunk-size", "64", "--json", "--out", str(folder / "proof")], _env("native"))
    point: dict[str, Any] = {"positions": n_positions, "instruments": len(market.instruments), "chunks": needed}
    for backend in BACKENDS:
        runs = [_run(["verify", "--proof", str(folder / "proof"), "--market", str(folder / "market.json"),
                      "--dev-key", "--json"], _env(backend))[0] for _ in range(repeat)]
        point[f"verify_{backend}_s"] = round(statistics.median(runs), 2)
    return point


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one small market, 2 repeats")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--markets", default="3780,11324", help="comma-separated instrument counts")
    ap.add_argument("--bundle", type=int, default=0, metavar="N",
                    help="also time zksolv verify of a chunked bundle of N positions (proves it once; cached keys)")
    ap.add_argument("--out", type=Path, default=RESULTS / "poseidon.json")
    args = ap.parse_args(argv)
    sizes = [64] if args.quick else [int(x) for x in args.markets.split(",")]
    repeat = 2 if args.quick else args.repeat
    native = "not installed (both columns are pure Python)"
    for dist in ("light-poseidon", "light-poseidon-python"):  # both install light_poseidon_python
        try:
            native = f"{dist} {importlib.metadata.version(dist)}"
            break
        except importlib.metadata.PackageNotFoundError:
            continue
    result: dict[str, Any] = {"native_library": native, "cores": os.cpu_count(),
                              "per_hash_us": per_hash(repeat, 50 if args.quick else 300), "market_root": []}
    with tempfile.TemporaryDirectory(prefix="zksolv-bench-poseidon-") as tmp:
        for n in sizes:
            result["market_root"].append(market_root_point(n, repeat, Path(tmp)))
        if args.bundle:
            result["verify_bundle"] = verify_bundle_point(args.bundle, repeat, Path(tmp))
    ph = result["per_hash_us"]
    print(f"native: {native}\n\n| arity | pure Python us | native us | x |\n|---:|---:|---:|---:|")
    for n in ARITIES:
        py, nat = ph["python"][str(n)], ph["native"][str(n)]
        print(f"| {n} | {py:,.0f} | {nat:,.0f} | {py / nat:.1f} |")
    print("\n| instruments | root pure Python s | root native s | x | process pure Python s | process native s |\n"
          "|---:|---:|---:|---:|---:|---:|")
    for p in result["market_root"]:
        print(f"| {p['instruments']:,} | {p['python']['root_s']:.2f} | {p['native']['root_s']:.2f} | {p['speedup_root']:.1f} "
              f"| {p['python']['process_s']:.2f} | {p['native']['process_s']:.2f} |")
    if "verify_bundle" in result:
        b = result["verify_bundle"]
        print(f"\nzksolv verify, {b['positions']:,}-position bundle ({b['chunks']} chunks) on {b['instruments']:,} "
              f"instruments: pure Python {b['verify_python_s']:.2f} s, native {b['verify_native_s']:.2f} s")
    atomic_write_text(args.out, json.dumps(result, indent=1) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
