"""Books proven in chunks (issue 12): plan, circuits, engines and the keeper's check.

Fast: the plan agrees with the reference model and with one circuit's commitment; states are
blinded (two books sharing their first chunk have unrelated states; the same book proven twice
too); padding chunks still move the state; bad capacities are refused naming the field.
Slow: a book proven in chunks on the local pool and in one circuit gives the same commitment and
both verify; re-ordered, dropped, duplicated or foreign chunks, a foreign final proof and a wrong
chunk count are refused; every wire of a chunk and of a final witness is tampered (independent R1CS
checker); the Ray engine (a local instance started here) and the resident prover (a daemon
started here) prove bundles that verify alike; a failing chunk is named and nothing is written.
Fast: which engine a call gets (Ray, resident prover, local pool) and the note when it falls back.
"""

from __future__ import annotations

import dataclasses
import json
import random
import warnings
from pathlib import Path

import pytest

from tests.keysets import write_test_manifest
from tests.witness_batch import tamper_survivors
from click.testing import CliRunner

from zksolv.prover.chunks import plan_chunks
from zksolv.verifier.chunked import load_chunks, verify_chunked
from zksolv.proofs.proof_io import load_proof, load_public, load_verification_key
from zksolv.proofs.statement import Statement
from zksolv.verifier.verify import verify
from zksolv.core import commitments as cm
from zksolv.core import fixedpoint as fp
from zksolv.core.account import Account, Position
from zksolv.toolchain.circuitgen import ChunkTier
from zksolv.app.demo import demo_market
from zksolv.core.errors import InputError, ProofError
from zksolv.risk.model import evaluate
from zksolv.core.venue import VenuePolicy

CAP = 8
#: 20 instruments (U = 2, A = 4, K = 16, depth 2 at arity 8); a venue accepting chunks of 8, up to 4 of them
MARKET = dataclasses.replace(demo_market(n_strikes=3, n_expiries=1),
                             venue=VenuePolicy(tiers=(4, 16), chunk_sizes=(CAP,), chunk_counts=(1, 2, 3, 4))).validated()
CHUNK_TIER = f"avsl_chunk_c{CAP}_u2_d{MARKET.shape[3]}"


def book(n: int, seed: int, salt: int = 0xB00C, first: list[tuple[str, int]] | None = None) -> Account:
    """A solvent book of ``n`` distinct positions (``first`` fixes the leading ones)."""
    rng = random.Random(seed)
    symbols = [i.symbol for i in MARKET.instruments]
    chosen = list(first or [])
    rest = [s for s in symbols if s not in {c for c, _ in chosen}]
    rng.shuffle(rest)
    chosen += [(s, rng.choice([-1, 1]) * rng.randint(1, 5) * 10**6) for s in rest[: n - len(chosen)]]
    return Account(tuple(Position(s, q) for s, q in chosen), {"USDC": 10**7 * 10**6, "BTC": 3 * 10**6}, salt).validated()


# ---------------------------------------------------------------- fast: the plan
def test_plan_agrees_with_the_reference_and_with_one_circuit() -> None:
    acc = book(20, seed=1)
    plan = plan_chunks(acc, MARKET, CAP)
    assert plan.n_chunks == 3 and len(plan.states) == 4
    assert plan.account_commitment == cm.account_commitment_of(acc, MARKET)  # the registered commitment
    result = evaluate(MARKET, acc.position_slots(MARKET), acc.balances(MARKET))
    fin = plan.final_inputs
    assert [int(x) for x in fin["Delta"]] == [fp.to_field(d) for d in result.greeks.Delta]
    assert int(fin["position_value"]) == fp.to_field(result.greeks.position_value)
    assert int(fin["mm"]) == result.mm
    # every chunk continues the previous state; the last is the final's
    for i, inputs in enumerate(plan.chunk_inputs):
        assert (int(inputs["state_in"]), int(inputs["state_out"])) == plan.states[i : i + 2]
        assert int(inputs["counter"]) == i
    assert plan.final_public() == [str(plan.account_commitment), str(cm.market_root(MARKET)),
                                   str(plan.states[0]), str(plan.states[-1])]
    # the final state opens to the book's positions hash and sums
    r = int(fin["blinding"])
    chain = cm.positions_hash(acc.holdings(MARKET)[0])
    g = result.greeks
    assert plan.states[-1] == cm.chunk_state(3, chain, g.Delta, g.Gamma, g.Vega, g.position_value, r)
    assert plan.states[0] == cm.chunk_state(0, 0, [0, 0], [0, 0], [0, 0], 0, r)


