"""Commitments to the market state and to an account (docs/fixed_point.md §3).

All hashes are circomlib ``Poseidon(n)`` over BN254 (:mod:`zksolv.poseidon`);
signed integers enter the field as ``p - |x|`` (:func:`~zksolv.fixedpoint.to_field`).

- ``hash_list(xs)``: ``h = len(xs)``; for each chunk of 15 (at least one
  chunk, the last zero-padded) ``h = Poseidon16([h] + chunk)``.
- instrument leaf: ``Poseidon6([info, u, mark, delta, gamma, vega])`` with
  ``info = Poseidon3([kind_code, strike, expiry])``.
- ``instruments_root``: arity-4 Poseidon tree of the leaves
  (:class:`~zksolv.merkle.MerkleTree`), depth ``max(1, ceil(log4 n))``.
- ``params_hash = hash_list(header + dS + dsig + w + a + g + vs)`` with header
  ``[mode_code, V, beta, min_ratio, c, alpha, horizon_seconds, var_z, U, K]``,
  matrices row-major by underlying.
- ``underlyings_hash = hash_list(concat_u [S, vol_ema, iv_atm, iv_put_25d, iv_call_25d])``.
- ``collateral_hash = hash_list(concat_a [P, h])``.
- ``market_root = Poseidon5([epoch, params_hash, instruments_root,
  underlyings_hash, collateral_hash])``.
- account: ``chain = 0``; per slot with ``q != 0``:
  ``chain = Poseidon3([chain, leaf_index, to_field(q)])`` (zero slots are
  skipped, so padding to any capacity leaves it unchanged);
  ``account_commitment = Poseidon3([salt, chain, hash_list(balances)])``.

The instrument tree and the market root are memoised per ``MarketState``
object (market states are immutable), so a keeper checking many proofs
against one epoch hashes the market once.
"""

from __future__ import annotations

import weakref
from typing import Callable, Sequence, TypeVar

from zksolv import fixedpoint as fp
from zksolv.account import Account
from zksolv.errors import InputError
from zksolv.fixedpoint import check_bits, check_interval, to_field
from zksolv.market import Instrument, MarketState
from zksolv.merkle import MerkleTree
from zksolv.poseidon import poseidon

#: Elements absorbed per Poseidon16 call of :func:`hash_list` (one slot holds the running hash).
CHUNK = 15

T = TypeVar("T")


# ------------------------------------------------------------------ generic
def hash_list(xs: Sequence[int]) -> int:
    """``h = len(xs)``; for each 15-element chunk (last zero-padded, at least
    one chunk) ``h = Poseidon16([h, *chunk])``. Elements must be in ``[0, p)``."""
    h = len(xs)
    for start in range(0, max(len(xs), 1), CHUNK):
        chunk = list(xs[start : start + CHUNK])
        h = poseidon([h, *chunk, *[0] * (CHUNK - len(chunk))])
    return h


# ------------------------------------------------------------------- market
def instrument_info(ins: Instrument) -> int:
    """``Poseidon3([kind_code, strike, expiry])``."""
    return poseidon([ins.kind.code, ins.strike, ins.expiry])


def instrument_leaf(ins: Instrument) -> int:
    """``Poseidon6([info, underlying, mark, delta, gamma, vega])``, signed values ``to_field``."""
    fields = (ins.underlying, ins.mark, ins.delta, ins.gamma, ins.vega)
    return poseidon([instrument_info(ins), *map(to_field, fields)])


def instrument_tree(market: MarketState) -> MerkleTree:
    """The arity-4 tree of :func:`instrument_leaf` in listing order (memoised per market)."""
    return _memo(market, "instrument_tree", lambda: MerkleTree([instrument_leaf(i) for i in market.instruments]))


def params_vector(market: MarketState) -> list[int]:
    """Field elements hashed by :func:`params_hash`: header
    ``[mode_code, V, beta, min_ratio, c, alpha, horizon_seconds, var_z, U, K]``,
    then dS, dsig (row-major by underlying), weights, VaR loadings
    (row-major), gamma add-ons, vega stresses; each through ``to_field``."""
    p, sc = market.params, market.params.scenarios
    header = [p.risk_mode.code, p.v_scalar, p.beta, p.min_ratio, p.es_level, p.alpha,
              p.horizon_seconds, p.var_z, len(market.underlyings), sc.size]
    values = [
        *header,
        *_flatten(market.price_moves()),
        *_flatten(sc.vol_shocks),
        *sc.weights,
        *_flatten(p.var_loadings),
        *p.gamma_addon,
        *p.vega_stress,
    ]
    return [to_field(v) for v in values]


