"""One template at a time, in seconds (circomkit's WitnessTester, in Python).

Each case wraps one template of ``circuits/`` in a tiny main (the fixed-point constants rendered
by :func:`zksolv.toolchain.circuitgen.constants_source`), compiles it through the artifact cache (a few
seconds the first time, nothing afterwards), and then: inputs that must give a witness do, with
the outputs the Python reference computes; inputs that must not, don't; and the constraint count
is the one the template's header states. A template bug fails here without compiling a tier.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pytest

from zksolv.core import commitments as cm
from zksolv.core import fixedpoint as fp
from zksolv.toolchain import r1cs as R
from zksolv.toolchain.circuitgen import PRAGMA, constants_source, include_dirs
from zksolv.core.errors import ProofError
from zksolv.core.merkle import MerkleTree
from zksolv.core.poseidon import poseidon

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "test-templates"
P = fp.FIELD_MODULUS


@dataclass
class Harness:
    """A compiled one-template main: run inputs, read outputs by name, count constraints."""

    name: str
    circuit: Any
    wires: dict[str, int]

    @property
    def constraints(self) -> int:
        return self.circuit.n_constraints

    def run(self, inputs: Mapping[str, Any], tmp: Path) -> dict[str, int] | None:
        """The main's signals by name (``out``, ``sel[1]``, ...) or None when no witness exists."""
        from zksolv.toolchain import calculate_witness

        try:
            w = R.read_wtns(calculate_witness(self.circuit.wasm, _fields(inputs), tmp / f"{self.name}.wtns"))
        except ProofError:
            return None
        return {name[len("main."):]: w[wire] for name, wire in self.wires.items() if name.startswith("main.")}

    def passes(self, inputs: Mapping[str, Any], tmp: Path, **expected: Any) -> None:
        out = self.run(inputs, tmp)
        assert out is not None, f"{self.name}: no witness for {inputs}"
        for name, value in expected.items():
            values = value if isinstance(value, list) else [value]
            keys = [name] if not isinstance(value, list) else [f"{name}[{i}]" for i in range(len(values))]
            assert [out[k] for k in keys] == [v % P for v in values], f"{self.name}.{name}"

    def fails(self, inputs: Mapping[str, Any], tmp: Path) -> None:
        assert self.run(inputs, tmp) is None, f"{self.name}: a witness exists for {inputs}"


def _fields(inputs: Mapping[str, Any]) -> dict[str, Any]:
    def conv(v: Any) -> Any:
        return [conv(x) for x in v] if isinstance(v, (list, tuple)) else str(v % P)
    return {k: conv(v) for k, v in inputs.items()}


_COMPILED: dict[str, Harness] = {}


def harness(include: str, instance: str) -> Harness:
    """Compile ``component main = <instance>;`` with ``include``d (cached by content)."""
    from zksolv.toolchain import compile_cached

    if instance in _COMPILED:
        return _COMPILED[instance]
    name = "t_" + "".join(c if c.isalnum() else "_" for c in instance).strip("_")
    source = BUILD / f"{name}.circom"
    source.parent.mkdir(parents=True, exist_ok=True)
    text = f'pragma circom {PRAGMA};\ninclude "{include}";\n{constants_source()}\ncomponent main = {instance};\n'
    if not source.is_file() or source.read_text() != text:
        source.write_text(text)
    circuit = compile_cached(source, include_dirs())
    h = Harness(name, circuit, R.signal_wires(R.read_sym(circuit.sym)))
    _COMPILED[instance] = h
    return h


# ---------------------------------------------------------------- range.circom
def test_range_checks(tmp_path: Path) -> None:
    rc = harness("range.circom", "RangeCheck(8)")
    assert rc.constraints == 8  # n, as its header says
    rc.passes({"in": 255}, tmp_path)
    rc.fails({"in": 256}, tmp_path)
    rc.fails({"in": -1}, tmp_path)
    src = harness("range.circom", "SignedRangeCheck(8)")
    for ok in (255, -255, -256, 0):  # [-2^n, 2^n), as its header says
        src.passes({"in": ok}, tmp_path)
    for bad in (256, -257):
        src.fails({"in": bad}, tmp_path)
    slack = harness("range.circom", "NonNegSlack(8)")
    slack.passes({"a": 5, "b": 5}, tmp_path)
    slack.passes({"a": 260, "b": 5}, tmp_path)
    slack.fails({"a": 4, "b": 5}, tmp_path)  # a < b wraps far above 2^8
    slack.fails({"a": 300, "b": 0}, tmp_path)


