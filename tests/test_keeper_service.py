"""The keeper service against a real Hardhat node: killed between a batch sent and confirmed
(automine off), restarted: the batch is confirmed from the journal, nothing is sent twice, no
verdict is lost; after the window the missed accounts are marked."""

from __future__ import annotations

import json
import secrets
from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("web3")

from tests.test_chain_node import WINDOW, _account, _keys, _no_signer_env, node  # noqa: F401  (fixtures)
from tests.test_onchain import Toy, toy  # noqa: F401
from zksolv.verifier.calldata import R
from zksolv.proofs.proof_io import save_proof, save_public
from zksolv.chain import registry as reg
from zksolv.chain.client import Chain
from zksolv.chain.keeper_service import Keeper, open_db
from zksolv.chain.node import rpc_call
from zksolv.core.commitments import market_root
from zksolv.app.demo import DEMO_EPOCH, demo_market
from zksolv.core.errors import InputError
from zksolv.core.market import MarketState

pytestmark = pytest.mark.slow


#: The demo market's epoch (the UTC day of its valuation time); the test's second epoch is the next day.
EPOCH = DEMO_EPOCH


def _venue(node, toy: Toy, tmp_path: Path, manifest: bool = False):
    """A deployed registry, epoch 1 posted, 5 accounts registered; the venue folder: accounts 0-2
    submit valid proofs, 3 submits account 0's proof (another commitment), 4 nothing. ``manifest``:
    the keys folder is a key set with a manifest, deployed from it as `zksolv chain deploy --keys` does."""
    keys = _keys(tmp_path / "keys", toy.vk_json)
    if manifest:
        from tests.test_chain_node import TOY_NAME
        from zksolv.chain.solidity import tier_keys_from_folder
        from zksolv.proofs.keyset import write_manifest

        write_manifest(tmp_path / "keys", [{"circuit": TOY_NAME, "circuit_hash": "ab" * 32,
                                            "verification_key": f"{TOY_NAME}.json"}], transcript_sha256=None, route="dev")
        keys, _ = tier_keys_from_folder(tmp_path / "keys")
    chain = Chain(node.url)
    deployment, _ = reg.deploy(chain, keys, tmp_path / "deploy.json")
    market = demo_market(n_strikes=3, n_expiries=1)
    assert market.epoch == EPOCH  # an epoch number is the UTC day its market is priced on
    root = market_root(market)
    venue = tmp_path / "venue"
    epoch_dir = venue / "epochs" / "000001"
    epoch_dir.mkdir(parents=True)
    market.save(epoch_dir / "market.json")
    accounts = {}
    for i in range(5):
        secret, salt = secrets.randbelow(R), secrets.randbelow(R)
        name = _account(100 + i)
        accounts[name] = (secret * secret + salt) % R
        if i < 4:  # 0-2 valid; 3 submits account 0's proof (another commitment); 4 nothing
            proof, public = toy.prove(secret, salt, root, f"k{i}") if i < 3 else (first_proof, first_public)
            if i == 0:
                first_proof, first_public = proof, public
            (epoch_dir / "proofs" / name).mkdir(parents=True)
            save_proof(epoch_dir / "proofs" / name / "proof.json", proof)
            save_public(epoch_dir / "proofs" / name / "public.json", [str(x) for x in public])
    (venue / "accounts.json").write_text(json.dumps({a: str(c) for a, c in accounts.items()}))
    reg.post_root(chain, deployment, EPOCH, root, WINDOW)
    for a, c in accounts.items():
        reg.register(chain, deployment, a, c)
    return chain, deployment, venue, accounts, list(accounts)


