"""On-chain verification: generated verifiers + SolvencyRegistry in an in-process EVM.

The verifier and registry rules use their own toy circuit (tests/circuits/two_public.circom,
public inputs [account_commitment, market_root]) compiled with circom2 and set up with
groth16py (twice: the second key stands for another tier's), so they do not depend on the
margin circuit. The tiers (a registry accepting the venue's tiers, one verifier each) are
tested with real proofs of two tiers, capacities 2 and 4, of the small demo market. Each group
of EVM cases runs in one @ethereumjs/evm script (one node process) built by a fixture.
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from zksolv.verifier.calldata import (
    IS_SOLVENT_SELECTOR,
    Q,
    R,
    decode_accepted_tiers,
    encode_mark_liquidatable,
    encode_post_market_root,
    encode_prove_solvent_batch,
    encode_prove_solvent,
    encode_register_account,
    encode_verify_proof,
    proof_from_bytes,
    proof_to_calldata,
    public_to_calldata,
)
from zksolv.core.errors import InputError, ToolchainError, VerificationError
from zksolv.chain.evm import DEFAULT_SENDER, CompiledContract, EvmScript, StepResult, compile_solidity
from zksolv.chain.solidity import (
    BATCH_VERIFIER_CONTRACT,
    VERIFIER_CONTRACT,
    TierKey,
    export_registry,
    registry_source,
    registry_source_path,
    render_verifier,
    verifier_sources,
)
from zksolv.toolchain import node_module_path, run_node

pytestmark = pytest.mark.slow

groth16py = pytest.importorskip("groth16py")

CIRCUIT = Path(__file__).parent / "circuits" / "two_public.circom"
SNARKJS_BATCH = Path(__file__).parent / "js" / "snarkjs_verify_batch.mjs"
VENUE = DEFAULT_SENDER
#: The registry tier (position capacity) the toy circuit's key stands for, and the second key's.
TOY_TIER = 2
TOY_OTHER_TIER = 8
#: proveSolvent's execution gas in any of a registry's four tier slots: 210,374 in the first,
#: +23 per later one (208,928 before the curve checks of issue 25; 208,860 before the tiers)
#: (docs/onchain.md, benchmarks/bench_gas.py).
PROVE_SOLVENT_MAX_GAS = 210_500
ALICE = "0x" + "a1" * 20
BOB = "0x" + "b0" * 20
MALLORY = "0x" + "ee" * 20


# --------------------------------------------------------------------------- toy prover


@dataclass
class Toy:
    """The compiled toy circuit and its (dev-only) groth16py keys."""

    workdir: Path
    r1cs: Path
    wasm: Path
    generate_witness: Path
    pk: Any
    vk: Any
    vk_json: dict[str, Any]
    other_pk: Any  # a second setup of the same circuit: "another tier's key"
    other_vk_json: dict[str, Any]

    def prove(self, secret: int, salt: int, root: int, name: str, *, other_key: bool = False
              ) -> tuple[dict[str, Any], list[int]]:
        """A proof for account (secret, salt) against ``root``: (snarkjs proof JSON, public);
        under the second setup's key with ``other_key``."""
        commitment = (secret * secret + salt) % R
        inp = self.workdir / f"{name}.json"
        wtns = self.workdir / f"{name}.wtns"
        inp.write_text(json.dumps({
            "account_commitment": str(commitment), "market_root": str(root),
            "secret": str(secret), "salt": str(salt),
        }))
        run_node([self.generate_witness, self.wasm, inp, wtns], timeout=60, what="toy witness")
        proof = proof_from_bytes(groth16py.prove_wtns(self.other_pk if other_key else self.pk, str(wtns)))
        return proof, [commitment, root]


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Toy:
    work = tmp_path_factory.mktemp("two_public")
    run_node(
        [node_module_path("circom2", "cli.js"), CIRCUIT, "--r1cs", "--wasm", "-o", work],
        timeout=120, what="circom2 compile two_public",
    )
    js = work / "two_public_js"
    pk, vk = groth16py.setup(str(work / "two_public.r1cs"))
    other_pk, other_vk = groth16py.setup(str(work / "two_public.r1cs"))
    vk_json = json.loads(vk.to_json())
    (work / "vk.json").write_text(json.dumps(vk_json))
    return Toy(work, work / "two_public.r1cs", js / "two_public.wasm", js / "generate_witness.js", pk, vk, vk_json,
               other_pk, json.loads(other_vk.to_json()))


@pytest.fixture(scope="module")
def contracts(toy: Toy) -> dict[str, CompiledContract]:
    return compile_solidity({**verifier_sources(toy.vk_json, circuit_hash="toy-" + "0" * 8, tier="toy2",
                                                capacity=TOY_TIER), **registry_source()})


@pytest.fixture(scope="module")
def other_tier_contracts(toy: Toy) -> dict[str, CompiledContract]:
    """The verifiers of the toy's second key (each tier's contracts compile on their own: same names)."""
    return compile_solidity(verifier_sources(toy.other_vk_json, circuit_hash="toy-" + "1" * 8, tier="toy8",
                                             capacity=TOY_OTHER_TIER))


def _rand() -> int:
    return secrets.randbelow(R)


@pytest.fixture(scope="module")
def proofs(toy: Toy) -> dict[str, tuple[dict[str, Any], list[int]]]:
    """Alice's proofs for epochs 1 and 2, Bob's for epoch 1."""
    alice = (_rand(), _rand())
    bob = (_rand(), _rand())
    root1, root2 = _rand() or 1, _rand() or 2
    return {
        "alice_e1": toy.prove(*alice, root1, "alice_e1"),
        "alice_e2": toy.prove(*alice, root2, "alice_e2"),
        "bob_e1": toy.prove(*bob, root1, "bob_e1"),
    }


# --------------------------------------------------------------------------- bad variants


def _calldata(proof: dict[str, Any]) -> tuple[list[int], list[list[int]], list[int]]:
    return proof_to_calldata(proof)


def _coordinate_variants(a: list[int], b: list[list[int]], c: list[int], delta: int) -> dict[str, tuple]:
    """(a, b, c) with one of the 8 coordinates increased by ``delta`` (mod nothing)."""
    out: dict[str, tuple] = {}
    for i in range(2):
        a2 = list(a); a2[i] += delta
        out[f"a{i}"] = (a2, b, c)
        c2 = list(c); c2[i] += delta
        out[f"c{i}"] = (a, b, c2)
        for j in range(2):
            b2 = [list(row) for row in b]; b2[i][j] += delta
            out[f"b{i}{j}"] = (a, b2, c)
    return out


def _snarkjs_order(b: list[list[int]]) -> list[list[int]]:
    """The classic bug: G2 passed in snarkjs JSON order [re, im] instead of [im, re]."""
    return [[b[0][1], b[0][0]], [b[1][1], b[1][0]]]


# --------------------------------------------------------------------------- the chain


