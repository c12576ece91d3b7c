"""The chain client against a real Hardhat node (started on a free port by a fixture, stopped
after): deploy, post a root, register 44 accounts, submit 40 toy proofs (batches of 32 + 8),
mark the 4 missing after the window, read every event and view back; the receipts' gas equals
the in-process EVM's for the same calls. Bad input: RPC down, wrong chain id, other keys,
another root, unfunded signer, a reverting tx (decoded), a keystore with a wrong password.

Proofs are the toy circuit's of tests/test_onchain.py (public inputs [commitment, root]):
the registry cannot tell them from margin proofs, and 40 cost ~20 s instead of minutes.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("web3")

from tests.test_onchain import TOY_TIER, Toy, toy  # noqa: F401  (the module-scoped fixture)
from zksolv.verifier.calldata import R, encode_mark_liquidatable, encode_post_market_root, encode_register_account
from zksolv.proofs.proof_io import save_proof, save_public
from zksolv.chain import registry as reg
from zksolv.chain.client import Chain
from zksolv.chain.errors import ChainError, RevertedError, SignerError
from zksolv.chain.evm import EvmScript
from zksolv.chain.node import LOCAL_CHAIN_ID, rpc_call, start_node
from zksolv.chain.solidity import TierKey, deploy_registry
from zksolv.core.errors import InputError

pytestmark = pytest.mark.slow

TOY_NAME = f"avsl_n{TOY_TIER}_u1_a1_k1_d1_stress"
N_PROVEN = 40
N_MISSING = 4
WINDOW = 3600


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("hardhat") / "node.log"
    n = start_node(log_path=log)
    yield n
    n.stop()
    assert n.process.poll() is not None


@pytest.fixture(autouse=True)
def _no_signer_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ZKSOLV_PRIVATE_KEY", "ZKSOLV_KEYSTORE", "ZKSOLV_KEYSTORE_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


def _keys(folder: Path, vk: dict[str, Any]) -> list[TierKey]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{TOY_NAME}.json"
    path.write_text(json.dumps(vk))
    return [TierKey(TOY_TIER, path, tier=TOY_NAME)]


def _account(i: int) -> str:
    from web3 import Web3

    return Web3.to_checksum_address(f"0x{0xacc0 + i:040x}")


@pytest.fixture(scope="module")
def scenario(node, toy: Toy, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Everything done once on the node; the tests below assert on it."""
    work = tmp_path_factory.mktemp("chain")
    keys = _keys(work / "keys", toy.vk_json)
    chain = Chain(node.url)
    deployment, deploy_rows = reg.deploy(chain, keys, work / "deploy.json")
    root = secrets.randbelow(R - 1) + 1
    post = reg.post_root(chain, deployment, 1, root, WINDOW)
    accounts = []
    proofs_dir = work / "proofs"
    for i in range(N_PROVEN + N_MISSING):
        secret, salt = secrets.randbelow(R), secrets.randbelow(R)
        commitment = (secret * secret + salt) % R
        accounts.append((_account(i), commitment))
        if i < N_PROVEN:
            proof, public = toy.prove(secret, salt, root, f"acct{i}")
            (proofs_dir / f"acct{i:02d}").mkdir(parents=True)
            save_proof(proofs_dir / f"acct{i:02d}" / "proof.json", proof)
            save_public(proofs_dir / f"acct{i:02d}" / "public.json", [str(x) for x in public])
    register_rows = [reg.register(chain, deployment, a, c) for a, c in accounts]
    before = reg.status(chain, deployment)
    submit_rows = reg.submit(chain, deployment, proofs_dir)
    again = reg.submit(chain, deployment, proofs_dir)
    early, _ = reg.markable(chain, deployment)
    rpc_call(node.url, "evm_increaseTime", [WINDOW + 1])
    rpc_call(node.url, "evm_mine")
    mark_rows = reg.mark(chain, deployment)
    return dict(work=work, keys=keys, chain=chain, deployment=deployment, deploy_rows=deploy_rows, root=root,
                post=post, accounts=accounts, register_rows=register_rows, before=before, submit_rows=submit_rows,
                again=again, early=early, mark_rows=mark_rows, proofs_dir=proofs_dir, after=reg.status(chain, deployment))