def test_keeper_killed_between_sent_and_confirmed(node, toy: Toy, tmp_path: Path, monkeypatch) -> None:
    chain, deployment, venue, accounts, names = _venue(node, toy, tmp_path)
    # another key set: refused before any work
    _keys(tmp_path / "other_keys", toy.other_vk_json)
    with pytest.raises(InputError, match="another key set"):
        Keeper(venue, deployment, chain, tmp_path / "other.sqlite", tmp_path / "other_keys")
    assert not (tmp_path / "other.sqlite").exists()  # refused before the database was created

    db_path = tmp_path / "keeper.sqlite"
    rpc_call(node.url, "evm_setAutomine", [False])
    keeper = Keeper(venue, deployment, chain, open_db(db_path), tmp_path / "keys")

    def killed(self, tx_hash, what):  # the process dies after broadcasting, before the receipt
        raise KeyboardInterrupt

    monkeypatch.setattr(Keeper, "_settle", killed)
    with pytest.raises(KeyboardInterrupt):
        keeper.run_once()
    monkeypatch.undo()
    keeper.db.close()
    signed = open_db(db_path).execute("SELECT state FROM txs").fetchall()
    assert signed == [("signed",)]
    rpc_call(node.url, "evm_mine")
    rpc_call(node.url, "evm_setAutomine", [True])

    restarted = Keeper(venue, deployment, Chain(node.url), open_db(db_path), tmp_path / "keys")
    [report] = restarted.run_once()
    assert [r["state"] for r in report["reconciled"]] == ["confirmed"]
    assert report["sent"] == []  # the batch was not sent again
    verdicts = dict(restarted.db.execute("SELECT account, status FROM verdicts").fetchall())
    assert verdicts == {names[0]: "valid", names[1]: "valid", names[2]: "valid", names[3]: "invalid",
                        names[4]: "missing"}
    assert sorted(int(e["accountCommitment"]) for e in reg.events(chain, deployment, "ProvenSolvent")) == \
        sorted(accounts[n] for n in names[:3])

    rpc_call(node.url, "evm_increaseTime", [WINDOW + 1])
    rpc_call(node.url, "evm_mine")
    [report] = restarted.run_once()
    assert sorted(r["what"] for r in report["sent"]) == sorted(f"markLiquidatable({n})" for n in names[3:])
    txs = restarted.transactions()
    assert [t["state"] for t in txs] == ["confirmed"] * 3
    assert len({t["nonce"] for t in txs}) == 3
    assert reg.account_marks(chain, deployment) == {accounts[n]: EPOCH for n in names[3:]}  # the epoch posted
    [report] = restarted.run_once()  # nothing left to do
    assert report["sent"] == [] and report["reconciled"] == []


def test_keeper_killed_before_broadcast_and_a_dropped_transaction(node, toy: Toy, tmp_path: Path,
                                                                  monkeypatch) -> None:
    """Killed after the 'signed' record, before broadcasting: the restart sends the same signed
    bytes (one hash). Then a signed transaction whose nonce another transaction took: reported
    'dropped', the batch re-planned from the chain's state and sent anew."""
    from zksolv.chain.client import Chain as ChainClass

    chain, deployment, venue, accounts, names = _venue(node, toy, tmp_path)
    db_path = tmp_path / "keeper.sqlite"

    def dies(self, raw, tx_hash):
        raise KeyboardInterrupt

    monkeypatch.setattr(ChainClass, "broadcast", dies)
    with pytest.raises(KeyboardInterrupt):
        Keeper(venue, deployment, Chain(node.url), open_db(db_path), tmp_path / "keys").run_once()
    monkeypatch.undo()
    [(first_hash, state)] = open_db(db_path).execute("SELECT tx_hash, state FROM txs").fetchall()
    assert state == "signed" and not chain.known(first_hash)
    keeper = Keeper(venue, deployment, Chain(node.url), open_db(db_path), tmp_path / "keys")
    [report] = keeper.run_once()
    assert report["reconciled"] == [{"tx": first_hash, "what": "proveSolventBatch(3)", "state": "confirmed"}]
    assert report["sent"] == [] and [t["tx_hash"] for t in keeper.transactions()] == [first_hash]

    # a new epoch; the keeper dies before broadcasting its batch, and the venue (same signer
    # here) takes that nonce with another transaction
    market = replace(demo_market(n_strikes=3, n_expiries=1), epoch=EPOCH + 1)  # re-lists the day-before quotes
    root = market_root(market)
    epoch_dir = venue / "epochs" / "000002"
    (epoch_dir / "proofs").mkdir(parents=True)
    market.save(epoch_dir / "market.json")
    # no root while epoch 1's window is open (ProofWindowOpen): let it close first
    rpc_call(node.url, "evm_increaseTime", [WINDOW + 1])
    rpc_call(node.url, "evm_mine")
    reg.post_root(chain, deployment, EPOCH + 1, root, WINDOW)
    # only account 0 proves in epoch 2: re-register it under a fresh commitment and prove that
    secret, salt = secrets.randbelow(R), secrets.randbelow(R)
    commitment = (secret * secret + salt) % R
    accounts[names[0]] = commitment
    (venue / "accounts.json").write_text(json.dumps({a: str(c) for a, c in accounts.items()}))
    reg.register(chain, deployment, names[0], commitment)
    proof, public = toy.prove(secret, salt, root, "e2")
    (epoch_dir / "proofs" / names[0]).mkdir()
    save_proof(epoch_dir / "proofs" / names[0] / "proof.json", proof)
    save_public(epoch_dir / "proofs" / names[0] / "public.json", [str(x) for x in public])
    monkeypatch.setattr(ChainClass, "broadcast", dies)
    with pytest.raises(KeyboardInterrupt):
        Keeper(venue, deployment, Chain(node.url), open_db(db_path), tmp_path / "keys").run_once()
    monkeypatch.undo()
    reg.register(chain, deployment, names[4], accounts[names[4]])  # takes the journaled nonce
    keeper = Keeper(venue, deployment, Chain(node.url), open_db(db_path), tmp_path / "keys")
    reports = keeper.run_once()
    assert [r["state"] for r in reports[0]["reconciled"]] == ["dropped"]
    assert reports[0]["note"].startswith(f"the registry is at epoch {EPOCH + 1}")  # epoch 1: nothing sent
    # the batch, then (epoch 2's window open) epoch 1's non-provers, which the registry lets be
    # marked until their deadline in epoch 2 (adversary review finding 6: they used to be missed)
    sent = [r["what"] for r in reports[1]["sent"]]
    assert sent[0] == "proveSolventBatch(1)"
    assert sorted(sent[1:]) == sorted(f"markLiquidatable({n})" for n in names[3:])
    states = [t["state"] for t in keeper.transactions()]
    assert states == ["confirmed", "dropped"] + ["confirmed"] * len(sent)
    assert reg.is_solvent(chain, deployment, commitment)


