"""Adversarial review of grouped openings (commit 2aca657 and the work on top of it: ``GroupedOpenings``
in circuits/merkle.circom, ``PositionSlots(N, U, DEPTH, CAP, G)``, the ``_g<G>`` circuit names, the
venue's ``groups``, the prover's group choice and the keeper's key choice by shape).

The adversary controls every private input (group children, indices and paths, instrument ids, q,
leaf fields), every file of a proof folder (statement names, hashes) and may pick any market the venue
publishes. Each test asserts an attack is refused. Three attacks succeeded on the reviewed tree and
were fixed (the keeper now refuses such statements, the circuit-hash memo keys on the venue's
groups, the docs state what a group count reveals); their tests keep them refused:

* a statement whose group count exceeds the tier's (or chunk's) capacity, or names ``_g<G>`` under a
  revaluation market whose venue lists group counts, makes ``read_submission`` RAISE ``InputError``
  instead of returning a refusal: ``zksolv verify`` and the library keeper (``check_epoch``) stop for
  the whole epoch on one registered trader's folder (denial of service);
* ``market_circuit_hashes`` memoises a market's circuits without ``venue.groups``: after a market
  without groups, a market with groups gets no grouped circuits, so a key set's grouped keys are used
  without their circuit hash ever being checked;
* the default group count (the cheapest accepted) reveals a lower bound on the number of groups a
  book touches, more than the venue docs said a grouped proof reveals (documented since, and a
  trader may prove with a larger listed count).

Refused (kept as tests): forged leaves / groups / caps / roots in whole grouped tiers, padding slots
with garbage, a real leaf of the same group under another identity, duplicate groups, aliased group
indices, a group of internal nodes and a leaf equal to an internal node (level confusion), unlisted
group counts, grouped names the market's shape does not give, revaluation ``_g`` names, keys by
capacity only, and the witness side (every slot ``slot_inputs`` writes opens; errors carry no
private data).
"""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path
from typing import Any

import pytest

from tests.tiers import SOUNDNESS_TIERS
from tests.witness_batch import StandaloneCircuit
from zksolv.app.demo import demo_market
from zksolv.core import commitments as cm
from zksolv.core import fixedpoint as fp
from zksolv.core.account import Account, Position
from zksolv.core.errors import InputError, MalformedFieldError, VerificationError, ZksolvError
from zksolv.core.market import RiskMode
from zksolv.core.merkle import (ARITY, MerkleTree, group_cap_height, group_of, groups_touched, leaf_groups,
                                root_from_groups)
from zksolv.core.venue import VenuePolicy
from zksolv.proofs.statement import Statement
from zksolv.prover.witness import build_inputs, slot_inputs
from zksolv.risk import model

P = fp.FIELD_MODULUS
BASE = demo_market(n_strikes=3, n_expiries=1)  # 20 instruments, depth 2: groups 0, 1, 2 of 8


def _market(market=BASE, **venue: Any):  # noqa: ANN001, ANN202
    return dataclasses.replace(market, venue=VenuePolicy(**venue)).validated()


def _statement(market, tier: str, **extra: Any) -> dict[str, Any]:  # noqa: ANN001
    return {"tier": tier, "circuit_hash": "0" * 64, "risk_mode": tier.rsplit("_", 1)[1],
            "epoch": market.epoch, "market_root": "1", "account_commitment": "2", "setup_route": "dev",
            "insecure_setup": True, **extra}


def _folder(tmp: Path, name: str, statement: dict[str, Any]) -> Path:
    folder = tmp / name
    folder.mkdir()
    (folder / "statement.json").write_text(json.dumps(statement))
    return folder


def _key_set(folder: Path, market, wrong: tuple[str, ...] = ()) -> Path:  # noqa: ANN001
    """A key set folder for every circuit of ``market`` (placeholder key files), the circuits in
    ``wrong`` listed with a circuit hash that is not this installation's."""
    from zksolv.proofs.keyset import write_manifest
    from zksolv.toolchain.circuitgen import circuit_set
    from zksolv.verifier.submissions import local_circuit_hash

    folder.mkdir()
    entries = []
    for shape in circuit_set(market, chunks=True):
        (folder / f"{shape.name}.json").write_text("{}")
        entries.append({"circuit": shape.name, "verification_key": f"{shape.name}.json",
                        "circuit_hash": "ab" * 32 if shape.name in wrong else local_circuit_hash(shape)})
    write_manifest(folder, entries, transcript_sha256=None, route="dev")
    return folder


