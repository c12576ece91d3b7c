"""Grouped openings (``GroupedOpenings`` in circuits/merkle.circom) and their Python reference
(``leaf_groups``, ``MerkleTree.children``, ``path(..., level=1)``, ``root_from_groups``,
``grouped_opening_constraints`` in zksolv/core/merkle.py).

A circuit opens G groups (nodes one level above the leaves) once each, through the tree's cap, and
every leaf it needs proves it is one of the groups' children by a vanishing product. The fast tests
pin the reference; the slow ones compile stand-alone harnesses at the edge shapes and check, against
the reference, that every leaf of every opened group opens, that no other value does (a leaf of an
unopened group, a forged leaf, a group at the wrong index, another tree's group), that the constraint
count is the cost model's, and that no wire is free.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.witness_batch import StandaloneCircuit, tamper_survivors
from zksolv.core import fixedpoint as fp
from zksolv.core.merkle import (ARITY, MerkleTree, cap_height, group_cap_height, group_of, grouped_opening_constraints,
                                leaf_groups, opening_constraints, root_from_groups)
from zksolv.core.poseidon import poseidon
from zksolv.toolchain import r1cs as R

P = fp.FIELD_MODULUS


def _tree(depth: int, empty: int = 3, base: int = 1000) -> tuple[MerkleTree, list[int]]:
    """A full-width tree of ``depth`` whose last ``empty`` leaves are empty (0)."""
    leaves = [base + 7 * i for i in range(ARITY**depth - empty)]
    return MerkleTree(leaves, depth=depth), leaves + [0] * empty


def _groups(tree: MerkleTree, ids: list[int]) -> list[tuple[list[int], int, list[list[int]]]]:
    cap = group_cap_height(len(ids), tree.depth)
    return [(tree.children(g), g, tree.path(g, tree.depth - 1 - cap, level=1)) for g in ids]


# ============================================================== Python reference (fast)
def test_leaf_groups_are_the_distinct_parents_padded_with_the_first() -> None:
    assert leaf_groups([17, 3, 9, 16, 2], 4) == [0, 1, 2, 0]
    assert leaf_groups([], 2) == [0, 0]
    assert leaf_groups([63], 1) == [7]
    assert [group_of(i) for i in (0, 7, 8, 511)] == [0, 0, 1, 63]
    with pytest.raises(ValueError, match="3 groups of 8, more than the circuit's 2"):
        leaf_groups([0, 8, 16], 2)
    with pytest.raises(ValueError, match="n_groups"):
        leaf_groups([0], 0)


def test_children_and_node_paths_rebuild_the_root() -> None:
    tree, leaves = _tree(3)
    for g in (0, 5, 63):
        children = tree.children(g)
        assert children == leaves[ARITY * g : ARITY * g + ARITY]
        node = poseidon(children)
        assert node == tree.levels[1][g]
        # the node's full path from height 1, as MerkleInclusion(DEPTH - 1) climbs it
        from zksolv.core.merkle import root_from_path

        assert root_from_path(node, g, tree.path(g, level=1)) == tree.root
    with pytest.raises(IndexError):
        tree.children(64)
    with pytest.raises(IndexError):
        tree.path(64, level=1)
    with pytest.raises(ValueError, match="outside 0..2"):
        tree.path(0, 3, level=1)


def test_cost_model_and_cap_height() -> None:
    for depth in range(1, fp.MAX_TREE_DEPTH + 1):
        for g in (1, 2, 8, 16, 64):
            assert group_cap_height(g, depth) == cap_height(g, depth - 1)
    # D = 4, 64 leaves in 16 groups: 127 per leaf, the groups once; against 901 per leaf through the cap
    grouped = grouped_opening_constraints(64, 16, 4)
    assert grouped == 64 * 127 + 16 * 402 + opening_constraints(16, 3, 2)
    assert grouped / 64 < 410 < opening_constraints(64, 4, cap_height(64, 4)) / 64 - 490


def test_reference_opens_every_member_and_nothing_else() -> None:
    tree, leaves = _tree(3)
    ids = [1, 6, 40]
    cap = tree.cap(group_cap_height(len(ids), tree.depth))
    groups = _groups(tree, ids)
    members = [leaves[ARITY * g + k] for g in ids for k in range(ARITY)]
    assert root_from_groups(members, groups, cap) == tree.root
    with pytest.raises(ValueError, match="leaf 1 is in none"):
        root_from_groups([members[0], leaves[0]], groups, cap)          # a leaf of an unopened group
    with pytest.raises(ValueError, match="leaf 0 is in none"):
        root_from_groups([members[0] + 1], groups, cap)                  # a forged leaf
    moved = [groups[0], (groups[1][0], groups[1][1] + 1, groups[1][2]), groups[2]]
    with pytest.raises(ValueError, match="group 1: .*cap node"):
        root_from_groups(members[:1], moved, cap)                        # a group at another index
    forged = [(groups[0][0][:-1] + [groups[0][0][-1] + 1], groups[0][1], groups[0][2])]
    with pytest.raises(ValueError, match="group 0"):
        root_from_groups(members[:1], forged, cap)                       # a forged child


# ============================================================== stand-alone circuit (slow)
def Harness(name: str, main: str) -> StandaloneCircuit:  # noqa: N802 — reads like the class it builds
    """A stand-alone ``component main = <main>`` over circuits/merkle.circom, compiled once."""
    return StandaloneCircuit(f"grouped_{name}", f'include "merkle.circom";\ncomponent main = {main};\n')


def _inputs(tree: MerkleTree, cap: int, leaves: list[int], groups) -> dict[str, Any]:  # noqa: ANN001
    return {"root": str(tree.root), "cap": [str(x) for x in tree.cap(cap)], "leaf": [str(x % P) for x in leaves],
            "group": [[str(x % P) for x in c] for c, _, _ in groups], "group_index": [str(i % P) for _, i, _ in groups],
            "group_path": [[[str(x % P) for x in level] for level in path] for _, _, path in groups]}


@pytest.mark.slow
@pytest.mark.parametrize(("n", "g", "depth"), [(2, 1, 1), (3, 2, 2), (2, 3, 3), (2, 10, 3)],
                         ids=["depth1_root_group", "cap1_no_level", "cap1_one_level", "cap2_no_level"])
def test_grouped_openings_at_the_edge_shapes(n: int, g: int, depth: int) -> None:
    cap = group_cap_height(g, depth)
    h = Harness(f"go_{n}_{g}_{depth}_{cap}", f"GroupedOpenings({n}, {g}, {depth}, {cap})")
    assert h.compiled.n_constraints == grouped_opening_constraints(n, g, depth)
    tree, leaves = _tree(depth)
    n_groups = ARITY ** (depth - 1)
    rng = random.Random(11)
    ids = sorted(rng.sample(range(n_groups), min(g, n_groups)))
    ids += [ids[0]] * (g - len(ids))  # unused slots repeat a used group, as leaf_groups pads
    groups = _groups(tree, ids)
    members = [leaves[ARITY * x + k] for x in ids for k in range(ARITY)]
    others = [v for i, v in enumerate(leaves) if group_of(i) not in ids and v != 0]

    good = [_inputs(tree, cap, [m] + members[:n - 1], groups) for m in members]
    witnesses = h.run(good)
    assert all(w is not None for w in witnesses)
    for m in members:  # the reference agrees on every member
        assert root_from_groups([m], groups, tree.cap(cap)) == tree.root
    w = witnesses[1]
    assert R.check(h.r1cs, w) == []
    for wire in range(1, h.r1cs.n_wires):  # nothing free: children, indices, paths, products
        assert R.tamper_rejected(h.r1cs, w, wire, w[wire] + 1, h.touching), h.names.get(wire)
        assert R.tamper_rejected(h.r1cs, w, wire, rng.randrange(P), h.touching), h.names.get(wire)

    bad = [_inputs(tree, cap, [x] + members[:n - 1], groups) for x in others[:12]]           # unopened groups
    bad += [_inputs(tree, cap, [members[0] + 1] + members[:n - 1], groups)]                   # a forged leaf
    bad += [_inputs(tree, cap, members[:n], [(c, i + s, p) for c, i, p in groups])             # a group moved
            for s in (1, n_groups, P - n_groups) if n_groups > 1 or s != 1]
    other, _ = _tree(depth, base=5000)                                                        # another tree's group
    bad += [_inputs(tree, cap, [other.children(ids[0])[0]] + members[:n - 1],
                    [(other.children(ids[0]), ids[0], groups[0][2]), *groups[1:]])]
    assert all(w is None for w in h.run(bad))
    for leaf in [x for x in others[:3]] + [members[0] + 1]:
        with pytest.raises(ValueError, match="in none"):
            root_from_groups([leaf], groups, tree.cap(cap))


@pytest.mark.slow
def test_the_empty_leaf_is_a_member_of_a_part_empty_group() -> None:
    """The caller's obligation, shown: the empty leaf 0 is a child of a part-empty group, so a slot
    whose leaf could be 0 would open "nothing". ``PositionSlots`` feeds ``InstrumentLeaf`` outputs
    (Poseidon), which are 0 only for a preimage of 0."""
    cap = group_cap_height(1, 2)
    h = Harness(f"go_2_1_2_{cap}", f"GroupedOpenings(2, 1, 2, {cap})")
    tree, leaves = _tree(2, empty=3)
    groups = _groups(tree, [ARITY - 1])  # the last group holds the three empty leaves
    (w,) = h.run([_inputs(tree, cap, [0, leaves[-4]], groups)])
    assert w is not None
    assert root_from_groups([0], groups, tree.cap(cap)) == tree.root


# ============================================================== grouped circuits: names, policy, inputs (fast)
def _market(groups: tuple[int, ...] = (2, 4), **kw: Any):  # noqa: ANN202
    import dataclasses

    from zksolv.app.demo import demo_market
    from zksolv.core.venue import VenuePolicy

    market = demo_market(n_strikes=3, n_expiries=1, **kw)  # 20 instruments, depth 2: 3 groups of 8
    return dataclasses.replace(market, venue=VenuePolicy(tiers=(4, 16), groups=groups))


def test_grouped_names_round_trip_and_refuse_what_has_no_circuit() -> None:
    from zksolv.core.errors import InputError, MalformedFieldError
    from zksolv.core.market import RiskMode
    from zksolv.proofs.circuit_names import TierName, parse_circuit_name
    from zksolv.toolchain.circuitgen import ChunkTier, Tier

    tier = Tier(64, 2, 4, 16, 4, RiskMode.STRESS, 16)
    assert tier.name == "avsl_n64_u2_a4_k16_d4_g16_stress" and Tier.parse(tier.name) == tier
    assert tier.template_args == (64, 2, 4, 16, 4, group_cap_height(16, 4), 16, RiskMode.STRESS.code)
    chunk = ChunkTier(64, 2, 4, groups=16)
    assert chunk.name == "avsl_chunk_c64_u2_d4_g16" and ChunkTier.parse(chunk.name) == chunk
    assert chunk.template_args == (64, 2, 4, group_cap_height(16, 4), 16)
    assert parse_circuit_name("avsl_n64_u2_a4_k16_d4_stress").groups == 0
    for bad in ("avsl_n64_u2_a4_k16_d4_g0_stress", "avsl_n64_u2_a4_k16_d4_g16_revaluation",
                "avsl_chunk_c64_u2_d4_g16_k16_revaluation", "avsl_chunk_c64_u2_d4_g01"):
        with pytest.raises(MalformedFieldError):
            parse_circuit_name(bad)
    with pytest.raises(InputError, match="tier.groups"):
        Tier(4, 2, 4, 16, 4, RiskMode.STRESS, 5)  # more groups than slots
    with pytest.raises(InputError, match="greeks modes only"):
        TierName(4, 2, 4, 16, 4, RiskMode.REVALUATION, 2)


def test_venue_lists_group_counts_and_keepers_refuse_others() -> None:
    from zksolv.core.errors import InputError
    from zksolv.core.venue import DEFAULT_POLICY, VenuePolicy
    from zksolv.toolchain.circuitgen import circuit_set

    assert DEFAULT_POLICY.groups == () and "groups" not in DEFAULT_POLICY.to_dict()  # pins of old policies hold
    policy = VenuePolicy.from_dict({"tiers": [4, 16], "groups": [2, 4]})
    assert policy.groups == (2, 4) and VenuePolicy.from_dict(policy.to_dict()) == policy
    assert policy.refusal(4, None, 2) is None and policy.refusal(4) is None
    assert "accepts groups [2, 4] only" in policy.refusal(4, None, 3)
    assert "no grouped circuits" in DEFAULT_POLICY.refusal(4, None, 2)
    with pytest.raises(InputError, match="venue.groups"):
        VenuePolicy.from_dict({"groups": [4, 2]})
    market = _market()
    names = [s.name for s in circuit_set(market, chunks=True)]
    assert "avsl_n4_u2_a4_k16_d2_g2_stress" in names and "avsl_n16_u2_a4_k16_d2_g4_stress" in names
    assert "avsl_chunk_c64_u2_d2_g4" in names and "avsl_chunk_c32_u2_d2_g2" in names
    reval = circuit_set(_market(risk_mode="revaluation"), chunks=True)
    assert all(getattr(s, "groups", 0) == 0 for s in reval)


def test_the_prover_picks_the_cheapest_accepted_grouping() -> None:
    from zksolv.core.account import Account, Position
    from zksolv.core.merkle import cheapest_groups
    from zksolv.prover.prove import tier_for

    market = _market()
    ids = market.instrument_ids

    def book(indices: tuple[int, ...]) -> Account:
        return Account(tuple(Position(market.instruments[i].symbol, 10**6) for i in indices), {"USDC": 10**9}, 5)

    clustered, spread = book((0, 1, 2)), book((0, 9, 17))
    assert tier_for(clustered, market).groups == 2       # one group touched: the smallest accepted count
    assert tier_for(spread, market).groups == 0          # three groups: 4 would hold them, but costs more
    assert tier_for(spread, market, 16).groups == 4      # ... than a path each at N = 4, not at N = 16
    assert tier_for(spread, market, 16, groups=0).groups == 0
    assert tier_for(spread, _market(groups=(2,)), 16).groups == 0  # no accepted count holds it: a path each
    assert len(ids) == 20
    # grouping is used only where it is cheaper: G = N at depth 4 costs more than the cap
    assert cheapest_groups(64, [64], 64, 4) == 0 and cheapest_groups(12, [16], 64, 4) == 16


def test_grouped_slot_inputs_open_every_slot_and_refuse_too_many_groups() -> None:
    from zksolv.core import commitments as cm
    from zksolv.core.errors import InputError
    from zksolv.prover.witness import slot_inputs

    market = _market()
    tree = cm.instrument_tree(market)
    for slots in ([(9, 3), (12, -2)], [], [(19, 1), (0, 2), (8, -1)]):
        cap = group_cap_height(4, tree.depth)
        inputs = slot_inputs(market, slots, 4, cap, 4)
        groups = [([int(x) for x in c], int(i), [[int(x) for x in lv] for lv in p])
                  for c, i, p in zip(inputs["group"], inputs["group_index"], inputs["group_path"])]
        assert "leaf_index" not in inputs and "path" not in inputs
        leaves = [cm.instrument_leaf(int(i), market.instruments[market.instrument_ids.index(int(i))])
                  for i in inputs["instrument_id"]]
        assert root_from_groups(leaves, groups, [int(x) for x in inputs["cap"]]) == tree.root  # padding too
        assert [int(q) for q in inputs["q"][len(slots):]] == [0] * (4 - len(slots))
    with pytest.raises(InputError, match="positions: the leaves lie in 3 groups of 8, more than the circuit's 2"):
        slot_inputs(market, [(19, 1), (0, 2), (8, -1)], 4, group_cap_height(2, tree.depth), 2)


# ============================================================== grouped proofs end to end (slow)
def _clustered_book(market, indices, salt: int = 0x6A0):  # noqa: ANN001, ANN202
    from zksolv.core.account import Account, Position

    return Account(tuple(Position(market.instruments[i].symbol, (-1) ** i * (i + 1) * 10**5) for i in indices),
                   {"USDC": 10**7 * 10**6, "BTC": 3 * 10**6}, salt).validated()


@pytest.mark.slow
def test_grouped_proofs_verify_and_keepers_hold_the_venue_to_its_groups(tmp_path) -> None:  # noqa: ANN001
    import dataclasses
    import warnings

    from zksolv.core import commitments as cm
    from zksolv.core.venue import VenuePolicy
    from zksolv.prover.chunks import plan_chunks
    from zksolv.prover.prove import prove
    from zksolv.toolchain.artifacts import compile_tier
    from zksolv.verifier.chunked import verify_chunked
    from zksolv.verifier.verify import policy_refusal, verify

    base = _market()
    market = dataclasses.replace(base, venue=VenuePolicy(tiers=(4, 16), chunk_sizes=(8,), chunk_counts=(1, 2, 3),
                                                         groups=(2,))).validated()
    acc = _clustered_book(market, range(3, 15))  # 12 positions in groups 0 and 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = prove(acc, market)
        chunked = prove(acc, market, chunk_size=8, workers=1)
        plain = prove(acc, market, groups=0)
    commitment = cm.account_commitment_of(acc, market)
    assert one.statement.tier == "avsl_n16_u2_a4_k16_d2_g2_stress" and one.statement.groups == 2
    assert plain.statement.tier == "avsl_n16_u2_a4_k16_d2_stress"
    assert chunked.statement.chunk_tier == "avsl_chunk_c8_u2_d2_g2" and chunked.statement.n_chunks == 2
    assert one.public == plain.public == chunked.public[:2]  # the same commitment and root, whichever circuit
    for bundle in (one, plain):
        v = verify(bundle.proof, bundle.public, market, bundle.verification_key, account_commitment=commitment,
                   statement=bundle.statement)
        assert v.valid, v.reason
    v = verify_chunked(chunked.chunks, chunked.proof, chunked.public, market, chunked.verification_key,
                       chunked.chunk_verification_key, account_commitment=commitment, statement=chunked.statement)
    assert v.valid, v.reason
    # a venue that does not accept grouped circuits (or not this count): refused before any key or pairing
    for venue in (dataclasses.replace(market.venue, groups=()), dataclasses.replace(market.venue, groups=(4,))):
        other = dataclasses.replace(market, venue=venue)
        for bundle in (one, chunked):
            assert "grouped openings through 2 groups" in policy_refusal(other, bundle.statement)
        v = verify(one.proof, one.public, other, one.verification_key, statement=one.statement)
        assert not v.valid and "grouped openings" in v.reason
    # the grouped proof under the plain circuit's key, and the other way round: the pairing refuses
    assert not verify(one.proof, one.public, market, plain.verification_key).valid
    assert not verify(plain.proof, plain.public, market, one.verification_key).valid

    # every wire of a grouped chunk witness is bound (chunk 1 holds 4 positions: 4 empty slots)
    plan = plan_chunks(acc, market, 8, groups=2)
    compiled = compile_tier(plan.chunk_tier)[1]
    assert tamper_survivors(compiled, plan.chunk_inputs[0], tmp_path) == []
    padded = tamper_survivors(compiled, plan.chunk_inputs[1], tmp_path)
    assert sorted(padded) == [f"main.slots.pos[{j}].e.zero.inv" for j in (4, 5, 6, 7)], padded
    # a book whose chunk lies in more groups than the circuit's is refused before any work
    spread = _clustered_book(market, (0, 9, 17, 1, 2, 3, 4, 5))
    with pytest.raises(Exception, match="lies in 3 groups of 8 listings, more than the chunk circuit's 2"):
        plan_chunks(spread, market, 8, groups=2)