def test_deploy_record(scenario: dict[str, Any]) -> None:
    d = reg.Deployment.load(scenario["work"] / "deploy.json")
    assert d.chain_id == LOCAL_CHAIN_ID and d.registry == scenario["deployment"].registry
    assert d.capacities() == [TOY_TIER] and d.venue == scenario["chain"].address
    assert d.key_set_sha256 == reg.key_set_sha256([(TOY_TIER, d.tiers[0]["vk_sha256"])])
    d.check_keys(scenario["keys"])
    reg.check_verifier_code(scenario["chain"], d, scenario["keys"])  # the code on chain is the keys'
    t = dict(d.tiers[0])
    t["verifier"], t["batch_verifier"] = t["batch_verifier"], t["verifier"]
    swapped = reg.Deployment(d.chain_id, d.registry, d.venue, d.block, (t,), d.key_set_sha256, d.path)
    with pytest.raises(InputError, match="is not the one its key compiles to"):
        reg.check_verifier_code(scenario["chain"], swapped, scenario["keys"])
    assert [r["what"] for r in scenario["deploy_rows"]] == [
        f"deploy Groth16Verifier n{TOY_TIER}", f"deploy Groth16BatchVerifier n{TOY_TIER}", "deploy SolvencyRegistry"]


def test_submit_batches_and_marks(scenario: dict[str, Any]) -> None:
    chain, d = scenario["chain"], scenario["deployment"]
    assert scenario["before"]["registered"] == N_PROVEN + N_MISSING and scenario["before"]["proven_this_epoch"] == 0
    assert [r["proofs"] for r in scenario["submit_rows"]] == [32, 8]
    assert scenario["again"] == []  # everything already recorded: nothing sent
    assert scenario["early"] == []  # window open: nobody markable
    marked = [r for r in scenario["mark_rows"] if "tx" in r]
    missing = {a for a, _ in scenario["accounts"][N_PROVEN:]}
    assert {r["account"] for r in marked} == missing
    after = scenario["after"]
    assert after["proven_this_epoch"] == N_PROVEN and after["marked_this_epoch"] == N_MISSING
    assert after["epoch"] == 1 and after["market_root"] == str(scenario["root"]) and not after["window_open"]
    # every event read back
    proven = reg.events(chain, d, "ProvenSolvent")
    assert sorted(int(e["accountCommitment"]) for e in proven) == sorted(c for _, c in scenario["accounts"][:N_PROVEN])
    assert all(int(e["root"]) == scenario["root"] for e in proven)
    registered = reg.registered_accounts(chain, d)
    assert registered == {a: c for a, c in scenario["accounts"]}
    posted = reg.events(chain, d, "MarketRootPosted")
    assert [(e["epoch"], e["root"]) for e in posted] == [(1, scenario["root"])]
    assert reg.account_marks(chain, d) == {c: 1 for _, c in scenario["accounts"][N_PROVEN:]}
    for i, (a, c) in enumerate(scenario["accounts"]):
        assert reg.is_registered(chain, d, c)
        assert reg.view(chain, d, "commitmentOf(address)", int(a, 16)) == c
        proven_here = i < N_PROVEN
        assert reg.is_solvent(chain, d, c) is proven_here
        assert reg.view(chain, d, "lastSolventEpoch(uint256)", c) == (1 if proven_here else 0)
        assert reg.view(chain, d, "lastProvenRoot(uint256)", c) == (scenario["root"] if proven_here else 0)
    assert reg.current_epoch(chain, d)[:2] == (1, scenario["root"])
    assert reg.view(chain, d, "epochOfRoot(uint256)", scenario["root"]) == 1
    assert reg.mark(chain, d) == []  # marked once per epoch: nothing left