# ============================================================== names and statements (fast)
def test_names_and_statements_refuse_ambiguous_or_impossible_shapes() -> None:
    from zksolv.proofs.circuit_names import ChunkName, TierName, parse_circuit_name

    for bad in ("avsl_n4_u2_a4_k16_d2_g0_stress", "avsl_n4_u2_a4_k16_d2_g02_stress", "avsl_n4_u2_a4_k16_g2_d2_stress",
                "avsl_n4_u2_a4_k16_d2_g2_g2_stress", "avsl_n4_u2_a4_k16_d2_g2_revaluation", "avsl_n4_u2_a4_k16_d2_g_stress",
                "avsl_n4_u2_a4_k16_d2_g\u0662_stress", "avsl_chunk_c8_u2_d2_g2_k16_revaluation",
                "avsl_chunk_c8_u2_d2_k16_revaluation_g2", "avsl_chunk_c8_u2_d2_g0", "avsl_final_u2_a4_k16_g2_stress",
                "avsl_n4_u2_a4_k16_d2_g1000000_stress", " avsl_n4_u2_a4_k16_d2_g2_stress"):
        with pytest.raises(MalformedFieldError):
            parse_circuit_name(bad)
    # one spelling per shape: the grouped and plain names of a capacity differ and round-trip
    names = {TierName(4, 2, 4, 16, 2, RiskMode.STRESS, g).name for g in (0, 1, 2, 4)}
    names |= {ChunkName(8, 2, 2, groups=g).name for g in (0, 1, 2, 8)}
    assert len(names) == 8 and all(parse_circuit_name(n).name == n for n in names)
    # a statement: groups come from the name it is verified under, for one circuit and for chunks
    market = _market(tiers=(4, 16), chunk_sizes=(8,), chunk_counts=(1, 2, 3), groups=(2,))
    one = Statement.from_dict(_statement(market, "avsl_n4_u2_a4_k16_d2_g2_stress"))
    assert (one.capacity, one.groups) == (4, 2)
    chunked = Statement.from_dict(_statement(market, "avsl_final_u2_a4_k16_stress", n_chunks=2,
                                             chunk_tier="avsl_chunk_c8_u2_d2_g2", chunk_circuit_hash="0" * 64))
    assert (chunked.capacity, chunked.groups) == (8, 2)
    for tier, extra in (("avsl_n4_u2_a4_k16_d2_g2_revaluation", {}),  # no grouped revaluation circuit
                        ("avsl_final_u2_a4_k16_stress", {"n_chunks": 2, "chunk_tier": "avsl_chunk_c8_u2_d2_g2_k16_revaluation",
                                                         "chunk_circuit_hash": "0" * 64})):
        with pytest.raises(VerificationError):
            Statement.from_dict(_statement(market, tier, **extra))


