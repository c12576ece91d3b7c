"""The naive baseline: zksolv's statement written the straightforward way, for the same portfolio.

What a first implementation would be (issue 14, item 4): the same statement with

* a **binary** Poseidon(2) instrument tree (zksolv: arity 8, a third of the depth),
* **one Poseidon(2) per position** in the account commitment chain (zksolv: one Poseidon(9)
  per block of 8, empty blocks skipped; balances keep zksolv's chain, A <= 8 is one block),
* node's witness calculator and the **snarkjs** prover (a fresh node process that reads the
  ``.zkey`` on every proof).

Everything else is zksolv's own circuit: the top template and the position slots are derived
from ``circuits/avsl_solvency.circom`` and ``circuits/positions.circom`` by swapping exactly
those components for the ones in ``benchmarks/baseline/naive.circom`` (each swap must match
once, so a changed circuit fails loudly here instead of measuring something else). Inputs are
zksolv's witness inputs with the binary paths, the binary root and the naive commitment
recomputed in Python.

snarkjs needs a ``.zkey`` from a prepared powers of tau; one is made from the cached local dev
powers of tau when the naive circuit fits ``2^--ptau-max-power`` (default 15). Larger points are
proven with arkworks (dev keys) and their snarkjs time is *estimated* from the snarkjs/arkworks
ratio measured on the largest point that fit (marked ``estimated``).

Output: ``results/baseline.json`` and ``results/baseline.md``; the README's speed-up line reads
``results/latency.json`` (``bench_latency.py``) for zksolv's side. Run::

    python benchmarks/bench_baseline.py                       # demo + m4096_n64
    python benchmarks/bench_baseline.py --points demo --repeat 3
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
for p in (ROOT, HERE):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from bench_latency import _point  # noqa: E402
from bench_proving import dev_ptau_cached, machine_info, ptau_power_for, stats  # noqa: E402

RESULTS = HERE / "results"
BASELINE = HERE / "baseline"

#: log2 of zksolv's tree arity: the naive binary tree is LOG times deeper.
LOG = 3

#: per source file in circuits/: (derived file, [(pattern, replacement), ...]); each pattern must
#: match exactly once, so a changed circuit fails loudly instead of measuring something else.
SWAPS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "avsl_solvency.circom": ("avsl_naive.circom", (
        (r"template AvslSolvency\(", "template AvslSolvencyNaive("),
        (r'include "positions\.circom";', 'include "positions_naive.circom";'),
        (r"\n    signal input cap\[[^\]]*\];", ""),
        (r"PositionSlots\(N, U, DEPTH, CAP, G\)", "PositionSlotsNaive(N, U, DEPTH)"),
        (r"\n    slots\.cap <== cap;", ""),
        (r"    if \(G == 0\) \{.*?\n    \}\n",
         f"    signal input leaf_index[N];\n    signal input path[N][{LOG} * DEPTH];\n"
         "    slots.leaf_index <== leaf_index;\n    slots.path <== path;\n"),
        (r"EntryChain\(N\)", "NaiveEntryChain(N)"),
    )),
    "positions.circom": ("positions_naive.circom", (
        (r"template PositionSlots\(N, U, DEPTH, CAP, G\)", "template PositionSlotsNaive(N, U, DEPTH)"),
        (r'include "account\.circom";', 'include "account.circom";\ninclude "naive.circom";'),
        (r"\n    signal input cap\[[^\]]*\];", ""),
        (r"    if \(G == 0\) \{.*?\n    \}\n",
         f"    signal input leaf_index[N];\n    signal input path[N][{LOG} * DEPTH];\n    component open[N];\n"
         "    for (var j = 0; j < N; j++) {\n"
         f"        open[j] = MerkleInclusion2({LOG} * DEPTH);\n        open[j].leaf <== opened[j];\n"
         "        open[j].index <== leaf_index[j];\n        open[j].path <== path[j];\n"
         "        open[j].root === instruments_root;\n    }\n"),
    )),
}
TOP_FILE = "avsl_solvency.circom"
TOP_TEMPLATE = "AvslSolvency"


def naive_main(tier: Any, build: Path) -> Path:
    """Write the naive sources and main for ``tier`` into ``build``; returns the main's path."""
    from zksolv.toolchain.circuitgen import circuits_dir, render_main
    from zksolv.core.fixedpoint import MERKLE_ARITY

    if 2**LOG != MERKLE_ARITY:
        raise RuntimeError(f"naive baseline: written for arity {2**LOG}, zksolv's tree has arity {MERKLE_ARITY}")
    build.mkdir(parents=True, exist_ok=True)
    for source, (derived, swaps) in SWAPS.items():
        text = (circuits_dir() / source).read_text()
        for pattern, replacement in swaps:
            text, n = re.subn(pattern, replacement, text, flags=re.DOTALL)
            if n != 1:
                raise RuntimeError(f"naive baseline: {pattern!r} matches {n} times in {source} (circuit changed?)")
        (build / derived).write_text("// generated by benchmarks/bench_baseline.py — benchmark only\n" + text)
    main = render_main(tier)
    for old, new in ((f'include "{TOP_FILE}";', f'include "{SWAPS[TOP_FILE][0]}";'),
                     (f"= {TOP_TEMPLATE}(", f"= {TOP_TEMPLATE}Naive(")):
        if main.count(old) != 1:
            raise RuntimeError(f"naive baseline: rendered main has no single {old!r}")
        main = main.replace(old, new)
    path = build / f"naive_{tier.name}.circom"
    path.write_text(main)
    return path