def test_receipt_gas_equals_in_process_evm(scenario: dict[str, Any], toy: Toy) -> None:
    """The same transactions in @ethereumjs/evm: each receipt's gasUsed equals its tx_gas."""
    s = EvmScript()
    dep = deploy_registry(s, [(TOY_TIER, toy.vk_json)])
    s.call("post", dep.registry, encode_post_market_root(1, scenario["root"], WINDOW))
    for i, (a, c) in enumerate(scenario["accounts"]):
        s.call(f"register {i}", dep.registry, encode_register_account(a, c))
    proofs = [reg.read_proof_folder(p, [TOY_TIER]) for p in sorted(scenario["proofs_dir"].iterdir())]
    for k, batch in enumerate(reg.plan_batches(proofs)):
        s.call(f"batch {k}", dep.registry, reg.batch_calldata(batch))
    marked = [int(r["commitment"]) for r in scenario["mark_rows"] if "tx" in r]
    for i, c in enumerate(marked):
        s.call(f"mark {i}", dep.registry, encode_mark_liquidatable(c), advance_seconds=WINDOW + 1 if i == 0 else 0)
    out = s.run()
    assert scenario["post"].gas_used == out["post"].tx_gas
    assert [r.gas_used for r in scenario["register_rows"]] == [out[f"register {i}"].tx_gas
                                                               for i in range(len(scenario["accounts"]))]
    assert [r["gas_used"] for r in scenario["submit_rows"]] == [out["batch 0"].tx_gas, out["batch 1"].tx_gas]
    marks = [r["gas_used"] for r in scenario["mark_rows"] if "tx" in r]
    assert marks == [out[f"mark {i}"].tx_gas for i in range(N_MISSING)]
    print("GAS", json.dumps({"post": scenario["post"].gas_used, "register": scenario["register_rows"][0].gas_used,
                             "batch32": scenario["submit_rows"][0]["gas_used"],
                             "batch8": scenario["submit_rows"][1]["gas_used"], "mark": marks[0],
                             "deploy": [r["gas_used"] for r in scenario["deploy_rows"]]}))