# ============================================================== keeper: policy and key choice (fast)
def test_keeper_refuses_unlisted_group_counts_and_shapes_its_market_does_not_give(tmp_path: Path) -> None:
    from zksolv.verifier.submissions import KeySet, read_submission
    from zksolv.verifier.verify import policy_refusal

    plain = _market(tiers=(4, 16), chunk_sizes=(8,), chunk_counts=(1, 2, 3))
    listed = _market(tiers=(4, 16), chunk_sizes=(8,), chunk_counts=(1, 2, 3), groups=(2,))
    grouped = Statement.from_dict(_statement(plain, "avsl_n4_u2_a4_k16_d2_g2_stress"))
    other_g = Statement.from_dict(_statement(plain, "avsl_n4_u2_a4_k16_d2_g4_stress"))
    chunks = Statement.from_dict(_statement(plain, "avsl_final_u2_a4_k16_stress", n_chunks=2,
                                            chunk_tier="avsl_chunk_c8_u2_d2_g2", chunk_circuit_hash="0" * 64))
    assert "no grouped circuits" in policy_refusal(plain, grouped)
    assert "no grouped circuits" in policy_refusal(plain, chunks)
    assert "accepts groups [2] only" in policy_refusal(listed, other_g)
    assert policy_refusal(listed, grouped) is None and policy_refusal(listed, chunks) is None

    # a folder naming a group count the venue does not list: refused before any key (dev, file, tiers)
    folder = _folder(tmp_path, "unlisted", _statement(plain, "avsl_n4_u2_a4_k16_d2_g2_stress"))
    read = read_submission(folder, plain, None, KeySet.dev())
    assert read.refusal is not None and "grouped openings through 2 groups" in read.refusal.reason
    # names the market's shape does not give (another depth, another U): the name check refuses
    for name, why in (("avsl_n4_u2_a4_k16_d3_g2_stress", "this market's shape gives avsl_n4_u2_a4_k16_d2_g2_stress"),
                      ("avsl_n4_u1_a4_k16_d2_g2_stress", "this market's shape gives"),
                      ("avsl_n4_u2_a4_k16_d2_g2_var", "this market's shape gives")):
        read = read_submission(_folder(tmp_path, name, _statement(listed, name)), listed, None, KeySet.dev())
        assert read.refusal is not None and why in read.refusal.reason, (name, read.refusal)
    # keys by capacity only (the chain keeper's): the venue's name for the capacity must be the statement's
    keys = KeySet("tiers", tiers={4: object()}, tier_names={4: "avsl_n4_u2_a4_k16_d2_stress"})  # type: ignore[dict-item]
    with pytest.raises(VerificationError, match="the venue's key for tier 4 is avsl_n4_u2_a4_k16_d2_stress"):
        keys.choose(None, "avsl_n4_u2_a4_k16_d2_g2_stress", "0" * 64, listed, 4)
    # ... and a chunked grouped book through keys by capacity or one key: a refusal, not an exception
    folder = _folder(tmp_path, "chunks", _statement(listed, "avsl_final_u2_a4_k16_stress", n_chunks=2,
                                                    chunk_tier="avsl_chunk_c8_u2_d2_g2", chunk_circuit_hash="0" * 64))
    read = read_submission(folder, listed, None, keys)
    assert read.refusal is not None and "needs the chunk and final keys" in read.refusal.reason


def test_keeper_refuses_rather_than_crashes_on_more_groups_than_slots(tmp_path: Path) -> None:
    """Found in review and fixed (denial of service of a whole epoch). On the reviewed tree,
    ``VenuePolicy.refusal`` checked only that G is listed, not that G <= the capacity (nor the market's
    mode); ``read_submission`` then builds ``Tier.for_market(market, capacity, G)`` /
    ``ChunkTier.for_market(...)``, whose ``InputError`` (G > capacity, or ``_g`` under a revaluation
    market) ``_key_refusal`` re-raised as the keeper's own fault: one registered trader's folder with
    ``statement.json`` naming ``avsl_n4_..._g8_stress`` (venue tiers (4, 16), groups (2, 8)) stopped
    ``zksolv verify`` and ``check_epoch`` (no report, no verdict for anyone). Now the policy refuses a
    group count above the capacity, ``policy_refusal`` any group count under a revaluation market,
    and a statement shape no circuit has is a refusal (``_statement_shape``)."""
    from zksolv.verifier.submissions import KeySet, read_submission

    wide = _market(tiers=(4, 16), chunk_sizes=(8,), chunk_counts=(1, 2, 3), groups=(2, 8, 16))
    reval = _market(demo_market(n_strikes=3, n_expiries=1, risk_mode="revaluation"), tiers=(4, 16), groups=(2,))
    n_u, n_a, n_k, depth = reval.shape
    cases = [("one_circuit", wide, KeySet.dev(), _statement(wide, "avsl_n4_u2_a4_k16_d2_g8_stress")),
             ("revaluation", reval, KeySet.dev(), _statement(reval, f"avsl_n4_u{n_u}_a{n_a}_k{n_k}_d{depth}_g2_stress")),
             ("chunks", wide, KeySet.from_folder(_key_set(tmp_path / "keys", wide)),
              _statement(wide, "avsl_final_u2_a4_k16_stress", n_chunks=1, chunk_tier="avsl_chunk_c8_u2_d2_g16",
                         chunk_circuit_hash="0" * 64))]
    crashed = []
    for name, market, keys, statement in cases:
        try:
            read = read_submission(_folder(tmp_path, name, statement), market, None, keys)
        except ZksolvError as exc:
            crashed.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        assert read.refusal is not None and not read.refusal.valid
    assert not crashed, "read_submission raised instead of refusing: " + "; ".join(crashed)


