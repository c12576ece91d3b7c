"""Commitments as specified in docs/fixed_point.md §3."""

from __future__ import annotations

import dataclasses
import gc

import pytest

from zksolv.core import commitments as cm
from zksolv.core.account import Account, Position
from zksolv.core.errors import InputError
from zksolv.core.fixedpoint import FIELD_MODULUS as P
from zksolv.core.identity import asset_id, instrument_id
from zksolv.core.market import (
    CollateralAsset, Instrument, InstrumentKind, MarketState, Params, RiskMode, ScenarioSet, Underlying,
)
from zksolv.core.merkle import MerkleTree
from zksolv.core.poseidon import poseidon


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
            Instrument("ETH-P", 1, InstrumentKind.PUT, 2_800 * 10**6, day, 90 * 10**6, -30_000_000, 10**9, 3 * 10**6),
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
    market = tiny_market()
    ins = market.instruments[4]  # ETH-P: negative delta
    ident = instrument_id("ETH", InstrumentKind.PUT.code, ins.strike, ins.expiry)
    assert market.instrument_ids[4] == ident
    expected = poseidon([ident, 1, ins.mark, P - 30_000_000, 10**9, 3 * 10**6])
    assert cm.instrument_leaf(ident, ins) == expected


def test_instrument_tree_is_memoised_per_market() -> None:
    market = tiny_market()
    tree = cm.instrument_tree(market)
    assert cm.instrument_tree(market) is tree
    assert tree.depth == market.tree_depth == 1
    leaves = [cm.instrument_leaf(ident, ins) for ident, ins in zip(market.instrument_ids, market.instruments)]
    assert tree.root == MerkleTree(leaves).root
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
    btc, eth, usdc = int.from_bytes(b"BTC", "big"), int.from_bytes(b"ETH", "big"), int.from_bytes(b"USDC", "big")
    und = [btc, 60_000 * 10**6, 510_000, 500_000, 560_000, 470_000,
           eth, 3_000 * 10**6, 650_000, 640_000, 700_000, 610_000]
    assert cm.underlyings_hash(market) == cm.hash_list(und)
    assert cm.collateral_hash(market) == cm.hash_list([usdc, 10**6, 0, btc, 60_000 * 10**6, 100_000])


def test_market_root_formula() -> None:
    market = tiny_market()
    expected = poseidon([
        42, cm.params_hash(market), cm.instrument_tree(market).root, cm.underlyings_hash(market), cm.collateral_hash(market),
        cm.hash_list([int.from_bytes(i.symbol.encode(), "big") for i in market.instruments]),
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
        dataclasses.replace(base, collateral=(
            base.collateral[0], dataclasses.replace(base.collateral[1], symbol="WBTC"))),
        dataclasses.replace(base, collateral=base.collateral[::-1]),
        dataclasses.replace(base, underlyings=(
            dataclasses.replace(base.underlyings[0], symbol="XBT"), base.underlyings[1])),
        dataclasses.replace(base, instruments=(
            dataclasses.replace(base.instruments[0], strike=base.instruments[0].strike + 1), *base.instruments[1:])),
        dataclasses.replace(base, instruments=base.instruments[::-1]),
        dataclasses.replace(base, instruments=(  # display symbols swapped: account files resolve by them
            dataclasses.replace(base.instruments[0], symbol="BTC-P"),
            dataclasses.replace(base.instruments[1], symbol="BTC-C"), *base.instruments[2:])),
    ]
    roots = {cm.market_root(v.validated()) for v in variants}
    assert root not in roots and len(roots) == len(variants)


# --------------------------------------------------------------------- account
def _ids() -> tuple[int, ...]:
    return tiny_market().instrument_ids


USDC, BTC = asset_id("USDC"), asset_id("BTC")
POSITIONS = [(_ids()[0], 1_500_000), (_ids()[3], -2_000_000), (_ids()[4], 7)]
BALANCES = [(USDC, 10_000 * 10**6), (BTC, 250_000)]
SALT = 0x1234_5678_9ABC_DEF0


def straightforward_entries_hash(entries: list[int]) -> int:
    """Independent restatement: zero-pad to whole blocks of 8, absorb one block per Poseidon9."""
    padded = list(entries) + [0] * (-len(entries) % 8)
    state = 0
    while padded:
        state, padded = poseidon([state] + padded[:8]), padded[8:]
    return state


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 16, 17])
def test_entries_hash_block_boundaries(n: int) -> None:
    entries = [(i * 7919 + 1) % P for i in range(n)]
    assert cm.entries_hash(entries) == straightforward_entries_hash(entries)
    assert cm.entries_hash([]) == 0