def test_states_are_blinded() -> None:
    # the 8 instruments with the smallest identities: the first chunk of any book holding them
    by_id = sorted(range(len(MARKET.instruments)), key=lambda i: MARKET.instrument_ids[i])
    shared = [(MARKET.instruments[i].symbol, (k + 1) * 10**6) for k, i in enumerate(by_id[:CAP])]
    a, b = book(12, seed=2, first=shared), book(12, seed=3, first=shared)
    pa, pb, pa_again = plan_chunks(a, MARKET, CAP), plan_chunks(b, MARKET, CAP), plan_chunks(a, MARKET, CAP)
    assert pa.chunk_inputs[0]["q"] == pb.chunk_inputs[0]["q"]  # the same first chunk ...
    assert pa.chunk_inputs[0]["instrument_id"] == pb.chunk_inputs[0]["instrument_id"]
    assert pa.chunk_inputs[1]["instrument_id"] != pb.chunk_inputs[1]["instrument_id"]  # ... different books
    # the same first chunk, yet unrelated public states; the same book twice: unrelated too
    assert not set(pa.states) & set(pb.states)
    assert not set(pa.states) & set(pa_again.states)
    # with the blinding fixed, the plan is a function of the book: the blinding is what hides it
    assert plan_chunks(a, MARKET, CAP, blinding=5).states == plan_chunks(a, MARKET, CAP, blinding=5).states


def test_padding_chunks_still_move_the_state() -> None:
    acc = book(5, seed=4)
    plan = plan_chunks(acc, MARKET, CAP, n_chunks=4)
    assert plan.n_chunks == 4 and len(set(plan.states)) == 5  # an empty chunk is not visible as a repeat
    assert all(set(inputs["q"]) == {"0"} for inputs in plan.chunk_inputs[1:])
    with pytest.raises(InputError, match=r"n_chunks: the book needs 3 chunks of 8, more than 2"):
        plan_chunks(book(20, seed=1), MARKET, CAP, n_chunks=2)


def test_bad_capacity_and_insolvent_books_are_refused_before_proving() -> None:
    with pytest.raises(InputError, match=r"chunk\.capacity: must be a multiple of 8"):
        ChunkTier(12, 2, 3)
    with pytest.raises(InputError, match=r"chunk\.capacity: must be a multiple of 8"):
        plan_chunks(book(12, seed=1), MARKET, 12)
    poor = dataclasses.replace(book(12, seed=1), collateral={})
    with pytest.raises(ProofError, match="insolvent"):
        plan_chunks(poor, MARKET, CAP)


def test_cli_refuses_chunk_options_that_cannot_work(tmp_path: Path) -> None:
    from zksolv.cli import main

    MARKET.save(tmp_path / "m.json")
    book(12, seed=1).save(tmp_path / "a.json")
    base = ["prove", "--account", str(tmp_path / "a.json"), "--market", str(tmp_path / "m.json"), "--out",
            str(tmp_path / "p")]
    for extra, message in ((["--chunk-size", "12"], "--chunk-size: must be a multiple of 8"),
                           (["--positions", "16", "--chunks", "2"], "--positions: one circuit's capacity")):
        out = CliRunner().invoke(main, [*base, *extra])
        assert out.exit_code == 2 and message in out.output, out.output
        assert not (tmp_path / "p").exists()


# ---------------------------------------------------------------- slow: real proofs
def _verify_folder(folder: Path, market=MARKET, commitment: int | None = None):
    st = Statement.load(folder / "statement.json")
    return verify_chunked(load_chunks(folder, st.n_chunks), load_proof(folder / "final" / "proof.json"),
                          load_public(folder / "final" / "public.json"), market,
                          load_verification_key(folder / "verification_key.json"),
                          load_verification_key(folder / "chunk_verification_key.json"),
                          account_commitment=commitment, statement=st)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    from zksolv.prover.prove import prove

    a, b = book(20, seed=1), book(20, seed=5, salt=0xBEEF)
    out = tmp_path_factory.mktemp("chunked")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ba = prove(a, MARKET, chunk_size=CAP, workers=2)
        bb = prove(b, MARKET, chunk_size=CAP, workers=1)
        single = prove(book(12, seed=6), MARKET, n_positions=16)
        chunked12 = prove(book(12, seed=6), MARKET, chunk_size=CAP, workers=1)
    ba.save(out / "a")
    bb.save(out / "b")
    return a, b, ba, bb, single, chunked12, out


