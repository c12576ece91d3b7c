"""Adversarial review of the missed-proof trigger (SolvencyRegistry), the batch verifier, the
keeper's markable planner and the keeper service's verdict store.

Each test asserts the SAFE behaviour: a test that fails is an attack that worked. Contract cases
run in one EVM script (toy fixtures of tests/test_onchain.py, clock as in tests/test_trigger.py).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from test_onchain import MALLORY, TOY_TIER, _rand, _rejected, contracts, toy  # noqa: F401 (fixtures)
from zksolv.verifier.calldata import (
    IS_SOLVENT_SELECTOR,
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

WINDOW = 3600
GAS_LIMIT = 10_000_000
MALFORMED_MAX_GAS = 150_000


def _account(i: int) -> str:
    return "0x" + f"{i + 0x30:02x}" * 20


def _twist_point_outside_g2() -> list[list[int]]:
    """A point on the BN254 twist y^2 = x^3 + 3/(9+u) that is not in G2 (the cofactor is huge, so
    a random twist point is almost surely outside), in EVM order [[x_im, x_re], [y_im, y_re]]."""
    from py_ecc.bn128 import FQ2, b2, curve_order, field_modulus as q, is_on_curve, multiply

    def sqrt(a: FQ2) -> FQ2 | None:  # q = 3 mod 4 (Adj, Rodriguez-Henriquez, alg. 9)
        a1 = a ** ((q - 3) // 4)
        alpha = a1 * a1 * a
        a0 = (alpha ** q) * alpha
        if a0 == FQ2([q - 1, 0]):
            return None
        x0 = a1 * a
        if alpha == FQ2([q - 1, 0]):
            return FQ2([0, 1]) * x0
        return ((FQ2([1, 0]) + alpha) ** ((q - 1) // 2)) * x0

    x_re = 1
    while True:
        x = FQ2([x_re, 1])
        y = sqrt(x * x * x + b2)
        if y is not None and y * y == x * x * x + b2:
            pt = (x, y)
            assert is_on_curve(pt, b2)
            if multiply(pt, curve_order) is not None and multiply(pt, curve_order) != (FQ2.zero(), FQ2.zero()):
                xr, xi = (int(c) for c in x.coeffs)
                yr, yi = (int(c) for c in y.coeffs)
                return [[xi, xr], [yi, yr]]
        x_re += 1


@pytest.fixture(scope="module")
def adv(toy, contracts: dict[str, CompiledContract]) -> dict[str, Any]:  # noqa: F811
    root1, root2 = (_rand() or 1), (_rand() or 2)
    sec = {n: (_rand(), _rand()) for n in ("c1", "m1", "m2")}
    c1_p, c1_pub = toy.prove(*sec["c1"], root1, "adv_c1")
    m1_p, m1_pub = toy.prove(*sec["m1"], root1, "adv_m1")
    m2_p, m2_pub = toy.prove(*sec["m2"], root1, "adv_m2")
    (m1_p, m1), (m2_p, m2) = sorted(((m1_p, m1_pub[0]), (m2_p, m2_pub[0])), key=lambda t: t[1])
    c1 = c1_pub[0]
    zero_w, other, other2 = (_rand() or 5 for _ in range(3))

    s = EvmScript()
    reg_c = contracts["SolvencyRegistry"]
    v = s.deploy("verifier", contracts[VERIFIER_CONTRACT])
    bv = s.deploy("batch_verifier", contracts[BATCH_VERIFIER_CONTRACT])
    reg = s.deploy("registry", reg_c, [[(TOY_TIER, v, bv)]])
    # a second registry for the careless-venue zero window
    reg0 = s.deploy("registry0", reg_c, [[(TOY_TIER, v, bv)]])
    s.call("z_register", reg0, encode_register_account(_account(9), zero_w))
    s.call("z_post_zero_window", reg0, encode_post_market_root(1, root1, 0))
    s.call("z_mark", reg0, encode_mark_liquidatable(zero_w), sender=MALLORY, advance_seconds=1)

    # an insolvent trader who trades once per window (each trade: the venue re-registers it)
    reg2 = s.deploy("registry2", reg_c, [[(TOY_TIER, v, bv)]])
    churn = [_rand() or 7 for _ in range(5)]
    s.call("t_register_0", reg2, encode_register_account(_account(5), churn[0]))
    s.call("t_post", reg2, encode_post_market_root(1, root1, WINDOW))
    for i in range(1, 5):
        s.call(f"t_register_{i}", reg2, encode_register_account(_account(5), churn[i]), advance_seconds=WINDOW - 10)
    s.call("t_mark_last", reg2, encode_mark_liquidatable(churn[4]), sender=MALLORY, advance_seconds=WINDOW - 10)
    s.call("t_mark_first", reg2, encode_mark_liquidatable(churn[0]), sender=MALLORY)

    for i, c in enumerate((c1, m1, m2)):
        s.call(f"register_{i}", reg, encode_register_account(_account(i), c))
    s.call("post_e1", reg, encode_post_market_root(1, root1, WINDOW))
    # field checks: commitments >= r never get a record, LATE-bit reads of them
    s.call("register_ge_r", reg, encode_register_account(_account(7), c1 + R))
    s.call("deadline_ge_r", reg, reg_c.selector("proofDeadlineOf(uint256)"), [c1 + R])
    s.call("mark_ge_r", reg, encode_mark_liquidatable(c1 + R), sender=MALLORY)
    s.call("registered_ge_r", reg, reg_c.selector("isRegistered(uint256)"), [(1 << 254) | c1])
    # single proof whose B is on the twist but outside G2: only the pairing precompile refuses it
    a, _b, c = proof_to_calldata(m1_p)
    s.call("single_b_outside_g2", reg, encode_prove_solvent(TOY_TIER, a, _twist_point_outside_g2(), c, m1),
           gas_limit=GAS_LIMIT, advance_seconds=5)
    a2, _b2, c2 = proof_to_calldata(m2_p)
    s.call("batch_b_outside_g2", reg, encode_prove_solvent_batch(
        TOY_TIER, [proof_to_calldata(m1_p), (a2, _twist_point_outside_g2(), c2)], [m1, m2]), gas_limit=GAS_LIMIT)
    # batch griefing: m2's account trades (venue re-registers it) before the keeper's batch lands
    s.call("reregister_m2", reg, encode_register_account(_account(2), other))
    s.call("batch_with_moved_member", reg, encode_prove_solvent_batch(
        TOY_TIER, [proof_to_calldata(m1_p), proof_to_calldata(m2_p)], [m1, m2]), gas_limit=GAS_LIMIT)
    s.call("solvent_m1", reg, IS_SOLVENT_SELECTOR, [m1])
    # stale mark: c1 misses epoch 1 and is marked; its account moves away and back (same commitment,
    # new record with a full window of its own), then proves in that window
    s.call("mark_c1", reg, encode_mark_liquidatable(c1), sender=MALLORY, advance_seconds=WINDOW)
    s.call("c1_away", reg, encode_register_account(_account(0), other2))
    s.call("c1_back", reg, encode_register_account(_account(0), c1))
    s.call("c1_late_record", reg, reg_c.selector("lastProvenRoot(uint256)"), [c1])
    s.call("c1_solvent_before", reg, IS_SOLVENT_SELECTOR, [c1])
    s.call("prove_c1", reg, encode_prove_solvent(TOY_TIER, *proof_to_calldata(c1_p), c1), advance_seconds=10)
    s.call("c1_marked_epoch", reg, reg_c.selector("liquidatableEpoch(uint256)"), [c1])
    # replay across epochs: root-1 proof in epoch 2
    s.call("post_e2", reg, encode_post_market_root(2, root2, WINDOW), advance_seconds=WINDOW)
    s.call("replay_c1_e2", reg, encode_prove_solvent(TOY_TIER, *proof_to_calldata(c1_p), c1))
    s.call("mark_c1_prev", reg, encode_mark_liquidatable(c1), sender=MALLORY)  # proved root 1
    return {"r": s.run(), "c1": c1, "m1": m1}


def test_zero_window_does_not_expose_accounts_at_once(adv: dict[str, Any]) -> None:
    """Careless venue: a 0 s window makes every account markable one second after the root, before
    any proof could be made. Safe: a minimum window (or the post refused)."""
    r = adv["r"]
    assert not (r["z_post_zero_window"].success and r["z_mark"].success), \
        "window 0 accepted and an account with no window was marked one second later"


def test_trading_once_per_window_does_not_switch_the_trigger_off(adv: dict[str, Any]) -> None:
    """Root posted with a 1 h window; the account never proves, and trades every 59 min 50 s (the
    venue re-registers it each time). 5 h after the root, 4 h past the epoch deadline, nothing
    of it can be marked: each new commitment has a fresh own deadline, the old ones are gone."""
    r = adv["r"]
    assert all(r[f"t_register_{i}"].success for i in range(5))
    assert r["t_mark_last"].success or r["t_mark_first"].success, (r["t_mark_last"].revert, r["t_mark_first"].revert)


def test_commitments_outside_the_field_have_no_record(adv: dict[str, Any]) -> None:
    r = adv["r"]
    _rejected(r["register_ge_r"], "NotInScalarField(uint256)")
    assert r["deadline_ge_r"].returned_uint() == 0
    _rejected(r["mark_ge_r"], "UnknownCommitment(uint256)")
    assert not r["registered_ge_r"].returned_bool()


def test_single_proof_with_b_outside_g2_is_refused_cheaply(adv: dict[str, Any]) -> None:
    """B on the twist, outside the r-torsion: _proofDefect passes it, the snarkjs verifier gives
    the pairing precompile all the gas left, and the precompile's failure burns it."""
    r = adv["r"]["single_b_outside_g2"]
    assert not r.success
    # The review asked for < MALFORMED_MAX_GAS (150,000), below what the pairing of a VALID proof
    # needs on its own (45,000 + 4 x 34,000 = 181,000): no gas cap can meet it, only an in-EVM G2
    # subgroup check (~100k gas on every valid proof). The fix caps the verifier call at the
    # registry's VERIFY_GAS (200,000), so a bad B costs about one valid verification, not the
    # transaction's gas limit (it burned 9.7M of 10M before).
    assert r.execution_gas < 200_000 + 15_000, r.execution_gas


