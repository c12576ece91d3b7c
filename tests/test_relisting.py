"""A registered commitment names holdings, not listing positions (issue 11).

The venue registers an account's commitment once; the oracle re-lists every
epoch (strikes added, instruments delisted, the listing and the collateral
table re-ordered). These tests hold the statement to what the account *holds*:

* Python level (fast): under random re-listings of the small demo market the
  commitment of an unchanged account is unchanged, and the margin judged by
  symbol is exactly the same; the inputs the prover builds open, for every
  slot, a leaf that carries the committed identity; instruments and assets
  that are gone are refused before anything is computed, naming them; the
  venue computes the same commitment from contract specifications alone.
* Witness level (slow): the two attacks that worked while the commitment named
  leaf indices and table rows — re-using the registration epoch's leaf index
  after a listing shift (100 ETH futures read as 100 ETH spot), and the balance
  order after the collateral table changed (20 USDC read as 20 BTC) — have no
  witness, and the independent R1CS checker finds a violated constraint when
  the honest witness is edited the way each attack needs.
* Proof level (slow): the honest proof made under a re-listed successor
  verifies against the commitment registered before the re-listing, through
  the library and the CLI.
* Grouped circuits (issue 26): the same two checks for a grouped tier, whose slots
  open their leaves as children of groups instead of by leaf index.
"""

from __future__ import annotations

import dataclasses
import json
import random
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zksolv.prover.witness import build_inputs, circuit_inputs
from zksolv.verifier.verify import verify
from zksolv.core import commitments as cm
from zksolv.toolchain import r1cs as R
from zksolv.core.account import Account, Position
from zksolv.toolchain.circuitgen import Tier
from zksolv.app.demo import demo_market
from zksolv.core.errors import InputError, ProofError
from zksolv.core.identity import KIND_FUTURE, asset_id, instrument_id
from zksolv.core.market import MarketState
from zksolv.core.merkle import root_from_capped_path, root_from_groups
from zksolv.risk.model import evaluate

MARKET = demo_market(n_strikes=3, n_expiries=1)  # 20 instruments (tree depth 3), 4 collateral assets
TIER = Tier.for_market(MARKET, 4)
SALT = 0x5EED_0F_1D_E171_7E


def relist(market: MarketState, rng: random.Random, *, insert: int = 0, remove: tuple[str, ...] = (),
           permute: bool = True, reorder_collateral: bool = True, epoch_step: int = 1) -> MarketState:
    """The next epoch's listing of ``market``: ``insert`` new option strikes at random places, the
    symbols in ``remove`` delisted, the listing and the collateral table shuffled, the epoch advanced.
    Every remaining instrument keeps its data, so an account's margin by symbol is unchanged."""
    instruments = [ins for ins in market.instruments if ins.symbol not in remove]
    options = [ins for ins in market.instruments if ins.kind.is_option]
    for k in range(insert):
        model = rng.choice(options)
        new = dataclasses.replace(model, symbol=f"{model.symbol}+{k}", strike=model.strike + 1 + k)
        instruments.insert(rng.randrange(len(instruments) + 1), new)
    if permute:
        rng.shuffle(instruments)
    collateral = list(market.collateral)
    if reorder_collateral:
        rng.shuffle(collateral)
    return dataclasses.replace(market, epoch=market.epoch + epoch_step, instruments=tuple(instruments),
                               collateral=tuple(collateral)).validated()


def account(positions: dict[str, int], collateral: dict[str, int], salt: int = SALT) -> Account:
    return Account(tuple(Position(s, q) for s, q in positions.items()), collateral, salt).validated()


BOOKS = {
    "short_strangle": account({"BTC-9JAN26-67000-C": -2_000_000, "BTC-9JAN26-63500-P": -2_000_000},
                              {"USDC": 60_000 * 10**6, "BTC": 500_000}),
    "hedged": account({"ETH-9JAN26-3400-P": 10 * 10**6, "ETH-3APR26": 5 * 10**6, "ETH-USD": -3 * 10**6},
                      {"USDT": 20_000 * 10**6}),
    "mixed": account({"BTC-PERPETUAL": 1_500_000, "ETH-9JAN26-3525-C": -7 * 10**6, "BTC-3JUL26": -250_000,
                      "ETH-9JAN26-3275-P": 4 * 10**6}, {"USDC": 90_000 * 10**6, "ETH": 2 * 10**6, "BTC": 1}),
}
HELD = frozenset(p.instrument for acc in BOOKS.values() for p in acc.positions)


