"""The venue's multi-party phase-2 ceremony (zksolv ceremony ...) and the key set it yields.

One three-party ceremony (two contributors in separate homes with only the folder, then a
beacon) over the smallest market whose set has every kind of circuit (one tier of 1 position,
one chunk size of 8 and the final circuit of a one-underlying market: ~5.3-5.7k constraints
each, so a 2^13 powers of tau, made once and cached by content like every dev ptau), checked by
a fourth home; then each kind of tampering and bad input, and the key set in keepers' hands.
"""

from __future__ import annotations

import hashlib
import math
import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.test_model import one_call_market
from zksolv.cli import EXIT_INPUT, EXIT_INVALID, main
from zksolv.core import fixedpoint as fp
from zksolv.core import audit
from zksolv.toolchain import ceremony as cer
from zksolv.proofs.ptau_hashes import HERMEZ_PTAU
from zksolv.core.venue import DEFAULT_POLICY

PTAU_POWER = 13  # 2^13 = 8192 >= ~5.7k constraints + public + 1 of the largest circuit of the set
BEACON = "0b1f2e3d4c5b6a79" * 4
ROOT = Path(__file__).resolve().parent.parent


def small_market(tiers: tuple[int, ...] = (1,)):
    """one_call_market with the smallest venue: one tier of 1 position, chunks of 8, 2 chunks, made to
    pass the keeper's audit on load like any published market: its call priced by Black-Scholes at a
    published iv and a valuation time on its epoch's UTC day, a one-value vol history, and the smallest
    re-derivable grid (horizon6) with the VaR parameters derived from it (the circuits depend on the
    shape only)."""
    from zksolv.core import scenarios as sc

    venue = replace(DEFAULT_POLICY, tiers=tiers, chunk_sizes=(8,), chunk_counts=(2,)).validated()
    market = one_call_market()
    epoch = 20_833
    valuation_time, iv = epoch * audit.EPOCH_SECONDS, 500_000_000_000  # iv 0.5
    expiry = valuation_time + 30 * 86_400
    [call] = market.instruments
    sqrt_tau = math.sqrt((expiry - valuation_time) / fp.SECONDS_PER_YEAR)
    value, delta, gamma, vega = audit.bs_greeks(call.strike / fp.PRICE_SCALE, call.strike / fp.PRICE_SCALE,
                                                iv / audit.IV_SCALE * sqrt_tau, sqrt_tau, True)
    priced = replace(call, expiry=expiry, iv=iv, mark=round(value * fp.PRICE_SCALE),
                     delta=round(delta * fp.DELTA_SCALE), gamma=round(gamma * fp.GAMMA_SCALE),
                     vega=round(vega * fp.VEGA_SCALE))
    [und] = market.underlyings
    und = replace(und, vol_history=(und.vol_ema,))  # the EMA of one value is that value
    p = market.params
    vol_shift, correlation = 250_000, ((fp.RATIO_SCALE,),)
    vols = sc.risk_vols((und,))
    grid = sc.horizon_scenarios(vols, p.horizon_seconds, steps=1, vega_stress=vol_shift / fp.RATIO_SCALE)
    loadings, gamma_addon, vega_stress = sc.var_parameters(
        (und,), [[1.0]], p.var_z / fp.RATIO_SCALE, p.horizon_seconds,
        [vol_shift / fp.RATIO_SCALE * s for s in vols], vols=vols)
    params = replace(p, v_scalar=340_000, scenarios=grid, var_loadings=loadings, gamma_addon=gamma_addon,
                     vega_stress=vega_stress, vol_shift=vol_shift, correlation=correlation)
    return replace(market, epoch=epoch, venue=venue, params=params, underlyings=(und,), instruments=(priced,),
                   valuation_time=valuation_time).validated()


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file in ``folder`` (to show a failed step changed nothing)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def zksolv_in_home(home: Path, *args: str, shared_cache: bool = False) -> subprocess.CompletedProcess[str]:
    """``python -m zksolv ARGS`` as another user: its own HOME (and cache, unless ``shared_cache``), run
    from inside that home (no checkout in the working directory)."""
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("ZKSOLV_CACHE", "XDG_CACHE_HOME", "HOME")}
    env["HOME"] = str(home)
    if shared_cache:  # compiled circuits are content-addressed: sharing them saves minutes, trusts nothing more
        from zksolv.toolchain.cache import cache_dir

        env["ZKSOLV_CACHE"] = str(cache_dir())
    return subprocess.run([sys.executable, "-m", "zksolv", *args], cwd=home, env=env, capture_output=True, text=True,
                          timeout=1800)