def test_market_circuit_hashes_follow_the_venues_group_counts(tmp_path: Path) -> None:
    """Found in review and fixed (a key set's grouped keys escaped the circuit-hash check).
    ``market_circuit_hashes`` memoised by (shape, mode, tiers, chunk_sizes), not ``venue.groups``,
    though ``circuit_set`` now depends on it. A keeper that served a market without groups (any
    earlier epoch, or another venue of the same shape) then checks a market listing groups against
    the circuits of the first: its key set's ``_g`` keys are never compared with this installation's
    circuits, so a key of another (older, or unsound) grouped circuit was used. The memo now keys on
    ``venue.groups`` too."""
    from zksolv.verifier import submissions
    from zksolv.verifier.submissions import KeySet, market_circuit_hashes

    submissions._MARKET_CIRCUITS.clear()  # this test's own order: the market without groups first
    before = _market(tiers=(4, 16), chunk_sizes=(8,), chunk_counts=(1, 2, 3))
    after = _market(tiers=(4, 16), chunk_sizes=(8,), chunk_counts=(1, 2, 3), groups=(2,))
    grouped = "avsl_n4_u2_a4_k16_d2_g2_stress"
    market_circuit_hashes(before)
    folder = _key_set(tmp_path / "keys", after, wrong=(grouped,))
    keys = KeySet.from_folder(folder)
    missing = grouped not in market_circuit_hashes(after)
    try:
        keys.check_market(after)
        accepted = True
    except InputError as exc:
        assert "circuit hash" in str(exc)
        accepted = False
    assert not missing and not accepted, (
        "after a market without groups, the keeper's circuits for a market with groups "
        f"omit {grouped} and a key set listing it with a foreign circuit hash is accepted")


def test_the_default_group_count_reveals_what_the_docs_say_and_a_trader_can_reveal_less() -> None:
    """Found in review (privacy, documented since): ``prove``'s default (``groups_for`` ->
    ``cheapest_groups``) takes the *smallest* accepted G that holds the book, so under venue groups
    (2, 4) a ``_g4`` proof also says the book touches more than 2 groups. docs/design.md ("Grouped
    openings"), docs/soundness.md and zksolv/core/venue.py now state that interval; a trader who wants
    to reveal less proves with a larger listed count (or none), which the keeper accepts alike."""
    from zksolv.core.venue import __doc__ as venue_doc
    from zksolv.prover.prove import tier_for

    market = _market(tiers=(4, 16), groups=(2, 4))

    def book(indices: tuple[int, ...]) -> Account:
        return Account(tuple(Position(market.instruments[i].symbol, 10**6) for i in indices), {"USDC": 10**9}, 5)

    one_group, three_groups = book((0, 1, 2)), book((0, 9, 17))
    assert (tier_for(one_group, market, 16).groups, tier_for(three_groups, market, 16).groups) == (2, 4)
    assert "more than the next smaller count, at most G" in " ".join(venue_doc.split())
    hidden = tier_for(one_group, market, 16, groups=4)  # the one-group book in the three-group book's circuit
    assert hidden.name == tier_for(three_groups, market, 16).name
    assert market.venue.refusal(16, None, hidden.groups) is None


# ============================================================== prover / witness side (fast)
def _tree_market(n_instruments: int):  # noqa: ANN202
    """A validated greeks market of ``n_instruments`` listings (the tamper tests' generator)."""
    from tests.test_tamper import make_market
    from zksolv.toolchain.circuitgen import Tier

    depth = 1
    while ARITY**depth < n_instruments:
        depth += 1
    market = make_market(Tier(max(2, min(n_instruments, 64)), 2, 2, 4, depth, RiskMode.STRESS), 5)
    assert market.tree_depth == depth
    return market