@pytest.fixture(scope="module")
def chain(contracts: dict[str, CompiledContract], proofs: dict[str, Any]) -> dict[str, StepResult]:
    """Every EVM case, in one script. Labels name the cases asserted below."""
    s = EvmScript()
    v = s.deploy("verifier", contracts[VERIFIER_CONTRACT])
    bv = s.deploy("batch_verifier", contracts[BATCH_VERIFIER_CONTRACT])
    reg = s.deploy("registry", contracts["SolvencyRegistry"], [[(TOY_TIER, v, bv)]])

    p1, pub1 = proofs["alice_e1"]
    p2, pub2 = proofs["alice_e2"]
    pb, pubb = proofs["bob_e1"]
    a, b, c = _calldata(p1)

    # --- verifier alone
    s.call("v_valid", v, encode_verify_proof(a, b, c, pub1))
    s.call("v_pub0_changed", v, encode_verify_proof(a, b, c, [(pub1[0] + 1) % R, pub1[1]]))
    s.call("v_pub1_changed", v, encode_verify_proof(a, b, c, [pub1[0], (pub1[1] + 1) % R]))
    s.call("v_pub_swapped", v, encode_verify_proof(a, b, c, [pub1[1], pub1[0]]))
    s.call("v_pub0_plus_r", v, encode_verify_proof(a, b, c, [pub1[0] + R, pub1[1]]))
    s.call("v_pub1_plus_r", v, encode_verify_proof(a, b, c, [pub1[0], pub1[1] + R]))
    for name, (a2, b2, c2) in _coordinate_variants(a, b, c, 1).items():
        s.call(f"v_coord_{name}_plus1", v, encode_verify_proof(a2, b2, c2, pub1))
    for name, (a2, b2, c2) in _coordinate_variants(a, b, c, Q).items():
        s.call(f"v_coord_{name}_plus_q", v, encode_verify_proof(a2, b2, c2, pub1))
    s.call("v_snarkjs_order", v, encode_verify_proof(a, _snarkjs_order(b), c, pub1))

    # --- registry
    reg_c = contracts["SolvencyRegistry"]
    alice, bob = pub1[0], pubb[0]
    alice_new = (alice + 1) % R or 1  # Alice's commitment after her positions change
    s.call("mallory_post", reg, encode_post_market_root(1, pub1[1]), sender=MALLORY)
    s.call("post_root_ge_r", reg, encode_post_market_root(1, R))
    s.call("post_root_zero", reg, encode_post_market_root(1, 0))
    s.call("register_ge_r", reg, encode_register_account(ALICE, R + alice))
    s.call("mallory_register", reg, encode_register_account(MALLORY, alice), sender=MALLORY)
    s.call("register_alice", reg, encode_register_account(ALICE, alice))
    s.call("register_bob", reg, encode_register_account(BOB, bob))
    s.call("register_taken", reg, encode_register_account(MALLORY, alice))
    s.call("no_root_yet", reg, encode_prove_solvent(TOY_TIER, a, b, c, alice))
    s.call("post_e1", reg, encode_post_market_root(1, pub1[1]))
    s.call("post_e1_again", reg, encode_post_market_root(1, pub2[1]))
    s.call("post_root_reused", reg, encode_post_market_root(5, pub1[1]))
    s.call("unknown_commitment", reg, encode_prove_solvent(TOY_TIER, a, b, c, alice_new))
    s.call("wrong_commitment", reg, encode_prove_solvent(TOY_TIER, a, b, c, bob))
    s.call("snarkjs_order", reg, encode_prove_solvent(TOY_TIER, a, _snarkjs_order(b), c, alice))
    bad = _coordinate_variants(a, b, c, 1)["c1"]
    s.call("coord_changed", reg, encode_prove_solvent(TOY_TIER, *bad, alice))
    nonq = _coordinate_variants(a, b, c, Q)["a1"]
    s.call("coord_ge_q", reg, encode_prove_solvent(TOY_TIER, *nonq, alice))
    for name, variant in _coordinate_variants(a, b, c, Q).items():  # the registry's branch-free < q check
        s.call(f"reg_coord_{name}_ge_q", reg, encode_prove_solvent(TOY_TIER, *variant, alice))
    s.call("last_alice_before", reg, reg_c.selector("lastSolventEpoch(uint256)"), [alice])
    s.call("prove_alice_e1", reg, encode_prove_solvent(TOY_TIER, a, b, c, alice))
    s.call("last_alice_after_e1", reg, reg_c.selector("lastSolventEpoch(uint256)"), [alice])
    s.call("root_alice_after_e1", reg, reg_c.selector("lastProvenRoot(uint256)"), [alice])
    s.call("replay_same_epoch", reg, encode_prove_solvent(TOY_TIER, a, b, c, alice))
    s.call("prove_bob_e1", reg, encode_prove_solvent(TOY_TIER, *_calldata(pb), bob))
    # window 0 closes at the end of this second; a root cannot replace an open window
    s.call("post_e2", reg, encode_post_market_root(2, pub2[1]), advance_seconds=3601)
    s.call("epoch_of_root2", reg, reg_c.selector("epochOfRoot(uint256)"), [pub2[1]])
    s.call("stale_root", reg, encode_prove_solvent(TOY_TIER, a, b, c, alice))
    s.call("prove_alice_e2", reg, encode_prove_solvent(TOY_TIER, *_calldata(p2), alice))
    s.call("last_alice_after_e2", reg, reg_c.selector("lastSolventEpoch(uint256)"), [alice])
    s.call("last_bob_after_e2", reg, reg_c.selector("lastSolventEpoch(uint256)"), [bob])
    s.call("reregister_alice_same", reg, encode_register_account(ALICE, alice))
    s.call("last_alice_after_rereg", reg, reg_c.selector("lastSolventEpoch(uint256)"), [alice])
    s.call("prove_alice_after_rereg", reg, encode_prove_solvent(TOY_TIER, *_calldata(p2), alice))
    s.call("reregister_alice_new", reg, encode_register_account(ALICE, alice_new))
    s.call("commitment_of_alice", reg, reg_c.selector("commitmentOf(address)"), [ALICE])
    s.call("old_registered", reg, reg_c.selector("isRegistered(uint256)"), [alice])
    s.call("new_registered", reg, reg_c.selector("isRegistered(uint256)"), [alice_new])
    s.call("last_alice_old", reg, reg_c.selector("lastSolventEpoch(uint256)"), [alice])
    s.call("prove_old_commitment", reg, encode_prove_solvent(TOY_TIER, *_calldata(p2), alice))
    s.call("freed_commitment_reused", reg, encode_register_account(MALLORY, alice))
    return s.run()


def _rejected(r: StepResult, error: str) -> None:
    assert not r.success, f"{r.label} should revert"
    assert r.revert == error, f"{r.label}: expected {error}, got {r.revert}"


# --------------------------------------------------------------------------- tests: verifier


def test_valid_proof_accepted_by_verifier(chain: dict[str, StepResult]) -> None:
    assert chain["verifier"].success and chain["registry"].success
    assert chain["v_valid"].returned_bool()
    assert 185_000 < chain["v_valid"].execution_gas < 215_000


@pytest.mark.parametrize("case", ["v_pub0_changed", "v_pub1_changed", "v_pub_swapped"])
def test_changed_public_input_rejected(chain: dict[str, StepResult], case: str) -> None:
    assert chain[case].success and not chain[case].returned_bool()


@pytest.mark.parametrize("case", ["v_pub0_plus_r", "v_pub1_plus_r"])
def test_public_input_ge_r_rejected(chain: dict[str, StepResult], case: str) -> None:
    # x + r is the same field element as x: a verifier that reduced mod r would accept it.
    assert chain[case].success and not chain[case].returned_bool()


@pytest.mark.parametrize("coord", ["a0", "a1", "b00", "b01", "b10", "b11", "c0", "c1"])
@pytest.mark.parametrize("delta", ["plus1", "plus_q"])
def test_changed_or_noncanonical_coordinate_rejected(chain: dict[str, StepResult], coord: str, delta: str) -> None:
    r = chain[f"v_coord_{coord}_{delta}"]
    assert not r.returned_bool()