def test_batch_member_with_b_outside_g2_is_refused_cheaply(adv: dict[str, Any]) -> None:
    r = adv["r"]["batch_b_outside_g2"]
    _rejected(r, "PairingInputInvalid()")
    assert r.execution_gas < 2 * (45_000 + 34_000 * 5) + 100_000, r.execution_gas


def test_batch_survives_a_member_that_was_reregistered(adv: dict[str, Any]) -> None:
    """A trader whose account trades just before a keeper's batch lands (re-registration) makes the
    whole batch revert UnknownCommitment; safe: the other members are recorded."""
    r = adv["r"]
    assert r["batch_with_moved_member"].success, r["batch_with_moved_member"].revert
    assert r["solvent_m1"].returned_bool()


def test_stale_mark_does_not_outlive_a_reregistration(adv: dict[str, Any]) -> None:
    """The same commitment re-registered gets a fresh LATE record and proves in its window, yet
    liquidatableEpoch(c) == currentEpoch keeps calling it liquidatable."""
    r = adv["r"]
    assert r["mark_c1"].success, r["mark_c1"].revert
    assert r["c1_back"].success and r["c1_late_record"].returned_uint() == 0
    assert r["prove_c1"].success, r["prove_c1"].revert
    assert r["c1_marked_epoch"].returned_uint() != 1, "proved in its window, still reads liquidatable for epoch 1"


