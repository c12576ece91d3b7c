"""Stable identities of instruments and collateral assets (docs/fixed_point.md §3).

An account commitment is registered once and proven every epoch while the
oracle re-lists instruments (strikes added, expiries rolled off, tables
re-ordered). It must therefore name *what* the account holds, never *where*
it sits in one epoch's listing. This module defines that name: a field
element derived only from what defines a contract, packed so that two
different contracts can never share it (no hash, no collision argument).

- ``symbol_code(s)``: the ASCII bytes of a symbol (1..12 printable
  characters, ``!`` .. ``~``) read as a big-endian integer, ``< 2^96``. No
  byte is zero, so the integer determines the string.
- ``instrument_id = ((symbol_code(underlying) * 2^40 + expiry) * 2^3 + kind) * 2^48 + strike``,
  ``< 2^187``, with the per-kind normal form of :func:`check_contract`
  (spot and perpetual: strike 0, expiry 0; future: strike 0, expiry > 0;
  options: strike > 0, expiry > 0). Sorting ids groups a book by underlying,
  then expiry, then kind, then strike.
- ``asset_id(symbol) = symbol_code(symbol)`` for collateral assets.

What the account commitment hashes per holding (:mod:`zksolv.core.commitments`):

- ``position_entry(id, q) = id * 2^53 + (q + 2^52)`` for ``0 < |q| < 2^52``:
  in ``[1, 2^240)``, and ``(id, q)`` is recovered from it uniquely;
- ``balance_entry(asset, bal) = asset * 2^52 + bal`` for ``0 < bal < 2^52``:
  in ``[1, 2^148)``.

Both are below ``p`` and never 0, which the circuit relies on (0 marks an
empty slot). Every function raises :class:`~zksolv.core.errors.InputError` naming
the field and the limit.
"""

from __future__ import annotations

from zksolv.core import fixedpoint as fp
from zksolv.core.errors import InputError

#: Longest symbol (underlying or collateral asset) in bytes, and its width as an integer.
SYMBOL_MAX_BYTES = 12
SYMBOL_BITS = 8 * SYMBOL_MAX_BYTES
#: Longest instrument display symbol (committed as one field element, < 2^248).
DISPLAY_SYMBOL_MAX_BYTES = 31
#: Width of an instrument kind code (codes 0..4 are used).
KIND_BITS = 3
#: Width of an instrument id: symbol, expiry, kind, strike.
INSTRUMENT_ID_BITS = SYMBOL_BITS + fp.EXPIRY_BITS + KIND_BITS + fp.PRICE_BITS
#: Width of a collateral asset id.
ASSET_ID_BITS = SYMBOL_BITS
#: Offset making a signed quantity non-negative inside a position entry: q + 2^52 in [1, 2^53).
QTY_OFFSET = 1 << fp.QTY_BITS
#: Bits below the id in a position entry, and below the asset id in a balance entry.
POSITION_ENTRY_SHIFT = fp.QTY_BITS + 1
BALANCE_ENTRY_SHIFT = fp.BALANCE_BITS

assert INSTRUMENT_ID_BITS + POSITION_ENTRY_SHIFT <= 240 < 253
assert ASSET_ID_BITS + BALANCE_ENTRY_SHIFT <= 240

#: Instrument kind codes (as :attr:`zksolv.core.market.InstrumentKind.code`).
KIND_SPOT, KIND_PERPETUAL, KIND_FUTURE, KIND_CALL, KIND_PUT = range(5)


def symbol_code(symbol: str, field: str = "symbol", max_bytes: int = SYMBOL_MAX_BYTES) -> int:
    """The big-endian integer of a symbol's ASCII bytes (1..``max_bytes`` printable, no space)."""
    if not isinstance(symbol, str) or not symbol:
        raise InputError(f"{field}: must be a non-empty string")
    if len(symbol) > max_bytes or not all("!" <= ch <= "~" for ch in symbol):
        raise InputError(f"{field}: must be 1 to {max_bytes} printable ASCII characters without spaces")
    return int.from_bytes(symbol.encode("ascii"), "big")