def test_snarkjs_g2_order_fails_on_chain(chain: dict[str, StepResult]) -> None:
    """The classic bug: b in snarkjs JSON order ([re, im]) is not a valid EVM G2 encoding."""
    assert not chain["v_snarkjs_order"].returned_bool()
    # the registry now checks b against the twist before the pairing (issue 25), and says so
    _rejected(chain["snarkjs_order"], "NotOnCurve()")


# --------------------------------------------------------------------------- tests: registry


def test_venue_only_and_epoch_rules(chain: dict[str, StepResult]) -> None:
    _rejected(chain["mallory_post"], "NotVenue()")
    _rejected(chain["mallory_register"], "NotVenue()")
    _rejected(chain["post_root_ge_r"], "NotInScalarField(uint256)")
    _rejected(chain["post_root_zero"], "NotInScalarField(uint256)")
    _rejected(chain["register_ge_r"], "NotInScalarField(uint256)")
    assert chain["post_e1"].success and chain["post_e2"].success
    _rejected(chain["post_e1_again"], "EpochNotIncreasing(uint64,uint64)")
    assert chain["epoch_of_root2"].returned_uint() == 2


def test_root_cannot_be_posted_twice(chain: dict[str, StepResult]) -> None:
    # A root names one epoch (lastSolventEpoch looks it up), and a recurring root would make
    # an old record look like a proof against the new epoch.
    _rejected(chain["post_root_reused"], "RootAlreadyPosted(uint256,uint64)")


def test_no_root_yet_rejected(chain: dict[str, StepResult]) -> None:
    _rejected(chain["no_root_yet"], "NoMarketRoot()")


def test_prove_solvent_accepts_and_records(chain: dict[str, StepResult], proofs: dict[str, Any]) -> None:
    r = chain["prove_alice_e1"]
    assert r.success, r.revert
    assert [lg.event for lg in r.logs] == ["ProvenSolvent(uint256,uint256)"]
    log = r.logs[0]
    assert len(log.topics) == 2
    assert int.from_bytes(log.topics[1], "big") == proofs["alice_e1"][1][0]
    assert int.from_bytes(log.data, "big") == proofs["alice_e1"][1][1]
    assert chain["last_alice_before"].returned_uint() == 0
    assert chain["last_alice_after_e1"].returned_uint() == 1
    assert chain["root_alice_after_e1"].returned_uint() == proofs["alice_e1"][1][1]
    assert chain["prove_bob_e1"].success
    assert chain["prove_alice_e2"].success
    assert chain["last_alice_after_e2"].returned_uint() == 2
    assert chain["last_bob_after_e2"].returned_uint() == 1


def test_prove_solvent_gas(chain: dict[str, StepResult]) -> None:
    """Registration pays the zero-to-non-zero write, so a commitment's first proof costs
    the same as a later one: two cold reads (record, root) and one warm record write."""
    first, later = chain["prove_alice_e1"].execution_gas, chain["prove_alice_e2"].execution_gas
    assert abs(first - later) < 100, (first, later)
    assert later - chain["v_valid"].execution_gas < 15_000
    assert later <= PROVE_SOLVENT_MAX_GAS


def test_replay_same_epoch_rejected(chain: dict[str, StepResult]) -> None:
    _rejected(chain["replay_same_epoch"], "AlreadyProven(uint256,uint256)")


def test_stale_root_rejected_after_root_moves_on(chain: dict[str, StepResult]) -> None:
    _rejected(chain["stale_root"], "InvalidProof()")


def test_unknown_and_wrong_commitment_rejected(chain: dict[str, StepResult]) -> None:
    _rejected(chain["unknown_commitment"], "UnknownCommitment(uint256)")
    _rejected(chain["wrong_commitment"], "InvalidProof()")


def test_commitment_registered_to_one_account_only(chain: dict[str, StepResult]) -> None:
    _rejected(chain["register_taken"], "CommitmentTaken(uint256)")
    # ...until its account moves to a new commitment.
    assert chain["freed_commitment_reused"].success, chain["freed_commitment_reused"].revert


def test_bad_proofs_rejected_by_registry(chain: dict[str, StepResult]) -> None:
    # c.y + 1 takes c off the curve: refused before the pairing since issue 25
    _rejected(chain["coord_changed"], "NotOnCurve()")
    _rejected(chain["coord_ge_q"], "NotInBaseField()")
    for coord in ("a0", "a1", "b00", "b01", "b10", "b11", "c0", "c1"):
        _rejected(chain[f"reg_coord_{coord}_ge_q"], "NotInBaseField()")


def test_reregistering_the_same_commitment_keeps_its_record(chain: dict[str, StepResult]) -> None:
    # Issue 25: clearing it exposed an account that had proved to a mark; the same commitment
    # is the same positions, so its proof stands.
    assert chain["reregister_alice_same"].success
    assert chain["last_alice_after_rereg"].returned_uint() == 2
    _rejected(chain["prove_alice_after_rereg"], "AlreadyProven(uint256,uint256)")


def test_reregistration_retires_old_commitment(chain: dict[str, StepResult], proofs: dict[str, Any]) -> None:
    alice = proofs["alice_e1"][1][0]
    assert chain["reregister_alice_new"].success
    assert chain["commitment_of_alice"].returned_uint() == ((alice + 1) % R or 1)
    assert not chain["old_registered"].returned_bool() and chain["new_registered"].returned_bool()
    assert chain["last_alice_old"].returned_uint() == 0
    # Alice's valid proof for her old positions no longer counts.
    _rejected(chain["prove_old_commitment"], "UnknownCommitment(uint256)")


# --------------------------------------------------------------------------- tests: calldata


def test_proof_to_calldata_g2_order(proofs: dict[str, Any]) -> None:
    proof, _ = proofs["alice_e1"]
    a, b, c = proof_to_calldata(proof)
    pb = proof["pi_b"]
    assert b == [[int(pb[0][1]), int(pb[0][0])], [int(pb[1][1]), int(pb[1][0])]]
    assert a == [int(x) for x in proof["pi_a"][:2]] and c == [int(x) for x in proof["pi_c"][:2]]


def test_calldata_refuses_noncanonical_values(proofs: dict[str, Any]) -> None:
    proof, pub = proofs["alice_e1"]
    bad = copy.deepcopy(proof)
    bad["pi_b"][1][0] = str(int(bad["pi_b"][1][0]) + Q)
    with pytest.raises(VerificationError, match="q"):
        proof_to_calldata(bad)
    with pytest.raises(VerificationError, match="r"):
        public_to_calldata([pub[0] + R, pub[1]])
    with pytest.raises(VerificationError):
        proof_to_calldata({"pi_a": ["1", "2", "1"]})


def test_selectors_match_solc(contracts: dict[str, CompiledContract]) -> None:
    from zksolv.verifier import calldata as cd
    reg = contracts["SolvencyRegistry"]
    assert cd.PROVE_SOLVENT_SELECTOR == reg.selector("proveSolvent(uint256,uint256[2],uint256[2][2],uint256[2],uint256)")
    assert cd.POST_MARKET_ROOT_SELECTOR == reg.selector("postMarketRoot(uint64,uint256,uint64)")
    assert cd.PROVE_SOLVENT_BATCH_SELECTOR == reg.selector("proveSolventBatch(uint256,uint256[8][],uint256[])")
    assert cd.ACCEPTED_TIERS_SELECTOR == reg.selector("acceptedTiers()")
    # 16 public functions before issue 25, plus its six views (the trigger's state and an account's
    # mark and deadline); what the longer dispatch costs proveSolvent is in its measured gas
    # (test_prove_solvent_gas, PROVE_SOLVENT_MAX_GAS)
    assert len(reg.functions) == 22
    for view in ("liquidatableEpoch(uint256)", "proofDeadlineOf(uint256)", "previousRoot()", "rootPostedAt()",
                 "currentProofWindow()", "MAX_PROOF_WINDOW()"):
        reg.selector(view)
    assert cd.MARK_LIQUIDATABLE_SELECTOR == reg.selector("markLiquidatable(uint256)")
    assert cd.IS_SOLVENT_SELECTOR == reg.selector("isSolvent(uint256)")
    assert cd.REGISTER_ACCOUNT_SELECTOR == reg.selector("registerAccount(address,uint256)")
    assert cd.VERIFY_PROOF_SELECTOR == contracts[VERIFIER_CONTRACT].selector(
        "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[2])"
    )