def _binary_levels(leaves: list[int], depth: int) -> list[list[int]]:
    from zksolv.core.poseidon import poseidon

    levels = [leaves + [0] * (2**depth - len(leaves))]
    for _ in range(depth):
        below = levels[-1]
        levels.append([poseidon([below[i], below[i + 1]]) for i in range(0, len(below), 2)])
    return levels


def naive_inputs(account: Any, market: Any, tier: Any) -> dict[str, Any]:
    """zksolv's inputs with the binary tree's paths and root, the per-position chain and the market root."""
    from zksolv.prover.witness import reference_inputs
    from zksolv.core import commitments, identity
    from zksolv.core.fixedpoint import FIELD_MODULUS as P
    from zksolv.core.poseidon import poseidon

    inputs, _ = reference_inputs(account, market, tier)
    del inputs["cap"]
    depth = LOG * tier.depth
    leaves = [commitments.instrument_leaf(i, ins) for i, ins in zip(market.instrument_ids, market.instruments)]
    levels = _binary_levels(leaves, depth)
    inputs["path"] = [[str(levels[lv][(int(idx) >> lv) ^ 1]) for lv in range(depth)] for idx in inputs["leaf_index"]]
    inputs["instruments_root"] = str(levels[depth][0])
    inputs["market_root"] = str(poseidon([market.epoch, commitments.params_hash(market), levels[depth][0],
                                          commitments.underlyings_hash(market), commitments.collateral_hash(market),
                                          commitments.symbols_hash(market)]))
    positions = 0
    for q, ident in zip(inputs["q"], inputs["instrument_id"]):
        entry = 0 if int(q) == 0 else (int(ident) * 2**identity.POSITION_ENTRY_SHIFT + int(q) + identity.QTY_OFFSET) % P
        positions = poseidon([positions, entry])
    balances = commitments.balances_hash(account.holdings(market)[1])
    inputs["account_commitment"] = str(commitments.commitment_of_hashes(int(inputs["salt"]), positions, balances))
    return inputs


def _node_witness_s(wasm: Path, inputs: dict[str, Any], out: Path, repeat: int) -> dict[str, Any]:
    from zksolv.toolchain import calculate_witness

    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        calculate_witness(wasm, inputs, out)
        times.append(time.perf_counter() - t)
    return stats(times)


def _snarkjs_prove_s(zkey: Path, wtns: Path, tmp: Path, repeat: int) -> dict[str, Any]:
    """``snarkjs groth16 prove`` as a whole node process (what a first implementation runs per proof)."""
    from zksolv import toolchain
    cli = toolchain.node_module_path(*toolchain.SNARKJS_CLI)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([toolchain.node_binary(), str(cli), "groth16", "prove", str(zkey), str(wtns),
                        str(tmp / "proof.json"), str(tmp / "public.json")], check=True, capture_output=True,
                       timeout=3600)
        times.append(time.perf_counter() - t)
    return stats(times)


def bench_point(name: str, repeat: int, ptau_max_power: int, work: Path) -> dict[str, Any]:
    """Compile the naive circuit of a named point, compute its witness and prove it."""
    market, account = _point(name)
    return bench_book(name, market, account, repeat, ptau_max_power, work)