@pytest.mark.slow
def test_chunked_and_single_circuit_proofs_agree(bundles) -> None:
    a, _, ba, _, single, chunked12, out = bundles
    assert ba.statement.n_chunks == 3 and ba.statement.chunk_tier == CHUNK_TIER
    v = _verify_folder(out / "a", commitment=cm.account_commitment_of(a, MARKET))
    assert v.valid, v.reason
    # the same 12-position book: one circuit and chunks give the same public commitment and root
    assert single.public == chunked12.public[:2]
    assert verify(single.proof, single.public, MARKET, single.verification_key).valid
    assert verify_chunked(chunked12.chunks, chunked12.proof, chunked12.public, MARKET, chunked12.verification_key,
                          chunked12.chunk_verification_key).valid


@pytest.mark.slow
def test_keeper_refuses_broken_chains(bundles) -> None:
    a, _, ba, bb, *_ = bundles
    args = (ba.proof, ba.public, MARKET, ba.verification_key, ba.chunk_verification_key)
    c = list(ba.chunks)
    cases = {
        "re-ordered": [c[1], c[0], c[2]],
        "dropped": [c[0], c[2]],
        "duplicated": [c[0], c[1], c[1], c[2]],
        "another account's chunk": [c[0], bb.chunks[1], c[2]],
    }
    for name, chunks in cases.items():
        v = verify_chunked(chunks, *args)
        assert not v.valid and "do not link" in v.reason, (name, v.reason)
    foreign_final = verify_chunked(c, bb.proof, bb.public, *args[2:])
    assert not foreign_final.valid and "do not link" in foreign_final.reason
    st = dataclasses.replace(ba.statement, n_chunks=4)
    assert "claims 4 chunks" in verify_chunked(c, *args, statement=st).reason
    other = cm.account_commitment_of(bundles[1], MARKET)
    assert "registered commitment" in verify_chunked(c, *args, account_commitment=other).reason
    # the venue no longer accepts chunks of this size (the policy is not in market_root)
    other_sizes = dataclasses.replace(MARKET, venue=dataclasses.replace(MARKET.venue, chunk_sizes=(16, 32)))
    v = verify_chunked(c, ba.proof, ba.public, other_sizes, *args[3:], statement=ba.statement)
    assert not v.valid and v.reason == f"chunk size {CAP}: the venue accepts chunk sizes [16, 32] only"
    nxt = dataclasses.replace(MARKET, epoch=MARKET.epoch + 1)
    assert "market_root differs" in verify_chunked(c, ba.proof, ba.public, nxt, *args[3:]).reason
    # a chunk whose public states were edited to link: the pairing check refuses it
    forged = [(c[0][0], c[0][1]), (bb.chunks[1][0], [c[1][1][0], c[1][1][1], c[1][1][2]]), c[2]]
    v = verify_chunked(forged, *args)
    assert not v.valid and v.reason == "pairing check failed on chunk 1"


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["stress", "revaluation"])
def test_every_wire_of_a_chunk_and_a_final_witness_is_bound(tmp_path: Path, mode: str) -> None:
    """The greeks pair (AvslChunk / AvslFinal) and the revaluation pair (AvslRevaluationChunk /
    AvslRevaluationFinal: slots opening leaves with the risk arrays, states carrying the U*K sums)."""
    from zksolv.toolchain.artifacts import compile_tier

    market = MARKET if mode == "stress" else demo_market(risk_mode=mode, n_strikes=3, n_expiries=1)
    acc = book(13, seed=7)  # chunk 1 holds 5 positions: 3 empty slots
    plan = plan_chunks(acc, market, CAP)
    assert plan.chunk_tier.name == (CHUNK_TIER + ("_k16_revaluation" if mode == "revaluation" else ""))
    chunk = compile_tier(plan.chunk_tier)[1]
    full = tamper_survivors(chunk, plan.chunk_inputs[0], tmp_path)
    assert full == [], full
    padded = tamper_survivors(chunk, plan.chunk_inputs[1], tmp_path)
    assert sorted(padded) == [f"main.slots.pos[{j}].e.zero.inv" for j in (5, 6, 7)], padded
    final = tamper_survivors(compile_tier(plan.final_tier)[1], plan.final_inputs, tmp_path)
    held = sum(1 for b in acc.balances(market) if b)
    assert sorted(final) == [f"main.balances.bal[{b}].e.zero.inv" for b in range(held, len(market.collateral))], final


