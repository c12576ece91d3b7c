"""Commitments as specified in docs/fixed_point.md §3."""

from __future__ import annotations

import dataclasses
import gc

import pytest

from zksolv import commitments as cm
from zksolv.account import Account, Position
from zksolv.errors import InputError
from zksolv.fixedpoint import FIELD_MODULUS as P
from zksolv.market import (
    CollateralAsset, Instrument, InstrumentKind, MarketState, Params, RiskMode, ScenarioSet, Underlying,
)
from zksolv.merkle import MerkleTree
from zksolv.poseidon import poseidon


def tiny_market(epoch: int = 42) -> MarketState:
    """Two underlyings, five instruments (two tree levels), two collateral assets, three scenarios."""
    scenarios = ScenarioSet(
        "tiny",
        price_shocks=((-100_000, 0, 100_000), (-150_000, 50_000, 150_000)),
        vol_shocks=((200_000, 0, -100_000), (250_000, -50_000, 0)),
        weights=(250_000, 500_000, 250_000),
    )
    params = Params(
        alpha=600_000, beta=500_000, v_scalar=420_000, risk_mode=RiskMode.ES, es_level=975_000,
        min_ratio=1_100_000, horizon_seconds=86_400, var_z=2_326_000, scenarios=scenarios,
        var_loadings=((3_000_000_000, 0), (-150_000_000, 120_000_000)),
        gamma_addon=(9 * 10**18, 4 * 10**16), vega_stress=(100_000, 120_000),
    )
    day = 1_700_000_000
    return MarketState(
        epoch=epoch,
        params=params,
        underlyings=(
            Underlying("BTC", 60_000 * 10**6, (500_000, 520_000), 510_000, 500_000, 560_000, 470_000),
            Underlying("ETH", 3_000 * 10**6, (650_000,), 650_000, 640_000, 700_000, 610_000),
        ),
        instruments=(
            Instrument("BTC-C", 0, InstrumentKind.CALL, 62_000 * 10**6, day, 2_100 * 10**6, 45_000_000, 7 * 10**7, 60 * 10**6),
            Instrument("BTC-P", 0, InstrumentKind.PUT, 58_000 * 10**6, day, 1_500 * 10**6, -40_000_000, 6 * 10**7, 55 * 10**6),
            Instrument("BTC-PERP", 0, InstrumentKind.PERPETUAL, 0, 0, 0, 10**8, 0, 0),
            Instrument("ETH", 1, InstrumentKind.SPOT, 0, 0, 3_000 * 10**6, 10**8, 0, 0),
            Instrument("ETH-P", 1, InstrumentKind.PUT, 2_800 * 10**6, day, 90 * 10**6, -30_000_000, 10**9, -3 * 10**6),
        ),
        collateral=(CollateralAsset("USDC", 10**6, 0), CollateralAsset("BTC", 60_000 * 10**6, 100_000)),
    ).validated()