def test_account_commitment_formula_and_negative_quantity() -> None:
    ordered = sorted(POSITIONS)
    pos_entries = [i * 2**53 + q + 2**52 for i, q in ordered]
    assert pos_entries[[i for i, _ in ordered].index(_ids()[3])] == _ids()[3] * 2**53 + 2**52 - 2_000_000
    bal_entries = [a * 2**52 + b for a, b in sorted(BALANCES)]
    expected = poseidon([cm.ACCOUNT_DOMAIN, SALT, straightforward_entries_hash(pos_entries),
                         straightforward_entries_hash(bal_entries)])
    assert cm.account_commitment(POSITIONS, BALANCES, SALT) == expected
    assert cm.ACCOUNT_DOMAIN == int.from_bytes(b"zksolv/acct/v2", "big")


def test_order_zero_amounts_and_padding_leave_commitment_unchanged() -> None:
    base = cm.account_commitment(POSITIONS, BALANCES, SALT)
    assert cm.account_commitment(POSITIONS[::-1], BALANCES[::-1], SALT) == base
    assert cm.account_commitment([*POSITIONS, (_ids()[2], 0)], [(asset_id("ETH"), 0), *BALANCES], SALT) == base


@pytest.mark.parametrize(
    "positions, balances, salt",
    [
        (POSITIONS, BALANCES, SALT + 1),
        ([(POSITIONS[0][0], 1_500_001), *POSITIONS[1:]], BALANCES, SALT),
        ([POSITIONS[0], (POSITIONS[1][0], 2_000_000), POSITIONS[2]], BALANCES, SALT),  # sign of a quantity
        ([POSITIONS[0], (_ids()[2], -2_000_000), POSITIONS[2]], BALANCES, SALT),  # another instrument
        (POSITIONS[:2], BALANCES, SALT),  # a dropped position
        (POSITIONS, [BALANCES[0], (BTC, 250_001)], SALT),
        (POSITIONS, [BALANCES[0], (asset_id("WBTC"), 250_000)], SALT),  # another asset, same amount
        (POSITIONS, BALANCES[:1], SALT),  # a dropped balance
        ([], BALANCES, SALT),
        (POSITIONS, [], SALT),
    ],
)
def test_commitment_changes(positions: list[tuple[int, int]], balances: list[tuple[int, int]], salt: int) -> None:
    assert cm.account_commitment(positions, balances, salt) != cm.account_commitment(POSITIONS, BALANCES, SALT)


def test_positions_and_balances_never_swap_roles() -> None:
    # an asset id and a quantity-shaped number cannot pass for a position, and vice versa
    assert cm.account_commitment([], [(USDC, 5)], SALT) != cm.account_commitment([(USDC, 5)], [], SALT)


def test_out_of_range_and_duplicate_holdings_are_refused() -> None:
    with pytest.raises(InputError, match=r"positions\[0\]\.quantity"):
        cm.account_commitment([(POSITIONS[0][0], 1 << 52)], [], SALT)
    with pytest.raises(InputError, match=r"positions\[1\]\.instrument_id"):
        cm.account_commitment([POSITIONS[0], (1 << 187, 5)], [], SALT)
    with pytest.raises(InputError, match=r"balances\[1\]\.amount: must not be negative"):
        cm.account_commitment([], [(USDC, 1), (BTC, -1)], SALT)
    with pytest.raises(InputError, match=r"balances\[0\]\.asset_id"):
        cm.account_commitment([], [(1 << 96, 1)], SALT)
    with pytest.raises(InputError, match=r"positions\[1\]: the same instrument"):
        cm.account_commitment([POSITIONS[0], (POSITIONS[0][0], -3)], [], SALT)
    with pytest.raises(InputError, match=r"balances\[1\]: the same instrument or asset"):
        cm.account_commitment([], [(USDC, 1), (USDC, 2)], SALT)
    with pytest.raises(InputError, match="salt"):
        cm.account_commitment(POSITIONS, BALANCES, P)


def test_account_commitment_of_account() -> None:
    market = tiny_market()
    account = Account(
        positions=(Position("ETH-P", -2_000_000), Position("BTC-C", 1_500_000), Position("BTC-PERP", 0)),
        collateral={"BTC": 250_000, "USDC": 0},
        salt=SALT,
    )
    expected = cm.account_commitment([(_ids()[4], -2_000_000), (_ids()[0], 1_500_000)], [(BTC, 250_000)], SALT)
    assert cm.account_commitment_of(account, market) == expected