@pytest.mark.parametrize("n_instruments", [5, 8, 9, 20, 65], ids=lambda n: f"listings{n}")
def test_slot_inputs_agree_with_the_reference_and_keep_errors_private(n_instruments: int) -> None:
    market = _tree_market(n_instruments)
    n = len(market.instruments)
    tree = cm.instrument_tree(market)
    rng = random.Random(n)
    for trial in range(25):
        capacity = rng.choice([2, 4, 8, 16])
        k = rng.randint(0, min(capacity, n))
        chosen = sorted(rng.sample(range(n), k), key=lambda i: market.instrument_ids[i])
        slots = [(i, rng.choice([-1, 1]) * rng.randint(1, 10**9)) for i in chosen]
        touched = groups_touched(i for i, _ in slots)
        for groups in {1, 2, 3, capacity} - {0}:
            if groups > capacity:
                continue
            cap = group_cap_height(groups, tree.depth)
            if touched > groups:
                with pytest.raises(InputError) as err:
                    slot_inputs(market, slots, capacity, cap, groups)
                text = str(err.value)  # counts only: no symbol, identity, index or quantity of the book
                assert all(market.instruments[i].symbol not in text and str(market.instrument_ids[i]) not in text
                           and str(abs(q)) not in text for i, q in slots), text
                continue
            inputs = slot_inputs(market, slots, capacity, cap, groups)
            indices = [int(g) for g in inputs["group_index"]]
            assert indices == leaf_groups([i for i, _ in slots], groups)
            assert all(0 <= g < ARITY ** (tree.depth - 1) for g in indices)
            opened = [([int(x) for x in c], g, [[int(x) for x in lv] for lv in p])
                      for c, g, p in zip(inputs["group"], indices, inputs["group_path"])]
            assert all(len(p) == tree.depth - 1 - cap for _, _, p in opened)
            ids = [int(x) for x in inputs["instrument_id"]]
            leaves = [cm.instrument_leaf(x, market.instruments[market.instrument_ids.index(x)]) for x in ids]
            assert 0 not in leaves
            assert root_from_groups(leaves, opened, [int(x) for x in inputs["cap"]]) == tree.root  # padding too
            assert [int(q) for q in inputs["q"]] == [q % P for _, q in slots] + [0] * (capacity - len(slots))
            # the leaf fields written are the listing's own (a slot opens the leaf its identity names)
            for j, x in enumerate(ids):
                ins = market.instruments[market.instrument_ids.index(x)]
                assert [int(inputs[f][j]) for f in ("underlying", "mark", "delta", "gamma", "vega")] == \
                    [fp.to_field(v) for v in (ins.underlying, ins.mark, ins.delta, ins.gamma, ins.vega)]


def test_the_prover_never_picks_a_group_count_that_cannot_hold_the_book() -> None:
    from zksolv.prover.chunks import chunk_groups_touched
    from zksolv.prover.prove import groups_for, tier_for

    market = _market(tiers=(4, 16), chunk_sizes=(8, 16), chunk_counts=(1, 2, 3), groups=(1, 2, 3))
    reval = _market(demo_market(n_strikes=3, n_expiries=1, risk_mode="revaluation"), tiers=(4, 16), groups=(2,))
    rng = random.Random(3)
    for _ in range(60):
        k = rng.randint(0, 16)
        indices = tuple(sorted(rng.sample(range(20), k)))
        acc = Account(tuple(Position(market.instruments[i].symbol, 10**6) for i in indices), {"USDC": 10**9}, 5)
        tier = tier_for(acc, market)
        if tier is not None:
            touched = groups_touched(indices)
            assert tier.groups == 0 or touched <= tier.groups <= tier.n_positions
            assert tier.groups in (0, *market.venue.groups)
        for size in (8, 16):
            g = groups_for(market, chunk_groups_touched(acc, market, size), size)
            assert g == 0 or chunk_groups_touched(acc, market, size) <= g <= size
        racc = Account(tuple(Position(reval.instruments[i].symbol, 10**6) for i in indices[:4]), {"USDC": 10**9}, 5)
        assert reval.params.risk_mode.is_revaluation and (tier_for(racc, reval, 4).groups == 0)


# ============================================================== whole grouped tiers (slow)
def _compile(tier):  # noqa: ANN001, ANN202
    from zksolv.toolchain.artifacts import compile_tier

    return compile_tier(tier)[1]


def _errors(compiled, batch: list[dict[str, Any]]) -> list[str | None]:  # noqa: ANN001
    from tests.witness_batch import run_batch

    return [None if r["ok"] else r["error"] for r in run_batch(compiled, batch)]


def _forged(market, index: int, factor: int = 30):  # noqa: ANN001, ANN202
    ins = market.instruments[index]
    return dataclasses.replace(market, instruments=tuple(
        dataclasses.replace(x, mark=x.mark * factor) if i == index else x for i, x in enumerate(market.instruments)))


def _set(inputs: dict[str, Any], field: str, j: int, value: Any) -> dict[str, Any]:
    row = list(inputs[field])
    row[j] = value
    return {**inputs, field: row}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["stress_g2_d2", "var_g3_d3"])