@pytest.mark.slow
def test_ray_engine_proves_bundles_that_verify_like_the_local_pool(bundles) -> None:
    import ray
    from zksolv.prover.prove import prove

    a = bundles[0]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            by_ray = prove(a, MARKET, chunk_size=CAP, ray_address="local")
    finally:
        ray.shutdown()
    assert by_ray.statement.n_chunks == bundles[2].statement.n_chunks
    assert by_ray.public[:2] == bundles[2].public[:2]
    assert verify_chunked(by_ray.chunks, by_ray.proof, by_ray.public, MARKET, by_ray.verification_key,
                          by_ray.chunk_verification_key, account_commitment=cm.account_commitment_of(a, MARKET)).valid


@pytest.mark.slow
def test_a_failing_chunk_is_named_and_nothing_is_written(tmp_path: Path, monkeypatch) -> None:
    import zksolv.prover.prove as prove_module
    from zksolv.cli import EXIT_REFUSED, main

    real = prove_module.plan_chunks

    def broken(*args, **kwargs):
        plan = real(*args, **kwargs)
        bad = dict(plan.chunk_inputs[1], state_in=str(plan.states[0]))  # chunk 1 claims the empty state
        return dataclasses.replace(plan, chunk_inputs=(plan.chunk_inputs[0], bad, *plan.chunk_inputs[2:]))

    monkeypatch.setattr(prove_module, "plan_chunks", broken)
    MARKET.save(tmp_path / "m.json")
    book(20, seed=1).save(tmp_path / "a.json")
    out = CliRunner().invoke(main, ["prove", "--account", str(tmp_path / "a.json"), "--market", str(tmp_path / "m.json"),
                                    "--out", str(tmp_path / "proof"), "--chunk-size", "8", "--workers", "1"])
    assert out.exit_code == EXIT_REFUSED, out.output
    assert "error: chunk 1: " in out.output and "Traceback" not in out.output
    assert not (tmp_path / "proof").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".proof")]  # no staging left behind


@pytest.mark.slow
def test_cli_verifies_a_chunked_bundle_with_the_venue_key_set(bundles, tmp_path: Path) -> None:
    import shutil

    from zksolv.cli import EXIT_INPUT, EXIT_INVALID, main

    a, _, ba, _, _, _, out = bundles
    MARKET.save(tmp_path / "m.json")
    keys = tmp_path / "venue-keys"
    keys.mkdir()
    (keys / f"{ba.statement.tier}.json").write_text(json.dumps(ba.verification_key))
    write_test_manifest(keys, MARKET)
    args = ["verify", "--proof", str(out / "a"), "--market", str(tmp_path / "m.json"), "--json",
            "--commitment", str(cm.account_commitment_of(a, MARKET))]
    # the venue publishes no chunk key
    refused = CliRunner().invoke(main, [*args, "--keys", str(keys)])
    assert refused.exit_code == EXIT_INVALID
    assert f"has no key for {CHUNK_TIER}" in json.loads(refused.stdout.splitlines()[0])["reason"]
    (keys / f"{ba.statement.chunk_tier}.json").write_text(json.dumps(ba.chunk_verification_key))
    write_test_manifest(keys, MARKET)
    for trust in (["--keys", str(keys)], ["--dev-key"]):
        ok = CliRunner().invoke(main, [*args, *trust])
        assert ok.exit_code == 0, ok.output
        line = json.loads(ok.stdout.splitlines()[0])
        assert line["valid"] and line["chunks"] == 3 and line["chunk_tier"] == CHUNK_TIER
    # the bundle's own key is never trusted (exit 2); the venue's key, for a submission that ships none,
    # still cannot check a chunked book alone
    own = CliRunner().invoke(main, [*args, "--vk", str(out / "a" / "verification_key.json")])
    assert own.exit_code == EXIT_INPUT and "inside the proof folder" in own.stdout
    bare = tmp_path / "a"
    shutil.copytree(out / "a", bare)
    for name in ("verification_key.json", "chunk_verification_key.json"):
        (bare / name).unlink()
    bare_args = [str(bare) if a == str(out / "a") else a for a in args]
    single_key = CliRunner().invoke(main, [*bare_args, "--vk", str(keys / f"{ba.statement.tier}.json")])
    assert single_key.exit_code == EXIT_INVALID and "use --keys DIR" in single_key.stdout


