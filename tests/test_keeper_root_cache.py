"""The keeper's root cache (:mod:`zksolv.core.root_cache`): a market file's root computed once,
kept per sha256 of the file's bytes and a fingerprint of ``zksolv/core``, and read back by the next
keeper process; an entry that does not check out is recomputed; a changed byte is another entry;
``--no-cache`` / ``ZKSOLV_ROOT_CACHE=off`` neither read nor write; the verdicts are the same either way.

Synthetic proofs (tests/test_batch_verify.py) bound to real market roots: no prover runs.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.test_batch_verify import synthetic_proof, synthetic_vk
from zksolv.app.demo import demo_market
from zksolv.cli import main
from zksolv.core import commitments, root_cache
from zksolv.core.fixedpoint import FIELD_MODULUS
from zksolv.core.market import MarketState
from zksolv.verifier import keeper

ACCOUNTS = {"alice": 101, "bob": 202, "carol": 303}


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("ZKSOLV_CACHE", str(folder))
    monkeypatch.delenv(root_cache.ENV, raising=False)
    return folder


@pytest.fixture()
def trees(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the instrument-tree computations (the bulk of a market root) from here on."""
    calls: list[int] = []
    real = commitments.instrument_tree

    def counting(market: MarketState):  # noqa: ANN202
        calls.append(1)
        return real(market)

    monkeypatch.setattr(commitments, "instrument_tree", counting)
    return calls


@pytest.fixture(scope="module")
def market_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("market") / "market.json"
    demo_market(n_strikes=3, n_expiries=1).save(path)
    return path


@pytest.fixture(scope="module")
def true_root(market_file: Path) -> int:
    return commitments.market_root(MarketState.load(market_file))


def _entry(market_file: Path) -> Path:
    return root_cache.entry_path(hashlib.sha256(market_file.read_bytes()).hexdigest())


def _forge(path: Path, **changes: object) -> None:
    """Rewrite an entry's body with ``changes`` and a matching checksum (what only someone who can
    write the keeper's cache can do)."""
    data = json.loads(path.read_text())
    body = {**data["body"], **changes}
    path.write_text(json.dumps({"sha256": root_cache._body_sha256(body), "body": body}))


def test_the_first_load_computes_and_stores_the_next_reads(cache: Path, trees: list[int], market_file: Path,
                                                          true_root: int) -> None:
    first = root_cache.load_market(market_file)
    assert commitments.market_root(first) == true_root and len(trees) == 1
    entry = _entry(market_file)
    assert entry.parent == cache / "keeper" / "roots" and entry.is_file()
    body = json.loads(entry.read_text())["body"]
    assert body["market_root"] == str(true_root) and body["implementation"] == root_cache.implementation()
    second = root_cache.load_market(market_file)  # another parse of the same bytes: a new object
    assert second is not first and commitments.market_root(second) == true_root
    assert len(trees) == 1, "the cached root was not used"


@pytest.mark.parametrize("damage", ["truncated", "not_json", "root_edited", "other_implementation",
                                    "other_format", "other_file", "other_epoch", "beyond_the_field", "no_digits"])
def test_an_entry_that_does_not_check_out_is_recomputed(cache: Path, trees: list[int], market_file: Path,
                                                        true_root: int, damage: str) -> None:
    root_cache.load_market(market_file)
    entry = _entry(market_file)
    data = json.loads(entry.read_text())
    if damage == "truncated":
        entry.write_text(entry.read_text()[:60])
    elif damage == "not_json":
        entry.write_bytes(b"\xff\xfe garbage")
    elif damage == "root_edited":  # the checksum no longer matches
        data["body"]["market_root"] = str(true_root + 1)
        entry.write_text(json.dumps(data))
    elif damage == "other_implementation":  # another zksolv's entry: its root may be defined differently
        _forge(entry, implementation="0" * 64)
    elif damage == "other_format":
        _forge(entry, format=root_cache.FORMAT + 1)
    elif damage == "other_file":
        _forge(entry, market_sha256="ab" * 32)
    elif damage == "other_epoch":
        _forge(entry, epoch=data["body"]["epoch"] + 1)
    elif damage == "beyond_the_field":
        _forge(entry, market_root=str(FIELD_MODULUS + 5))
    else:
        _forge(entry, market_root="0x1f")
    market = root_cache.load_market(market_file)
    assert commitments.market_root(market) == true_root
    assert len(trees) == 2, "a damaged entry was used"
    assert json.loads(entry.read_text())["body"]["market_root"] == str(true_root)  # and replaced
    root_cache.load_market(market_file)
    assert len(trees) == 2