# ------------------------------------------------------------------ hash_list
def straightforward_hash_list(xs: list[int]) -> int:
    """Independent restatement: absorb a zero-padded copy 15 at a time, length first."""
    chunks = max(1, -(-len(xs) // 15))
    padded = list(xs) + [0] * (15 * chunks - len(xs))
    state = len(xs)
    while padded:
        state, padded = poseidon([state] + padded[:15]), padded[15:]
    return state


@pytest.mark.parametrize("n", [0, 1, 14, 15, 16, 30, 31])
def test_hash_list_chunk_boundaries(n: int) -> None:
    xs = [(i * 7919 + 1) % P for i in range(n)]
    assert cm.hash_list(xs) == straightforward_hash_list(xs)


def test_hash_list_explicit_values() -> None:
    assert cm.hash_list([]) == poseidon([0] * 16)
    assert cm.hash_list([5]) == poseidon([1, 5] + [0] * 14)
    assert cm.hash_list(list(range(16))) == poseidon([poseidon([16, *range(15)]), 15] + [0] * 14)


def test_hash_list_binds_length() -> None:
    assert cm.hash_list([]) != cm.hash_list([0])
    assert cm.hash_list([1]) != cm.hash_list([1, 0])
    assert cm.hash_list([0] * 15) != cm.hash_list([0] * 16)


# ---------------------------------------------------------------------- market
def test_instrument_leaf_formula_and_signed_encoding() -> None:
    ins = tiny_market().instruments[4]  # ETH-P: negative delta and vega
    info = poseidon([InstrumentKind.PUT.code, ins.strike, ins.expiry])
    assert cm.instrument_info(ins) == info
    expected = poseidon([info, 1, ins.mark, P - 30_000_000, 10**9, P - 3 * 10**6])
    assert cm.instrument_leaf(ins) == expected


def test_instrument_tree_is_memoised_per_market() -> None:
    market = tiny_market()
    tree = cm.instrument_tree(market)
    assert cm.instrument_tree(market) is tree
    assert tree.depth == market.tree_depth == 2
    assert tree.root == MerkleTree([cm.instrument_leaf(i) for i in market.instruments]).root
    key = id(market)
    assert key in cm._CACHE
    del market, tree
    gc.collect()
    assert key not in cm._CACHE


def test_params_vector_layout() -> None:
    market = tiny_market()
    vec = cm.params_vector(market)
    u, k = 2, 3
    assert len(vec) == 10 + 2 * u * k + k + u * u + 2 * u
    assert vec[:10] == [RiskMode.ES.code, 420_000, 500_000, 1_100_000, 975_000, 600_000, 86_400, 2_326_000, u, k]
    ds = vec[10 : 10 + u * k]
    assert ds == [P - 6_000 * 10**6, 0, 6_000 * 10**6, P - 450 * 10**6, 150 * 10**6, 450 * 10**6]
    dsig = vec[10 + u * k : 10 + 2 * u * k]
    assert dsig == [200_000, 0, P - 100_000, 250_000, P - 50_000, 0]
    rest = vec[10 + 2 * u * k :]
    assert rest == [250_000, 500_000, 250_000, 3_000_000_000, 0, P - 150_000_000, 120_000_000,
                    9 * 10**18, 4 * 10**16, 100_000, 120_000]
    assert cm.params_hash(market) == cm.hash_list(vec)


def test_small_table_hashes() -> None:
    market = tiny_market()
    und = [60_000 * 10**6, 510_000, 500_000, 560_000, 470_000, 3_000 * 10**6, 650_000, 640_000, 700_000, 610_000]
    assert cm.underlyings_hash(market) == cm.hash_list(und)
    assert cm.collateral_hash(market) == cm.hash_list([10**6, 0, 60_000 * 10**6, 100_000])


def test_market_root_formula() -> None:
    market = tiny_market()
    expected = poseidon([
        42, cm.params_hash(market), cm.instrument_tree(market).root, cm.underlyings_hash(market), cm.collateral_hash(market),
    ])
    assert cm.market_root(market) == expected
    assert cm.market_root(tiny_market()) == expected  # equal content, distinct object


def test_market_root_binds_every_part() -> None:
    base = tiny_market()
    root = cm.market_root(base)
    p = base.params
    variants = [
        dataclasses.replace(base, epoch=43),
        dataclasses.replace(base, params=dataclasses.replace(p, beta=p.beta + 1)),
        dataclasses.replace(base, params=dataclasses.replace(p, risk_mode=RiskMode.STRESS)),
        dataclasses.replace(base, instruments=(
            dataclasses.replace(base.instruments[0], mark=base.instruments[0].mark + 1), *base.instruments[1:])),
        dataclasses.replace(base, underlyings=(
            dataclasses.replace(base.underlyings[0], iv_atm=1), base.underlyings[1])),
        dataclasses.replace(base, collateral=(
            base.collateral[0], dataclasses.replace(base.collateral[1], haircut=200_000))),
    ]
    roots = {cm.market_root(v.validated()) for v in variants}
    assert root not in roots and len(roots) == len(variants)


# --------------------------------------------------------------------- account
SLOTS = [(0, 1_500_000), (3, -2_000_000), (4, 7)]
BALANCES = [10_000 * 10**6, 250_000]
SALT = 0x1234_5678_9ABC_DEF0


def test_positions_chain_formula_and_negative_quantity() -> None:
    chain = 0
    chain = poseidon([chain, 0, 1_500_000])
    chain = poseidon([chain, 3, P - 2_000_000])
    chain = poseidon([chain, 4, 7])
    assert cm.positions_chain(SLOTS) == chain
    assert cm.positions_chain([]) == 0
    assert cm.account_commitment(SLOTS, BALANCES, SALT) == poseidon([SALT, chain, cm.hash_list(BALANCES)])


def test_zero_slots_and_padding_leave_commitment_unchanged() -> None:
    base = cm.account_commitment(SLOTS, BALANCES, SALT)
    assert cm.account_commitment(SLOTS + [(0, 0)] * 13, BALANCES, SALT) == base
    assert cm.account_commitment([(2, 0), *SLOTS[:2], (1, 0), SLOTS[2]], BALANCES, SALT) == base


@pytest.mark.parametrize(
    "slots, balances, salt",
    [
        (SLOTS, BALANCES, SALT + 1),
        ([(0, 1_500_001), *SLOTS[1:]], BALANCES, SALT),
        ([(0, 1_500_000), (3, 2_000_000), (4, 7)], BALANCES, SALT),  # sign of a quantity
        ([(0, 1_500_000), (2, -2_000_000), (4, 7)], BALANCES, SALT),  # an index
        ([SLOTS[1], SLOTS[0], SLOTS[2]], BALANCES, SALT),  # order
        (SLOTS[:2], BALANCES, SALT),  # a dropped position
        (SLOTS, [BALANCES[0], BALANCES[1] + 1], SALT),
        (SLOTS, [BALANCES[0], BALANCES[1], 0], SALT),  # balance count
    ],
)
def test_commitment_changes(slots: list[tuple[int, int]], balances: list[int], salt: int) -> None:
    assert cm.account_commitment(slots, balances, salt) != cm.account_commitment(SLOTS, BALANCES, SALT)


def test_out_of_range_account_inputs_are_refused() -> None:
    with pytest.raises(InputError, match=r"positions\[0\]\.quantity"):
        cm.positions_chain([(0, 1 << 52)])
    with pytest.raises(InputError, match=r"positions\[1\]\.leaf_index"):
        cm.positions_chain([(0, 1), (-1, 5)])
    with pytest.raises(InputError, match=r"collateral\[1\]"):
        cm.account_commitment(SLOTS, [0, -1], SALT)
    with pytest.raises(InputError, match="salt"):
        cm.account_commitment(SLOTS, BALANCES, P)


def test_account_commitment_of_account() -> None:
    market = tiny_market()
    account = Account(
        positions=(Position("ETH-P", -2_000_000), Position("BTC-C", 1_500_000), Position("BTC-PERP", 0)),
        collateral={"BTC": 250_000},
        salt=SALT,
    )
    expected = cm.account_commitment([(4, -2_000_000), (0, 1_500_000)], [0, 250_000], SALT)
    assert cm.account_commitment_of(account, market) == expected
