"""The circuit-name grammar (zksolv/proofs/circuit_names.py): one owner for rendering and parsing.

Every name the project produces (the circuits of every demo market's venue, tiers and chunked,
and a sweep over the circuit bounds) parses back to the same shape and renders to the same
text; malformed names are refused with a MalformedFieldError naming the field, before any
file is touched (names become file names on the keeper's machine).
"""

from __future__ import annotations

import functools
import json
import random
from pathlib import Path

import pytest

from zksolv.core import fixedpoint as fp
from zksolv.core.errors import InputError, MalformedFieldError, VerificationError
from zksolv.core.market import RiskMode
from zksolv.proofs.circuit_names import (ChunkName, FinalName, TierName, parse_chunk_capacity, parse_circuit_name,
                                         parse_tier_name)
from zksolv.toolchain.circuitgen import ChunkTier, FinalTier, Tier, circuit_set


@functools.lru_cache(maxsize=1)
def _demo_circuits() -> tuple[Tier | ChunkTier | FinalTier, ...]:
    """What `zksolv setup --chunks` builds for the demo market of every risk mode."""
    from zksolv.app.demo import demo_market

    out = []
    for mode in RiskMode:
        market = demo_market(7, mode.value, n_strikes=3, n_expiries=2, mc_scenarios=16)
        out += circuit_set(market, chunks=True)
    return tuple(out)


def _swept_circuits(n: int = 300) -> list[Tier | ChunkTier | FinalTier]:
    """Shapes across the circuits' bounds (extremes included), seeded."""
    rng = random.Random(22)
    block = fp.MAX_POSITIONS // 16  # a multiple of the commitment's entry block

    def dim(hi: int) -> int:
        return rng.choice([1, hi, rng.randint(1, hi)])

    out: list[Tier | ChunkTier | FinalTier] = []
    for _ in range(n):
        mode = rng.choice(list(RiskMode))
        u, a, k, d = dim(fp.MAX_UNDERLYINGS), dim(fp.MAX_COLLATERAL), dim(fp.MAX_SCENARIOS), dim(fp.MAX_TREE_DEPTH)
        out.append(Tier(dim(fp.MAX_POSITIONS), u, a, k, d, mode))
        out.append(FinalTier(u, a, k, mode))
        capacity = block * rng.randint(1, 16)
        out.append(ChunkTier(capacity, u, d, k, mode) if mode.is_revaluation else ChunkTier(capacity, u, d))
    return out


@pytest.fixture(scope="module")
def produced() -> list[Tier | ChunkTier | FinalTier]:
    return [*_demo_circuits(), *_swept_circuits()]


def test_every_produced_name_round_trips(produced: list[Tier | ChunkTier | FinalTier]) -> None:
    kinds = {Tier: TierName, ChunkTier: ChunkName, FinalTier: FinalName}
    seen = set()
    for shape in produced:
        text = shape.name
        parsed = parse_circuit_name(text)
        assert type(parsed) is kinds[type(shape)], text
        assert parsed.name == text  # render(parse(x)) == x
        assert type(shape).parse(text) == shape  # the circuit shape a name states, with its own bounds
        seen.add(type(parsed))
    assert seen == {TierName, ChunkName, FinalName}
    # the demo venue: every mode, a revaluation chunk among them
    names = {s.name for s in _demo_circuits()}
    assert any(n.endswith("_revaluation") and n.startswith("avsl_chunk_") for n in names), names


def test_names_are_the_documented_spelling() -> None:
    assert Tier(8, 2, 4, 16, 4, RiskMode.STRESS).name == "avsl_n8_u2_a4_k16_d4_stress"
    assert ChunkTier(64, 2, 6).name == "avsl_chunk_c64_u2_d6"
    assert ChunkTier(64, 2, 6, 16, RiskMode.REVALUATION).name == "avsl_chunk_c64_u2_d6_k16_revaluation"
    assert FinalTier(2, 4, 16, RiskMode.VAR).name == "avsl_final_u2_a4_k16_var"
    # a name type and its circuit shape render alike, and parse helpers agree
    assert TierName(8, 2, 4, 16, 4, RiskMode.ES).name == Tier(8, 2, 4, 16, 4, RiskMode.ES).name
    assert parse_tier_name("avsl_n8_u2_a4_k16_d4_es") == TierName(8, 2, 4, 16, 4, RiskMode.ES)
    assert parse_chunk_capacity("avsl_chunk_c64_u2_d6_k16_revaluation") == 64


@pytest.mark.parametrize("text", [
    "avsl_n08_u2_a4_k16_d4_stress",       # leading zero: a second spelling
    "avsl_n0_u2_a4_k16_d4_stress",        # zero dimension
    "avsl_n1234567_u2_a4_k16_d4_stress",  # seven digits
    "avsl_n8_u2_a4_k16_d4_Stress",
    "avsl_n8_u2_a4_k16_d4_span",          # unknown mode
    "avsl_n8_u2_a4_k16_d4_stress\n",      # fullmatch, not $
    " avsl_n8_u2_a4_k16_d4_stress",
    "avsl_n٣_u2_a4_k16_d4_stress",        # non-ASCII digit
    "avsl_n8_u2_a4_k16_d4_stress/../../x",
    "avsl_n8_u2_a4_k16_stress",           # a dimension missing
    "avsl_chunk_c64_u2_d6_k16_stress",    # only a revaluation chunk states K and a mode
    "avsl_chunk_c64_u2_d6_k16",
    "avsl_chunk_c64_u2",
    "avsl_final_u2_a4_k16",
    "avsl_final_u2_a4_k16_d4_stress",
    "manifest", "", "a" * 200,
])
def test_malformed_names_are_refused_naming_the_field(text: str) -> None:
    with pytest.raises(MalformedFieldError, match=r"^statement\.tier: not a circuit name \(one of avsl_n<N>"):
        parse_circuit_name(text, "statement.tier")


