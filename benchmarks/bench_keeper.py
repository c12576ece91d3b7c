"""Keeper verification throughput: py_ecc single vs batch, the native pool, whole-process verify.

    python benchmarks/bench_keeper.py            # the recorded run (a few minutes)
    python benchmarks/bench_keeper.py --quick    # small sizes (CI-sized, ~1 min)

Real proofs of the demo tier (``zksolv.prover.prove`` on four demo accounts, development keys from
the cache) are repeated to fill each batch: a batch of repeated proofs costs what a batch of
distinct ones does (every proof gets its own random coefficient and Miller loop). Measured:

- py_ecc **single**: :func:`zksolv.verifier.verify.verify` per proof with a prepared key (one
  multi-Miller loop and one final exponentiation each), and with the key parsed on every call;
- py_ecc **batch**: :func:`zksolv.verifier.verify.verify_many` at batch sizes 1..64;
- **native**: ``verify_many(backend="native")`` with a pool of 1 and 2 workers, up to 10,000 proofs;
- ``zksolv verify`` of one proof **as a whole process** (``--dev-key`` and ``--vk``).

Prints a table, writes ``benchmarks/results/keeper.json`` and plots proofs/s against batch
size (``keeper.png``). Figures are medians of ``--repeat`` runs.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from zksolv.core.atomic import atomic_write_text  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
ACCOUNTS = ("short_strangle", "covered_call", "delta_neutral", "calendar_spread")


def _median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, list[float]]:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), runs


def demo_proofs() -> tuple[Any, list[Any]]:
    """The demo market (stress) and one proof bundle per demo account in :data:`ACCOUNTS`."""
    from zksolv.prover.prove import prove
    from zksolv.app.demo import demo_market, demo_portfolios

    market = demo_market()
    books = demo_portfolios(market)
    return market, [prove(books[name], market) for name in ACCOUNTS]


def run(quick: bool = False, repeat: int = 3) -> dict[str, Any]:
    from zksolv.verifier import native
    from zksolv.verifier.verify import Submission, prepare_key, verify, verify_many

    market, bundles = demo_proofs()
    vk_json = bundles[0].verification_key
    key = prepare_key(vk_json)
    key.alpha_beta_miller()
    subs = [Submission(b.proof, b.public, int(b.public[0])) for b in bundles]

    def batch_of(n: int) -> list[Submission]:
        return [subs[i % len(subs)] for i in range(n)]

    assert all(v.valid for v in verify_many(batch_of(8), market, key)), "demo proofs must verify"
    rows: list[dict[str, Any]] = []

    single_n = 8 if quick else 16
    t, runs = _median_time(lambda: [verify(s.proof, s.public, market, key) for s in batch_of(single_n)], repeat)
    rows.append({"path": "py_ecc single (prepared key)", "proofs": single_n, "workers": 1, "seconds": t,
                 "proofs_per_second": single_n / t, "runs": runs})
    t, runs = _median_time(lambda: [verify(s.proof, s.public, market, vk_json) for s in batch_of(4)], repeat)
    rows.append({"path": "py_ecc single (key parsed per call)", "proofs": 4, "workers": 1, "seconds": t,
                 "proofs_per_second": 4 / t, "runs": runs})
    for n in (1, 2, 4, 8, 16) if quick else (1, 2, 4, 8, 16, 32, 64):
        t, runs = _median_time(lambda: verify_many(batch_of(n), market, key), repeat)
        rows.append({"path": "py_ecc batch", "proofs": n, "workers": 1, "seconds": t, "proofs_per_second": n / t,
                     "runs": runs})
    if native.available():
        for workers in (1, 2):
            for n in (100, 1000) if quick else (100, 1000, 10_000):
                t, runs = _median_time(
                    lambda: verify_many(batch_of(n), market, key, backend="native", workers=workers),
                    1 if n >= 10_000 else repeat)
                rows.append({"path": f"native ({workers} worker{'s' if workers > 1 else ''})", "proofs": n,
                             "workers": workers, "seconds": t, "proofs_per_second": n / t, "runs": runs})
    rows += whole_process(market, bundles[0], repeat=3 if quick else 5)
    single = rows[0]["proofs_per_second"]
    best_batch = max((r for r in rows if r["path"] == "py_ecc batch"), key=lambda r: r["proofs"])
    return {
        "meta": {"machine": f"{os.cpu_count()} cores", "python": sys.version.split()[0],
                 "load_average": os.getloadavg(), "repeat": repeat,
                 "proofs": "demo tier avsl_n4_u2_a4_k16_d4_stress, 4 accounts repeated"},
        "rows": rows,
        "batch_speedup": {"batch_size": best_batch["proofs"], "vs_single": best_batch["proofs_per_second"] / single},
    }


def whole_process(market: Any, bundle: Any, repeat: int) -> list[dict[str, Any]]:
    """``zksolv verify`` of one proof as a separate process (after one warm-up run)."""
    out = []
    with tempfile.TemporaryDirectory(prefix="zksolv-keeper-bench-") as tmp:
        folder, market_path = Path(tmp) / "proof", Path(tmp) / "market.json"
        bundle.save(folder)
        market.save(market_path)
        cli = [sys.executable, "-m", "zksolv", "verify", "--proof", str(folder), "--market", str(market_path)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for label, extra in (("--dev-key", ["--dev-key"]), ("--vk", ["--vk", str(folder / "verification_key.json")])):
            def once() -> None:
                proc = subprocess.run(cli + extra, capture_output=True, text=True, env=env, timeout=120)
                if proc.returncode != 0:
                    raise RuntimeError(f"zksolv verify failed: {proc.stderr.strip()}")

            once()  # warm-up: the Poseidon schedules land in the cache
            t, runs = _median_time(once, repeat)
            out.append({"path": f"zksolv verify, whole process ({label})", "proofs": 1, "workers": 1, "seconds": t,
                        "proofs_per_second": 1 / t, "runs": runs})
    return out


def print_table(data: dict[str, Any]) -> None:
    print(f"{'path':<44} {'proofs':>7} {'seconds':>9} {'proofs/s':>10}")
    for r in data["rows"]:
        print(f"{r['path']:<44} {r['proofs']:>7,} {r['seconds']:>9.3f} {r['proofs_per_second']:>10.1f}")
    s = data["batch_speedup"]
    print(f"\npy_ecc batch of {s['batch_size']}: {s['vs_single']:.1f}x the per-proof throughput of single checks")


def plot(data: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = data["rows"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    batch = [r for r in rows if r["path"] == "py_ecc batch"]
    ax.plot([r["proofs"] for r in batch], [r["proofs_per_second"] for r in batch], "o-", label="py_ecc batch (verify_many)")
    single = rows[0]["proofs_per_second"]
    ax.axhline(single, color="grey", ls="--", label=f"py_ecc single, prepared key ({single:.0f}/s)")
    for workers, style in ((1, "s-"), (2, "^-")):
        nat = [r for r in rows if r["path"].startswith("native") and r["workers"] == workers]
        if nat:
            ax.plot([r["proofs"] for r in nat], [r["proofs_per_second"] for r in nat], style,
                    label=f"native groth16py, {workers} worker{'s' if workers > 1 else ''}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("proofs per verify_many call (batch size)")
    ax.set_ylabel("proofs / s")
    ax.set_title("Keeper verification throughput (demo tier, 2 cores)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if set(args) - {"--quick"}:
        raise SystemExit("usage: bench_keeper.py [--quick]")
    quick = "--quick" in args
    data = run(quick=quick, repeat=2 if quick else 3)
    print_table(data)
    name = "keeper_quick" if quick else "keeper"
    RESULTS.mkdir(parents=True, exist_ok=True)
    atomic_write_text(RESULTS / f"{name}.json", json.dumps(data, indent=2) + "\n")
    plot(data, RESULTS / f"{name}.png")
    print(f"\nwritten {RESULTS / (name + '.json')} and {name}.png")


if __name__ == "__main__":
    main()
