"""Adversarial review of commit 1a9f631: venues accept a SET of chunk sizes (``chunk_sizes``).

The attacker is a prover who controls every private input and every file of a bundle
(statement.json, chunk and final proofs, public signals) and may pick any accepted size.
Each test is an attack; a passing test means the system refused it (with the reason
asserted). The review's three findings (a dev-key keeper aborting a batch on an unaccepted size,
a smaller default size opening a new bucket in older venue sections, a legacy field misnamed in
an error) are fixed; their tests say "was a finding".

Fast: the policy's parsing edge cases (legacy ``chunk_size``, both keys, empty, unsorted,
duplicate, non-multiples of 8, huge values, wrong types); ``zksolv market demo --chunk-sizes``,
``zksolv prove --chunk-size`` and ``zksolv setup --chunks`` (setup with a recording stub);
the keeper's pre-pairing refusals of sizes and counts (library and ``zksolv verify --keys``)
with well-formed but fake proofs; an insolvent book is refused whatever the size.
Slow (real proofs on the small market of tests/test_chunked.py, chunks of 8 and 16, depth 2):
a bundle MIXING a chunk of 16 and a chunk of 8 whose states link and whose every proof is valid
under its own key is refused by the library keeper, the CLI (``--dev-key`` and ``--keys``) and
a many-folder batch next to an honest bundle that stays valid; a statement naming 16 over
chunk proofs of 8; an honest bundle under a venue that dropped its size; the keeper's
``--dev-key`` path refusing, for that bundle only, a size the venue does not accept (it
aborted the whole batch before the fix: the key lookup came before the policy check).
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from zksolv.prover.chunks import plan_chunks
from zksolv.verifier.chunked import verify_chunked
from zksolv.core.errors import MalformedFieldError
from zksolv.verifier.groth16 import parse_proof, parse_public_signals, verify_parsed
from zksolv.proofs.circuit_names import parse_chunk_capacity
from zksolv.proofs.statement import Statement
from zksolv.verifier.verify import ChunkedSubmission, prepare_key, verify_many
from zksolv.core import commitments as cm
from zksolv.toolchain.circuitgen import ChunkTier, FinalTier, circuit_source_hash
from zksolv.cli import EXIT_INPUT, EXIT_INVALID, main
from zksolv.core.errors import CacheError, InputError, ProofError
from zksolv.core.market import MarketState
from zksolv.core.venue import DEFAULT_POLICY, VenuePolicy

from tests.keysets import write_test_manifest
from tests.test_chunked import MARKET, book

#: The small market of test_chunked (20 instruments, depth 2) under a venue accepting chunks of 8 OR 16.
TWO_SIZES = dataclasses.replace(MARKET, venue=VenuePolicy(tiers=(4, 16), chunk_sizes=(8, 16),
                                                         chunk_counts=(1, 2, 3, 4))).validated()
ONLY_8 = MARKET  # chunk_sizes (8,)
ROOT = cm.market_root(MARKET)  # the venue policy is not in market_root: the same for every variant here
FINAL = FinalTier.for_market(MARKET)
C8, C16 = ChunkTier.for_market(MARKET, 8), ChunkTier.for_market(MARKET, 16)

# --------------------------------------------------------------- fake but well-formed points and keys
G1 = ["1", "2", "1"]
G2 = [["10857046999023057135944570762232829481370756359578518086990519993285655852781",
       "11559732032986387107991004021392285783925812861821192530917403151452391805634"],
      ["8495653923123431417604973247489272438418190587263600148770280649306958101930",
       "4082367875863433681332203403145435568316851327593401208105741076214120093531"],
      ["1", "0"]]
FAKE_PROOF = {"pi_a": G1, "pi_b": G2, "pi_c": G1, "protocol": "groth16", "curve": "bn128"}


def fake_vk(n_public: int) -> dict:
    """A parseable Groth16 key (generators everywhere): every pairing check under it fails. Its gamma is
    the G2 generator, as in a snarkjs setup: statements checked under it say ``setup_route`` snarkjs."""
    return {"protocol": "groth16", "curve": "bn128", "nPublic": n_public, "vk_alpha_1": G1, "vk_beta_2": G2,
            "vk_gamma_2": G2, "vk_delta_2": G2, "IC": [G1] * (n_public + 1)}


def linked_signals(n_chunks: int, commitment: int = 12345) -> tuple[list[list[str]], list[str]]:
    """Chunk and final public signals that pass every pre-pairing check (root, chain)."""
    states = [1000 + i for i in range(n_chunks + 1)]
    chunks = [[str(ROOT), str(states[i]), str(states[i + 1])] for i in range(n_chunks)]
    return chunks, [str(commitment), str(ROOT), str(states[0]), str(states[-1])]


def statement_for(chunk_tier: str, n_chunks: int, *, chunk_hash: str = "0" * 64, final_hash: str = "0" * 64,
                  route: str = "dev") -> Statement:
    return Statement(tier=FINAL.name, circuit_hash=final_hash, risk_mode=FINAL.mode.value, epoch=MARKET.epoch,
                     market_root=str(ROOT), account_commitment="12345", setup_route=route, insecure_setup=True,
                     chunk_tier=chunk_tier, chunk_circuit_hash=chunk_hash, n_chunks=n_chunks)


def fake_submission(chunk_tier: str, n_chunks: int) -> ChunkedSubmission:
    chunk_pub, final_pub = linked_signals(n_chunks)
    return ChunkedSubmission([(FAKE_PROOF, p) for p in chunk_pub], FAKE_PROOF, final_pub,
                             prepare_key(fake_vk(4)), prepare_key(fake_vk(3)),
                             statement=statement_for(chunk_tier, n_chunks, route="snarkjs"))


def write_fake_bundle(folder: Path, st: Statement) -> None:
    """A bundle folder as `zksolv prove` writes it, with fake proofs and linking signals."""
    chunk_pub, final_pub = linked_signals(st.n_chunks or 0)
    (folder / "final").mkdir(parents=True)
    st.save(folder / "statement.json")
    (folder / "final" / "proof.json").write_text(json.dumps(FAKE_PROOF))
    (folder / "final" / "public.json").write_text(json.dumps(final_pub))
    for i, pub in enumerate(chunk_pub):
        (folder / "chunks" / f"{i:04d}").mkdir(parents=True)
        (folder / "chunks" / f"{i:04d}" / "proof.json").write_text(json.dumps(FAKE_PROOF))
        (folder / "chunks" / f"{i:04d}" / "public.json").write_text(json.dumps(pub))


def verify_json(args: list[str]) -> tuple[int, list[dict]]:
    res = CliRunner().invoke(main, ["verify", *args, "--json"])
    return res.exit_code, [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]


# ================================================================ fast: the policy and its parsing
@pytest.mark.parametrize("venue, message", [
    ({"chunk_sizes": []}, r"market\.venue\.chunk_sizes: expected a non-empty list of integers"),
    ({"chunk_sizes": [32, 32]}, r"venue\.chunk_sizes: must be strictly increasing"),
    ({"chunk_sizes": [64, 32]}, r"venue\.chunk_sizes: must be strictly increasing"),
    ({"chunk_sizes": [8, 12]}, r"venue\.chunk_sizes\[1\]: must be a multiple of 8"),
    ({"chunk_sizes": [0]}, r"venue\.chunk_sizes\[0\]: must lie in \[8, 1024\]"),
    ({"chunk_sizes": [-8]}, r"venue\.chunk_sizes\[0\]: must lie in \[8, 1024\]"),
    ({"chunk_sizes": [2048]}, r"venue\.chunk_sizes\[0\]: must lie in \[8, 1024\]"),
    ({"chunk_sizes": [10**40]}, r"venue\.chunk_sizes\[0\]: must lie in \[8, 1024\]"),
    ({"chunk_sizes": [True]}, r"market\.venue\.chunk_sizes\[0\]: expected an integer"),
    ({"chunk_sizes": [8.0]}, r"market\.venue\.chunk_sizes\[0\]: expected an integer"),
    ({"chunk_sizes": 32}, r"market\.venue\.chunk_sizes: expected a non-empty list"),
    ({"chunk_sizes": "32,64"}, r"market\.venue\.chunk_sizes: expected a non-empty list"),
    ({"chunk_sizes": None}, r"market\.venue\.chunk_sizes: expected a non-empty list"),
    ({"chunk_size": [32]}, r"market\.venue\.chunk_size: expected an integer"),
    ({"chunk_size": None}, r"market\.venue\.chunk_size: expected an integer"),
    ({"chunk_size": 2048}, r"must lie in \[8, 1024\]"),
    ({"chunk_size": 64, "chunk_sizes": [64]}, r"give chunk_sizes or the older chunk_size, not both"),
    ({"chunk_size": 64, "chunk_sizes": [32, 64]}, r"give chunk_sizes or the older chunk_size, not both"),
    ({"chunk_sizes": [32, 64], "chunk_sizez": [8]}, r"market\.venue: unknown field 'chunk_sizez'"),
])
def test_market_json_venue_chunk_sizes_are_validated(venue: dict, message: str) -> None:
    data = json.loads(MARKET.to_json())
    data["venue"] = venue
    with pytest.raises(InputError, match=message):
        MarketState.from_json(json.dumps(data))


def test_legacy_chunk_size_reads_as_one_size_and_round_trips_as_chunk_sizes() -> None:
    data = json.loads(MARKET.to_json())
    data["venue"] = {"tiers": [4, 16], "chunk_size": 8, "chunk_counts": [2]}
    state = MarketState.from_json(json.dumps(data))
    assert state.venue.chunk_sizes == (8,) and state.venue.chunk_size == 8
    out = json.loads(state.to_json())["venue"]
    assert out == {"tiers": [4, 16], "chunk_sizes": [8], "chunk_counts": [2]}  # the new format only
    assert MarketState.from_json(state.to_json()).venue == state.venue
    # an accepted legacy size: only that one (the default 32 is NOT added to a legacy file)
    with pytest.raises(InputError, match=r"chunk size 32: the venue accepts chunk sizes \[8\] only"):
        state.venue.check_chunks(32, 2)
    # large books use the largest accepted size, whatever order of magnitude the others have
    assert VenuePolicy(chunk_sizes=(8, 1024)).validated().chunk_size == 1024
    assert DEFAULT_POLICY.chunk_size == 64


def test_legacy_chunk_size_error_names_the_field_in_the_file() -> None:
    # was a finding (fixed): a legacy file's bad "chunk_size" was reported as "venue.chunk_sizes[0]"
    data = json.loads(MARKET.to_json())
    data["venue"] = {"chunk_size": 12}
    with pytest.raises(InputError) as err:
        MarketState.from_json(json.dumps(data))
    assert "chunk_sizes" not in str(err.value) and "chunk_size" in str(err.value), str(err.value)


def test_an_absent_chunk_size_in_an_existing_venue_section_does_not_open_new_buckets() -> None:
    # was a finding (fixed): before 1a9f631 a venue section without "chunk_size" meant chunks of 64
    # only; with the default (32, 64) and counts [1, 2, 4], "1 chunk of 32" would have been a new
    # bucket "at most 32". A smaller size is now accepted only in counts that fill an existing bucket.
    data = json.loads(MARKET.to_json())
    data["venue"] = {"tiers": [4, 16, 64], "chunk_counts": [1, 2, 4]}
    policy = MarketState.from_json(json.dumps(data)).venue
    intended = set(policy.tiers) | {64 * c for c in policy.chunk_counts}
    accepted = {s * c for s in policy.chunk_sizes for c in policy.chunk_counts if policy.refusal(s, c) is None}
    assert accepted | set(policy.tiers) <= intended, sorted(accepted - intended)
    assert policy.refusal(32, 1) is not None and policy.refusal(32, 2) is None


def test_default_policy_smaller_size_adds_no_bucket_and_counts_times_sizes_stay_in_range() -> None:
    p = DEFAULT_POLICY
    large = {p.chunk_size * c for c in p.chunk_counts}
    accepted = {(s, c) for s in p.chunk_sizes for c in p.chunk_counts if p.refusal(s, c) is None}
    assert {s * c for s, c in accepted} <= large | set(p.tiers)
    assert {(p.chunk_size, c) for c in p.chunk_counts} <= accepted  # every count of the largest size ...
    assert (32, 2) in accepted and (32, 6) in accepted  # ... and the smaller size where it fills a bucket
    for s, c in ((16, 2), (96, 2), (32, 3), (32, 5), (32, 1), (64, 1), (64, 9), (128, 2), (32, 2048)):
        with pytest.raises(InputError):  # ... and nothing else
            p.check_chunks(s, c)


def test_statement_chunk_tier_names_cannot_alias_a_size() -> None:
    assert parse_chunk_capacity("avsl_chunk_c16_u2_d2") == 16
    assert parse_chunk_capacity("avsl_chunk_c999999_u2_d2") == 999999  # parses: the keeper refuses it later
    for bad in ("avsl_chunk_c08_u2_d2", "avsl_chunk_c0_u2_d2", "avsl_chunk_c1000000_u2_d2", "avsl_chunk_c-8_u2_d2",
                "avsl_chunk_c16_u2_d2\n", " avsl_chunk_c16_u2_d2", "avsl_chunk_c16_u2_d2/../x", "avsl_chunk_c16",
                "avsl_chunk_c１６_u2_d2", "avsl_chunk_c16_u2_d2_k16_stress", 16, None, ["avsl_chunk_c16_u2_d2"]):
        with pytest.raises(MalformedFieldError, match="chunk_tier"):
            parse_chunk_capacity(bad)
    data = statement_for(C8.name, 2).to_dict()
    data["chunk_tier"] = "avsl_chunk_c08_u2_d2"
    with pytest.raises(MalformedFieldError, match=r"statement\.chunk_tier"):
        Statement.from_dict(data)
    data = statement_for(C8.name, 2).to_dict()
    data["chunk_size"] = 16  # an extra field does not override the tier name (ignored)
    assert Statement.from_dict(data).capacity == 8


# ================================================================ fast: the keeper's pre-pairing refusals
def test_keeper_refuses_a_size_the_venue_does_not_accept_before_any_pairing() -> None:
    for market, name, n, reason in (
        (ONLY_8, C16.name, 2, "chunk size 16: the venue accepts chunk sizes [8] only"),
        (ONLY_8, "avsl_chunk_c999999_u2_d2", 2, "chunk size 999999: the venue accepts chunk sizes [8] only"),
        (TWO_SIZES, "avsl_chunk_c24_u2_d2", 2, "chunk size 24: the venue accepts chunk sizes [8, 16] only"),
        # an accepted size with a count the venue does not accept: size x count is not a free product
        (dataclasses.replace(TWO_SIZES, venue=dataclasses.replace(TWO_SIZES.venue, chunk_counts=(2,))), C16.name, 1,
         "1 chunks: the venue accepts chunk counts [2] only"),
    ):
        (v,) = verify_many([fake_submission(name, n)], market)
        assert not v.valid and v.reason == reason, v.reason
    # accepted size and count: the same fake bundle gets as far as the pairing (and fails there)
    for name in (C8.name, C16.name):
        (v,) = verify_many([fake_submission(name, 2)], TWO_SIZES)
        assert not v.valid and v.reason == "pairing check failed on the final proof", v.reason


def test_keeper_checks_the_statement_count_against_the_bundle_not_size_times_count() -> None:
    # a statement claiming 1 chunk of 16 over 2 chunk proofs (16 positions either way): refused
    sub = dataclasses.replace(fake_submission(C16.name, 2), statement=statement_for(C16.name, 1, route="snarkjs"))
    (v,) = verify_many([sub], TWO_SIZES)
    assert not v.valid and v.reason == "the statement claims 1 chunks, the bundle has 2"


def test_insolvent_book_is_refused_whatever_the_chunk_size() -> None:
    poor = dataclasses.replace(book(12, seed=1), collateral={})
    for size in (8, 16, 1024):
        with pytest.raises(ProofError, match="insolvent"):
            plan_chunks(poor, TWO_SIZES, size)


def test_the_chunk_size_does_not_change_the_commitment_or_the_final_state() -> None:
    """Why mixing sizes would be *sound* if a keeper allowed it: the chain and the sums do not
    depend on where the book is cut, so the only thing a size choice may change is the bucket."""
    acc = book(20, seed=11)
    p8, p16 = plan_chunks(acc, TWO_SIZES, 8, blinding=7), plan_chunks(acc, TWO_SIZES, 16, blinding=7)
    assert p8.account_commitment == p16.account_commitment == cm.account_commitment_of(acc, TWO_SIZES)
    assert p8.final_inputs["chain"] == p16.final_inputs["chain"]
    assert p8.chunk_inputs[2]["chain_in"] == p16.chunk_inputs[1]["chain_in"]  # the chain after 16 positions
    assert (p8.n_chunks, p16.n_chunks) == (3, 2)
    assert p8.final_inputs["counter"] == "3" and p16.final_inputs["counter"] == "2"  # the counter is the chunk count


# ================================================================ fast: CLI edges
@pytest.mark.parametrize("value, message", [
    ("", "--chunk-sizes: expected comma-separated integers"),
    ("32,", "--chunk-sizes: expected comma-separated integers"),
    ("0x20", "--chunk-sizes: expected comma-separated integers"),
    ("8,8", "venue.chunk_sizes: must be strictly increasing"),
    ("64,32", "venue.chunk_sizes: must be strictly increasing"),
    ("12", "venue.chunk_sizes[0]: must be a multiple of 8"),
    ("2048", "venue.chunk_sizes[0]: must lie in [8, 1024]"),
    ("-8", "venue.chunk_sizes[0]: must lie in [8, 1024]"),
])
def test_market_demo_refuses_bad_chunk_sizes(tmp_path: Path, value: str, message: str) -> None:
    out = CliRunner().invoke(main, ["market", "demo", "--out", str(tmp_path / "m.json"), "--chunk-sizes", value])
    assert out.exit_code == EXIT_INPUT and message in out.output, out.output
    assert not (tmp_path / "m.json").exists()


def test_market_demo_old_chunk_size_option_is_gone(tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["market", "demo", "--out", str(tmp_path / "m.json"), "--chunk-size", "32"])
    assert out.exit_code == EXIT_INPUT and "No such option" in out.output
    ok = CliRunner().invoke(main, ["market", "demo", "--out", str(tmp_path / "m.json"), "--chunk-sizes", " 8 , 16"])
    assert ok.exit_code == 0, ok.output
    assert MarketState.load(tmp_path / "m.json").venue.chunk_sizes == (8, 16)


@pytest.mark.parametrize("extra, message", [
    (["--chunk-size", "24"], "--chunk-size: chunk size 24: the venue accepts chunk sizes [8, 16] only"),
    (["--chunk-size", "32"], "--chunk-size: chunk size 32: the venue accepts chunk sizes [8, 16] only"),
    (["--chunk-size", "12"], "--chunk-size: must be a multiple of 8"),
    (["--chunk-size", "2048"], "Invalid value for '--chunk-size'"),
    (["--chunk-size", "0"], "Invalid value for '--chunk-size'"),
    (["--chunk-size", "16", "--chunks", "5"], "--chunks: 5 chunks: the venue accepts chunk counts [1, 2, 3, 4] only"),
    (["--chunk-size", "24", "--chunks", "5"], "--chunk-size: chunk size 24: the venue accepts chunk sizes [8, 16] only"),
    (["--positions", "16", "--chunk-size", "8"], "--positions: one circuit's capacity"),
])
def test_prove_refuses_sizes_before_any_work(tmp_path: Path, extra: list[str], message: str) -> None:
    TWO_SIZES.save(tmp_path / "m.json")
    book(12, seed=1).save(tmp_path / "a.json")
    out = CliRunner().invoke(main, ["prove", "--account", str(tmp_path / "a.json"), "--market", str(tmp_path / "m.json"),
                                    "--out", str(tmp_path / "p"), *extra])
    assert out.exit_code == EXIT_INPUT and message in out.output, out.output
    assert not (tmp_path / "p").exists()


def test_setup_chunks_sets_up_exactly_the_accepted_sizes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zksolv.toolchain import artifacts

    built: list[str] = []

    def record(shape, route, *, ptau=None, **_):
        built.append(shape.name)
        vk = tmp_path / f"vk-{shape.name}.json"
        vk.write_text("{}")
        keys = type("K", (), {"insecure": False, "verification_key": vk, "warning": ""})()
        return type("A", (), {"cached": True, "circuit_hash": "0" * 64, "keys": keys,
                              "circuit": type("C", (), {"n_constraints": 1})()})()

    monkeypatch.setattr(artifacts, "build_artifacts", record)
    TWO_SIZES.save(tmp_path / "m.json")
    out = CliRunner().invoke(main, ["setup", "--market", str(tmp_path / "m.json"), "--positions", "4", "--chunks",
                                    "--keys-out", str(tmp_path / "keys"), "--json"])
    assert out.exit_code == 0, out.output
    assert built == [f"avsl_n4_u2_a4_k16_d{MARKET.shape[3]}_stress", C8.name, C16.name, FINAL.name]
    assert sorted(p.stem for p in (tmp_path / "keys").iterdir()) == sorted([*built, "manifest"])
    bad = CliRunner().invoke(main, ["setup", "--market", str(tmp_path / "m.json"), "--positions", "8", "--chunks"])
    assert bad.exit_code == EXIT_INPUT and "--positions: tier capacity 8" in bad.output


# ================================================================ fast: the keeper CLI with a key set
def test_cli_keys_refuses_unaccepted_sizes_even_with_a_stale_key_in_the_set(tmp_path: Path) -> None:
    """--keys: the venue's key set still holds a c16 key (it accepted 16 once); the market now accepts 8 only."""
    ONLY_8.save(tmp_path / "m.json")
    keys = tmp_path / "keys"
    keys.mkdir()
    for shape, n in ((FINAL, 4), (C8, 3), (C16, 3)):
        (keys / f"{shape.name}.json").write_text(json.dumps(fake_vk(n)))
    write_test_manifest(keys, ONLY_8)  # the stale c16 key is not a circuit of this market: left unlisted
    for name, tier in (("stale16", C16.name), ("absent24", "avsl_chunk_c24_u2_d2"), ("huge", "avsl_chunk_c999999_u2_d2"),
                       ("other_shape", "avsl_chunk_c8_u3_d2"), ("ok8", C8.name)):
        write_fake_bundle(tmp_path / "b" / name, statement_for(tier, 2, route="snarkjs"))
    code, lines = verify_json(["--proofs", str(tmp_path / "b"), "--market", str(tmp_path / "m.json"),
                               "--keys", str(keys)])
    assert code == EXIT_INVALID
    rows = {Path(r["folder"]).name: r for r in lines if "folder" in r}
    assert lines[-1]["summary"]["proofs"] == 5 and lines[-1]["summary"]["valid"] == 0
    assert rows["stale16"]["reason"] == "chunk size 16: the venue accepts chunk sizes [8] only"
    assert rows["absent24"]["reason"] == "chunk size 24: the venue accepts chunk sizes [8] only"  # before any key
    assert rows["huge"]["reason"] == "chunk size 999999: the venue accepts chunk sizes [8] only"
    assert "proof is for circuit avsl_chunk_c8_u3_d2" in rows["other_shape"]["reason"]
    assert rows["ok8"]["reason"] == "pairing check failed on the final proof"  # reached the pairing: fake proofs


