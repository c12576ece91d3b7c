"""On-chain verification: generated verifier + SolvencyRegistry in an in-process EVM.

Uses its own toy circuit (tests/circuits/two_public.circom, public inputs
[account_commitment, market_root]) compiled with circom2 and set up with groth16py, so
it does not depend on the margin circuit or the generic toolchain. All EVM cases run in a
single @ethereumjs/evm script (one node process) built by the ``chain`` fixture.
"""

from __future__ import annotations

import copy
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from verifier.calldata import (
    Q,
    R,
    encode_post_market_root,
    encode_prove_solvent,
    encode_register_account,
    encode_verify_proof,
    proof_from_bytes,
    proof_to_calldata,
    public_to_calldata,
)
from zksolv.errors import InputError, ToolchainError, VerificationError
from zksolv.evm import DEFAULT_SENDER, CompiledContract, EvmScript, StepResult, compile_solidity
from zksolv.solidity import VERIFIER_CONTRACT, export_solidity, registry_source_path, render_verifier
from zksolv.toolchain import node_module_path, run_node

pytestmark = pytest.mark.slow

groth16py = pytest.importorskip("groth16py")

CIRCUIT = Path(__file__).parent / "circuits" / "two_public.circom"
SNARKJS_BATCH = Path(__file__).parent / "js" / "snarkjs_verify_batch.mjs"
VENUE = DEFAULT_SENDER
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

    def prove(self, secret: int, salt: int, root: int, name: str) -> tuple[dict[str, Any], list[int]]:
        """A proof for account (secret, salt) against ``root``: (snarkjs proof JSON, public)."""
        commitment = (secret * secret + salt) % R
        inp = self.workdir / f"{name}.json"
        wtns = self.workdir / f"{name}.wtns"
        inp.write_text(json.dumps({
            "account_commitment": str(commitment), "market_root": str(root),
            "secret": str(secret), "salt": str(salt),
        }))
        run_node([self.generate_witness, self.wasm, inp, wtns], timeout=60, what="toy witness")
        proof = proof_from_bytes(groth16py.prove_wtns(self.pk, str(wtns)))
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
    vk_json = json.loads(vk.to_json())
    (work / "vk.json").write_text(json.dumps(vk_json))
    return Toy(work, work / "two_public.r1cs", js / "two_public.wasm", js / "generate_witness.js", pk, vk, vk_json)


@pytest.fixture(scope="module")
def contracts(toy: Toy) -> dict[str, CompiledContract]:
    source = render_verifier(toy.vk_json, circuit_hash="toy-" + "0" * 8, tier="toy2")
    return compile_solidity({"Groth16Verifier.sol": source, "SolvencyRegistry.sol": registry_source_path().read_text()})


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
    reg = s.deploy("registry", contracts["SolvencyRegistry"], [v])

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
    s.call("no_root_yet", reg, encode_prove_solvent(a, b, c, alice))
    s.call("post_e1", reg, encode_post_market_root(1, pub1[1]))
    s.call("post_e1_again", reg, encode_post_market_root(1, pub2[1]))
    s.call("post_root_reused", reg, encode_post_market_root(5, pub1[1]))
    s.call("unknown_commitment", reg, encode_prove_solvent(a, b, c, alice_new))
    s.call("wrong_commitment", reg, encode_prove_solvent(a, b, c, bob))
    s.call("snarkjs_order", reg, encode_prove_solvent(a, _snarkjs_order(b), c, alice))
    bad = _coordinate_variants(a, b, c, 1)["c1"]
    s.call("coord_changed", reg, encode_prove_solvent(*bad, alice))
    nonq = _coordinate_variants(a, b, c, Q)["a1"]
    s.call("coord_ge_q", reg, encode_prove_solvent(*nonq, alice))
    s.call("last_alice_before", reg, reg_c.selector("lastSolventEpoch(uint256)"), [alice])
    s.call("prove_alice_e1", reg, encode_prove_solvent(a, b, c, alice))
    s.call("last_alice_after_e1", reg, reg_c.selector("lastSolventEpoch(uint256)"), [alice])
    s.call("root_alice_after_e1", reg, reg_c.selector("lastProvenRoot(uint256)"), [alice])
    s.call("replay_same_epoch", reg, encode_prove_solvent(a, b, c, alice))
    s.call("prove_bob_e1", reg, encode_prove_solvent(*_calldata(pb), bob))
    s.call("post_e2", reg, encode_post_market_root(2, pub2[1]))
    s.call("epoch_of_root2", reg, reg_c.selector("epochOfRoot(uint256)"), [pub2[1]])
    s.call("stale_root", reg, encode_prove_solvent(a, b, c, alice))
    s.call("prove_alice_e2", reg, encode_prove_solvent(*_calldata(p2), alice))
    s.call("last_alice_after_e2", reg, reg_c.selector("lastSolventEpoch(uint256)"), [alice])
    s.call("last_bob_after_e2", reg, reg_c.selector("lastSolventEpoch(uint256)"), [bob])
    s.call("reregister_alice_same", reg, encode_register_account(ALICE, alice))
    s.call("last_alice_after_rereg", reg, reg_c.selector("lastSolventEpoch(uint256)"), [alice])
    s.call("prove_alice_after_rereg", reg, encode_prove_solvent(*_calldata(p2), alice))
    s.call("reregister_alice_new", reg, encode_register_account(ALICE, alice_new))
    s.call("commitment_of_alice", reg, reg_c.selector("commitmentOf(address)"), [ALICE])
    s.call("old_registered", reg, reg_c.selector("isRegistered(uint256)"), [alice])
    s.call("new_registered", reg, reg_c.selector("isRegistered(uint256)"), [alice_new])
    s.call("last_alice_old", reg, reg_c.selector("lastSolventEpoch(uint256)"), [alice])
    s.call("prove_old_commitment", reg, encode_prove_solvent(*_calldata(p2), alice))
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
    _rejected(chain["snarkjs_order"], "InvalidProof()")


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
    assert later <= 210_000  # docs/onchain.md: the restated target


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
    _rejected(chain["coord_changed"], "InvalidProof()")
    _rejected(chain["coord_ge_q"], "NotInBaseField()")


