"""Circuit inputs for one account: model + commitments + tier, glued.

:func:`circuit_inputs` maps a private :class:`~zksolv.core.account.Account` and a
public :class:`~zksolv.core.market.MarketState` to exactly the input signals of
``AvslSolvency`` (``circuits/avsl_solvency.circom``): field elements as
decimal strings, negative values as ``p - |x|``. Positions fill the slots in
the commitment's canonical order (by instrument id) and balances likewise (by
asset id), each with its private lookup detail (leaf index and Merkle path, or
the groups its leaf is in; row of the collateral table); unused slots are padded
with ``q = 0`` and a valid opening, and ``balance = 0`` at row 0. The Python reference
(:func:`zksolv.risk.model.evaluate`) supplies the hints and is checked first, so an
insolvent or out-of-range account fails here with a clear error instead of
deep inside the witness calculator. :func:`check_witness` then holds the
computed witness to the same reference before any proving starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from zksolv.core import commitments
from zksolv.core.account import Account
from zksolv.toolchain.circuitgen import Tier
from zksolv.core.errors import InputError, ProofError
from zksolv.core.fixedpoint import to_field
from zksolv.core.market import MarketState, RiskMode
from zksolv.core.merkle import leaf_groups
from zksolv.risk.model import MarginResult, evaluate
from zksolv.toolchain.r1cs import find_wires, read_wtns

#: Hint names per risk mode, as the circuit's input signals.
MODE_HINTS = {RiskMode.STRESS: ("m",), RiskMode.ES: ("t",), RiskMode.VAR: ("yt", "s", "n", "v"),
              RiskMode.REVALUATION: ("m",)}


def circuit_inputs(account: Account, market: MarketState, tier: Tier) -> dict[str, Any]:
    """Input signals of ``tier``'s circuit proving ``account`` solvent under ``market``.

    Raises :class:`InputError` if the account has more positions than the
    tier holds or the market does not have the tier's shape, and
    :class:`ProofError` if the account is insolvent (no amounts in messages).
    """
    return reference_inputs(account, market, tier)[0]


def reference_inputs(account: Account, market: MarketState, tier: Tier) -> tuple[dict[str, Any], MarginResult]:
    """:func:`circuit_inputs` together with the reference result it was built from."""
    slots = account.position_slots(market)
    balances = account.balances(market)
    if len(slots) > tier.n_positions:
        raise InputError(f"positions: {len(slots)} positions exceed this tier's limit of {tier.n_positions}")
    result = evaluate(market, slots, balances)
    if not result.solvent:
        raise ProofError(
            f"account is insolvent under the {market.params.risk_mode.value} margin of epoch {market.epoch}: "
            "NAV below requirement"
        )
    return build_inputs(market, tier, slots, balances, account.salt, result), result


def fe(x: int) -> str:
    """A signed integer as a circuit input: its field element in decimal."""
    return str(to_field(x))


def fes(xs: Sequence[int]) -> list[str]:
    """:func:`fe` of each."""
    return [fe(x) for x in xs]


def canonical_slots(market: MarketState, slots: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The non-zero ``(leaf index, q)`` slots in the commitment's order (by instrument id)."""
    ids = market.instrument_ids
    return sorted(((i, q) for i, q in slots if q != 0), key=lambda slot: ids[slot[0]])


def slot_inputs(market: MarketState, slots: Sequence[tuple[int, int]], capacity: int, cap: int,
                groups: int = 0) -> dict[str, Any]:
    """The position-slot signals of ``PositionSlots``: ``slots`` (already in order) padded to
    ``capacity`` with ``q = 0``, each with its identity and leaf fields, the tree's cap of height
    ``cap`` (and, under a revaluation market, ``RevaluationSlots``' risk arrays ``pnl``), and how
    the leaves open: with ``groups`` 0 each slot's leaf index and the lower ``depth - cap`` levels
    of its path (padding at leaf 0); with ``groups`` > 0 the groups of
    :func:`zksolv.core.merkle.leaf_groups`, each with its children, index and path up to the cap
    (padding at the first slot's leaf, which is in a group). :class:`InputError` when the
    positions lie in more groups than the circuit has."""
    tree = commitments.instrument_tree(market)
    ids = market.instrument_ids
    pad = slots[0][0] if groups and slots else 0
    padded = list(slots) + [(pad, 0)] * (capacity - len(slots))
    instruments = [market.instruments[index] for index, _ in padded]
    out: dict[str, Any] = {
        "q": [fe(q) for _, q in padded],
        "instrument_id": [fe(ids[index]) for index, _ in padded],
        "underlying": [fe(i.underlying) for i in instruments],
        "mark": [fe(i.mark) for i in instruments],
        "delta": [fe(i.delta) for i in instruments],
        "gamma": [fe(i.gamma) for i in instruments],
        "vega": [fe(i.vega) for i in instruments],
        "cap": fes(tree.cap(cap)),
        **({"pnl": [fes(i.pnl) for i in instruments]} if market.params.risk_mode.is_revaluation else {}),
    }
    if not groups:
        levels = tree.depth - cap
        out["leaf_index"] = [fe(index) for index, _ in padded]
        out["path"] = [[fes(level) for level in tree.path(index, levels)] for index, _ in padded]
        return out
    try:
        chosen = leaf_groups([index for index, _ in slots], groups)
    except ValueError as exc:
        raise InputError(f"positions: {exc}") from None
    levels = tree.depth - 1 - cap
    out["group"] = [fes(tree.children(g)) for g in chosen]
    out["group_index"] = [fe(g) for g in chosen]
    out["group_path"] = [[fes(level) for level in tree.path(g, levels, level=1)] for g in chosen]
    return out