# ================================================================ slow: a dev-key keeper and a size with no local key
@pytest.fixture(scope="module")
def local_final_and_c8():
    """This machine's dev setups of the final circuit and the chunk circuit of 8 (cached)."""
    from zksolv.toolchain.artifacts import build_artifacts

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_artifacts(FINAL), build_artifacts(C8)


@pytest.mark.slow
def test_dev_key_keeper_refuses_an_unaccepted_size_without_aborting_the_batch(tmp_path: Path,
                                                                               local_final_and_c8) -> None:
    # was a finding (fixed): `zksolv verify --dev-key` looked up this machine's key of the
    # statement's chunk size before checking the venue's policy; for a size nobody set up here the
    # lookup raised CacheError and the whole `verify --proofs` run aborted (exit 3), so one prover
    # naming e.g. avsl_chunk_c1016 (its circuit hash is public) denied every other submission a
    # verdict. The policy is now checked first (zksolv.verifier.verify.policy_refusal).
    from zksolv.toolchain.artifacts import local_key

    final_art, c8_art = local_final_and_c8
    evil_tier = ChunkTier.for_market(MARKET, 1016)
    evil_hash = circuit_source_hash(evil_tier)
    with pytest.raises(CacheError):  # the precondition: nobody set up chunks of 1016 here
        local_key(evil_tier.name, evil_hash, "dev")
    ONLY_8.save(tmp_path / "m.json")
    write_fake_bundle(tmp_path / "epoch" / "a_honest", statement_for(C8.name, 2, chunk_hash=c8_art.circuit_hash,
                                                                     final_hash=final_art.circuit_hash))
    write_fake_bundle(tmp_path / "epoch" / "b_evil", statement_for(evil_tier.name, 2, chunk_hash=evil_hash,
                                                                   final_hash=final_art.circuit_hash))
    code, lines = verify_json(["--proofs", str(tmp_path / "epoch"), "--market", str(tmp_path / "m.json"),
                               "--dev-key"])
    rows = {Path(r["folder"]).name: r for r in lines if "folder" in r}
    assert code == EXIT_INVALID, (code, lines)
    assert rows["a_honest"]["reason"] == "pairing check failed on the final proof"
    assert rows["b_evil"]["reason"] == "chunk size 1016: the venue accepts chunk sizes [8] only"