def test_ptau_table_is_the_snarkjs_readme_table() -> None:
    """The shipped hashes are the ones in the pinned snarkjs' README (the source the module names)."""
    readme = (ROOT / "node_modules" / "snarkjs" / "README.md")
    if not readme.is_file():
        pytest.skip("node_modules not installed")
    text = readme.read_text()
    assert len(HERMEZ_PTAU) == 21
    for power, (name, digest) in HERMEZ_PTAU.items():
        assert f"{name}]" in text and digest in text, power
        assert cer.known_ptau(digest) == name
    assert cer.known_ptau("00" * 64) is None


def test_bad_beacon_and_name_are_refused_before_any_work(tmp_path: Path) -> None:
    for bad in ("xyz", "abc", "", "0x"):
        with pytest.raises(cer.InputError, match="--hex"):
            cer.beacon(tmp_path, bad)
    with pytest.raises(cer.InputError, match="--iterations-exp"):
        cer.beacon(tmp_path, "ab", 9)
    for bad in ("", "x" * 65, "semi;colon", "new\nline"):
        with pytest.raises(cer.InputError, match="--name"):
            cer.contribute(tmp_path, bad)
    with pytest.raises(cer.InputError, match="not a ceremony folder"):
        cer.contribute(tmp_path, "alice")


# ====================================================================== slow: a real ceremony
@pytest.fixture(scope="module")
def ptau() -> Path:
    from zksolv.toolchain.trusted_setup import dev_powers_of_tau

    return dev_powers_of_tau(PTAU_POWER)


