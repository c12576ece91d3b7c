"""Adversarial review, round 3: attacks on the changes of round 2 (one grace between two proofs and
the moved previous-epoch miss, the keeper's batch split, the epoch-seeded Monte-Carlo set, the key
set pin).

Each test asserts the SAFE behaviour: a test that fails is an attack that worked. Contract cases run
in one @ethereumjs/evm script (toy fixtures of tests/test_onchain.py), one registry per scenario.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

# ----------------------------------------------------------------------------- the oracle audit


def _market(mode: str) -> Any:
    from test_adversary_review_trust import _small_market
    return _small_market(mode)[1]


def _renamed(market: Any, name: str) -> Any:
    """``market`` with the scenario set ``name`` names, built exactly as the keeper's audit would
    re-derive it (the family check bypassed: only the name differs from an honest market)."""
    from zksolv.core import audit

    renamed = dataclasses.replace(market, params=dataclasses.replace(
        market.params, scenarios=dataclasses.replace(market.params.scenarios, name=name)))
    real = audit._check_scenario_family
    audit._check_scenario_family = lambda *a: None
    try:
        built = audit.rederive_scenarios(renamed)
    finally:
        audit._check_scenario_family = real
    return dataclasses.replace(market, params=dataclasses.replace(market.params, scenarios=built))


def _short_straddles_requirement(market: Any) -> int:
    from zksolv.core import fixedpoint as fp
    from zksolv.core.account import Account, Position
    from zksolv.risk.model import evaluate

    book = Account(tuple(Position(i.symbol, -10 * fp.QTY_SCALE) for i in market.instruments
                         if i.kind.is_option and i.symbol.startswith("BTC")), {}, 1)
    return evaluate(market, book.position_slots(market), book.balances(market)).req_raw


@pytest.mark.parametrize("mode, honest, swapped", [("stress", "span16", "mc16-seed{epoch}"),
                                                   ("es", "mc16-seed{epoch}", "span16")])
def test_the_oracle_cannot_switch_the_scenario_family_of_a_circuit_size(mode: str, honest: str, swapped: str) -> None:
    """ATTACK (insolvent accounts pass): round 2 bound a Monte-Carlo set's seed to the epoch and argued its
    size n is the circuit's scenario count, so not a choice. But the circuit fixes the count, not the
    family: a 16-scenario stress circuit accepts ``span16`` and ``mc16-seed<epoch>`` alike, both
    "re-derived exactly" by the audit. On the small demo market, 10-lot short BTC straddles need 748,907
    USD under span16 and 149,663 USD under the 16-draw set (-80 %); an ES market moved to span16 changes
    its requirement fivefold. Safe: the family follows the committed risk mode as the builder's does
    (ES: Monte-Carlo; stress, VaR: a stress grid), so the swapped market is refused."""
    from zksolv.core.errors import InputError
    from zksolv.core.market import MarketState

    m0 = _market(mode)
    honest_m = MarketState.from_json(_renamed(m0, honest.format(epoch=m0.epoch)).to_json())
    swapped_m = _renamed(m0, swapped.format(epoch=m0.epoch))
    # the swap is a real choice (else the test tests nothing)
    assert _short_straddles_requirement(swapped_m) != _short_straddles_requirement(honest_m)
    with pytest.raises(InputError, match="params.scenarios.name"):
        MarketState.from_json(swapped_m.to_json())


def test_a_var_market_refuses_a_monte_carlo_set() -> None:
    """The VaR mode's builder makes a stress grid; a Monte-Carlo name there is refused too."""
    from zksolv.core.errors import InputError
    from zksolv.core.market import MarketState

    m0 = _market("var")
    with pytest.raises(InputError, match="stress grid"):
        MarketState.from_json(_renamed(m0, f"mc16-seed{m0.epoch}").to_json())


def test_the_builders_markets_of_every_family_still_pass() -> None:
    """The family check must not refuse what the builder makes: stress/VaR grids, ES Monte-Carlo sets."""
    from zksolv.core.market import MarketState

    for mode in ("stress", "var", "es"):
        m0 = _market(mode)
        assert MarketState.from_json(m0.to_json()).params.scenarios.name == m0.params.scenarios.name