@pytest.mark.parametrize("value", [None, 8, b"avsl_n8_u2_a4_k16_d4_stress", ["avsl_n8_u2_a4_k16_d4_stress"]])
def test_non_strings_are_refused(value: object) -> None:
    with pytest.raises(MalformedFieldError, match=r"^tier: not a tier name of the form avsl_n<N>_u<U>_a<A>_k<K>_d<D>\[_g<G>\]_<mode>$"):
        TierName.parse(value)
    with pytest.raises(MalformedFieldError):
        parse_circuit_name(value)


def test_each_parser_names_its_own_form() -> None:
    with pytest.raises(MalformedFieldError, match=r"^x: not a chunk tier name of the form avsl_chunk_c<C>_u<U>_d<D>"):
        ChunkName.parse("avsl_n8_u2_a4_k16_d4_stress", "x")
    with pytest.raises(MalformedFieldError, match=r"^x: not a final tier name of the form avsl_final_u<U>"):
        FinalName.parse("avsl_chunk_c64_u2_d6", "x")
    err = pytest.raises(MalformedFieldError, TierName.parse, "avsl_final_u2_a4_k16_var").value
    assert isinstance(err, InputError) and isinstance(err, VerificationError)  # exit 2; keeper loops reject it


def test_name_types_refuse_what_they_cannot_spell() -> None:
    with pytest.raises(InputError, match="tier.n_positions"):
        TierName(0, 2, 4, 16, 4, RiskMode.STRESS)
    with pytest.raises(InputError, match="tier.depth"):
        TierName(8, 2, 4, 16, 1_000_000, RiskMode.STRESS)
    with pytest.raises(InputError, match="tier.mode"):
        TierName(8, 2, 4, 16, 4, "stress")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="chunk.mode: only the revaluation mode"):
        ChunkName(64, 2, 6, 16, RiskMode.STRESS)
    with pytest.raises(InputError, match="chunk.n_scenarios"):
        ChunkName(64, 2, 6, 16)
    # a name beyond the circuits' bounds parses as a name, not as a circuit
    assert parse_tier_name("avsl_n4096_u2_a4_k16_d4_stress").n_positions == 4096
    with pytest.raises(InputError, match=r"tier.n_positions: must lie in \[1, 1024\]"):
        Tier.parse("avsl_n4096_u2_a4_k16_d4_stress")


def test_a_key_set_manifest_lists_only_circuit_names(tmp_path: Path) -> None:
    """The manifest's names become file names (``<name>.json``): a name outside the grammar is refused
    before any file is opened."""
    from zksolv.proofs.keyset import FORMAT, MANIFEST, load_manifest

    row = {"circuit_hash": "0" * 64, "verification_key_sha256": "0" * 64}
    good = "avsl_n4_u2_a4_k16_d3_stress"
    (tmp_path / MANIFEST).write_text(json.dumps({"format": FORMAT, "route": "dev", "transcript_sha256": None,
                                                 "keys": {good: {**row, "verification_key": f"{good}.json"}}}))
    assert good in load_manifest(tmp_path)["keys"]
    for bad in ("a", "avsl_n4_u2_a4_k16_d3_stress_x", "manifest"):
        (tmp_path / MANIFEST).write_text(json.dumps({"format": FORMAT, "route": "dev", "transcript_sha256": None,
                                                     "keys": {bad: {**row, "verification_key": f"{bad}.json"}}}))
        with pytest.raises(InputError, match=rf"keys\['{bad}'\]: not a circuit name"):
            load_manifest(tmp_path)


def test_a_ceremony_transcript_names_only_circuits(tmp_path: Path) -> None:
    """``ceremony.json`` names the circuits whose keys a key set may list: the same grammar."""
    from zksolv.toolchain import ceremony

    circuit = {"name": "avsl_n1_u1_a1_k1_d1_stress", "circuit_hash": "0" * 64, "r1cs_sha256": "0" * 64,
               "ptau_blake2b": "0" * 128, "initial_zkey_sha256": "0" * 64, "zkey_sha256": "0" * 64, "contributions": []}
    for name in ("avsl_n1_u1_a1_k1_d1_stress_old", "../avsl_n1_u1_a1_k1_d1_stress"):
        transcript = {"format": ceremony.FORMAT, "ptau": {"blake2b": "0" * 128}, "circuits": [{**circuit, "name": name}]}
        (tmp_path / ceremony.TRANSCRIPT).write_text(json.dumps(transcript))
        with pytest.raises(InputError, match=r"circuits\[0\]\.name: not a circuit name"):
            ceremony.load_transcript(tmp_path)