def params_hash(market: MarketState) -> int:
    """``hash_list(params_vector(market))``."""
    return hash_list(params_vector(market))


def underlyings_hash(market: MarketState) -> int:
    """``hash_list(concat_u [S_u, vol_ema_u, iv_atm_u, iv_put_25d_u, iv_call_25d_u])``."""
    return hash_list([v for u in market.underlyings for v in (u.spot, u.vol_ema, u.iv_atm, u.iv_put_25d, u.iv_call_25d)])


def collateral_hash(market: MarketState) -> int:
    """``hash_list(concat_a [P_a, h_a])``."""
    return hash_list([v for a in market.collateral for v in (a.price, a.haircut)])


def market_root(market: MarketState) -> int:
    """``Poseidon5([epoch, params_hash, instruments_root, underlyings_hash,
    collateral_hash])`` of a validated market (memoised per market)."""
    return _memo(
        market,
        "market_root",
        lambda: poseidon([
            market.epoch,
            params_hash(market),
            instrument_tree(market).root,
            underlyings_hash(market),
            collateral_hash(market),
        ]),
    )


# ------------------------------------------------------------------ account
def positions_chain(slots: Sequence[tuple[int, int]]) -> int:
    """``chain = 0``; per ``(leaf_index, q)`` with ``q != 0``:
    ``chain = Poseidon3([chain, leaf_index, to_field(q)])``.

    Indices must fit a maximal tree and quantities ``QTY_BITS``
    (:class:`InputError` otherwise, so no two slots alias mod p).
    """
    chain = 0
    for j, (index, qty) in enumerate(slots):
        check_bits(f"positions[{j}].quantity", qty, fp.QTY_BITS, signed=True)
        if qty == 0:
            continue
        check_interval(f"positions[{j}].leaf_index", index, 0, fp.MERKLE_ARITY**fp.MAX_TREE_DEPTH - 1)
        chain = poseidon([chain, index, to_field(qty)])
    return chain


def account_commitment(slots: Sequence[tuple[int, int]], balances: Sequence[int], salt: int) -> int:
    """``Poseidon3([salt, positions_chain(slots), hash_list(balances)])``.

    ``balances`` is one entry per market collateral asset, in market order
    (its length is hashed, so it must not be padded).
    """
    for a, bal in enumerate(balances):
        check_bits(f"collateral[{a}]", bal, fp.BALANCE_BITS, signed=False)
    if isinstance(salt, bool) or not isinstance(salt, int) or not 0 <= salt < fp.FIELD_MODULUS:
        raise InputError("salt: must be an integer in [0, p) (the BN254 scalar field)")
    return poseidon([salt, positions_chain(slots), hash_list(balances)])


def account_commitment_of(account: Account, market: MarketState) -> int:
    """:func:`account_commitment` of an account resolved against ``market``."""
    return account_commitment(account.position_slots(market), account.balances(market), account.salt)


# ------------------------------------------------------------------ helpers
def _flatten(rows: Sequence[Sequence[int]]) -> list[int]:
    return [x for row in rows for x in row]


# id(market) -> (weak reference to it, results by name). The weakref callback
# drops the entry when the market dies, so a reused id never sees stale data;
# the identity check on lookup guards the window in between.
_CACHE: dict[int, tuple[weakref.ref[MarketState], dict[str, object]]] = {}


def _memo(market: MarketState, name: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per live ``market`` object and ``name``."""
    key = id(market)
    entry = _CACHE.get(key)
    if entry is None or entry[0]() is not market:
        ref = weakref.ref(market, lambda r, k=key: _drop(k, r))
        entry = _CACHE[key] = (ref, {})
    results = entry[1]
    if name not in results:
        results[name] = compute()
    return results[name]  # type: ignore[return-value]


def _drop(key: int, ref: weakref.ref[MarketState]) -> None:
    entry = _CACHE.get(key)
    if entry is not None and entry[0] is ref:
        del _CACHE[key]
