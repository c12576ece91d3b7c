"""Constraint cost of the revaluation risk mode against the greeks modes (issue 16).

Compiles (circom2 --O2, through the artifact cache) the one-circuit tier of every risk mode at
U = 2 underlyings, A = 4 collateral assets, tree depth 4 (the demo market's 152 instruments) for
N in {4, 8, 16} positions and K in {16, 32} scenarios, plus N = 4 at K = 128 (the Monte-Carlo set
that ES publishes), and derives the marginal costs:

* per position at K: ``(c(16, K) - c(8, K)) / 8`` (a whole entry block of 8, so the commitment's
  Poseidon(9) share is in it, as in the README's per-position figure);
* per scenario at N: ``(c(N, 32) - c(N, 16)) / 16``;
* per (position, scenario): the mixed difference ``(c(16,32) - c(8,32) - c(16,16) + c(8,16)) / 128``
  — zero for the greeks modes (a scenario costs the same whatever the book), and what each
  position's leaf and routing add per scenario under the revaluation mode.

Run: ``python benchmarks/bench_revaluation.py`` (about 20 compiles; minutes on 2 cores, cached
afterwards); writes ``benchmarks/results/revaluation.json`` and prints a markdown table.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from zksolv.toolchain.artifacts import compile_tier  # noqa: E402
from zksolv.toolchain.circuitgen import Tier  # noqa: E402
from zksolv.core.market import RiskMode  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
U, A, DEPTH = 2, 4, 4
POINTS = [(n, k) for k in (16, 32) for n in (4, 8, 16)] + [(4, 128)]


def constraints(mode: RiskMode, n: int, k: int) -> tuple[int, float]:
    """``(constraints, compile seconds)`` of the tier (0 s on a cache hit)."""
    start = time.perf_counter()
    _hash, circuit = compile_tier(Tier(n, U, A, k, DEPTH, mode))
    return circuit.n_constraints, time.perf_counter() - start


def marginal(c: dict[tuple[int, int], int]) -> dict[str, float]:
    """The marginal costs of one mode from its counts ``(N, K) -> constraints``."""
    return {
        "per_position_k16": (c[16, 16] - c[8, 16]) / 8,
        "per_position_k32": (c[16, 32] - c[8, 32]) / 8,
        "per_scenario_n4": (c[4, 32] - c[4, 16]) / 16,
        "per_scenario_n16": (c[16, 32] - c[16, 16]) / 16,
        "per_position_scenario": (c[16, 32] - c[8, 32] - c[16, 16] + c[8, 16]) / 128,
    }


def main() -> None:
    out: dict[str, Any] = {"shape": {"U": U, "A": A, "depth": DEPTH}, "modes": {}}
    for mode in RiskMode:
        counts: dict[tuple[int, int], int] = {}
        for n, k in POINTS:
            counts[n, k], seconds = constraints(mode, n, k)
            print(f"{mode.value:12s} N={n:2d} K={k:3d}: {counts[n, k]:8,d} constraints ({seconds:.0f} s)", file=sys.stderr)
        out["modes"][mode.value] = {"constraints": {f"n{n}_k{k}": c for (n, k), c in counts.items()},
                                    **marginal(counts)}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "revaluation.json").write_text(json.dumps(out, indent=1) + "\n")
    print("| mode | N=4,K=16 | N=16,K=16 | N=4,K=32 | N=16,K=32 | N=4,K=128 | per position (K=16) "
          "| per position (K=32) | per scenario (N=4) | per scenario (N=16) | per (position, scenario) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for mode, row in out["modes"].items():
        c = row["constraints"]
        print(f"| {mode} | {c['n4_k16']:,} | {c['n16_k16']:,} | {c['n4_k32']:,} | {c['n16_k32']:,} | {c['n4_k128']:,} "
              f"| {row['per_position_k16']:,.1f} | {row['per_position_k32']:,.1f} | {row['per_scenario_n4']:,.1f} "
              f"| {row['per_scenario_n16']:,.1f} | {row['per_position_scenario']:,.2f} |")


if __name__ == "__main__":
    main()
