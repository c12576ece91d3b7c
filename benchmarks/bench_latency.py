"""What a trader waits for: ``zksolv prove`` as a whole process, warm cache, per configuration.

Points (``--points``; re-run after a circuit change, the tiers rebuild through the cache):

* ``demo``: the demo market (152 instruments, stress) and its ``short_strangle`` account, the
  account ``zksolv demo`` proves (4-position tier);
* ``m4096_n64``: a 4,096-instrument stress market (the demo chain gives 2,784 instruments: tree
  depth 6, the same circuit as any 1,025–4,096-instrument market) and a 64-position book;
* ``m64_n64``: a 64-instrument market and a 64-position book (the README's largest row).

Configurations, each a fresh ``zksolv prove --json`` process timed from spawn to exit:

* ``before``: node witness (``--witness node``), proving key loaded in the process
  (``--resident off``) — the pipeline before issue 14;
* ``in-process``: wasmtime witness, key loaded in the process;
* ``resident``: wasmtime witness, proof by the resident prover (started and warmed with one
  proof first), so no key load;
* ``resident, 2 x 32`` (points of more than 16 positions, whose tier is 64): the same book as
  2 chunks of 32 and the final proof (``--chunk-size 32``), proven side by side by the resident
  prover's two workers: a groth16py proof uses one core, so one 64-position proof leaves the
  second idle. The keeper then checks 3 proofs instead of 1, and the on-chain registry takes
  one-circuit proofs only: a trader's choice, not the default.

Also per point: the key alone (``groth16py.ProvingKey.load`` in a fresh interpreter, with the
file's size and sha256 time) and the witness alone in a fresh interpreter, node vs wasmtime.
Each step's time comes from the CLI's own ``seconds``; "start-up" is the rest of the wall time
(interpreter, imports, argument parsing, writing the bundle).

Output: a table on stdout, ``results/latency.json``, ``results/latency.md`` and
``results/latency.png`` (stacked steps per point and configuration). Run::

    python benchmarks/bench_latency.py                       # demo + m4096_n64, 3 runs each
    python benchmarks/bench_latency.py --points demo --repeat 5
    python benchmarks/bench_latency.py --replot benchmarks/results/latency.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_proving import account_for, machine_info, market_for, save_figure, stats  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
CONFIGS = {
    "before": ["--resident", "off", "--witness", "node"],
    "in-process": ["--resident", "off", "--witness", "wasmtime"],
    "resident": ["--resident", "require", "--witness", "wasmtime"],
}
#: The same book as 2 chunks of 32 and the final proof on the resident prover's workers.
SPLIT_CONFIG = "resident, 2 x 32"
CONFIGS[SPLIT_CONFIG] = CONFIGS["resident"] + ["--chunk-size", "32"]
#: Configurations that prove on the resident prover (started before, stopped after).
RESIDENT_CONFIGS = ("resident", SPLIT_CONFIG)
STEP_NAMES = {"checking the account": "reference check", "compiling circuit": "cache lookup",
              "computing the witness": "witness", "proving with": "prove (+ key load in-process)",
              "proving ": "witnesses + proofs (chunked)"}
TARGETS = {"demo": 2.0, "m4096_n64": 5.0}


def _point(name: str) -> tuple[Any, Any]:
    """``(market, account)`` of a named point."""
    from zksolv.app.demo import demo_market, demo_portfolios

    if name == "demo":
        market = demo_market()
        return market, demo_portfolios(market)["short_strangle"]
    if name.startswith("m") and "_n" in name:
        instruments, positions = (int(x) for x in name[1:].split("_n"))
        market = market_for("stress", instruments)
        return market, account_for(market, positions)
    raise SystemExit(f"unknown point {name!r}: demo or m<instruments>_n<positions>")


def _cli(args: list[str], env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    """Run ``zksolv <args> --json``; wall seconds from spawn to exit and the parsed output."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "zksolv", *args, "--json"], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=3600)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"zksolv {args[0]} failed ({proc.returncode}): {proc.stderr.strip()[-600:]}")
    return wall, json.loads(proc.stdout)


def _steps(seconds: dict[str, float], wall: float) -> dict[str, float]:
    """The CLI's step timings under short names, plus start-up (the rest of the wall time)."""
    out: dict[str, float] = {}
    for label, value in seconds.items():
        key = next((short for prefix, short in STEP_NAMES.items() if label.startswith(prefix)), label)
        out[key] = out.get(key, 0.0) + value
    out["start-up + I/O"] = max(0.0, wall - sum(out.values()))
    return out


