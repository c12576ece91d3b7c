"""The proving benchmark's --quick subset end to end, exactly as ``zksolv bench --quick`` runs it
(in CI, so the suite never rots)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from zksolv.app.bench import run_bench, summary

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _run_quick(script: str, out: Path, *extra: str) -> subprocess.CompletedProcess:
    """``python benchmarks/<script> --quick [extra] --out <out>`` in a child process; it must succeed."""
    proc = subprocess.run([sys.executable, str(BENCHMARKS / script), "--quick", *extra, "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


@pytest.mark.slow
def test_quick_benchmark_runs_and_reports(tmp_path):
    # positions 1 and 2, 64 instruments, stress, 2 repeats; no powers-of-tau build (snarkjs only if cached)
    res = run_bench(True, tmp_path, progress=False)
    assert res["errors"] == []
    data = json.loads((tmp_path / "proving_quick.json").read_text())
    assert {"machine", "config", "points", "duration_s", "node_startup_s", "setup_note"} <= set(data)
    assert data["machine"]["cpus"] >= 1 and "groth16py" in data["machine"]["versions"]
    one, two = data["points"]
    assert two["constraints"] > one["constraints"], "a position slot must cost constraints"
    row = one
    assert row["positions"] == 1 and row["mode"] == "stress" and row["instruments"] == 64
    assert 1_000 < row["constraints"] < 1_000_000
    assert row["constraints_per_position"] == row["constraints"]
    assert row["prove"]["arkworks"]["prove_s"]["n"] == 2, "quick mode repeats every proof"
    assert row["setup_routes"]["arkworks"] == "dev"
    for key in ("witness_s", "model_evaluate_s"):
        assert 0 < row[key]["median"] < 600 and row[key]["min"] <= row[key]["median"] <= row[key]["max"]
    ark = row["prove"]["arkworks"]
    assert 0 < ark["prove_s"]["median"] < 600 and ark["peak_rss_mib"] > 10
    for verifier in ("py_ecc", "groth16py", "snarkjs"):
        assert 0 < row["verify"][verifier]["median"] < 120
    assert row["verify"]["groth16py"]["median"] < row["verify"]["py_ecc"]["median"]
    assert row["proof_bytes_calldata"] == 256 and row["proof_bytes_json"] > 256
    if "snarkjs" not in row["prove"]:
        assert any("snarkjs skipped" in n for n in row["notes"])
    for stem in ("prove", "constraints", "verify"):
        for ext in ("png", "svg"):
            assert (tmp_path / f"proving_quick_{stem}.{ext}").stat().st_size > 1_000
    text = summary(res)
    assert "| stress | 64 | 1 |" in text and "| stress | 64 | 2 |" in text
    line = text.split("| stress | 64 | 1 |")[1].splitlines()[0]
    assert re.search(r"\d\.\d\d \(\d+\.\d\d–\d+\.\d\d\)", line), "repeated steps show their (min–max) spread"


@pytest.mark.slow
def test_poseidon_benchmark_quick(tmp_path):
    """``bench_poseidon.py --quick``: both backends per arity, the same market root from each."""
    out = tmp_path / "poseidon.json"
    proc = _run_quick("bench_poseidon.py", out)
    data = json.loads(out.read_text())
    assert set(data["per_hash_us"]) == {"python", "native"}
    assert set(data["per_hash_us"]["python"]) == {"4", "6", "8", "9", "16"}
    (point,) = data["market_root"]
    assert point["python"]["arities"] == {"6": "python", "8": "python", "16": "python"}  # ZKSOLV_POSEIDON=python
    assert point["native"]["arities"]["16"] == "python"  # beyond the library's 12 inputs
    assert 0 < point["native"]["root_s"] < 60 and point["instruments"] > 0
    assert "| arity | pure Python us | native us | x |" in proc.stdout


@pytest.mark.slow
def test_profile_serial_quick(tmp_path):
    """``profile_serial.py --quick --cold-market``: a real chunked prove profiled in-process; the
    phases add up to no more than the wall time and the plan, the market load, the market's hashing
    (dropped from the cache first) and the engine are all seen."""
    out = tmp_path / "profile.json"
    _run_quick("profile_serial.py", out, "--cold-market")
    (row,) = json.loads(out.read_text())["rows"]
    assert row["positions"] == 16 and row["chunks"] == 2 and not row["plan_only"]
    assert row["market_cache"] == "cold" and row["label"] == "native, cold market"
    phases = row["phases_s"]
    assert phases["engine run"] > 0 and phases["plan (reference check, states, inputs)"] > 0
    assert phases["market load"] > 0 and phases["market hashes (prime)"] > 0
    assert row["serial_s"] + row["engine_s"] == pytest.approx(row["wall_s"], abs=0.02)
    assert sum(v for k, v in phases.items() if k != "engine run") <= row["serial_s"] + 0.05
    assert row["top_serial"] and all(t["own_s"] >= 0 for t in row["top_serial"])
    assert (tmp_path / "profile.md").read_text().startswith("| label | positions |")


@pytest.mark.slow
def test_grouped_openings_quick(tmp_path):
    """``bench_grouped_openings.py --quick``: a clustered book, plain and grouped tier compiled and proven."""
    _run_quick("bench_grouped_openings.py", tmp_path)
    (case,) = json.loads((tmp_path / "grouped_openings_quick.json").read_text())["cases"]
    assert case["G"] >= case["groups_touched"] >= 1 and case["grouped"]["circuit"].endswith(f"_g{case['G']}_stress")
    assert case["grouped"]["constraints"] < case["plain"]["constraints"]
    assert case["plain"]["prove_s"]["median"] > 0 and case["grouped"]["prove_s"]["median"] > 0
    assert "| demo 12 clustered |" in (tmp_path / "grouped_openings_quick.md").read_text()
    assert (tmp_path / "grouped_openings_quick.png").stat().st_size > 1_000