# --------------------------------------------------------------------------- tests: agreement


def _python_verify(toy: Toy, proof: dict[str, Any], public: list[int]) -> bool:
    """Python-side verdict: the keeper's zksolv.verifier.groth16 (py_ecc) when present, else
    groth16py's (arkworks) Verifier. Malformed input (VerificationError) counts as reject."""
    pub = [str(x) for x in public]
    try:
        from zksolv.verifier.groth16 import verify_groth16
    except ImportError:
        verify_groth16 = None
    if verify_groth16 is not None:
        try:
            return bool(verify_groth16(toy.vk_json, proof, pub))
        except VerificationError:
            return False
    try:
        return bool(groth16py.Verifier(toy.vk).verify_snarkjs(json.dumps(proof), json.dumps(pub)))
    except Exception:  # groth16py raises EncodingError for off-curve / out-of-range input
        return False


def _snarkjs_verify(toy: Toy, cases: list[tuple[dict[str, Any], list[int]]]) -> list[Any]:
    payload = {"vk": toy.vk_json, "cases": [{"proof": p, "public": [str(x) for x in pub]} for p, pub in cases]}
    proc = run_node([SNARKJS_BATCH], timeout=300, what="snarkjs groth16 verify (batch)", stdin=json.dumps(payload))
    return json.loads(proc.stdout)


def test_python_snarkjs_and_contract_agree(toy: Toy, contracts: dict[str, CompiledContract], proofs: dict[str, Any]) -> None:
    p1, pub1 = proofs["alice_e1"]
    p2, pub2 = proofs["alice_e2"]
    cases: dict[str, tuple[dict[str, Any], list[int]]] = {
        "valid_e1": (p1, pub1),
        "valid_e2": (p2, pub2),
        "valid_bob": proofs["bob_e1"],
        "stale_root": (p1, pub2),
        "other_commitment": (p1, [proofs["bob_e1"][1][0], pub1[1]]),
        "pub0_changed": (p1, [(pub1[0] + 1) % R, pub1[1]]),
        "pub1_changed": (p1, [pub1[0], (pub1[1] + 1) % R]),
        "mixed_proof": ({**p1, "pi_c": p2["pi_c"]}, pub1),
    }
    for key in ("pi_a", "pi_c"):
        for i in range(2):
            bad = copy.deepcopy(p1)
            bad[key][i] = str((int(bad[key][i]) + 1) % Q)
            cases[f"{key}[{i}]+1"] = (bad, pub1)
    for i in range(2):
        for j in range(2):
            bad = copy.deepcopy(p1)
            bad["pi_b"][i][j] = str((int(bad["pi_b"][i][j]) + 1) % Q)
            cases[f"pi_b[{i}][{j}]+1"] = (bad, pub1)

    s = EvmScript()
    v = s.deploy("verifier", contracts[VERIFIER_CONTRACT])
    for name, (proof, pub) in cases.items():
        s.call(name, v, encode_verify_proof(*proof_to_calldata(proof), public_to_calldata(pub)))
    onchain = s.run()
    snark = _snarkjs_verify(toy, list(cases.values()))
    for (name, (proof, pub)), sj in zip(cases.items(), snark):
        py = _python_verify(toy, proof, pub)
        evm = onchain[name].returned_bool()
        sj_ok = sj is True
        expected = name.startswith("valid")
        assert (py, sj_ok, evm) == (expected, expected, expected), f"{name}: python={py} snarkjs={sj} evm={evm}"


def test_snarkjs_cli_verify_agrees(toy: Toy, proofs: dict[str, Any], tmp_path: Path) -> None:
    """The `snarkjs groth16 verify` command itself on the valid proof and a stale-root one."""
    proof, pub = proofs["alice_e1"]
    (tmp_path / "proof.json").write_text(json.dumps(proof))
    (tmp_path / "public.json").write_text(json.dumps([str(x) for x in pub]))
    cli = node_module_path("snarkjs", "build", "cli.cjs")
    out = run_node([cli, "groth16", "verify", toy.workdir / "vk.json", tmp_path / "public.json", tmp_path / "proof.json"],
                   timeout=120, what="snarkjs groth16 verify")
    assert "OK" in out.stdout
    (tmp_path / "public.json").write_text(json.dumps([str(pub[0]), str(proofs["alice_e2"][1][1])]))
    with pytest.raises(ToolchainError):
        run_node([cli, "groth16", "verify", toy.workdir / "vk.json", tmp_path / "public.json", tmp_path / "proof.json"],
                 timeout=120, what="snarkjs groth16 verify")


def test_noncanonical_proof_coordinate_only_contract_and_python_reject(toy: Toy, contracts: dict[str, CompiledContract], proofs: dict[str, Any]) -> None:
    """a.x + q is the same point mod q. The EVM precompiles and groth16py reject it;
    snarkjs 0.7.6 reduces it and accepts (measured) — which is why keepers go through
    zksolv.verifier.calldata, which refuses non-canonical coordinates before anything else."""
    proof, pub = proofs["alice_e1"]
    bad = copy.deepcopy(proof)
    bad["pi_a"][0] = str(int(bad["pi_a"][0]) + Q)
    assert not _python_verify(toy, bad, pub)
    with pytest.raises(VerificationError):
        proof_to_calldata(bad)
    a, b, c = proof_to_calldata(proof)
    s = EvmScript()
    v = s.deploy("verifier", contracts[VERIFIER_CONTRACT])
    s.call("bad", v, encode_verify_proof([a[0] + Q, a[1]], b, c, pub))
    assert not s.run()["bad"].returned_bool()


# --------------------------------------------------------------------------- tests: export


