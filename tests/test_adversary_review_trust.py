"""Adversarial review of key provenance (key sets, ceremony) and the oracle audit.

Every test asserts the SAFE behaviour: a test that fails is an attack that works. All tests are
cheap (no circuit compilation, no ceremony, no node): what needs the toolchain is monkeypatched.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from zksolv.core import fixedpoint as fp
from zksolv.core.account import Account, Position
from zksolv.toolchain.circuitgen import circuit_set, circuit_source_hash
from zksolv.app.demo import demo_inputs
from zksolv.core.errors import InputError
from zksolv.core.market import MarketState
from zksolv.risk.model import evaluate
from zksolv.oracle.build import build_market
from zksolv.proofs.keyset import check_key_set, write_manifest

# ------------------------------------------------------------------ helpers


def _small_market(mode: str = "var") -> tuple[Any, MarketState]:
    inputs = demo_inputs(7, mode, "span", n_strikes=3, n_expiries=4)
    return inputs, build_market(inputs)


def _fake_vk(tag: int) -> dict[str, Any]:
    g1 = [str(tag), "2", "1"]
    g2 = [["1", "2"], ["3", str(tag)], ["1", "0"]]
    return {"protocol": "groth16", "curve": "bn128", "nPublic": 1, "vk_alpha_1": g1, "vk_beta_2": g2,
            "vk_gamma_2": g2, "vk_delta_2": g2, "IC": [g1, g1]}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _ceremony_key_set(folder: Path, state: MarketState) -> tuple[list[Any], list[Any]]:
    """A key set whose ceremony transcript covers only the tiers (a ``chunks: false`` ceremony,
    the default of `zksolv ceremony init`) but whose manifest also lists chunk and final keys
    (keys nobody's ceremony made: the publisher's own, toxic waste known) with the right circuit
    hashes (public: the sources are shipped)."""
    folder.mkdir()
    tiers, full = circuit_set(state, False), circuit_set(state, True)
    assert len(full) > len(tiers)  # the demo venue accepts chunked books
    transcript = {"format": "zksolv-ceremony/1", "snarkjs": "0.7.x", "chunks": False,
                  "ptau": {"blake2b": "ab" * 64, "power": 13, "known_file": None},
                  "circuits": [{"name": s.name, "circuit_hash": circuit_source_hash(s), "r1cs_sha256": "0" * 64,
                                "ptau_blake2b": "ab" * 64, "initial_zkey_sha256": "1" * 64,
                                "zkey_sha256": "2" * 64,
                                "contributions": [{"name": "venue", "type": "contribution", "hash": "h",
                                                   "zkey_sha256": "2" * 64}]} for s in tiers]}
    (folder / "ceremony.json").write_text(json.dumps(transcript, indent=1, sort_keys=True) + "\n")
    entries = []
    for n, s in enumerate(full):
        (folder / f"{s.name}.json").write_text(json.dumps(_fake_vk(n + 3)))
        (folder / f"{s.name}.zkey").write_bytes(b"zkey " + s.name.encode())
        entries.append({"circuit": s.name, "circuit_hash": circuit_source_hash(s), "verification_key": f"{s.name}.json",
                        "proving_key": f"{s.name}.zkey"})
    write_manifest(folder, entries, transcript_sha256=_sha(folder / "ceremony.json"), route="ceremony")
    return tiers, full


# ------------------------------------------------------- 1. key provenance


def test_keyset_does_not_serve_keys_its_ceremony_transcript_does_not_cover(tmp_path: Path) -> None:
    """ATTACK: a ceremony over the tiers only (chunks: false) + a manifest that also lists chunk/final
    keys made by the publisher. `zksolv verify --keys` must not verify chunked books under keys
    no ceremony made (the label still says "ceremony transcript …")."""
    _, state = _small_market("stress")
    keys = tmp_path / "KEYS"
    tiers, full = _ceremony_key_set(keys, state)
    try:
        manifest = check_key_set(keys, {s.name: circuit_source_hash(s) for s in full})
    except InputError:
        return  # safe: refused
    used = set(manifest["keys"])  # what cli.verify passes on as keys_listed
    assert used <= {s.name for s in tiers}, (
        f"keys outside the ceremony transcript are served as the venue's ceremony keys: {sorted(used - {s.name for s in tiers})}")


def test_ceremony_verify_fails_on_a_key_set_listing_keys_outside_the_transcript(tmp_path: Path,
                                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """ATTACK (same key set): `zksolv ceremony verify KEYS --market m.json` — the once-per-key-set check a
    keeper pins — reports VALID although the manifest serves chunk/final keys no ceremony made.
    The toolchain (compile, zkey new/verify, export) is stubbed to say every *transcript* circuit is fine."""
    from zksolv.toolchain import ceremony

    _, state = _small_market("stress")
    keys = tmp_path / "KEYS"
    tiers, _ = _ceremony_key_set(keys, state)
    transcript = json.loads((keys / "ceremony.json").read_text())
    # make the transcript's zkey hashes the files' (as finalize writes them)
    for c in transcript["circuits"]:
        c["zkey_sha256"] = c["contributions"][0]["zkey_sha256"] = _sha(keys / f"{c['name']}.zkey")
    (keys / "ceremony.json").write_text(json.dumps(transcript, indent=1, sort_keys=True) + "\n")
    manifest = json.loads((keys / "manifest.json").read_text())
    manifest["transcript_sha256"] = _sha(keys / "ceremony.json")
    (keys / "manifest.json").write_text(json.dumps(manifest))
    ptau = tmp_path / "p.ptau"
    ptau.write_bytes(b"ptau")
    for c in transcript["circuits"]:
        c["ptau_blake2b"] = ceremony.blake2b_file(ptau)
    transcript["ptau"]["blake2b"] = ceremony.blake2b_file(ptau)
    (keys / "ceremony.json").write_text(json.dumps(transcript, indent=1, sort_keys=True) + "\n")
    manifest["transcript_sha256"] = _sha(keys / "ceremony.json")
    (keys / "manifest.json").write_text(json.dumps(manifest))
    r1cs = tmp_path / "c.r1cs"
    r1cs.write_bytes(b"r1cs")
    init = tmp_path / "init.zkey"
    init.write_bytes(b"init")
    for c in transcript["circuits"]:
        c["r1cs_sha256"], c["initial_zkey_sha256"] = _sha(r1cs), _sha(init)
    (keys / "ceremony.json").write_text(json.dumps(transcript, indent=1, sort_keys=True) + "\n")
    manifest["transcript_sha256"] = _sha(keys / "ceremony.json")
    (keys / "manifest.json").write_text(json.dumps(manifest))

    class _Circuit:
        pass

    circ = _Circuit()
    circ.r1cs = r1cs  # type: ignore[attr-defined]
    import zksolv.toolchain.artifacts as artifacts

    monkeypatch.setattr(artifacts, "compile_tier", lambda shape: (circuit_source_hash(shape), circ))
    monkeypatch.setattr(ceremony, "initial_zkey", lambda *a, **k: init)

    def node(request: dict[str, Any], what: str) -> dict[str, Any]:
        if request["op"] == "verify":
            return {"ok": True, "contributions": [{"name": "venue", "hash": "h", "type": "contribution"}]}
        if request["op"] == "export_vk":
            name = Path(request["zkey"]).stem
            Path(request["out"]).write_text((keys / f"{name}.json").read_text())
            return {"ok": True}
        raise AssertionError(request["op"])

    monkeypatch.setattr(ceremony, "_ceremony_node", node)
    report = ceremony.verify(keys, state, ptau=ptau)
    assert not report.valid, "ceremony verify passes a key set whose manifest serves keys outside its transcript"
    # refused for that reason (not only for the unpublished ptau and the missing beacon of this stub)
    outside = sorted(set(json.loads((keys / "manifest.json").read_text())["keys"]) - {s.name for s in tiers})
    assert any("not made by the ceremony" in f and f"circuit {outside[0]}:" in f for f in report.failures), report.failures


def test_vk_refusal_does_not_refuse_honest_bundles_that_ship_the_venue_key(tmp_path: Path) -> None:
    """ATTACK (availability), and why a content check cannot be the boundary: every bundle `zksolv prove`
    writes ships verification_key.json, and an honest trader's is the venue's key. A keeper running
    `zksolv verify --vk VENUE_VK --proofs ROOT` is then refused (exit 2, no verdict for anyone) because one
    folder ships a key equal to VENUE_VK. Conversely the refusal is bypassed by any re-encoding the parser
    accepts (coordinates as JSON integers, z dropped, vk_alphabeta_12 dropped) or another file name.
    Safe behaviour: a venue key obtained outside the proof folder is usable."""
    from zksolv.verifier.submissions import refuse_shipped_key as _refuse_shipped_key

    venue_vk = tmp_path / "venue" / "vk.json"
    venue_vk.parent.mkdir()
    venue_vk.write_text(json.dumps(_fake_vk(5), indent=1) + "\n")
    honest = tmp_path / "proofs" / "alice"
    honest.mkdir(parents=True)
    (honest / "verification_key.json").write_text(json.dumps(_fake_vk(5), indent=1) + "\n")  # as prove.save writes it
    _refuse_shipped_key(venue_vk, [honest])  # must not raise


# ------------------------------------------------------------ 2. oracle audit


def _shifted_valuation_time(inputs: Any, m0: MarketState, days: float) -> MarketState:
    """The same quotes (every option's committed mark), priced at a later valuation_time: the oracle
    backs each option's iv out of its mark at the shorter life, so the total vol (mark, delta, gamma)
    is unchanged and the vega (and the vol-shock risk) shrinks by sqrt(tau'/tau)."""
    rows = [dataclasses.replace(i, iv=None, mark=m0.instruments[m0.instrument_index(i.symbol)].mark)
            if i.kind.is_option else i for i in inputs.instruments]
    vt = inputs.params.valuation_time + int(days * 86_400)
    params = dataclasses.replace(inputs.params, valuation_time=vt, epoch=vt // 86_400)  # the builder's epoch rule
    shifted = build_market(dataclasses.replace(inputs, instruments=tuple(rows), params=params))
    return dataclasses.replace(shifted, epoch=m0.epoch)  # published under the honest epoch (its root)


def test_a_valuation_time_days_after_the_epoch_is_refused_on_load() -> None:
    """ATTACK: valuation_time (not committed) moved 6.9 days later than the epoch's (the front expiry is 7
    days out). Accepted on load today; a short front-expiry straddle book's VaR requirement drops ~30%."""
    inputs, m0 = _small_market("var")
    m1 = _shifted_valuation_time(inputs, m0, 6.9)
    with pytest.raises(InputError):
        MarketState.from_json(m1.to_json())


@pytest.mark.parametrize("mode", ["var", "es"])
def test_a_published_market_never_lowers_a_short_option_books_requirement_via_valuation_time(mode: str) -> None:
    """The same attack, measured: the requirement of 10-lot short BTC front-expiry straddles under the
    tampered market must not be below the honest one by more than 1% (if the keeper loads it)."""
    inputs, m0 = _small_market(mode)
    try:
        m1 = MarketState.from_json(_shifted_valuation_time(inputs, m0, 6.9).to_json())
    except InputError:
        return
    front = min(i.expiry for i in m0.instruments if i.kind.is_option)
    book = Account(tuple(Position(i.symbol, -10 * fp.QTY_SCALE) for i in m0.instruments
                         if i.kind.is_option and i.symbol.startswith("BTC") and i.expiry == front), {}, 1)
    r0 = evaluate(m0, book.position_slots(m0), book.balances(m0))
    r1 = evaluate(m1, book.position_slots(m1), book.balances(m1))
    assert r1.req_raw >= r0.req_raw * 99 // 100, (
        f"{mode}: requirement {r0.req_raw / 1e24:,.0f} USD -> {r1.req_raw / 1e24:,.0f} USD under an accepted market")


@pytest.mark.parametrize("mode", ["var", "stress"])
def test_a_market_without_vol_history_cannot_publish_any_vol_ema(mode: str) -> None:
    """ATTACK: drop every underlying's vol_history (not committed) and publish vol_ema = 1e-6 with V
    recomputed consistently from it: the EMA is "not checked" without a history, so V falls
    0.43 -> 0.036 and the AVSL factor with it. Accepted on load today; 10-lot short BTC front straddles
    lose ~16% of their requirement (var: 87.5k -> 73.3k USD; stress: 272k -> 228k USD)."""
    from zksolv.core import volatility
    _, m0 = _small_market(mode)
    unds = tuple(dataclasses.replace(u, vol_history=(), vol_ema=1) for u in m0.underlyings)
    v = volatility.v_scalar_market(m0.params.alpha, unds)
    tampered = dataclasses.replace(m0, underlyings=unds, params=dataclasses.replace(m0.params, v_scalar=v))
    with pytest.raises(InputError):
        MarketState.from_json(tampered.to_json())


def test_a_manifest_claiming_the_ceremony_route_names_its_transcript(tmp_path: Path) -> None:
    """ATTACK: route "ceremony" with transcript_sha256 null (no transcript to check): the keeper's report
    then says "the venue's key set (ceremony transcript None…)" for keys no ceremony made."""
    from zksolv.proofs.keyset import load_manifest

    (tmp_path / "a.json").write_text("{}")
    write_manifest(tmp_path, [{"circuit": "a", "circuit_hash": "0" * 64, "verification_key": "a.json"}],
                   transcript_sha256=None, route="ceremony")
    with pytest.raises(InputError):
        load_manifest(tmp_path)


def _stubbed_ceremony_verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, with_beacon: bool,
                             ptau_known: bool) -> Any:
    """`ceremony.verify` on a finalized key set over the tiers only, every snarkjs step stubbed as passing."""
    from zksolv.toolchain import ceremony
    import zksolv.toolchain.artifacts as artifacts

    _, state = _small_market("stress")
    keys = tmp_path / "KEYS"
    keys.mkdir()
    ptau, r1cs, init = tmp_path / "p.ptau", tmp_path / "c.r1cs", tmp_path / "init.zkey"
    ptau.write_bytes(b"an attacker's own phase 1")
    r1cs.write_bytes(b"r1cs")
    init.write_bytes(b"init")
    blake = ceremony.blake2b_file(ptau)
    if ptau_known:
        monkeypatch.setattr(ceremony, "known_ptau", lambda b: "powersOfTau28_hez_final_13.ptau")
    rounds = [{"name": "venue", "type": "contribution", "hash": "h1"}]
    if with_beacon:
        rounds.append({"name": "zksolv beacon", "type": "beacon", "hash": "h2", "beacon": "ab", "iterations_exp": 10})
    tiers = circuit_set(state, False)
    circuits, entries = [], []
    for n, s in enumerate(tiers):
        (keys / f"{s.name}.zkey").write_bytes(b"zkey " + s.name.encode())
        (keys / f"{s.name}.json").write_text(json.dumps(_fake_vk(n + 3)))
        z = _sha(keys / f"{s.name}.zkey")
        circuits.append({"name": s.name, "circuit_hash": circuit_source_hash(s), "r1cs_sha256": _sha(r1cs),
                         "ptau_blake2b": blake, "initial_zkey_sha256": _sha(init), "zkey_sha256": z,
                         "contributions": [{**r, "zkey_sha256": z} for r in rounds]})
        entries.append({"circuit": s.name, "circuit_hash": circuit_source_hash(s), "verification_key": f"{s.name}.json",
                        "proving_key": f"{s.name}.zkey"})
    transcript = {"format": "zksolv-ceremony/1", "snarkjs": "0.7.x", "chunks": False,
                  "ptau": {"blake2b": blake, "power": 13, "known_file": None}, "circuits": circuits}
    (keys / "ceremony.json").write_text(json.dumps(transcript))
    write_manifest(keys, entries, transcript_sha256=_sha(keys / "ceremony.json"), route="ceremony")

    class _Circuit:
        pass

    circ = _Circuit()
    circ.r1cs = r1cs  # type: ignore[attr-defined]
    monkeypatch.setattr(artifacts, "compile_tier", lambda shape: (circuit_source_hash(shape), circ))
    monkeypatch.setattr(ceremony, "initial_zkey", lambda *a, **k: init)

    def node(request: dict[str, Any], what: str) -> dict[str, Any]:
        if request["op"] == "verify":
            return {"ok": True, "contributions": [dict(r) for r in rounds]}
        if request["op"] == "export_vk":
            Path(request["out"]).write_text((keys / f"{Path(request['zkey']).stem}.json").read_text())
            return {"ok": True}
        raise AssertionError(request["op"])

    monkeypatch.setattr(ceremony, "_ceremony_node", node)
    return ceremony.verify(keys, state, ptau=ptau)


def test_stub_sanity_a_clean_key_set_verifies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Control for the two tests below: with a known ptau and a beacon the stubbed key set is valid."""
    assert _stubbed_ceremony_verify(tmp_path, monkeypatch, with_beacon=True, ptau_known=True).valid


def test_ceremony_verify_is_not_valid_on_an_unknown_phase_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ATTACK: a ceremony on a ptau nobody can vouch for (whoever made it knows tau, alpha, beta: from any
    H-query point [tau^i t(tau)/delta]_1 they get [1/delta]_1 and forge any proof, whatever phase 2 did).
    `ceremony verify` prints a warning and exits 0 VALID (also when the ptau comes from the folder)."""
    report = _stubbed_ceremony_verify(tmp_path, monkeypatch, with_beacon=True, ptau_known=False)
    assert not report.valid
    assert any("not one of the published Perpetual Powers of Tau files" in f for f in report.failures), report.failures


def test_the_unpublished_ptau_waiver_is_recorded_and_not_production(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """--allow-unpublished-ptau (tests on small generated ptau files): valid, but the waiver is in the report,
    a loud warning says NOT FOR REAL FUNDS, and the report is not a production verdict."""
    from zksolv.toolchain import ceremony

    monkeypatch.setattr(ceremony, "verify", lambda *a, _v=ceremony.verify, **k: _v(*a, **k, allow_unpublished_ptau=True))
    report = _stubbed_ceremony_verify(tmp_path, monkeypatch, with_beacon=True, ptau_known=False)
    assert report.valid and not report.production and report.waived == ["unpublished_ptau"]
    assert report.to_dict()["production"] is False
    assert any("NOT FOR REAL FUNDS" in w for w in report.warnings)


def test_ceremony_verify_is_not_valid_without_the_closing_beacon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ATTACK (low): the beacon the runbook announces was skipped: exit 0 VALID with a warning."""
    report = _stubbed_ceremony_verify(tmp_path, monkeypatch, with_beacon=False, ptau_known=True)
    assert not report.valid
    assert report.failures == ["no closing random beacon was applied (`zksolv ceremony beacon`)"]


def test_the_no_beacon_waiver_is_recorded_and_not_production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zksolv.toolchain import ceremony

    monkeypatch.setattr(ceremony, "verify", lambda *a, _v=ceremony.verify, **k: _v(*a, **k, allow_no_beacon=True))
    report = _stubbed_ceremony_verify(tmp_path, monkeypatch, with_beacon=False, ptau_known=True)
    assert report.valid and not report.production and report.waived == ["no_beacon"]


def test_a_clean_key_set_is_a_production_verdict_naming_the_beacon(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    report = _stubbed_ceremony_verify(tmp_path, monkeypatch, with_beacon=True, ptau_known=True)
    assert report.production and report.waived == []
    assert report.contributors[-1] == {"name": "zksolv beacon", "type": "beacon", "beacon": "ab", "iterations_exp": 10}


def test_var_parameters_are_audited_against_what_they_derive_from() -> None:
    """ATTACK: a VaR market whose derived VaR parameters (var_loadings = z chol(corr) S sigma sqrt(h),
    gamma_addon, vega_stress — functions of the committed spot, var_z, horizon and vols) are scaled to a
    tenth. No load-time audit recomputes them: accepted; the short straddle book's requirement collapses."""
    _, m0 = _small_market("var")
    p = m0.params
    tampered = dataclasses.replace(m0, params=dataclasses.replace(
        p, var_loadings=tuple(tuple(x // 10 for x in row) for row in p.var_loadings),
        gamma_addon=tuple(x // 100 for x in p.gamma_addon), vega_stress=tuple(x // 10 for x in p.vega_stress)))
    try:
        m1 = MarketState.from_json(tampered.to_json())
    except InputError:
        return
    front = min(i.expiry for i in m0.instruments if i.kind.is_option)
    book = Account(tuple(Position(i.symbol, -10 * fp.QTY_SCALE) for i in m0.instruments
                         if i.kind.is_option and i.symbol.startswith("BTC") and i.expiry == front), {}, 1)
    r0 = evaluate(m0, book.position_slots(m0), book.balances(m0))
    r1 = evaluate(m1, book.position_slots(m1), book.balances(m1))
    assert r1.req_raw >= r0.req_raw * 99 // 100, (
        f"requirement {r0.req_raw / 1e24:,.0f} USD -> {r1.req_raw / 1e24:,.0f} USD under an accepted market")


def test_verify_keys_can_pin_the_transcript_the_keeper_checked() -> None:
    """ATTACK: docs/ceremony.md has the keeper run `ceremony verify` once and "pin" the transcript hash, but
    `zksolv verify --keys` has no way to pin it: a KEYS folder replaced later (manifest, keys and a
    transcript swapped together, circuit hashes being public) passes with only the label's hash prefix changed."""
    from zksolv.cli import main

    opts = [o for prm in main.commands["verify"].params for o in getattr(prm, "opts", [])]
    assert any("transcript" in o for o in opts), opts


def test_a_pinned_transcript_refuses_a_replaced_key_set(tmp_path: Path) -> None:
    """The library side of --transcript-sha256: the key set the keeper checked passes under its pin; the same
    folder with its transcript swapped (manifest rewritten to match, circuit hashes public) is refused, and so
    is a key set without any transcript (a dev or snarkjs key set) under a pin."""
    _, state = _small_market("stress")
    keys = tmp_path / "KEYS"
    tiers, _ = _ceremony_key_set(keys, state)
    manifest = json.loads((keys / "manifest.json").read_text())
    manifest["keys"] = {k: v for k, v in manifest["keys"].items() if k in {s.name for s in tiers}}
    (keys / "manifest.json").write_text(json.dumps(manifest))
    expected = {s.name: circuit_source_hash(s) for s in tiers}
    pin = _sha(keys / "ceremony.json")
    assert check_key_set(keys, expected, transcript_sha256=pin.upper())["transcript_sha256"] == pin
    transcript = json.loads((keys / "ceremony.json").read_text())
    transcript["circuits"][0]["contributions"][0]["name"] = "mallory"
    (keys / "ceremony.json").write_text(json.dumps(transcript))
    manifest["transcript_sha256"] = _sha(keys / "ceremony.json")
    (keys / "manifest.json").write_text(json.dumps(manifest))
    assert check_key_set(keys, expected)  # unpinned: nothing tells the swap apart
    with pytest.raises(InputError, match="not the one pinned with --transcript-sha256"):
        check_key_set(keys, expected, transcript_sha256=pin)
    manifest.update(route="dev", transcript_sha256=None)
    (keys / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="none: not a ceremony key set"):
        check_key_set(keys, expected, transcript_sha256=pin)
    for bad in ("ab", "zz" * 32, pin + "00"):
        with pytest.raises(InputError, match="--transcript-sha256"):
            check_key_set(keys, expected, transcript_sha256=bad)


def test_verify_transcript_pin_needs_keys_and_refuses_another_transcript(tmp_path: Path) -> None:
    """CLI: --transcript-sha256 without --keys is a usage error; with a key set naming another transcript, exit 2
    before any proof is read."""
    from click.testing import CliRunner

    from zksolv.cli import EXIT_INPUT, main

    inputs, state = _small_market("stress")
    keys = tmp_path / "KEYS"
    _ceremony_key_set(keys, state)
    state.save(tmp_path / "m.json")
    (tmp_path / "proof").mkdir()
    base = ["verify", "--proof", str(tmp_path / "proof"), "--market", str(tmp_path / "m.json")]
    out = CliRunner().invoke(main, [*base, "--dev-key", "--transcript-sha256", "00" * 32])
    assert out.exit_code == EXIT_INPUT and "--transcript-sha256" in out.stderr and "--keys" in out.stderr
    out = CliRunner().invoke(main, [*base, "--keys", str(keys), "--transcript-sha256", "00" * 32])
    assert out.exit_code == EXIT_INPUT and "not the one pinned" in out.stderr, out.output


def test_a_hard_link_of_a_shipped_key_is_refused_a_copy_is_the_keepers_choice(tmp_path: Path) -> None:
    """The location check the --vk refusal keeps: a key inside the folder, a symlink into it or a hard link of
    its file is the proof's own key. A copy elsewhere is indistinguishable from the venue's key by content."""
    from zksolv.verifier.submissions import refuse_shipped_key as _refuse_shipped_key

    bundle = tmp_path / "proofs" / "mallory"
    bundle.mkdir(parents=True)
    shipped = bundle / "verification_key.json"
    shipped.write_text(json.dumps(_fake_vk(9)))
    (tmp_path / "linked.json").hardlink_to(shipped)
    (tmp_path / "sym.json").symlink_to(shipped)
    for vk, why in ((shipped, "inside the proof folder"), (tmp_path / "sym.json", "inside the proof folder"),
                    (tmp_path / "linked.json", "is a link to")):
        with pytest.raises(InputError, match=why):
            _refuse_shipped_key(vk, [bundle])
    (tmp_path / "copy.json").write_text(shipped.read_text())
    _refuse_shipped_key(tmp_path / "copy.json", [bundle])


def test_a_stress_grid_is_audited_against_its_named_grid() -> None:
    """ATTACK: a stress market whose "span" grid's price and vol shocks are a tenth of the grid the oracle
    builds from the committed inputs (weights unchanged). Accepted on load; the requirement collapses."""
    _, m0 = _small_market("stress")
    sc = m0.params.scenarios
    small = dataclasses.replace(sc, price_shocks=tuple(tuple(x // 10 for x in row) for row in sc.price_shocks),
                                vol_shocks=tuple(tuple(x // 10 for x in row) for row in sc.vol_shocks))
    tampered = dataclasses.replace(m0, params=dataclasses.replace(m0.params, scenarios=small))
    try:
        m1 = MarketState.from_json(tampered.to_json())
    except InputError:
        return
    front = min(i.expiry for i in m0.instruments if i.kind.is_option)
    book = Account(tuple(Position(i.symbol, -10 * fp.QTY_SCALE) for i in m0.instruments
                         if i.kind.is_option and i.symbol.startswith("BTC") and i.expiry == front), {}, 1)
    r0 = evaluate(m0, book.position_slots(m0), book.balances(m0))
    r1 = evaluate(m1, book.position_slots(m1), book.balances(m1))
    assert r1.req_raw >= r0.req_raw * 99 // 100, (
        f"requirement {r0.req_raw / 1e24:,.0f} USD -> {r1.req_raw / 1e24:,.0f} USD under an accepted market")