# ---------------------------------------------------------------- aggregate.circom
def test_one_hot_selects_exactly_the_index(tmp_path: Path) -> None:
    h = harness("aggregate.circom", "OneHot(3)")
    assert h.constraints == 4  # U booleans + "weighted === idx" (idx is a wire; "total === 1" folds away)
    for idx in range(3):
        h.passes({"idx": idx}, tmp_path, sel=[int(u == idx) for u in range(3)])
    h.fails({"idx": 3}, tmp_path)
    one = harness("aggregate.circom", "OneHot(1)")
    one.passes({"idx": 0}, tmp_path, sel=[1])
    one.fails({"idx": 1}, tmp_path)


def test_position_greeks_route_to_the_underlying_and_bound_q(tmp_path: Path) -> None:
    h = harness("aggregate.circom", "PositionGreeks(2)")
    q, mark, delta, gamma, vega = -3 * 10**6, 1_000 * 10**6, -40_000_000, 7 * 10**7, 55 * 10**6
    base = {"u": 1, "mark": mark, "delta": delta, "gamma": gamma, "vega": vega}
    h.passes({"q": q, **base}, tmp_path, dDelta=[0, q * delta], dGamma=[0, q * gamma], dVega=[0, q * vega],
             value=q * mark)
    qmax = (1 << fp.QTY_BITS) - 1
    h.passes({"q": qmax, **base}, tmp_path)
    h.passes({"q": -qmax, **base}, tmp_path)
    for bad in (1 << fp.QTY_BITS, -(1 << fp.QTY_BITS), P // 2):  # |q| < 2^52, and -2^52 too
        h.fails({"q": bad, **base}, tmp_path)
    h.fails({"q": q, **base, "u": 2}, tmp_path)


def test_collateral_lookup_values_each_slot_by_its_row(tmp_path: Path) -> None:
    h = harness("aggregate.circom", "CollateralLookup(2)")
    table = {"asset_id": [111, 222], "price": [10**6, 60_000 * 10**6], "haircut": [0, 100_000]}
    unit = [p * (fp.RATIO_SCALE - hc) for p, hc in zip(table["price"], table["haircut"])]
    h.passes({"asset_index": [1, 0], "balance": [5, 7], **table}, tmp_path, slot_asset=[222, 111],
             value=5 * unit[1] + 7 * unit[0])
    h.fails({"asset_index": [2, 0], "balance": [5, 7], **table}, tmp_path)  # no such row
    h.fails({"asset_index": [0, 1], "balance": [1 << fp.BALANCE_BITS, 0], **table}, tmp_path)


# ---------------------------------------------------------------- account.circom
def test_masked_entries_are_the_commitment_entries(tmp_path: Path) -> None:
    from zksolv.core.identity import KIND_CALL, instrument_id, position_entry

    pos = harness("account.circom", "PositionEntry()")
    i = instrument_id("BTC", KIND_CALL, 67_000 * 10**6, 1_767_945_600)
    for q in (1, -1, 2_000_000, -(1 << fp.QTY_BITS) + 1):
        pos.passes({"q": q, "id": i}, tmp_path, entry=position_entry(i, q))
    pos.passes({"q": 0, "id": i}, tmp_path, entry=0)  # an empty slot
    assert pos.constraints == 3


def test_entry_chain_continues_and_skips_empty_blocks(tmp_path: Path) -> None:
    h = harness("account.circom", "EntryChain(16)")
    rng = random.Random(5)
    entries = [rng.randrange(1, 1 << 240) for _ in range(11)]
    padded = entries + [0] * 5
    h.passes({"init": 0, "entry": padded}, tmp_path, out=cm.entries_hash(entries))
    h.passes({"init": 0, "entry": [0] * 16}, tmp_path, out=0)
    init = rng.randrange(P)
    h.passes({"init": init, "entry": padded}, tmp_path, out=cm.entries_hash_from(init, padded))
    # an all-empty block leaves the state as it is, wherever it sits
    h.passes({"init": init, "entry": [0] * 8 + entries[:8]}, tmp_path,
             out=poseidon([init, *entries[:8]]))
    assert h.constraints == 2 * 420  # per block: Poseidon(9) 417, the empty-block IsZero 2 and select 1


def test_account_commitment_matches_python(tmp_path: Path) -> None:
    h = harness("account.circom", "AccountCommitment()")
    salt, ph, bh = 12345, 678, 910
    h.passes({"salt": salt, "positions_hash": ph, "balances_hash": bh}, tmp_path,
             commitment=cm.commitment_of_hashes(salt, ph, bh))


# ---------------------------------------------------------------- instrument, merkle, state
def test_leaf_and_inclusion_match_python(tmp_path: Path) -> None:
    leaf = harness("instrument.circom", "InstrumentLeaf()")
    from zksolv.core.market import Instrument, InstrumentKind

    ins = Instrument("X", 1, InstrumentKind.PUT, 5, 6, 7, -8, 9, 10)
    leaf.passes({"id": 99, "u": 1, "mark": 7, "delta": -8, "gamma": 9, "vega": 10}, tmp_path,
                leaf=cm.instrument_leaf(99, ins))
    tree = MerkleTree([rng_leaf for rng_leaf in range(1, 12)], depth=2)
    h = harness("merkle.circom", "MerkleInclusion(2)")
    last = fp.MERKLE_ARITY**2 - 1
    for index in (0, 5, 10, last):
        leaf_value = index + 1 if index < 11 else 0
        h.passes({"leaf": leaf_value, "index": index, "path": tree.path(index)}, tmp_path, root=tree.root)
    # an index beyond the tree cannot alias
    h.fails({"leaf": 6, "index": 5 + fp.MERKLE_ARITY**2, "path": tree.path(5)}, tmp_path)
    wrong = [list(level) for level in tree.path(5)]
    wrong[0][0] += 1
    assert h.run({"leaf": 6, "index": 5, "path": wrong}, tmp_path)["root"] != tree.root


def test_chunk_state_matches_python(tmp_path: Path) -> None:
    h = harness("state.circom", "ChunkState(2)")
    args = dict(counter=3, chain=44, Delta=[5, -6], Gamma=[7, 8], Vega=[-9, 10], position_value=-11, blinding=12)
    h.passes(args, tmp_path, out=cm.chunk_state(3, 44, [5, -6], [7, 8], [-9, 10], -11, 12))


# ---------------------------------------------------------------- margin pieces
def test_scenario_loss_stress_rounding_and_solvency(tmp_path: Path) -> None:
    loss = harness("scenario_loss.circom", "ScenarioLoss2L()")
    D, G, V, dS, dsig = -3 * 10**14, 5 * 10**18, 2 * 10**12, -6_500 * 10**6, 100_000
    expected = -(2 * fp.DELTA_LOSS_FACTOR * D * dS + G * dS * dS + 2 * fp.VEGA_LOSS_FACTOR * V * dsig)
    loss.passes({"Delta": D, "Gamma": G, "Vega": V, "dS": dS, "dsig": dsig}, tmp_path, loss2=expected)
    stress = harness("risk_stress.circom", "RiskStress(1, 2)")
    losses = [[expected, -expected]]
    top = max(0, *losses[0])
    stress.passes({"loss2": losses, "m": [top]}, tmp_path, MM_raw=top)
    stress.passes({"loss2": losses, "m": [top + 1]}, tmp_path)  # a larger hint only costs its prover
    stress.fails({"loss2": losses, "m": [top - 1]}, tmp_path)
    stress.fails({"loss2": [[-5, -7]], "m": [-1]}, tmp_path)  # m >= 0
    rounding = harness("solvency.circom", "MarginRounding()")
    mm_raw = 3 * fp.MM_DIVISOR + 1
    rounding.passes({"mm": 4, "MM_raw": mm_raw}, tmp_path)
    rounding.fails({"mm": 3, "MM_raw": mm_raw}, tmp_path)
    solvency = harness("solvency.circom", "Solvency()")
    V_, beta, min_ratio, mm = 400_000, 500_000, 1_100_000, 7 * 10**6
    req = mm * (fp.AVSL_ONE + V_ * beta) * min_ratio
    nav = -(-req // fp.RATIO_SCALE)
    solvency.passes({"nav_raw": nav, "mm": mm, "V": V_, "beta": beta, "min_ratio": min_ratio}, tmp_path, req_raw=req)
    solvency.fails({"nav_raw": nav - 1, "mm": mm, "V": V_, "beta": beta, "min_ratio": min_ratio}, tmp_path)
    solvency.fails({"nav_raw": -1, "mm": 0, "V": V_, "beta": beta, "min_ratio": min_ratio}, tmp_path)
