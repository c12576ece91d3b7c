"""The in-process witness (circom's wasm under wasmtime) against circom's own node driver.

Both paths must write byte-identical ``.wtns`` files for several circuits and inputs (toy
circuits and the margin circuit), and fail the same way — the same ProofError text, no
private value in it, no file left behind — when the inputs break the circuit.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from zksolv.prover import witness_wasm
from zksolv.prover.witness_wasm import calculate_witness, fnv1a64, qualify_inputs, resolve_engine
from zksolv import toolchain
from zksolv.core.errors import ProofError, ToolchainError

CIRCUITS = Path(__file__).parent / "circuits"
needs_wasmtime = pytest.mark.skipif(not witness_wasm.wasmtime_available(), reason="wasmtime not installed")
SECRET_A, SECRET_B = 3_141_592_653, 2_718_281_828


# ------------------------------------------------------------------ pure helpers (fast)

def test_fnv_matches_the_js_driver() -> None:
    """Values printed by witness_calculator.js's fnvHash for the same names."""
    for name, expected in [("a", "af63dc4c8601ec8c"), ("main.a", "aa4c4b73e9995d29"),
                           ("positions", "0ac7093f4700b5db"), ("pos[3].q", "d7a9ee12dd7c0bcb"),
                           ("", "cbf29ce484222325")]:
        hi, lo = fnv1a64(name)
        assert f"{hi:08x}{lo:08x}" == expected


def test_inputs_are_qualified_like_the_driver() -> None:
    inputs = {"a": 1, "v": [[1, 2], [3, "4"]], "s": {"x": 5, "y": [6, 7]}, "l": [{"q": 8}, {"q": 9}], "e": []}
    assert qualify_inputs(inputs) == {"a": [1], "v": [1, 2, 3, "4"], "s.x": [5], "s.y": [6, 7], "l[0].q": [8],
                                      "l[1].q": [9], "e": []}


def test_engine_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_engine("node") == "node"
    with pytest.raises(ToolchainError, match="witness engine"):
        resolve_engine("v8")
    monkeypatch.setenv("ZKSOLV_WITNESS", "node")
    assert resolve_engine() == "node"
    monkeypatch.delenv("ZKSOLV_WITNESS")
    monkeypatch.setattr(witness_wasm, "wasmtime_available", lambda: False)
    assert resolve_engine() == "node"  # wasmtime is optional: node is the fallback
    with pytest.raises(ToolchainError, match="pip install"):
        resolve_engine("wasmtime")


def test_missing_wasm_is_a_toolchain_error(tmp_path: Path) -> None:
    for engine in ("node", "wasmtime") if witness_wasm.wasmtime_available() else ("node",):
        with pytest.raises(ToolchainError, match="compile the circuit first"):
            calculate_witness(tmp_path / "x.wasm", {}, tmp_path / "w.wtns", engine=engine)


# ------------------------------------------------------------------ against node (compiles circuits)

def _both(wasm: Path, inputs: dict[str, Any], tmp: Path) -> tuple[bytes, bytes]:
    node = calculate_witness(wasm, inputs, tmp / "node.wtns", engine="node").read_bytes()
    fast = calculate_witness(wasm, inputs, tmp / "wasmtime.wtns", engine="wasmtime").read_bytes()
    return node, fast


@pytest.mark.slow
@needs_wasmtime
@pytest.mark.parametrize("circuit, inputs", [
    ("range_multiplier", {"a": 3, "b": 5, "c": 15, "k": 7}),
    ("range_multiplier", {"a": SECRET_A, "b": 1, "c": SECRET_A, "k": -1}),  # negative -> p - 1
    ("range_multiplier", {"a": "0x10", "b": "2", "c": 32, "k": "21888242871839275222246405745257275088548364400416034343698204186575808495616"}),
    ("two_public", {"account_commitment": 5 * 5 + 11, "market_root": 99, "secret": 5, "salt": 11}),
    ("tamper_demo", {"x": 300, "y": 200, "limit": 60_001}),
])
def test_toy_circuits_byte_identical(circuit: str, inputs: dict[str, Any], tmp_path: Path) -> None:
    compiled = toolchain.compile_cached(CIRCUITS / f"{circuit}.circom")
    node, fast = _both(compiled.wasm, inputs, tmp_path)
    assert node == fast
    assert len(fast) > 64 and fast[:4] == b"wtns"
    assert (tmp_path / "wasmtime.wtns").stat().st_mode & 0o077 == 0  # private file


