"""Tests of zksolv.toolchain: node discovery, circom compile, witness, snarkjs helper, binary headers."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from zksolv import toolchain
from zksolv.toolchain.cache import ArtifactCache
from zksolv.core.errors import ProofError, ToolchainError

CIRCUIT = Path(__file__).parent / "circuits" / "range_multiplier.circom"
# distinctive "private" values: they must never show up in an error message
SECRET_A, SECRET_B = 987_654_321, 1_234_567


@pytest.fixture(scope="module")
def compiled() -> toolchain.CompiledCircuit:
    return toolchain.compile_cached(CIRCUIT)


# ---------------------------------------------------------------- node missing

def test_missing_node_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(toolchain.shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(ToolchainError, match=r"node not found — install Node 18\+"):
        toolchain.node_binary()
    with pytest.raises(ToolchainError, match="node not found"):
        toolchain.snarkjs(["--version"], timeout=30)


def test_missing_node_via_empty_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ToolchainError, match="node not found"):
        toolchain.run_node(["-e", "1"], timeout=10, what="probe")


def test_run_node_failure_and_timeout() -> None:
    with pytest.raises(ToolchainError, match="probe: failed \\(exit 3\\)"):
        toolchain.run_node(["-e", "process.exit(3)"], timeout=30, what="probe")
    with pytest.raises(ToolchainError, match="timed out"):
        toolchain.run_node(["-e", "setTimeout(() => {}, 10000)"], timeout=0.5, what="probe")


# ---------------------------------------------------------------- headers

def _binfile(magic: bytes, sections: list[tuple[int, bytes]]) -> bytes:
    out = magic + struct.pack("<II", 1, len(sections))
    for sid, data in sections:
        out += struct.pack("<IQ", sid, len(data)) + data
    return out


def test_read_r1cs_header_synthetic(tmp_path: Path) -> None:
    prime = 21888242871839275222246405745257275088548364400416034343698204186575808495617
    hdr = struct.pack("<I", 32) + prime.to_bytes(32, "little") + struct.pack("<IIIIQI", 10, 1, 2, 3, 11, 7)
    path = tmp_path / "x.r1cs"
    path.write_bytes(_binfile(b"r1cs", [(1, hdr), (2, b"")]))
    h = toolchain.read_r1cs_header(path)
    assert (h.prime, h.n_wires, h.n_outputs, h.n_public_inputs, h.n_private_inputs, h.n_labels, h.n_constraints) == (
        prime, 10, 1, 2, 3, 11, 7)
    assert h.n_public == 3
    path.write_bytes(path.read_bytes()[:-5])  # truncated
    with pytest.raises(ToolchainError, match="truncated"):
        toolchain.read_r1cs_header(path)
    path.write_bytes(b"nope" + b"\0" * 20)
    with pytest.raises(ToolchainError, match="bad magic"):
        toolchain.read_r1cs_header(path)
    with pytest.raises(ToolchainError, match="not found"):
        toolchain.read_r1cs_header(tmp_path / "missing.r1cs")


def test_redact_removes_long_numbers() -> None:
    msg = toolchain._redact(f"value {SECRET_A} at 0xdeadbeef line: 24")
    assert str(SECRET_A) not in msg and "deadbeef" not in msg and "line: 24" in msg


# ---------------------------------------------------------------- compile

def test_compile_errors(tmp_path: Path) -> None:
    with pytest.raises(ToolchainError, match="not found"):
        toolchain.compile_circuit(tmp_path / "nope.circom", tmp_path / "out")
    with pytest.raises(ToolchainError, match="optimize"):
        toolchain.compile_circuit(CIRCUIT, tmp_path / "out", optimize="O9")


@pytest.mark.slow
def test_compile_syntax_error_leaves_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.circom"
    bad.write_text("pragma circom 2.1.0;\ntemplate T() { signal input a; a === ; }\ncomponent main = T();\n")
    with pytest.raises(ToolchainError, match="circom compile bad.circom"):
        toolchain.compile_circuit(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.circom"]  # no temp dirs left


@pytest.mark.slow
def test_compile_circuit(tmp_path: Path) -> None:
    out = tmp_path / "build"
    cc = toolchain.compile_circuit(CIRCUIT, out)
    assert cc.r1cs == out / "range_multiplier.r1cs" and cc.r1cs.is_file()
    assert cc.wasm.is_file() and cc.sym.is_file() and cc.witness_js.is_file()
    assert (cc.n_public, cc.n_private_inputs) == (3, 2)
    assert 64 < cc.n_constraints < 80  # 2 x Num2Bits(32) + 2 multiplications
    # agrees with snarkjs
    info = toolchain._strip_ansi(toolchain.snarkjs(["r1cs", "info", cc.r1cs], timeout=120).stdout)
    assert f"# of Constraints: {cc.n_constraints}" in info
    assert f"# of Wires: {cc.n_wires}" in info
    # recompiling replaces the directory atomically and leaves no temp dirs
    toolchain.compile_circuit(CIRCUIT, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build"]


@pytest.mark.slow
def test_compile_cached_hits(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    first = toolchain.compile_cached(CIRCUIT, cache=cache)
    second = toolchain.compile_cached(CIRCUIT, cache=ArtifactCache(tmp_path / "cache"))
    assert first == second and cache.builds == 1
    assert toolchain.compile_cached(CIRCUIT, optimize="O1", cache=cache).directory != first.directory


@pytest.mark.slow
def test_compile_cached_key_follows_includes(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "lib.circom").write_text("pragma circom 2.1.0;\ntemplate Sq() { signal input x; signal output y; y <== x * x; }\n")
    main = src / "main.circom"
    main.write_text('pragma circom 2.1.0;\ninclude "lib.circom";\ncomponent main = Sq();\n')
    cache = ArtifactCache(tmp_path / "cache")
    first = toolchain.compile_cached(main, cache=cache)
    (src / "unrelated.circom").write_text("// not included\n")
    assert toolchain.compile_cached(main, cache=cache) == first and cache.builds == 1
    (src / "lib.circom").write_text(
        "pragma circom 2.1.0;\ntemplate Sq() { signal input x; signal output y; y <== x * x + 1; }\n")
    assert toolchain.compile_cached(main, cache=cache).directory != first.directory and cache.builds == 2


# ---------------------------------------------------------------- witness

@pytest.mark.slow
def test_witness_ok(compiled: toolchain.CompiledCircuit, tmp_path: Path) -> None:
    from zksolv.toolchain.r1cs import read_wtns, read_wtns_prime

    out = toolchain.calculate_witness(compiled.wasm, {"a": 3, "b": 5, "c": 15, "k": 7}, tmp_path / "w.wtns")
    w = read_wtns(out)
    assert read_wtns_prime(out) == 21888242871839275222246405745257275088548364400416034343698204186575808495617
    assert len(w) == compiled.n_wires and w[0] == 1
    assert w[1 : 1 + compiled.n_public] == [105, 15, 7]  # public signals h, c, k
    assert w[4:6] == [3, 5]  # then private inputs a, b
    assert [p.name for p in tmp_path.iterdir()] == ["w.wtns"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "inputs, reason",
    [
        ({"a": SECRET_A, "b": SECRET_B, "c": 1, "k": 7}, "Assert Failed"),  # a*b != c
        ({"a": 2**40 + SECRET_A, "b": 1, "c": 2**40 + SECRET_A, "k": 7}, "Num2Bits"),  # range check
        ({"a": SECRET_A, "b": SECRET_B}, "Not all inputs"),
        ({"a": SECRET_A, "b": SECRET_B, "c": SECRET_A * SECRET_B, "k": 7, "zz": SECRET_A}, "zz"),
    ],
)
def test_witness_failure_is_clear_and_private(
    compiled: toolchain.CompiledCircuit, tmp_path: Path, inputs: dict[str, int], reason: str
) -> None:
    with pytest.raises(ProofError) as info:
        toolchain.calculate_witness(compiled.wasm, inputs, tmp_path / "w.wtns")
    msg = str(info.value)
    assert reason in msg and "inputs do not satisfy the circuit" in msg
    for secret in (SECRET_A, SECRET_B, 2**40 + SECRET_A, SECRET_A * SECRET_B):
        assert str(secret) not in msg
    assert not (tmp_path / "w.wtns").exists()
    assert not list(tmp_path.iterdir())


def test_witness_missing_wasm(tmp_path: Path) -> None:
    with pytest.raises(ToolchainError, match="compile the circuit first"):
        toolchain.calculate_witness(tmp_path / "x.wasm", {}, tmp_path / "w.wtns")


def test_witness_rejects_non_integer_inputs(tmp_path: Path) -> None:
    with pytest.raises(ToolchainError, match="integers"):
        toolchain._jsonable_inputs({"a": True})
    with pytest.raises(ToolchainError, match="float"):
        toolchain._jsonable_inputs({"a": 1.5})
    assert toolchain._jsonable_inputs({"a": [1, 2**70]}) == {"a": ["1", str(2**70)]}
