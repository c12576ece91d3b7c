"""End to end: compile the toy circuit, both setup routes, both proving backends, both verifiers.

Uses the real artifact cache (warm across CI runs; correct on an empty one);
tests of cache corruption use a private temporary cache.
"""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from zksolv.prover.backends import (
    ArkworksBackend,
    Proof,
    SnarkjsBackend,
    available_backends,
    eth_proof_to_snarkjs,
    get_backend,
)
from zksolv.verifier.groth16 import verify_groth16
from zksolv.proofs.proof_io import save_proof, save_public
from zksolv import toolchain
from zksolv.toolchain import trusted_setup
from zksolv.toolchain.cache import ArtifactCache
from zksolv.core.errors import ProofError, ToolchainError, VerificationError, ZksolvError

pytestmark = pytest.mark.slow

CIRCUIT = Path(__file__).parent / "circuits" / "range_multiplier.circom"
DEV_PTAU_POWER = 8  # 2^8 = 256 >= 66 constraints + 3 public + 1; prepare phase2 ~5 s
INPUTS = {"a": 3, "b": 5, "c": 15, "k": 7}
PUBLIC = ["105", "15", "7"]


@pytest.fixture(scope="module")
def circuit() -> toolchain.CompiledCircuit:
    return toolchain.compile_cached(CIRCUIT)


@pytest.fixture(scope="module")
def wtns(circuit: toolchain.CompiledCircuit, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return toolchain.calculate_witness(circuit.wasm, INPUTS, tmp_path_factory.mktemp("w") / "w.wtns")


@pytest.fixture(scope="module")
def dev_keys(circuit: toolchain.CompiledCircuit) -> trusted_setup.KeyPair:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trusted_setup.InsecureSetupWarning)
        return trusted_setup.dev_setup(circuit)


@pytest.fixture(scope="module")
def ptau() -> Path:
    return trusted_setup.dev_powers_of_tau(DEV_PTAU_POWER)


@pytest.fixture(scope="module")
def prod_keys(circuit: toolchain.CompiledCircuit, ptau: Path) -> trusted_setup.KeyPair:
    return trusted_setup.production_setup(circuit, ptau, contributions=2, beacon="0123456789abcdef" * 4)


def snarkjs_verifies(keys: trusted_setup.KeyPair, proof: dict[str, Any], public: list[Any], tmp: Path) -> bool:
    save_proof(tmp / "proof.json", proof)
    save_public(tmp / "public.json", public)
    return toolchain.snarkjs_groth16_verify(keys.verification_key, tmp / "public.json", tmp / "proof.json")


def py_verifies(keys: trusted_setup.KeyPair, proof: dict[str, Any], public: list[Any]) -> bool:
    """py_ecc verdict with 'malformed' counted as 'invalid' (for comparison with snarkjs)."""
    try:
        return verify_groth16(keys.load_verification_key(), proof, public)
    except VerificationError:
        return False


# ------------------------------------------------------------------ setup

def test_dev_setup_is_flagged_insecure(circuit: toolchain.CompiledCircuit) -> None:
    with pytest.warns(trusted_setup.InsecureSetupWarning, match="NOT FOR REAL FUNDS"):
        keys = trusted_setup.dev_setup(circuit)
    assert keys.route == "dev" and keys.insecure and "toxic waste" in (keys.warning or "")
    assert keys.arkworks_pk is not None and keys.arkworks_pk.is_file() and keys.zkey is None
    vk = keys.load_verification_key()
    assert vk["protocol"] == "groth16" and vk["nPublic"] == keys.n_public == 3


def test_production_setup(prod_keys: trusted_setup.KeyPair, ptau: Path) -> None:
    assert prod_keys.route == "snarkjs" and not prod_keys.insecure and prod_keys.warning is None
    assert prod_keys.zkey is not None and prod_keys.zkey.is_file()
    assert prod_keys.load_verification_key()["nPublic"] == 3
    info = json.loads((prod_keys.directory / "setup.json").read_text())
    assert info["contributions"] == 2 and info["beacon"]
    assert trusted_setup.read_ptau_info(ptau) == trusted_setup.PtauInfo(DEV_PTAU_POWER, DEV_PTAU_POWER, True)
    # intermediate zkeys are not kept
    assert sorted(p.name for p in prod_keys.directory.iterdir()) == [
        "MANIFEST.json", "circuit_final.zkey", "setup.json", "verification_key.json"]


