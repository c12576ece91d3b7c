"""Probe for issue 27 (the price of size privacy): does an empty padding chunk prove faster than a full one?

Builds the benchmark market (``bench_chunked._market``, ~4,096 instruments) and a solvent account of 64
distinct positions (``bench_proving.account_for``), plans it in chunks of 64 padded to 2 chunks
(``zksolv.prover.chunks.plan_chunks(n_chunks=2)``: chunk 0 full, chunk 1 empty padding), computes each
chunk's witness with the project's ``task_witness`` and times the project's own proving call
(``get_backend(name).prove(keys, wtns)``, what ``prove_task`` / the local pool run per chunk; the
resident prover calls the same ``groth16py.prove_wtns``), alternating the order. Also reports the
fraction of zero witness values and the constraint and wire counts.

    RAYON_NUM_THREADS=1 python benchmarks/probe_padding_chunk.py --repeats 3
    python benchmarks/probe_padding_chunk.py --backend snarkjs   # needs a snarkjs-route .zkey (--ptau)

Prints one JSON object. Only timing: nothing is written besides the cached circuit and keys.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def zero_stats(witness: list[int], n_public: int) -> dict[str, Any]:
    """Zero and one counts of a witness (wire 0 is the constant 1; the public signals follow it)."""
    private = witness[1 + n_public :]
    return {"wires": len(witness), "zero": sum(1 for v in witness if v == 0),
            "zero_fraction": round(sum(1 for v in witness if v == 0) / len(witness), 4),
            "one_fraction": round(sum(1 for v in witness if v == 1) / len(witness), 4),
            "small_fraction_lt_2_64": round(sum(1 for v in witness if 0 < v < 2**64) / len(witness), 4),
            "private_zero_fraction": round(sum(1 for v in private if v == 0) / len(private), 4)}


def wnaf_nonzero_digits(scalar: int, c: int, num_bits: int = 254) -> int:
    """Non-zero digits of ``scalar`` in arkworks 0.5's signed-window form (``make_digits``, window ``c``):
    the point additions ``msm_bigint_wnaf`` spends on it (a zero digit is skipped)."""
    radix, carry, n, count = 1 << c, 0, (num_bits + c - 1) // c, 0
    for i in range(n):
        coef = carry + ((scalar >> (i * c)) & (radix - 1))
        carry = (coef + radix // 2) >> c
        digit = coef - (carry << c)
        if i == n - 1:
            digit += carry << c
        count += digit != 0
    return count


def msm_window(size: int) -> int:
    """arkworks' window ``c`` for an MSM of ``size`` points: ``ln_without_floats(size) + 2`` (3 below 32)."""
    return 3 if size < 32 else (max(size - 1, 1).bit_length() * 69) // 100 + 2


