"""Adversary review of issue 27 (size privacy priced: 2^(1/4) chunk counts, padding, `market padding`).

Each test failed before its fix (see the commit that adds it):

- a venue publishing many chunk counts made every padding computation quadratic in them
  (``chunks_for`` rebuilt the bucket set per count): ``zksolv market padding`` on a market
  with 4,096 counts ran for hours, ``--steps 64`` took 23 s, and the prover's planning seconds;
- ``zksolv market padding --to`` above the policy's largest bucket worked through every chunk
  count before failing with a message naming neither ``--to`` nor the limit in positions;
- a keeper that pinned a market's policy before the default chunk counts changed is refused
  on a market without a ``"venue"`` section, but told the venue changed its policy: the
  reason (this zksolv's defaults changed under it) was not said;
- without a statement a chunked submission's chunk size is not known, and the count alone no
  longer implies a bucket (3 chunks of 32 = 96 positions under the default policy);
- ``geometric_counts`` took booleans and fractions of steps.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import signal
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from zksolv.app.demo import demo_market
from zksolv.cli import EXIT_INPUT, main
from zksolv.core.errors import InputError
from zksolv.core.market import MarketState
from zksolv.core.policy import check_policy, policy_of
from zksolv.core.venue import DEFAULT_POLICY, VenuePolicy, geometric_counts, padding_profile

SMALL = demo_market(n_strikes=3, n_expiries=1)


@contextlib.contextmanager
def _within(seconds: float) -> Iterator[None]:
    """Abort the block with TimeoutError after ``seconds`` (a hang guard, not a speed figure)."""
    def _raise(*_: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# ---------------------------------------------------------------------- 3. robustness: many counts

def test_padding_with_every_count_a_venue_may_publish_does_not_hang() -> None:
    """4,096 counts (the most a policy validates): before the fix one ``chunks_for`` took 3.5 s and
    ``padding_profile`` over the full range hours; 30 s is a hang guard a thousand times over."""
    policy = VenuePolicy(tiers=(4,), chunk_sizes=(8, 16), chunk_counts=tuple(range(1, 4097))).validated()
    with _within(30):
        assert policy.chunks_for(4000) == 4000  # chunks of 16, the largest size: every count is a bucket
        assert policy.chunks_for(1001, 8) == 1002  # chunks of 8: even counts only (8 x 2c = 16 x c)
        assert policy.padding(4000 * 16).padded == 4000
        profile = padding_profile(policy, 5, 16 * 4096)
    assert profile.buckets == 4096 and profile.worst == 1.0 and profile.mean == 1.0


def test_market_padding_with_the_finest_steps_stays_fast(tmp_path: Path) -> None:
    """``--steps 64`` (313 counts) took 23 s before the fix; it is milliseconds of work."""
    with _within(10):
        out = CliRunner().invoke(main, ["market", "padding", "--from", "65", "--to", "65536", "--steps", "64",
                                        "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)["policies"]
    assert rows[1]["policy"] == "2^(1/64) steps" and rows[1]["buckets"] == len(geometric_counts(64))
    assert rows[1]["worst_padding"] < rows[0]["worst_padding"] < 1.19


def test_padding_profile_equals_every_book_padded_alone_for_an_odd_policy() -> None:
    """(A guard for the fix, not a failure before it.) The fast path must give what padding each book alone gives: a two-size policy whose smaller
    size skips counts, counts not spaced geometrically, a largest count far above the range."""
    policy = VenuePolicy(tiers=(16,), chunk_sizes=(8, 24), chunk_counts=(1, 3, 4, 9, 10, 31, 200)).validated()
    low, high = 1, 24 * 31 + 5
    pads = [policy.padding(n) for n in range(17, high + 1)]
    profile = padding_profile(policy, low, high)
    assert profile.buckets == len({p.padded for p in pads})
    assert profile.worst == max(p.ratio for p in pads)
    assert profile.worst_at == min(p.positions for p in pads if p.ratio == profile.worst)
    assert profile.mean == pytest.approx(sum(p.ratio for p in pads) / len(pads), rel=1e-12)


# ---------------------------------------------------------------------- 3. robustness: the range

@pytest.mark.parametrize("args, message", [
    (["--to", str(2**20)], "--to: 1048576 positions is above the largest size bucket of the default policy "
                           "(1024 chunks of 64 = 65536 positions)"),
    (["--from", "70000", "--to", "70001"], "--to: 70001 positions is above the largest size bucket"),
    (["--from", "1", "--to", "64"], "--to: 64 positions fit the largest tier (64): no chunked book in 1..64"),
])
def test_market_padding_names_the_option_and_the_limit(args: list[str], message: str) -> None:
    out = CliRunner().invoke(main, ["market", "padding", *args])
    assert out.exit_code == EXIT_INPUT and message in out.output, out.output
    assert "Traceback" not in out.output


def test_market_padding_names_the_market_policy_limit(tmp_path: Path) -> None:
    market = dataclasses.replace(SMALL, venue=VenuePolicy(tiers=(4,), chunk_sizes=(8,), chunk_counts=(4, 8)))
    market.validated().save(tmp_path / "m.json")
    out = CliRunner().invoke(main, ["market", "padding", str(tmp_path / "m.json")])  # --to 10000 by default
    assert out.exit_code == EXIT_INPUT, out.output
    assert "--to: 10000 positions is above the largest size bucket of the market policy (8 chunks of 8 = 64 " \
           "positions)" in out.output


def test_padding_profile_refuses_an_oversized_range_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = VenuePolicy.chunks_for
    monkeypatch.setattr(VenuePolicy, "chunks_for", lambda self, *a, **k: calls.append(a) or real(self, *a, **k))
    with pytest.raises(InputError, match=r"positions 1048576: above the largest size bucket \(1024 chunks of 64"):
        padding_profile(DEFAULT_POLICY, 1000, 2**20)
    assert calls == []


# ---------------------------------------------------------------------- 3. geometric_counts' inputs

@pytest.mark.parametrize("args", [(True,), (4.5,), (4, 2.0, 8), (4, 2, "8")])
def test_geometric_counts_takes_integers_only(args: tuple[object, ...]) -> None:
    with pytest.raises(InputError, match="expected an integer"):
        geometric_counts(*args)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- 4. policy pinning

def test_a_pin_taken_under_the_old_default_is_refused_saying_the_default_changed() -> None:
    """A market without a "venue" section takes this zksolv's defaults. A keeper that pinned such a
    market under powers of two (``zksolv market policy`` writes the sizes out) must be refused after
    the upgrade (its accepted sizes changed under it), and told why, not that the venue changed them."""
    legacy = dataclasses.replace(DEFAULT_POLICY, chunk_counts=geometric_counts(1))
    pinned = json.loads(json.dumps(policy_of(dataclasses.replace(SMALL, venue=legacy))))
    bare = MarketState.from_json(json.dumps({k: v for k, v in json.loads(SMALL.to_json()).items() if k != "venue"}))
    assert bare.venue == DEFAULT_POLICY
    with pytest.raises(InputError) as err:
        check_policy(bare, pinned)
    message = str(err.value)
    assert "policy.venue.chunk_counts" in message
    assert 'a market without a "venue" section (or without "chunk_counts" in it) takes the accepted sizes of ' \
           "this zksolv version" in message
    assert "publish its sizes" in message
    # a venue section giving its tiers but no chunk_counts: the same (the counts are the defaults)
    data = json.loads(SMALL.to_json())
    data["venue"] = {"tiers": [4, 16]}
    partial = MarketState.from_json(json.dumps(data))
    pinned_partial = json.loads(json.dumps(policy_of(dataclasses.replace(partial, venue=dataclasses.replace(
        partial.venue, chunk_counts=geometric_counts(1))))))
    with pytest.raises(InputError, match="this zksolv version"):
        check_policy(partial, pinned_partial)
    # a venue that publishes its sizes is unaffected by the default: the same pin holds
    check_policy(dataclasses.replace(SMALL, venue=legacy), pinned)
    # and a policy the venue itself changed is not blamed on the default
    other = dataclasses.replace(SMALL, venue=dataclasses.replace(legacy, tiers=(4, 16)))
    with pytest.raises(InputError) as err:
        check_policy(other, pinned)
    assert "zksolv version" not in str(err.value)


# ---------------------------------------------------------------------- 1. a count alone is not a bucket

def test_without_the_chunk_size_a_count_is_accepted_only_if_a_bucket_for_every_size() -> None:
    p = DEFAULT_POLICY
    assert p.refusal(32, 3) is not None and p.refusal(64, 3) is None  # the statement's size decides
    reason = p.refusal(None, 3)  # a statement-less submission checked with an unknown chunk key
    assert reason is not None and "3 chunks" in reason and "chunk size" in reason
    for count in (2, 4, 6, 8, 16):  # buckets for chunks of 32 and of 64 alike
        assert p.refusal(None, count) is None
    assert p.refusal(None, 9) == p.refusal(64, 9)  # a count the venue never accepts: the same reason
    single = VenuePolicy(tiers=(4,), chunk_sizes=(8,), chunk_counts=(1, 3, 5))
    assert all(single.refusal(None, c) is None for c in single.chunk_counts)  # one size: the count decides


# ---------------------------------------------------------------------- 2. end to end: a count that is no power of two

@pytest.mark.slow
def test_a_book_padded_with_empty_chunks_to_five_proves_verifies_and_tells_only_the_trader(tmp_path: Path) -> None:
    """20 positions in chunks of 8 need 3; the venue accepts 5 or 7: two empty chunks, 5 + 1 proofs.
    The keeper's `zksolv verify` takes it; a venue accepting 3 and 7 refuses it with the reason; the
    unpadded count is in the trader's console note only, never in the proof folder or the JSON."""
    import warnings

    from zksolv.cli import EXIT_INVALID
    from zksolv.core.account import Account, Position

    market = dataclasses.replace(SMALL, venue=VenuePolicy(tiers=(4,), chunk_sizes=(8,), chunk_counts=(5, 7)))
    market = market.validated()
    symbols = [i.symbol for i in market.instruments]
    book = Account(tuple(Position(s, 10**5) for s in symbols[:20]), {"USDC": 10**6 * 10**6}, 0x2727).validated()
    market.save(tmp_path / "m.json")
    book.save(tmp_path / "a.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = CliRunner().invoke(main, ["prove", "--account", str(tmp_path / "a.json"), "--market",
                                        str(tmp_path / "m.json"), "--out", str(tmp_path / "p"), "--json",
                                        "--workers", "1"])
    assert out.exit_code == 0, out.output
    note = "note: 3 chunks of 8 positions, padded to 5 for the size bucket (1.67x the chunk proofs)"
    assert note in out.stderr and "padded to" not in out.stdout
    shown = json.loads(out.stdout)
    assert shown["chunks"] == 5 and shown["bucket"] == {"kind": "chunks", "chunks": 5, "chunk_size": 8, "capacity": 40}
    assert "3" not in {str(v) for v in shown.values()}
    statement = json.loads((tmp_path / "p" / "statement.json").read_text())
    assert statement["n_chunks"] == 5 and "needed" not in json.dumps(statement)
    assert sorted(p.name for p in (tmp_path / "p" / "chunks").iterdir()) == [f"{i:04d}" for i in range(5)]
    for f in (tmp_path / "p").rglob("*.json"):
        assert "padded to" not in f.read_text() and "chunks of 8" not in f.read_text(), f
    res = CliRunner().invoke(main, ["verify", "--proof", str(tmp_path / "p"), "--market", str(tmp_path / "m.json"),
                                    "--dev-key", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout.splitlines()[0])["valid"] is True
    other = dataclasses.replace(market, venue=VenuePolicy(tiers=(4,), chunk_sizes=(8,), chunk_counts=(3, 7)))
    other.save(tmp_path / "other.json")
    res = CliRunner().invoke(main, ["verify", "--proof", str(tmp_path / "p"), "--market", str(tmp_path / "other.json"),
                                    "--dev-key", "--json"])
    assert res.exit_code == EXIT_INVALID
    assert "5 chunks: the venue accepts chunk counts [3, 7] only" in json.loads(res.stdout.splitlines()[0])["reason"]


def test_prove_with_too_few_chunks_names_the_option_before_any_work(tmp_path: Path) -> None:
    from zksolv.core.account import Account, Position

    market = dataclasses.replace(SMALL, venue=VenuePolicy(tiers=(4,), chunk_sizes=(8,), chunk_counts=(2, 3, 5)))
    market.validated().save(tmp_path / "m.json")
    symbols = [i.symbol for i in market.instruments]
    Account(tuple(Position(s, 10**5) for s in symbols[:20]), {"USDC": 10**12}, 7).validated().save(tmp_path / "a.json")
    out = CliRunner().invoke(main, ["prove", "--account", str(tmp_path / "a.json"), "--market", str(tmp_path / "m.json"),
                                    "--out", str(tmp_path / "p"), "--chunks", "2"])
    assert out.exit_code == EXIT_INPUT, out.output
    assert "--chunks: the book needs 3 chunks of 8, more than 2 (the smallest count the venue accepts that holds " \
           "it: 3)" in out.output
    assert "checking the account" not in out.output and not (tmp_path / "p").exists()


def test_every_shape_the_old_default_accepted_stays_accepted() -> None:
    """(Sound before any fix.) A prover still on powers of two is accepted by a keeper on 2^(1/4)
    counts: every power-of-two count is one, in chunks of 32 and of 64 alike."""
    for count in geometric_counts(1):
        for size in DEFAULT_POLICY.chunk_sizes:
            assert DEFAULT_POLICY.refusal(size, count) is None, (size, count)
        assert DEFAULT_POLICY.refusal(None, count) is None


def test_the_note_for_a_book_of_one_chunk_reads_right() -> None:
    """``--chunk-size 32`` on a 20-position book: one chunk needed, two proven (the 64 bucket)."""
    assert DEFAULT_POLICY.padding(20, 32).describe() == \
        "1 chunk of 32 positions, padded to 2 for the size bucket (2.00x the chunk proofs)"
