"""Tests of zksolv.toolchain.r1cs, the independent R1CS / witness checker.

The checker is cross-checked against snarkjs 0.7.6 (``r1cs info`` for the
header counts, ``wtns check`` for satisfaction — including the index of the
first violated constraint) on tests/circuits/tamper_demo.circom, compiled at
test time, and must flag the deliberately under-constrained
tests/circuits/underconstrained_demo.circom.
"""

from __future__ import annotations

import random
import re
import struct
from pathlib import Path

import pytest

from zksolv.toolchain import r1cs as R
from zksolv import toolchain
from zksolv.core.errors import ToolchainError

CIRCUITS = Path(__file__).parent / "circuits"
DEMO = CIRCUITS / "tamper_demo.circom"
BROKEN = CIRCUITS / "underconstrained_demo.circom"
INPUTS = {"x": 300, "y": 200, "limit": 100_000}
P = R.BN254_PRIME


@pytest.fixture(scope="module")
def demo() -> toolchain.CompiledCircuit:
    return toolchain.compile_cached(DEMO)


@pytest.fixture(scope="module")
def demo_r1cs(demo: toolchain.CompiledCircuit) -> R.R1CS:
    return R.R1CS.load(demo.r1cs)


@pytest.fixture(scope="module")
def demo_wtns(demo: toolchain.CompiledCircuit, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return toolchain.calculate_witness(demo.wasm, INPUTS, tmp_path_factory.mktemp("wtns") / "demo.wtns")


def snarkjs_out(*args: str | Path) -> tuple[int, str]:
    """Run the pinned snarkjs CLI without failing on a non-zero exit: (exit code, output sans colours)."""
    proc = toolchain.run_node([toolchain.node_module_path(*toolchain.SNARKJS_CLI), *args],
                              timeout=120, what="snarkjs " + str(args[0]), check=False)
    return proc.returncode, re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)


def snarkjs_wtns_check(r1cs: Path, wtns: Path) -> int | None:
    """``snarkjs wtns check``: None if the witness is correct, else the first violated constraint index."""
    code, out = snarkjs_out("wtns", "check", r1cs, wtns)
    if code == 0 and "WITNESS IS CORRECT" in out:
        return None
    m = re.search(r"aborting checking process at constraint (\d+)", out)
    assert m and "WITNESS IS NOT CORRECT" in out, out[-1000:]
    return int(m.group(1))


# ---------------------------------------------------------------- parsing

def test_header_matches_snarkjs_r1cs_info(demo: toolchain.CompiledCircuit, demo_r1cs: R.R1CS) -> None:
    code, out = snarkjs_out("r1cs", "info", demo.r1cs)
    assert code == 0, out

    def info(label: str) -> int:
        m = re.search(rf"# of {label}: (\d+)", out)
        assert m, out
        return int(m.group(1))

    assert demo_r1cs.n_wires == info("Wires")
    assert demo_r1cs.n_constraints == info("Constraints")
    assert demo_r1cs.n_prv_in == info("Private Inputs")
    assert demo_r1cs.n_pub_in == info("Public Inputs")
    assert demo_r1cs.n_labels == info("Labels")
    assert demo_r1cs.n_pub_out == info("Outputs")
    assert demo_r1cs.prime == P and demo_r1cs.n8 == 32
    hdr = toolchain.read_r1cs_header(demo.r1cs)
    assert (hdr.n_wires, hdr.n_constraints, hdr.n_public) == (
        demo_r1cs.n_wires, demo_r1cs.n_constraints, demo_r1cs.n_public)
    assert len(demo_r1cs.wire_to_label) == demo_r1cs.n_wires


def test_wtns_roundtrip_is_byte_identical(demo_wtns: Path, tmp_path: Path) -> None:
    values = R.read_wtns(demo_wtns)
    assert values[0] == 1
    assert R.read_wtns_prime(demo_wtns) == P
    copy = R.write_wtns(tmp_path / "copy.wtns", values, P)
    assert copy.read_bytes() == demo_wtns.read_bytes()
    assert R.read_wtns(copy) == values


def test_sym_maps_signal_names_to_witness_values(demo: toolchain.CompiledCircuit, demo_wtns: Path) -> None:
    wires = R.signal_wires(R.read_sym(demo.sym))
    w = R.read_wtns(demo_wtns)
    assert w[wires["main.x"]] == 300 and w[wires["main.y"]] == 200
    assert w[wires["main.prod"]] == 60_000 and w[wires["main.ok"]] == 1
    assert w[wires["main.limit"]] == 100_000
    assert [wires["main.ok"], wires["main.limit"]] == list(R.R1CS.load(demo.r1cs).public_wires())
    names = R.wire_names(R.read_sym(demo.sym))
    assert "main.x" in names[wires["main.x"]]
    every = {s.name: s.wire for s in R.read_sym(demo.sym)}
    some = ["main.limit", "main.x", "not.a.signal"]
    assert R.find_wires(demo.sym, some) == {n: every[n] for n in some if n in every}
    assert R.find_wires(demo.sym, every) == every