# ================================================================ slow: real proofs, mixed sizes
@pytest.fixture(scope="module")
def proofs(tmp_path_factory):
    """An honest bundle of chunks of 8 and a MIXED bundle (chunk 0 of 16, chunk 1 of 8) of one
    20-position book whose states link and whose every proof is valid under its own key."""
    from zksolv.prover.engines import ProofTask, SerialEngine
    from zksolv.prover.prove import ChunkedBundle, prove
    from zksolv.toolchain.artifacts import build_artifacts

    acc = book(20, seed=21, salt=0xC0FFEE)
    out = tmp_path_factory.mktemp("sizes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        honest = prove(acc, TWO_SIZES, chunk_size=8, workers=1)
        a8, a16, af = build_artifacts(C8), build_artifacts(C16), build_artifacts(FINAL)
        r = 0x5EED
        p8, p16 = plan_chunks(acc, TWO_SIZES, 8, blinding=r), plan_chunks(acc, TWO_SIZES, 16, blinding=r)
        # chunk 1 of the mixed bundle: the last 8-slot chunk (positions 16..19) re-numbered as the 2nd chunk,
        # continuing the 16-slot chunk's state s_1 and ending in the 16-plan's s_2 (same chain, sums, blinding)
        tail = {**p8.chunk_inputs[2], "counter": "1", "state_in": str(p16.states[1]), "state_out": str(p16.states[2])}
        assert tail["chain_in"] == p16.chunk_inputs[1]["chain_in"]
        public = lambda i: (str(p16.market_root), str(p16.states[i]), str(p16.states[i + 1]))  # noqa: E731
        made = SerialEngine().run([
            ProofTask("chunk 0 (16)", a16.circuit, a16.keys, p16.chunk_inputs[0], public(0)),
            ProofTask("chunk 1 (8)", a8.circuit, a8.keys, tail, public(1)),
            ProofTask("final", af.circuit, af.keys, p16.final_inputs, tuple(p16.final_public())),
        ])
    chunks = tuple((p.proof, p.public_signals) for p in made[:2])
    vk8, vk16, vkf = (a.keys.load_verification_key() for a in (a8, a16, af))
    mixed = {}
    for name, art, vk in (("names8", a8, vk8), ("names16", a16, vk16)):
        st = dataclasses.replace(honest.statement, chunk_tier=art.tier.name, chunk_circuit_hash=art.circuit_hash,
                                 n_chunks=2, account_commitment=str(p16.account_commitment))
        mixed[name] = ChunkedBundle(chunks, made[2].proof, made[2].public_signals, st, vkf, vk)
    honest.save(out / "epoch" / "honest")
    for name, bundle in mixed.items():
        bundle.save(out / "epoch" / f"mixed_{name}")
    # the honest bundle, its statement edited to claim chunks of 16 (hash and name of the real c16 circuit)
    lying = dataclasses.replace(honest, statement=dataclasses.replace(
        honest.statement, chunk_tier=C16.name, chunk_circuit_hash=a16.circuit_hash), chunk_verification_key=vk16)
    lying.save(out / "lying")
    keys = out / "keys"
    keys.mkdir()
    for art, vk in ((a8, vk8), (a16, vk16), (af, vkf)):
        (keys / f"{art.tier.name}.json").write_text(json.dumps(vk))
    write_test_manifest(keys, TWO_SIZES)
    return dict(acc=acc, honest=honest, mixed=mixed, lying=lying, vk8=vk8, vk16=vk16, vkf=vkf, out=out, keys=keys)


@pytest.mark.slow
def test_mixed_size_bundle_links_and_each_proof_is_valid_alone(proofs) -> None:
    """The attack's ingredients are real: were each chunk checked under the key of its own size, the
    mixed bundle (1 chunk of 16 + 1 of 8: a 24-position bucket no venue lists) would pass."""
    b = proofs["mixed"]["names8"]
    (p0, s0), (p1, s1) = b.chunks
    assert s0[2] == s1[1] and s0[1] == b.public[2] and s1[2] == b.public[3]  # the chain links
    k8, k16, kf = (prepare_key(proofs[k]) for k in ("vk8", "vk16", "vkf"))
    sig = lambda s, n: parse_public_signals(s, n)  # noqa: E731
    assert verify_parsed(k16, parse_proof(p0), sig(s0, 3)) and not verify_parsed(k8, parse_proof(p0), sig(s0, 3))
    assert verify_parsed(k8, parse_proof(p1), sig(s1, 3)) and not verify_parsed(k16, parse_proof(p1), sig(s1, 3))
    assert verify_parsed(kf, parse_proof(b.proof), sig(b.public, 4))
    assert int(b.public[0]) == cm.account_commitment_of(proofs["acc"], MARKET)  # the real, registered commitment


@pytest.mark.slow
def test_library_keeper_refuses_mixed_sizes_under_either_statement(proofs) -> None:
    commitment = cm.account_commitment_of(proofs["acc"], MARKET)
    for name, vk, failing in (("names8", "vk8", "chunk 0"), ("names16", "vk16", "chunk 1")):
        b = proofs["mixed"][name]
        v = verify_chunked(b.chunks, b.proof, b.public, TWO_SIZES, proofs["vkf"], proofs[vk],
                           account_commitment=commitment, statement=b.statement)
        assert not v.valid and v.reason == f"pairing check failed on {failing}", (name, v.reason)
    # without a statement, too (the keeper's own chunk key decides)
    b = proofs["mixed"]["names8"]
    for vk in ("vk8", "vk16"):
        assert not verify_chunked(b.chunks, b.proof, b.public, TWO_SIZES, proofs["vkf"], proofs[vk]).valid
    # the honest bundle of 8s is valid under the two-size venue, refused under a venue of 16 only
    h = proofs["honest"]
    assert verify_chunked(h.chunks, h.proof, h.public, TWO_SIZES, proofs["vkf"], proofs["vk8"],
                          account_commitment=commitment, statement=h.statement).valid
    only16 = dataclasses.replace(TWO_SIZES, venue=dataclasses.replace(TWO_SIZES.venue, chunk_sizes=(16,)))
    v = verify_chunked(h.chunks, h.proof, h.public, only16, proofs["vkf"], proofs["vk8"], statement=h.statement)
    assert not v.valid and v.reason == "chunk size 8: the venue accepts chunk sizes [16] only"


@pytest.mark.slow
def test_library_keeper_refuses_a_statement_naming_16_over_chunks_of_8(proofs) -> None:
    b = proofs["lying"]
    # 20 positions in chunks of 8 need 3, padded to 4: 3 x 8 = 24 is not one of this venue's buckets
    assert b.statement.capacity == 16 and b.statement.n_chunks == 4
    v = verify_chunked(b.chunks, b.proof, b.public, TWO_SIZES, proofs["vkf"], proofs["vk16"], statement=b.statement)
    assert not v.valid and v.reason == "pairing check failed on chunk 0"


@pytest.mark.slow
@pytest.mark.parametrize("trust", ["--dev-key", "--keys"])
def test_cli_batch_refuses_mixed_and_lying_bundles_and_keeps_the_honest_one(proofs, tmp_path: Path,
                                                                            trust: str) -> None:
    TWO_SIZES.save(tmp_path / "m.json")
    epoch = proofs["out"] / "epoch"
    commitment = str(cm.account_commitment_of(proofs["acc"], MARKET))
    (tmp_path / "c.json").write_text(json.dumps({p.name: commitment for p in epoch.iterdir()}))
    trust_args = ["--dev-key"] if trust == "--dev-key" else ["--keys", str(proofs["keys"])]
    code, lines = verify_json(["--proofs", str(epoch), "--market", str(tmp_path / "m.json"),
                               "--commitments", str(tmp_path / "c.json"), *trust_args])
    rows = {Path(r["folder"]).name: r for r in lines if "folder" in r}
    assert code == EXIT_INVALID, lines
    assert rows["honest"]["valid"], rows["honest"]
    assert rows["mixed_names8"]["reason"] == "pairing check failed on chunk 0"
    assert rows["mixed_names16"]["reason"] == "pairing check failed on chunk 1"
    assert rows["mixed_names16"]["chunk_tier"] == C16.name and rows["mixed_names8"]["chunk_tier"] == C8.name
    code, lines = verify_json(["--proof", str(proofs["out"] / "lying"), "--market", str(tmp_path / "m.json"),
                               *trust_args])
    assert code == EXIT_INVALID and lines[0]["reason"] == "pairing check failed on chunk 0", lines
    # the same honest bundle under a market file that accepts 16 only: the policy reason, not a pairing
    dataclasses.replace(TWO_SIZES, venue=dataclasses.replace(TWO_SIZES.venue, chunk_sizes=(16,))).save(
        tmp_path / "m16.json")
    code, lines = verify_json(["--proof", str(epoch / "honest"), "--market", str(tmp_path / "m16.json"), *trust_args])
    assert code == EXIT_INVALID and lines[0]["reason"] == "chunk size 8: the venue accepts chunk sizes [16] only"