def _fresh(code: str, *args: str) -> float:
    """Run ``code`` in a fresh interpreter; it prints seconds last (first number of the last line)."""
    return _fresh_values(code, *args)[0]


def _fresh_values(code: str, *args: str) -> list[float]:
    """Run ``code`` in a fresh interpreter; the numbers on the last line it prints."""
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", code, *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip()[-600:])
    return [float(x) for x in proc.stdout.strip().splitlines()[-1].split()]


#: ``<wall> <user CPU>`` seconds of one key load (``ark``: ProvingKey.load, ``zkey``: import_zkey).
_LOAD_KIND = ("import sys, time, resource, groth16py; r = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_utime; "
              "u, t = r(), time.perf_counter(); "
              "groth16py.ProvingKey.load(sys.argv[1]) if sys.argv[2] == 'ark' else groth16py.import_zkey(sys.argv[1]); "
              "print(time.perf_counter() - t, r() - u)")
_LOAD = ("import sys, time, groth16py; t = time.perf_counter(); groth16py.ProvingKey.load(sys.argv[1]); "
         "print(time.perf_counter() - t)")
_RESAVE = "import sys, groth16py; groth16py.import_zkey(sys.argv[1])[0].save(sys.argv[2]); print(0)"


def key_formats(circuit: Any, dev_key: Path, repeat: int, work: Path, max_power: int = 15) -> dict[str, Any] | None:
    """Where a key load goes: the dev key (``ProvingKey.load``), the same circuit's snarkjs ``.zkey``
    (``import_zkey``) and that ceremony key saved by groth16py and loaded back (``ProvingKey.load``).

    Needs a cached local dev powers of tau that fits (``None`` otherwise)."""
    from bench_proving import dev_ptau_cached, ptau_power_for
    from zksolv.toolchain.trusted_setup import production_setup

    power = ptau_power_for(circuit.n_constraints, circuit.n_public)
    ptau = next((dev_ptau_cached(p) for p in range(power, max_power + 1) if dev_ptau_cached(p)), None)
    if ptau is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zkey = Path(production_setup(circuit, ptau).zkey)  # type: ignore[arg-type]
    resaved = work / "imported.ark"
    _fresh_values(_RESAVE, str(zkey), str(resaved))
    out: dict[str, Any] = {}
    for label, path, kind in (("dev key, ProvingKey.load", dev_key, "ark"), ("snarkjs .zkey, import_zkey", zkey, "zkey"),
                              (".zkey saved by groth16py, ProvingKey.load", resaved, "ark")):
        runs = [_fresh_values(_LOAD_KIND, str(path), kind) for _ in range(repeat)]
        out[label] = {"mb": round(path.stat().st_size / 1e6, 1), "wall_s": stats([r[0] for r in runs]),
                      "user_cpu_s": stats([r[1] for r in runs])}
    resaved.unlink()
    return out
_HASH = ("import sys, time; from zksolv.toolchain.cache import file_sha256; t = time.perf_counter(); file_sha256(sys.argv[1]); "
         "print(time.perf_counter() - t)")
_WITNESS = ("import sys, json, time; from pathlib import Path; from zksolv.prover.witness_wasm import calculate_witness; "
            "inputs = json.loads(Path(sys.argv[2]).read_text()); t = time.perf_counter(); "
            "calculate_witness(Path(sys.argv[1]), inputs, Path(sys.argv[3]), engine=sys.argv[4]); "
            "print(time.perf_counter() - t)")