def test_no_replay_across_epochs(adv: dict[str, Any]) -> None:
    r = adv["r"]
    _rejected(r["replay_c1_e2"], "InvalidProof()")
    _rejected(r["mark_c1_prev"], "ProofWindowOpen(uint64)")


# ----------------------------------------------------------------------------- keeper side


def test_keeper_planner_marks_previous_epoch_non_provers(monkeypatch: pytest.MonkeyPatch) -> None:
    """registry.markable returns nothing while the current window is open, the only time the
    contract lets the previous epoch's non-provers be marked: the keeper never marks them."""
    from zksolv.chain import registry as reg

    now = 1_700_000_000
    monkeypatch.setattr(reg, "current_epoch", lambda ch, d: (2, 222, now + 100))
    monkeypatch.setattr(reg, "account_marks", lambda ch, d: {})
    monkeypatch.setattr(reg, "registered_accounts", lambda ch, d: {"prev": 7})
    monkeypatch.setattr(reg, "is_registered", lambda ch, d, c: True)
    monkeypatch.setattr(reg, "is_solvent", lambda ch, d, c: False)
    chain = SimpleNamespace(w3=SimpleNamespace(eth=SimpleNamespace(get_block=lambda _: {"timestamp": now})),
                            address="0x" + "00" * 20, _simulate=lambda tx, what: 0)  # contract would accept
    todo, _ = reg.markable(chain, SimpleNamespace(registry="0x" + "11" * 20))
    assert ("prev", 7) in todo


def test_keeper_verdicts_see_proofs_submitted_after_the_first_pass(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path) -> None:
    """Verdicts are frozen at the first pass of an epoch: a proof the trader submits to the venue
    folder later (still in its window), or an account registered later, is never checked, and
    the keeper goes on to mark that account."""
    from zksolv.chain import keeper_service as ks
    import zksolv.core.commitments

    monkeypatch.setattr(ks, "load_market", lambda p, use_cache=True: SimpleNamespace(epoch=1))
    monkeypatch.setattr(zksolv.core.commitments, "market_root", lambda m: 5)
    reports = iter([SimpleNamespace(valid=["a"], invalid={}, missing=["b"]),
                    SimpleNamespace(valid=["a", "b"], invalid={}, missing=[])])
    monkeypatch.setattr(ks, "check_epoch", lambda *a, **k: next(reports))
    k = object.__new__(ks.Keeper)
    k.db, k.keys, k.backend, k.policy = ks.open_db(tmp_path / "k.db"), {}, "python", None
    k.verdicts(tmp_path, {"a": 1, "b": 2})
    _, second = k.verdicts(tmp_path, {"a": 1, "b": 2})
    assert second["b"][0] == "valid", second


