"""Reference margin computation: pure Python (exact integers) vs numpy vs numba for large books.

The circuit's reference is :func:`zksolv.risk.model.evaluate` (exact integer fixed point, capped at
``MAX_POSITIONS`` = 1,024 positions). Its cost for big books is the net-greeks aggregation
(``model.aggregate``) plus the stress losses and margin (``model.scenario_losses`` +
``model.stress_margin``). This benchmark times that same computation for books of 1k .. 100k
positions (slots may repeat instruments: aggregation is linear) with

* ``python``: the model's own integer functions (for 1,024 positions also the whole ``evaluate``);
* ``numpy``: float64, ``np.bincount`` per underlying, vectorised losses;
* ``numba``: float64, one ``@njit`` loop over positions.

The float versions are compared with the exact integers: relative difference of the net
greeks and of the stress margin ``mm`` (micro-USD). Floats are fine for risk reporting, not
for the proof: the prover always uses the exact integers.

Run: ``python benchmarks/bench_model.py [--sizes 1000,10000,100000] [--repeat 5]``;
writes ``benchmarks/results/model.json`` and ``model.{png,svg}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from zksolv.core import fixedpoint as fp  # noqa: E402
from zksolv.risk import model  # noqa: E402
from zksolv.core.fixedpoint import ceil_div  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = [1_000, 10_000, 100_000]


def best_time(fn: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


# ----------------------------------------------------------------------------- implementations
def python_margin(market: Any, slots: list[tuple[int, int]]) -> tuple[model.Greeks, int]:
    """Exact: the model's own aggregate + scenario_losses + stress_margin; returns (greeks, mm)."""
    greeks = model.aggregate(market, slots)
    mm_raw, _ = model.stress_margin(model.scenario_losses(market, greeks))
    return greeks, ceil_div(mm_raw, fp.MM_DIVISOR)


def tables(market: Any) -> dict[str, np.ndarray]:
    """Per-instrument float tables and per-underlying scenario moves (built once per market)."""
    ins = market.instruments
    moves = np.array(market.price_moves(), dtype=np.float64)  # (U, K)
    shocks = np.array(market.params.scenarios.vol_shocks, dtype=np.float64)  # (U, K)
    return {
        "und": np.array([i.underlying for i in ins], dtype=np.int64),
        "delta": np.array([i.delta for i in ins], dtype=np.float64),
        "gamma": np.array([i.gamma for i in ins], dtype=np.float64),
        "vega": np.array([i.vega for i in ins], dtype=np.float64),
        "mark": np.array([i.mark for i in ins], dtype=np.float64),
        "moves": moves,
        "shocks": shocks,
    }


def _losses_mm(D: np.ndarray, G: np.ndarray, V: np.ndarray, t: dict[str, np.ndarray]) -> float:
    ds, dsig = t["moves"], t["shocks"]
    losses = -(2.0 * fp.DELTA_LOSS_FACTOR * D[:, None] * ds + G[:, None] * ds * ds
               + 2.0 * fp.VEGA_LOSS_FACTOR * V[:, None] * dsig)
    mm_raw = np.maximum(losses.max(axis=1), 0.0).sum()
    return float(np.ceil(mm_raw / fp.MM_DIVISOR))


def numpy_margin(idx: np.ndarray, q: np.ndarray, t: dict[str, np.ndarray], n_u: int) -> tuple[np.ndarray, float]:
    u = t["und"][idx]
    qf = q.astype(np.float64)
    D = np.bincount(u, weights=qf * t["delta"][idx], minlength=n_u)
    G = np.bincount(u, weights=qf * t["gamma"][idx], minlength=n_u)
    V = np.bincount(u, weights=qf * t["vega"][idx], minlength=n_u)
    value = float(qf @ t["mark"][idx])
    return np.concatenate([D, G, V, [value]]), _losses_mm(D, G, V, t)


def _numba_kernel() -> Callable[..., Any]:
    import numba

    @numba.njit(cache=True)
    def agg(idx, q, und, delta, gamma, vega, mark, n_u):  # noqa: ANN001, ANN202
        out = np.zeros(3 * n_u + 1)
        for j in range(idx.shape[0]):
            i = idx[j]
            qj = float(q[j])
            u = und[i]
            out[u] += qj * delta[i]
            out[n_u + u] += qj * gamma[i]
            out[2 * n_u + u] += qj * vega[i]
            out[3 * n_u] += qj * mark[i]
        return out

    return agg


def numba_margin(kernel: Any, idx: np.ndarray, q: np.ndarray, t: dict[str, np.ndarray], n_u: int) -> tuple[np.ndarray, float]:
    out = kernel(idx, q, t["und"], t["delta"], t["gamma"], t["vega"], t["mark"], n_u)
    return out, _losses_mm(out[:n_u], out[n_u:2 * n_u], out[2 * n_u:3 * n_u], t)