def test_setup_cache_hits(circuit: toolchain.CompiledCircuit, ptau: Path, prod_keys: trusted_setup.KeyPair,
                          dev_keys: trusted_setup.KeyPair) -> None:
    cache = ArtifactCache()  # same root as the fixtures: everything is already built
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trusted_setup.InsecureSetupWarning)
        assert trusted_setup.dev_setup(circuit, cache=cache) == dev_keys
    assert trusted_setup.dev_powers_of_tau(DEV_PTAU_POWER, cache=cache) == ptau
    again = trusted_setup.production_setup(circuit, ptau, contributions=2, beacon="0123456789abcdef" * 4,
                                           cache=cache)
    assert again == prod_keys
    assert toolchain.compile_cached(CIRCUIT, cache=cache) == circuit
    assert cache.builds == 0
    # a different option is a different cache entry (built now, or in an earlier run)
    assert trusted_setup.production_setup(circuit, ptau, contributions=1, cache=cache).zkey != prod_keys.zkey


def test_ptau_too_small(circuit: toolchain.CompiledCircuit) -> None:
    small = trusted_setup.dev_powers_of_tau(6)  # 64 < 66 + 3 + 1
    with pytest.raises(ToolchainError, match=r"needs 2\^power >= 70 .* use power >= 7"):
        trusted_setup.production_setup(circuit, small)


def test_ptau_missing_or_unprepared(circuit: toolchain.CompiledCircuit, tmp_path: Path) -> None:
    with pytest.raises(ToolchainError, match="not found"):
        trusted_setup.production_setup(circuit, tmp_path / "none.ptau")
    raw = tmp_path / "raw.ptau"
    toolchain.snarkjs(["powersoftau", "new", "bn128", "8", raw], timeout=120)
    with pytest.raises(ToolchainError, match="not prepared for phase 2"):
        trusted_setup.production_setup(circuit, raw)
    (tmp_path / "junk.ptau").write_bytes(b"hello world, not a ptau")
    with pytest.raises(ToolchainError, match="bad magic"):
        trusted_setup.production_setup(circuit, tmp_path / "junk.ptau")
    with pytest.raises(ToolchainError, match="beacon"):
        trusted_setup.production_setup(circuit, trusted_setup.dev_powers_of_tau(DEV_PTAU_POWER), beacon="xyz")
    with pytest.raises(ToolchainError, match="unknown setup route"):
        trusted_setup.setup_keys(circuit, "magic")