def test_one_byte_changed_is_another_entry(cache: Path, trees: list[int], market_file: Path, tmp_path: Path,
                                           true_root: int) -> None:
    root_cache.load_market(market_file)
    other = tmp_path / "market.json"
    other.write_bytes(market_file.read_bytes() + b" ")  # the same market, one byte more: another file
    assert commitments.market_root(root_cache.load_market(other)) == true_root
    assert len(trees) == 2 and _entry(other) != _entry(market_file) and _entry(other).is_file()
    text = market_file.read_text()
    changed = tmp_path / "epoch.json"
    changed.write_text(text.replace(f'"epoch": {json.loads(text)["epoch"]}', f'"epoch": {json.loads(text)["epoch"] + 1}', 1))
    moved = root_cache.load_market(changed)
    assert len(trees) == 3 and moved.epoch == json.loads(text)["epoch"] + 1
    assert commitments.market_root(moved) != true_root


def test_disabled_it_neither_reads_nor_writes(cache: Path, trees: list[int], market_file: Path, true_root: int,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert commitments.market_root(root_cache.load_market(market_file, use_cache=False)) == true_root
    assert len(trees) == 1 and not _entry(market_file).exists()
    monkeypatch.setenv(root_cache.ENV, "off")
    assert commitments.market_root(root_cache.load_market(market_file)) == true_root
    assert len(trees) == 2 and not _entry(market_file).exists()
    # an entry forged with a matching checksum is the keeper's own state (docs/keeper.md): the cache,
    # when on, takes it; switched off, the keeper recomputes and ignores it
    monkeypatch.delenv(root_cache.ENV)
    root_cache.load_market(market_file)
    _forge(_entry(market_file), market_root=str(true_root + 1))
    assert commitments.market_root(root_cache.load_market(market_file)) == true_root + 1
    assert commitments.market_root(root_cache.load_market(market_file, use_cache=False)) == true_root
    monkeypatch.setenv(root_cache.ENV, "0")
    assert commitments.market_root(root_cache.load_market(market_file)) == true_root


def test_a_read_only_cache_costs_only_the_hashing(cache: Path, trees: list[int], market_file: Path,
                                                  true_root: int) -> None:
    cache.mkdir(parents=True)
    (cache / "keeper").write_text("a file where the folder would be")
    assert commitments.market_root(root_cache.load_market(market_file)) == true_root
    assert commitments.market_root(root_cache.load_market(market_file)) == true_root
    assert len(trees) == 2


def test_a_bad_market_is_refused_as_before(cache: Path, tmp_path: Path, market_file: Path) -> None:
    from zksolv.core.errors import InputError

    broken = tmp_path / "broken.json"
    broken.write_text(market_file.read_text().replace('"epoch"', '"epoch_"', 1))
    with pytest.raises(InputError, match="market"):
        root_cache.load_market(broken)
    with pytest.raises(InputError, match="not found"):
        root_cache.load_market(tmp_path / "absent.json")
    assert not (cache / "keeper").exists()


# ------------------------------------------------------------- the keepers: same verdicts with and without
def _venue(tmp_path: Path, market_file: Path, root: int) -> Path:
    venue = tmp_path / "venue"
    epoch_dir = venue / "epochs" / "000001"
    epoch_dir.mkdir(parents=True)
    (venue / "accounts.json").write_text(json.dumps({k: str(v) for k, v in ACCOUNTS.items()}))
    (epoch_dir / "market.json").write_bytes(market_file.read_bytes())
    for name, public in (("alice", [ACCOUNTS["alice"], root]), ("bob", [ACCOUNTS["bob"], root + 1])):
        folder = epoch_dir / "proofs" / name
        folder.mkdir(parents=True)
        (folder / "proof.json").write_text(json.dumps(synthetic_proof(public)))
        (folder / "public.json").write_text(json.dumps([str(x) for x in public]))
    return venue


def test_check_epoch_gives_the_same_verdicts_with_and_without_the_cache(cache: Path, trees: list[int],
                                                                        market_file: Path, true_root: int,
                                                                        tmp_path: Path) -> None:
    venue = _venue(tmp_path, market_file, true_root)
    key = keeper.prepare_key(synthetic_vk())
    epoch_dir = venue / "epochs" / "000001"
    reports = []
    for use_cache in (False, True, True):  # off, then a miss, then a hit
        report = asdict(keeper.check_epoch(epoch_dir, keeper.load_registered(venue), key, use_cache=use_cache))
        reports.append({k: v for k, v in report.items() if k != "seconds"})
    assert len(trees) == 2  # the third pass read the root the second stored
    assert reports[0] == reports[1] == reports[2]
    assert reports[0]["valid"] == ["alice"] and reports[0]["missing"] == ["carol"]
    assert reports[0]["invalid"]["bob"].startswith("market_root differs")


def test_the_daemon_takes_no_cache(cache: Path, market_file: Path, true_root: int, tmp_path: Path) -> None:
    venue = _venue(tmp_path, market_file, true_root)
    (tmp_path / "vk.json").write_text(json.dumps(synthetic_vk()))
    assert keeper.main(["--venue", str(venue), "--vk", str(tmp_path / "vk.json"), "--once", "--no-cache"]) == 0
    report = json.loads((venue / "epochs" / "000001" / keeper.REPORT_FILE).read_text())
    assert report["valid"] == ["alice"] and not (cache / "keeper").exists()


def test_zksolv_verify_uses_and_skips_the_cache(cache: Path, trees: list[int], market_file: Path, true_root: int,
                                                tmp_path: Path) -> None:
    venue = _venue(tmp_path, market_file, true_root)
    proofs = venue / "epochs" / "000001" / "proofs"
    (tmp_path / "vk.json").write_text(json.dumps(synthetic_vk()))
    args = ["verify", "--proofs", str(proofs), "--market", str(market_file), "--vk", str(tmp_path / "vk.json"),
            "--json"]
    outputs = []
    for extra in (["--no-cache"], [], []):
        result = CliRunner().invoke(main, [*args, *extra])
        assert result.exit_code == 1, result.output  # bob's root is wrong
        outputs.append([json.loads(line) for line in result.output.splitlines() if line.startswith("{")][:-1])
        if extra:
            assert not _entry(market_file).exists()
    # folders without a statement are refused before any pairing (so --no-cache computed no root): the
    # second run stored the root, the third read it
    assert _entry(market_file).is_file() and len(trees) == 1
    assert outputs[0] == outputs[1] == outputs[2]
    assert [r["status"] for r in outputs[0]] == ["malformed", "malformed"]


def test_the_cache_module_stays_on_the_keepers_side() -> None:
    code = ("import sys, zksolv.core.root_cache, zksolv.verifier.keeper; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'numba') "
            "or m.startswith(('zksolv.toolchain', 'zksolv.prover', 'zksolv.risk'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------- the other per-process fixed costs
def test_a_market_state_is_checked_once_per_object(market_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """verify_many re-validates the state it is given; a state load() already checked (frozen) is not
    checked again, a copy with a changed field is."""
    import dataclasses

    from zksolv.core.errors import InputError

    market = MarketState.load(market_file)
    audits: list[int] = []
    monkeypatch.setattr(MarketState, "audit_derived", lambda self: audits.append(1) or self)
    assert market.validated() is market and market.validated(audit=True) is market and audits == []
    fresh = dataclasses.replace(market, epoch=market.epoch)
    fresh.validated(audit=True)
    assert audits == [1]
    with pytest.raises(InputError, match="epoch"):
        dataclasses.replace(market, epoch=-1).validated()
    structural = dataclasses.replace(market)
    structural.validated()  # structure only: the audit still runs when asked for
    structural.validated(audit=True)
    assert audits == [1, 1]


def test_a_few_native_checks_run_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("groth16py")
    import concurrent.futures

    from zksolv.verifier import native

    root = 5
    items = [(synthetic_proof([1, root]), [1, root]), (synthetic_proof([2, root], c_shift=1), [2, root]),
             (synthetic_proof([3, root]), [3, root])]
    expected = [True, False, True]
    assert native.check_native(synthetic_vk(), items, workers=2) == expected  # a pool, as asked

    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a process pool for three proofs")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_pool)
    assert native.check_native(synthetic_vk(), items) == expected
    many = items * (native.MIN_PER_PROCESS // 3 + 1)
    monkeypatch.setattr(native, "default_workers", lambda: 2)
    with pytest.raises(AssertionError, match="process pool"):
        native.check_native(synthetic_vk(), many)  # over MIN_PER_PROCESS: the default starts a pool


def test_the_plain_decimal_fast_path_parses_as_the_decimal_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """parse_fixed's fast path (plain ASCII decimal strings, most of a market file) gives the same
    value or the same error as the Decimal path, exact or rounding, at every scale the format uses."""
    import random

    from zksolv.core import fixedpoint as fp
    from zksolv.core.errors import InputError

    def parse(value: str, scale: int, exact: bool, fast: bool) -> tuple[str, object]:
        with monkeypatch.context() as m:
            if not fast:
                m.setattr(fp, "_PLAIN_DECIMAL", re.compile(r"(?!)"))  # matches nothing: the Decimal path
            try:
                return "ok", fp.parse_fixed("f", value, scale, exact=exact)
            except InputError as exc:
                return "error", str(exc)

    rnd = random.Random(26)
    values = ["0", "-0", "-0.000", "007", "1.", ".5", "1e3", "+1", "1_0", " 1", "\u0661\u0662", "0.0000005",
              "-0.0000005", "0.0000015", "-2.5", "9" * 36 + "." + "9" * 36, "1" * 37]
    for _ in range(1500):
        whole = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(1, 20)))
        frac = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(0, 16)))
        values.append(rnd.choice(("", "-")) + whole + (f".{frac}" if frac else ""))
    for value in values:
        for scale in (fp.PRICE_SCALE, fp.DELTA_SCALE, fp.GAMMA_SCALE, 1):
            for exact in (True, False):
                assert parse(value, scale, exact, True) == parse(value, scale, exact, False), (value, scale, exact)