# ----------------------------------------------------------------------------- run
def book(market: Any, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random slots (instrument index, signed quantity at QTY_SCALE; 0.1 .. 10 units)."""
    rng = np.random.default_rng([seed, n])
    idx = rng.integers(0, len(market.instruments), size=n).astype(np.int64)
    q = (rng.uniform(0.1, 10.0, n) * rng.choice([-1, 1], n) * fp.QTY_SCALE).round().astype(np.int64)
    return idx, q


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1.0)


def run(sizes: list[int] | None = None, repeat: int = 5, out: Path | None = RESULTS, n_instruments: int = 4096,
        plots: bool = True) -> dict[str, Any]:
    from zksolv.app.demo import demo_market

    sizes = sizes or SIZES
    market = demo_market(risk_mode="stress", n_strikes=max(1, (n_instruments // 2 - 4) // 4), n_expiries=2)
    t = tables(market)
    n_u = len(market.underlyings)
    t0 = time.perf_counter()
    kernel = _numba_kernel()
    i0, q0 = book(market, 8)
    numba_margin(kernel, i0, q0, t, n_u)
    compile_s = time.perf_counter() - t0
    rows = []
    print(f"{'positions':>10} {'python ms':>10} {'numpy ms':>9} {'numba ms':>9} {'py/numpy':>9} {'py/numba':>9}"
          f" {'max rel greeks':>15} {'mm diff (uUSD)':>15}")
    for n in sizes:
        idx, q = book(market, n)
        slots = list(zip(idx.tolist(), q.tolist()))
        t_py = best_time(lambda: python_margin(market, slots), max(1, repeat // 2))
        t_np = best_time(lambda: numpy_margin(idx, q, t, n_u), repeat)
        t_nb = best_time(lambda: numba_margin(kernel, idx, q, t, n_u), repeat)
        greeks, mm = python_margin(market, slots)
        exact = [*greeks.Delta, *greeks.Gamma, *greeks.Vega, greeks.position_value]
        agree = {}
        for name, (vec, mmf) in (("numpy", numpy_margin(idx, q, t, n_u)), ("numba", numba_margin(kernel, idx, q, t, n_u))):
            agree[name] = {"max_rel_greeks": max(rel(float(v), float(e)) for v, e in zip(vec, exact)),
                           "mm_abs_diff_musd": abs(mmf - mm), "mm_rel_diff": rel(mmf, mm)}
        row: dict[str, Any] = {"positions": n, "python_s": t_py, "numpy_s": t_np, "numba_s": t_nb,
                               "speedup_numpy": t_py / t_np, "speedup_numba": t_py / t_nb, "mm_exact_musd": mm,
                               "agreement": agree}
        if n <= fp.MAX_POSITIONS:  # the full reference, as the prover calls it (distinct instruments needed)
            from zksolv.core.account import Account, Position

            sel = np.random.default_rng(n).choice(len(market.instruments), size=n, replace=False)
            acct = Account(tuple(Position(market.instruments[int(i)].symbol, int(qq)) for i, qq in zip(sel, q[:n])),
                           {"USDC": 4_000_000_000 * fp.QTY_SCALE}, 1)
            s2, b2 = acct.position_slots(market), acct.balances(market)
            row["evaluate_s"] = best_time(lambda: model.evaluate(market, s2, b2), max(1, repeat // 2))
            res = model.evaluate(market, s2, b2)
            greeks2, mm2 = python_margin(market, s2)
            row["evaluate_matches_python"] = (res.greeks == greeks2 and res.mm == mm2)
        rows.append(row)
        worst = max(a["max_rel_greeks"] for a in agree.values())
        mmd = max(a["mm_abs_diff_musd"] for a in agree.values())
        print(f"{n:>10} {t_py * 1e3:>10.2f} {t_np * 1e3:>9.3f} {t_nb * 1e3:>9.3f} {t_py / t_np:>9.0f} {t_py / t_nb:>9.0f}"
              f" {worst:>15.2e} {mmd:>15.0f}")
    print(f"numba compile/cache-load: {compile_s:.2f} s")
    result = {
        "benchmark": "reference margin: net greeks + stress losses + margin (stress mode)",
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
                    "loadavg": os.getloadavg()},
        "instruments": len(market.instruments), "scenarios": market.shape[2], "numba_compile_s": compile_s,
        "numpy": np.__version__, "numba": __import__("numba").__version__, "rows": rows,
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        from zksolv.core.atomic import atomic_write_text

        atomic_write_text(out / "model.json", json.dumps(result, indent=1) + "\n")
        if plots:
            plot(rows, out)
    return result


def plot(rows: list[dict[str, Any]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for key, label, style in (("python_s", "pure Python (exact ints)", "o-"), ("numpy_s", "numpy (float64)", "s-"),
                              ("numba_s", "numba @njit (float64)", "^-")):
        ax.loglog([r["positions"] for r in rows], [r[key] * 1e3 for r in rows], style, label=label)
    ax.set_xlabel("positions in the book")
    ax.set_ylabel("time (ms, best of N)")
    ax.set_title("Net greeks + stress margin")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    for ext in ("png", "svg"):
        path = out / f"model.{ext}"
        tmp = path.with_name("model.tmp." + ext)
        fig.savefig(tmp)
        os.replace(tmp, path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    return run([int(x) for x in args.sizes.split(",")], args.repeat, args.out)


if __name__ == "__main__":
    main()
