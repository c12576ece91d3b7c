"""Issue 25: a fair missed-proof trigger, and malformed proofs refused before the pairing.

The three defects the issue measured, as regression tests (its exact sequences), and the attacks
a stranger could try against the fixed rules (each must fail). One EVM script (one node run)
holds every case; labels name them. Fixtures (the toy circuit, its contracts) come from
tests/test_onchain.py.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from test_onchain import MALLORY, TOY_TIER, _rand, _rejected, contracts, toy  # noqa: F401 (fixtures)
from zksolv.verifier.calldata import (
    IS_SOLVENT_SELECTOR,
    Q,
    R,
    encode_mark_liquidatable,
    encode_post_market_root,
    encode_prove_solvent,
    encode_prove_solvent_batch,
    encode_register_account,
    proof_to_calldata,
)
from zksolv.chain.evm import CompiledContract, EvmScript
from zksolv.chain.solidity import BATCH_VERIFIER_CONTRACT, VERIFIER_CONTRACT

pytestmark = pytest.mark.slow

WINDOW = 3600
T0 = 1_700_000_000  # the script's first timestamp (zksolv.chain.evm)
DEADLINE = T0 + WINDOW
GAS_LIMIT = 10_000_000
TRADER = "0x" + "71" * 20
#: What a malformed proof may cost (single or batch) in a transaction with a 10M gas limit;
#: before the fix a malformed batch member used 9,692,719.
MALFORMED_MAX_GAS = 150_000


def _account(i: int) -> str:
    return "0x" + f"{i + 1:02x}" * 20


@pytest.fixture(scope="module")
def trigger(toy, contracts: dict[str, CompiledContract]) -> dict[str, Any]:  # noqa: F811
    """Accounts: honest (proves in the window), miss (never proves), late (registered 200 s after
    the deadline, proves later), late2 (registered 350 s after it, never proves), prev (misses
    epoch 1, marked only after epoch 2's root), batch members c1 < c2."""
    root1, root2 = _rand() or 1, _rand() or 2
    secrets_ = {name: (_rand(), _rand()) for name in ("honest", "late", "m1", "m2")}
    honest_p, honest_pub = toy.prove(*secrets_["honest"], root1, "t_honest")
    late_p, late_pub = toy.prove(*secrets_["late"], root1, "t_late")
    members = sorted((toy.prove(*secrets_[m], root1, f"t_{m}") for m in ("m1", "m2")), key=lambda pp: pp[1][0])
    honest, late = honest_pub[0], late_pub[0]
    miss, late2, prev, fresh = (_rand() or 3 for _ in range(4))
    c1, c2 = (pub[0] for _, pub in members)

    def batch(pairs: list[tuple[Any, int]]) -> bytes:
        return encode_prove_solvent_batch(TOY_TIER, [proof_to_calldata(p) if isinstance(p, dict) else p
                                                     for p, _ in pairs], [c for _, c in pairs])

    def tweak(proof: dict[str, Any], where: str, delta: int) -> tuple:
        a, b, c = (copy.deepcopy(x) for x in proof_to_calldata(proof))
        {"a": lambda: a.__setitem__(0, a[0] + delta), "c": lambda: c.__setitem__(0, c[0] + delta),
         "b": lambda: b[0].__setitem__(0, b[0][0] + delta)}[where]()
        return a, b, c

    s = EvmScript()
    reg_c = contracts["SolvencyRegistry"]
    v = s.deploy("verifier", contracts[VERIFIER_CONTRACT])
    bv = s.deploy("batch_verifier", contracts[BATCH_VERIFIER_CONTRACT])
    reg = s.deploy("registry", reg_c, [[(TOY_TIER, v, bv)]])
    for i, c in enumerate((honest, miss, prev, c1, c2)):
        s.call(f"register_{i}", reg, encode_register_account(_account(i), c))
    s.call("post_too_long", reg, encode_post_market_root(1, root1, 7 * 86400 + 1))
    s.call("post_e1", reg, encode_post_market_root(1, root1, WINDOW))
    s.call("prove_honest", reg, encode_prove_solvent(TOY_TIER, *proof_to_calldata(honest_p), honest),
           advance_seconds=10)
    # defect 2: a root posted while the window is open
    s.call("post_in_window", reg, encode_post_market_root(2, root2, WINDOW), advance_seconds=90)
    s.call("post_at_deadline", reg, encode_post_market_root(2, root2, WINDOW), advance_seconds=WINDOW - 100)
    # defect 3: malformed proofs, single and batch, with a 10M gas limit
    m1, m2 = members[0][0], members[1][0]
    s.call("single_c_off_curve", reg, encode_prove_solvent(TOY_TIER, *tweak(m1, "c", 1), c1), gas_limit=GAS_LIMIT)
    s.call("single_a_off_curve", reg, encode_prove_solvent(TOY_TIER, *tweak(m1, "a", 1), c1), gas_limit=GAS_LIMIT)
    s.call("single_b_off_twist", reg, encode_prove_solvent(TOY_TIER, *tweak(m1, "b", 1), c1), gas_limit=GAS_LIMIT)
    s.call("single_a_ge_q", reg, encode_prove_solvent(TOY_TIER, *tweak(m1, "a", Q), c1), gas_limit=GAS_LIMIT)
    s.call("batch_ge_q", reg, batch([(m1, c1), (tweak(m2, "c", Q), c2)]), gas_limit=GAS_LIMIT)
    s.call("batch_c_off_curve", reg, batch([(m1, c1), (tweak(m2, "c", 1), c2)]), gas_limit=GAS_LIMIT)
    s.call("batch_a_off_curve", reg, batch([(tweak(m1, "a", 1), c1), (m2, c2)]), gas_limit=GAS_LIMIT)
    s.call("batch_b_off_twist", reg, batch([(m1, c1), (tweak(m2, "b", 1), c2)]), gas_limit=GAS_LIMIT)
    s.call("batch_commitment_ge_r", reg, batch([(m1, c1), (m2, c2 + R)]), gas_limit=GAS_LIMIT)
    # ...and the valid proofs in them stay recordable
    s.call("batch_valid_after", reg, batch([(m1, c1), (m2, c2)]))
    # defect 1: registered after the deadline (deadline + 200 s), marked 12 s later by a stranger
    s.call("register_late", reg, encode_register_account(TRADER, late), advance_seconds=200)
    s.call("deadline_of_late", reg, reg_c.selector("proofDeadlineOf(uint256)"), [late])
    s.call("deadline_of_miss", reg, reg_c.selector("proofDeadlineOf(uint256)"), [miss])
    # ...and re-registered with the same commitment after the deadline: the proof stands
    s.call("reregister_honest", reg, encode_register_account(_account(0), honest))
    s.call("reregister_miss", reg, encode_register_account(_account(1), miss))  # no new window either
    s.call("mark_late", reg, encode_mark_liquidatable(late), sender=MALLORY, advance_seconds=12)
    s.call("mark_honest", reg, encode_mark_liquidatable(honest), sender=MALLORY)
    s.call("solvent_honest", reg, IS_SOLVENT_SELECTOR, [honest])
    # a stranger trying to spare the non-prover: reset its record, move the window, prove it with a
    # proof of another commitment
    s.call("stranger_register_miss", reg, encode_register_account(_account(1), miss), sender=MALLORY)
    s.call("stranger_post", reg, encode_post_market_root(2, root2, WINDOW), sender=MALLORY)
    s.call("stranger_proves_miss", reg, encode_prove_solvent(TOY_TIER, *proof_to_calldata(late_p), miss),
           sender=MALLORY)
    s.call("mark_miss", reg, encode_mark_liquidatable(miss), sender=MALLORY)
    s.call("marked_miss", reg, reg_c.selector("liquidatableEpoch(uint256)"), [miss])
    s.call("mark_miss_again", reg, encode_mark_liquidatable(miss), sender=MALLORY)
    s.call("prove_late", reg, encode_prove_solvent(TOY_TIER, *proof_to_calldata(late_p), late), advance_seconds=88)
    s.call("register_late2", reg, encode_register_account(_account(7), late2), advance_seconds=50)  # D + 350
    # epoch 2 after the window: prev (missed epoch 1, not marked yet) stays markable for epoch 1
    s.call("post_e2", reg, encode_post_market_root(2, root2, WINDOW), advance_seconds=50)  # D + 400
    s.call("previous_root", reg, reg_c.selector("previousRoot()"))
    s.call("mark_prev", reg, encode_mark_liquidatable(prev), sender=MALLORY, advance_seconds=1)
    s.call("mark_prev_again", reg, encode_mark_liquidatable(prev), sender=MALLORY)
    s.call("mark_late_prev", reg, encode_mark_liquidatable(late), sender=MALLORY)  # proved root 1
    s.call("mark_late2_prev", reg, encode_mark_liquidatable(late2), sender=MALLORY)  # its window was cut
    s.call("register_fresh", reg, encode_register_account(_account(8), fresh))
    s.call("mark_fresh", reg, encode_mark_liquidatable(fresh), sender=MALLORY)
    s.call("mark_unknown", reg, encode_mark_liquidatable(fresh + 1), sender=MALLORY)
    # after epoch 2's deadline: everybody who did not prove root 2 is due for epoch 2
    s.call("mark_late_e2", reg, encode_mark_liquidatable(late), sender=MALLORY, advance_seconds=WINDOW)
    s.call("mark_prev_e2", reg, encode_mark_liquidatable(prev), sender=MALLORY)
    s.call("marked_prev", reg, reg_c.selector("liquidatableEpoch(uint256)"), [prev])
    s.call("mark_fresh_e2_early", reg, encode_mark_liquidatable(fresh), sender=MALLORY)
    return {"r": s.run(), "honest": honest, "miss": miss, "late": late, "late2": late2, "prev": prev,
            "c1": c1, "c2": c2, "root1": root1, "root2": root2}


def _liquidatable(r: Any, commitment: int, epoch: int, root: int) -> None:
    assert r.success, (r.label, r.revert)
    (log,) = r.logs
    assert log.event == "Liquidatable(uint256,uint64,uint256)"
    assert int.from_bytes(log.topics[1], "big") == commitment
    assert int.from_bytes(log.topics[2], "big") == epoch
    assert int.from_bytes(log.data, "big") == root


def test_window_longer_than_the_maximum_is_refused(trigger: dict[str, Any]) -> None:
    _rejected(trigger["r"]["post_too_long"], "ProofWindowTooLong(uint64,uint64)")


def test_root_cannot_replace_an_open_window(trigger: dict[str, Any]) -> None:
    """Defect 2: a root posted while the window was open switched the trigger off."""
    r = trigger["r"]
    _rejected(r["post_in_window"], "ProofWindowOpen(uint64)")
    _rejected(r["post_at_deadline"], "ProofWindowOpen(uint64)")  # the deadline second is in the window
    assert r["post_e2"].success, r["post_e2"].revert


def test_late_registration_gets_a_full_window(trigger: dict[str, Any]) -> None:
    """Defect 1: registered at deadline + 200 s, marked by a stranger at + 212 s."""
    r = trigger["r"]
    assert r["register_late"].success
    assert r["deadline_of_late"].returned_uint() == DEADLINE + 200 + WINDOW
    assert r["deadline_of_miss"].returned_uint() == DEADLINE
    _rejected(r["mark_late"], "ProofWindowOpen(uint64)")
    assert r["prove_late"].success, r["prove_late"].revert


def test_reregistering_the_same_commitment_exposes_nothing(trigger: dict[str, Any]) -> None:
    """Defect 1, second form: re-registering reset the record of an account that had proved."""
    r = trigger["r"]
    assert r["reregister_honest"].success
    _rejected(r["mark_honest"], "AlreadyProven(uint256,uint256)")
    assert r["solvent_honest"].returned_bool()


def test_reregistering_the_same_commitment_gives_no_new_window(trigger: dict[str, Any]) -> None:
    r, miss = trigger["r"], trigger["miss"]
    assert r["reregister_miss"].success
    _rejected(r["stranger_register_miss"], "NotVenue()")
    _rejected(r["stranger_post"], "NotVenue()")
    _rejected(r["stranger_proves_miss"], "InvalidProof()")
    _liquidatable(r["mark_miss"], miss, 1, trigger["root1"])
    assert r["marked_miss"].returned_uint() == 1
    _rejected(r["mark_miss_again"], "AlreadyMarked(uint256,uint64)")


@pytest.mark.parametrize("case", ["single_c_off_curve", "single_a_off_curve", "single_b_off_twist"])
def test_single_proof_off_its_curve_is_refused_cheaply(trigger: dict[str, Any], case: str) -> None:
    r = trigger["r"][case]
    _rejected(r, "NotOnCurve()")
    assert r.execution_gas < 10_000, r.execution_gas


def test_malformed_batch_member_is_refused_cheaply(trigger: dict[str, Any]) -> None:
    """Defect 3: one malformed member used 9,692,719 of a 10,000,000 gas limit."""
    r = trigger["r"]
    _rejected(r["single_a_ge_q"], "NotInBaseField()")
    _rejected(r["batch_ge_q"], "MemberNotInBaseField(uint256)")
    assert int.from_bytes(r["batch_ge_q"].return_data[4:36], "big") == 1  # the member's index
    for case in ("batch_c_off_curve", "batch_a_off_curve"):
        _rejected(r[case], "PointNotOnCurve(uint256)")
    assert int.from_bytes(r["batch_c_off_curve"].return_data[4:36], "big") == trigger["c2"]
    assert int.from_bytes(r["batch_a_off_curve"].return_data[4:36], "big") == trigger["c1"]
    _rejected(r["batch_b_off_twist"], "PairingInputInvalid()")
    _rejected(r["batch_commitment_ge_r"], "UnknownCommitment(uint256)")
    for case in ("batch_ge_q", "batch_c_off_curve", "batch_a_off_curve", "batch_commitment_ge_r"):
        assert r[case].execution_gas < MALFORMED_MAX_GAS, (case, r[case].execution_gas)
    # B is checked only by the pairing precompile, whose gas is capped at twice its price
    assert r["batch_b_off_twist"].execution_gas < 2 * (45_000 + 34_000 * 5) + 100_000


def test_valid_members_of_a_refused_batch_stay_recordable(trigger: dict[str, Any]) -> None:
    r = trigger["r"]
    assert r["batch_valid_after"].success and r["batch_valid_after"].returned_uint() == 2


def test_previous_epoch_non_provers_stay_markable_after_the_next_root(trigger: dict[str, Any]) -> None:
    r = trigger["r"]
    assert r["previous_root"].returned_uint() == trigger["root1"]
    _liquidatable(r["mark_prev"], trigger["prev"], 1, trigger["root1"])
    _rejected(r["mark_prev_again"], "AlreadyMarked(uint256,uint64)")
    # proved root 1 (late, in its own window): not markable for epoch 1; its next deadline is epoch 2's
    _rejected(r["mark_late_prev"], "ProofWindowOpen(uint64)")
    # registered 350 s after epoch 1's deadline: its own window ran past root 2, so not due
    _rejected(r["mark_late2_prev"], "ProofWindowOpen(uint64)")
    # registered in epoch 2: did not exist in epoch 1, and its window in epoch 2 is open
    _rejected(r["mark_fresh"], "ProofWindowOpen(uint64)")
    _rejected(r["mark_unknown"], "UnknownCommitment(uint256)")


def test_current_epoch_marks_after_its_deadline(trigger: dict[str, Any]) -> None:
    r = trigger["r"]
    _liquidatable(r["mark_late_e2"], trigger["late"], 2, trigger["root2"])
    _liquidatable(r["mark_prev_e2"], trigger["prev"], 2, trigger["root2"])
    assert r["marked_prev"].returned_uint() == 2
    # registered 1 s after root 2 was posted: due one second after the epoch's deadline
    _rejected(r["mark_fresh_e2_early"], "ProofWindowOpen(uint64)")