def test_bad_files_are_clear_errors(tmp_path: Path, demo_r1cs: R.R1CS) -> None:
    bad = tmp_path / "bad.r1cs"
    bad.write_bytes(b"wtns" + struct.pack("<II", 1, 0))
    with pytest.raises(ToolchainError, match="bad magic"):
        R.R1CS.load(bad)
    with pytest.raises(ToolchainError, match="not found"):
        R.read_wtns(tmp_path / "missing.wtns")
    trunc = tmp_path / "t.wtns"
    trunc.write_bytes(b"wtns" + struct.pack("<II", 2, 1) + struct.pack("<IQ", 1, 100) + b"\0" * 10)
    with pytest.raises(ToolchainError, match="truncated"):
        R.read_wtns(trunc)
    with pytest.raises(ToolchainError, match="witness has 3 values"):
        R.check(demo_r1cs, [1, 2, 3])
    with pytest.raises(ToolchainError, match="constant wire"):
        R.check(demo_r1cs, [0] * demo_r1cs.n_wires)


# ---------------------------------------------------------------- checking vs snarkjs

def test_valid_witness_passes(demo: toolchain.CompiledCircuit, demo_r1cs: R.R1CS, demo_wtns: Path) -> None:
    assert R.check(demo_r1cs, R.read_wtns(demo_wtns)) == []
    assert snarkjs_wtns_check(demo.r1cs, demo_wtns) is None


def test_other_valid_witness_written_by_us_passes(
    demo: toolchain.CompiledCircuit, demo_r1cs: R.R1CS, tmp_path: Path
) -> None:
    w = R.read_wtns(toolchain.calculate_witness(demo.wasm, {"x": 65535, "y": 0, "limit": 1},
                                                tmp_path / "w.wtns"))
    ours = R.write_wtns(tmp_path / "ours.wtns", w)
    assert R.check(demo_r1cs, w) == []
    assert snarkjs_wtns_check(demo.r1cs, ours) is None


def _corruptions(n_wires: int, values: list[int]) -> list[tuple[str, list[int]]]:
    rng = random.Random(20261122)
    out: list[tuple[str, list[int]]] = []
    for wire in (1, 2, 3, 5, n_wires // 2, n_wires - 1):
        w = list(values)
        w[wire] = (w[wire] + 1) % P
        out.append((f"wire {wire} +1", w))
    for _ in range(3):
        w = list(values)
        wire = rng.randrange(1, n_wires)
        w[wire] = rng.randrange(P)
        out.append((f"wire {wire} random", w))
    w = list(values)
    w[1:] = [(v + 7) % P for v in w[1:]]
    out.append(("all +7", w))
    return out


def test_corrupted_witnesses_agree_with_snarkjs(
    demo: toolchain.CompiledCircuit, demo_r1cs: R.R1CS, demo_wtns: Path, tmp_path: Path
) -> None:
    values = R.read_wtns(demo_wtns)
    for label, w in _corruptions(demo_r1cs.n_wires, values):
        bad = R.check(demo_r1cs, w)
        path = R.write_wtns(tmp_path / "bad.wtns", w)
        first = snarkjs_wtns_check(demo.r1cs, path)
        assert bad, label
        assert first == bad[0], f"{label}: snarkjs {first}, checker {bad[:5]}"


def test_unsatisfiable_statement_is_refused_by_witness_generation(
    demo: toolchain.CompiledCircuit, tmp_path: Path
) -> None:
    from zksolv.core.errors import ProofError

    with pytest.raises(ProofError):  # prod = 60000 is not < 1000: `ok === 1` fails
        toolchain.calculate_witness(demo.wasm, {"x": 300, "y": 200, "limit": 1000}, tmp_path / "w.wtns")
    with pytest.raises(ProofError):  # x >= 2^16: Num2Bits fails
        toolchain.calculate_witness(demo.wasm, {"x": 1 << 16, "y": 1, "limit": 1 << 32}, tmp_path / "w.wtns")


# ---------------------------------------------------------------- tamper sweep

def test_full_tamper_sweep_on_demo_rejects_every_wire(demo_r1cs: R.R1CS, demo_wtns: Path) -> None:
    w = R.read_wtns(demo_wtns)
    touching = R.constraints_touching(demo_r1cs)
    rng = random.Random(7)
    assert R.unconstrained_wires(demo_r1cs) == []
    for wire in range(1, demo_r1cs.n_wires):
        assert R.tamper_rejected(demo_r1cs, w, wire, w[wire] + 1, touching), wire
        assert R.tamper_rejected(demo_r1cs, w, wire, rng.randrange(P), touching), wire
        # the incremental check agrees with a full check
        t = list(w)
        t[wire] = (t[wire] + 1) % P
        assert R.check(demo_r1cs, t)
    assert R.check(demo_r1cs, w) == []  # tamper_rejected restored the witness


def test_underconstrained_circuit_is_flagged(tmp_path: Path) -> None:
    c = toolchain.compile_cached(BROKEN)
    r = R.R1CS.load(c.r1cs)
    syms = R.read_sym(c.sym)
    wires = R.signal_wires(syms)
    w = R.read_wtns(toolchain.calculate_witness(c.wasm, {"a": 6, "unused": 5}, tmp_path / "u.wtns"))
    assert R.check(r, w) == []
    # `half` (assigned with <--) is in no constraint: any value passes
    assert R.unconstrained_wires(r) == [wires["main.half"]]
    touching = R.constraints_touching(r)
    assert not R.tamper_rejected(r, w, wires["main.half"], w[wires["main.half"]] + 1, touching)
    assert R.tamper_rejected(r, w, wires["main.sq"], w[wires["main.sq"]] + 1, touching)
    # `unused` was removed by the optimiser altogether: it has no wire
    assert [s.name for s in R.dropped_signals(syms, ("main.",))] == ["main.unused"]