@pytest.fixture(scope="module")
def run(ptau: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """init (venue) -> alice (own home) -> bob (own home) -> beacon (venue); folders kept after each step."""
    work = tmp_path_factory.mktemp("ceremony")
    small_market().save(work / "market.json")
    venue = work / "venue" / "ceremony"
    out = CliRunner().invoke(main, ["ceremony", "init", "--market", str(work / "market.json"), "--ptau", str(ptau),
                                    "--out", str(venue), "--chunks", "--json"])
    assert out.exit_code == 0, out.output
    assert "not one of the public Perpetual Powers of Tau files" in out.stderr  # a dev ptau: warned
    initial = work / "after_init"
    shutil.copytree(venue, initial)
    # the folder travels: alice and bob each work in their own home, with the folder alone
    states = {"init": initial}
    previous = venue
    for name in ("alice", "bob"):
        home = work / f"home_{name}"
        mine = home / "ceremony"
        shutil.copytree(previous, mine)
        done = zksolv_in_home(home, "ceremony", "contribute", "ceremony", "--name", name, "--json")
        assert done.returncode == 0, done.stderr
        published = json.loads(done.stdout)
        assert published["name"] == name and len(published["contributions"]) == 3
        states[name] = mine
        previous = mine
    closed = work / "venue" / "closed"
    shutil.copytree(previous, closed)
    out = CliRunner().invoke(main, ["ceremony", "beacon", str(closed), "--hex", BEACON, "--json"])
    assert out.exit_code == 0, out.output
    states["beacon"] = closed
    states["market"] = work / "market.json"
    states["work"] = work
    return states


def ceremony_verify(folder: Path, market: Path, *extra: str) -> tuple[int, dict]:
    out = CliRunner().invoke(main, ["ceremony", "verify", str(folder), "--market", str(market), "--json", *extra])
    return out.exit_code, (json.loads(out.stdout) if out.stdout.strip().startswith("{") else {"output": out.output})


@pytest.mark.slow
def test_three_party_ceremony_verified_by_a_fourth_home(run: dict[str, Path]) -> None:
    home = run["work"] / "home_keeper"
    shutil.copytree(run["beacon"], home / "ceremony")
    shutil.copy(run["market"], home / "market.json")
    checked = zksolv_in_home(home, "ceremony", "verify", "ceremony", "--market", "market.json", "--json",
                             "--allow-unpublished-ptau", shared_cache=True)  # the suite's small dev ptau
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = json.loads(checked.stdout)
    assert report["valid"] and not report["failures"]
    # valid only under the waiver: recorded, loud, never a production verdict
    assert report["waived"] == ["unpublished_ptau"] and report["production"] is False
    assert "NOT FOR REAL FUNDS" in checked.stderr
    assert report["contributors"][-1]["beacon"] == BEACON
    assert [c["name"] for c in report["contributors"]] == ["alice", "bob", "zksolv beacon"]
    assert [c["type"] for c in report["contributors"]] == ["contribution", "contribution", "beacon"]
    assert sorted(r["circuit"] for r in report["circuits"]) == sorted(
        ["avsl_n1_u1_a1_k6_d1_stress", "avsl_chunk_c8_u1_d1", "avsl_final_u1_a1_k6_stress"])
    transcript = json.loads((run["beacon"] / cer.TRANSCRIPT).read_text())
    for c in transcript["circuits"]:
        assert [x["name"] for x in c["contributions"]] == ["alice", "bob", "zksolv beacon"]
        # each round names the transcript it was made on: a chain a venue can publish round by round
        assert c["contributions"][0]["previous_transcript_sha256"] == cer.transcript_sha256(run["init"])
        assert c["contributions"][1]["previous_transcript_sha256"] == cer.transcript_sha256(run["alice"])
        assert c["contributions"][2]["beacon"] == BEACON
    # the initial folder has no contribution: not a usable key set
    code, report = ceremony_verify(run["init"], run["market"], "--allow-unpublished-ptau")
    assert code == EXIT_INVALID and all("no contribution yet" in f for f in report["failures"])


def _copy(run: dict[str, Path], name: str) -> Path:
    dst = run["work"] / "cases" / name
    shutil.copytree(run["beacon"], dst)
    return dst


@pytest.mark.slow
def test_a_tampered_zkey_fails_verify(run: dict[str, Path]) -> None:
    folder = _copy(run, "tampered")
    target = folder / "avsl_chunk_c8_u1_d1.zkey"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    t = json.loads((folder / cer.TRANSCRIPT).read_text())  # even with the transcript made to agree
    for c in t["circuits"]:
        if c["name"] == "avsl_chunk_c8_u1_d1":
            c["zkey_sha256"] = c["contributions"][-1]["zkey_sha256"] = hashlib.sha256(data).hexdigest()
    (folder / cer.TRANSCRIPT).write_text(json.dumps(t))
    code, report = ceremony_verify(folder, run["market"])
    assert code == EXIT_INVALID
    assert any(f.startswith("circuit avsl_chunk_c8_u1_d1:") and "does not verify" in f for f in report["failures"])


@pytest.mark.slow
def test_a_dropped_contribution_fails_verify(run: dict[str, Path]) -> None:
    # one circuit's key rolled back to bob's, its transcript entry removed: consistent for that circuit alone
    folder = _copy(run, "dropped")
    shutil.copy(run["bob"] / "avsl_final_u1_a1_k6_stress.zkey", folder / "avsl_final_u1_a1_k6_stress.zkey")
    t = json.loads((folder / cer.TRANSCRIPT).read_text())
    for c in t["circuits"]:
        if c["name"] == "avsl_final_u1_a1_k6_stress":
            c["contributions"].pop()
            c["zkey_sha256"] = c["contributions"][-1]["zkey_sha256"]
    (folder / cer.TRANSCRIPT).write_text(json.dumps(t))
    code, report = ceremony_verify(folder, run["market"])
    assert code == EXIT_INVALID
    assert any("avsl_final_u1_a1_k6_stress" in f and "differ from the other circuits" in f for f in report["failures"])
    # the transcript drops bob's entry while the key holds it
    folder = _copy(run, "dropped2")
    t = json.loads((folder / cer.TRANSCRIPT).read_text())
    t["circuits"][0]["contributions"].pop(1)
    (folder / cer.TRANSCRIPT).write_text(json.dumps(t))
    code, report = ceremony_verify(folder, run["market"])
    assert code == EXIT_INVALID and any("the transcript lists 2 contribution(s), the key holds 3" in f
                                        for f in report["failures"])


@pytest.mark.slow
def test_an_edited_transcript_fails_verify(run: dict[str, Path]) -> None:
    folder = _copy(run, "edited")
    t = json.loads((folder / cer.TRANSCRIPT).read_text())
    for c in t["circuits"]:  # claim carol made bob's contribution, in every circuit
        c["contributions"][1]["name"] = "carol"
    (folder / cer.TRANSCRIPT).write_text(json.dumps(t))
    code, report = ceremony_verify(folder, run["market"])
    assert code == EXIT_INVALID and any("names 'carol', the key 'bob'" in f for f in report["failures"])
    folder = _copy(run, "edited_hash")
    t = json.loads((folder / cer.TRANSCRIPT).read_text())
    t["circuits"][2]["contributions"][0]["hash"] = "00" * 64
    (folder / cer.TRANSCRIPT).write_text(json.dumps(t))
    code, report = ceremony_verify(folder, run["market"])
    assert code == EXIT_INVALID and any("contribution #1 (alice): hash differs" in f for f in report["failures"])


@pytest.mark.slow
def test_a_stale_or_truncated_folder_is_refused_and_left_unchanged(run: dict[str, Path]) -> None:
    # bob received alice's transcript with one key still from before alice (a stale, mixed copy)
    folder = run["work"] / "cases" / "stale"
    shutil.copytree(run["alice"], folder)
    shutil.copy(run["init"] / "avsl_n1_u1_a1_k6_d1_stress.zkey", folder / "avsl_n1_u1_a1_k6_d1_stress.zkey")
    before = snapshot(folder)
    out = CliRunner().invoke(main, ["ceremony", "contribute", str(folder), "--name", "bob"])
    assert out.exit_code == EXIT_INPUT
    assert "circuit avsl_n1_u1_a1_k6_d1_stress" in out.stderr and "stale" in out.stderr
    assert snapshot(folder) == before
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".stale") and p.suffix == ".tmp"]  # no staging
    # a truncated key: refused by contribute and by beacon, nothing changed
    folder = run["work"] / "cases" / "truncated"
    shutil.copytree(run["alice"], folder)
    key = folder / "avsl_chunk_c8_u1_d1.zkey"
    key.write_bytes(key.read_bytes()[:1000])
    before = snapshot(folder)
    for args in (["contribute", str(folder), "--name", "bob"], ["beacon", str(folder), "--hex", BEACON]):
        out = CliRunner().invoke(main, ["ceremony", *args])
        assert out.exit_code == EXIT_INPUT and str(key) in out.stderr, out.output
    assert snapshot(folder) == before
    code, report = ceremony_verify(folder, run["market"])
    assert code == EXIT_INVALID and any(str(key) in f for f in report["failures"])
    # a beacon that is not hex: refused, nothing changed
    folder = run["alice"]
    before = snapshot(folder)
    out = CliRunner().invoke(main, ["ceremony", "beacon", str(folder), "--hex", "not-hex"])
    assert out.exit_code == EXIT_INPUT and "--hex" in out.stderr and snapshot(folder) == before
    # after the beacon nothing more can be added
    before = snapshot(run["beacon"])
    out = CliRunner().invoke(main, ["ceremony", "contribute", str(run["beacon"]), "--name", "late"])
    assert out.exit_code == EXIT_INPUT and "beacon closed" in out.stderr and snapshot(run["beacon"]) == before


