"""``zksolv chain ...`` and ``zksolv keeper run``: the click layer over :mod:`zksolv.chain`.

web3 is imported inside each command (the ``chain`` extra): without it, the command fails with
``pip install 'zksolv[chain]'`` (exit 3), and the rest of the CLI never imports it. The signer
comes from the environment (``ZKSOLV_PRIVATE_KEY``, or ``--keystore`` / ``ZKSOLV_KEYSTORE`` with
``ZKSOLV_KEYSTORE_PASSWORD``), never from an argument.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click

from zksolv.cli.common import emit, handle_errors, json_option, plain

rpc_option = click.option("--rpc", default="http://127.0.0.1:8545", show_default=True, help="JSON-RPC URL")
deploy_option = click.option("--deploy", "deploy_path", required=True, type=click.Path(exists=True, dir_okay=False),
                             help="deployment record written by `zksolv chain deploy`")
keystore_option = click.option("--keystore", type=click.Path(exists=True, dir_okay=False), default=None,
                               help="encrypted keystore (password from ZKSOLV_KEYSTORE_PASSWORD)")


def _open(rpc: str, deploy_path: str, keystore: str | None, require_signer: bool = True):
    from zksolv.core.extras import require

    require("chain", "zksolv chain")
    from zksolv.chain import registry as reg

    deployment = reg.Deployment.load(deploy_path)
    return reg, deployment, reg.open_chain(rpc, deployment, keystore=keystore, require_signer=require_signer)


def _rows(rows: list[dict[str, Any]], as_json: bool) -> None:
    for row in rows:
        click.echo(json.dumps(row) if as_json else "  ".join(f"{k}={plain(v)}" for k, v in row.items()))


@click.group()
def chain() -> None:
    """Deploy and drive the SolvencyRegistry on a chain (needs the 'chain' extra).

    \b
    Example:
      $ zksolv chain node --port 8545
      $ zksolv chain deploy --keys keys/ --out deploy.json
      $ zksolv chain status --deploy deploy.json
    """


@chain.command()
@click.option("--port", type=int, default=8545, show_default=True, help="local port to serve JSON-RPC on")
@handle_errors
def node(port: int) -> None:
    """Run the local dev chain (Hardhat node, chain id 31337) until Ctrl-C.

    \b
    Example:
      $ zksolv chain node --port 8545
    """
    from zksolv.chain.node import start_node
    from zksolv.core.errors import ToolchainError

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Ctrl-C and SIGTERM both stop the node (it runs in its own session, so nothing else would):
    # set explicitly, since a shell starting this in the background leaves SIGINT ignored.
    previous = {sig: signal.signal(sig, interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        n = start_node(port)
        try:
            click.echo(f"local dev chain: {n.url} (chain id 31337; its dev accounts' keys are public)")
            sys.stdout.flush()
            while n.process.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:  # how this command stops: exit 0
            pass
        finally:
            n.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if n.process.returncode not in (0, -15, 143):
        raise ToolchainError(f"hardhat node exited with code {n.process.returncode}")


@chain.command()
@click.option("--keys", "keys_dir", required=True, type=click.Path(exists=True, file_okay=False), help="the venue's key set")
@rpc_option
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="deployment record to write")
@keystore_option
@json_option
@handle_errors
def deploy(keys_dir: str, rpc: str, out: str, keystore: str | None, as_json: bool) -> None:
    """Deploy each tier's verifier and batch verifier, then the registry; write deploy.json.

    \b
    Example:
      $ zksolv chain deploy --keys keys/ --rpc http://127.0.0.1:8545 --out deploy.json
    """
    from zksolv.core.extras import require

    require("chain", "zksolv chain deploy")
    from zksolv.chain import registry as reg
    from zksolv.chain.client import Chain
    from zksolv.chain.solidity import tier_keys_from_folder
    from zksolv.core.atomic import check_writable

    check_writable(Path(out))
    tiers, _ = tier_keys_from_folder(keys_dir)
    record, rows = reg.deploy(Chain(rpc, keystore=keystore), tiers, out)
    _rows(rows, as_json)
    emit({"registry": record.registry, "chain_id": record.chain_id, "block": record.block, "out": out}, as_json)


@chain.command("post-root")
@deploy_option
@click.option("--market", "market_path", required=True, type=click.Path(exists=True, dir_okay=False), help="the epoch's market state JSON")
@click.option("--window", required=True, type=int, help="proof window, seconds")
@rpc_option
@keystore_option
@json_option
@handle_errors
def post_root(deploy_path: str, market_path: str, window: int, rpc: str, keystore: str | None, as_json: bool) -> None:
    """Post the market root of MARKET's epoch (venue only).

    \b
    Example:
      $ zksolv chain post-root --deploy deploy.json --market market.json --window 3600
    """
    from zksolv.core.commitments import market_root
    from zksolv.core.market import MarketState

    market = MarketState.load(market_path)
    reg, d, c = _open(rpc, deploy_path, keystore)
    sent = reg.post_root(c, d, market.epoch, market_root(market), window)
    emit({"epoch": market.epoch, "market_root": str(market_root(market)), "tx": sent.tx_hash,
           "gas_used": sent.gas_used}, as_json)


@chain.command()
@deploy_option
@click.option("--account", required=True, help="the trader's address")
@click.option("--commitment", required=True, type=int, help="the account commitment (decimal)")
@rpc_option
@keystore_option
@json_option
@handle_errors
def register(deploy_path: str, account: str, commitment: int, rpc: str, keystore: str | None, as_json: bool) -> None:
    """Register (or replace) an account's commitment (venue only).

    \b
    Example:
      $ zksolv chain register --deploy deploy.json --account 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --commitment 1234
    """
    reg, d, c = _open(rpc, deploy_path, keystore)
    sent = reg.register(c, d, account, commitment)
    emit({"account": account, "tx": sent.tx_hash, "gas_used": sent.gas_used}, as_json)


@chain.command()
@deploy_option
@click.option("--proofs", "proofs_dir", required=True, type=click.Path(exists=True, file_okay=False), help="folder of proof folders (proof.json, public.json [, statement.json])")
@rpc_option
@keystore_option
@json_option
@handle_errors
def submit(deploy_path: str, proofs_dir: str, rpc: str, keystore: str | None, as_json: bool) -> None:
    """Submit the proofs not yet recorded, in sorted one-tier batches of at most 32; gas per tx.

    \b
    Example:
      $ zksolv chain submit --deploy deploy.json --proofs epoch/
    """
    reg, d, c = _open(rpc, deploy_path, keystore)
    rows = reg.submit(c, d, proofs_dir)
    _rows(rows, as_json)
    if not rows:
        click.echo(json.dumps({"submitted": 0}) if as_json else "nothing to submit: every proof already recorded")


@chain.command()
@deploy_option
@rpc_option
@keystore_option
@json_option
@handle_errors
def mark(deploy_path: str, rpc: str, keystore: str | None, as_json: bool) -> None:
    """Mark every registered account without a proof after the deadline.

    \b
    Example:
      $ zksolv chain mark --deploy deploy.json
    """
    reg, d, c = _open(rpc, deploy_path, keystore)
    _rows(reg.mark(c, d), as_json)


@chain.command()
@deploy_option
@rpc_option
@json_option
@handle_errors
def status(deploy_path: str, rpc: str, as_json: bool) -> None:
    """The registry now: epoch, root, deadline, accounts registered / proven / marked.

    \b
    Example:
      $ zksolv chain status --deploy deploy.json --json
    """
    reg, d, c = _open(rpc, deploy_path, None, require_signer=False)
    emit(reg.status(c, d), as_json)


@click.group()
def keeper() -> None:
    """The keeper service (needs the 'chain' extra).

    \b
    Example:
      $ zksolv keeper run --venue venue/ --deploy deploy.json --keys keys/ --once
    """


@keeper.command()
@click.option("--venue", required=True, type=click.Path(exists=True, file_okay=False), help="venue folder (accounts.json, epochs/)")
@deploy_option
@rpc_option
@click.option("--keys", "keys_dir", required=True, type=click.Path(exists=True, file_okay=False), help="the key set this keeper trusts")
@click.option("--key-set-sha256", "key_set_pin", metavar="HEX",
              help="the key_set_sha256 `zksolv ceremony verify` printed for --keys: a manifest, key file or "
                   "deployment for other keys is refused before any work")
@click.option("--policy", "policy_path", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="the venue's risk policy this keeper pinned (`zksolv market policy`): an epoch applying another "
                   "stops the keeper (exit 2) before any verdict, submission or mark for it")
@click.option("--db", default="keeper.sqlite", show_default=True, type=click.Path(dir_okay=False), help="the keeper's SQLite state")
@click.option("--once", is_flag=True, help="one pass, then exit")
@click.option("--interval", type=float, default=10.0, show_default=True, help="seconds between passes")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="recompute each epoch's market root at every pass; neither read nor write the keeper's root "
                   "cache (docs/keeper.md; ZKSOLV_ROOT_CACHE=off does the same)")
@keystore_option
@handle_errors
def run(venue: str, deploy_path: str, rpc: str, keys_dir: str, key_set_pin: str | None, policy_path: str | None,
        db: str, once: bool, interval: float, no_cache: bool, keystore: str | None) -> None:
    """Each epoch: verify the proofs off chain, submit the valid ones, mark the missed.

    \b
    Example:
      $ zksolv keeper run --venue venue/ --deploy deploy.json --keys keys/ --once
      $ zksolv keeper run --venue venue/ --deploy deploy.json --keys keys/ --policy policy.json --interval 30
      $ zksolv keeper run --venue venue/ --deploy deploy.json --keys keys/ --key-set-sha256 "$PINNED_KEY_SET"
    """
    from zksolv.chain.keeper_service import Keeper
    from zksolv.core.policy import load_policy
    from zksolv.proofs.keyset import parse_transcript_pin

    key_set_pin = parse_transcript_pin(key_set_pin, "--key-set-sha256")  # a malformed pin: before any connection
    policy = load_policy(policy_path) if policy_path is not None else None
    reg, d, c = _open(rpc, deploy_path, keystore)
    k = Keeper(Path(venue), d, c, Path(db), Path(keys_dir), policy=policy, use_cache=not no_cache,
               key_set_sha256=key_set_pin)
    from zksolv.chain.errors import ChainError

    while True:
        try:
            for report in k.run_once():
                click.echo(json.dumps(report), nl=True)
        except ChainError as exc:  # RPC away, a tx not mined yet: journaled; the next pass reconciles
            if once:
                raise
            click.echo(json.dumps({"error": str(exc), "retry_in_seconds": interval}), err=True)
        if once:
            return
        time.sleep(interval)