def test_keeper_cli_once(node, toy: Toy, tmp_path: Path) -> None:
    """`zksolv keeper run --once`: one pass, a JSON line per epoch, state in --db."""
    from click.testing import CliRunner

    from zksolv.cli import main

    _, _, venue, _, names = _venue(node, toy, tmp_path)
    db = tmp_path / "k.sqlite"
    result = CliRunner().invoke(main, ["keeper", "run", "--venue", str(venue), "--deploy", str(tmp_path / "deploy.json"),
                                       "--rpc", node.url, "--keys", str(tmp_path / "keys"), "--db", str(db), "--once"])
    assert result.exit_code == 0, result.output
    [line] = [json.loads(x) for x in result.output.splitlines()]
    assert line["epoch"] == EPOCH and line["valid"] == sorted(names[:3]) and len(line["sent"]) == 1
    assert open_db(db).execute("SELECT count(*) FROM verdicts").fetchone() == (5,)


def test_keeper_run_with_a_pinned_policy_stops_at_an_epoch_applying_another(node, toy: Toy, tmp_path: Path) -> None:
    """`zksolv keeper run --policy`: the venue's own market passes the pin; the same epoch republished with a
    lowered vol shift (every derived figure exact) stops the keeper with exit 2 naming the field, and nothing
    is recorded or sent for it."""
    import dataclasses

    from click.testing import CliRunner

    from zksolv.cli import main
    from zksolv.core.policy import policy_of, save_policy

    _, _, venue, _, _ = _venue(node, toy, tmp_path)
    market_path = venue / "epochs" / "000001" / "market.json"
    market = MarketState.load(market_path)
    save_policy(policy_of(market), tmp_path / "policy.json")
    lowered = dataclasses.replace(market, params=dataclasses.replace(market.params, vol_shift=10_000))
    save_policy(policy_of(lowered), tmp_path / "lowered_policy.json")
    args = ["keeper", "run", "--venue", str(venue), "--deploy", str(tmp_path / "deploy.json"), "--rpc", node.url,
            "--keys", str(tmp_path / "keys"), "--once"]
    refused = CliRunner().invoke(main, [*args, "--db", str(tmp_path / "a.sqlite"), "--policy",
                                        str(tmp_path / "lowered_policy.json")])
    assert refused.exit_code == 2 and "policy.params.vol_shift" in refused.stderr, refused.output
    assert open_db(tmp_path / "a.sqlite").execute("SELECT count(*) FROM verdicts").fetchone() == (0,)
    assert open_db(tmp_path / "a.sqlite").execute("SELECT count(*) FROM txs").fetchone() == (0,)
    accepted = CliRunner().invoke(main, [*args, "--db", str(tmp_path / "b.sqlite"), "--policy",
                                         str(tmp_path / "policy.json")])
    assert accepted.exit_code == 0, accepted.output
    assert json.loads(accepted.output.splitlines()[0])["epoch"] == EPOCH


