"""The ladder benchmark: its own logic (fast: nothing compiled or proven; rows above --max-positions are
taken from results/chunked.json under the default venue policy, other designs say why they are skipped)
and, marked slow, its ``--quick`` run end to end."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

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
        summary = bench_ladder.summary_md(list(rows.values()))
        assert f"| {n:,} | – | – | {pool['prove_s']:.1f}* / {pool['peak_rss_mib']:,.0f} | – | – |" in summary


@pytest.mark.slow
def test_quick_ladder_runs_end_to_end(tmp_path: Path) -> None:
    """``bench_ladder.py --quick``: real proofs of 1, 4 and 16 positions in one circuit and in chunks on
    the local pool, plain and grouped; every row measured (none failed), verified by a keeper process,
    the chunked rows padded as the default policy says, the grouped ones through the groups the prover
    picks, and the JSON, both tables and the plot written."""
    import subprocess

    proc = subprocess.run([sys.executable, str(Path(bench_ladder.__file__)), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads((tmp_path / "ladder_quick.json").read_text())["rows"]
    assert sorted((r["positions"], r["design"]) for r in rows) == [
        (n, d) for n in (1, 4, 16) for d in ("grouped", "pool", "single")]
    by = {(r["positions"], r["design"]): r for r in rows}
    for r in rows:
        assert r["source"] == "measured" and r["prove_s"] > 0 and r["verify_s"] > 0 and r["peak_rss_mib"] > 0
        if r["design"] in ("pool", "grouped"):
            needed = chunks_needed(r["positions"], 8)
            assert (r["chunks_needed"], r["chunks_padded"]) == (needed, DEFAULT_POLICY.chunks_for(needed, 8))
        if r["design"] == "grouped":  # a clustered-enough tiny book: every chunk through G >= its groups, cheaper
            assert r["groups"] >= r["groups_touched"] >= 1
            assert r["chunk_constraints"] < by[(r["positions"], "pool")]["chunk_constraints"]
    md = (tmp_path / "ladder_quick.md").read_text()
    assert "| 16 | " in bench_ladder.summary_md(rows) and bench_ladder.summary_md(rows) in md
    assert (tmp_path / "ladder_quick.png").stat().st_size > 0
