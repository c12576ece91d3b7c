"""The venue decides how much of a book's size a proof reveals (issue 17), and what it costs (issue 27).

Fast: the policy's validation, JSON round trip and defaults; the prover picks the smallest
accepted tier or chunk count; `zksolv prove` refuses a tier or count the venue does not accept
before any work. Slow: a 1-position and a full 4-position account proven under the same policy
leave public files that differ only in the commitment and the proof points; a chunked book
padded to its bucket verifies through the keeper CLI; a proof in a tier the venue does not
accept is refused by the keeper with the reason.
"""

from __future__ import annotations

import dataclasses
import json
import re
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from zksolv.prover.prove import tier_for
from zksolv.core.account import Account, Position
from zksolv.cli import EXIT_INPUT, EXIT_INVALID, main
from zksolv.app.demo import demo_market
from zksolv.core.errors import InputError
from zksolv.core.market import MarketState
from zksolv.core.venue import (DEFAULT_POLICY, Padding, VenuePolicy, bucket, chunks_needed, geometric_counts,
                                padding_profile)

SMALL = demo_market(n_strikes=3, n_expiries=1)
SYMBOLS = [i.symbol for i in SMALL.instruments]


def account(n: int, salt: int = 0x5A17) -> Account:
    """``n`` short options plus a cushion of USDC (solvent)."""
    options = [s for s, i in zip(SYMBOLS, SMALL.instruments) if i.kind.is_option]
    return Account(tuple(Position(s, -(k + 1) * 10**5) for k, s in enumerate(options[:n])),
                   {"USDC": 10**6 * 10**6}, salt).validated()


# ---------------------------------------------------------------- fast
def test_defaults_are_few_buckets() -> None:
    assert DEFAULT_POLICY.tiers == (4, 16, 64)
    assert DEFAULT_POLICY.chunk_sizes == (32, 64) and DEFAULT_POLICY.chunk_size == 64
    assert DEFAULT_POLICY.chunk_counts[0] == 2 and DEFAULT_POLICY.chunk_counts[-1] == 1024
    assert len(DEFAULT_POLICY.capacities) == len(DEFAULT_POLICY.tiers) + len(DEFAULT_POLICY.chunk_counts) < 40
    state = MarketState.from_json(json.dumps({k: v for k, v in json.loads(SMALL.to_json()).items() if k != "venue"}))
    assert state.venue == DEFAULT_POLICY  # no "venue" section: the defaults


