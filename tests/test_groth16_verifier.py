"""Tests of zksolv.verifier.groth16 / zksolv.proofs.proof_io without node: a synthetic Groth16 instance.

The instance is built from known exponents (alpha, beta, gamma, delta, IC,
A, B chosen; C solved from a*b = alpha*beta + x*gamma + c*delta), which gives
a well-formed, valid proof in exact snarkjs JSON shape.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from py_ecc.fields import optimized_bn128_FQ2 as FQ2
from py_ecc.optimized_bn128 import G1, G2, b2, curve_order, field_modulus, is_on_curve, multiply, normalize

import zksolv.verifier.groth16 as g16
from zksolv.proofs import proof_io
from zksolv.core.errors import VerificationError

R = curve_order
P = field_modulus


def g1_json(k: int) -> list[str]:
    x, y = normalize(multiply(G1, k % R))
    return [str(x.n), str(y.n), "1"]


def g2_json(k: int) -> list[list[str]]:
    x, y = normalize(multiply(G2, k % R))
    return [[str(x.coeffs[0]), str(x.coeffs[1])], [str(y.coeffs[0]), str(y.coeffs[1])], ["1", "0"]]


def make_instance(public: list[int]) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """(vk, proof, public) with a valid proof for ``public``."""
    alpha, beta, gamma, delta = 11, 13, 17, 19
    ic = [23 + 7 * i for i in range(len(public) + 1)]
    a, bb = 29, 31
    x = (ic[0] + sum(s * k for s, k in zip(public, ic[1:]))) % R
    c = (a * bb - alpha * beta - x * gamma) * pow(delta, -1, R) % R
    vk = {
        "protocol": "groth16", "curve": "bn128", "nPublic": len(public),
        "vk_alpha_1": g1_json(alpha), "vk_beta_2": g2_json(beta), "vk_gamma_2": g2_json(gamma),
        "vk_delta_2": g2_json(delta), "IC": [g1_json(k) for k in ic],
    }
    proof = {"pi_a": g1_json(a), "pi_b": g2_json(bb), "pi_c": g1_json(c), "protocol": "groth16", "curve": "bn128"}
    return vk, proof, [str(s) for s in public]


@pytest.fixture(scope="module")
def instance() -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    return make_instance([105, 15, 7])


@pytest.fixture(scope="module")
def pvk(instance: tuple[dict[str, Any], dict[str, Any], list[str]]) -> g16.PreparedVerifyingKey:
    return g16.parse_verification_key(instance[0])


def test_valid_proof(instance: Any, pvk: g16.PreparedVerifyingKey) -> None:
    vk, proof, public = instance
    assert g16.verify_groth16(vk, proof, public) is True
    assert g16.verify_groth16(pvk, proof, public) is True
    assert g16.verify_groth16(pvk, proof, [int(s) for s in public]) is True  # JSON ints accepted


def test_one_final_exponentiation(instance: Any, pvk: g16.PreparedVerifyingKey, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = g16.final_exponentiate

    def counting(f: Any) -> Any:
        calls.append(1)
        return real(f)

    monkeypatch.setattr(g16, "final_exponentiate", counting)
    _vk, proof, public = instance
    assert g16.verify_groth16(g16.parse_verification_key(instance[0]), proof, public)
    assert calls == [1]


def test_zero_public_inputs() -> None:
    vk, proof, public = make_instance([0, 0])
    assert g16.verify_groth16(vk, proof, public)
    vk, proof, public = make_instance([])
    assert public == [] and g16.verify_groth16(vk, proof, public)


# ------------------------------------------------------- well-formed but invalid -> False

def test_changed_public_input_is_false(instance: Any, pvk: g16.PreparedVerifyingKey) -> None:
    _vk, proof, public = instance
    assert g16.verify_groth16(pvk, proof, [public[0], public[1], "8"]) is False


def test_other_valid_points_are_false(instance: Any, pvk: g16.PreparedVerifyingKey) -> None:
    _vk, proof, public = instance
    for field_name, value in (("pi_a", g1_json(30)), ("pi_c", g1_json(5)), ("pi_b", g2_json(32))):
        bad = copy.deepcopy(proof)
        bad[field_name] = value
        assert g16.verify_groth16(pvk, bad, public) is False
    neg_a = copy.deepcopy(proof)
    neg_a["pi_a"][1] = str(P - int(proof["pi_a"][1]))  # -A: on the curve, wrong
    assert g16.verify_groth16(pvk, neg_a, public) is False


# ------------------------------------------------------- malformed -> VerificationError

def test_changed_coordinate_is_malformed(instance: Any, pvk: g16.PreparedVerifyingKey) -> None:
    _vk, proof, public = instance
    bad = copy.deepcopy(proof)
    bad["pi_a"][0] = str(int(bad["pi_a"][0]) + 1)
    with pytest.raises(VerificationError, match="pi_a: point is not on the BN254 G1 curve"):
        g16.verify_groth16(pvk, bad, public)


def test_swapped_g2_order_is_malformed(instance: Any, pvk: g16.PreparedVerifyingKey) -> None:
    _vk, proof, public = instance
    bad = copy.deepcopy(proof)
    bad["pi_b"] = [bad["pi_b"][0][::-1], bad["pi_b"][1][::-1], ["1", "0"]]  # EVM order
    with pytest.raises(VerificationError, match=r"\[real, imaginary\]"):
        g16.verify_groth16(pvk, bad, public)


def _fq2_sqrt(a: FQ2) -> FQ2 | None:
    """Square root in F_p^2 (p = 3 mod 4; Adj & Rodriguez-Henriquez, alg. 9), None if not a square."""
    a1 = a ** ((P - 3) // 4)
    alpha = a1 * a1 * a
    a0 = alpha ** P * alpha
    minus_one = FQ2([P - 1, 0])
    if a0 == minus_one:
        return None
    x0 = a1 * a
    if alpha == minus_one:
        return FQ2([0, 1]) * x0
    return (alpha + FQ2.one()) ** ((P - 1) // 2) * x0


def test_g2_point_outside_subgroup_is_malformed(instance: Any, pvk: g16.PreparedVerifyingKey) -> None:
    _vk, proof, public = instance
    for t in range(1, 100):
        x = FQ2([t, 1])
        y = _fq2_sqrt(x ** 3 + b2)
        if y is not None:
            break
    assert y is not None and is_on_curve((x, y, FQ2.one()), b2)
    bad = copy.deepcopy(proof)
    bad["pi_b"] = [[str(c) for c in x.coeffs], [str(c) for c in y.coeffs], ["1", "0"]]
    with pytest.raises(VerificationError, match="subgroup"):
        g16.verify_groth16(pvk, bad, public)


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda p: p.__setitem__("pi_a", [p["pi_a"][0], str(int(p["pi_a"][1]) + P), "1"]), "field modulus"),
        (lambda p: p.__setitem__("pi_a", [float(p["pi_a"][0]), p["pi_a"][1], "1"]), "float"),
        (lambda p: p.__setitem__("pi_a", [True, p["pi_a"][1], "1"]), "boolean"),
        (lambda p: p.__setitem__("pi_a", ["0x" + "1" * 10, p["pi_a"][1], "1"]), "canonical"),
        (lambda p: p.__setitem__("pi_a", [" " + p["pi_a"][0], p["pi_a"][1], "1"]), "canonical"),
        (lambda p: p.__setitem__("pi_a", ["0" + p["pi_a"][0], p["pi_a"][1], "1"]), "canonical"),
        (lambda p: p.__setitem__("pi_a", ["-" + p["pi_a"][0], p["pi_a"][1], "1"]), "canonical"),
        (lambda p: p.__setitem__("pi_a", [p["pi_a"][0], p["pi_a"][1], "2"]), "affine"),
        (lambda p: p.__setitem__("pi_a", ["0", "1", "0"]), "infinity"),
        (lambda p: p.__setitem__("pi_a", p["pi_a"][:1]), "entries"),
        (lambda p: p.__setitem__("pi_b", p["pi_b"][0]), "list|entries"),
        (lambda p: p.__setitem__("pi_b", [p["pi_b"][0], p["pi_b"][1], ["1", "1"]]), "affine"),
        (lambda p: p.pop("pi_c"), "pi_c missing"),
        (lambda p: p.__setitem__("protocol", "plonk"), "protocol"),
        (lambda p: p.__setitem__("pi_c", "123"), "expected a list"),
    ],
)
def test_malformed_proof(instance: Any, pvk: g16.PreparedVerifyingKey, mutate: Any, match: str) -> None:
    _vk, proof, public = instance
    bad = copy.deepcopy(proof)
    mutate(bad)
    with pytest.raises(VerificationError, match=match):
        g16.verify_groth16(pvk, bad, public)


@pytest.mark.parametrize(
    "public, match",
    [
        (["105", "15"], "expected 3, got 2"),
        (["105", "15", "7", "1"], "expected 3, got 4"),
        (["105", "15", str(R)], ">= r"),
        (["105", "15", str(R + 7)], ">= r"),
        (["105", "15", 7.0], "float"),
        ("105", "expected a list"),
        (["105", "15", None], "NoneType"),
    ],
)
def test_malformed_public(instance: Any, pvk: g16.PreparedVerifyingKey, public: Any, match: str) -> None:
    with pytest.raises(VerificationError, match=match):
        g16.verify_groth16(pvk, instance[1], public)


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda v: v.__setitem__("protocol", "plonk"), "protocol"),
        (lambda v: v.__setitem__("curve", "bls12381"), "curve"),
        (lambda v: v.__setitem__("nPublic", 2), "IC has 4 points"),
        (lambda v: v.__setitem__("nPublic", "3"), "nPublic"),
        (lambda v: v.pop("vk_delta_2"), "vk_delta_2 missing"),
        (lambda v: v.__setitem__("vk_gamma_2", [v["vk_gamma_2"][0][::-1], v["vk_gamma_2"][1][::-1], ["1", "0"]]),
         "G2"),
        (lambda v: v["IC"].__setitem__(1, [v["IC"][1][0], "5", "1"]), r"IC\[1\]"),
    ],
)
def test_malformed_vk(instance: Any, mutate: Any, match: str) -> None:
    vk = copy.deepcopy(instance[0])
    mutate(vk)
    with pytest.raises(VerificationError, match=match):
        g16.parse_verification_key(vk)


# ------------------------------------------------------- proof_io

def test_proof_io_roundtrip(instance: Any, tmp_path: Path) -> None:
    vk, proof, public = instance
    proof_io.save_proof(tmp_path / "proof.json", proof)
    proof_io.save_public(tmp_path / "public.json", [105, 15, "7"])
    proof_io.save_verification_key(tmp_path / "vk.json", vk)
    assert proof_io.load_proof(tmp_path / "proof.json") == proof
    assert proof_io.load_public(tmp_path / "public.json") == public
    assert proof_io.load_verification_key(tmp_path / "vk.json") == vk
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proof.json", "public.json", "vk.json"]
    (tmp_path / "bad.json").write_text("{truncated")
    with pytest.raises(VerificationError, match="not valid JSON"):
        proof_io.load_proof(tmp_path / "bad.json")
    with pytest.raises(VerificationError, match="expected a JSON object"):
        proof_io.load_proof(tmp_path / "public.json")
    with pytest.raises(VerificationError, match="not found"):
        proof_io.load_public(tmp_path / "missing.json")


# ------------------------------------------------------- import hygiene

def _modules_after(imports: str) -> set[str]:
    code = f"import sys, json\n{imports}\nprint(json.dumps(sorted(sys.modules)))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return set(json.loads(out.stdout))


#: Never on the keeper's verification path: native / JIT code, the node toolchain, the circuit
#: generator, the prover, plotting.
KEEPER_FORBIDDEN = {"numba", "numpy", "groth16py", "matplotlib", "subprocess", "zksolv.toolchain",
                    "zksolv.toolchain.trusted_setup", "zksolv.toolchain.cache", "zksolv.toolchain.circuitgen",
                    "zksolv.toolchain.artifacts", "zksolv.chain", "zksolv.chain.solidity", "prover", "zksolv.prover.prove",
                    "zksolv.prover.backends"}


#: the keeper's own packages; every other zksolv module it imports must be in the allowed sets below
KEEPER_OWN = ("zksolv.verifier.", "zksolv.proofs.")


def test_verifier_imports_no_node_numba_or_circuit_code() -> None:
    mods = _modules_after("import zksolv.verifier.groth16, zksolv.proofs.proof_io, zksolv.verifier.calldata")
    assert not (mods & KEEPER_FORBIDDEN), sorted(mods & KEEPER_FORBIDDEN)
    allowed_zksolv = {"zksolv", "zksolv.core", "zksolv.verifier", "zksolv.proofs", "zksolv.core.errors", "zksolv.core.atomic", "zksolv.core.fixedpoint", "zksolv.core.market",
                      "zksolv.core.commitments", "zksolv.core.poseidon", "zksolv.core.poseidon_native", "zksolv.core.identity", "zksolv.core.venue"}
    assert {m for m in mods if m.startswith("zksolv") and not m.startswith(KEEPER_OWN)} <= allowed_zksolv


def test_keeper_entry_point_imports_no_node_numba_or_circuit_code() -> None:
    """``zksolv.verifier.verify`` (what a keeper runs) recomputes market_root, so it needs the market,
    commitment, Merkle and Poseidon code — and nothing that compiles, proves or runs node."""
    mods = _modules_after("import zksolv.verifier, zksolv.verifier.verify, zksolv.proofs.statement, zksolv.verifier.batch, zksolv.verifier.bn254, "
                          "zksolv.verifier.native, zksolv.verifier.keeper, zksolv.verifier.submissions, "
                          "zksolv.proofs.keyset, zksolv.proofs.circuit_names")
    assert {"zksolv.verifier.verify", "zksolv.verifier.batch", "zksolv.verifier.native", "zksolv.core.commitments",
            "zksolv.verifier.submissions"} <= mods
    assert not (mods & KEEPER_FORBIDDEN), sorted(mods & KEEPER_FORBIDDEN)
    assert not {m for m in mods if m.startswith(("numba", "matplotlib", "zksolv.prover", "groth16py"))}
    allowed_zksolv = {"zksolv", "zksolv.core", "zksolv.verifier", "zksolv.proofs", "zksolv.core.errors", "zksolv.core.atomic", "zksolv.core.fixedpoint", "zksolv.core.market",
                      "zksolv.core.commitments", "zksolv.core.poseidon", "zksolv.core.poseidon_native",
                      "zksolv.core.account", "zksolv.core.merkle", "zksolv.core.identity", "zksolv.core.venue",
                      "zksolv.core.policy", "zksolv.core.root_cache", "zksolv.core.cache_root"}
    assert {m for m in mods if m.startswith("zksolv") and not m.startswith(KEEPER_OWN)} <= allowed_zksolv, sorted(mods)


def test_keeper_hashing_natively_still_loads_no_numpy() -> None:
    """Hashing a tree (what ``zksolv verify`` does for market_root) loads the native Poseidon
    extension when installed (a compiled module is fine on the keeper path) but never numpy."""
    from zksolv.core import extras

    mods = _modules_after("import zksolv.verifier.verify\nfrom zksolv.core.merkle import MerkleTree\n"
                          "from zksolv.core.commitments import hash_list\n"
                          "MerkleTree(list(range(70))).root; hash_list(list(range(20)))")
    assert "zksolv.core.poseidon_native" in mods
    assert ("light_poseidon_python" in mods) == extras.importable("light_poseidon_python")
    assert not (mods & KEEPER_FORBIDDEN), sorted(mods & KEEPER_FORBIDDEN)
    assert not {m for m in mods if m.startswith(("numba", "numpy", "matplotlib", "zksolv.prover", "groth16py"))}


# ------------------------------------------------- canonical numbers in calldata

@pytest.mark.parametrize("text", ["1_000", " 1", "1 ", "1\n", "\t7", "０", "１２", "٣", "+1", "-1", "01", "0x10",
                                  "1e3", "", "1" * 81])
def test_calldata_accepts_only_canonical_decimals(text: str) -> None:
    from zksolv.verifier.calldata import public_to_calldata
    from zksolv.core.errors import InputError

    with pytest.raises(InputError, match=r"^public\[1\]: ") as info:
        public_to_calldata(["5", text])
    assert isinstance(info.value, VerificationError)  # keeper loops catching VerificationError still reject it


def test_calldata_canonical_values_and_field_names() -> None:
    from zksolv.verifier.calldata import proof_to_calldata, public_to_calldata
    from zksolv.core.errors import InputError

    assert public_to_calldata(["0", 7]) == [0, 7]
    assert public_to_calldata([str(R - 1), "1000"]) == [R - 1, 1000]
    with pytest.raises(InputError, match="public\\[0\\]: expected an integer, got a boolean"):
        public_to_calldata([True, "1"])
    with pytest.raises(InputError, match="public\\[0\\]: negative"):
        public_to_calldata([-1, "1"])
    with pytest.raises(InputError, match="public\\[0\\]: expected an integer or a decimal string, got float"):
        public_to_calldata([1.0, "1"])
    proof = {"pi_a": ["1", "2", "1"], "pi_b": [["1", "2"], ["3", "4"], ["1", "0"]], "pi_c": ["5", "6", "1"]}
    assert proof_to_calldata(proof) == ([1, 2], [[2, 1], [4, 3]], [5, 6])
    with pytest.raises(InputError, match=r"^pi_b\.y\.im: not a canonical decimal integer"):
        proof_to_calldata({**proof, "pi_b": [["1", "2"], ["3", "4 "], ["1", "0"]]})


def test_groth16_refuses_a_trailing_newline() -> None:
    vk, proof, public = make_instance([3, 5])
    with pytest.raises(VerificationError, match="canonical"):
        g16.verify_groth16(vk, proof, [public[0] + "\n", public[1]])