@pytest.mark.slow
def test_bad_init_and_another_market_shape(run: dict[str, Path], tmp_path: Path) -> None:
    from zksolv.toolchain.trusted_setup import dev_powers_of_tau

    small = dev_powers_of_tau(8)
    out = CliRunner().invoke(main, ["ceremony", "init", "--market", str(run["market"]), "--ptau", str(small),
                                    "--out", str(tmp_path / "c")])
    assert out.exit_code == EXIT_INPUT and "power 8" in out.stderr and "avsl_n1_u1_a1_k6_d1_stress" in out.stderr
    assert not (tmp_path / "c").exists()
    out = CliRunner().invoke(main, ["ceremony", "init", "--market", str(run["market"]), "--ptau", str(small),
                                    "--out", str(run["beacon"])])
    assert out.exit_code == EXIT_INPUT and "not an empty folder" in out.stderr
    other = tmp_path / "other.json"
    small_market(tiers=(2,)).save(other)
    code, report = ceremony_verify(run["beacon"], other)
    assert code == EXIT_INPUT and "another market shape" in report["output"]


@pytest.fixture(scope="module")
def keys(run: dict[str, Path]) -> Path:
    out = run["work"] / "KEYS"
    done = CliRunner().invoke(main, ["ceremony", "finalize", str(run["beacon"]), "--keys-out", str(out), "--json"])
    assert done.exit_code == 0, done.output
    return out