def test_grouped_tier_opens_only_the_committed_listings(name: str) -> None:
    from tests.test_tamper import make_market, solvent_account

    tier = SOUNDNESS_TIERS[name]
    market = make_market(tier, 31)
    tree = cm.instrument_tree(market)
    n = len(market.instruments)
    levels = tree.depth - 1 - tier.cap
    compiled = _compile(tier)

    # honest: positions in G distinct groups (group 0 holds several)
    slots = [(n - 1, -3 * 10**6), (1, -4 * 10**6), (2, 5 * 10**5)][: tier.groups + 1]
    if tier.groups == 3:
        slots[2] = (ARITY + 1, 5 * 10**5)
    balances, result = solvent_account(market, slots)
    honest = build_inputs(market, tier, slots, balances, 7, result)
    assert len({int(g) for g in honest["group_index"]}) == tier.groups
    ids = [int(x) for x in honest["instrument_id"]]
    pad = len(slots)                                      # the first padding slot (q = 0)
    group_j = [int(g) for g in honest["group_index"]].index(group_of(n - 1))

    # an insolvent long made solvent by a forged mark, however the forger fills the private opening
    long = [(n - 1, 10**6)]
    forged_market = _forged(market, n - 1)
    zero = model.evaluate(forged_market, long, [0] * len(market.collateral))
    usd = max(0, fp.ceil_div(fp.ceil_div(zero.req_raw, fp.RATIO_SCALE) - zero.nav_raw, 10**12)) + 1
    thin = [usd] + [0] * (len(market.collateral) - 1)
    assert model.evaluate(forged_market, long, thin).solvent and not model.evaluate(market, long, thin).solvent
    own = build_inputs(forged_market, tier, long, thin, 7, model.evaluate(forged_market, long, thin))
    real_market = {**own, "market_root": str(cm.market_root(market))}
    real_tree = {**real_market, "instruments_root": str(tree.root)}
    real_cap = {**real_tree, "cap": [str(x) for x in tree.cap(tier.cap)]}
    real_groups = {**real_cap, "group": [[str(x) for x in tree.children(int(g))] for g in own["group_index"]],
                   "group_path": [[[str(x) for x in lv] for lv in tree.path(int(g), levels, level=1)]
                                  for g in own["group_index"]]}
    # another market's group (a market the venue might publish later), with this market's cap
    other_tree = cm.instrument_tree(forged_market)
    foreign = {**real_cap, "group": [[str(x) for x in other_tree.children(int(g))] for g in own["group_index"]],
               "group_path": [[[str(x) for x in lv] for lv in tree.path(int(g), levels, level=1)]
                              for g in own["group_index"]]}

    # a real leaf of the same group (listing 0, next to listing 1) under the slot's identity
    i1 = ids.index(market.instrument_ids[1])
    ins = market.instruments[0]
    neighbour = dict(honest)
    for field in ("underlying", "mark", "delta", "gamma", "vega"):
        neighbour = _set(neighbour, field, i1, str(fp.to_field(getattr(ins, field))))
    neighbour_id = _set(neighbour, "instrument_id", i1, str(market.instrument_ids[0]))  # ... and its identity
    # level confusion: a group whose children are the nodes one level up (the cap's, or a node's)
    internal = [str(x) for x in tree.cap(tree.depth - 1)[:ARITY]]  # the first 8 nodes one level up
    confused = _set(honest, "group", group_j, internal)
    # aliased group indices: + 8^(DEPTH-1) and p - 8^(DEPTH-1) + index
    shift = ARITY ** (tree.depth - 1)
    alias = _set(honest, "group_index", group_j, str(int(honest["group_index"][group_j]) + shift))
    wrap = _set(honest, "group_index", group_j, str((int(honest["group_index"][group_j]) - shift) % P))
    # every group the first one (duplicates only): the other groups' slots have nowhere to open
    dup = {**honest, "group": [honest["group"][0]] * tier.groups, "group_index": [honest["group_index"][0]] * tier.groups,
           "group_path": [honest["group_path"][0]] * tier.groups}
    batch = {
        "honest": honest, "own": own,
        "real_market": real_market, "real_tree": real_tree, "real_cap": real_cap, "real_groups": real_groups,
        "foreign_group": foreign,
        "padding_mark": _set(honest, "mark", pad, str(int(honest["mark"][pad]) + 1)),
        "padding_id": _set(honest, "instrument_id", pad, "12345"),
        "neighbour_fields": neighbour, "neighbour_identity": neighbour_id,
        "internal_group": confused, "alias": alias, "wrap": wrap, "duplicate_groups": dup,
        "reversed_groups": {**honest, **{f: honest[f][::-1] for f in ("group", "group_index", "group_path")}},
    }
    errors = dict(zip(batch, _errors(compiled, list(batch.values()))))
    assert errors["honest"] is None and errors["reversed_groups"] is None  # group order is free, and harmless
    assert errors["own"] is None                                           # the forger's market is consistent ...
    assert "AvslSolvency" in errors["real_market"] and "Grouped" not in errors["real_market"]  # ... not the epoch's
    expected = {"real_tree": "GroupedOpenings",         # the cap hashes to instruments_root
                "real_cap": "MerkleCapInclusion",       # a forged group node does not climb to its cap node
                "real_groups": "GroupedOpenings",       # the forged leaf is no child of a real group
                "foreign_group": "MerkleCapInclusion",  # another market's group is not under this cap
                "padding_mark": "GroupedOpenings", "padding_id": "GroupedOpenings",  # q = 0 opens a real leaf too
                "neighbour_fields": "GroupedOpenings",  # the identity is in the leaf: no other leaf's fields
                "internal_group": "MerkleCapInclusion", "alias": "Num2Bits", "wrap": "Num2Bits",
                "duplicate_groups": "GroupedOpenings"}
    for case, where in expected.items():
        assert errors[case] is not None and where in errors[case], (case, errors[case])
    # a real leaf under its own identity is another position: the commitment refuses it
    assert errors["neighbour_identity"] is not None and "AvslSolvency" in errors["neighbour_identity"] \
        and "Grouped" not in errors["neighbour_identity"]