def check_contract(kind: int, strike: int, expiry: int, field: str = "instrument") -> None:
    """The per-kind normal form an identity needs (so one contract has exactly one id)."""
    fp.check_interval(f"{field}.kind", kind, 0, KIND_PUT)
    fp.check_bits(f"{field}.strike", strike, fp.PRICE_BITS, signed=False)
    fp.check_bits(f"{field}.expiry", expiry, fp.EXPIRY_BITS, signed=False)
    if kind in (KIND_SPOT, KIND_PERPETUAL) and (strike or expiry):
        raise InputError(f"{field}: a spot or perpetual instrument has strike 0 and expiry 0")
    if kind == KIND_FUTURE and (strike or not expiry):
        raise InputError(f"{field}: a future has strike 0 and a positive expiry")
    if kind in (KIND_CALL, KIND_PUT) and not (strike and expiry):
        raise InputError(f"{field}: an option needs a positive strike and expiry")


def instrument_id(underlying: str, kind: int, strike: int, expiry: int, field: str = "instrument") -> int:
    """The identity of a contract: underlying symbol, expiry, kind code, strike, packed (< 2^187).

    >>> hex(instrument_id("BTC", KIND_PERPETUAL, 0, 0))
    '0x212a2180000000001000000000000'
    """
    code = symbol_code(underlying, f"{field}.underlying")
    check_contract(kind, strike, expiry, field)
    return ((code << fp.EXPIRY_BITS | expiry) << KIND_BITS | kind) << fp.PRICE_BITS | strike


def asset_id(symbol: str, field: str = "collateral") -> int:
    """The identity of a collateral asset: :func:`symbol_code` of its symbol (< 2^96)."""
    return symbol_code(symbol, f"{field}.symbol")


def position_entry(ident: int, quantity: int, field: str = "position") -> int:
    """``id * 2^53 + (q + 2^52)``: one position as the account commitment hashes it (never 0)."""
    fp.check_bits(f"{field}.instrument_id", ident, INSTRUMENT_ID_BITS, signed=False)
    fp.check_bits(f"{field}.quantity", quantity, fp.QTY_BITS, signed=True)
    if quantity == 0:
        raise InputError(f"{field}.quantity: a zero position is not committed (drop it)")
    return ident << POSITION_ENTRY_SHIFT | (quantity + QTY_OFFSET)


def balance_entry(asset: int, balance: int, field: str = "balance") -> int:
    """``asset * 2^52 + bal``: one collateral balance as the account commitment hashes it (never 0)."""
    fp.check_bits(f"{field}.asset_id", asset, ASSET_ID_BITS, signed=False)
    fp.check_bits(f"{field}.amount", balance, fp.BALANCE_BITS, signed=False)
    if balance == 0:
        raise InputError(f"{field}.amount: a zero balance is not committed (drop it)")
    return asset << BALANCE_ENTRY_SHIFT | balance


def describe_instrument_id(ident: int) -> str:
    """``'BTC call strike=67000000000 expiry=1767945600'``: an id decoded for messages and logs."""
    strike = ident & ((1 << fp.PRICE_BITS) - 1)
    kind = (ident >> fp.PRICE_BITS) & ((1 << KIND_BITS) - 1)
    expiry = (ident >> (fp.PRICE_BITS + KIND_BITS)) & ((1 << fp.EXPIRY_BITS) - 1)
    code = ident >> (fp.PRICE_BITS + KIND_BITS + fp.EXPIRY_BITS)
    symbol = code.to_bytes((code.bit_length() + 7) // 8, "big").decode("ascii", "replace")
    names = ("spot", "perpetual", "future", "call", "put", "kind5", "kind6", "kind7")
    return f"{symbol} {names[kind]} strike={strike} expiry={expiry}"
