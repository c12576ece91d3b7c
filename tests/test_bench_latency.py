"""The latency and naive-baseline benchmarks' own logic (fast: nothing compiled or proven).

The naive baseline is derived from circuits/avsl_solvency.circom by swapping three components;
this test fails as soon as a circuit change breaks one of the swaps, so the benchmark cannot
silently measure something else.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import bench_baseline  # noqa: E402
import bench_latency  # noqa: E402

from zksolv.toolchain.circuitgen import Tier  # noqa: E402
from zksolv.core.market import RiskMode  # noqa: E402


def test_naive_circuit_derives_from_the_real_one(tmp_path: Path) -> None:
    tier = Tier(n_positions=4, n_underlyings=2, n_collateral=4, n_scenarios=16, depth=4, mode=RiskMode.STRESS)
    main = bench_baseline.naive_main(tier, tmp_path)
    top = (tmp_path / "avsl_naive.circom").read_text()
    slots = (tmp_path / "positions_naive.circom").read_text()
    assert 'include "avsl_naive.circom";' in main.read_text() and "AvslSolvencyNaive(" in main.read_text()
    for needle in ("template AvslSolvencyNaive(", "PositionSlotsNaive(N, U, DEPTH)", "NaiveEntryChain(N)",
                   "signal input path[N][3 * DEPTH];", 'include "positions_naive.circom";'):
        assert top.count(needle) == 1, needle
    for needle in ("template PositionSlotsNaive(", "MerkleInclusion2(3 * DEPTH)", 'include "naive.circom";',
                   "signal input path[N][3 * DEPTH];"):
        assert slots.count(needle) == 1, needle
    assert "CappedOpenings(" not in slots and "signal input cap" not in slots + top and " EntryChain(" not in top


def test_naive_swaps_fail_loudly_on_a_changed_circuit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    derived, swaps = bench_baseline.SWAPS["positions.circom"]
    monkeypatch.setitem(bench_baseline.SWAPS, "positions.circom", (derived, (*swaps, (r"MerkleInclusion8\(DEPTH\)", "x"))))
    tier = Tier(n_positions=1, n_underlyings=1, n_collateral=1, n_scenarios=2, depth=1, mode=RiskMode.STRESS)
    with pytest.raises(RuntimeError, match="matches 0 times"):
        bench_baseline.naive_main(tier, tmp_path)


def test_steps_and_tables() -> None:
    steps = bench_latency._steps({"checking the account against the reference model": 0.5,
                                  "compiling circuit and dev setup for t (cached)": 0.1,
                                  "computing the witness": 0.2,
                                  "proving with arkworks (resident prover, pid 7)": 1.0}, wall=2.0)
    assert steps == pytest.approx({"reference check": 0.5, "cache lookup": 0.1, "witness": 0.2,
                                   "prove (+ key load in-process)": 1.0, "start-up + I/O": 0.2})
    wall = {"median": 2.0, "min": 1.9, "max": 2.2, "n": 3, "runs": [1.9, 2.0, 2.2]}
    row = {"point": "demo", "instruments": 152, "positions": 2, "constraints": 21103, "key_mb": 24.8,
           "key_load_s": {"median": 2.7}, "witness_node_s": {"median": 0.9}, "witness_wasmtime_s": {"median": 0.2},
           "configs": {c: {"wall_s": wall | {"median": m}, "steps_s": steps}
                       for c, m in (("before", 6.0), ("in-process", 5.0), ("resident", 2.0))}}
    table = bench_latency.table_md([row])
    assert "| demo | 152 | 2 | 21,103 | 24.8 | 2.70 | 0.90 / 0.20 |" in table and "3.0x" in table
    naive = {"point": "demo", "instruments": 152, "positions": 2, "constraints_zksolv": 21103,
             "constraints_naive": 25087, "witness_node_s": {"median": 0.8}, "prove_arkworks_s": {"median": 1.5},
             "prove_snarkjs_estimated_s": 4.0}
    assert "≈ 4.0 (estimated)" in bench_baseline.table_md([naive])
    assert bench_baseline.naive_total_s(naive, 1.0) == pytest.approx(5.8)
