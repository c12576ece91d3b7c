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