def balance_inputs(market: MarketState, balances: Sequence[int]) -> dict[str, Any]:
    """``BalanceSlots`` signals: held balances by asset id, each with its table row; the rest
    ``balance = 0`` at row 0."""
    assets = market.asset_ids
    held = sorted(((a, b) for a, b in enumerate(balances) if b != 0), key=lambda row: assets[row[0]])
    slots = held + [(0, 0)] * (len(balances) - len(held))
    return {"balance": [fe(b) for _, b in slots], "asset_index": [fe(a) for a, _ in slots]}


def statement_market_inputs(market: MarketState) -> dict[str, Any]:
    """The market signals of ``MarketBinding`` and ``MarginStatement`` (parameters, collateral table,
    the instruments root and underlyings hash as opaque values)."""
    p, sc = market.params, market.params.scenarios
    return {
        "epoch": fe(market.epoch),
        "V": fe(p.v_scalar),
        "beta": fe(p.beta),
        "min_ratio": fe(p.min_ratio),
        "es_level": fe(p.es_level),
        "alpha": fe(p.alpha),
        "horizon_seconds": fe(p.horizon_seconds),
        "var_z": fe(p.var_z),
        "dS": [fes(row) for row in market.price_moves()],
        "dsig": [fes(row) for row in sc.vol_shocks],
        "w": fes(sc.weights),
        "a": [fes(row) for row in p.var_loadings],
        "g": fes(p.gamma_addon),
        "vs": fes(p.vega_stress),
        "instruments_root": fe(commitments.instrument_tree(market).root),
        "underlyings_hash": fe(commitments.underlyings_hash(market)),
        "symbols_hash": fe(commitments.symbols_hash(market)),
        "asset_id": fes(market.asset_ids),
        "price": [fe(c.price) for c in market.collateral],
        "haircut": [fe(c.haircut) for c in market.collateral],
    }


def hint_inputs(result: MarginResult) -> dict[str, Any]:
    """``mm`` and the risk mode's hints from the reference result."""
    inputs: dict[str, Any] = {"mm": fe(result.hints["mm"])}  # type: ignore[arg-type]
    for name in MODE_HINTS[result.mode]:
        value = result.hints[name]
        inputs[name] = fes(value) if isinstance(value, (list, tuple)) else fe(value)  # type: ignore[arg-type]
    return inputs


def holdings_commitment(market: MarketState, slots: Sequence[tuple[int, int]], balances: Sequence[int],
                        salt: int) -> int:
    """The account commitment of model-form holdings (leaf indices, table-ordered balances)."""
    ids, assets = market.instrument_ids, market.asset_ids
    return commitments.account_commitment([(ids[i], q) for i, q in slots],
                                          [(assets[a], b) for a, b in enumerate(balances)], salt)


def build_inputs(
    market: MarketState,
    tier: Tier,
    slots: Sequence[tuple[int, int]],
    balances: Sequence[int],
    salt: int,
    result: MarginResult,
) -> dict[str, Any]:
    """The input mapping without the solvency check (tests feed it bad hints)."""
    if not tier.matches(market):
        raise InputError(f"market: its shape {market.shape}/{market.params.risk_mode.value} does not match tier {tier.name}")
    if len(slots) > tier.n_positions:
        raise InputError(f"positions: {len(slots)} positions exceed this tier's limit of {tier.n_positions}")
    return {
        "account_commitment": fe(holdings_commitment(market, slots, balances, salt)),
        "market_root": fe(commitments.market_root(market)),
        **slot_inputs(market, canonical_slots(market, slots), tier.n_positions, tier.cap, tier.groups),
        **balance_inputs(market, balances),
        "salt": fe(salt),
        **statement_market_inputs(market),
        **hint_inputs(result),
    }


#: Signals of ``main`` that every tier keeps after ``--O2`` and :func:`check_witness` requires.
REQUIRED_SIGNALS = ("main.account_commitment", "main.market_root", "main.mm", "main.nav_raw", "main.req_raw")


def expected_signals(inputs: Mapping[str, Any], result: MarginResult) -> dict[str, int]:
    """The values (field elements) the reference predicts for named signals of ``main``:
    the public inputs, the net greeks per underlying, NAV, the margin and the requirement."""
    out = {
        "main.account_commitment": int(inputs["account_commitment"]),
        "main.market_root": int(inputs["market_root"]),
        "main.mm": to_field(result.mm),
        "main.nav_raw": to_field(result.nav_raw),
        "main.req_raw": to_field(result.req_raw),
    }
    for name, values in (("Delta", result.greeks.Delta), ("Gamma", result.greeks.Gamma), ("Vega", result.greeks.Vega)):
        out.update({f"main.{name}[{u}]": to_field(x) for u, x in enumerate(values)})
    return out


def check_witness(sym_path: Path, wtns_path: Path, expected: Mapping[str, int]) -> None:
    """Refuse a witness that disagrees with the Python reference, before it is proven.

    ``expected`` maps signal names (as in circom's ``.sym``) to field elements,
    e.g. from :func:`expected_signals`. Every name in :data:`REQUIRED_SIGNALS`
    must survive in the compiled circuit; other names are compared where the
    optimiser kept them. Raises :class:`ProofError` naming the signals that
    differ, never their (private) values.
    """
    wires = {name: wire for name, wire in find_wires(sym_path, expected).items() if wire >= 0}
    lost = [name for name in REQUIRED_SIGNALS if name in expected and name not in wires]
    if lost:
        raise ProofError(f"the compiled circuit has no wire for {', '.join(lost)}: cannot check the witness")
    witness = read_wtns(wtns_path)
    differ = sorted(name for name, wire in wires.items() if wire >= len(witness) or witness[wire] != expected[name])
    if differ:
        raise ProofError(f"the witness disagrees with the Python reference on {', '.join(differ)}; not proving")
