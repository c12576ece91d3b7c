"""The ladder benchmark's own logic (fast: nothing compiled or proven): rows above --max-positions are
taken from results/chunked.json under the default venue policy, other designs say why they are skipped."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import bench_ladder  # noqa: E402

from zksolv.core.venue import DEFAULT_POLICY, chunks_needed  # noqa: E402


def _rows(n: int) -> dict[str, dict]:
    args = argparse.Namespace(
        max_positions=1024, baseline_max=64, single_max=64, chunk_size=64, quick=False)
    return {d: bench_ladder.bench_row(n, d, None, args, {}, Path("."), []) for d in bench_ladder.DESIGNS}


def test_large_books_come_from_chunked_json_under_the_default_policy() -> None:
    recorded = {p["positions"]: p for p in json.loads((bench_ladder.RESULTS / "chunked.json").read_text())["points"]}
    for n in (4096, 10000):
        rows = _rows(n)
        pool, point = rows["pool"], recorded[n]
        needed = chunks_needed(n, 64)
        assert pool["source"] == "from chunked.json"
        assert (pool["chunks_needed"], pool["chunks_padded"]) == (needed, DEFAULT_POLICY.chunks_for(needed, 64))
        assert pool["prove_s"] == point.get("prove_default_s", point["prove_w2_s"])
        assert pool["constraints"] == pool["chunks_padded"] * point["chunk_constraints"] + point["final_constraints"]
        assert "--baseline-max 64" in rows["baseline"]["skipped"] and "--single-max 64" in rows["single"]["skipped"]
        assert "--max-positions 1024" in rows["ray"]["skipped"] and "prove_s" not in rows["resident"]
        table = bench_ladder.table_md(list(rows.values()))
        assert f"{needed} → {pool['chunks_padded']} of 64" in table and table.count("\n") == 2 + len(rows)