def _fake_keeper(monkeypatch: pytest.MonkeyPatch, tmp_path, registered_on_chain: dict[int, bool],
                 folder_error: set[str]) -> tuple[Any, list[tuple[int, str]]]:
    """A Keeper whose chain and venue folder are stubs: accounts a (commitment 11) and b (12) both
    checked valid at the first pass; ``folder_error``: accounts whose folder no longer reads."""
    from zksolv.chain import keeper_service as ks
    from zksolv.chain import registry as reg
    from zksolv.core.errors import InputError
    import zksolv.core.commitments

    root = 99
    monkeypatch.setattr(ks, "load_market", lambda p, use_cache=True: SimpleNamespace(epoch=1))
    monkeypatch.setattr(zksolv.core.commitments, "market_root", lambda m: root)
    monkeypatch.setattr(ks, "check_epoch", lambda *a, **k: SimpleNamespace(valid=["a", "b"], invalid={}, missing=[]))
    monkeypatch.setattr(ks, "load_registered", lambda venue: {"a": 11, "b": 12})
    monkeypatch.setattr(reg, "current_epoch", lambda ch, d: (1, root, 2_000_000_000))
    monkeypatch.setattr(reg, "is_solvent", lambda ch, d, c: False)
    monkeypatch.setattr(reg, "is_registered", lambda ch, d, c: registered_on_chain[c])
    monkeypatch.setattr(reg, "markable", lambda ch, d: ([], {}))

    def read(folder, capacities):
        if folder.name in folder_error:
            raise InputError(f"{folder}: proof.json is not valid JSON")
        c = {"a": 11, "b": 12}[folder.name]
        return reg.ProofToSubmit(TOY_TIER, c, root, [1, 2], [[1, 2], [3, 4]], [5, 6], folder.name)

    monkeypatch.setattr(reg, "read_proof_folder", read)
    k = object.__new__(ks.Keeper)
    k.venue, k.keys, k.backend, k.policy = tmp_path, {}, "python", None
    k.db = ks.open_db(tmp_path / "k.db")
    k.deployment = SimpleNamespace(capacities=lambda: [TOY_TIER], registry="0x" + "11" * 20)
    k.chain = None
    sent: list[tuple[int, str]] = []
    k._send = lambda epoch, data, what: sent.append((epoch, what)) or {"what": what, "state": "confirmed"}
    return k, sent


def test_keeper_batch_survives_a_member_reregistered_after_the_verdict(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path) -> None:
    """Trader b proves (valid verdict), then trades: the venue re-registers b. pending_proofs raises
    InputError for b and the whole pass aborts: a's proof is never sent and nobody is marked."""
    k, sent = _fake_keeper(monkeypatch, tmp_path, {11: True, 12: False}, set())
    out = k.run_epoch(tmp_path)
    assert sent and sent[0][1].startswith("proveSolventBatch"), out


def test_keeper_survives_a_proof_folder_changed_after_the_verdict(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path) -> None:
    """Trader b's proof folder is re-read at every pass (not the bytes that were verified): b
    overwrites it with garbage after its valid verdict and every pass aborts before any batch."""
    k, sent = _fake_keeper(monkeypatch, tmp_path, {11: True, 12: True}, {"b"})
    out = k.run_epoch(tmp_path)
    assert sent and sent[0][1].startswith("proveSolventBatch"), out


def test_keeper_restart_is_not_stuck_on_a_stale_signed_transaction(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path) -> None:
    """A tx journaled 'signed' that the node forgot (evicted: its max fee fell below the base fee)
    with its nonce still free: reconcile re-broadcasts the same bytes, the node refuses them, and
    ChainError escapes reconcile at every restart: no batch and no mark is ever sent again."""
    from zksolv.chain.errors import ChainError

    k, sent = _fake_keeper(monkeypatch, tmp_path, {11: True, 12: True}, set())

    def refuse(raw, tx_hash):
        raise ChainError(f"sending {tx_hash}: the node refused it (max fee per gas less than block base fee)")

    k.chain = SimpleNamespace(receipt=lambda h: None, known=lambda h: False, address="0x" + "00" * 20,
                              broadcast=refuse,
                              w3=SimpleNamespace(eth=SimpleNamespace(get_transaction_count=lambda a, b: 7)))
    with k.db:
        k.db.execute("INSERT INTO txs (tx_hash, nonce, epoch, what, raw, state, sent_at) "
                     "VALUES ('0xabc', 7, 1, 'markLiquidatable(x)', x'00', 'signed', 0)")
    try:
        k.run_epoch(tmp_path)
    except ChainError as exc:
        pytest.fail(f"keeper stuck on its journal at restart: {exc}")
    assert sent