# ----------------------------------------------------------------------------- the registry's grace rule

from test_onchain import MALLORY, TOY_TIER, _rand, _rejected, contracts, toy  # noqa: E402,F401 (fixtures)
from zksolv.chain.evm import CompiledContract, EvmScript  # noqa: E402
from zksolv.chain.solidity import BATCH_VERIFIER_CONTRACT, VERIFIER_CONTRACT  # noqa: E402
from zksolv.verifier.calldata import (  # noqa: E402
    R,
    encode_mark_liquidatable,
    encode_post_market_root,
    encode_prove_solvent,
    encode_register_account,
    proof_to_calldata,
)

W = 3600  # every scenario's proof window (the contract's minimum)


def _account(i: int) -> str:
    return "0x" + f"{i + 0x70:02x}" * 20


def _commitment(secret: int, salt: int) -> int:
    """The toy circuit's account commitment (tests/test_onchain.py Toy.prove)."""
    return (secret * secret + salt) % R


@pytest.fixture(scope="module")
def grace(toy, contracts: dict[str, CompiledContract]) -> dict[str, Any]:  # noqa: F811
    s = EvmScript()
    reg_c = contracts["SolvencyRegistry"]
    v = s.deploy("verifier", contracts[VERIFIER_CONTRACT])
    bv = s.deploy("batch_verifier", contracts[BATCH_VERIFIER_CONTRACT])
    roots = [_rand() or (i + 1) for i in range(6)]
    deadline_of = reg_c.selector("proofDeadlineOf(uint256)")
    marked = reg_c.selector("liquidatableEpoch(uint256)")
    out: dict[str, Any] = {}

    # S1: an honest trader proves in the last second of epoch 1's window; the venue posts root 2 the
    # next second and, in the same block, re-registers the account for its own reasons (funding):
    # once after the root, once (a second registry) before it. Keepers mark in that block and later.
    for order in ("after", "before"):
        reg = s.deploy(f"s1{order}_registry", reg_c, [[(TOY_TIER, v, bv)]])
        sec = [(_rand(), _rand()) for _ in range(2)]
        c = [_commitment(*x) for x in sec]
        p0, _ = toy.prove(*sec[0], roots[0], f"r3_s1{order}_0")
        p1, _ = toy.prove(*sec[1], roots[1], f"r3_s1{order}_1")
        s.call(f"s1{order}_reg_0", reg, encode_register_account(_account(1), c[0]))
        s.call(f"s1{order}_post_1", reg, encode_post_market_root(1, roots[0], W))
        s.call(f"s1{order}_prove_0", reg, encode_prove_solvent(TOY_TIER, *proof_to_calldata(p0), c[0]),
               advance_seconds=W)  # exactly at the (inclusive) deadline
        if order == "before":
            s.call(f"s1{order}_venue_reg_1", reg, encode_register_account(_account(1), c[1]), advance_seconds=1)
            s.call(f"s1{order}_post_2", reg, encode_post_market_root(2, roots[1], W))
        else:
            s.call(f"s1{order}_post_2", reg, encode_post_market_root(2, roots[1], W), advance_seconds=1)
            s.call(f"s1{order}_venue_reg_1", reg, encode_register_account(_account(1), c[1]))
        s.call(f"s1{order}_mark_same_block", reg, encode_mark_liquidatable(c[1]), sender=MALLORY)
        s.call(f"s1{order}_deadline", reg, deadline_of, [c[1]])
        s.call(f"s1{order}_epoch_deadline", reg, reg_c.selector("proofDeadline()"))
        s.call(f"s1{order}_mark_before_deadline", reg, encode_mark_liquidatable(c[1]), sender=MALLORY,
               advance_seconds=W - 1)
        s.call(f"s1{order}_prove_1", reg, encode_prove_solvent(TOY_TIER, *proof_to_calldata(p1), c[1]))
        s.call(f"s1{order}_mark_after", reg, encode_mark_liquidatable(c[1]), sender=MALLORY, advance_seconds=W)
        s.call(f"s1{order}_marked", reg, marked, [c[1]])

    # S2: the previous-epoch rule's boundary (own deadline vs the next root's time, rootPostedAt - 1).
    # Accounts b (new, registered 100 s after root 1) and m (99 s after): own deadlines D and D - 1;
    # root 2 is posted at exactly D. b's window was cut short by the root (not due in epoch 1), m's
    # had passed (due, missed). Both are re-registered by the venue in epoch 2.
    reg = s.deploy("s2_registry", reg_c, [[(TOY_TIER, v, bv)]])
    b = [_rand() or 31, _rand() or 32]
    m = [_rand() or 41, _rand() or 42]
    s.call("s2_post_1", reg, encode_post_market_root(1, roots[0], W))
    s.call("s2_reg_m0", reg, encode_register_account(_account(2), m[0]), advance_seconds=99)
    s.call("s2_reg_b0", reg, encode_register_account(_account(3), b[0]), advance_seconds=1)
    s.call("s2_post_2", reg, encode_post_market_root(2, roots[1], W), advance_seconds=W)  # = b's own deadline
    s.call("s2_mark_b0", reg, encode_mark_liquidatable(b[0]), sender=MALLORY)
    s.call("s2_reg_b1", reg, encode_register_account(_account(3), b[1]))
    s.call("s2_reg_m1", reg, encode_register_account(_account(2), m[1]))
    s.call("s2_mark_b1", reg, encode_mark_liquidatable(b[1]), sender=MALLORY)
    s.call("s2_mark_m1", reg, encode_mark_liquidatable(m[1]), sender=MALLORY)
    s.call("s2_marked_m1", reg, marked, [m[1]])

    # S3: an insolvent account never proves and the venue re-registers it right after every root and
    # twice more in each window; keepers only try to mark its newest commitment, right after each
    # registration (inside the current window). Each epoch's miss must be markable, every epoch.
    reg = s.deploy("s3_registry", reg_c, [[(TOY_TIER, v, bv)]])
    x = [_rand() or 51 + i for i in range(1 + 3 * 4)]
    s.call("s3_reg_0", reg, encode_register_account(_account(4), x[0]))
    s.call("s3_post_1", reg, encode_post_market_root(1, roots[0], W))
    k = 0
    for e in range(2, 6):
        s.call(f"s3_post_{e}", reg, encode_post_market_root(e, roots[e - 1], W), advance_seconds=W + 1)
        for j in range(3):
            k += 1
            s.call(f"s3_reg_{e}_{j}", reg, encode_register_account(_account(4), x[k]), advance_seconds=60 * j)
            s.call(f"s3_mark_{e}_{j}", reg, encode_mark_liquidatable(x[k]), sender=MALLORY)
        s.call(f"s3_marked_{e}", reg, marked, [x[k]])
        # the next root comes the second after this epoch's deadline, before anyone marks epoch e

    out["r"] = s.run()
    return out


