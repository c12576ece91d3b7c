"""The oracle's build and the keeper's audit at 152, 1,008 and 4,096 instruments.

    python benchmarks/bench_oracle.py            # the recorded run (~2 min)
    python benchmarks/bench_oracle.py --quick    # 152 and 1,008 instruments only

For each size (the demo chain grown by ``n_expiries x n_strikes``: 4 x 9 = 152 instruments,
10 x 25 = 1,008, 14 x 73 = 4,096; two underlyings) and each of the stress and revaluation
modes over the 16-scenario SPAN grid, measured (medians of ``--repeat`` runs):

- ``build_s``: what ``zksolv market build`` spends on the venue's four files: reading them
  (:func:`zksolv.oracle.inputs.read_inputs`) and :func:`zksolv.oracle.build.build_market` (numpy
  pricing, the builder's own audit before publishing), without writing the JSON;
- ``audit_s``: :func:`zksolv.core.audit.audit_options`, the keeper's pure-Python recomputation of
  every option's mark, delta, gamma, vega and (revaluation) 16-entry risk array;
- ``params_audit_s``: :func:`zksolv.core.audit.audit_vol_history` and
  :func:`zksolv.core.audit.audit_risk_parameters`, the re-derivation of the EMAs, the scenario
  grid and the VaR parameters (independent of the instrument count);
- ``load_s``: the keeper's whole ``MarketState.load`` (parse, validation, every audit).

Prints a table, writes ``benchmarks/results/oracle.json`` and plots the times against the
instrument count (``oracle.png``).
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from zksolv.core.atomic import atomic_write_text  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
#: (n_expiries, n_strikes) -> 8 + 4 * n_expiries * n_strikes instruments
SIZES = ((4, 9), (10, 25), (14, 73))
MODES = ("stress", "revaluation")


def _median(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    runs, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), out


def run(quick: bool = False, repeat: int = 3) -> dict[str, Any]:
    from zksolv.core.audit import audit_options, audit_risk_parameters, audit_vol_history
    from zksolv.app.demo import demo_inputs
    from zksolv.core.market import MarketState
    from zksolv.oracle.build import build_market
    from zksolv.oracle.inputs import read_inputs, write_inputs

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n_expiries, n_strikes in SIZES[:2] if quick else SIZES:
            for mode in MODES:
                files = write_inputs(demo_inputs(7, mode, "span", n_expiries=n_expiries, n_strikes=n_strikes),
                                     Path(tmp) / "inputs")
                build_s, market = _median(lambda: build_market(read_inputs(
                    files["instruments"], files["underlyings"], files["collateral"], files["params"])), repeat)
                audit_s, _ = _median(lambda: audit_options(market), repeat)
                params_audit_s, _ = _median(lambda: (audit_vol_history(market), audit_risk_parameters(market)), repeat)
                path = Path(tmp) / "m.json"
                market.save(path)
                load_s, _ = _median(lambda: MarketState.load(path), repeat)
                options = sum(1 for i in market.instruments if i.kind.is_option)
                rows.append({"instruments": len(market.instruments), "options": options, "mode": mode,
                             "scenarios": market.params.scenarios.size, "build_s": build_s, "audit_s": audit_s,
                             "params_audit_s": params_audit_s, "load_s": load_s,
                             "audit_us_per_option": 1e6 * audit_s / options})
                print(f"  {len(market.instruments):>5} instruments {mode:<11} build {build_s:7.2f} s  "
                      f"audit {audit_s:6.3f} s  params audit {1e3 * params_audit_s:6.2f} ms  load {load_s:6.3f} s",
                      flush=True)
    return {"machine": {"python": platform.python_version(), "platform": platform.platform(),
                        "processor": platform.processor() or platform.machine()},
            "repeat": repeat, "rows": rows}


def print_table(data: dict[str, Any]) -> None:
    print("\n| instruments | mode | K | market build (s) | audit (s) | audit per option (µs) | grid + VaR audit (ms) "
          "| keeper load (s) |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in data["rows"]:
        print(f"| {r['instruments']:,} | {r['mode']} | {r['scenarios']} | {r['build_s']:.2f} | {r['audit_s']:.3f} | "
              f"{r['audit_us_per_option']:.1f} | {1e3 * r.get('params_audit_s', 0.0):.2f} | {r['load_s']:.3f} |")


def plot(data: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for mode, style in (("stress", "-"), ("revaluation", "--")):
        rows = [r for r in data["rows"] if r["mode"] == mode]
        n = [r["instruments"] for r in rows]
        ax.plot(n, [r["build_s"] for r in rows], "o" + style, color="C0", label=f"market build ({mode})")
        ax.plot(n, [r["audit_s"] for r in rows], "s" + style, color="C1", label=f"keeper audit ({mode})")
        ax.plot(n, [r["load_s"] for r in rows], "^" + style, color="C2", label=f"keeper load ({mode})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("instruments (2 underlyings, 16 scenarios)")
    ax.set_ylabel("seconds (median)")
    ax.set_title("Oracle build vs keeper audit")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if set(args) - {"--quick"}:
        raise SystemExit("usage: bench_oracle.py [--quick]")
    quick = "--quick" in args
    data = run(quick=quick, repeat=3)
    print_table(data)
    name = "oracle_quick" if quick else "oracle"
    RESULTS.mkdir(parents=True, exist_ok=True)
    atomic_write_text(RESULTS / f"{name}.json", json.dumps(data, indent=2) + "\n")
    plot(data, RESULTS / f"{name}.png")
    print(f"\nwritten {RESULTS / (name + '.json')} and {name}.png")


if __name__ == "__main__":
    main()