@pytest.fixture(scope="module")
def trivial_vk(run: dict[str, Path]) -> Path:
    """A key of tests/circuits/two_public.circom: public [commitment, root], no solvency check at all."""
    from zksolv import toolchain
    from zksolv.toolchain.trusted_setup import dev_powers_of_tau, production_setup

    circuit = toolchain.compile_cached(ROOT / "tests" / "circuits" / "two_public.circom")
    return production_setup(circuit, dev_powers_of_tau(8)).verification_key


@pytest.mark.slow
def test_finalize_writes_a_key_set_that_verifies(run: dict[str, Path], keys: Path) -> None:
    manifest = json.loads((keys / cer.MANIFEST).read_text())
    assert manifest["transcript_sha256"] == cer.transcript_sha256(run["beacon"]) == cer.transcript_sha256(keys)
    assert manifest["route"] == "ceremony" and len(manifest["keys"]) == 3
    for name, row in manifest["keys"].items():
        assert hashlib.sha256((keys / f"{name}.json").read_bytes()).hexdigest() == row["verification_key_sha256"]
        assert hashlib.sha256((keys / f"{name}.zkey").read_bytes()).hexdigest() == row["proving_key_sha256"]
    code, report = ceremony_verify(keys, run["market"], "--ptau", str(run["beacon"] / cer.PTAU_FILE),
                                   "--allow-unpublished-ptau")
    assert code == 0, report
    # without the waiver the suite's dev ptau is refused: VALID only on a published phase 1
    code, report = ceremony_verify(keys, run["market"], "--ptau", str(run["beacon"] / cer.PTAU_FILE))
    assert code == EXIT_INVALID and report["production"] is False
    assert [f for f in report["failures"] if "published Perpetual Powers of Tau" in f] == report["failures"]


@pytest.mark.slow
def test_a_trivial_circuit_key_in_the_key_set_is_refused(run: dict[str, Path], keys: Path, trivial_vk: Path) -> None:
    tier = "avsl_n1_u1_a1_k6_d1_stress"
    bad = run["work"] / "KEYS_trivial"
    shutil.copytree(keys, bad)
    shutil.copy(trivial_vk, bad / f"{tier}.json")
    # keepers: the file is not the one the manifest lists
    from tests.test_batch_verify import synthetic_proof  # noqa: F401  (proof content is irrelevant: refused first)

    proof = run["work"] / "proof_dummy"
    proof.mkdir(exist_ok=True)
    out = CliRunner().invoke(main, ["verify", "--proof", str(proof), "--market", str(run["market"]), "--keys", str(bad)])
    assert out.exit_code == EXIT_INPUT and f"{tier}.json does not match its sha256" in out.stderr
    # with the manifest rewritten to match, the once-per-key-set check catches it
    m = json.loads((bad / cer.MANIFEST).read_text())
    m["keys"][tier]["verification_key_sha256"] = hashlib.sha256(trivial_vk.read_bytes()).hexdigest()
    (bad / cer.MANIFEST).write_text(json.dumps(m))
    code, report = ceremony_verify(bad, run["market"], "--ptau", str(run["beacon"] / cer.PTAU_FILE))
    assert code == EXIT_INVALID and any(f"is not the verification key of {tier}.zkey" in f for f in report["failures"])
    # a manifest claiming another circuit hash for the tier: refused before any pairing
    m["keys"][tier]["circuit_hash"] = "ab" * 32
    (bad / cer.MANIFEST).write_text(json.dumps(m))
    out = CliRunner().invoke(main, ["verify", "--proof", str(proof), "--market", str(run["market"]), "--keys", str(bad)])
    assert out.exit_code == EXIT_INPUT and "is not the circuit of this market's shape" in out.stderr