def test_a_folder_rewritten_after_its_verdict_does_not_stop_the_batch(node, toy: Toy, tmp_path: Path) -> None:
    """Adversary review round 2, on a real node: accounts 0-2 are checked valid; account 1 then replaces its
    proof.json with account 2's proof (its public.json still names its own commitment and the root: the
    folder reads and passes the re-read check, the pairing fails on chain). The keeper's batch of three is
    refused in simulation; the keeper simulates each member alone, drops account 1 (its verdict checked
    again next pass) and records 0 and 2. Before the fix every pass's batch reverted and nobody's proof
    was recorded."""
    chain, deployment, venue, accounts, names = _venue(node, toy, tmp_path)
    keeper = Keeper(venue, deployment, chain, open_db(tmp_path / "keeper.sqlite"), tmp_path / "keys")
    epoch_dir = venue / "epochs" / "000001"
    registered = {a: int(c) for a, c in json.loads((venue / "accounts.json").read_text()).items()}
    _, verdicts = keeper.verdicts(epoch_dir, registered)
    assert [verdicts[n][0] for n in names[:3]] == ["valid"] * 3
    proofs = epoch_dir / "proofs"
    (proofs / names[1] / "proof.json").write_bytes((proofs / names[2] / "proof.json").read_bytes())
    [report] = keeper.run_once()
    assert set(report["refused_members"]) == {names[1]}, report
    assert report["refused_members"][names[1]].startswith("InvalidProof"), report
    assert sorted(int(e["accountCommitment"]) for e in reg.events(chain, deployment, "ProvenSolvent")) == \
        sorted(accounts[n] for n in (names[0], names[2]))
    status = dict(keeper.db.execute("SELECT account, status FROM verdicts").fetchall())
    assert status[names[1]] == "invalid"


def test_keeper_run_pins_the_key_set(node, toy: Toy, tmp_path: Path) -> None:
    """`zksolv keeper run --key-set-sha256`: the key set `zksolv ceremony verify` pinned runs; another
    manifest, a key file changed after the pin, or a malformed pin is refused (exit 2) before any verdict
    or transaction."""
    from click.testing import CliRunner

    from tests.test_chain_node import TOY_NAME
    from zksolv.cli import main
    from zksolv.proofs.keyset import key_set_sha256, write_manifest

    _, _, venue, _, names = _venue(node, toy, tmp_path, manifest=True)
    keys = tmp_path / "keys"
    pin = key_set_sha256(keys)
    args = ["keeper", "run", "--venue", str(venue), "--deploy", str(tmp_path / "deploy.json"), "--rpc", node.url,
            "--keys", str(keys), "--once"]

    def refused(db: str, *extra: str, message: str) -> None:
        out = CliRunner().invoke(main, [*args, "--db", str(tmp_path / db), *extra])
        assert out.exit_code == 2 and message in out.stderr, out.output
        assert not (tmp_path / db).exists() or \
            open_db(tmp_path / db).execute("SELECT count(*) FROM verdicts").fetchone() == (0,)

    refused("a.sqlite", "--key-set-sha256", "xyz", message="expected the 64 hex digits")
    refused("b.sqlite", "--key-set-sha256", "0" * 64, message="is not the key set pinned with --key-set-sha256")
    ok = CliRunner().invoke(main, [*args, "--db", str(tmp_path / "c.sqlite"), "--key-set-sha256", pin])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output.splitlines()[0])["valid"] == sorted(names[:3])
    # the key file swapped for another key with the manifest rewritten to match: the pin catches the manifest
    (keys / f"{TOY_NAME}.json").write_text(json.dumps(toy.other_vk_json))
    write_manifest(keys, [{"circuit": TOY_NAME, "circuit_hash": "ab" * 32, "verification_key": f"{TOY_NAME}.json"}],
                   transcript_sha256=None, route="dev")
    refused("d.sqlite", "--key-set-sha256", pin, message="is not the key set pinned with --key-set-sha256")
