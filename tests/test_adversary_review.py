"""Regression tests from the adversarial review of the identity-binding fix (issue 11).

Each test states a property the documentation claims; each failed on the commit the review was
written against (8af0631) and passes since the findings were fixed:

* ``test_circuit_refuses_quantity_minus_2_52`` (low): fixed_point.md §1/§3, account.circom and
  range.circom say the circuit range-checks ``|q| < 2^52`` (so ``q + 2^52`` is in ``[1, 2^53)``),
  and soundness.md says ``q = p - 2^52`` "has no witness". ``SignedRangeCheck(52)`` checks
  ``q + 2^52 in [0, 2^53)``, i.e. ``q in [-2^52, 2^52)``: an account holding exactly ``-2^52`` has a
  witness against its own commitment (Python refuses that account everywhere). The entry
  ``id * 2^53`` still decodes uniquely, so this is a spec/circuit mismatch, not an alias; the
  test in test_adversarial.py only shows no witness against the *honest* commitment.
* ``test_relabelled_symbols_do_not_change_an_account_under_the_same_root`` (medium): instrument
  display symbols are not committed, yet an account file names holdings by them. Two symbols
  swapped in a market file give a state with the *same* market_root that passes validation and
  the audit, and the same account file then names other contracts (other commitment, other NAV
  and margin in ``zksolv report``). Checking the root does not authenticate the symbol mapping.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest

from zksolv.prover.witness import build_inputs
from zksolv.core import commitments as cm
from zksolv.core import fixedpoint as fp
from zksolv.risk import model
from zksolv.core.account import Account, Position
from zksolv.toolchain.circuitgen import Tier
from zksolv.app.demo import demo_market
from zksolv.core.errors import InputError, ProofError
from zksolv.core.market import MarketState
from zksolv.core.poseidon import poseidon

MARKET = demo_market(n_strikes=3, n_expiries=1)
TIER = Tier.for_market(MARKET, 4)


@pytest.mark.slow
def test_circuit_refuses_quantity_minus_2_52(tmp_path: Path, monkeypatch) -> None:
    from zksolv.toolchain.artifacts import compile_tier
    from zksolv.toolchain import calculate_witness

    perp, fut = MARKET.instrument_index("BTC-PERPETUAL"), MARKET.instrument_index("BTC-3APR26")
    usdc = MARKET.collateral_index("USDC")
    balances = [0] * len(MARKET.collateral)
    balances[usdc] = 10**12
    q_min, q_max = -(1 << fp.QTY_BITS), (1 << fp.QTY_BITS) - 1
    # a cancelling pair (perpetual and future carry the same data), so the book is solvent
    legal = [(perp, -1), (fut, q_max)]
    inputs = build_inputs(MARKET, TIER, legal, balances, 7, model.evaluate(MARKET, legal, balances))
    monkeypatch.setattr(model, "_check_inputs", lambda *a: None)  # the reference refuses q = -2^52
    result = model.evaluate(MARKET, [(perp, q_min), (fut, q_max)], balances)
    assert result.solvent
    j = [int(x) for x in inputs["leaf_index"]].index(perp)
    inputs["q"][j] = str(q_min % fp.FIELD_MODULUS)
    inputs["m"] = [str(fp.to_field(x)) for x in result.hints["m"]]
    inputs["mm"] = str(result.hints["mm"])
    ids = MARKET.instrument_ids
    entries = sorted([ids[perp] * 2**53 + (q_min + 2**52), ids[fut] * 2**53 + (q_max + 2**52)])
    positions_hash = poseidon([0, *entries, *[0] * (cm.ENTRY_BLOCK - len(entries))])
    balances_hash = cm.balances_hash([(MARKET.asset_ids[usdc], balances[usdc])])
    inputs["account_commitment"] = str(poseidon([cm.ACCOUNT_DOMAIN, 7, positions_hash, balances_hash]))
    wasm = compile_tier(TIER)[1].wasm
    with pytest.raises(ProofError):
        calculate_witness(wasm, inputs, tmp_path / "w.wtns")  # today: a witness exists


def test_relabelled_symbols_do_not_change_an_account_under_the_same_root() -> None:
    data = json.loads(MARKET.to_json())
    a, b = MARKET.instrument_index("BTC-9JAN26-63500-P"), MARKET.instrument_index("BTC-9JAN26-67000-P")
    relabelled_data = copy.deepcopy(data)
    ins = relabelled_data["instruments"]
    ins[a]["symbol"], ins[b]["symbol"] = ins[b]["symbol"], ins[a]["symbol"]
    relabelled = MarketState.from_json(json.dumps(relabelled_data))  # valid, audited
    acc = Account((Position("BTC-9JAN26-67000-P", -20 * 10**6),), {"USDC": 400_000 * 10**6}, 0xABC).validated()
    same_root = cm.market_root(relabelled) == cm.market_root(MARKET)
    same_holdings = cm.account_commitment_of(acc, relabelled) == cm.account_commitment_of(acc, MARKET)
    assert not same_root or same_holdings, (
        "a market file with two display symbols swapped has the same market_root, and the account file "
        "then names other contracts")


@pytest.mark.parametrize(
    "symbol, change, message",
    [
        ("BTC-PERPETUAL", dict(symbol="BTC-PERP-INV10", delta=15_385), "a perpetual unit has mark 0"),
        ("BTC-3APR26", dict(mark=5 * 10**6), "a future unit has mark 0"),
        ("BTC-USD", dict(mark=64_000 * 10**6), "a spot unit has mark its underlying's spot"),
        ("BTC-USD", dict(gamma=1), "a spot unit"),
        ("BTC-9JAN26-67000-C", dict(delta=2 * 10**8), r"delta: a call's delta lies in \[0, 100000000\]"),
        ("BTC-9JAN26-67000-P", dict(delta=10**7), r"delta: a put's delta lies in \[-100000000, 0\]"),
        ("BTC-9JAN26-67000-P", dict(vega=-1), "gamma and vega are not negative"),
    ],
)
def test_another_contract_cannot_take_over_an_identity(symbol: str, change: dict, message: str) -> None:
    i = MARKET.instrument_index(symbol)
    other = dataclasses.replace(MARKET.instruments[i], **change)
    successor = dataclasses.replace(MARKET, epoch=MARKET.epoch + 1,
                                    instruments=(*MARKET.instruments[:i], other, *MARKET.instruments[i + 1:]))
    assert successor.instrument_ids[i] == MARKET.instrument_ids[i]  # the identity would be kept ...
    with pytest.raises(InputError, match=message):  # ... but not with another contract's data
        successor.validated()