def test_export_registry_writes_every_tier_and_a_deploy_note(toy: Toy, tmp_path: Path) -> None:
    (toy.workdir / "vk_other.json").write_text(json.dumps(toy.other_vk_json))
    out = export_registry([TierKey(8, toy.workdir / "vk_other.json"),
                           TierKey(2, toy.workdir / "vk.json", tier="avsl_n2_u2_a4_k16_d3_stress", circuit_hash="abc123")],
                          tmp_path / "sol")
    assert [t["capacity"] for t in out["tiers"]] == [2, 8]  # increasing: the constructor's order
    first, second = out["tiers"]
    text = first["verifier"].read_text()
    assert text.startswith("// auto-generated by zksolv — do not edit")
    assert "// circuit hash: abc123\n// tier: avsl_n2_u2_a4_k16_d3_stress\n" in text
    assert "// SolvencyRegistry tier: position capacity 2\n" in text
    assert "function verifyProof(uint[2] calldata _pA, uint[2][2] calldata _pB, uint[2] calldata _pC, uint[2] calldata _pubSignals)" in text
    digest = hashlib.sha256((toy.workdir / "vk_other.json").read_bytes()).hexdigest()
    assert second["verifier"].name == f"Groth16Verifier_n8_vk_{digest[:16]}.sol" and second["vk_sha256"] == digest
    assert "// tier: not claimed" in second["verifier"].read_text()
    assert out["registry"].read_text() == registry_source_path().read_text()
    batch = first["batch_verifier"].read_text()
    assert batch.startswith("// auto-generated by zksolv — do not edit") and "contract Groth16BatchVerifier" in batch
    note = json.loads(out["deploy_note"].read_text())
    assert note["registry"]["constructor"].startswith("constructor((uint256 capacity, address verifier, address batchVerifier)[]")
    assert [args[0] for args in note["constructor_args"][0]] == [2, 8]
    assert note["constructor_args"][0][1][1] == f"<address of {second['verifier'].name}>"
    assert not list((tmp_path / "sol").glob("*.tmp"))
    # every tier's contracts keep snarkjs' names: compiled together, one would shadow the other
    with pytest.raises(ToolchainError, match="compile each tier's verifiers on their own"):
        compile_solidity({t["verifier"].name: t["verifier"].read_text() for t in out["tiers"]})


def test_export_registry_refuses_a_bad_tier_set(toy: Toy, tmp_path: Path) -> None:
    vk = toy.workdir / "vk.json"
    cases = {
        "1 to 4 tiers, 5 given": [TierKey(c, vk) for c in (1, 2, 4, 8, 16)],
        "capacity 4 is given twice": [TierKey(4, vk), TierKey(4, toy.workdir / "vk2.json")],
        "its capacity is 4, not 2": [TierKey(2, vk, tier="avsl_n4_u2_a4_k16_d3_stress")],
        "different market shapes": [TierKey(2, vk, tier="avsl_n2_u2_a4_k16_d3_stress"),
                                    TierKey(4, vk, tier="avsl_n4_u2_a4_k16_d4_stress")],
        "positive integer": [TierKey(0, vk)],
    }
    for message, tiers in cases.items():
        with pytest.raises(InputError, match=message):
            export_registry(tiers, tmp_path / "sol")
    assert not (tmp_path / "sol").exists()


def test_render_verifier_refuses_wrong_key(toy: Toy) -> None:
    vk = copy.deepcopy(toy.vk_json)
    vk["nPublic"] = 3
    with pytest.raises(InputError, match="2 public inputs"):
        render_verifier(vk, circuit_hash="x", tier="y")
    with pytest.raises(InputError):
        render_verifier(toy.vk_json, circuit_hash="bad hash; */", tier="y")


# --------------------------------------------------------------------------- batch and trigger

WINDOW = 3600  # the proof window the venue sets with each root in these scenarios


@pytest.fixture(scope="module")
def accounts(toy: Toy) -> list[tuple[int, int]]:
    """Five (secret, salt) accounts; their commitments are secret^2 + salt."""
    return [(_rand(), _rand()) for _ in range(5)]


@pytest.fixture(scope="module")
def batch_chain(toy: Toy, contracts: dict[str, CompiledContract], accounts) -> dict[str, Any]:
    """Batches, replays, stale roots and the missed-proof trigger, in one EVM script."""
    root1, root2 = _rand() or 1, _rand() or 2
    members1 = sorted((toy.prove(sec, salt, root1, f"m{i}_e1") for i, (sec, salt) in enumerate(accounts)),
                      key=lambda pp: pp[1][0])
    members2 = sorted((toy.prove(sec, salt, root2, f"m{i}_e2") for i, (sec, salt) in enumerate(accounts)),
                      key=lambda pp: pp[1][0])
    com = [pub[0] for _, pub in members1]

    def batch(members: list[tuple[dict[str, Any], list[int]]], commitments: list[int] | None = None) -> bytes:
        return encode_prove_solvent_batch(TOY_TIER, [proof_to_calldata(p) for p, _ in members],
                                          commitments if commitments is not None else [pub[0] for _, pub in members])

    s = EvmScript()
    v = s.deploy("verifier", contracts[VERIFIER_CONTRACT])
    bv = s.deploy("batch_verifier", contracts[BATCH_VERIFIER_CONTRACT])
    reg = s.deploy("registry", contracts["SolvencyRegistry"], [[(TOY_TIER, v, bv)]])
    reg_c = contracts["SolvencyRegistry"]
    for i, c in enumerate(com):
        s.call(f"register_{i}", reg, encode_register_account("0x" + f"{i + 1:02x}" * 20, c))
    s.call("post_e1", reg, encode_post_market_root(1, root1, WINDOW))
    # the batch verifier alone
    flat = [w for p, pub in members1 for w in [*_flat_proof(p), pub[0]]]
    verify_batch = contracts[BATCH_VERIFIER_CONTRACT].selector("verifyBatch(uint256[],uint256)")
    s.call("vb_valid", bv, verify_batch + _dyn_words(flat, root1))
    s.call("vb_wrong_root", bv, verify_batch + _dyn_words(flat, root2))
    tampered = list(flat)
    tampered[9 * 2 + 6] = (tampered[9 * 2 + 6] + 1) % Q  # member 2's c.x: off the curve
    s.call("vb_tampered", bv, verify_batch + _dyn_words(tampered, root1))
    swapped = list(flat)
    swapped[9 * 1 + 8], swapped[9 * 3 + 8] = flat[9 * 3 + 8], flat[9 * 1 + 8]  # proofs for other commitments
    s.call("vb_swapped_commitments", bv, verify_batch + _dyn_words(swapped, root1))
    # registry: bad batches revert as a whole
    s.call("mark_too_early", reg, encode_mark_liquidatable(com[0]))
    s.call("batch_duplicate", reg, batch([members1[0], members1[1], members1[1]]))
    s.call("batch_unsorted", reg, batch([members1[1], members1[0]]))
    bad = copy.deepcopy(members1[2][0])
    bad["pi_a"] = members1[3][0]["pi_a"]  # a valid point from another proof
    s.call("batch_tampered_member", reg, batch([members1[0], (bad, members1[2][1]), members1[4]]))
    swapped_members = [members1[0], (members1[2][0], members1[1][1]), (members1[1][0], members1[2][1])]
    s.call("batch_swapped_proofs", reg, batch(swapped_members))  # each proof sent for another commitment
    # a member whose commitment is not registered (re-registered away) is skipped, never credited;
    # a batch of nothing else has nothing to prove (adversary review finding 4: it used to revert
    # the whole batch with UnknownCommitment)
    s.call("batch_unknown", reg, batch(members1[1:2], [(com[1] + 1) % R]))
    s.call("batch_empty", reg, encode_prove_solvent_batch(TOY_TIER, [], []))
    s.call("solvent_before", reg, IS_SOLVENT_SELECTOR, [com[0]])
    s.call("batch_e1", reg, batch(members1[:4]))  # account 4 proves nothing in epoch 1
    s.call("solvent_after", reg, IS_SOLVENT_SELECTOR, [com[0]])
    s.call("solvent_missing", reg, IS_SOLVENT_SELECTOR, [com[4]])
    s.call("batch_replay", reg, batch(members1[:4]))  # all already proven: reverts
    s.call("prove_alone_then_batch", reg, encode_prove_solvent(TOY_TIER, *proof_to_calldata(members1[4][0]), com[4]),
           advance_seconds=60)
    s.call("mark_proven", reg, encode_mark_liquidatable(com[0]), advance_seconds=WINDOW)
    s.call("mark_proven_late", reg, encode_mark_liquidatable(com[4]))
    # epoch 2: stale epoch-1 proofs in a batch, then accounts 0-2 prove, 3 and 4 miss the window
    s.call("post_e2", reg, encode_post_market_root(2, root2, WINDOW))
    s.call("batch_stale", reg, batch(members1[:3]))
    s.call("prove_alone_e2", reg, encode_prove_solvent(TOY_TIER, *proof_to_calldata(members2[0][0]), com[0]))
    s.call("batch_e2", reg, batch(members2[:3]))  # account 0 proved alone meanwhile: skipped, not a revert
    s.call("mark_in_window", reg, encode_mark_liquidatable(com[3]), advance_seconds=WINDOW)  # deadline inclusive
    s.call("mark_missing", reg, encode_mark_liquidatable(com[3]), advance_seconds=1)
    s.call("mark_again", reg, encode_mark_liquidatable(com[3]))
    s.call("mark_missing_4", reg, encode_mark_liquidatable(com[4]))
    s.call("mark_proven_e2", reg, encode_mark_liquidatable(com[1]))
    s.call("mark_unknown", reg, encode_mark_liquidatable((com[0] + 1) % R))
    s.call("solvent_3", reg, IS_SOLVENT_SELECTOR, [com[3]])
    s.call("last_epoch_0", reg, reg_c.selector("lastSolventEpoch(uint256)"), [com[0]])
    return {"results": s.run(), "commitments": com, "root2": root2}


