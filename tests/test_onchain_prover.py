"""A proof made by zksolv's prover, checked on chain: the generated verifier and
SolvencyRegistry.proveSolvent accept it, replay after the root moves is rejected,
and the contract, py_ecc and snarkjs agree on valid and tampered proofs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from zksolv.verifier.calldata import (
    encode_post_market_root, encode_prove_solvent, encode_register_account, encode_verify_proof,
    proof_to_calldata, public_to_calldata,
)
from zksolv.verifier.groth16 import verify_groth16
from zksolv.proofs.proof_io import save_proof, save_public, save_verification_key
from zksolv.chain.evm import EvmScript
from zksolv.chain.solidity import deploy_registry
from zksolv.toolchain import snarkjs_groth16_verify

pytestmark = pytest.mark.slow

_spec = importlib.util.spec_from_file_location("zksolv_bench_gas", Path(__file__).parent.parent / "benchmarks" / "bench_gas.py")
bench_gas = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench_gas
_spec.loader.exec_module(bench_gas)

TRADER = "0x" + "7a" * 20


@pytest.fixture(scope="module")
def tier():
    """Demo market, stress tier: the same account proven at epochs e and e+1."""
    return bench_gas.prover_tier("stress")


@pytest.fixture(scope="module")
def chain(tier):
    pub1, pub2 = public_to_calldata(tier.public), public_to_calldata(tier.public_next)
    a, b, c = proof_to_calldata(tier.proof)
    s = EvmScript()
    deployed = deploy_registry(s, [(tier.capacity, tier.vk)])
    reg, v = deployed.registry, deployed.verifiers[tier.capacity]
    s.call("verify", v, encode_verify_proof(a, b, c, pub1))
    s.call("verify_commitment_plus1", v, encode_verify_proof(a, b, c, [pub1[0] + 1, pub1[1]]))
    s.call("verify_next_root", v, encode_verify_proof(a, b, c, [pub1[0], pub2[1]]))
    s.call("post_e", reg, encode_post_market_root(1, pub1[1]))
    s.call("register", reg, encode_register_account(TRADER, pub1[0]))
    s.call("unaccepted_tier", reg, encode_prove_solvent(tier.capacity * 2, a, b, c, pub1[0]))
    s.call("prove_e", reg, encode_prove_solvent(tier.capacity, a, b, c, pub1[0]))
    s.call("post_e1", reg, encode_post_market_root(2, pub2[1]), advance_seconds=3601)  # after e's window (MIN_PROOF_WINDOW)
    s.call("replay_e", reg, encode_prove_solvent(tier.capacity, a, b, c, pub1[0]))
    s.call("prove_e1", reg, encode_prove_solvent(tier.capacity, *proof_to_calldata(tier.proof_next), pub2[0]))
    return s.run()


def test_prover_proof_accepted_on_chain(chain) -> None:
    assert chain["verify"].returned_bool()
    assert chain["prove_e"].success, chain["prove_e"].revert
    assert chain["prove_e1"].success, chain["prove_e1"].revert
    # Same figure as the toy circuit: every tier has two public inputs.
    assert chain["prove_e"].execution_gas <= 210_500  # docs/onchain.md: 210,374 in a registry's first tier slot
    assert chain["unaccepted_tier"].revert == "UnknownTier(uint256)"


def test_tampered_and_replayed_rejected_on_chain(chain) -> None:
    assert not chain["verify_commitment_plus1"].returned_bool()
    assert not chain["verify_next_root"].returned_bool()
    assert not chain["replay_e"].success and chain["replay_e"].revert == "InvalidProof()"


def test_contract_python_and_snarkjs_agree(tier, chain, tmp_path: Path) -> None:
    cases = {"valid": (tier.public, True), "commitment_plus1": ([str(int(tier.public[0]) + 1), tier.public[1]], False)}
    on_chain = {"valid": chain["verify"].returned_bool(), "commitment_plus1": chain["verify_commitment_plus1"].returned_bool()}
    for name, (public, expected) in cases.items():
        folder = tmp_path / name
        save_proof(folder / "proof.json", tier.proof)
        save_public(folder / "public.json", [str(x) for x in public])
        save_verification_key(folder / "vk.json", tier.vk)
        assert verify_groth16(tier.vk, tier.proof, public) is expected
        assert snarkjs_groth16_verify(folder / "vk.json", folder / "public.json", folder / "proof.json") is expected
        assert on_chain[name] is expected