def test_bad_inputs(scenario: dict[str, Any], node, toy: Toy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zksolv.chain.node import free_port

    d = scenario["deployment"]
    with pytest.raises(ChainError, match="does not answer eth_chainId"):
        Chain(f"http://127.0.0.1:{free_port()}")
    other = reg.Deployment(d.chain_id + 1, d.registry, d.venue, d.block, d.tiers, d.key_set_sha256, d.path)
    with pytest.raises(InputError, match=f"chain id {LOCAL_CHAIN_ID}, deploy.json says chain id {d.chain_id + 1}"):
        reg.open_chain(node.url, other)
    with pytest.raises(InputError, match="another key set"):
        d.check_keys(_keys(tmp_path / "other_keys", toy.other_vk_json))
    chain = reg.open_chain(node.url, d)
    # a proof folder of another market root
    p = next(iter(sorted(scenario["proofs_dir"].iterdir())))
    stale = tmp_path / "stale" / p.name
    stale.mkdir(parents=True)
    public = json.loads((p / "public.json").read_text())
    (stale / "proof.json").write_text((p / "proof.json").read_text())
    (stale / "public.json").write_text(json.dumps([public[0], str((int(public[1]) + 1) % R)]))
    with pytest.raises(InputError, match="another market root"):
        reg.submit(chain, d, stale.parent)
    # a proof of a commitment the registry does not have
    p2 = tmp_path / "unregistered" / "x"
    p2.mkdir(parents=True)
    (p2 / "proof.json").write_text((p / "proof.json").read_text())
    (p2 / "public.json").write_text(json.dumps([str(12345), public[1]]))
    with pytest.raises(InputError, match="not registered"):
        reg.submit(chain, d, p2.parent)
    # a reverting transaction, named: the root was already posted
    with pytest.raises(RevertedError, match=r"RootAlreadyPosted\(") as info:
        reg.post_root(chain, d, 2, scenario["root"], WINDOW)
    assert info.value.error.startswith("RootAlreadyPosted")
    # a transaction mined with status 0 (sent without simulation): the receipt's error, named
    tx = chain.build(d.registry, encode_post_market_root(3, 777, WINDOW), "postMarketRoot")
    tx["data"] = "0x" + encode_post_market_root(1, 777, WINDOW).hex()  # epoch 1 again: reverts on chain
    tx_hash, raw = chain.sign(tx)
    chain.broadcast(raw, tx_hash)
    with pytest.raises(RevertedError, match=r"EpochNotIncreasing\(1, 1\)") as mined:
        chain.wait(tx_hash, "postMarketRoot")
    assert mined.value.tx_hash == tx_hash and chain.receipt(tx_hash)["status"] == 0
    # an unfunded signer (a fresh key on the dev chain)
    from eth_account import Account

    fresh = Account.create()
    monkeypatch.setenv("ZKSOLV_PRIVATE_KEY", fresh.key.hex())
    poor = reg.open_chain(node.url, d)
    with pytest.raises(RevertedError, match="NotVenue"):
        reg.post_root(poor, d, 2, 12345, WINDOW)
    with pytest.raises(ChainError, match="fund it first|too little ether"):
        poor.send(None, bytes.fromhex("00"), "deploy an empty contract")  # simulates fine, costs gas
    # keystore with a wrong password
    monkeypatch.delenv("ZKSOLV_PRIVATE_KEY")
    ks = tmp_path / "keystore.json"
    ks.write_text(json.dumps(Account.encrypt(fresh.key, "right horse", iterations=2)))
    monkeypatch.setenv("ZKSOLV_KEYSTORE", str(ks))
    monkeypatch.setenv("ZKSOLV_KEYSTORE_PASSWORD", "wrong")
    with pytest.raises(SignerError, match="wrong password") as bad:
        Chain(node.url)
    assert "right horse" not in str(bad.value) and fresh.key.hex() not in str(bad.value)
    monkeypatch.setenv("ZKSOLV_KEYSTORE_PASSWORD", "right horse")
    assert Chain(node.url).address == fresh.address


def _cli(*args: str):
    from click.testing import CliRunner

    from zksolv.cli import main

    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output + (getattr(result, "stderr", "") or "")


def test_cli_against_the_node(node, toy: Toy, tmp_path: Path) -> None:
    """The click layer: deploy, status, post-root, register, submit, mark; exit codes of bad input."""
    from zksolv.chain.node import free_port
    from zksolv.core.commitments import market_root
    from zksolv.app.demo import demo_market

    _keys(tmp_path / "keys", toy.vk_json)
    out = tmp_path / "deploy.json"
    code, text = _cli("chain", "deploy", "--keys", str(tmp_path / "keys"), "--rpc", node.url, "--out", str(out), "--json")
    assert code == 0, text
    assert json.loads(out.read_text())["chain_id"] == LOCAL_CHAIN_ID
    code, text = _cli("chain", "status", "--deploy", str(out), "--rpc", node.url, "--json")
    assert code == 0 and json.loads(text)["epoch"] == 0 and json.loads(text)["registered"] == 0
    market = demo_market(n_strikes=3, n_expiries=1)  # epoch: the UTC day it is priced on
    market.save(tmp_path / "market.json")
    code, text = _cli("chain", "post-root", "--deploy", str(out), "--rpc", node.url, "--market",
                      str(tmp_path / "market.json"), "--window", "3600", "--json")
    assert code == 0, text
    assert json.loads(text)["market_root"] == str(market_root(market)) and json.loads(text)["gas_used"] > 21_000
    code, text = _cli("chain", "post-root", "--deploy", str(out), "--rpc", node.url, "--market",
                      str(tmp_path / "market.json"), "--window", "3600")
    assert code == 3 and f"reverted EpochNotIncreasing({market.epoch}, {market.epoch})" in text
    secret, salt = 5, 6
    commitment = (secret * secret + salt) % R
    code, text = _cli("chain", "register", "--deploy", str(out), "--rpc", node.url, "--account", _account(900),
                      "--commitment", str(commitment))
    assert code == 0, text
    proof, public = toy.prove(secret, salt, market_root(market), "cli")
    (tmp_path / "proofs" / "a").mkdir(parents=True)
    save_proof(tmp_path / "proofs" / "a" / "proof.json", proof)
    save_public(tmp_path / "proofs" / "a" / "public.json", [str(x) for x in public])
    code, text = _cli("chain", "submit", "--deploy", str(out), "--rpc", node.url, "--proofs", str(tmp_path / "proofs"),
                      "--json")
    assert code == 0 and json.loads(text.splitlines()[0])["proofs"] == 1, text
    code, text = _cli("chain", "submit", "--deploy", str(out), "--rpc", node.url, "--proofs", str(tmp_path / "proofs"))
    assert code == 0 and "nothing to submit" in text
    code, text = _cli("chain", "mark", "--deploy", str(out), "--rpc", node.url)
    assert code == 0 and "ProofWindowOpen" in text  # the window is still open: nothing marked
    # bad input: RPC down (exit 3), deploy.json of another chain (exit 2), not a deployment record (exit 2)
    code, text = _cli("chain", "status", "--deploy", str(out), "--rpc", f"http://127.0.0.1:{free_port()}")
    assert code == 3 and "does not answer eth_chainId" in text
    other = json.loads(out.read_text())
    other["chain_id"] = 1
    (tmp_path / "other.json").write_text(json.dumps(other))
    code, text = _cli("chain", "status", "--deploy", str(tmp_path / "other.json"), "--rpc", node.url)
    assert code == 2 and "deploy.json says chain id 1" in text
    code, text = _cli("chain", "status", "--deploy", str(tmp_path / "market.json"), "--rpc", node.url)
    assert code == 2 and "not a zksolv deployment record" in text


def test_missing_chain_extra_names_it(tmp_path: Path) -> None:
    """Without web3 the chain commands say which extra to install (exit 3); the CLI still loads."""
    import subprocess
    import sys

    (tmp_path / "deploy.json").write_text("{}")
    code = "import sys; sys.modules['web3'] = None; from zksolv.cli import main; main()"
    proc = subprocess.run([sys.executable, "-c", code, "chain", "status", "--deploy", str(tmp_path / "deploy.json")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3 and "pip install 'zksolv[chain]'" in proc.stderr, proc.stderr


@pytest.mark.parametrize("stop_signal", ["SIGINT", "SIGTERM"])
def test_chain_node_command(tmp_path: Path, stop_signal: str) -> None:
    """`zksolv chain node` serves chain id 31337 on its port until Ctrl-C or SIGTERM, then stops the
    node (its own session: nothing else would). Started as a background shell starts it, with SIGINT
    ignored: the command still stops on it."""
    import os
    import signal
    import subprocess
    import sys

    from zksolv.chain.node import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "zksolv", "chain", "node", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        first = proc.stdout.readline()  # printed once the node answers (or EOF if it failed)
        assert b"chain id 31337" in first, first
        assert int(rpc_call(f"http://127.0.0.1:{port}", "eth_chainId"), 16) == LOCAL_CHAIN_ID
    finally:
        os.killpg(proc.pid, getattr(signal, stop_signal))
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert proc.returncode == 0
    with pytest.raises(OSError):
        rpc_call(f"http://127.0.0.1:{port}", "eth_chainId", timeout=1)