@pytest.mark.slow
def test_a_leaf_cannot_be_an_internal_node_through_a_group_of_internal_nodes() -> None:
    """Level confusion in the stand-alone template (DEPTH 3, G 3, cap 1: one climbed level): a "leaf"
    equal to a node one level up, opened through a "group" whose children are nodes one level up (a
    node two levels up) at any index and with any of the tree's sibling rows, has no witness; nor does
    a leaf equal to a group node itself, nor the cap's own nodes as a group."""
    depth, g = 3, 3
    cap = group_cap_height(g, depth)
    assert cap == 1
    h = StandaloneCircuit(f"grouped_go_2_{g}_{depth}_{cap}",  # the harness test_grouped_openings compiles
                          f'include "merkle.circom";\ncomponent main = GroupedOpenings(2, {g}, {depth}, {cap});\n')
    leaves = [1000 + 7 * i for i in range(ARITY**depth - 3)]
    tree = MerkleTree(leaves, depth=depth)
    real = [(tree.children(x), x, tree.path(x, depth - 1 - cap, level=1)) for x in (0, 9, 63)]

    def inputs(leaf: list[int], groups) -> dict[str, Any]:  # noqa: ANN001
        return {"root": str(tree.root), "cap": [str(x) for x in tree.cap(cap)], "leaf": [str(x % P) for x in leaf],
                "group": [[str(x % P) for x in c] for c, _, _ in groups],
                "group_index": [str(i % P) for _, i, _ in groups],
                "group_path": [[[str(x % P) for x in lv] for lv in p] for _, _, p in groups]}

    ok = inputs([leaves[0], leaves[ARITY * 9]], real)
    bad = []
    for a in (0, 1, 7):  # the node two levels up numbered a: its children are nodes one level up
        up = tree.levels[1][ARITY * a: ARITY * a + ARITY]
        for index in (a, ARITY * a, a + 1):
            for path in (tree.path(a, 1, level=2), tree.path(ARITY * a, 1, level=1), tree.path(index % 64, 1, level=1)):
                bad.append(inputs([up[1], leaves[0]], [(up, index, path), *real[1:]]))
    bad.append(inputs([tree.levels[1][9], leaves[0]], real))                      # a group node as a leaf
    bad.append(inputs([tree.levels[2][0], leaves[0]], real))                      # a cap node as a leaf
    bad.append(inputs([tree.cap(cap)[0], leaves[0]], [(tree.cap(cap), 0, [[0] * 7]), *real[1:]]))
    results = h.run([ok, *bad])
    assert results[0] is not None
    assert all(w is None for w in results[1:])