@pytest.mark.slow
def test_a_trivial_circuit_zkey_in_the_ceremony_is_refused(run: dict[str, Path], ptau: Path) -> None:
    """The trivial circuit's own zkey (set up on the same ptau) in place of the tier's, transcript made to agree."""
    from zksolv import toolchain
    folder = _copy(run, "trivial_zkey")
    circuit = toolchain.compile_cached(ROOT / "tests" / "circuits" / "two_public.circom")
    tier = "avsl_n1_u1_a1_k6_d1_stress"
    cer._ceremony_node({"op": "new", "r1cs": str(circuit.r1cs), "ptau": str(ptau), "out": str(folder / f"{tier}.zkey")},
                       "test: trivial zkey")
    t = json.loads((folder / cer.TRANSCRIPT).read_text())
    digest = hashlib.sha256((folder / f"{tier}.zkey").read_bytes()).hexdigest()
    for c in t["circuits"]:
        if c["name"] == tier:
            c["zkey_sha256"] = c["contributions"][-1]["zkey_sha256"] = digest
    (folder / cer.TRANSCRIPT).write_text(json.dumps(t))
    code, report = ceremony_verify(folder, run["market"])
    assert code == EXIT_INVALID and any(f.startswith(f"circuit {tier}:") and "does not verify" in f
                                        for f in report["failures"])


@pytest.fixture(scope="module")
def proved(run: dict[str, Path], keys: Path) -> Path:
    """A trader's proof made with the key set's proving key (tier 1)."""
    from zksolv.core.account import Account, Position

    account = Account((Position("C", -1_000_000),), {"USDC": 20_000 * 10**6}, salt=123456789)
    account.save(run["work"] / "account.json")
    out = run["work"] / "proof"
    done = CliRunner().invoke(main, ["prove", "--account", str(run["work"] / "account.json"), "--market",
                                     str(run["market"]), "--keys", str(keys), "--out", str(out), "--json"])
    assert done.exit_code == 0, done.output
    return out


@pytest.mark.slow
def test_prove_with_the_key_set_and_verify_with_it(run: dict[str, Path], keys: Path, proved: Path) -> None:
    statement = json.loads((proved / "statement.json").read_text())
    assert statement["setup_route"] == "snarkjs" and not statement["insecure_setup"]
    assert json.loads((proved / "verification_key.json").read_text()) == json.loads(
        (keys / "avsl_n1_u1_a1_k6_d1_stress.json").read_text())
    out = CliRunner().invoke(main, ["verify", "--proof", str(proved), "--market", str(run["market"]),
                                    "--keys", str(keys)])
    assert out.exit_code == 0, out.output
    assert f"ceremony transcript {cer.transcript_sha256(keys)[:16]}" in out.output
    # a key set that lacks the tier: refused before any work
    partial = run["work"] / "KEYS_partial"
    shutil.copytree(keys, partial)
    m = json.loads((partial / cer.MANIFEST).read_text())
    del m["keys"]["avsl_n1_u1_a1_k6_d1_stress"]
    (partial / cer.MANIFEST).write_text(json.dumps(m))
    out = CliRunner().invoke(main, ["prove", "--account", str(run["work"] / "account.json"), "--market",
                                    str(run["market"]), "--keys", str(partial), "--out", str(run["work"] / "p2")])
    assert out.exit_code == EXIT_INPUT and "no proving key for avsl_n1_u1_a1_k6_d1_stress" in out.stderr
    assert not (run["work"] / "p2").exists()