def test_geometric_counts_space_the_buckets_by_the_ratio() -> None:
    assert geometric_counts(1) == tuple(2**k for k in range(1, 11))  # the powers of two
    for steps in (2, 4, 8):
        counts = geometric_counts(steps)
        assert counts[0] == 2 and counts[-1] == 1024 and list(counts) == sorted(set(counts))
        ratio = 2 ** (1 / steps)
        # rounding to integers: successive counts are within the ratio, up to half a chunk each side
        assert all(b <= (a + 0.5) * ratio + 0.5 for a, b in zip(counts, counts[1:])), (steps, counts)
        assert len(counts) > len(geometric_counts(steps // 2 or 1)) or steps == 1
    assert geometric_counts(4, 3, 10) == (3, 4, 5, 6, 7, 8, 10)
    for bad in ((0,), (4, 0, 8), (4, 9, 8), (4, 2, 5000)):
        with pytest.raises(InputError):
            geometric_counts(*bad)


def test_the_default_policy_keeps_a_10000_position_book_within_1_25x() -> None:
    """Issue 27: under the default policy the padding of a 10,000-position book is within 1.25x,
    and so is every chunked book from 1,000 to 10,000 positions (the worst case, stated)."""
    pad = DEFAULT_POLICY.padding(10_000)
    assert (pad.chunk_size, pad.needed) == (64, 157) and pad.padded in DEFAULT_POLICY.chunk_counts
    assert pad.padded >= pad.needed and pad.ratio <= 1.25
    profile = padding_profile(DEFAULT_POLICY, 1000, 10_000)
    assert profile.worst <= 1.19 and 1.0 < profile.mean < profile.worst
    powers = padding_profile(dataclasses.replace(DEFAULT_POLICY, chunk_counts=geometric_counts(1)), 1000, 10_000)
    assert powers.worst > 1.9 and powers.buckets < profile.buckets  # the trade-off: cost against bits


@pytest.mark.parametrize("policy", [DEFAULT_POLICY, VenuePolicy(tiers=(4,), chunk_sizes=(8, 16), chunk_counts=(2, 3, 5)),
                                    VenuePolicy(chunk_counts=geometric_counts(2))])
def test_padding_profile_matches_every_book_padded_alone(policy: VenuePolicy) -> None:
    low, high = 1, policy.chunk_size * policy.chunk_counts[-1]
    pads = [policy.padding(n) for n in range(policy.tiers[-1] + 1, high + 1)]
    assert all(p.chunked and p.needed == chunks_needed(p.positions, policy.chunk_size) <= p.padded for p in pads)
    assert all(policy.refusal(p.chunk_size, p.padded) is None for p in pads)
    profile = padding_profile(policy, low, high)
    assert profile.low == policy.tiers[-1] + 1 and profile.buckets == len({p.padded for p in pads})
    assert profile.worst == max(p.ratio for p in pads)
    assert profile.worst_at == min(p.positions for p in pads if p.ratio == profile.worst)
    assert profile.mean == pytest.approx(sum(p.ratio for p in pads) / len(pads), rel=1e-12)
    with pytest.raises(InputError, match="empty range"):
        padding_profile(policy, 1, policy.tiers[-1])


def test_padding_says_what_the_bucket_costs() -> None:
    assert DEFAULT_POLICY.padding(11) == Padding(11, None, 11, 16) and not DEFAULT_POLICY.padding(11).chunked
    assert DEFAULT_POLICY.padding(64, 32) == Padding(64, 32, 2, 2)  # --chunk-size 32: chunks even in a tier
    pad = Padding(10_000, 64, 157, 181)
    assert pad.capacity == 181 * 64
    assert pad.describe() == "157 chunks of 64 positions, padded to 181 for the size bucket (1.15x the chunk proofs)"
    assert "no padding" in Padding(128, 64, 2, 2).describe()
    with pytest.raises(InputError, match="the venue accepts at most 1024 chunks"):
        DEFAULT_POLICY.padding(64 * 1024 + 1)


def test_cli_padding_weighs_the_policy_against_alternatives(tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["market", "padding", "--from", "1000", "--to", "10000", "--steps", "1,8", "--json"])
    assert out.exit_code == 0, out.output
    rows = {r["policy"]: r for r in json.loads(out.stdout)["policies"]}
    assert rows["default policy"]["chunk_counts"] == list(DEFAULT_POLICY.chunk_counts)
    assert rows["2^(1/1) steps"]["bits"] < rows["default policy"]["bits"] < rows["2^(1/8) steps"]["bits"]
    assert rows["2^(1/1) steps"]["worst_padding"] > rows["default policy"]["worst_padding"] > \
        rows["2^(1/8) steps"]["worst_padding"]
    market = dataclasses.replace(SMALL, venue=VenuePolicy(tiers=(4,), chunk_sizes=(8,), chunk_counts=(4, 8))).validated()
    market.save(tmp_path / "m.json")
    out = CliRunner().invoke(main, ["market", "padding", str(tmp_path / "m.json"), "--from", "5", "--to", "64"])
    assert out.exit_code == 0, out.output
    assert "policy=market policy, chunk_counts=2, buckets=2, bits=1, worst_padding=" in out.output
    for args, message in ((["--from", "10", "--to", "5"], "--from: 10 is above --to 5"),
                          (["--steps", "0"], "--steps: 0 must lie in [1, 64]")):
        bad = CliRunner().invoke(main, ["market", "padding", *args])
        assert bad.exit_code == EXIT_INPUT and message in bad.output, bad.output


def test_policy_round_trips_and_is_validated() -> None:
    policy = VenuePolicy(tiers=(2, 8), chunk_sizes=(8, 16), chunk_counts=(4,))
    state = dataclasses.replace(SMALL, venue=policy).validated()
    assert MarketState.from_json(state.to_json()).venue == policy
    for bad, message in (
        (dict(tiers=()), r"venue\.tiers: must not be empty"),
        (dict(tiers=(16, 4)), r"venue\.tiers: must be strictly increasing"),
        (dict(tiers=(4, 2048)), r"venue\.tiers\[1\]: must lie in \[1, 1024\]"),
        (dict(chunk_sizes=(8, 12)), r"venue\.chunk_sizes\[1\]: must be a multiple of 8"),
        (dict(chunk_sizes=(64, 32)), r"venue\.chunk_sizes: must be strictly increasing"),
        (dict(chunk_counts=(0, 2)), r"venue\.chunk_counts\[0\]: must lie in"),
    ):
        with pytest.raises(InputError, match=message):
            dataclasses.replace(DEFAULT_POLICY, **bad).validated()
    data = json.loads(SMALL.to_json())
    data["venue"] = {"tiers": [4], "chunk_size": 16}  # the one-size format of earlier market files
    assert MarketState.from_json(json.dumps(data)).venue == VenuePolicy(tiers=(4,), chunk_sizes=(16,))
    data["venue"]["chunk_sizes"] = [16]
    with pytest.raises(InputError, match=r"market\.venue: give chunk_sizes or the older chunk_size, not both"):
        MarketState.from_json(json.dumps(data))
    data["venue"] = {"tiers": [4], "spy": 1}
    with pytest.raises(InputError, match=r"market\.venue: unknown field 'spy'"):
        MarketState.from_json(json.dumps(data))


def test_the_prover_pads_to_the_smallest_accepted_bucket() -> None:
    policy = VenuePolicy(tiers=(4, 16), chunk_sizes=(8,), chunk_counts=(4, 8))
    market = dataclasses.replace(SMALL, venue=policy).validated()
    assert tier_for(account(1), market).n_positions == 4
    assert tier_for(account(4), market).n_positions == 4
    assert tier_for(account(5), market).n_positions == 16
    assert tier_for(account(12), market).n_positions == 16
    big = Account(tuple(Position(s, 10**5) for s in SYMBOLS[:17]), {"USDC": 10**6 * 10**6}, 3).validated()
    assert tier_for(big, market) is None  # beyond every tier: chunks, padded to 4 (needs 3)
    assert policy.chunks_for(3) == 4 and policy.chunks_for(5) == 8
    with pytest.raises(InputError, match="the book needs 9 chunks of 8; the venue accepts at most 8 chunks"):
        policy.chunks_for(9)


def test_every_accepted_chunk_size_is_a_bucket_of_its_own_count() -> None:
    policy = DEFAULT_POLICY
    policy.check_chunks(32, 2)  # a 64-position book as 2 parallel chunks: "at most 64", as the 64 tier says
    policy.check_chunks(64, 2)
    assert bucket(chunk_size=32, chunks=2)["capacity"] == policy.tiers[-1]
    for size, count, message in ((16, 2, r"chunk size 16: the venue accepts chunk sizes \[32, 64\] only"),
                                 (64, 9, r"9 chunks: the venue accepts chunk counts \[2, 3, 4"),
                                 (32, 3, r"3 chunks of 32 = 96 positions: not one of the venue's size buckets")):
        with pytest.raises(InputError, match=message):
            policy.check_chunks(size, count)
    accepted = {s * c for s in policy.chunk_sizes for c in policy.chunk_counts if policy.refusal(s, c) is None}
    assert accepted | set(policy.tiers) == policy.capacities
    assert sorted(policy.capacities) == [4, 16, 64] + [64 * c for c in policy.chunk_counts]  # 38 buckets


def test_a_smaller_chunk_size_never_adds_a_bucket() -> None:
    # a venue section written before chunk_sizes existed, with a count of 1: chunks of 64 gave 64,
    # 128 and 256; the default smaller size must not add "at most 32 positions"
    data = json.loads(SMALL.to_json())
    data["venue"] = {"tiers": [4, 16, 64], "chunk_counts": [1, 2, 4]}
    policy = MarketState.from_json(json.dumps(data)).venue
    assert policy.chunk_sizes == (32, 64) and sorted(policy.capacities) == [4, 16, 64, 128, 256]
    assert policy.refusal(32, 1) == ("1 chunks of 32 = 32 positions: not one of the venue's size buckets "
                                     "[4, 16, 64, 128, 256]")
    assert policy.refusal(32, 2) is None and policy.refusal(32, 4) is None and policy.refusal(64, 1) is None
    assert policy.chunks_for(1, 32) == 2  # the prover pads to the bucket instead
    assert policy.chunks_for(1, 8) == 1  # a size the venue does not list: by count (keepers refuse it)
    with pytest.raises(InputError, match=r"needs 5 chunks of 32; the venue accepts at most 4 chunks of 32"):
        policy.chunks_for(5, 32)
    # the same rule for any listed size: 2 x 16 = 32 is not a bucket here, 4 x 16 = 64 is
    sixteen = VenuePolicy(tiers=(4, 16, 64), chunk_sizes=(16, 64), chunk_counts=(2, 4))
    assert "not one of the venue's size buckets" in sixteen.refusal(16, 2)
    assert sixteen.refusal(16, 4) is None and sixteen.chunks_for(1, 16) == 4


def test_legacy_and_library_forms_of_the_policy() -> None:
    data = json.loads(SMALL.to_json())
    data["venue"] = {"chunk_size": 12}
    with pytest.raises(InputError, match=r"^market\.venue\.chunk_size: must be a multiple of 8"):
        MarketState.from_json(json.dumps(data))
    listed = VenuePolicy(tiers=[4, 16], chunk_sizes=[8, 16], chunk_counts=[2])  # type: ignore[arg-type]
    assert listed == VenuePolicy(tiers=(4, 16), chunk_sizes=(8, 16), chunk_counts=(2,)) and hash(listed)


@pytest.mark.parametrize("options, message", [
    (["--positions", "8"], r"--positions: tier capacity 8: the venue accepts tiers \[4, 16, 64\] only"),
    (["--chunk-size", "16"], r"--chunk-size: chunk size 16: the venue accepts chunk sizes \[32, 64\] only"),
    (["--chunks", "9"], r"--chunks: 9 chunks: the venue accepts chunk counts \[2, 3, 4, 5, 6, 7, 8, 10"),
])
def test_cli_refuses_buckets_the_venue_does_not_accept(tmp_path: Path, options: list[str], message: str) -> None:
    SMALL.save(tmp_path / "m.json")
    account(2).save(tmp_path / "a.json")
    out = CliRunner().invoke(main, ["prove", "--account", str(tmp_path / "a.json"), "--market", str(tmp_path / "m.json"),
                                    "--out", str(tmp_path / "p"), *options])
    assert out.exit_code == EXIT_INPUT, out.output
    assert re.search(message, out.output), out.output
    assert "proving" not in out.output and not (tmp_path / "p").exists()


# ---------------------------------------------------------------- slow
def _prove_cli(tmp: Path, market: MarketState, acc: Account, name: str, *extra: str) -> dict:
    market.save(tmp / "m.json")
    acc.save(tmp / f"{name}.json")
    out = CliRunner().invoke(main, ["prove", "--account", str(tmp / f"{name}.json"), "--market", str(tmp / "m.json"),
                                    "--out", str(tmp / name), "--json", *extra])
    assert out.exit_code == 0, out.output
    assert "the proof reveals the size bucket" in out.stderr
    (tmp / "stderr.txt").write_text(out.stderr)
    return json.loads(out.stdout)


def _shape(value):
    """The structure of a JSON value with every leaf replaced by its type."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__


@pytest.mark.slow
def test_a_small_and_a_full_book_look_alike(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = _prove_cli(tmp_path, SMALL, account(1), "one")
        full = _prove_cli(tmp_path, SMALL, account(4, salt=0x5A18), "full")
    assert one["bucket"] == full["bucket"] == {"kind": "one circuit", "capacity": 4}
    st = [json.loads((tmp_path / n / "statement.json").read_text()) for n in ("one", "full")]
    assert st[0]["account_commitment"] != st[1]["account_commitment"]
    assert {k: v for k, v in st[0].items() if k != "account_commitment"} == \
           {k: v for k, v in st[1].items() if k != "account_commitment"}  # same tier, circuit, epoch, root, setup
    pub = [json.loads((tmp_path / n / "public.json").read_text()) for n in ("one", "full")]
    assert pub[0][1] == pub[1][1] and len(pub[0]) == len(pub[1]) == 2  # only the commitment differs
    proofs = [json.loads((tmp_path / n / "proof.json").read_text()) for n in ("one", "full")]
    assert _shape(proofs[0]) == _shape(proofs[1]) and proofs[0] != proofs[1]  # same shape, other points
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == sorted(p.name for p in (tmp_path / "full").iterdir())


@pytest.mark.slow
def test_a_chunked_book_is_padded_to_its_bucket_and_verifies(tmp_path: Path) -> None:
    market = dataclasses.replace(SMALL, venue=VenuePolicy(tiers=(4,), chunk_sizes=(8,), chunk_counts=(4,))).validated()
    book = Account(tuple(Position(s, 10**5) for s in SYMBOLS[:10]), {"USDC": 10**6 * 10**6}, 11).validated()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = _prove_cli(tmp_path, market, book, "book", "--workers", "1")
    assert out["chunks"] == 4 and out["bucket"] == {"kind": "chunks", "chunks": 4, "chunk_size": 8,
                                                    "capacity": 32}  # 10 positions need 2 chunks
    assert "note: 2 chunks of 8 positions, padded to 4 for the size bucket (2.00x the chunk proofs)" in \
        (tmp_path / "stderr.txt").read_text()
    res = CliRunner().invoke(main, ["verify", "--proof", str(tmp_path / "book"), "--market", str(tmp_path / "m.json"),
                                    "--dev-key", "--json"])
    assert res.exit_code == 0, res.output
    # the same bundle under a venue that accepts 2 chunks only: refused with the reason
    strict = dataclasses.replace(market, venue=VenuePolicy(tiers=(4,), chunk_sizes=(8,), chunk_counts=(2,)))
    strict.save(tmp_path / "strict.json")
    res = CliRunner().invoke(main, ["verify", "--proof", str(tmp_path / "book"), "--market", str(tmp_path / "strict.json"),
                                    "--dev-key", "--json"])
    assert res.exit_code == EXIT_INVALID
    assert "4 chunks: the venue accepts chunk counts [2]" in json.loads(res.stdout.splitlines()[0])["reason"]


@pytest.mark.slow
def test_a_tier_the_venue_does_not_accept_is_refused_by_the_keeper(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _prove_cli(tmp_path, SMALL, account(2), "p")
    # the next epoch's policy accepts 16 and 64 only: the 4-tier proof is refused with the reason
    later = dataclasses.replace(SMALL, venue=VenuePolicy(tiers=(16, 64)))
    later.save(tmp_path / "later.json")
    res = CliRunner().invoke(main, ["verify", "--proof", str(tmp_path / "p"), "--market", str(tmp_path / "later.json"),
                                    "--dev-key", "--json"])
    assert res.exit_code == EXIT_INVALID
    line = json.loads(res.stdout.splitlines()[0])
    assert line["valid"] is False and "tier capacity 4: the venue accepts tiers [16, 64] only" in line["reason"]


def test_market_demo_writes_the_venue_policy_it_is_given(tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["market", "demo", "--out", str(tmp_path / "m.json"), "--tiers", "4,16",
                                    "--chunk-sizes", "16,64", "--chunk-counts", "2,4"])
    assert out.exit_code == 0, out.output
    venue = MarketState.load(tmp_path / "m.json").venue
    assert venue == VenuePolicy(tiers=(4, 16), chunk_sizes=(16, 64), chunk_counts=(2, 4))
    bad = CliRunner().invoke(main, ["market", "demo", "--out", str(tmp_path / "n.json"), "--chunk-sizes", "64,32"])
    assert bad.exit_code == EXIT_INPUT and "venue.chunk_sizes: must be strictly increasing" in bad.output
    assert not (tmp_path / "n.json").exists()


def test_cli_pads_an_accepted_chunk_size_to_a_bucket_instead_of_refusing_it() -> None:
    from zksolv.cli.proving import _check_venue_options

    venue = VenuePolicy(tiers=(4, 16, 64), chunk_sizes=(32, 64), chunk_counts=(1, 2, 4))
    _check_venue_options(venue, None, 32, None)  # 1 chunk of 32 is no bucket, but the prover pads to 2
    _check_venue_options(venue, None, 32, 2)
    with pytest.raises(InputError, match=r"^--chunks: 1 chunks of 32 = 32 positions: not one of the venue's size"):
        _check_venue_options(venue, None, 32, 1)
    with pytest.raises(InputError, match=r"^--chunk-size: chunk size 16: the venue accepts chunk sizes \[32, 64\]"):
        _check_venue_options(venue, None, 16, None)