def _flat_proof(proof: dict[str, Any]) -> list[int]:
    a, b, c = proof_to_calldata(proof)
    return [a[0], a[1], b[0][0], b[0][1], b[1][0], b[1][1], c[0], c[1]]


def _dyn_words(words: list[int], root: int) -> bytes:
    """ABI of ``(uint256[] words, uint256 root)``."""
    from zksolv.verifier.calldata import encode_words

    return encode_words([64, root, len(words), *words])


def test_batch_verifier_alone(batch_chain: dict[str, Any]) -> None:
    r = batch_chain["results"]
    assert r["vb_valid"].returned_bool()
    for case in ("vb_wrong_root", "vb_swapped_commitments"):
        assert r[case].success and not r[case].returned_bool(), case
    # a point off the curve reverts at its (gas-capped) ecMul, naming the member's commitment
    _rejected(r["vb_tampered"], "PointNotOnCurve(uint256)")
    assert r["vb_tampered"].execution_gas < 100_000


def test_batch_records_every_member(batch_chain: dict[str, Any]) -> None:
    r, com = batch_chain["results"], batch_chain["commitments"]
    assert r["batch_e1"].success, r["batch_e1"].revert
    assert r["batch_e1"].returned_uint() == 4
    logged = [int.from_bytes(lg.topics[1], "big") for lg in r["batch_e1"].logs]
    assert [lg.event for lg in r["batch_e1"].logs] == ["ProvenSolvent(uint256,uint256)"] * 4 and logged == com[:4]
    assert not r["solvent_before"].returned_bool() and r["solvent_after"].returned_bool()
    assert not r["solvent_missing"].returned_bool()
    assert r["prove_alone_e2"].success, r["prove_alone_e2"].revert
    assert r["batch_e2"].success and r["batch_e2"].returned_uint() == 2
    assert [int.from_bytes(lg.topics[1], "big") for lg in r["batch_e2"].logs] == com[1:3]
    assert r["last_epoch_0"].returned_uint() == 2


def test_batch_rejects_duplicates_tampering_and_unknown(batch_chain: dict[str, Any]) -> None:
    r = batch_chain["results"]
    _rejected(r["batch_duplicate"], "CommitmentsNotIncreasing(uint256)")
    _rejected(r["batch_unsorted"], "CommitmentsNotIncreasing(uint256)")
    _rejected(r["batch_tampered_member"], "InvalidProof()")
    _rejected(r["batch_unknown"], "NothingToProve(uint256)")
    _rejected(r["batch_empty"], "BadBatch()")
    _rejected(r["batch_swapped_proofs"], "InvalidProof()")


def test_batch_replay_and_stale_root(batch_chain: dict[str, Any]) -> None:
    r = batch_chain["results"]
    # a replay of an already recorded batch: every member is proven for this root, nothing to do
    _rejected(r["batch_replay"], "NothingToProve(uint256)")
    # epoch-1 proofs against the epoch-2 root fail the pairing check
    _rejected(r["batch_stale"], "InvalidProof()")


def test_trigger_only_after_the_window_and_only_for_missing_proofs(batch_chain: dict[str, Any]) -> None:
    r, com = batch_chain["results"], batch_chain["commitments"]
    _rejected(r["mark_too_early"], "ProofWindowOpen(uint64)")
    _rejected(r["mark_in_window"], "ProofWindowOpen(uint64)")
    _rejected(r["mark_proven"], "AlreadyProven(uint256,uint256)")
    _rejected(r["mark_proven_late"], "AlreadyProven(uint256,uint256)")
    _rejected(r["mark_proven_e2"], "AlreadyProven(uint256,uint256)")
    _rejected(r["mark_unknown"], "UnknownCommitment(uint256)")
    _rejected(r["mark_again"], "AlreadyMarked(uint256,uint64)")
    for case, c in (("mark_missing", com[3]), ("mark_missing_4", com[4])):
        assert r[case].success, r[case].revert
        (log,) = r[case].logs
        assert log.event == "Liquidatable(uint256,uint64,uint256)"
        assert int.from_bytes(log.topics[1], "big") == c and int.from_bytes(log.topics[2], "big") == 2
        assert int.from_bytes(log.data, "big") == batch_chain["root2"]
    assert not r["solvent_3"].returned_bool()


def test_batch_gas_is_amortised(batch_chain: dict[str, Any]) -> None:
    """Four members in one pairing product cost far less than four proveSolvent calls."""
    r = batch_chain["results"]
    assert r["batch_e1"].execution_gas < 4 * r["prove_alone_then_batch"].execution_gas * 0.5


# --------------------------------------------------------------------------- tier set (toy keys)

EOA = "0x" + "c0" * 20  # an address without code