@pytest.mark.slow
def test_the_key_set_pin_covers_every_key_file(run: dict[str, Path], keys: Path, proved: Path) -> None:
    """Adversary review round 2: `ceremony verify` prints the key set digest (sha256 of the manifest); pinned
    with `verify --key-set-sha256` it accepts the key set it was printed for and refuses (exit 2) the same
    folder with one verification key swapped (its sha256 rewritten in the manifest, the transcript kept),
    which the transcript pin alone lets through. The suite's dev ptau is a waived requirement: the report
    says NOT FOR REAL FUNDS even when pinned."""
    code, report = ceremony_verify(keys, run["market"], "--ptau", str(run["beacon"] / cer.PTAU_FILE),
                                   "--allow-unpublished-ptau")
    pin = report["key_set_sha256"]
    assert code == 0 and pin == hashlib.sha256((keys / cer.MANIFEST).read_bytes()).hexdigest()
    args = ["verify", "--proof", str(proved), "--market", str(run["market"]), "--keys"]
    out = CliRunner().invoke(main, [*args, str(keys), "--key-set-sha256", pin.upper()])
    assert out.exit_code == 0, out.output
    assert ", pinned;" in out.output and "NOT FOR REAL FUNDS" in out.output, out.output
    swapped = run["work"] / "KEYS_swapped"
    shutil.copytree(keys, swapped)
    m = json.loads((swapped / cer.MANIFEST).read_text())
    tier, other = "avsl_n1_u1_a1_k6_d1_stress", next(n for n in m["keys"] if n != "avsl_n1_u1_a1_k6_d1_stress")
    vk = json.loads((swapped / f"{tier}.json").read_text())  # a key nobody's ceremony made for this circuit
    vk["vk_delta_2"] = json.loads((swapped / f"{other}.json").read_text())["vk_delta_2"]  # alpha is phase 1's
    (swapped / f"{tier}.json").write_text(json.dumps(vk))
    m["keys"][tier]["verification_key_sha256"] = hashlib.sha256((swapped / f"{tier}.json").read_bytes()).hexdigest()
    (swapped / cer.MANIFEST).write_text(json.dumps(m))
    transcript_pin = cer.transcript_sha256(keys)
    out = CliRunner().invoke(main, [*args, str(swapped), "--transcript-sha256", transcript_pin])
    assert out.exit_code == EXIT_INVALID and "key files not pinned" in out.output, out.output  # let through
    out = CliRunner().invoke(main, [*args, str(swapped), "--transcript-sha256", transcript_pin, "--key-set-sha256", pin])
    assert out.exit_code == EXIT_INPUT and "not the key set pinned with --key-set-sha256" in out.output, out.output


@pytest.mark.slow
def test_the_proofs_own_key_is_refused_as_vk_the_venues_key_is_not(run: dict[str, Path], keys: Path, proved: Path,
                                                                   tmp_path: Path) -> None:
    args = ["verify", "--proof", str(proved), "--market", str(run["market"])]
    out = CliRunner().invoke(main, [*args, "--vk", str(proved / "verification_key.json")])
    assert out.exit_code == EXIT_INPUT and "inside the proof folder" in out.stderr
    linked = tmp_path / "linked_vk.json"  # a hard link of the bundle's file is still the bundle's file
    linked.hardlink_to(proved / "verification_key.json")
    out = CliRunner().invoke(main, [*args, "--vk", str(linked)])
    assert out.exit_code == EXIT_INPUT and "is a link to" in out.stderr
    # the venue's own key, obtained from its key set (the honest bundle ships an equal copy): usable
    venue = tmp_path / "venue_vk.json"
    shutil.copy(keys / "avsl_n1_u1_a1_k6_d1_stress.json", venue)
    out = CliRunner().invoke(main, [*args, "--vk", str(venue)])
    assert out.exit_code == 0, out.output
    # and the pinned key set: the transcript ceremony verify printed
    pin = cer.transcript_sha256(keys)
    out = CliRunner().invoke(main, [*args, "--keys", str(keys), "--transcript-sha256", pin])
    assert out.exit_code == 0 and "pinned" in out.output, out.output
    out = CliRunner().invoke(main, [*args, "--keys", str(keys), "--transcript-sha256", "0" * 64])
    assert out.exit_code == EXIT_INPUT and "not the one pinned" in out.stderr