@pytest.mark.parametrize("order", ["after", "before"])
def test_a_venue_re_registration_in_the_roots_block_does_not_expose_an_honest_prover(grace: dict[str, Any],
                                                                                    order: str) -> None:
    """ATTACK (honest trader marked): the trader proves at the last second of its window; the venue's
    re-registration (funding, not a trade) lands in the block of the next root, before or after it. The
    new commitment must not inherit a miss (the moved previous-epoch rule) and must get a full window;
    every mark attempt fails; its proof in that window is recorded."""
    r = grace["r"]
    p = f"s1{order}_"
    for step in ("prove_0", "post_2", "venue_reg_1", "prove_1"):
        assert r[p + step].success, (step, r[p + step].revert)
    for step in ("mark_same_block", "mark_before_deadline", "mark_after"):
        assert not r[p + step].success, f"{order}: {step}: an honest trader who proved in time was marked"
    _rejected(r[p + "mark_after"], "AlreadyProven(uint256,uint256)")
    # a full window from the re-registration (in the root's block): the new epoch's deadline
    assert r[p + "deadline"].returned_uint() == r[p + "epoch_deadline"].returned_uint() > 0
    assert r[p + "marked"].returned_uint() == 0


def test_the_previous_epoch_boundary_is_exact(grace: dict[str, Any]) -> None:
    """ATTACK on the shared previous-epoch rule's arithmetic (own deadline vs rootPostedAt, the moved
    miss's `rootPostedAt - 1`): an account whose own window the next root cut short at its very last
    second (own deadline == rootPostedAt) was not due and must not be marked, before or after a
    re-registration; one whose own deadline passed one second before the root missed the epoch and
    stays markable for it after its re-registration."""
    r = grace["r"]
    for step in ("post_2", "reg_b1", "reg_m1"):
        assert r["s2_" + step].success, (step, r["s2_" + step].revert)
    assert not r["s2_mark_b0"].success and not r["s2_mark_b1"].success, "a window cut short by the root was marked"
    _rejected(r["s2_mark_b1"], f"ProofWindowOpen(uint64)")
    assert r["s2_mark_m1"].success, f"a missed epoch forgiven at the boundary: {r['s2_mark_m1'].revert}"
    assert r["s2_marked_m1"].returned_uint() == 1


