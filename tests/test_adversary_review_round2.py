"""Adversarial review, round 2: attacks on the fixes of the first review (fair trigger, oracle
audit, key provenance).

Each test asserts the SAFE behaviour: a test that fails is an attack that worked. Contract cases
run in one @ethereumjs/evm script (toy fixtures of tests/test_onchain.py); each scenario has its
own registry so their clocks and epochs do not interfere.
"""

from __future__ import annotations

from typing import Any

import pytest

from test_onchain import MALLORY, TOY_TIER, _rand, _rejected, contracts, toy  # noqa: F401 (fixtures)
from zksolv.chain.evm import CompiledContract, EvmScript
from zksolv.chain.solidity import BATCH_VERIFIER_CONTRACT, VERIFIER_CONTRACT
from zksolv.verifier.calldata import (
    IS_SOLVENT_SELECTOR,
    R,
    encode_mark_liquidatable,
    encode_post_market_root,
    encode_prove_solvent,
    encode_register_account,
    proof_to_calldata,
)

W = 3600  # every scenario's proof window (the contract's minimum)
EPOCHS = 4


def _account(i: int) -> str:
    return "0x" + f"{i + 0x50:02x}" * 20


def _commitment(secret: int, salt: int) -> int:
    """The toy circuit's account commitment (tests/test_onchain.py Toy.prove)."""
    return (secret * secret + salt) % R


# ----------------------------------------------------------------------------- the fair trigger


@pytest.fixture(scope="module")
def trig(toy, contracts: dict[str, CompiledContract]) -> dict[str, Any]:  # noqa: F811
    s = EvmScript()
    reg_c = contracts["SolvencyRegistry"]
    v = s.deploy("verifier", contracts[VERIFIER_CONTRACT])
    bv = s.deploy("batch_verifier", contracts[BATCH_VERIFIER_CONTRACT])
    roots = [_rand() or (i + 1) for i in range(EPOCHS + 2)]
    out: dict[str, Any] = {"epochs": EPOCHS}

    # T1: an insolvent trader trades ten seconds before every epoch deadline; an honest venue posts
    # each next root the second after the deadline (back-to-back epochs). Each trade takes the
    # epoch's one grace, the next root ends that grace's obligation, and the next epoch grants a
    # fresh grace: no commitment of the account is ever markable. Keepers try to mark the current
    # commitment right after each deadline (before the root) and right after each root.
    reg = s.deploy("t1_registry", reg_c, [[(TOY_TIER, v, bv)]])
    cs = [_rand() or 11 + i for i in range(EPOCHS + 1)]
    s.call("t1_reg_0", reg, encode_register_account(_account(1), cs[0]))
    s.call("t1_post_1", reg, encode_post_market_root(1, roots[0], W))
    for e in range(1, EPOCHS + 1):
        # the epoch's root was posted W seconds before its deadline: trade at deadline - 10, mark
        # and post the next root at deadline + 1
        s.call(f"t1_trade_{e}", reg, encode_register_account(_account(1), cs[e]), advance_seconds=W - 10)
        s.call(f"t1_mark_after_deadline_{e}", reg, encode_mark_liquidatable(cs[e]), sender=MALLORY,
               advance_seconds=11)
        s.call(f"t1_post_{e + 1}", reg, encode_post_market_root(e + 1, roots[e], W))
        s.call(f"t1_mark_after_root_{e + 1}", reg, encode_mark_liquidatable(cs[e]), sender=MALLORY)

    # T2: a trader misses epoch 1's deadline; the venue posts root 2 the second after it, and the
    # trader's trade lands right after the root, before any keeper marks epoch 1: the previous
    # epoch's miss is forgotten (the new commitment is "registered in epoch 2") and it gets a grace.
    reg2 = s.deploy("t2_registry", reg_c, [[(TOY_TIER, v, bv)]])
    y0, y1 = _rand() or 21, _rand() or 22
    s.call("t2_reg_0", reg2, encode_register_account(_account(2), y0))
    s.call("t2_post_1", reg2, encode_post_market_root(1, roots[0], W))
    s.call("t2_post_2", reg2, encode_post_market_root(2, roots[1], W), advance_seconds=W + 1)
    s.call("t2_trade", reg2, encode_register_account(_account(2), y1))
    s.call("t2_mark_new", reg2, encode_mark_liquidatable(y1), sender=MALLORY)
    s.call("t2_marked_epoch", reg2, reg_c.selector("liquidatableEpoch(uint256)"), [y1])

    # H: the honest trader the fixes must not hurt. Registered before root 1; proves root 1 in time;
    # trades 10 s before epoch 1's deadline (grace); root 2 comes the second after the deadline
    # (its root-1 proof of the new commitment is worthless now); trades again in epoch 2 before
    # proving (no second grace without a proof in between); proves its last commitment against
    # root 2 in the last minute of epoch 2's window; trades after that proof (a full window again)
    # and proves in it. Keepers try to mark it at every step.
    reg3 = s.deploy("h_registry", reg_c, [[(TOY_TIER, v, bv)]])
    hsec = [(_rand(), _rand()) for _ in range(4)]
    h = [_commitment(*x) for x in hsec]
    hp0, _ = toy.prove(*hsec[0], roots[0], "r2_h0_e1")
    hp2, _ = toy.prove(*hsec[2], roots[1], "r2_h2_e2")
    hp3, _ = toy.prove(*hsec[3], roots[1], "r2_h3_e2")
    s.call("h_reg_0", reg3, encode_register_account(_account(3), h[0]))
    s.call("h_post_1", reg3, encode_post_market_root(1, roots[0], W))
    s.call("h_prove_0", reg3, encode_prove_solvent(TOY_TIER, *proof_to_calldata(hp0), h[0]), advance_seconds=60)
    s.call("h_trade_1", reg3, encode_register_account(_account(3), h[1]), advance_seconds=W - 70)
    s.call("h_mark_1_e1", reg3, encode_mark_liquidatable(h[1]), sender=MALLORY, advance_seconds=11)
    s.call("h_post_2", reg3, encode_post_market_root(2, roots[1], W), advance_seconds=1)
    s.call("h_mark_1_prev", reg3, encode_mark_liquidatable(h[1]), sender=MALLORY)
    s.call("h_trade_2", reg3, encode_register_account(_account(3), h[2]), advance_seconds=600)
    s.call("h_mark_2", reg3, encode_mark_liquidatable(h[2]), sender=MALLORY)
    s.call("h_prove_2", reg3, encode_prove_solvent(TOY_TIER, *proof_to_calldata(hp2), h[2]),
           advance_seconds=W - 600 - 60)
    s.call("h_trade_3", reg3, encode_register_account(_account(3), h[3]), advance_seconds=30)
    s.call("h_mark_3_at_epoch_deadline", reg3, encode_mark_liquidatable(h[3]), sender=MALLORY, advance_seconds=31)
    s.call("h_prove_3", reg3, encode_prove_solvent(TOY_TIER, *proof_to_calldata(hp3), h[3]),
           advance_seconds=W - 120)
    s.call("h_mark_3_after", reg3, encode_mark_liquidatable(h[3]), sender=MALLORY, advance_seconds=W)
    for i in range(4):
        s.call(f"h_marked_{i}", reg3, reg_c.selector("liquidatableEpoch(uint256)"), [h[i]])
    s.call("h_solvent_3", reg3, IS_SOLVENT_SELECTOR, [h[3]])

    out["r"] = s.run()
    return out


