"""Stable identities of instruments and assets (zksolv.core.identity): injective, bounded, validated."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zksolv.core import fixedpoint as fp
from zksolv.core import identity as ident
from zksolv.app.demo import demo_market
from zksolv.core.errors import InputError
from zksolv.core.market import InstrumentKind

SYMBOLS = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12)


@st.composite
def contracts(draw) -> tuple[str, int, int, int]:
    """A contract in its per-kind normal form: (underlying, kind, strike, expiry)."""
    kind = draw(st.integers(0, 4))
    strike = draw(st.integers(1, (1 << fp.PRICE_BITS) - 1)) if kind >= ident.KIND_CALL else 0
    expiry = draw(st.integers(1, (1 << fp.EXPIRY_BITS) - 1)) if kind >= ident.KIND_FUTURE else 0
    return draw(SYMBOLS), kind, strike, expiry


def _decode_position(entry: int) -> tuple[int, int]:
    return entry >> ident.POSITION_ENTRY_SHIFT, (entry & ((1 << ident.POSITION_ENTRY_SHIFT) - 1)) - ident.QTY_OFFSET


@given(SYMBOLS, SYMBOLS)
def test_symbol_code_is_injective_and_bounded(a: str, b: str) -> None:
    assert (ident.symbol_code(a) == ident.symbol_code(b)) == (a == b)
    assert 0 < ident.symbol_code(a) < 1 << ident.SYMBOL_BITS


@pytest.mark.parametrize("bad", ["", "A" * 13, "BTC USD", "BTC\x00", "ÉTH", "\t", 7, None])
def test_bad_symbols_are_refused_naming_the_field(bad: object) -> None:
    with pytest.raises(InputError, match=r"^underlyings\[0\]\.symbol: must be"):
        ident.symbol_code(bad, "underlyings[0].symbol")  # type: ignore[arg-type]


@given(contracts(), contracts())
@settings(max_examples=300)
def test_instrument_id_is_injective_and_bounded(x: tuple[str, int, int, int], y: tuple[str, int, int, int]) -> None:
    assert (ident.instrument_id(*x) == ident.instrument_id(*y)) == (x == y)
    assert 0 < ident.instrument_id(*x) < 1 << ident.INSTRUMENT_ID_BITS
    und, kind, strike, expiry = x
    names = ("spot", "perpetual", "future", "call", "put")
    assert ident.describe_instrument_id(ident.instrument_id(*x)) == f"{und} {names[kind]} strike={strike} expiry={expiry}"


def test_instrument_id_layout_sorts_a_book_by_underlying_then_expiry() -> None:
    ids = [ident.instrument_id("BTC", ident.KIND_PUT, 60_000, 2), ident.instrument_id("BTC", ident.KIND_CALL, 70_000, 1),
           ident.instrument_id("BTC", ident.KIND_PERPETUAL, 0, 0), ident.instrument_id("ETH", ident.KIND_SPOT, 0, 0)]
    assert sorted(ids) == [ids[2], ids[1], ids[0], ids[3]]


@pytest.mark.parametrize(
    "kind, strike, expiry, message",
    [
        (ident.KIND_SPOT, 1, 0, "spot or perpetual"),
        (ident.KIND_PERPETUAL, 0, 5, "spot or perpetual"),
        (ident.KIND_FUTURE, 0, 0, "future"),
        (ident.KIND_FUTURE, 7, 5, "future"),
        (ident.KIND_CALL, 0, 5, "option"),
        (ident.KIND_PUT, 5, 0, "option"),
        (5, 0, 0, r"kind: must lie in \[0, 4\]"),
        (ident.KIND_CALL, 1 << fp.PRICE_BITS, 5, "strike"),
        (ident.KIND_CALL, 5, 1 << fp.EXPIRY_BITS, "expiry"),
    ],
)
def test_contracts_outside_their_normal_form_are_refused(kind: int, strike: int, expiry: int, message: str) -> None:
    with pytest.raises(InputError, match=message):
        ident.instrument_id("BTC", kind, strike, expiry)


@given(contracts(), st.integers(-(1 << fp.QTY_BITS) + 1, (1 << fp.QTY_BITS) - 1).filter(bool))
def test_position_entry_decodes_uniquely_and_is_never_zero(contract: tuple[str, int, int, int], q: int) -> None:
    i = ident.instrument_id(*contract)
    entry = ident.position_entry(i, q)
    assert 0 < entry < 1 << 240
    assert _decode_position(entry) == (i, q)


@given(SYMBOLS, st.integers(1, (1 << fp.BALANCE_BITS) - 1))
def test_balance_entry_decodes_uniquely_and_is_never_zero(symbol: str, balance: int) -> None:
    a = ident.asset_id(symbol)
    entry = ident.balance_entry(a, balance)
    assert 0 < entry < 1 << 148
    assert (entry >> ident.BALANCE_ENTRY_SHIFT, entry & ((1 << ident.BALANCE_ENTRY_SHIFT) - 1)) == (a, balance)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ident.position_entry(5, 0), r"position\.quantity: a zero position"),
        (lambda: ident.position_entry(5, 1 << fp.QTY_BITS), r"position\.quantity: magnitude exceeds"),
        (lambda: ident.position_entry(1 << ident.INSTRUMENT_ID_BITS, 1), r"position\.instrument_id"),
        (lambda: ident.balance_entry(5, 0), r"balance\.amount: a zero balance"),
        (lambda: ident.balance_entry(5, -1), r"balance\.amount: must not be negative"),
        (lambda: ident.balance_entry(1 << ident.ASSET_ID_BITS, 1), r"balance\.asset_id"),
    ],
)
def test_entries_refuse_what_would_alias(call, message: str) -> None:
    with pytest.raises(InputError, match=message):
        call()


# ------------------------------------------------------------------ the market side
def test_market_ids_follow_the_contract_not_the_listing() -> None:
    market = demo_market(n_strikes=3, n_expiries=1)
    by_symbol = dict(zip((i.symbol for i in market.instruments), market.instrument_ids))
    shuffled = dataclasses.replace(market, instruments=market.instruments[::-1]).validated()
    assert dict(zip((i.symbol for i in shuffled.instruments), shuffled.instrument_ids)) == by_symbol
    assert len(set(market.instrument_ids)) == len(market.instruments)
    for ins, i in zip(market.instruments, market.instrument_ids):
        und = market.underlyings[ins.underlying].symbol
        assert i == ident.instrument_id(und, ins.kind.code, ins.strike, ins.expiry)


def test_market_refuses_two_listings_of_one_contract() -> None:
    market = demo_market(n_strikes=3, n_expiries=1)
    call = next(i for i in market.instruments if i.kind is InstrumentKind.CALL)
    twin = dataclasses.replace(call, symbol=call.symbol + "-BIS", mark=call.mark + 1)
    with pytest.raises(InputError, match=r"instruments\[\d+\]: '.*-BIS' is the same contract"):
        dataclasses.replace(market, instruments=(*market.instruments, twin)).validated()


@pytest.mark.parametrize("where", ["underlyings", "collateral"])
def test_market_refuses_symbols_without_an_identity(where: str) -> None:
    market = demo_market(n_strikes=3, n_expiries=1)
    rows = getattr(market, where)
    bad = (dataclasses.replace(rows[0], symbol="BITCOIN-SPOT-USD"), *rows[1:])
    with pytest.raises(InputError, match=rf"{where}\[0\]\.symbol: must be 1 to 12 printable ASCII"):
        dataclasses.replace(market, **{where: bad}).validated()


def test_valid_identities_can_sum_to_a_power_of_two_minus_one() -> None:
    """Why the instrument leaf keeps the identity as its own input (docs/design.md, "The leaf is
    not packed"): the commitment skips a block whose entries sum to 0, which is sound only while
    every entry is id * 2^53 + (q + 2^52) with a validated id in [0, 2^187). A leaf packing
    u * 2^187 + id would let a slot take id - 2^187 instead, and valid identities do sum to
    2^187 - 1, so three non-zero entries could then cancel mod p."""
    sym, p = "U" * 12, fp.FIELD_MODULUS
    ids = [ident.instrument_id(sym, ident.KIND_CALL, 2**47, 2**39), ident.instrument_id(sym, ident.KIND_PUT, 2**47 - 1, 2**39 - 1),
           ident.instrument_id(sym, ident.KIND_SPOT, 0, 0)]
    assert sum(ids) == 2**187 - 1
    honest = [ident.position_entry(i, q) for i, q in zip(ids, (-(2**51), -(2**51) + 5, -5))]
    assert all(0 < e < 2**240 for e in honest) and sum(honest) % p != 0  # validated ids: entries cannot cancel
    shifted = [(e - (2**187 << ident.POSITION_ENTRY_SHIFT)) % p if k == 2 else e for k, e in enumerate(honest)]
    assert sum(shifted) % p == 0  # one id taken 2^187 lower: the block would look empty