def test_re_registering_right_after_every_root_never_escapes_a_mark(grace: dict[str, Any]) -> None:
    """ATTACK (insolvent never marked): the account never proves; the venue re-registers it right after
    each root and twice more inside the window, and keepers only ever see its newest commitment inside
    the current window. Safe: in every epoch its newest commitment is marked for the epoch it missed."""
    r = grace["r"]
    for e in range(2, 6):
        assert r[f"s3_post_{e}"].success, (e, r[f"s3_post_{e}"].revert)
        marks = [j for j in range(3) if r[f"s3_mark_{e}_{j}"].success]
        assert marks == [0], (e, [r[f"s3_mark_{e}_{j}"].revert for j in range(3)])
        assert r[f"s3_marked_{e}"].returned_uint() == e - 1


# ----------------------------------------------------------------------------- the keeper's batch split


def test_a_batch_refused_with_no_member_refused_alone_still_records_every_member(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """ATTACK (keeper sends nothing; honest accounts marked by the keeper itself): round 2 splits a refused
    batch by simulating each member alone and sends the members the registry does not refuse alone. When
    none is refused alone (the batch fails for a reason no single member has: its gas over the node's
    cap or the block's limit, a batch-verifier repricing) the "rest" is the whole batch, and the keeper
    sends nothing, every pass, until its own markable() marks every member after the deadline. Safe: the
    members the registry accepts alone are recorded (one by one if no batch of them goes through)."""
    from test_adversary_review_round2 import _keeper_with_rewritten_folder

    k, _ = _keeper_with_rewritten_folder(monkeypatch, tmp_path, "none")  # a and b: both valid, no rewrite
    from zksolv.chain import registry as reg
    monkeypatch.setattr(reg, "refusal_of", lambda ch, d, p: None)  # each member alone: accepted
    sent: list[tuple[str, str]] = []

    def send(epoch: int, data: bytes, what: str) -> dict[str, Any]:
        state = "refused" if what.startswith("proveSolventBatch") else "confirmed"  # only batches fail
        sent.append((what, state))
        return {"what": what, "state": state, **({"error": "out of gas"} if state == "refused" else {})}

    k._send = send
    out = k.run_epoch(tmp_path)
    confirmed = sorted(what for what, state in sent if state == "confirmed")
    assert confirmed == ["proveSolvent(a)", "proveSolvent(b)"], (sent, out)
    assert not out["refused_members"], out


def test_the_split_sends_no_single_proof_while_a_batch_goes_through(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Any) -> None:
    """The fallback must not cost gas when the batch path works: one invalid member is dropped and the
    rest goes as one batch (round 2's behaviour), no single-proof transaction."""
    from test_adversary_review_round2 import _keeper_with_rewritten_folder

    k, sent = _keeper_with_rewritten_folder(monkeypatch, tmp_path, "invalid")
    out = k.run_epoch(tmp_path)
    assert [w for w, _m, st in sent if st == "confirmed"] == ["proveSolventBatch(1)"], (sent, out)
    assert not any(w.startswith("proveSolvent(") for w, _m, _st in sent)


# ----------------------------------------------------------------------------- the key set pin


def test_the_waivers_are_read_from_the_transcript_bytes_the_pin_covers(tmp_path: Any,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """ATTACK (a waived key set reads as production): check_key_set hashed ceremony.json (against the
    pinned manifest's transcript_sha256) and then read it again to take the waivers and the coverage
    from it. Whoever can write the key folder swaps the file between the two reads for a transcript
    claiming a closing beacon and a published phase-1 file: the pinned check passes (the hash was of
    the real file) and the report calls a no-beacon, unknown-ptau key set production. Safe: hashed
    and parsed from one read, the label still says NOT FOR REAL FUNDS."""
    import io
    import json
    import pathlib

    from test_adversary_review_round2 import _pinned_key_set
    from zksolv.proofs.keyset import check_key_set, key_set_sha256, key_setup_label
    from zksolv.proofs.ptau_hashes import BY_HASH

    keys, expected, pin, _ = _pinned_key_set(tmp_path)
    key_pin = key_set_sha256(keys)
    forged = json.loads((keys / "ceremony.json").read_text())
    forged["ptau"]["blake2b"] = next(iter(BY_HASH))
    for c in forged["circuits"]:
        c["contributions"].append({"name": "beacon", "type": "beacon", "hash": "h", "zkey_sha256": c["zkey_sha256"]})
    real_open = pathlib.Path.open
    swapped = []

    def open_then_swap(self: pathlib.Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if self.name != "ceremony.json" or "r" not in mode or swapped:
            return real_open(self, mode, *args, **kwargs)
        with real_open(self, "rb") as fh:
            data = fh.read()
        swapped.append(True)  # the reader has the real bytes; the file on disk is now the forged one
        pathlib.Path.write_text(self, json.dumps(forged))
        return io.BytesIO(data) if "b" in mode else io.StringIO(data.decode())

    monkeypatch.setattr(pathlib.Path, "open", open_then_swap)
    manifest = check_key_set(keys, expected, transcript_sha256=pin, key_set_sha256=key_pin)
    assert swapped, "the transcript was never read (the test tests nothing)"
    label = key_setup_label(manifest, pinned=True, key_set_pinned=True)
    assert "NOT FOR REAL FUNDS" in label, label


# ----------------------------------------------------------------------------- policy parameters (open)


def _rebuilt(mode: str, **changes: Any) -> tuple[Any, Any]:
    from test_adversary_review_trust import _small_market
    from zksolv.oracle.build import build_market

    inputs, m0 = _small_market(mode)
    return m0, build_market(dataclasses.replace(inputs, params=dataclasses.replace(inputs.params, **changes)))


def test_the_oracle_cannot_shrink_the_vol_shift() -> None:
    """ATTACK (insolvent accounts pass): the audit re-derives the grid and the VaR vega stress from the
    published vol_shift but bounds it only > 0. A VaR market published with vol_shift 0.01 instead of
    the venue's 0.25 (every figure re-derived, so the audit accepts it) cuts the requirement of 10-lot
    short BTC straddles from 438,760 to 171,696 USD (-61 %). Safe: a keeper that pinned the venue's
    risk policy (:mod:`zksolv.core.policy`) refuses it, naming the field."""
    from zksolv.core.errors import InputError
    from zksolv.core.market import MarketState
    from zksolv.core.policy import check_policy, policy_of

    m0, low = _rebuilt("var", vol_shift=0.01)
    assert _short_straddles_requirement(low) < 0.5 * _short_straddles_requirement(m0)  # the attack is real
    MarketState.from_json(low.to_json())  # every derived figure is exact: the audit alone accepts it
    check_policy(m0, policy_of(m0))
    with pytest.raises(InputError, match=r"policy\.params\.vol_shift: \"0\.01\" \(pinned: \"0\.25\"\)"):
        check_policy(low, policy_of(m0))


def test_the_oracle_cannot_raise_the_correlation_for_a_spread_book() -> None:
    """ATTACK (insolvent accounts pass): an ES market published with BTC/ETH correlation 0.95 instead of
    the venue's 0.8 (a valid matrix; the Monte-Carlo set and the VaR loadings re-derived from it) lowers
    the requirement of a long BTC / short ETH linear book by more than half (0.8: 135,429 USD; 0.95:
    63,335 USD; at 0.0 it is 363,942 USD). Safe: a correlation other than the venue's pinned one is
    refused by a keeper that pinned the policy."""
    from zksolv.core.policy import check_policy, policy_of
    from zksolv.core import fixedpoint as fp
    from zksolv.core.account import Account, Position
    from zksolv.core.errors import InputError
    from zksolv.core.market import MarketState
    from zksolv.risk.model import evaluate

    m0, high = _rebuilt("es", correlation=((1.0, 0.95), (0.95, 1.0)))
    lin = [i for i in m0.instruments if not i.kind.is_option and i.symbol.startswith(("BTC", "ETH"))]
    book = Account(tuple(Position(i.symbol, (10 if i.symbol.startswith("BTC") else -150) * fp.QTY_SCALE)
                         for i in lin), {}, 1)
    req = [evaluate(m, book.position_slots(m), book.balances(m)).req_raw for m in (m0, high)]
    assert req[1] < 0.75 * req[0], req  # the attack is real
    MarketState.from_json(high.to_json())  # the audit alone accepts it
    with pytest.raises(InputError, match=r"policy\.params\.correlation: "):
        check_policy(high, policy_of(m0))


def test_ceremony_verify_compares_the_verification_key_bytes_it_hashed(tmp_path: Any,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """ATTACK (a key-set pin on a key the ceremony did not make): `ceremony verify` hashed each verification
    key against the manifest, then read the file again to compare it with the key exported from the
    ceremony's zkey. The publisher lists its own setup's key (toxic waste known) in the manifest and swaps
    the file between the two reads: the hash is of its key, the comparison of the ceremony's; verify
    passes and prints a key_set_sha256 whose manifest names the forged key, which the keeper then pins
    and `verify --keys --key-set-sha256` serves. Safe: hashed and compared on one read, refused."""
    import io
    import json
    import pathlib

    import test_adversary_review_trust as trust
    from zksolv.proofs.keyset import key_set_sha256
    from zksolv.toolchain import ceremony

    real_verify = ceremony.verify
    swapped: list[str] = []

    def tamper_then_verify(keys: Any, state: Any, **kw: Any) -> Any:
        manifest = json.loads((keys / "manifest.json").read_text())
        name = sorted(manifest["keys"])[0]
        vk = keys / f"{name}.json"
        ceremony_key = vk.read_bytes()
        forged = json.dumps(trust._fake_vk(999)).encode()
        vk.write_bytes(forged)
        manifest["keys"][name]["verification_key_sha256"] = trust.hashlib.sha256(forged).hexdigest()
        (keys / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        stub_node = ceremony._ceremony_node

        def node(request: dict[str, Any], what: str) -> dict[str, Any]:
            if request["op"] == "export_vk" and Path(request["zkey"]).stem == name:
                Path(request["out"]).write_bytes(ceremony_key)  # the zkey's own key: the ceremony's
                return {"ok": True}
            return stub_node(request, what)

        monkeypatch.setattr(ceremony, "_ceremony_node", node)
        real_open = pathlib.Path.open

        def open_then_swap(self: pathlib.Path, mode: str = "r", *a: Any, **k: Any) -> Any:
            if self != vk or "r" not in mode or swapped:
                return real_open(self, mode, *a, **k)
            with real_open(self, "rb") as fh:
                data = fh.read()
            swapped.append(name)
            vk.write_bytes(ceremony_key)  # the next read sees the ceremony's key
            return io.BytesIO(data) if "b" in mode else io.StringIO(data.decode())

        monkeypatch.setattr(pathlib.Path, "open", open_then_swap)
        try:
            report = real_verify(keys, state, **kw)
        finally:
            monkeypatch.setattr(pathlib.Path, "open", real_open)
        vk.write_bytes(forged)  # what the keeper's `verify --keys` will read
        return report

    Path = pathlib.Path
    monkeypatch.setattr(ceremony, "verify", tamper_then_verify)
    report = trust._stubbed_ceremony_verify(tmp_path, monkeypatch, with_beacon=True, ptau_known=True)
    assert swapped, "the verification key was never read (the test tests nothing)"
    assert not report.valid, "ceremony verify vouched for a manifest listing another setup's verification key"
    assert report.key_set_sha256 == key_set_sha256(tmp_path / "KEYS")  # the pin it prints is of this manifest
