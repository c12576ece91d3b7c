"""The keeper daemon example of docs/keeper.md (zksolv.verifier.keeper), run on a venue folder of two
epochs: synthetic proofs (see test_batch_verify) bound to real market roots, so no prover runs."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path

from tests.test_batch_verify import synthetic_proof, synthetic_vk
from tests.test_groth16_verifier import g1_json
from zksolv.verifier import keeper
from zksolv.core.commitments import market_root
from zksolv.app.demo import demo_market

ACCOUNTS = {"alice": 101, "bob": 202, "carol": 303, "dave": 404}


def _submit(epoch_dir: Path, name: str, proof: dict, public: list[int]) -> None:
    folder = epoch_dir / "proofs" / name
    folder.mkdir(parents=True)
    (folder / "proof.json").write_text(json.dumps(proof))
    (folder / "public.json").write_text(json.dumps([str(x) for x in public]))


def test_keeper_lists_accounts_without_a_valid_proof(tmp_path: Path, capsys) -> None:
    venue = tmp_path / "venue"
    venue.mkdir()
    (venue / "accounts.json").write_text(json.dumps({k: str(v) for k, v in ACCOUNTS.items()}))
    (tmp_path / "vk.json").write_text(json.dumps(synthetic_vk()))
    market = demo_market(n_strikes=3, n_expiries=1)
    for epoch in (1, 2):  # the second epoch re-lists the first's quotes (priced the day before it: allowed)
        state = replace(market, epoch=market.epoch + epoch - 1)
        root = market_root(state)
        epoch_dir = venue / "epochs" / f"{epoch:06d}"
        epoch_dir.mkdir(parents=True)
        state.save(epoch_dir / "market.json")
        _submit(epoch_dir, "alice", synthetic_proof([ACCOUNTS["alice"], root]), [ACCOUNTS["alice"], root])
        if epoch == 1:  # bob: a tampered proof; carol: her proof, for bob's commitment; dave: nothing
            bad = copy.deepcopy(synthetic_proof([ACCOUNTS["bob"], root]))
            bad["pi_a"] = g1_json(7)
            _submit(epoch_dir, "bob", bad, [ACCOUNTS["bob"], root])
            _submit(epoch_dir, "carol", synthetic_proof([ACCOUNTS["bob"], root]), [ACCOUNTS["bob"], root])
            _submit(epoch_dir, "mallory", synthetic_proof([999, root]), [999, root])
        else:  # everyone but alice replays an epoch-1 proof: wrong root
            for name in ("bob", "carol", "dave"):
                old = venue / "epochs" / "000001" / "proofs" / ("alice" if name == "dave" else name)
                _submit(epoch_dir, name, json.loads((old / "proof.json").read_text()),
                        json.loads((old / "public.json").read_text()))
    assert keeper.main(["--venue", str(venue), "--vk", str(tmp_path / "vk.json"), "--once"]) == 0
    first = json.loads((venue / "epochs" / "000001" / keeper.REPORT_FILE).read_text())
    assert first["valid"] == ["alice"] and first["missing"] == ["dave"] and first["unregistered"] == ["mallory"]
    assert first["without_valid_proof"] == ["bob", "carol", "dave"]
    assert first["invalid"]["bob"].startswith("pairing check failed")
    assert first["invalid"]["carol"].startswith("account_commitment differs")
    second = json.loads((venue / "epochs" / "000002" / keeper.REPORT_FILE).read_text())
    assert second["valid"] == ["alice"] and second["missing"] == []
    assert all(r.startswith("market_root differs") for r in second["invalid"].values())
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [p["epoch"] for p in printed] == [market.epoch, market.epoch + 1]
    # a second pass finds nothing new to do
    assert keeper.run_once(venue, keeper.prepare_key(synthetic_vk())) == []


# --------------------------------------------------- the venue's key set: every tier and chunked books
# A venue folder served with --keys DIR: the demo market's default venue (tiers 4, 16, 64; chunks of 32
# and 64), one synthetic key per circuit (distinct parameters, so a proof under another tier's key
# fails), listed by the key set's manifest with this checkout's circuit hashes (rendered from the
# circuit sources: nothing is compiled).
import os  # noqa: E402
import secrets  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402

from tests.keysets import write_test_manifest  # noqa: E402
from tests.test_groth16_verifier import g2_json  # noqa: E402
from zksolv.proofs.statement import Statement  # noqa: E402
from zksolv.toolchain.circuitgen import ChunkTier, FinalTier, Tier, circuit_set, circuit_source_hash  # noqa: E402
from zksolv.verifier.bn254 import R  # noqa: E402
from zksolv.verifier.submissions import KeySet, read_submission  # noqa: E402
from zksolv.verifier.verify import PAIRING_FAILED  # noqa: E402

VENUE_MARKET = demo_market(n_strikes=3, n_expiries=1)  # default venue: tiers (4, 16, 64), chunks of 32 or 64
VENUE_ACCOUNTS = {"t4": 11, "t16": 12, "book": 14, "wrong_key": 15, "unlisted_key": 16, "tier8": 17,
                  "absent": 18}


class _Key:
    """A synthetic Groth16 key of ``n_public`` inputs with its own exponents, and proofs under it."""

    def __init__(self, seed: int, n_public: int) -> None:
        self.alpha, self.beta, self.gamma, self.delta = (101 * seed + k for k in (3, 5, 7, 11))
        self.ic = [1009 * seed + 13 * i + 1 for i in range(n_public + 1)]
        self.vk = {"protocol": "groth16", "curve": "bn128", "nPublic": n_public, "vk_alpha_1": g1_json(self.alpha),
                   "vk_beta_2": g2_json(self.beta), "vk_gamma_2": g2_json(self.gamma),
                   "vk_delta_2": g2_json(self.delta), "IC": [g1_json(k) for k in self.ic]}

    def prove(self, public: list[int]) -> dict:
        a, b = secrets.randbelow(R - 1) + 1, secrets.randbelow(R - 1) + 1
        x = (self.ic[0] + sum(s * k for s, k in zip(public, self.ic[1:]))) % R
        c = (a * b - self.alpha * self.beta - x * self.gamma) * pow(self.delta, -1, R) % R
        return {"pi_a": g1_json(a), "pi_b": g2_json(b), "pi_c": g1_json(c), "protocol": "groth16", "curve": "bn128"}


def _n_public(shape) -> int:
    return len(shape.public)


def _statement(shape, commitment: int, root: int, chunk=None, n_chunks=None) -> Statement:
    return Statement(tier=shape.name, circuit_hash=circuit_source_hash(shape),
                     risk_mode=VENUE_MARKET.params.risk_mode.value, epoch=VENUE_MARKET.epoch, market_root=str(root),
                     account_commitment=str(commitment), setup_route="dev", insecure_setup=True,
                     chunk_tier=None if chunk is None else chunk.name,
                     chunk_circuit_hash=None if chunk is None else circuit_source_hash(chunk), n_chunks=n_chunks)


def _write(folder: Path, name: str, proof: dict, public: list[int]) -> None:
    (folder).mkdir(parents=True, exist_ok=True)
    (folder / f"{name}proof.json").write_text(json.dumps(proof))
    (folder / f"{name}public.json").write_text(json.dumps([str(x) for x in public]))


@pytest.fixture(scope="module")
def key_set_venue(tmp_path_factory) -> tuple[Path, Path, dict[str, _Key]]:
    """(venue folder, key set folder, circuit name -> key); the tier-64 key file is in the folder but
    not in its manifest (written after it): a key the set does not list."""
    tmp = tmp_path_factory.mktemp("keyset_venue")
    state, root = VENUE_MARKET, market_root(VENUE_MARKET)
    shapes = circuit_set(state, chunks=True)
    keys = {s.name: _Key(seed, _n_public(s)) for seed, s in enumerate(shapes, start=1)}
    folder = tmp / "keys"
    folder.mkdir()
    t4, t16, t64 = (Tier.for_market(state, c) for c in (4, 16, 64))
    for name, key in keys.items():
        if name != t64.name:
            (folder / f"{name}.json").write_text(json.dumps(key.vk))
    write_test_manifest(folder, state)
    (folder / f"{t64.name}.json").write_text(json.dumps(keys[t64.name].vk))  # present, not listed
    venue = tmp / "venue"
    epoch_dir = venue / "epochs" / "000001"
    epoch_dir.mkdir(parents=True)
    state.save(epoch_dir / "market.json")
    (venue / "accounts.json").write_text(json.dumps({k: str(v) for k, v in VENUE_ACCOUNTS.items()}))
    proofs = epoch_dir / "proofs"
    for account, tier, signer in (("t4", t4, t4), ("t16", t16, t16), ("wrong_key", t16, t4),
                                  ("unlisted_key", t64, t64)):  # tier 64's key is not listed
        commitment = VENUE_ACCOUNTS[account]
        _write(proofs / account, "", keys[signer.name].prove([commitment, root]), [commitment, root])
        _statement(tier, commitment, root).save(proofs / account / "statement.json")
    # tier 8: a well-formed name the venue does not accept (refused before any key lookup)
    t8 = Tier.for_market(state, 8)
    _write(proofs / "tier8", "", keys[t4.name].prove([VENUE_ACCOUNTS["tier8"], root]), [VENUE_ACCOUNTS["tier8"], root])
    _statement(t8, VENUE_ACCOUNTS["tier8"], root).save(proofs / "tier8" / "statement.json")
    # a book proven in two chunks of 32: linked states, each proof under its circuit's key
    final, c32 = FinalTier.for_market(state), ChunkTier.for_market(state, 32)
    commitment, states = VENUE_ACCOUNTS["book"], [secrets.randbelow(R) for _ in range(3)]
    book = proofs / "book"
    for i in range(2):
        chunk_public = [root, states[i], states[i + 1]]
        _write(book / "chunks" / f"{i:04d}", "", keys[c32.name].prove(chunk_public), chunk_public)
    final_public = [commitment, root, states[0], states[2]]
    _write(book / "final", "", keys[final.name].prove(final_public), final_public)
    _statement(final, commitment, root, chunk=c32, n_chunks=2).save(book / "statement.json")
    return venue, folder, keys


def _check_report(report) -> None:
    t64 = Tier.for_market(VENUE_MARKET, 64).name
    assert report.valid == ["book", "t16", "t4"], report
    assert report.invalid["wrong_key"] == PAIRING_FAILED  # a tier-16 proof made with the tier-4 key
    assert report.invalid["unlisted_key"] == f"the venue's key set has no key for {t64}"
    assert report.invalid["tier8"] == VENUE_MARKET.venue.refusal(8, None)  # before any key lookup
    assert "capacity 8" in report.invalid["tier8"]
    assert report.missing == ["absent"] and report.without_valid_proof == ["absent", "tier8", "unlisted_key",
                                                                           "wrong_key"]


def test_library_keeper_serves_every_tier_and_chunked_books_from_the_key_set(key_set_venue) -> None:
    venue, folder, _ = key_set_venue
    report = keeper.check_epoch(venue / "epochs" / "000001", keeper.load_registered(venue),
                                keys=KeySet.from_folder(folder))
    _check_report(report)


def test_zksolv_verify_reads_the_folders_as_the_library_keeper(key_set_venue) -> None:
    """The same folders through `zksolv verify --keys`: the same verdicts (one reader)."""
    from click.testing import CliRunner

    from zksolv.cli import main as cli

    venue, folder, _ = key_set_venue
    epoch_dir = venue / "epochs" / "000001"
    res = CliRunner().invoke(cli, ["verify", "--proofs", str(epoch_dir / "proofs"), "--market",
                                   str(epoch_dir / "market.json"), "--keys", str(folder), "--json"])
    assert res.exit_code == 1, res.output
    rows = {Path(r["folder"]).name: r for r in map(json.loads, res.stdout.splitlines()) if "folder" in r}
    report = keeper.check_epoch(epoch_dir, keeper.load_registered(venue), keys=KeySet.from_folder(folder))
    assert sorted(n for n, r in rows.items() if r["valid"]) == report.valid
    assert {n: r["reason"] for n, r in rows.items() if not r["valid"]} == report.invalid
    assert rows["book"]["chunks"] == 2 and rows["book"]["verification_key"].endswith(
        f"{FinalTier.for_market(VENUE_MARKET).name}.json")


def test_read_submission_names_the_key_and_refuses_an_unlisted_one(key_set_venue) -> None:
    venue, folder, _ = key_set_venue
    proofs, keys = venue / "epochs" / "000001" / "proofs", KeySet.from_folder(folder)
    read = read_submission(proofs / "t16", VENUE_MARKET, VENUE_ACCOUNTS["t16"], keys)
    assert read.refusal is None and read.submission is not None and not read.chunked
    assert read.key is not None and read.key.path == str(folder / f"{Tier.for_market(VENUE_MARKET, 16).name}.json")
    assert "snarkjs setup, no ceremony transcript" in read.key.setup
    book = read_submission(proofs / "book", VENUE_MARKET, VENUE_ACCOUNTS["book"], keys)
    assert book.chunked and book.chunks == 2 and type(book.submission).__name__ == "ChunkedSubmission"
    unlisted = read_submission(proofs / "unlisted_key", VENUE_MARKET, VENUE_ACCOUNTS["unlisted_key"], keys)
    assert unlisted.submission is None and unlisted.refusal is not None and not unlisted.refusal.valid
    assert "has no key for" in unlisted.refusal.reason
    # one key for every proof: a statement of this market's shape is read with it; another shape's
    # circuit is refused; it cannot serve a chunked book (refused for that book only)
    one = KeySet.from_file(folder / f"{Tier.for_market(VENUE_MARKET, 4).name}.json")
    with_vk = read_submission(proofs / "t4", VENUE_MARKET, VENUE_ACCOUNTS["t4"], one)
    assert with_vk.refusal is None and with_vk.key is not None and "--vk" in with_vk.key.setup
    (v,) = keeper.verify_many([with_vk.submission], VENUE_MARKET)
    assert v.valid
    other_shape = _with_tier(proofs / "t4", "avsl_n4_u1_a1_k2_d1_stress")
    refused = read_submission(other_shape, VENUE_MARKET, VENUE_ACCOUNTS["t4"], one)
    assert refused.refusal is not None and refused.refusal.reason.startswith("proof is for circuit avsl_n4_u1_a1_k2_d1")
    refused = read_submission(proofs / "book", VENUE_MARKET, VENUE_ACCOUNTS["book"], one)
    assert refused.refusal is not None and "needs the chunk and final keys" in refused.refusal.reason


def _with_tier(folder: Path, tier: str) -> Path:
    """A copy of ``folder`` whose statement names ``tier``."""
    import shutil

    copy_dir = folder.parent.parent / "copies" / f"{folder.name}_{tier}"
    if not copy_dir.exists():
        shutil.copytree(folder, copy_dir)
        data = json.loads((copy_dir / "statement.json").read_text())
        (copy_dir / "statement.json").write_text(json.dumps({**data, "tier": tier}))
    return copy_dir


def test_a_key_file_swapped_after_the_manifest_is_refused(key_set_venue, tmp_path: Path) -> None:
    """The venue's keys are checked against their manifest at every epoch: a replaced key stops the
    keeper (exit 2, naming the file) instead of verifying with it."""
    import shutil

    venue, folder, keys = key_set_venue
    copy_dir = tmp_path / "keys"
    shutil.copytree(folder, copy_dir)
    t4 = Tier.for_market(VENUE_MARKET, 4).name
    (copy_dir / f"{t4}.json").write_text(json.dumps(_Key(99, 2).vk))
    work = tmp_path / "venue"
    shutil.copytree(venue, work)
    err = subprocess.run([sys.executable, "-m", "zksolv.verifier.keeper", "--venue", str(work), "--keys",
                          str(copy_dir), "--once"], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert err.returncode == 2, err.stderr
    assert f"{t4}.json does not match its sha256" in err.stderr and "Traceback" not in err.stderr
    assert not (work / "epochs" / "000001" / keeper.REPORT_FILE).exists()


def test_python_m_keeper_with_keys_dir_serves_the_venue(key_set_venue, tmp_path: Path) -> None:
    import shutil

    venue, folder, _ = key_set_venue
    work = tmp_path / "venue"
    shutil.copytree(venue, work)
    code = ("import json, sys\nfrom zksolv.verifier.keeper import main\nrc = main(sys.argv[1:])\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('numpy', 'numba', 'groth16py', 'matplotlib') or m.startswith('zksolv.prover'))))\nsys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code, "--venue", str(work), "--keys", str(folder), "--once"],
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.returncode == 0, out.stderr
    printed, modules = out.stdout.splitlines()
    assert json.loads(modules) == []  # the keeper's run: no numpy, numba, native or prover code
    line = json.loads(printed)
    assert line["valid"] == 3 and line["without_valid_proof"] == ["absent", "tier8", "unlisted_key", "wrong_key"]
    report = json.loads((work / "epochs" / "000001" / keeper.REPORT_FILE).read_text())
    assert report["valid"] == ["book", "t16", "t4"]
    # the old one-key form still runs; a key taken from inside the venue folder is refused (exit 2)
    inside = work / "epochs" / "000001" / "proofs" / "t4" / "vk.json"
    inside.write_text((folder / f"{Tier.for_market(VENUE_MARKET, 4).name}.json").read_text())
    assert keeper.main(["--venue", str(work), "--vk", str(inside), "--once"]) == 2
    assert keeper.main(["--venue", str(work), "--vk", str(tmp_path / "none.json"), "--once"]) == 2


def test_one_key_keeper_imports_no_circuit_code(tmp_path: Path) -> None:
    """``--vk`` over folders without a statement (the keeper of docs/keeper.md before key sets): it
    runs without the circuit generator, the toolchain package, numpy, numba or the prover."""
    venue = tmp_path / "venue"
    epoch_dir = venue / "epochs" / "000001"
    epoch_dir.mkdir(parents=True)
    state = demo_market(n_strikes=3, n_expiries=1)
    state.save(epoch_dir / "market.json")
    root = market_root(state)
    (venue / "accounts.json").write_text(json.dumps({"alice": "101"}))
    _submit(epoch_dir, "alice", synthetic_proof([101, root]), [101, root])
    (tmp_path / "vk.json").write_text(json.dumps(synthetic_vk()))
    code = ("import json, sys\nfrom zksolv.verifier.keeper import main\nrc = main(sys.argv[1:])\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'numba', 'groth16py') "
            "or m.startswith(('zksolv.toolchain', 'zksolv.prover', 'zksolv.chain')))))\nsys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code, "--venue", str(venue), "--vk", str(tmp_path / "vk.json"),
                          "--once"], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.returncode == 0, out.stderr
    printed, modules = out.stdout.splitlines()
    assert json.loads(printed)["valid"] == 1 and json.loads(modules) == []
