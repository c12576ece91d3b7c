"""The margin circuit end to end: prove and verify in every risk mode, binding,
agreement with snarkjs, and the production (powers-of-tau) route with both backends."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from zksolv.prover.prove import ProofBundle, prove
from tests.test_model import one_call_market
from zksolv.verifier.groth16 import verify_groth16
from zksolv.verifier.verify import verify
from zksolv.core.account import Account, Position
from zksolv.toolchain.artifacts import build_artifacts
from zksolv.toolchain.circuitgen import Tier
from zksolv.core.commitments import account_commitment_of
from zksolv.app.demo import demo_market, demo_portfolios
from zksolv.core.errors import ProofError, VerificationError
from zksolv.core.fixedpoint import FIELD_MODULUS
from zksolv.core.market import RiskMode
from zksolv.toolchain import snarkjs_groth16_verify
from zksolv.toolchain.trusted_setup import ROUTE_SNARKJS, dev_powers_of_tau

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=[m.value for m in RiskMode])
def proved(request) -> tuple:
    """A demo market of each risk mode and a proof for the short strangle book."""
    market = demo_market(risk_mode=request.param, mc_scenarios=16)
    account = demo_portfolios(market)["short_strangle"]
    return market, account, prove(account, market)


def test_solvent_account_proves_and_verifies(proved) -> None:
    market, account, bundle = proved
    verdict = verify(bundle.proof, bundle.public, market, bundle.verification_key,
                     account_commitment=account_commitment_of(account, market), statement=bundle.statement)
    assert verdict.valid, verdict.reason
    assert bundle.statement.risk_mode == market.params.risk_mode.value
    assert bundle.statement.insecure_setup  # development keys say so


def test_proof_is_bound_to_commitment_root_and_epoch(proved) -> None:
    market, account, bundle = proved
    vk = bundle.verification_key
    commitment, root = (int(x) for x in bundle.public)
    assert not verify(bundle.proof, [str(commitment + 1), str(root)], market, vk).valid
    assert not verify(bundle.proof, [str(commitment), str(root + 1)], market, vk).valid
    assert not verify(bundle.proof, bundle.public, replace(market, epoch=market.epoch + 1), vk).valid
    assert not verify(bundle.proof, bundle.public, market, vk, account_commitment=commitment + 1).valid
    # an otherwise valid proof with a public input forced past the registered-root check
    tampered = verify(bundle.proof, [str(commitment + 1), str(root)], market, vk)
    assert "pairing" in tampered.reason


def test_our_verifier_and_snarkjs_agree(proved, tmp_path: Path) -> None:
    _market, _account, bundle = proved
    commitment, root = bundle.public
    bad_proof = json.loads(json.dumps(bundle.proof))
    bad_proof["pi_c"][0] = str((int(bad_proof["pi_c"][0]) + 1) % FIELD_MODULUS)
    cases = {
        "valid": (bundle.proof, bundle.public),
        "commitment+1": (bundle.proof, [str(int(commitment) + 1), root]),
        "swapped publics": (bundle.proof, [root, commitment]),
        "pi_c changed": (bad_proof, bundle.public),
    }
    for name, (proof, public) in cases.items():
        folder = tmp_path / name.replace(" ", "_")
        ProofBundle(proof, list(public), bundle.statement, bundle.verification_key).save(folder)
        theirs = snarkjs_groth16_verify(folder / "verification_key.json", folder / "public.json", folder / "proof.json")
        assert pairing_check(bundle.verification_key, proof, public) == theirs == (name == "valid"), name


def pairing_check(vk: dict, proof: dict, public: list) -> bool:
    """Our Groth16 check alone (no market binding); malformed input counts as invalid."""
    try:
        return verify_groth16(vk, proof, public)
    except VerificationError:
        return False


def test_insolvent_account_cannot_prove() -> None:
    market = demo_market()
    with pytest.raises(ProofError, match="insolvent"):
        prove(demo_portfolios(market)["naked_short_insolvent"], market)


def test_production_route_both_backends_verify(tmp_path: Path) -> None:
    """snarkjs phase 2 on a (small, locally made) powers-of-tau file; snarkjs and
    arkworks proofs from the same .zkey verify under the same key, with py_ecc and snarkjs."""
    market = one_call_market()
    account = Account((Position("C", -1_000_000),), {"USDC": 20_000 * 10**6}, salt=123456789).validated(market)
    tier = Tier.for_market(market, 1)
    from zksolv.toolchain.artifacts import compile_tier

    _hash, circuit = compile_tier(tier)
    power = max(8, (circuit.n_constraints + 3).bit_length())
    ptau = dev_powers_of_tau(power)
    keys = build_artifacts(tier, ROUTE_SNARKJS, ptau=ptau).keys
    assert keys.zkey is not None and not keys.insecure
    for backend in ("snarkjs", "arkworks"):
        bundle = prove(account, market, n_positions=1, backend=backend, route=ROUTE_SNARKJS, ptau=ptau)
        assert bundle.statement.setup_route == ROUTE_SNARKJS and not bundle.statement.insecure_setup
        assert verify(bundle.proof, bundle.public, market, bundle.verification_key).valid, backend
        paths = bundle.save(tmp_path / backend)
        assert snarkjs_groth16_verify(paths["verification_key.json"], paths["public.json"], paths["proof.json"])


def test_verify_validates_the_keepers_market(proved) -> None:
    """The circuit relies on market ranges, so verify() refuses an unvalidated out-of-range state."""
    from zksolv.core.errors import InputError

    market, _account, bundle = proved
    bad = replace(market, params=replace(market.params, es_level=1_000_000))
    with pytest.raises(InputError, match="es_level"):
        verify(bundle.proof, bundle.public, bad, bundle.verification_key)
    weak = replace(market, params=replace(market.params, min_ratio=0))
    with pytest.raises(InputError, match="min_ratio"):
        verify(bundle.proof, bundle.public, weak, bundle.verification_key)


def test_witness_disagreeing_with_the_reference_is_never_proven(monkeypatch) -> None:
    """prove() holds the computed witness to the Python reference before the backend runs:
    a witness whose NAV wire differs (a bug in the circuit or the witness calculator) is refused."""
    import zksolv.prover.prove as prove_module
    from zksolv.toolchain import r1cs

    market = demo_market(risk_mode="stress", mc_scenarios=16)
    account = demo_portfolios(market)["short_strangle"]
    real_witness = prove_module.calculate_witness
    tampered: dict[str, int] = {}

    def nav_shifted_witness(wasm, inputs, out):
        path = real_witness(wasm, inputs, out)
        names = {s.name: s.wire for s in r1cs.read_sym(Path(wasm).parent.parent / (Path(wasm).stem + ".sym"))}
        values = r1cs.read_wtns(path)
        values[names["main.nav_raw"]] += 1
        tampered["wire"] = names["main.nav_raw"]
        return r1cs.write_wtns(path, values)

    proofs_made: list[str] = []
    monkeypatch.setattr(prove_module, "calculate_witness", nav_shifted_witness)
    monkeypatch.setattr(prove_module, "get_backend",
                        lambda name: type("Spy", (), {"name": name,
                                                      "prove": lambda self, k, w: proofs_made.append(name)})())
    with pytest.raises(ProofError, match=r"main\.nav_raw") as info:
        prove(account, market)
    assert tampered, "the witness was never computed"
    assert proofs_made == [], "a witness that disagrees with the reference reached the prover"
    assert str(account.salt) not in str(info.value)
