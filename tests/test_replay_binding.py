"""Replay and binding: a proof is valid for exactly one epoch, one market root and one account commitment.

Two real proofs (accounts A and B) on the small demo market of epoch e, one for A at e+1.
Replays, swapped or shifted public inputs, and mixed proof/public pairs are all invalid —
both through the keeper's full check (`zksolv.verifier.verify`) and through the raw pairing check
(`verify_groth16`), so the binding is cryptographic, not only the keeper's root comparison.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from zksolv.verifier.groth16 import curve_order, verify_groth16
from zksolv.verifier.verify import verify
from zksolv.core.account import Account, Position
from zksolv.cli import EXIT_INVALID, main
from zksolv.app.demo import demo_market

pytestmark = pytest.mark.slow


def _account(market, q: int, usdc: int, salt: int) -> Account:
    syms = [i.symbol for i in market.instruments]
    return Account((Position(syms[4], -q), Position(syms[1], q // 2)), {"USDC": usdc}, salt).validated(market)


@pytest.fixture(scope="module")
def proofs():
    from zksolv.prover.prove import prove

    market = demo_market(n_strikes=3, n_expiries=1)
    nxt = replace(market, epoch=market.epoch + 1)
    a = _account(market, 1_500_000, 50_000_000_000, 111_111_111_111)
    b = _account(market, 2_500_000, 70_000_000_000, 222_222_222_222)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pa, pb, pa_next = (prove(a, market, n_positions=4), prove(b, market, n_positions=4),
                           prove(a, nxt, n_positions=4))
    return market, nxt, pa, pb, pa_next


def test_valid_baseline(proofs) -> None:
    market, nxt, pa, pb, pa_next = proofs
    assert verify(pa.proof, pa.public, market, pa.verification_key, statement=pa.statement).valid
    assert verify(pb.proof, pb.public, market, pb.verification_key).valid
    assert verify(pa_next.proof, pa_next.public, nxt, pa_next.verification_key).valid
    assert pa.public[0] == pa_next.public[0] != pb.public[0]  # same account, same commitment across epochs
    assert pa.public[1] == pb.public[1] != pa_next.public[1]


def test_epoch_replay_refused(proofs, tmp_path: Path) -> None:
    market, nxt, pa, _, pa_next = proofs
    v = verify(pa.proof, pa.public, nxt, pa.verification_key, statement=pa.statement)
    assert not v.valid and "epoch" in v.reason
    v = verify(pa.proof, pa.public, nxt, pa.verification_key)
    assert not v.valid and "market_root" in v.reason
    # the other direction: the e+1 proof does not verify at e
    assert not verify(pa_next.proof, pa_next.public, market, pa.verification_key).valid
    # CLI: proof folder of epoch e, market file of epoch e+1 -> exit 1
    pa.save(tmp_path / "proof")
    nxt.save(tmp_path / "next.json")
    market.save(tmp_path / "market.json")
    vk = tmp_path / "venue_vk.json"  # the keeper's key, not the one shipped with the proof (refused)
    (tmp_path / "proof" / "verification_key.json").rename(vk)
    ok = CliRunner().invoke(main, ["verify", "--proof", str(tmp_path / "proof"), "--market", str(tmp_path / "market.json"),
                                   "--vk", str(vk), "--json"])
    assert ok.exit_code == 0, ok.output
    res = CliRunner().invoke(main, ["verify", "--proof", str(tmp_path / "proof"), "--market", str(tmp_path / "next.json"),
                                    "--vk", str(vk), "--json"])
    assert res.exit_code == EXIT_INVALID
    assert json.loads(res.stdout.splitlines()[0])["valid"] is False
    # the keeper's own key (tier rebuilt from the e+1 market, capacity from the statement): still refused
    own = CliRunner().invoke(main, ["verify", "--proof", str(tmp_path / "proof"), "--market", str(tmp_path / "next.json"),
                                    "--dev-key", "--json"])
    assert own.exit_code == EXIT_INVALID, own.output
    verdict = json.loads(own.stdout.splitlines()[0])
    assert verdict["valid"] is False and "epoch" in verdict["reason"] and verdict["tier"] == pa.statement.tier


def test_replayed_root_fails_the_pairing_too(proofs) -> None:
    """Even a keeper that skipped its root comparison would reject: the root is a public input."""
    _, _, pa, _, pa_next = proofs
    vk = pa.verification_key
    assert not verify_groth16(vk, pa.proof, [pa.public[0], pa_next.public[1]])
    assert not verify_groth16(vk, pa_next.proof, pa.public)


def test_swapped_and_mixed_public_inputs(proofs) -> None:
    market, _, pa, pb, _ = proofs
    vk = pa.verification_key
    assert not verify(pa.proof, pb.public, market, vk).valid  # proof A with public inputs of proof B
    assert not verify(pb.proof, pa.public, market, vk).valid
    assert not verify_groth16(vk, pa.proof, [pb.public[0], pa.public[1]])
    assert not verify_groth16(vk, pa.proof, pa.public[::-1])  # order matters
    # the registered commitment is enforced when the keeper passes it
    v = verify(pa.proof, pa.public, market, vk, account_commitment=int(pb.public[0]))
    assert not v.valid and "account_commitment" in v.reason


@pytest.mark.parametrize("index, delta", [(0, 1), (1, 1), (0, curve_order - 1)])
def test_each_public_input_shifted(proofs, index: int, delta: int) -> None:
    market, _, pa, _, _ = proofs
    public = [int(x) for x in pa.public]
    public[index] = (public[index] + delta) % curve_order
    assert not verify(pa.proof, [str(x) for x in public], market, pa.verification_key).valid
    assert not verify_groth16(pa.verification_key, pa.proof, [str(x) for x in public])
    # a non-canonical encoding (x + r) of the true value is refused, not reduced
    alias = [str(int(x)) for x in pa.public]
    alias[index] = str(int(alias[index]) + curve_order)
    assert not verify(pa.proof, alias, market, pa.verification_key).valid