def test_reregistration_clears_record(chain: dict[str, StepResult], proofs: dict[str, Any]) -> None:
    assert chain["reregister_alice_same"].success
    assert chain["last_alice_after_rereg"].returned_uint() == 0
    assert chain["prove_alice_after_rereg"].success, chain["prove_alice_after_rereg"].revert


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
    from verifier import calldata as cd

    reg = contracts["SolvencyRegistry"]
    assert cd.PROVE_SOLVENT_SELECTOR == reg.selector("proveSolvent(uint256[2],uint256[2][2],uint256[2],uint256)")
    assert cd.POST_MARKET_ROOT_SELECTOR == reg.selector("postMarketRoot(uint64,uint256)")
    assert cd.REGISTER_ACCOUNT_SELECTOR == reg.selector("registerAccount(address,uint256)")
    assert cd.VERIFY_PROOF_SELECTOR == contracts[VERIFIER_CONTRACT].selector(
        "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[2])"
    )


# --------------------------------------------------------------------------- tests: agreement


def _python_verify(toy: Toy, proof: dict[str, Any], public: list[int]) -> bool:
    """Python-side verdict: the keeper's verifier.groth16 (py_ecc) when present, else
    groth16py's (arkworks) Verifier. Malformed input (VerificationError) counts as reject."""
    pub = [str(x) for x in public]
    try:
        from verifier.groth16 import verify_groth16
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
    verifier.calldata, which refuses non-canonical coordinates before anything else."""
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


def test_export_solidity_writes_both_files(toy: Toy, tmp_path: Path) -> None:
    out = export_solidity(toy.workdir / "vk.json", tmp_path / "sol", circuit_hash="abc123", tier="toy2")
    text = out["verifier"].read_text()
    assert text.startswith("// auto-generated by zksolv — do not edit")
    assert "circuit hash: abc123" in text and "tier: toy2" in text
    assert "function verifyProof(uint[2] calldata _pA, uint[2][2] calldata _pB, uint[2] calldata _pC, uint[2] calldata _pubSignals)" in text
    assert out["registry"].read_text() == registry_source_path().read_text()
    assert not list((tmp_path / "sol").glob("*.tmp"))


def test_render_verifier_refuses_wrong_key(toy: Toy) -> None:
    vk = copy.deepcopy(toy.vk_json)
    vk["nPublic"] = 3
    with pytest.raises(InputError, match="2 public inputs"):
        render_verifier(vk, circuit_hash="x", tier="y")
    with pytest.raises(InputError):
        render_verifier(toy.vk_json, circuit_hash="bad hash; */", tier="y")
