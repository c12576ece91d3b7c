"""Circuit inputs for a book proven in chunks (``AvslChunk`` x k, then ``AvslFinal``).

A book of P positions, in the commitment's canonical order, is cut into k
chunks of ``capacity`` slots (a multiple of the entry block, so the chain
after the last chunk is the book's positions hash and the commitment is the
one the venue registered). A blinded running state links them::

    s_0 = chunk_state(0, 0, 0..., r)            the book's empty state
    s_i = chunk_state(i, chain_i, sums_i, r)    after chunk i
                                                (sums: the net greeks and q*mark; under a
                                                revaluation market the risk-array sums
                                                PnL[u][k] and q*mark, revaluation_chunk_state)
    chunk i proves     s_{i-1} -> s_i           public (market_root, s_{i-1}, s_i)
    the final proves   s_0 empty, s_k opens to sums meeting the AVSL rule,
                       commitment(salt, chain_k, balances)
                                                public (commitment, market_root, s_0, s_k)

Every chunk's inputs are known up front, so the chunks prove independently
(:mod:`zksolv.prover.engines`). ``r`` is drawn fresh from the OS CSPRNG for every
plan: the states of two books (or of one book in two runs) are unrelated.
The plan also carries, per proof, the public signals the reference predicts
so each witness is checked before it is proven.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Sequence

from zksolv.prover.witness import balance_inputs, canonical_slots, fe, fes, hint_inputs, slot_inputs, statement_market_inputs
from zksolv.core import commitments
from zksolv.core import fixedpoint as fp
from zksolv.core.account import Account
from zksolv.toolchain.circuitgen import ChunkTier, FinalTier
from zksolv.core.errors import InputError, ProofError
from zksolv.core.identity import position_entry
from zksolv.core.market import MarketState
from zksolv.core.merkle import groups_touched
from zksolv.core.venue import chunks_needed
from zksolv.risk.model import Greeks, MarginResult, aggregate, evaluate

#: Default chunk capacity (also the venue policy's default, zksolv.core.venue): 64 slots keep a
#: chunk circuit near 130k constraints on a 4,096-instrument market (about 0.8 GiB to prove).
DEFAULT_CHUNK_SIZE = 64


@dataclass(frozen=True)
class ChunkPlan:
    """Everything needed to prove one book in chunks."""

    chunk_tier: ChunkTier
    final_tier: FinalTier
    chunk_inputs: tuple[dict[str, Any], ...]
    final_inputs: dict[str, Any]
    states: tuple[int, ...]  #: s_0 .. s_k
    account_commitment: int
    market_root: int
    result: MarginResult

    @property
    def n_chunks(self) -> int:
        return len(self.chunk_inputs)

    def chunk_public(self, i: int) -> list[str]:
        """The public signals chunk ``i`` must have: ``[market_root, s_i, s_{i+1}]``."""
        return [str(self.market_root), str(self.states[i]), str(self.states[i + 1])]

    def final_public(self) -> list[str]:
        """``[account_commitment, market_root, s_0, s_k]``."""
        return [str(self.account_commitment), str(self.market_root), str(self.states[0]), str(self.states[-1])]


def chunk_groups_touched(account: Account, market: MarketState, capacity: int) -> int:
    """The most groups of 8 listings any one chunk of ``capacity`` positions of ``account`` touches
    (chunks cut the book in the commitment's canonical order): what a grouped chunk circuit must hold."""
    return _busiest_chunk(canonical_slots(market, account.position_slots(market)), capacity)


def _busiest_chunk(ordered: Sequence[tuple[int, int]], capacity: int) -> int:
    """The most groups any chunk of ``capacity`` of the canonically ordered slots touches."""
    parts = [ordered[i : i + capacity] for i in range(0, len(ordered), capacity)] or [[]]
    return max(groups_touched(index for index, _ in part) for part in parts)


def plan_chunks(account: Account, market: MarketState, capacity: int = DEFAULT_CHUNK_SIZE, *,
                n_chunks: int | None = None, blinding: int | None = None, groups: int = 0) -> ChunkPlan:
    """Inputs of every chunk proof and of the final proof of ``account`` under ``market``.

    ``n_chunks`` pads the book with empty chunks up to that count (a venue may ask
    every book to show one count: see the size-privacy docs); by default the
    fewest chunks that hold the book. ``groups`` > 0: the chunks' leaves open through that many
    groups (a grouped chunk circuit; every chunk must fit). Raises :class:`InputError` (bad account,
    capacity, a chunk in more groups, or a book beyond the circuits' widths) or :class:`ProofError`
    (insolvent) before anything is proven.
    """
    chunk_tier, final_tier = ChunkTier.for_market(market, capacity, groups), FinalTier.for_market(market)
    slots, balances = account.position_slots(market), account.balances(market)
    result = evaluate(market, slots, balances)
    if not result.solvent:
        raise ProofError(f"account is insolvent under the {market.params.risk_mode.value} margin of epoch "
                         f"{market.epoch}: NAV below requirement")
    ordered = canonical_slots(market, slots)
    if groups and (most := _busiest_chunk(ordered, capacity)) > groups:
        raise InputError(f"positions: a chunk of {capacity} lies in {most} groups of 8 listings, more than the "
                         f"chunk circuit's {groups}")
    k = chunks_needed(len(ordered), capacity)
    if n_chunks is not None:
        if n_chunks < k:
            raise InputError(f"n_chunks: the book needs {k} chunks of {capacity}, more than {n_chunks}")
        k = n_chunks
    r = secrets.randbelow(fp.FIELD_MODULUS) if blinding is None else blinding
    root = commitments.market_root(market)
    commitment = commitments.account_commitment_of(account, market)
    market_parts = {
        "market_root": str(root),
        "epoch": str(market.epoch),
        "params_hash": str(commitments.params_hash(market)),
        "instruments_root": str(commitments.instrument_tree(market).root),
        "underlyings_hash": str(commitments.underlyings_hash(market)),
        "collateral_hash": str(commitments.collateral_hash(market)),
        "symbols_hash": str(commitments.symbols_hash(market)),
    }
    ids, n_u, n_k = market.instrument_ids, len(market.underlyings), market.params.scenarios.size
    reval = market.params.risk_mode.is_revaluation
    chain, total = 0, Greeks((0,) * n_u, (0,) * n_u, (0,) * n_u, 0, ((0,) * n_k,) * n_u if reval else ())
    states = [_state(0, chain, total, r, reval)]
    chunk_inputs = []
    for i in range(k):
        part = ordered[i * capacity : (i + 1) * capacity]
        entries = [position_entry(ids[index], q) for index, q in part]
        before = {"counter": str(i), "chain_in": str(chain), **{f"{name}_in": v for name, v in _sums(total, reval).items()},
                  "value_in": fe(total.position_value), "blinding": str(r)}
        chain = commitments.entries_hash_from(chain, entries)
        total = _plus(total, aggregate(market, part))
        states.append(_state(i + 1, chain, total, r, reval))
        chunk_inputs.append({**market_parts, "state_in": str(states[i]), "state_out": str(states[i + 1]), **before,
                             **slot_inputs(market, part, capacity, chunk_tier.cap, chunk_tier.groups)})
    balances_hash = commitments.balances_hash(account.holdings(market)[1])
    assert commitments.commitment_of_hashes(account.salt, chain, balances_hash) == commitment
    assert total == result.greeks
    final_inputs = {
        "account_commitment": str(commitment), "market_root": str(root),
        "state_first": str(states[0]), "state_last": str(states[-1]),
        "blinding": str(r), "counter": str(k), "chain": str(chain),
        **_sums(total, reval), "position_value": fe(total.position_value),
        **balance_inputs(market, balances), "salt": str(account.salt),
        **statement_market_inputs(market), **hint_inputs(result),
    }
    return ChunkPlan(chunk_tier, final_tier, tuple(chunk_inputs), final_inputs, tuple(states), commitment, root, result)


def _add(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    return tuple(x + y for x, y in zip(a, b))


def _plus(a: Greeks, b: Greeks) -> Greeks:
    """The sums of two parts of a book."""
    return Greeks(_add(a.Delta, b.Delta), _add(a.Gamma, b.Gamma), _add(a.Vega, b.Vega),
                  a.position_value + b.position_value, tuple(_add(x, y) for x, y in zip(a.PnL, b.PnL)))


def _sums(g: Greeks, reval: bool) -> dict[str, Any]:
    """The running sums a chunk state carries (besides q*mark), as circuit inputs: the net greeks,
    or under a revaluation market the risk-array sums ``PnL[u][k]``."""
    if reval:
        return {"PnL": [fes(row) for row in g.PnL]}
    return {"Delta": fes(g.Delta), "Gamma": fes(g.Gamma), "Vega": fes(g.Vega)}


def _state(counter: int, chain: int, g: Greeks, blinding: int, reval: bool) -> int:
    """``chunk_state`` (greeks) or ``revaluation_chunk_state`` of the sums so far."""
    if reval:
        return commitments.revaluation_chunk_state(counter, chain, g.PnL, g.position_value, blinding)
    return commitments.chunk_state(counter, chain, g.Delta, g.Gamma, g.Vega, g.position_value, blinding)