# ---------------------------------------------------------------- engines
def test_engine_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Ray when asked; the resident prover when it runs (auto) or is required; the local pool when
    ``workers`` is given, for snarkjs, or when no resident prover runs (with one note)."""
    from zksolv.prover import daemon, engines
    from zksolv.core.errors import ToolchainError

    monkeypatch.setenv(daemon.SOCKET_ENV, str(tmp_path / "run" / "prover.sock"))
    running: list[dict] = []
    monkeypatch.setattr(daemon, "status", lambda path=None: running[0] if running else None)
    notes: list[str] = []
    assert isinstance(engines.get_engine(resident="auto", note=notes.append), engines.LocalPool)
    assert len(notes) == 1 and "no resident prover running" in notes[0]
    with pytest.raises(ToolchainError, match="no resident prover running"):
        engines.get_engine(resident="require")
    running.append({"pid": 1, "workers": 2})
    engine = engines.get_engine(resident="auto", note=notes.append)
    assert isinstance(engine, engines.ResidentEngine) and engine.path == tmp_path / "run" / "prover.sock"
    assert engine.workers == 2
    assert isinstance(engines.get_engine(2, resident="auto"), engines.LocalPool)
    assert isinstance(engines.get_engine(2, resident="require"), engines.ResidentEngine)
    assert isinstance(engines.get_engine(resident="off"), engines.LocalPool)
    assert isinstance(engines.get_engine(backend="snarkjs", resident="auto"), engines.LocalPool)
    assert isinstance(engines.get_engine(ray_address="local", resident="require"), engines.RayEngine)
    assert len(notes) == 1


@pytest.mark.slow
def test_resident_prover_proves_bundles_that_verify_like_the_local_pool(bundles, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks and final proof through a resident prover started here: the same public statement as
    the local pool's bundle, a valid chained bundle, both keys loaded once, and a failing chunk named."""
    import zksolv.prover.prove as prove_module
    from zksolv.prover import daemon
    sock = tmp_path / "run" / "prover.sock"
    monkeypatch.setenv(daemon.SOCKET_ENV, str(sock))
    a = bundles[0]
    labels: list[str] = []

    def progress(label: str):
        labels.append(label)
        return __import__("contextlib").nullcontext()

    daemon.start(path=sock)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            resident = prove_module.prove(a, MARKET, chunk_size=CAP, resident="require", progress=progress)
            again = prove_module.prove(a, MARKET, chunk_size=CAP, progress=progress)  # auto: it runs
        info = daemon.status(sock)
        real = prove_module.plan_chunks

        def broken(*args, **kwargs):
            plan = real(*args, **kwargs)
            bad = dict(plan.chunk_inputs[2], state_in=str(plan.states[0]))
            return dataclasses.replace(plan, chunk_inputs=(*plan.chunk_inputs[:2], bad, *plan.chunk_inputs[3:]))

        monkeypatch.setattr(prove_module, "plan_chunks", broken)
        with pytest.raises(ProofError, match="^chunk 2: "):
            prove_module.prove(a, MARKET, chunk_size=CAP, resident="require")
    finally:
        daemon.stop(path=sock)
    assert sum("(resident engine)" in label for label in labels) == 2
    n = resident.statement.n_chunks
    assert info is not None and info["proofs"] == 2 * (n + 1)
    assert sorted(k["proofs"] for k in info["keys"]) == [2, 2 * n]
    for bundle in (resident, again):
        assert bundle.public[:2] == bundles[2].public[:2] and bundle.statement.n_chunks == bundles[2].statement.n_chunks
        assert verify_chunked(bundle.chunks, bundle.proof, bundle.public, MARKET, bundle.verification_key,
                              bundle.chunk_verification_key, account_commitment=cm.account_commitment_of(a, MARKET)).valid