def msm_model(r1cs: Any, witness: list[int]) -> dict[str, Any]:
    """Point additions of the witness-dependent MSMs (A, B1, B2 over wires in an A / B row; L over
    the private wires), counting wNAF digits as arkworks 0.5 does, plus each MSM's fixed bucket cost
    (2 * 2^c additions per window). G2 additions are counted x3 (Fq2 arithmetic). h is not included:
    its scalars are the quotient's coefficients (dense, ~20 additions each, whatever the witness)."""
    in_a, in_b = set(), set()
    for a, b, _c in r1cs.constraints:
        in_a.update(w for w, _ in a)
        in_b.update(w for w, _ in b)
    n_pub = r1cs.n_public
    in_a.update(range(1, 1 + n_pub))  # ark's LibsnarkReduction adds one A row per public input
    c = msm_window(len(witness) - 1)
    digits = [wnaf_nonzero_digits(v, c) for v in witness]
    windows, bucket = (254 + c - 1) // c, 2 * (1 << c)
    out = {"c": c, "digits_dense": windows, "wires_in_A": len(in_a), "wires_in_B": len(in_b)}
    out["A"] = sum(digits[w] for w in in_a if w) + windows * bucket
    out["B1"] = sum(digits[w] for w in in_b if w) + windows * bucket
    out["B2_x3"] = 3 * out["B1"]
    out["L"] = sum(digits[1 + n_pub :]) + windows * bucket
    domain = 1 << (r1cs.n_constraints + n_pub + 1 - 1).bit_length()
    out["h_dense"] = (domain - 1) * windows + windows * bucket
    out["total"] = out["A"] + out["B1"] + out["B2_x3"] + out["L"] + out["h_dense"]
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instruments", type=int, default=4096)
    ap.add_argument("--positions", type=int, default=64)
    ap.add_argument("--chunk-size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--backend", default="arkworks", choices=("arkworks", "snarkjs"))
    ap.add_argument("--route", default=None, help="setup route (default: dev for arkworks, snarkjs for snarkjs)")
    ap.add_argument("--ptau", type=Path, default=None)
    ap.add_argument("--model", action="store_true",
                    help="also count MSM additions (arkworks wNAF model) and the wires padding chunks share")
    ap.add_argument("--bound", action="store_true",
                    help="with --model: time a padding proof whose fixed wires are zeroed (a split-MSM prover's bound)")
    ap.add_argument("--skip-timing", action="store_true", help="no full/empty timing (with --model --bound)")
    args = ap.parse_args(argv)

    from bench_chunked import _account, _market

    from zksolv.prover.backends import get_backend
    from zksolv.prover.chunks import plan_chunks
    from zksolv.prover.engines import ProofTask, checked_proof, task_witness
    from zksolv.toolchain.artifacts import build_artifacts
    from zksolv.toolchain.r1cs import read_wtns

    market = _market(min(args.instruments, 3780), args.chunk_size, [2])
    account = _account(market, args.positions)
    plan = plan_chunks(account, market, args.chunk_size, n_chunks=2)
    route = args.route or ("dev" if args.backend == "arkworks" else "snarkjs")
    art = build_artifacts(plan.chunk_tier, route, ptau=args.ptau)
    backend = get_backend(args.backend)
    out: dict[str, Any] = {"backend": args.backend, "route": route, "instruments": len(market.instruments),
                           "tree_depth": market.tree_depth, "positions": args.positions,
                           "chunk_tier": plan.chunk_tier.name, "constraints": art.circuit.n_constraints,
                           "rayon_threads": os.environ.get("RAYON_NUM_THREADS"), "chunks": {}}
    with tempfile.TemporaryDirectory(prefix="zksolv-padprobe-") as tmp:
        wtns = {}
        for i in (0, 1):
            task = ProofTask(f"chunk {i}", art.circuit, art.keys, plan.chunk_inputs[i], tuple(plan.chunk_public(i)),
                             args.backend)
            t = time.perf_counter()
            wtns[i] = task_witness(task, Path(tmp) / f"chunk{i}.wtns")
            witness_s = time.perf_counter() - t
            n_real = sum(1 for q in plan.chunk_inputs[i]["q"] if q != "0")
            out["chunks"][i] = {"real_slots": n_real, "witness_s": round(witness_s, 3),
                                **zero_stats(read_wtns(wtns[i]), len(task.public)), "prove_s": [], "prove_cpu_s": []}
            checked_proof(task, backend.prove(art.keys, wtns[i]))  # warm-up: loads (and memoises) the key
        for rep in range(0 if args.skip_timing else args.repeats):
            for i in ((0, 1) if rep % 2 == 0 else (1, 0)):
                t, cpu = time.perf_counter(), time.process_time()
                backend.prove(art.keys, wtns[i])
                out["chunks"][i]["prove_s"].append(round(time.perf_counter() - t, 3))
                out["chunks"][i]["prove_cpu_s"].append(round(time.process_time() - cpu, 3))
        if args.model:
            from zksolv.toolchain.r1cs import R1CS
            r1cs = R1CS.load(art.circuit.r1cs)
            models = {i: msm_model(r1cs, read_wtns(wtns[i])) for i in (0, 1)}
            for i in (0, 1):
                out["chunks"][i]["msm_additions_model"] = models[i]
            out["model_empty_over_full"] = round(models[1]["total"] / models[0]["total"], 4)
            out["fixed_wires"] = fixed_wires(args, art, market, account, tmp, backend if args.bound else None)
    if not args.skip_timing:
        for c in out["chunks"].values():
            c["prove_median_s"] = statistics.median(c["prove_s"])
            c["prove_cpu_median_s"] = statistics.median(c["prove_cpu_s"])
        out["empty_over_full"] = round(out["chunks"][1]["prove_median_s"] / out["chunks"][0]["prove_median_s"], 3)
        out["empty_over_full_cpu"] = round(out["chunks"][1]["prove_cpu_median_s"] / out["chunks"][0]["prove_cpu_median_s"], 3)
    out["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, indent=1))
    return out


def fixed_wires(args: argparse.Namespace, art: Any, market: Any, account: Any, tmp: str,
                backend: Any = None) -> dict[str, Any]:
    """How many wires of a padding chunk are the same in every padding chunk of this market: two
    padding chunks of one plan (counters 1, 2) and one of another book's plan (another chain, other
    sums, another blinding). Those wires' MSM terms could be precomputed once per (key, market) by a
    prover that splits its MSMs (same A, B, C for the same r, s: the proof is bit-identical).

    With ``backend``, also times the per-proof work such a prover would have left: the padding
    witness with the fixed wires set to 0 (skipped by the MSMs; the FFTs and the quotient's MSM
    stay full size, as the quotient stays dense). That witness does not satisfy the circuit: its
    proof is only timed, never used."""
    from bench_chunked import _account

    from zksolv.prover.chunks import plan_chunks
    from zksolv.prover.engines import ProofTask, task_witness
    from zksolv.toolchain.r1cs import read_wtns, write_wtns

    other = _account(market, max(8, args.positions // 2))
    a = plan_chunks(account, market, args.chunk_size, n_chunks=3)
    b = plan_chunks(other, market, args.chunk_size, n_chunks=2)
    w, paths = [], []
    for k, (plan, i) in enumerate(((a, 1), (a, 2), (b, 1))):
        task = ProofTask(f"pad {k}", art.circuit, art.keys, plan.chunk_inputs[i], tuple(plan.chunk_public(i)))
        paths.append(task_witness(task, Path(tmp) / f"pad{k}.wtns"))
        w.append(read_wtns(paths[-1]))
    n_pub = len(a.chunk_public(0))
    same = [j for j in range(1 + n_pub, len(w[0])) if w[0][j] == w[1][j] == w[2][j]]
    out: dict[str, Any] = {"wires": len(w[0]), "same_in_every_padding_chunk": len(same),
                           "fraction": round(len(same) / len(w[0]), 4)}
    if backend is not None:
        sparse = list(w[0])
        for j in same:
            sparse[j] = 0
        synthetic = write_wtns(Path(tmp) / "split_bound.wtns", sparse)
        times: dict[str, list[float]] = {"padding": [], "varying_wires_only": []}
        for rep in range(args.repeats):
            order = (("padding", paths[0]), ("varying_wires_only", synthetic))
            for name, path in (order if rep % 2 == 0 else order[::-1]):
                cpu = time.process_time()
                backend.prove(art.keys, path)
                times[name].append(round(time.process_time() - cpu, 3))
        out["prove_cpu_s"] = times
        out["prove_cpu_median_s"] = {k: statistics.median(v) for k, v in times.items()}
        out["bound_over_padding"] = round(out["prove_cpu_median_s"]["varying_wires_only"]
                                          / out["prove_cpu_median_s"]["padding"], 3)
    return out


if __name__ == "__main__":
    main()