@pytest.fixture(scope="module")
def tierset_chain(toy: Toy, contracts: dict[str, CompiledContract],
                  other_tier_contracts: dict[str, CompiledContract]) -> dict[str, Any]:
    """Constructor rules, and the lookup in registries of one, three and four tiers."""
    root = _rand() or 1
    mine, other = (_rand(), _rand()), (_rand(), _rand())
    proof, pub = toy.prove(*mine, root, "tierset_mine")
    other_proof, other_pub = toy.prove(*other, root, "tierset_other", other_key=True)
    s = EvmScript()
    reg_c = contracts["SolvencyRegistry"]
    v1 = s.deploy("v1", contracts[VERIFIER_CONTRACT])
    b1 = s.deploy("b1", contracts[BATCH_VERIFIER_CONTRACT])
    v2 = s.deploy("v2", other_tier_contracts[VERIFIER_CONTRACT])
    b2 = s.deploy("b2", other_tier_contracts[BATCH_VERIFIER_CONTRACT])
    bad = {
        "none": [],
        "five": [(c, v1, b1) for c in (1, 2, 4, 8, 16)],
        "decreasing": [(4, v1, b1), (2, v2, b2)],
        "zero": [(0, v1, b1)],
        "duplicate": [(2, v1, b1), (2, v2, b2)],
        "no_verifier_code": [(2, v1, b1), (4, EOA, b2)],
        "no_batch_code": [(2, v1, EOA)],
    }
    for name, tiers in bad.items():
        s.deploy(f"ctor_{name}", reg_c, [tiers])
    registries = {
        "one": [(TOY_TIER, v1, b1)],
        "three": [(TOY_TIER, v1, b1), (4, v2, b2), (TOY_OTHER_TIER, v2, b2)],
        "four": [(1, v2, b2), (TOY_TIER, v2, b2), (4, v2, b2), (TOY_OTHER_TIER, v1, b1)],
    }
    mine_args, other_args = (proof_to_calldata(proof), pub[0]), (proof_to_calldata(other_proof), other_pub[0])
    reg = {}
    for name, tiers in registries.items():
        reg[name] = s.deploy(name, reg_c, [tiers])
        s.call(f"{name}_tiers", reg[name], reg_c.selector("acceptedTiers()"))
        s.call(f"{name}_register_mine", reg[name], encode_register_account(ALICE, pub[0]))
        s.call(f"{name}_register_other", reg[name], encode_register_account(BOB, other_pub[0]))
        s.call(f"{name}_post", reg[name], encode_post_market_root(1, root))
        for tier in (0, 3, 16):
            s.call(f"{name}_unknown_{tier}", reg[name], encode_prove_solvent(tier, *mine_args[0], mine_args[1]))
            s.call(f"{name}_batch_unknown_{tier}", reg[name],
                   encode_prove_solvent_batch(tier, [mine_args[0]], [mine_args[1]]))
    # slot 4 (a full registry) and slot 3 repeated in the unused slot 4 (three tiers)
    # (each proof under a tier with the other key first: once recorded, a proof is AlreadyProven)
    s.call("four_mine_as_1", reg["four"], encode_prove_solvent(1, *mine_args[0], mine_args[1]))
    s.call("four_mine_as_8", reg["four"], encode_prove_solvent(TOY_OTHER_TIER, *mine_args[0], mine_args[1]))
    s.call("three_other_as_2", reg["three"], encode_prove_solvent(TOY_TIER, *other_args[0], other_args[1]))
    s.call("three_other_as_8", reg["three"], encode_prove_solvent(TOY_OTHER_TIER, *other_args[0], other_args[1]))
    s.call("one_mine", reg["one"], encode_prove_solvent(TOY_TIER, *mine_args[0], mine_args[1]))
    return {"results": s.run()}


def test_constructor_refuses_a_bad_tier_set(tierset_chain: dict[str, Any]) -> None:
    r = tierset_chain["results"]
    _rejected(r["ctor_none"], "BadTierCount(uint256,uint256)")
    _rejected(r["ctor_five"], "BadTierCount(uint256,uint256)")
    assert r["ctor_five"].return_data[4:] == (5).to_bytes(32, "big") + (4).to_bytes(32, "big")
    for name, index in (("decreasing", 1), ("zero", 0), ("duplicate", 1)):
        _rejected(r[f"ctor_{name}"], "TiersNotIncreasing(uint256)")
        assert int.from_bytes(r[f"ctor_{name}"].return_data[4:], "big") == index, name
    _rejected(r["ctor_no_verifier_code"], "NoVerifierCode(uint256)")
    assert int.from_bytes(r["ctor_no_verifier_code"].return_data[4:], "big") == 4
    _rejected(r["ctor_no_batch_code"], "NoVerifierCode(uint256)")


def test_accepted_tiers_lists_the_constructor_argument(tierset_chain: dict[str, Any]) -> None:
    r = tierset_chain["results"]
    address = {name: r[name].address for name in ("v1", "b1", "v2", "b2")}
    assert decode_accepted_tiers(r["one_tiers"].return_data) == [(TOY_TIER, address["v1"], address["b1"])]
    assert decode_accepted_tiers(r["three_tiers"].return_data) == [
        (TOY_TIER, address["v1"], address["b1"]), (4, address["v2"], address["b2"]),
        (TOY_OTHER_TIER, address["v2"], address["b2"])]
    assert [t[0] for t in decode_accepted_tiers(r["four_tiers"].return_data)] == [1, TOY_TIER, 4, TOY_OTHER_TIER]


@pytest.mark.parametrize("registry", ["one", "three", "four"])
def test_unaccepted_tier_reverts(tierset_chain: dict[str, Any], registry: str) -> None:
    """Tier 0 and capacities the venue did not name revert before anything else, whatever the
    padding of the unused slots (which repeat the last tier)."""
    r = tierset_chain["results"]
    for tier in (0, 3, 16):
        _rejected(r[f"{registry}_unknown_{tier}"], "UnknownTier(uint256)")
        assert int.from_bytes(r[f"{registry}_unknown_{tier}"].return_data[4:], "big") == tier
        _rejected(r[f"{registry}_batch_unknown_{tier}"], "UnknownTier(uint256)")


def test_every_slot_finds_its_verifier(tierset_chain: dict[str, Any]) -> None:
    r = tierset_chain["results"]
    assert r["one_mine"].success, r["one_mine"].revert
    assert r["four_mine_as_8"].success, r["four_mine_as_8"].revert  # slot 4 of 4
    assert r["three_other_as_8"].success, r["three_other_as_8"].revert  # slot 3, repeated in slot 4
    # the same proofs under a tier whose verifier holds the other key
    _rejected(r["four_mine_as_1"], "InvalidProof()")
    _rejected(r["three_other_as_2"], "InvalidProof()")
    for case in ("one_mine", "four_mine_as_8", "three_other_as_8"):
        assert r[case].execution_gas <= PROVE_SOLVENT_MAX_GAS, (case, r[case].execution_gas)


# --------------------------------------------------------------------------- two real tiers

#: Capacities of the two demo-market tiers the registry accepts, and the tiers each account proves in.
DEMO_TIERS = (2, 4)
DEMO_PLAN = {"A": (2, 4), "B": (2,), "C": (2,), "D": (4,), "E": (4,), "F": (2,)}


@dataclass
class DemoTiers:
    """Real proofs of the small demo market in two tiers, and the venue's key set of those tiers."""

    proofs: dict[tuple[str, int], Any]  # (account, capacity) -> ProofBundle
    keys: Path  # <circuit name>.json per tier, as `zksolv verify --keys` reads it

    def args(self, account: str, capacity: int) -> tuple[Any, ...]:
        """``(a, b, c, commitment)`` of ``account``'s proof in tier ``capacity``."""
        bundle = self.proofs[account, capacity]
        return (*proof_to_calldata(bundle.proof), int(bundle.public[0]))

    def commitment(self, account: str) -> int:
        return int(next(b for (name, _), b in self.proofs.items() if name == account).public[0])


@pytest.fixture(scope="module")
def demo_tiers(tmp_path_factory: pytest.TempPathFactory) -> DemoTiers:
    """Six two-position accounts of demo_market(n_strikes=3, n_expiries=1) proven by zksolv's
    prover in tier 2, tier 4 or both (development keys, cached like every tier)."""
    import warnings

    from zksolv.prover.prove import prove
    from zksolv.core.account import Account, Position
    from zksolv.app.demo import demo_market

    market = demo_market(n_strikes=3, n_expiries=1)
    symbols = [i.symbol for i in market.instruments]
    proofs = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # development setup: NOT FOR REAL FUNDS
        for i, (name, capacities) in enumerate(DEMO_PLAN.items()):
            book = Account((Position(symbols[4], -1_500_000), Position(symbols[1], 750_000)),
                           {"USDC": 50_000_000_000}, 111_111_111_111 + 7919 * i).validated(market)
            for capacity in capacities:
                proofs[name, capacity] = prove(book, market, n_positions=capacity)
    keys = tmp_path_factory.mktemp("venue_keys")
    for bundle in proofs.values():
        (keys / f"{bundle.statement.tier}.json").write_text(json.dumps(bundle.verification_key))
    return DemoTiers(proofs, keys)