def test_trading_before_every_deadline_does_not_escape_marks(trig: dict[str, Any]) -> None:
    """T1 (insolvent never marked): one grace per epoch, and a root posted inside a grace ends its
    obligation, so a trade shortly before each deadline renews the escape every epoch. Safe: a
    grace is granted only once between proofs (across epochs), so at the latest the second epoch's
    deadline applies and a keeper marks the account."""
    r = trig["r"]
    for e in range(1, trig["epochs"] + 1):
        assert r[f"t1_trade_{e}"].success and r[f"t1_post_{e + 1}"].success, (e, r[f"t1_trade_{e}"].revert,
                                                                               r[f"t1_post_{e + 1}"].revert)
    marked = [label for label, step in r.items() if label.startswith("t1_mark") and step.success]
    assert marked, "an account that never proves was never markable, epoch after epoch"
    assert marked[0] in ("t1_mark_after_deadline_1", "t1_mark_after_root_2", "t1_mark_after_deadline_2"), marked


def test_trade_right_after_the_root_does_not_forgive_the_previous_miss(trig: dict[str, Any]) -> None:
    """T2 (insolvent unmarked for an epoch): the account missed epoch 1; its trade lands right after
    root 2, before a keeper's mark. Safe: the new commitment is still markable for epoch 1."""
    r = trig["r"]
    assert r["t2_trade"].success
    assert r["t2_mark_new"].success, f"missed epoch 1, traded after root 2, unmarkable: {r['t2_mark_new'].revert}"
    assert r["t2_marked_epoch"].returned_uint() == 1


def test_honest_trader_who_proves_in_time_is_never_marked(trig: dict[str, Any]) -> None:
    """H: every mark attempt on the honest trader fails, every proof it sends is recorded."""
    r = trig["r"]
    for step in ("h_prove_0", "h_trade_1", "h_post_2", "h_trade_2", "h_prove_2", "h_trade_3", "h_prove_3"):
        assert r[step].success, (step, r[step].revert)
    for step in ("h_mark_1_e1", "h_mark_1_prev", "h_mark_2", "h_mark_3_at_epoch_deadline", "h_mark_3_after"):
        assert not r[step].success, f"{step}: an honest trader who proved in time was marked"
    _rejected(r["h_mark_3_after"], "AlreadyProven(uint256,uint256)")
    assert all(r[f"h_marked_{i}"].returned_uint() == 0 for i in range(4))
    assert r["h_solvent_3"].returned_bool()