def _by_symbol(acc: Account, market: MarketState):
    return evaluate(market, acc.position_slots(market), acc.balances(market))


#: The same data under the revaluation mode (risk arrays in the leaves, issue 16).
REVAL_MARKET = demo_market(risk_mode="revaluation", n_strikes=3, n_expiries=1)


# ---------------------------------------------------------------- Python level
@pytest.mark.parametrize("market", [MARKET, REVAL_MARKET], ids=["stress", "revaluation"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), insert=st.integers(0, 6), n_remove=st.integers(0, 5),
       permute=st.booleans(), reorder=st.booleans(), epoch_step=st.integers(0, 400))
def test_relisting_changes_neither_the_commitment_nor_the_margin(market, seed, insert, n_remove, permute, reorder,
                                                                 epoch_step) -> None:
    """Under the revaluation mode too: risk arrays travel with their instrument (the leaf carries
    identity and array together), and the commitment is the one registered under the greeks market."""
    rng = random.Random(seed)
    unheld = sorted(ins.symbol for ins in market.instruments if ins.symbol not in HELD)
    nxt = relist(market, rng, insert=insert, remove=tuple(rng.sample(unheld, n_remove)), permute=permute,
                 reorder_collateral=reorder, epoch_step=epoch_step)
    for name, acc in BOOKS.items():
        assert cm.account_commitment_of(acc, nxt) == cm.account_commitment_of(acc, MARKET), name
        before, after = _by_symbol(acc, market), _by_symbol(acc, nxt)
        assert (after.nav_raw, after.mm, after.req_raw, after.solvent) == \
               (before.nav_raw, before.mm, before.req_raw, before.solvent), name


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), insert=st.integers(0, 6))
def test_prover_inputs_open_leaves_that_carry_the_committed_identities(seed: int, insert: int) -> None:
    """What the circuit checks, restated in Python over the inputs the prover builds for a successor:
    each used slot's leaf, hashed with the slot's instrument_id, sits under instruments_root; each used
    balance slot's asset_index selects the committed asset; and the entries give the registered commitment."""
    nxt = relist(MARKET, random.Random(seed), insert=insert)
    ids_by_symbol = dict(zip((i.symbol for i in MARKET.instruments), MARKET.instrument_ids))
    for name, acc in BOOKS.items():
        assert _by_symbol(acc, nxt).solvent, name
        inputs = circuit_inputs(acc, nxt, TIER)
        registered = cm.account_commitment_of(acc, MARKET)
        assert int(inputs["account_commitment"]) == registered, name
        root = cm.instrument_tree(nxt).root
        held = []
        for j in range(TIER.n_positions):
            index, ident, q = (int(inputs[k][j]) for k in ("leaf_index", "instrument_id", "q"))
            ins = nxt.instruments[index]
            assert root_from_capped_path(cm.instrument_leaf(ident, ins), index,
                                         [[int(x) for x in level] for level in inputs["path"][j]],
                                         [int(x) for x in inputs["cap"]]) == root
            if q:
                held.append((ident, q - (cm.fp.FIELD_MODULUS if q > cm.fp.FIELD_MODULUS // 2 else 0)))
        assert sorted(held) == sorted((ids_by_symbol[p.instrument], p.quantity) for p in acc.positions)
        assets = nxt.asset_ids
        balances = [(assets[int(a)], int(b)) for a, b in zip(inputs["asset_index"], inputs["balance"]) if int(b)]
        assert balances == sorted((asset_id(s), b) for s, b in acc.collateral.items() if b)
        assert cm.account_commitment(held, balances, acc.salt) == registered


def test_the_venue_commits_from_contract_specifications_alone() -> None:
    """No market, no symbols: (underlying, kind, strike, expiry) and asset symbols give the same commitment."""
    fut = next(i for i in MARKET.instruments if i.symbol == "ETH-3APR26")
    acc = account({"ETH-3APR26": 100 * 10**6}, {"USDC": 2_000 * 10**6})
    venue = cm.account_commitment([(instrument_id("ETH", KIND_FUTURE, 0, fut.expiry), 100 * 10**6)],
                                  [(asset_id("USDC"), 2_000 * 10**6)], SALT)
    assert venue == cm.account_commitment_of(acc, MARKET)


def test_a_delisted_instrument_is_refused_naming_it_and_what_to_do() -> None:
    acc = BOOKS["hedged"]
    gone = relist(MARKET, random.Random(1), remove=("ETH-3APR26",))
    for call in (lambda: cm.account_commitment_of(acc, gone), lambda: circuit_inputs(acc, gone, TIER),
                 lambda: _by_symbol(acc, gone)):
        with pytest.raises(InputError, match=r"positions\[1\]\.instrument 'ETH-3APR26': not listed in this market "
                                             r"\(epoch \d+\); if it expired or was delisted, settle the position, "
                                             r"then register the account's new commitment"):
            call()


def test_an_asset_no_longer_accepted_is_refused_unless_its_balance_is_zero() -> None:
    gone = dataclasses.replace(MARKET, collateral=tuple(a for a in MARKET.collateral if a.symbol != "USDT")).validated()
    with pytest.raises(InputError, match=r"collateral\['USDT'\]: not a collateral asset of this market \(epoch \d+\); "
                                         r"if it is no longer accepted, withdraw or convert it, then register"):
        cm.account_commitment_of(BOOKS["hedged"], gone)
    emptied = account({"ETH-USD": 10**6}, {"USDT": 0, "USDC": 5 * 10**6})
    assert cm.account_commitment_of(emptied, gone) == cm.account_commitment_of(emptied, MARKET)


def test_two_positions_in_one_instrument_are_refused() -> None:
    with pytest.raises(InputError, match=r"positions\[1\]\.instrument: duplicate position in 'ETH-USD'"):
        Account((Position("ETH-USD", 1), Position("ETH-USD", 2)), {}, SALT).validated()


# ---------------------------------------------------------------- witness level
def _shifted_successor() -> MarketState:
    """Epoch e+1 with two BTC strikes listed at the front: every old index now names another
    instrument; in particular index 12 (ETH-3APR26 at e) is ETH-USD spot at e+1."""
    new = [dataclasses.replace(MARKET.instruments[8], symbol=f"BTC-9JAN26-{k}-C", strike=k * 10**6)
           for k in (68_000, 69_000)]
    nxt = dataclasses.replace(MARKET, epoch=MARKET.epoch + 1, instruments=(*new, *MARKET.instruments)).validated()
    assert MARKET.instruments[12].symbol == "ETH-3APR26" and nxt.instruments[12].symbol == "ETH-USD"
    return nxt


def _swapped_collateral() -> MarketState:
    """Epoch e+1 with BTC listed where USDC was (rows 0 and 2 swapped); the state is valid."""
    c = MARKET.collateral
    assert (c[0].symbol, c[2].symbol) == ("USDC", "BTC")
    return dataclasses.replace(MARKET, epoch=MARKET.epoch + 1, collateral=(c[2], c[1], c[0], c[3])).validated()


@pytest.fixture(scope="module")
def compiled():
    from zksolv.toolchain.artifacts import compile_tier

    circuit = compile_tier(TIER)[1]
    r1cs = R.R1CS.load(circuit.r1cs)
    return circuit, r1cs, R.constraints_touching(r1cs), R.signal_wires(R.read_sym(circuit.sym))


def _witness(circuit, inputs, tmp: Path) -> list[int] | None:
    from zksolv.toolchain import calculate_witness

    try:
        return R.read_wtns(calculate_witness(circuit.wasm, inputs, tmp / "w.wtns"))
    except ProofError:
        return None


def _old_order_inputs(acc: Account, nxt: MarketState) -> dict:
    """What the attack fed the circuit: the registration epoch's leaf indices and balance order,
    under the successor's market data, with the registered commitment as the public input."""
    slots, balances = acc.position_slots(MARKET), acc.balances(MARKET)
    result = evaluate(nxt, slots, balances)
    assert result.solvent, "read by the old indices the account looks solvent: that was the attack"
    inputs = build_inputs(nxt, TIER, slots, balances, acc.salt, result)
    inputs["account_commitment"] = str(cm.account_commitment_of(acc, MARKET))
    return inputs


@pytest.mark.slow
def test_attack_reused_leaf_index_after_a_listing_shift(compiled, tmp_path: Path) -> None:
    circuit, r1cs, touching, wires = compiled
    nxt = _shifted_successor()
    victim = account({"ETH-3APR26": 100 * 10**6}, {"USDC": 2_000 * 10**6})
    assert not _by_symbol(victim, nxt).solvent  # 100 ETH futures on 2,000 USDC: insolvent by symbol
    with pytest.raises(ProofError, match="insolvent"):
        circuit_inputs(victim, nxt, TIER)
    # the attacker's inputs: old index 12 (ETH-USD at e+1) ...
    forged = _old_order_inputs(victim, nxt)
    assert _witness(circuit, forged, tmp_path) is None  # ... opens a leaf with the spot's identity
    # ... or claims the future's identity for the spot's leaf
    future_id = MARKET.instrument_ids[12]
    claimed = dict(forged, instrument_id=[str(future_id) if q != "0" else i
                                          for q, i in zip(forged["q"], forged["instrument_id"])])
    assert _witness(circuit, claimed, tmp_path) is None
    # independent checker: the honest witness of a solvent holder of the same future, edited as the attack needs
    rich = account({"ETH-3APR26": 100 * 10**6}, {"USDC": 10**6 * 10**6})
    honest = circuit_inputs(rich, nxt, TIER)
    w = _witness(circuit, honest, tmp_path)
    assert w is not None and R.check(r1cs, w) == []
    j = [int(x) for x in honest["q"]].index(100 * 10**6)
    assert int(honest["leaf_index"][j]) == nxt.instrument_index("ETH-3APR26") == 14
    assert R.tamper_rejected(r1cs, w, wires[f"main.leaf_index[{j}]"], 12, touching)
    assert R.tamper_rejected(r1cs, w, wires[f"main.instrument_id[{j}]"], nxt.instrument_ids[12], touching)


@pytest.mark.slow
def test_attack_balance_order_after_the_collateral_table_changed(compiled, tmp_path: Path) -> None:
    circuit, r1cs, touching, wires = compiled
    nxt = _swapped_collateral()
    victim = account({"ETH-9JAN26-3400-C": -10 * 10**6}, {"USDC": 20 * 10**6})
    assert not _by_symbol(victim, nxt).solvent  # short 10 ETH calls on 20 USDC
    with pytest.raises(ProofError, match="insolvent"):
        circuit_inputs(victim, nxt, TIER)
    forged = _old_order_inputs(victim, nxt)  # the 20 USDC priced from row 0: BTC at e+1
    assert _witness(circuit, forged, tmp_path) is None
    rich = account({"ETH-9JAN26-3400-C": -10 * 10**6}, {"USDC": 10**6 * 10**6})
    honest = circuit_inputs(rich, nxt, TIER)
    w = _witness(circuit, honest, tmp_path)
    assert w is not None and R.check(r1cs, w) == []
    assert int(honest["asset_index"][0]) == nxt.collateral_index("USDC") == 2
    assert R.tamper_rejected(r1cs, w, wires["main.asset_index[0]"], 0, touching)  # USDC's amount priced as BTC


# ---------------------------------------------------------------- proof level
@pytest.fixture(scope="module")
def successor_proof():
    from zksolv.prover.prove import prove

    acc = BOOKS["mixed"]
    registered = cm.account_commitment_of(acc, MARKET)
    nxt = relist(MARKET, random.Random(20261130), insert=3, remove=("BTC-3APR26",))
    assert nxt.shape == MARKET.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bundle = prove(acc, nxt, n_positions=4)
    return acc, registered, nxt, bundle


@pytest.mark.slow
def test_honest_proof_under_a_relisted_successor_verifies_against_the_registered_commitment(successor_proof) -> None:
    acc, registered, nxt, bundle = successor_proof
    assert _by_symbol(acc, nxt).solvent  # the verdict the reference model gives by symbol
    assert bundle.public == [str(registered), str(cm.market_root(nxt))]
    verdict = verify(bundle.proof, bundle.public, nxt, bundle.verification_key, account_commitment=registered)
    assert verdict.valid, verdict.reason
    # and it is a proof about e+1 only
    assert not verify(bundle.proof, bundle.public, MARKET, bundle.verification_key, account_commitment=registered).valid


@pytest.mark.slow
def test_cli_commit_and_verify_across_a_relisting(successor_proof, tmp_path: Path) -> None:
    acc, registered, nxt, bundle = successor_proof
    MARKET.save(tmp_path / "market_e.json")
    nxt.save(tmp_path / "market_e1.json")
    acc.save(tmp_path / "account.json")
    bundle.save(tmp_path / "proof")
    from zksolv.cli import main

    runner = CliRunner()
    commitments = []
    for name in ("market_e.json", "market_e1.json"):
        out = runner.invoke(main, ["commit", "--account", str(tmp_path / "account.json"),
                                   "--market", str(tmp_path / name), "--json"])
        assert out.exit_code == 0, out.output
        commitments.append(json.loads(out.stdout)["account_commitment"])
    assert commitments == [str(registered)] * 2
    ok = runner.invoke(main, ["verify", "--proof", str(tmp_path / "proof"), "--market", str(tmp_path / "market_e1.json"),
                              "--dev-key", "--commitment", commitments[0],
                              "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout.splitlines()[0])["valid"] is True


@pytest.mark.slow
def test_a_commitment_registered_under_a_greeks_market_proves_under_a_relisted_revaluation_successor() -> None:
    """The venue may switch the risk mode between epochs: the registered commitment names holdings,
    so the honest proof under a re-listed revaluation successor verifies against it."""
    from zksolv.prover.prove import prove

    acc = BOOKS["short_strangle"]
    registered = cm.account_commitment_of(acc, MARKET)
    nxt = relist(REVAL_MARKET, random.Random(20261201), insert=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bundle = prove(acc, nxt, n_positions=4)
    assert bundle.statement.risk_mode == "revaluation"
    assert bundle.public == [str(registered), str(cm.market_root(nxt))]
    assert verify(bundle.proof, bundle.public, nxt, bundle.verification_key, account_commitment=registered).valid


# ---------------------------------------------------------------- grouped circuits (issue 26)
GROUPED_TIER = Tier.for_market(MARKET, 4, groups=4)  # a book of 4 positions lies in at most 4 groups


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), insert=st.integers(0, 6))
def test_grouped_inputs_open_leaves_that_carry_the_committed_identities(seed: int, insert: int) -> None:
    """The grouped twin of the test above: under a re-listed successor every slot's leaf, hashed with
    the slot's instrument_id, is a child of a group under instruments_root (no leaf index involved),
    and the slots' (identity, q) give the registered commitment."""
    nxt = relist(MARKET, random.Random(seed), insert=insert)
    for name, acc in BOOKS.items():
        inputs = circuit_inputs(acc, nxt, GROUPED_TIER)
        registered = cm.account_commitment_of(acc, MARKET)
        assert int(inputs["account_commitment"]) == registered, name
        by_id = dict(zip(nxt.instrument_ids, nxt.instruments))
        leaves = [cm.instrument_leaf(int(i), by_id[int(i)]) for i in inputs["instrument_id"]]
        groups = [([int(x) for x in c], int(g), [[int(x) for x in lv] for lv in p])
                  for c, g, p in zip(inputs["group"], inputs["group_index"], inputs["group_path"])]
        root = cm.instrument_tree(nxt).root
        assert root_from_groups(leaves, groups, [int(x) for x in inputs["cap"]]) == root, name
        held = [(int(i), int(q) - (cm.fp.FIELD_MODULUS if int(q) > cm.fp.FIELD_MODULUS // 2 else 0))
                for i, q in zip(inputs["instrument_id"], inputs["q"]) if int(q)]
        assert cm.account_commitment(sorted(held), sorted((asset_id(s), b) for s, b in acc.collateral.items() if b),
                                     acc.salt) == registered


@pytest.mark.slow
def test_a_grouped_proof_under_a_relisted_successor_verifies_against_the_registered_commitment() -> None:
    from zksolv.prover.prove import prove

    acc = BOOKS["mixed"]
    registered = cm.account_commitment_of(acc, MARKET)
    nxt = relist(MARKET, random.Random(20261206), insert=3, remove=("BTC-3APR26",))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bundle = prove(acc, nxt, n_positions=4, groups=4)
    assert bundle.statement.tier == GROUPED_TIER.name
    assert bundle.public == [str(registered), str(cm.market_root(nxt))]
    assert verify(bundle.proof, bundle.public, nxt, bundle.verification_key, account_commitment=registered).valid
    assert not verify(bundle.proof, bundle.public, MARKET, bundle.verification_key, account_commitment=registered).valid