def test_corrupted_setup_cache_is_rebuilt(circuit: toolchain.CompiledCircuit, wtns: Path, tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trusted_setup.InsecureSetupWarning)
        keys = trusted_setup.dev_setup(circuit, cache=cache)
        assert keys.arkworks_pk is not None
        data = keys.arkworks_pk.read_bytes()
        keys.arkworks_pk.write_bytes(data[: len(data) // 2])  # truncated proving key
        rebuilt = trusted_setup.dev_setup(circuit, cache=cache)
    assert cache.builds == 2
    assert rebuilt.arkworks_pk is not None and rebuilt.arkworks_pk.stat().st_size == len(data)
    proof = ArkworksBackend().prove(rebuilt, wtns)
    assert verify_groth16(rebuilt.load_verification_key(), proof.proof, proof.public_signals)


# ------------------------------------------------------------------ proving

def test_backend_registry(dev_keys: trusted_setup.KeyPair, prod_keys: trusted_setup.KeyPair) -> None:
    assert available_backends() == ["arkworks", "snarkjs"]
    assert isinstance(get_backend("snarkjs"), SnarkjsBackend)
    with pytest.raises(ZksolvError, match="unknown proving backend"):
        get_backend("rapidsnark")
    assert not SnarkjsBackend().supports(dev_keys)  # dev keys have no .zkey
    assert ArkworksBackend().supports(dev_keys) and ArkworksBackend().supports(prod_keys)


def test_snarkjs_backend_rejects_dev_keys(dev_keys: trusted_setup.KeyPair, wtns: Path) -> None:
    with pytest.raises(ProofError, match="cannot prove with 'dev' keys"):
        SnarkjsBackend().prove(dev_keys, wtns)


@pytest.mark.parametrize("route, backend", [("dev", "arkworks"), ("snarkjs", "arkworks"), ("snarkjs", "snarkjs")])
def test_prove_and_verify_both_ways(
    route: str, backend: str, dev_keys: trusted_setup.KeyPair, prod_keys: trusted_setup.KeyPair,
    wtns: Path, tmp_path: Path,
) -> None:
    keys = dev_keys if route == "dev" else prod_keys
    proof = get_backend(backend).prove(keys, wtns)
    assert isinstance(proof, Proof) and proof.backend == backend
    assert proof.public_signals == PUBLIC
    assert verify_groth16(keys.load_verification_key(), proof.proof, proof.public_signals) is True
    assert snarkjs_verifies(keys, proof.proof, proof.public_signals, tmp_path) is True


def _tampered(proof: dict[str, Any], public: list[str]) -> dict[str, tuple[dict[str, Any], list[str], bool]]:
    """name -> (proof, public, malformed?)"""
    p = 21888242871839275222246405745257275088696311157297823662689037894645226208583
    out: dict[str, tuple[dict[str, Any], list[str], bool]] = {}
    out["public input changed"] = (proof, [public[0], public[1], str(int(public[2]) + 1)], False)
    bad = copy.deepcopy(proof)
    bad["pi_a"][0] = str(int(bad["pi_a"][0]) + 1)
    out["coordinate changed"] = (bad, public, True)
    bad = copy.deepcopy(proof)
    bad["pi_a"][1] = str(p - int(bad["pi_a"][1]))
    out["A negated"] = (bad, public, False)
    bad = copy.deepcopy(proof)
    bad["pi_b"] = [bad["pi_b"][0][::-1], bad["pi_b"][1][::-1], ["1", "0"]]
    out["G2 coordinates swapped"] = (bad, public, True)
    bad = copy.deepcopy(proof)
    bad["pi_a"], bad["pi_c"] = bad["pi_c"], bad["pi_a"]
    out["A and C swapped"] = (bad, public, False)
    return out


@pytest.mark.parametrize("backend", ["arkworks", "snarkjs"])
def test_verifiers_agree_on_tampered_proofs(
    backend: str, prod_keys: trusted_setup.KeyPair, wtns: Path, tmp_path: Path
) -> None:
    proof = get_backend(backend).prove(prod_keys, wtns)
    for name, (bad, public, malformed) in _tampered(proof.proof, proof.public_signals).items():
        assert snarkjs_verifies(prod_keys, bad, public, tmp_path) is False, name
        assert py_verifies(prod_keys, bad, public) is False, name
        if malformed:
            with pytest.raises(VerificationError):
                verify_groth16(prod_keys.load_verification_key(), bad, public)
        else:
            assert verify_groth16(prod_keys.load_verification_key(), bad, public) is False, name


def test_backends_fail_cleanly_on_wrong_witness(prod_keys: trusted_setup.KeyPair, tmp_path: Path) -> None:
    other = tmp_path / "other.circom"
    other.write_text("pragma circom 2.1.0;\ntemplate T() { signal input x; signal output y; y <== x * x; }\n"
                     "component main = T();\n")
    cc = toolchain.compile_circuit(other, tmp_path / "other")
    w = toolchain.calculate_witness(cc.wasm, {"x": 4}, tmp_path / "o.wtns")
    for backend in ("arkworks", "snarkjs"):
        with pytest.raises(ProofError, match="witness of another circuit"):
            get_backend(backend).prove(prod_keys, w)


def test_eth_proof_layout() -> None:
    words = list(range(1, 9))
    blob = b"".join(w.to_bytes(32, "big") for w in words)
    p = eth_proof_to_snarkjs(blob)
    assert p["pi_a"] == ["1", "2", "1"]
    assert p["pi_b"] == [["4", "3"], ["6", "5"], ["1", "0"]]  # [re, im]
    assert p["pi_c"] == ["7", "8", "1"]
    with pytest.raises(ProofError):
        eth_proof_to_snarkjs(blob[:-1])
