"""Commitments to the market state and to an account (docs/fixed_point.md §3).

All hashes are circomlib ``Poseidon(n)`` over BN254 (:mod:`zksolv.core.poseidon`);
signed integers enter the field as ``p - |x|`` (:func:`~zksolv.core.fixedpoint.to_field`).
Instruments and assets are named by their stable identities
(:mod:`zksolv.core.identity`), never by where one epoch lists them.

- ``hash_list(xs)``: ``h = len(xs)``; for each chunk of 15 (at least one
  chunk, the last zero-padded) ``h = Poseidon16([h] + chunk)``.
- instrument leaf: ``Poseidon6([instrument_id, u, mark, delta, gamma, vega])``; in a
  revaluation market (the mode fixes the format) ``hash_list([instrument_id, u, mark,
  delta, gamma, vega, pnl_0, ..., pnl_{K-1}])`` with the instrument's risk array.
- ``instruments_root``: arity-8 (``fixedpoint.MERKLE_ARITY``) Poseidon tree of the leaves in
  listing order (:class:`~zksolv.core.merkle.MerkleTree`), depth ``max(1, ceil(log8 n))``.
- ``params_hash = hash_list(header + dS + dsig + w + a + g + vs)`` with header
  ``[mode_code, V, beta, min_ratio, c, alpha, horizon_seconds, var_z, U, K]``,
  matrices row-major by underlying.
- ``underlyings_hash = hash_list(concat_u [symbol_code, S, vol_ema, iv_atm, iv_put_25d, iv_call_25d])``.
- ``collateral_hash = hash_list(concat_a [asset_id, P, h])``.
- ``symbols_hash = hash_list([symbol_code(display symbol) per instrument])`` in
  listing order (display symbols are up to 31 characters: one field element).
- ``market_root = Poseidon6([epoch, params_hash, instruments_root,
  underlyings_hash, collateral_hash, symbols_hash])``.
- account: the canonical holdings (non-zero positions sorted by instrument
  id, non-zero balances sorted by asset id; :func:`canonical_positions`,
  :func:`canonical_balances`) as entries (:func:`~zksolv.core.identity.position_entry`,
  :func:`~zksolv.core.identity.balance_entry`), each list hashed by
  :func:`entries_hash` (``h = 0``; per block of 8, the last zero-padded,
  ``h = Poseidon9([h] + block)``); then
  ``account_commitment = Poseidon4([ACCOUNT_DOMAIN, salt, positions_hash, balances_hash])``.
  It depends on nothing but the holdings and the salt: not on the epoch,
  the listing order, the collateral table's order or a circuit's capacity.

The instrument tree and the market root are memoised per ``MarketState``
object (market states are immutable), so a keeper checking many proofs
against one epoch hashes the market once.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Callable, Iterable, Sequence, TypeVar

from zksolv.core import fixedpoint as fp
from zksolv.core.errors import InputError
from zksolv.core.fixedpoint import to_field
from zksolv.core.identity import DISPLAY_SYMBOL_MAX_BYTES, balance_entry, position_entry, symbol_code
from zksolv.core.market import Instrument, MarketState
from zksolv.core.merkle import MerkleTree
from zksolv.core.poseidon import poseidon

if TYPE_CHECKING:
    from zksolv.core.account import Account

#: Elements absorbed per Poseidon16 call of :func:`hash_list` (one slot holds the running hash).
CHUNK = 15
#: Entries absorbed per Poseidon9 call of :func:`entries_hash`. Chunked proofs cut a book at
#: multiples of it, so the running hash of a chunk is a prefix of the whole book's.
ENTRY_BLOCK = 8
#: Domain tag of the account commitment (the ASCII of ``zksolv/acct/v2``): a future
#: encoding takes a new tag, so no two encodings can produce the same commitment.
ACCOUNT_DOMAIN = int.from_bytes(b"zksolv/acct/v2", "big")
#: Domain tag of a chunked book's running state (:func:`chunk_state`).
STATE_DOMAIN = int.from_bytes(b"zksolv/state/v1", "big")
#: Domain tag of the running state of a book proven in chunks under a revaluation market
#: (:func:`revaluation_chunk_state`): never confusable with a greeks state.
STATE_DOMAIN_REVALUATION = int.from_bytes(b"zksolv/state/rv1", "big")

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
def instrument_leaf(ident: int, ins: Instrument) -> int:
    """``Poseidon6([instrument_id, underlying, mark, delta, gamma, vega])``, signed values ``to_field``;
    for an instrument with a risk array (a revaluation market: validation allows arrays there only,
    so the market's mode decides the format) the long leaf :func:`revaluation_leaf`."""
    if ins.pnl:
        return revaluation_leaf(ident, ins)
    fields = (ins.underlying, ins.mark, ins.delta, ins.gamma, ins.vega)
    return poseidon([ident, *map(to_field, fields)])


def revaluation_leaf(ident: int, ins: Instrument) -> int:
    """``hash_list([instrument_id, underlying, mark, delta, gamma, vega, *pnl])`` (signed values
    ``to_field``): every published value is its own field element, never packed, since the circuit
    does not range-check market data (``circuits/revaluation.circom``, ``RevaluationLeaf``)."""
    fields = (ins.underlying, ins.mark, ins.delta, ins.gamma, ins.vega, *ins.pnl)
    return hash_list([ident, *map(to_field, fields)])


def instrument_tree(market: MarketState) -> MerkleTree:
    """The arity-8 tree of :func:`instrument_leaf` in listing order (memoised per market)."""
    return _memo(market, "instrument_tree", lambda: MerkleTree(
        [instrument_leaf(ident, ins) for ident, ins in zip(market.instrument_ids, market.instruments)]))


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
    """``hash_list(concat_u [symbol_code_u, S_u, vol_ema_u, iv_atm_u, iv_put_25d_u, iv_call_25d_u])``."""
    return hash_list([v for u in market.underlyings
                      for v in (symbol_code(u.symbol), u.spot, u.vol_ema, u.iv_atm, u.iv_put_25d, u.iv_call_25d)])


def collateral_hash(market: MarketState) -> int:
    """``hash_list(concat_a [asset_id_a, P_a, h_a])``."""
    return hash_list([v for ident, a in zip(market.asset_ids, market.collateral) for v in (ident, a.price, a.haircut)])


def symbols_hash(market: MarketState) -> int:
    """``hash_list`` of the instruments' display symbols (as :func:`~zksolv.core.identity.symbol_code`), in
    listing order: the root authenticates the names account files and reports resolve holdings by
    (memoised per market: a prover needs it for the root and again as a circuit input)."""
    return _memo(market, "symbols_hash", lambda: hash_list(
        [symbol_code(i.symbol, "symbol", DISPLAY_SYMBOL_MAX_BYTES) for i in market.instruments]))


def market_root(market: MarketState) -> int:
    """``Poseidon6([epoch, params_hash, instruments_root, underlyings_hash,
    collateral_hash, symbols_hash])`` of a validated market (memoised per market)."""
    return _memo(
        market,
        "market_root",
        lambda: poseidon([
            market.epoch,
            params_hash(market),
            instrument_tree(market).root,
            underlyings_hash(market),
            collateral_hash(market),
            symbols_hash(market),
        ]),
    )


# ------------------------------------------------------------------ account
Holding = tuple[int, int]  #: ``(instrument_id, quantity)`` or ``(asset_id, balance)``


def canonical_positions(positions: Iterable[Holding]) -> list[Holding]:
    """Non-zero ``(instrument_id, q)`` sorted by id: the order the commitment hashes.

    A repeated instrument id is refused (:class:`InputError`): merge the
    quantities first. Widths are checked (:func:`~zksolv.core.identity.position_entry`).
    """
    return _canonical(positions, "positions", position_entry)


def canonical_balances(balances: Iterable[Holding]) -> list[Holding]:
    """Non-zero ``(asset_id, balance)`` sorted by asset id; a repeated asset is refused."""
    return _canonical(balances, "balances", balance_entry)


def _canonical(holdings: Iterable[Holding], name: str, entry: Callable[[int, int, str], int]) -> list[Holding]:
    seen: set[int] = set()
    out = []
    for j, (ident, amount) in enumerate(holdings):
        if type(amount) is int and amount == 0:
            continue
        entry(ident, amount, f"{name}[{j}]")  # checks both widths
        if ident in seen:
            raise InputError(f"{name}[{j}]: the same instrument or asset appears twice (merge the amounts)")
        seen.add(ident)
        out.append((ident, amount))
    return sorted(out)


def entries_hash(entries: Sequence[int]) -> int:
    """``h = 0``; for each block of :data:`ENTRY_BLOCK` entries (the last zero-padded):
    ``h = Poseidon9([h, *block])``. Entries are non-zero (0 pads), so no two lists collide."""
    return entries_hash_from(0, entries)


def positions_hash(positions: Iterable[Holding]) -> int:
    """:func:`entries_hash` of the canonical positions' entries."""
    return entries_hash([position_entry(i, q) for i, q in canonical_positions(positions)])


def balances_hash(balances: Iterable[Holding]) -> int:
    """:func:`entries_hash` of the canonical balances' entries."""
    return entries_hash([balance_entry(a, b) for a, b in canonical_balances(balances)])


def account_commitment(positions: Iterable[Holding], balances: Iterable[Holding], salt: int) -> int:
    """``Poseidon4([ACCOUNT_DOMAIN, salt, positions_hash, balances_hash])``.

    ``positions`` are ``(instrument_id, signed quantity)`` and ``balances``
    ``(asset_id, amount)`` pairs (:mod:`zksolv.core.identity`), in any order, zero
    amounts allowed (they are not committed). This is what the venue computes
    from its own books and registers; the prover recomputes it from the
    account file. The salt must be in ``[0, p)``.
    """
    return commitment_of_hashes(salt, positions_hash(positions), balances_hash(balances))


def commitment_of_hashes(salt: int, positions: int, balances: int) -> int:
    """``Poseidon4([ACCOUNT_DOMAIN, salt, positions, balances])`` of the two lists' hashes."""
    if isinstance(salt, bool) or not isinstance(salt, int) or not 0 <= salt < fp.FIELD_MODULUS:
        raise InputError("salt: must be an integer in [0, p) (the BN254 scalar field)")
    return poseidon([ACCOUNT_DOMAIN, salt, positions, balances])


def account_commitment_of(account: "Account", market: MarketState) -> int:
    """:func:`account_commitment` of an account, its symbols resolved to identities with ``market``
    (any epoch that still lists every held instrument and asset gives the same value)."""
    positions, balances = account.holdings(market)
    return account_commitment(positions, balances, account.salt)


def chunk_state(counter: int, chain: int, delta: Sequence[int], gamma: Sequence[int], vega: Sequence[int],
                position_value: int, blinding: int) -> int:
    """The blinded running state of a book proven in chunks (``circuits/state.circom``)::

        hash_list([STATE_DOMAIN, counter, chain, *Delta, *Gamma, *Vega, position_value, blinding])

    signed sums ``to_field``. ``chain`` is the positions' :func:`entries_hash`
    state so far, ``counter`` the chunks so far; ``blinding`` (a random field
    element per book and proving run) makes the state hiding."""
    values = [STATE_DOMAIN, counter, chain, *delta, *gamma, *vega, position_value, blinding]
    return hash_list([to_field(v) for v in values])


def revaluation_chunk_state(counter: int, chain: int, pnl: Sequence[Sequence[int]], position_value: int,
                            blinding: int) -> int:
    """The running state of a book proven in chunks under a revaluation market
    (``circuits/state.circom``, ``RevaluationChunkState``)::

        hash_list([STATE_DOMAIN_REVALUATION, counter, chain, *PnL (row-major by underlying),
                   position_value, blinding])

    ``PnL[u][k]`` the risk-array sums so far (:attr:`zksolv.risk.model.Greeks.PnL`), signed ``to_field``."""
    values = [STATE_DOMAIN_REVALUATION, counter, chain, *_flatten(pnl), position_value, blinding]
    return hash_list([to_field(v) for v in values])


def entries_hash_from(init: int, entries: Sequence[int]) -> int:
    """:func:`entries_hash` continued from the state ``init``, skipping all-zero blocks
    (as ``EntryChain`` does): the chain of a chunk of a book, when the book before it hashed to ``init``."""
    h = init
    for start in range(0, len(entries), ENTRY_BLOCK):
        block = list(entries[start : start + ENTRY_BLOCK])
        if any(block):
            h = poseidon([h, *block, *[0] * (ENTRY_BLOCK - len(block))])
    return h


# ------------------------------------------------------------------ helpers
def _flatten(rows: Sequence[Sequence[int]]) -> list[int]:
    return [x for row in rows for x in row]


# id(market) -> (weak reference to it, results by name). The weakref callback
# drops the entry when the market dies, so a reused id never sees stale data;
# the identity check on lookup guards the window in between.
_CACHE: dict[int, tuple[weakref.ref[MarketState], dict[str, object]]] = {}
_MEMOISED = ("instrument_tree", "symbols_hash", "market_root")


def remember(market: MarketState, name: str, value: object) -> None:
    """Record a memoised result for ``market`` (``"instrument_tree"``, ``"symbols_hash"``) computed
    elsewhere, e.g. read back by the prover's per-market cache (:mod:`zksolv.prover.market_cache`)."""
    if name not in _MEMOISED:
        raise ValueError(f"not a memoised market value: {name}")
    _memo(market, name, lambda: value)


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