def bench_book(name: str, market: Any, account: Any, repeat: int, ptau_max_power: int, work: Path) -> dict[str, Any]:
    """Compile the naive circuit of ``account`` on ``market`` (in the smallest tier holding it), compute its
    inputs (``inputs_python_s``: the binary tree and the naive commitment in Python) and witness, and prove it:
    snarkjs when a cached dev powers of tau fits, arkworks (dev keys) always (the estimate's base)."""
    from bench_proving import prove_in_child
    from zksolv.prover.prove import tier_for
    from zksolv import toolchain
    from zksolv.toolchain.artifacts import compile_tier
    from zksolv.toolchain.circuitgen import circuits_dir
    from zksolv.toolchain.trusted_setup import dev_setup, production_setup

    tier = tier_for(account, market)
    _hash, real = compile_tier(tier)
    main = naive_main(tier, work / "src")
    row: dict[str, Any] = {"point": name, "tier": tier.name, "instruments": len(market.instruments),
                           "positions": len(account.positions), "constraints_zksolv": real.n_constraints, "notes": []}
    circuit = toolchain.compile_cached(main, [circuits_dir(), BASELINE], extra_key=("naive-baseline",))
    row["constraints_naive"] = circuit.n_constraints
    t = time.perf_counter()
    inputs = naive_inputs(account, market, tier)
    row["inputs_python_s"] = round(time.perf_counter() - t, 3)
    wtns = work / f"{name}.wtns"
    row["witness_node_s"] = _node_witness_s(circuit.wasm, inputs, wtns, repeat)
    power = ptau_power_for(circuit.n_constraints, circuit.n_public)
    row["ptau_power"] = power
    ptau = next((dev_ptau_cached(p) for p in range(power, ptau_max_power + 1) if dev_ptau_cached(p)), None)
    if ptau is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            keys = production_setup(circuit, ptau)
        row["prove_snarkjs_s"] = _snarkjs_prove_s(keys.zkey, wtns, work, repeat)  # type: ignore[arg-type]
        row["notes"].append(f"snarkjs .zkey from a local dev powers of tau 2^{power}+ (benchmark only)")
    else:
        row["notes"].append(f"snarkjs not run: no cached dev powers of tau of 2^{power}..2^{ptau_max_power} "
                            "(zksolv.toolchain.trusted_setup.dev_powers_of_tau builds one: 2^15 takes ~25 min here, 2^17 did "
                            "not finish in 44 min); estimated from the snarkjs/arkworks ratio of a point that fit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dev = dev_setup(circuit)
    res = prove_in_child("arkworks", dev, wtns, repeat, work / "ark.json")
    row["prove_arkworks_s"] = res["prove_s"]
    row["key_load_arkworks_s"] = res["key_load_s"]
    row["peak_rss_arkworks_mib"] = res["peak_rss_mib"]
    return row


def run(points: list[str], repeat: int, ptau_max_power: int, out: Path | None = RESULTS) -> dict[str, Any]:
    """Every point; the snarkjs estimate for points too large for a local powers of tau; JSON + markdown."""
    from zksolv.core.atomic import atomic_write_text

    started = time.perf_counter()
    result: dict[str, Any] = {"benchmark": "naive baseline (binary tree, Poseidon per position, node + snarkjs)",
                              "machine": machine_info(), "repeat": repeat, "points": []}
    with tempfile.TemporaryDirectory(prefix="zksolv-baseline-") as tmp:
        for name in points:
            print(f"[{time.perf_counter() - started:5.0f} s] {name}", file=sys.stderr, flush=True)
            result["points"].append(bench_point(name, repeat, ptau_max_power, Path(tmp) / name))
    measured = [r for r in result["points"] if "prove_snarkjs_s" in r]
    if measured:
        ref = max(measured, key=lambda r: r["constraints_naive"])
        ratio = ref["prove_snarkjs_s"]["median"] / ref["prove_arkworks_s"]["median"]
        for r in result["points"]:
            if "prove_snarkjs_s" not in r:
                r["prove_snarkjs_estimated_s"] = round(r["prove_arkworks_s"]["median"] * ratio, 2)
                r["snarkjs_ratio_from"] = ref["point"]
    result["machine"]["loadavg_end"] = __import__("os").getloadavg()
    result["duration_s"] = round(time.perf_counter() - started, 1)
    result["table_md"] = table_md(result["points"])
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "baseline.json", json.dumps(result, indent=1, default=str) + "\n")
        atomic_write_text(out / "baseline.md", result["table_md"] + "\n")
    return result


def naive_total_s(row: dict[str, Any], reference_s: float) -> float:
    """A first implementation's ``prove`` as a whole: Python reference + node witness + snarkjs process."""
    snark = row["prove_snarkjs_s"]["median"] if "prove_snarkjs_s" in row else row["prove_snarkjs_estimated_s"]
    return reference_s + row["witness_node_s"]["median"] + snark


def table_md(rows: list[dict[str, Any]]) -> str:
    head = ("| point | instr. | pos. | constraints zksolv | constraints naive | naive/zksolv | witness node s "
            "| prove snarkjs s | prove arkworks s (same naive circuit) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        snark = (f"{r['prove_snarkjs_s']['median']:.2f}" if "prove_snarkjs_s" in r
                 else f"≈ {r['prove_snarkjs_estimated_s']:.1f} (estimated)" if "prove_snarkjs_estimated_s" in r else "–")
        lines.append("| " + " | ".join([
            r["point"], f"{r['instruments']:,}", str(r["positions"]), f"{r['constraints_zksolv']:,}",
            f"{r['constraints_naive']:,}", f"{r['constraints_naive'] / r['constraints_zksolv']:.2f}x",
            f"{r['witness_node_s']['median']:.2f}", snark, f"{r['prove_arkworks_s']['median']:.2f}",
        ]) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", default="demo,m4096_n64")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ptau-max-power", type=int, default=15)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    res = run([p for p in args.points.split(",") if p], args.repeat, args.ptau_max_power, args.out)
    print(res["table_md"])
    for r in res["points"]:
        for note in r["notes"]:
            print(f"  {r['point']}: {note}")
    print(f"duration {res['duration_s']} s")
    return res


if __name__ == "__main__":
    main()