def bench_point(name: str, repeat: int, work: Path, progress: Callable[[str], None]) -> dict[str, Any]:
    """Every configuration of one point."""
    from zksolv.prover import daemon
    from zksolv.prover.prove import tier_for
    from zksolv.prover.witness import reference_inputs
    from zksolv.toolchain.artifacts import build_artifacts
    from zksolv.toolchain import _jsonable_inputs

    market, account = _point(name)
    d = work / name
    d.mkdir(parents=True, exist_ok=True)
    market.save(d / "market.json")
    account.save(d / "account.json")
    tier = tier_for(account, market)
    progress(f"{name}: compile + setup of {tier.name} (cached)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        artifacts = build_artifacts(tier)
        build_s = time.perf_counter() - started
    key = Path(artifacts.keys.arkworks_pk)  # type: ignore[arg-type]
    row: dict[str, Any] = {"point": name, "tier": tier.name, "instruments": len(market.instruments),
                           "positions": len(account.positions), "constraints": artifacts.circuit.n_constraints,
                           "wires": artifacts.circuit.n_wires, "key_mb": round(key.stat().st_size / 1e6, 1),
                           "artifacts_s": round(build_s, 1), "configs": {}}
    sock = d / "run" / "prover.sock"
    env = {**os.environ, daemon.SOCKET_ENV: str(sock), "PYTHONPATH": str(ROOT)}
    args = ["prove", "--account", str(d / "account.json"), "--market", str(d / "market.json"), "--out", str(d / "proof")]

    progress(f"{name}: warm-up (compiled witness module into the cache)")
    _cli(args + CONFIGS["in-process"], env)
    inputs, _ = reference_inputs(account, market, tier)
    (d / "inputs.json").write_text(json.dumps(_jsonable_inputs(inputs)))
    for engine in ("node", "wasmtime"):
        progress(f"{name}: witness alone, {engine}")
        row[f"witness_{engine}_s"] = stats([_fresh(_WITNESS, str(artifacts.circuit.wasm), str(d / "inputs.json"),
                                                   str(d / "w.wtns"), engine) for _ in range(repeat)])
    (d / "inputs.json").unlink()
    (d / "w.wtns").unlink(missing_ok=True)
    progress(f"{name}: key load alone")
    row["key_load_s"] = stats([_fresh(_LOAD, str(key)) for _ in range(repeat)])
    row["key_sha256_s"] = stats([_fresh(_HASH, str(key)) for _ in range(repeat)])
    progress(f"{name}: key formats (where a snarkjs key of this circuit can be made)")
    row["key_formats"] = key_formats(artifacts.circuit, key, repeat, d)

    for config, extra in CONFIGS.items():
        if "--chunk-size" in extra and len(account.positions) <= 16:
            continue  # a book of a smaller tier: one circuit is the fast way
        if config in RESIDENT_CONFIGS:
            progress(f"{name}: starting the resident prover")
            daemon.start(path=sock)
            _cli(args + extra, env)  # the first proof loads the key
        try:
            walls, steps = [], []
            for i in range(repeat):
                progress(f"{name}: zksolv prove, {config} ({i + 1}/{repeat})")
                wall, out = _cli(args + extra, env)
                walls.append(wall)
                steps.append(_steps(out["seconds"], wall))
        finally:
            if config in RESIDENT_CONFIGS:
                daemon.stop(path=sock)
        row["configs"][config] = {"wall_s": stats(walls),
                                  "steps_s": {k: statistics.median(s[k] for s in steps) for k in steps[0]}}
    return row


def table_md(rows: list[dict[str, Any]]) -> str:
    """One line per point: whole-process medians per configuration, key load and witness alone."""
    head = ("| point | instr. | pos. | constraints | key MB | key load s | witness node / wasmtime s "
            "| `zksolv prove` before s | in-process s | resident s | resident, 2 x 32 s | target s | speed-up |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        c = r["configs"]
        before = c["before"]["wall_s"]["median"]
        best = min(x["wall_s"]["median"] for k, x in c.items() if k in RESIDENT_CONFIGS)
        lines.append("| " + " | ".join([
            r["point"], f"{r['instruments']:,}", str(r["positions"]), f"{r['constraints']:,}", str(r["key_mb"]),
            f"{r['key_load_s']['median']:.2f}",
            f"{r['witness_node_s']['median']:.2f} / {r['witness_wasmtime_s']['median']:.2f}",
            _spread(c["before"]["wall_s"]), _spread(c["in-process"]["wall_s"]), _spread(c["resident"]["wall_s"]),
            _spread(c[SPLIT_CONFIG]["wall_s"]) if SPLIT_CONFIG in c else "–",
            f"{TARGETS[r['point']]:.0f}" if r["point"] in TARGETS else "–", f"{before / best:.1f}x",
        ]) + " |")
    formats = [(r["point"], label, f) for r in rows for label, f in (r.get("key_formats") or {}).items()]
    if formats:
        lines += ["", "Key loading, fresh process (medians):", "", "| point | key | MB | wall s | user CPU s |",
                  "|---|---|---|---|---|"]
        lines += [f"| {p} | {label} | {f['mb']} | {f['wall_s']['median']:.3f} | {f['user_cpu_s']['median']:.3f} |"
                  for p, label, f in formats]
    lines += ["", "Steps (medians, seconds):", "",
              "| point | configuration | " + " | ".join(_step_keys(rows)) + " | total |",
              "|---|---|" + "---|" * (len(_step_keys(rows)) + 1)]
    for r in rows:
        for config, c in r["configs"].items():
            lines.append(f"| {r['point']} | {config} | " + " | ".join(f"{c['steps_s'].get(k, 0.0):.2f}"
                                                                     for k in _step_keys(rows))
                         + f" | {c['wall_s']['median']:.2f} |")
    return "\n".join(lines)


def _spread(x: dict[str, Any]) -> str:
    return f"{x['median']:.2f} ({x['min']:.2f}–{x['max']:.2f})"


def _step_keys(rows: list[dict[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for r in rows:
        for c in r["configs"].values():
            keys.update(dict.fromkeys(c["steps_s"]))
    return list(keys)


def plot(rows: list[dict[str, Any]], out: Path, name: str = "latency") -> list[str]:
    """Stacked bars: the steps of ``zksolv prove`` per point and configuration (PNG + SVG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = _step_keys(rows)
    fig, axes = plt.subplots(1, len(rows), figsize=(max(7.0, 4.6 * len(rows)), 5.6), dpi=110, squeeze=False)
    colours = dict(zip(keys, plt.get_cmap("tab10").colors))
    for ax, r in zip(axes[0], rows):
        configs = list(r["configs"])
        bottom = [0.0] * len(configs)
        for k in keys:
            vals = [r["configs"][c]["steps_s"].get(k, 0.0) for c in configs]
            ax.bar(configs, vals, bottom=bottom, color=colours[k], label=k)
            bottom = [b + v for b, v in zip(bottom, vals)]
        for i, c in enumerate(configs):
            ax.text(i, bottom[i], f"{r['configs'][c]['wall_s']['median']:.1f} s", ha="center", va="bottom", fontsize=8)
        if r["point"] in TARGETS:
            ax.axhline(TARGETS[r["point"]], color="black", linestyle=":", linewidth=1, label="target")
        ax.set_title(f"{r['point']}: {r['instruments']:,} instr., {r['positions']} pos.\n"
                     f"{r['constraints']:,} constraints, key {r['key_mb']} MB", fontsize=9)
        ax.set_ylabel("seconds, whole process (median)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle("zksolv prove as a whole process, warm cache\n(before: node witness and key load in every process; resident: key kept loaded)", fontsize=10)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return save_figure(fig, out, name)


def run(points: list[str], repeat: int, out: Path | None = RESULTS, label: str = "latency") -> dict[str, Any]:
    """Measure every point; write JSON, markdown and plots into ``out`` (unless None)."""
    from zksolv.core.atomic import atomic_write_text

    started = time.perf_counter()
    result: dict[str, Any] = {"benchmark": "zksolv prove as a whole process (warm cache)", "machine": machine_info(),
                              "repeat": repeat, "points": []}

    def progress(text: str) -> None:
        sys.stderr.write(f"\r[{time.perf_counter() - started:6.0f} s] {text[:90]:<90}")
        sys.stderr.flush()

    with tempfile.TemporaryDirectory(prefix="zksolv-latency-") as tmp:
        for name in points:
            result["points"].append(bench_point(name, repeat, Path(tmp), progress))
    sys.stderr.write("\n")
    result["machine"]["loadavg_end"] = os.getloadavg()
    result["duration_s"] = round(time.perf_counter() - started, 1)
    result["table_md"] = table_md(result["points"])
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / f"{label}.json", json.dumps(result, indent=1, default=str) + "\n")
        atomic_write_text(out / f"{label}.md", result["table_md"] + "\n")
        result["files"] = [str(out / f"{label}.json"), str(out / f"{label}.md"), *plot(result["points"], out, label)]
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", default="demo,m4096_n64", help="comma list: demo, m<instruments>_n<positions>")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--label", default="latency")
    ap.add_argument("--replot", type=Path, default=None, metavar="JSON")
    args = ap.parse_args(argv)
    if args.replot is not None:
        res = json.loads(args.replot.read_text())
        print("wrote", ", ".join(plot(res["points"], args.replot.parent, args.replot.stem)))
        return res
    res = run([p for p in args.points.split(",") if p], args.repeat, args.out, args.label)
    print(res["table_md"])
    print(f"duration {res['duration_s']} s; load average {res['machine']['loadavg_start']} -> "
          f"{res['machine']['loadavg_end']}; wrote {', '.join(res.get('files', []))}")
    return res


if __name__ == "__main__":
    main()