@pytest.mark.slow
def test_export_solidity_from_the_key_set_names_the_transcript(run: dict[str, Path], keys: Path,
                                                                tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["export-solidity", "--keys", str(keys), "--out", str(tmp_path / "sol"), "--json"])
    assert out.exit_code == 0, out.output
    note = json.loads((tmp_path / "sol" / "deploy.json").read_text())
    assert note["key_set"] == {"route": "ceremony", "transcript_sha256": cer.transcript_sha256(keys)}
    assert [t["tier"] for t in note["tiers"]] == ["avsl_n1_u1_a1_k6_d1_stress"]
    assert note["tiers"][0]["circuit_hash"] == json.loads((keys / cer.MANIFEST).read_text())["keys"][
        "avsl_n1_u1_a1_k6_d1_stress"]["circuit_hash"]


@pytest.mark.slow
def test_the_registry_exported_from_the_key_set_accepts_the_proof(run: dict[str, Path], keys: Path, proved: Path,
                                                                  tmp_path: Path) -> None:
    """export-solidity --keys, deployed as deploy.json says: the ceremony key's proof is accepted on chain."""
    from zksolv.verifier.calldata import (IS_SOLVENT_SELECTOR, encode_post_market_root, encode_prove_solvent,
                                   encode_register_account, proof_to_calldata)
    from zksolv.chain.evm import EvmScript, compile_solidity

    out = tmp_path / "sol"
    assert CliRunner().invoke(main, ["export-solidity", "--keys", str(keys), "--out", str(out)]).exit_code == 0
    note = json.loads((out / "deploy.json").read_text())
    s = EvmScript()
    (t,) = note["tiers"]
    files = (t["verifier"]["file"], t["batch_verifier"]["file"])
    compiled = compile_solidity({name: (out / name).read_text() for name in files})
    v = s.deploy("v", compiled[t["verifier"]["contract"]])
    b = s.deploy("b", compiled[t["batch_verifier"]["contract"]])
    reg_c = compile_solidity({note["registry"]["file"]: (out / note["registry"]["file"]).read_text()})["SolvencyRegistry"]
    reg = s.deploy("registry", reg_c, [[(t["capacity"], v, b)]])
    proof = json.loads((proved / "proof.json").read_text())
    commitment, root = (int(x) for x in json.loads((proved / "public.json").read_text()))
    epoch = json.loads((proved / "statement.json").read_text())["epoch"]
    s.call("register", reg, encode_register_account("0x" + f"{1:040x}", commitment))
    s.call("post", reg, encode_post_market_root(epoch, root))
    s.call("prove", reg, encode_prove_solvent(t["capacity"], *proof_to_calldata(proof), commitment))
    s.call("solvent", reg, IS_SOLVENT_SELECTOR, [commitment])
    r = s.run()
    assert r["registry"].success and r["prove"].success, r["prove"].revert
    assert r["solvent"].returned_bool()


@pytest.mark.slow
def test_two_contributions_at_once_on_one_folder_are_serialised(run: dict[str, Path]) -> None:
    """Two participants started together on the same folder: one waits for the other, neither is lost."""
    from concurrent.futures import ThreadPoolExecutor

    folder = run["work"] / "cases" / "concurrent"
    shutil.copytree(run["alice"], folder)
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda name: cer.contribute(folder, name), ["carol", "dave"]))
    assert all(len(d) == 3 for d in done)
    t = json.loads((folder / cer.TRANSCRIPT).read_text())
    for c in t["circuits"]:
        names = [x["name"] for x in c["contributions"]]
        assert names[0] == "alice" and sorted(names[1:]) == ["carol", "dave"]
    code, report = ceremony_verify(folder, run["market"], "--allow-unpublished-ptau", "--allow-no-beacon")
    assert code == 0 and report["waived"] == ["unpublished_ptau", "no_beacon"], report
    code, report = ceremony_verify(folder, run["market"], "--allow-unpublished-ptau")  # not closed by a beacon
    assert code == EXIT_INVALID and report["failures"] == ["no closing random beacon was applied (`zksolv ceremony beacon`)"]