@pytest.fixture(scope="module")
def tier_chain(demo_tiers: DemoTiers, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`zksolv export-solidity --keys` of the two tiers; every file it wrote compiled and deployed
    as deploy.json says; then each tier's proofs, alone and in batches, under their own tier,
    the other one and tiers the venue does not accept."""
    from click.testing import CliRunner

    from zksolv.cli import main

    out = tmp_path_factory.mktemp("tier_export") / "sol"
    export = CliRunner().invoke(main, ["export-solidity", "--keys", str(demo_tiers.keys), "--out", str(out), "--json"])
    assert export.exit_code == 0, export.output
    note = json.loads((out / "deploy.json").read_text())
    s = EvmScript()
    deployed: dict[int, tuple[Any, Any]] = {}
    for t in note["tiers"]:
        files = (t["verifier"]["file"], t["batch_verifier"]["file"])
        compiled = compile_solidity({name: (out / name).read_text() for name in files})
        deployed[t["capacity"]] = (s.deploy(f"v{t['capacity']}", compiled[t["verifier"]["contract"]]),
                                   s.deploy(f"b{t['capacity']}", compiled[t["batch_verifier"]["contract"]]))
    reg_c = compile_solidity({note["registry"]["file"]: (out / note["registry"]["file"]).read_text()})["SolvencyRegistry"]
    ctor = [(args[0], *deployed[args[0]]) for args in note["constructor_args"][0]]
    reg = s.deploy("registry", reg_c, [ctor])
    d = demo_tiers
    root = int(d.proofs["A", 2].public[1])
    pub = {key: [int(x) for x in b.public] for key, b in d.proofs.items()}

    def batch(tier: int, members: list[tuple[str, int]]) -> bytes:
        ordered = sorted(members, key=lambda m: d.commitment(m[0]))
        return encode_prove_solvent_batch(tier, [d.args(*m)[:3] for m in ordered], [d.commitment(m[0]) for m in ordered])

    s.call("tiers", reg, reg_c.selector("acceptedTiers()"))
    # the verifiers alone: each accepts its tier's proof and rejects the other tier's (same public inputs)
    for capacity in DEMO_TIERS:
        for proof_tier in DEMO_TIERS:
            s.call(f"v{capacity}_of_t{proof_tier}", deployed[capacity][0],
                   encode_verify_proof(*d.args("A", proof_tier)[:3], pub["A", proof_tier]))
    for i, name in enumerate(DEMO_PLAN):
        s.call(f"register_{name}", reg, encode_register_account("0x" + f"{i + 1:040x}", d.commitment(name)))
    s.call("post", reg, encode_post_market_root(1, root))
    for tier in (0, 1, 3, 8, 64):
        s.call(f"unknown_{tier}", reg, encode_prove_solvent(tier, *d.args("A", 2)))
    s.call("batch_unknown", reg, batch(16, [("B", 2), ("C", 2)]))
    s.call("t2_proof_as_4", reg, encode_prove_solvent(4, *d.args("A", 2)))
    s.call("t4_proof_as_2", reg, encode_prove_solvent(2, *d.args("A", 4)))
    s.call("t2_batch_as_4", reg, batch(4, [("B", 2), ("C", 2)]))
    s.call("t4_batch_as_2", reg, batch(2, [("D", 4), ("E", 4)]))
    s.call("mixed_batch_as_2", reg, batch(2, [("B", 2), ("D", 4)]))
    s.call("mixed_batch_as_4", reg, batch(4, [("B", 2), ("D", 4)]))
    s.call("prove_A_t4", reg, encode_prove_solvent(4, *d.args("A", 4)))
    s.call("prove_A_t2_after", reg, encode_prove_solvent(2, *d.args("A", 2)))  # solvent already, whatever tier
    s.call("prove_F_t2", reg, encode_prove_solvent(2, *d.args("F", 2)))
    s.call("batch_t2", reg, batch(2, [("B", 2), ("C", 2)]))
    s.call("batch_t4", reg, batch(4, [("D", 4), ("E", 4)]))
    s.call("batch_t2_replay", reg, batch(2, [("B", 2), ("C", 2)]))
    for name in DEMO_PLAN:
        s.call(f"solvent_{name}", reg, IS_SOLVENT_SELECTOR, [d.commitment(name)])
    return {"results": s.run(), "note": note, "export": json.loads(export.stdout)}


def test_export_of_the_key_set_names_both_tiers(tier_chain: dict[str, Any], demo_tiers: DemoTiers) -> None:
    tiers = tier_chain["export"]["tiers"]
    assert [t["capacity"] for t in tiers] == list(DEMO_TIERS)
    assert [t["tier"] for t in tiers] == [demo_tiers.proofs["A", c].statement.tier for c in DEMO_TIERS]
    r = tier_chain["results"]
    assert r["registry"].success, r["registry"].revert
    address = {name: r[name].address for name in ("v2", "b2", "v4", "b4")}
    assert decode_accepted_tiers(r["tiers"].return_data) == [
        (2, address["v2"], address["b2"]), (4, address["v4"], address["b4"])]


def test_each_tier_verifier_accepts_only_its_tier(tier_chain: dict[str, Any]) -> None:
    r = tier_chain["results"]
    assert r["v2_of_t2"].returned_bool() and r["v4_of_t4"].returned_bool()
    assert r["v2_of_t4"].success and not r["v2_of_t4"].returned_bool()
    assert r["v4_of_t2"].success and not r["v4_of_t2"].returned_bool()


def test_registry_accepts_each_tier_under_its_own_tier_only(tier_chain: dict[str, Any]) -> None:
    r = tier_chain["results"]
    for case in ("prove_A_t4", "prove_F_t2"):
        assert r[case].success, (case, r[case].revert)
        assert r[case].execution_gas <= PROVE_SOLVENT_MAX_GAS, (case, r[case].execution_gas)
    _rejected(r["t2_proof_as_4"], "InvalidProof()")
    _rejected(r["t4_proof_as_2"], "InvalidProof()")
    # the record does not depend on the tier: proven is proven for this root
    _rejected(r["prove_A_t2_after"], "AlreadyProven(uint256,uint256)")


def test_registry_refuses_tiers_the_venue_does_not_accept(tier_chain: dict[str, Any]) -> None:
    r = tier_chain["results"]
    for tier in (0, 1, 3, 8, 64):
        _rejected(r[f"unknown_{tier}"], "UnknownTier(uint256)")
    _rejected(r["batch_unknown"], "UnknownTier(uint256)")


def test_batches_are_of_one_tier(tier_chain: dict[str, Any], demo_tiers: DemoTiers) -> None:
    r = tier_chain["results"]
    for case, members in (("batch_t2", ("B", "C")), ("batch_t4", ("D", "E"))):
        assert r[case].success, (case, r[case].revert)
        assert r[case].returned_uint() == 2
        logged = sorted(int.from_bytes(lg.topics[1], "big") for lg in r[case].logs)
        assert logged == sorted(demo_tiers.commitment(m) for m in members)
    for case in ("t2_batch_as_4", "t4_batch_as_2", "mixed_batch_as_2", "mixed_batch_as_4"):
        _rejected(r[case], "InvalidProof()")
    _rejected(r["batch_t2_replay"], "NothingToProve(uint256)")
    for name in DEMO_PLAN:
        assert r[f"solvent_{name}"].returned_bool(), name