@pytest.fixture(scope="module")
def margin() -> tuple[Any, Any, Any]:
    """The demo market's 4-position stress tier (shared with the end-to-end tests' cache)."""
    from zksolv.prover.prove import tier_for
    from zksolv.toolchain.artifacts import build_artifacts
    from zksolv.app.demo import demo_market, demo_portfolios

    market = demo_market(risk_mode="stress", mc_scenarios=16)
    books = demo_portfolios(market)
    tier = tier_for(books["short_strangle"], market)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        artifacts = build_artifacts(tier)
    return market, books, (tier, artifacts)


@pytest.mark.slow
@needs_wasmtime
@pytest.mark.parametrize("book", ["short_strangle", "covered_call", "delta_neutral"])
def test_margin_circuit_byte_identical(margin: tuple[Any, Any, Any], book: str, tmp_path: Path) -> None:
    from zksolv.prover.witness import reference_inputs

    market, books, (tier, artifacts) = margin
    inputs, _ = reference_inputs(books[book], market, tier)
    node, fast = _both(artifacts.circuit.wasm, inputs, tmp_path)
    assert node == fast


def _failure(wasm: Path, inputs: dict[str, Any], tmp: Path, engine: str) -> str:
    out = tmp / engine
    out.mkdir()
    with pytest.raises(ProofError) as info:
        calculate_witness(wasm, inputs, out / "w.wtns", engine=engine)
    assert not list(out.iterdir()), f"{engine} left a file behind"
    return str(info.value)


@pytest.mark.slow
@needs_wasmtime
@pytest.mark.parametrize("inputs, reason", [
    ({"a": SECRET_A, "b": SECRET_B, "c": 1, "k": 7}, "Assert Failed"),  # a * b != c
    ({"a": 2**40 + SECRET_A, "b": 1, "c": 2**40 + SECRET_A, "k": 7}, "Num2Bits"),  # range check
    ({"a": SECRET_A, "b": SECRET_B}, "Not all inputs"),
    ({"a": SECRET_A, "b": SECRET_B, "c": SECRET_A * SECRET_B, "k": 7, "zz": SECRET_A}, "zz"),
    ({"a": [SECRET_A, SECRET_B], "b": SECRET_B, "c": 1, "k": 7}, "Too many values"),
])
def test_failures_match_node_and_stay_private(inputs: dict[str, Any], reason: str, tmp_path: Path) -> None:
    compiled = toolchain.compile_cached(CIRCUITS / "range_multiplier.circom")
    node = _failure(compiled.wasm, inputs, tmp_path, "node")
    fast = _failure(compiled.wasm, inputs, tmp_path, "wasmtime")
    assert fast == node
    assert reason in fast and "inputs do not satisfy the circuit" in fast
    for secret in (SECRET_A, SECRET_B, 2**40 + SECRET_A, SECRET_A * SECRET_B):
        assert str(secret) not in fast


@pytest.mark.slow
@needs_wasmtime
def test_margin_circuit_bad_hint_fails_alike(margin: tuple[Any, Any, Any], tmp_path: Path) -> None:
    """A margin hint the circuit's range check refuses: the same clean ProofError on both paths."""
    from zksolv.prover.witness import reference_inputs

    market, books, (tier, artifacts) = margin
    inputs, _ = reference_inputs(books["short_strangle"], market, tier)
    bad = dict(inputs)
    bad["m"] = [str(2**200 + 12_345_678_901)] + list(inputs["m"])[1:]  # a stress hint far past its bit width
    node = _failure(artifacts.circuit.wasm, bad, tmp_path, "node")
    fast = _failure(artifacts.circuit.wasm, bad, tmp_path, "wasmtime")
    assert fast == node and "Assert Failed" in fast
    assert "12345678901" not in fast and str(books["short_strangle"].salt) not in fast


@pytest.mark.slow
@needs_wasmtime
def test_every_witness_frees_its_store(margin: tuple[Any, Any, Any], tmp_path: Path) -> None:
    """A chunked book computes hundreds of witnesses in one worker: each call's wasmtime store (the
    circuit's whole linear memory) must be freed when it returns. A host function holding the store
    made a cycle through wasmtime's native side that Python never collected (a worker of a
    10,000-position book grew past 4 GiB)."""
    import gc

    import wasmtime
    from zksolv.prover.witness import reference_inputs

    market, books, (tier, artifacts) = margin
    inputs, _ = reference_inputs(books["short_strangle"], market, tier)

    def stores() -> int:
        gc.collect()
        return sum(isinstance(o, wasmtime.Store) for o in gc.get_objects())

    calculate_witness(artifacts.circuit.wasm, inputs, tmp_path / "w.wtns", engine="wasmtime")  # warm caches
    before = stores()
    for _ in range(5):
        calculate_witness(artifacts.circuit.wasm, inputs, tmp_path / "w.wtns", engine="wasmtime")
    assert stores() == before
