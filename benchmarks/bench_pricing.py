"""Benchmark the Black–Scholes greeks: numpy vs numba vs a pure-Python loop.

Prices a random instrument table (calls, puts, futures, spot; random strikes,
expiries and vols) of 64 .. 65,536 instruments with each backend, reports the
best-of-N wall time, the throughput and the speedups, writes
``benchmarks/results/pricing.json`` and a log-log plot
``benchmarks/results/pricing.png``.

Run: ``python benchmarks/bench_pricing.py [--max-python 65536] [--repeat 5]``.
The numba kernel is compiled (or loaded from cache) once before timing; the
compile time is reported separately.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from zksolv.risk import pricing
RESULTS = Path(__file__).resolve().parent / "results"
SIZES = [64, 256, 1024, 4096, 16384, 65536]


def table(n: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """A random instrument table of ``n`` rows (mostly options)."""
    rng = np.random.default_rng(seed)
    spot = np.full(n, 65_000.0)
    strike = 65_000.0 * np.exp(rng.uniform(-0.6, 0.6, n))
    tau = rng.uniform(1 / 365, 1.0, n)
    vol = rng.uniform(0.3, 1.0, n)
    kind = rng.choice(
        [pricing.KIND_CALL, pricing.KIND_PUT, pricing.KIND_FUTURE, pricing.KIND_SPOT], size=n, p=[0.45, 0.45, 0.05, 0.05]
    ).astype(np.int64)
    return spot, strike, tau, vol, kind


def best_time(fn: Callable[[], Any], repeat: int) -> float:
    """Best wall time of ``repeat`` runs (seconds); at least ~0.2 s of runs in total for tiny sizes."""
    best = float("inf")
    runs = 0
    start = time.perf_counter()
    while runs < repeat or (time.perf_counter() - start < 0.2 and runs < 1000):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
        runs += 1
    return best


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--max-python", type=int, default=65536, help="largest size for the slow pure-Python loop")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    pricing.greeks_numba(*table(8))
    compile_s = time.perf_counter() - t0

    rows = []
    print(f"{'n':>7} {'python ms':>11} {'numpy ms':>10} {'numba ms':>10} {'numba/numpy':>12} {'numba/python':>13} {'numpy/python':>13}")
    for n in SIZES:
        args_n = table(n)
        t_np = best_time(lambda: pricing.greeks_numpy(*args_n), args.repeat)
        t_nb = best_time(lambda: pricing.greeks_numba(*args_n), args.repeat)
        t_py = best_time(lambda: pricing.greeks_python(*args_n), 1) if n <= args.max_python else None
        a, b = pricing.greeks_numpy(*args_n), pricing.greeks_numba(*args_n)
        max_rel = max(
            float(np.max(np.abs(getattr(a, f) - getattr(b, f)) / np.maximum(np.abs(getattr(b, f)), 1.0)))
            for f in ("mark", "delta", "gamma", "vega")
        )
        row = {
            "n": n,
            "python_s": t_py,
            "numpy_s": t_np,
            "numba_s": t_nb,
            "speedup_numba_vs_numpy": t_np / t_nb,
            "speedup_numba_vs_python": (t_py / t_nb) if t_py else None,
            "speedup_numpy_vs_python": (t_py / t_np) if t_py else None,
            "max_rel_diff_numpy_numba": max_rel,
        }
        rows.append(row)

        def fmt(x: float | None, mul: float = 1e3, w: int = 10, p: int = 3) -> str:
            return f"{x * mul:>{w}.{p}f}" if x is not None else f"{'-':>{w}}"

        print(
            f"{n:>7} {fmt(t_py, w=11)} {fmt(t_np)} {fmt(t_nb)} {fmt(row['speedup_numba_vs_numpy'], 1, 12, 1)}"
            f" {fmt(row['speedup_numba_vs_python'], 1, 13, 1)} {fmt(row['speedup_numpy_vs_python'], 1, 13, 1)}"
        )
    print(f"numba compile/cache-load: {compile_s:.2f} s")

    result = {
        "benchmark": "black-scholes greeks (mark, delta, gamma, vega) per instrument table",
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()},
        "numpy": np.__version__,
        "numba": __import__("numba").__version__,
        "numba_compile_s": compile_s,
        "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    from zksolv.core.atomic import atomic_write_text

    atomic_write_text(args.out / "pricing.json", json.dumps(result, indent=1) + "\n")
    plot(rows, args.out / "pricing.png")
    print(f"wrote {args.out / 'pricing.json'} and {args.out / 'pricing.png'}")
    return result


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Log-log time-per-table plot of the three backends."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for key, label, style in (("python_s", "pure Python loop", "o-"), ("numpy_s", "numpy (vectorised)", "s-"), ("numba_s", "numba @njit", "^-")):
        pts = [(r["n"], r[key]) for r in rows if r[key] is not None]
        ax.loglog([p[0] for p in pts], [p[1] * 1e3 for p in pts], style, label=label)
    ax.set_xlabel("instruments")
    ax.set_ylabel("time per table (ms, best of N)")
    ax.set_title("Black–Scholes mark + greeks")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
