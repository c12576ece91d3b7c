"""A JSON-RPC client for the SolvencyRegistry (web3.py; the ``chain`` extra).

One :class:`Chain` is a connection (URL, checked chain id) plus a signer:

- ``ZKSOLV_PRIVATE_KEY`` (hex) in the environment, or
- an encrypted keystore file (``ZKSOLV_KEYSTORE`` or ``--keystore``) whose password is in
  ``ZKSOLV_KEYSTORE_PASSWORD``, never a command-line argument, or
- against the local dev chain only (chain id 31337 *and* the node lists Hardhat's account #0
  as its own), that funded dev account.

Transactions are built here (nonce, EIP-1559 fees, gas from ``eth_estimateGas`` with a
margin), simulated first so a revert is reported by the registry's custom error name before
any gas is spent, signed locally, and followed to their receipt; a receipt with status 0 is
replayed with ``eth_call`` at its block to name the error. :meth:`Chain.send` takes a
``journal`` callback called with the signed transaction's hash and nonce *before* it is
broadcast (the keeper service records it, so a restart never sends it twice).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TransactionNotFound, Web3RPCError

from zksolv.chain.errors import ChainError, RevertedError, SignerError
from zksolv.chain.evm import decode_revert
from zksolv.chain.node import DEV_ACCOUNT, DEV_PRIVATE_KEY, LOCAL_CHAIN_ID
from zksolv.core.errors import InputError

#: Gas margin over ``eth_estimateGas`` (the pairing precompile's cost is exact; storage is not).
GAS_MARGIN = 1.2
#: Seconds to wait for a receipt before calling a transaction dropped or stuck.
RECEIPT_TIMEOUT = 120.0


@dataclass(frozen=True)
class Sent:
    """A mined transaction: its hash, nonce, block, gas used (from the receipt) and logs."""

    tx_hash: str
    nonce: int
    block: int
    gas_used: int
    status: int
    logs: tuple[Any, ...] = ()


def _hex(value: bytes | str) -> str:
    return value if isinstance(value, str) else "0x" + bytes(value).hex()


def load_signer(keystore: str | os.PathLike[str] | None = None) -> Any | None:
    """The configured signer (an ``eth_account`` LocalAccount), or None when none is configured.

    ``ZKSOLV_PRIVATE_KEY`` wins; else the keystore (``keystore`` or ``ZKSOLV_KEYSTORE``) opened
    with ``ZKSOLV_KEYSTORE_PASSWORD``. Raises :class:`SignerError` naming what is wrong, never
    the key or the password.
    """
    from eth_account import Account

    key = os.environ.get("ZKSOLV_PRIVATE_KEY")
    if key:
        try:
            return Account.from_key(key.strip())
        except (ValueError, TypeError):
            raise SignerError("ZKSOLV_PRIVATE_KEY: not a 32-byte hex private key") from None
    path = keystore or os.environ.get("ZKSOLV_KEYSTORE")
    if not path:
        return None
    password = os.environ.get("ZKSOLV_KEYSTORE_PASSWORD")
    if password is None:
        raise SignerError(f"keystore {path}: set its password in ZKSOLV_KEYSTORE_PASSWORD")
    try:
        data = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SignerError(f"keystore {path}: cannot read ({exc.strerror})") from None
    try:
        return Account.from_key(Account.decrypt(data, password))
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise SignerError(f"keystore {path}: wrong password (ZKSOLV_KEYSTORE_PASSWORD)") from None
        raise SignerError(f"keystore {path}: not an Ethereum keystore (v3 JSON)") from None
    except (TypeError, KeyError):
        raise SignerError(f"keystore {path}: not an Ethereum keystore (v3 JSON)") from None


class Chain:
    """A connection to one chain and, if configured, a signer (see the module docstring)."""

    def __init__(self, url: str, *, expected_chain_id: int | None = None, keystore: str | None = None,
                 require_signer: bool = True, timeout: float = 30.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise InputError(f"--rpc: expected an http(s):// JSON-RPC URL, got {url!r}")
        self.url = url
        self.w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}))
        try:
            self.chain_id = int(self.w3.eth.chain_id)
        except Exception as exc:  # requests' ConnectionError, timeouts, a non-JSON-RPC server
            raise ChainError(f"RPC {url} does not answer eth_chainId ({type(exc).__name__}): is the node running?") from None
        if expected_chain_id is not None and self.chain_id != expected_chain_id:
            raise InputError(f"RPC {url} is chain id {self.chain_id}, deploy.json says chain id {expected_chain_id}")
        self.account = load_signer(keystore)
        if self.account is None and self.is_local_dev_chain():
            from eth_account import Account

            self.account = Account.from_key(DEV_PRIVATE_KEY)
        if self.account is None and require_signer:
            raise SignerError("no signer: set ZKSOLV_PRIVATE_KEY, or ZKSOLV_KEYSTORE and ZKSOLV_KEYSTORE_PASSWORD "
                              "(the dev account is the default only on the local dev chain)")
        self.errors: dict[str, str] = {}

    @property
    def address(self) -> str:
        """The signer's address."""
        if self.account is None:
            raise SignerError("no signer configured")
        return str(self.account.address)

    def is_local_dev_chain(self) -> bool:
        """Chain id 31337 and the node holds Hardhat's dev account #0 (a Hardhat/anvil dev node)."""
        if self.chain_id != LOCAL_CHAIN_ID:
            return False
        try:
            return DEV_ACCOUNT.lower() in (a.lower() for a in self.w3.eth.accounts)
        except Exception:  # a node without eth_accounts
            return False

    def learn_errors(self, errors: Mapping[str, str]) -> None:
        """Add ``{selector hex: "Error(types)"}`` to the errors decoded by name on revert."""
        self.errors.update(errors)

    # ------------------------------------------------------------------ revert decoding

    def decode_error(self, data: Any) -> str:
        """A revert's data as ``Name(arg, ...)`` (the registry's custom errors), or a description."""
        if isinstance(data, str) and data.startswith("0x"):
            raw = bytes.fromhex(data[2:])
        elif isinstance(data, (bytes, bytearray)):
            raw = bytes(data)
        else:
            return "without data"
        signature = decode_revert(raw, self.errors)
        if signature is None:
            return "without data"
        name, _, types = signature.partition("(")
        types = types.rstrip(")")
        if raw[:4].hex() in self.errors and types:
            from eth_abi import decode

            try:
                values = decode(types.split(","), raw[4:])
                return f"{name}({', '.join(str(v) for v in values)})"
            except Exception:  # malformed arguments: the name alone
                return signature
        return signature

    def _revert_data(self, exc: Exception) -> Any:
        data = getattr(exc, "data", None)
        if isinstance(data, dict):  # web3 8 on Hardhat: {"message": ..., "data": "0x..."}
            data = data.get("data")
        if isinstance(data, str):
            return data
        if isinstance(exc, Web3RPCError):
            message = exc.rpc_response.get("error", {}) if isinstance(exc.rpc_response, dict) else {}
            data = message.get("data") if isinstance(message, dict) else None
            if isinstance(data, dict):
                data = data.get("data")
            return data
        return None

    def _simulate(self, tx: dict[str, Any], what: str, block: Any = "latest") -> int:
        """``eth_estimateGas`` of ``tx``; a revert raises :class:`RevertedError` with the error's name."""
        try:
            return int(self.w3.eth.estimate_gas(tx, block))  # type: ignore[arg-type]
        except (ContractCustomError, ContractLogicError, Web3RPCError) as exc:
            data = self._revert_data(exc)
            if data is None and isinstance(exc, Web3RPCError):
                text = str(exc)
                if "insufficient funds" in text.lower():
                    raise ChainError(f"{what}: the signer {tx.get('from')} has too little ether for this transaction") from None
                raise ChainError(f"{what}: the node refused the transaction ({text[:200]})") from None
            raise RevertedError(what, self.decode_error(data)) from None

    def call(self, to: str, data: bytes, what: str) -> bytes:
        """``eth_call`` (a view); a revert raises :class:`RevertedError`."""
        try:
            return bytes(self.w3.eth.call({"to": to, "data": _hex(data)}))
        except (ContractCustomError, ContractLogicError, Web3RPCError) as exc:
            raise RevertedError(what, self.decode_error(self._revert_data(exc))) from None

    # ------------------------------------------------------------------ transactions

    def build(self, to: str | None, data: bytes, what: str, *, nonce: int | None = None) -> dict[str, Any]:
        """A signed-ready EIP-1559 transaction, simulated (a revert raises before anything is sent)
        and checked against the signer's balance."""
        base: dict[str, Any] = {"from": self.address, "data": _hex(data), "value": 0}
        if to is not None:
            base["to"] = Web3.to_checksum_address(to)
        gas = int(self._simulate(base, what) * GAS_MARGIN)
        block = self.w3.eth.get_block("latest")
        base_fee = int(block.get("baseFeePerGas") or 0)
        try:
            tip = int(self.w3.eth.max_priority_fee)
        except Exception:  # nodes without eth_maxPriorityFeePerGas
            tip = 1_000_000_000
        max_fee = 2 * base_fee + tip
        balance = int(self.w3.eth.get_balance(self.address))
        if balance < gas * max_fee:
            raise ChainError(f"{what}: the signer {self.address} holds {balance} wei, this transaction may cost up to "
                             f"{gas * max_fee} wei (gas {gas} at {max_fee} wei): fund it first")
        tx = {**base, "gas": gas, "maxFeePerGas": max_fee, "maxPriorityFeePerGas": tip, "chainId": self.chain_id,
              "type": 2,
              "nonce": self.w3.eth.get_transaction_count(self.address, "pending") if nonce is None else nonce}
        tx.pop("from")
        return tx

    def sign(self, tx: Mapping[str, Any]) -> tuple[str, bytes]:
        """(hash, raw bytes) of ``tx`` signed by the signer."""
        signed = self.account.sign_transaction(dict(tx))
        return _hex(signed.hash), bytes(signed.raw_transaction)

    def broadcast(self, raw: bytes, tx_hash: str) -> None:
        """``eth_sendRawTransaction``; "already known" (a re-broadcast) is fine."""
        try:
            self.w3.eth.send_raw_transaction(raw)
        except Web3RPCError as exc:
            text = str(exc).lower()
            if "already known" in text or "known transaction" in text or "already imported" in text:
                return
            if "nonce too low" in text:
                # a transaction with this nonce was mined: ours (then the receipt says so) or another
                if self.receipt(tx_hash) is not None:
                    return
            raise ChainError(f"sending {tx_hash}: the node refused it ({str(exc)[:200]})") from None

    def receipt(self, tx_hash: str) -> Any | None:
        """The receipt of ``tx_hash``, or None if it is not mined (or unknown)."""
        try:
            return self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return None

    def known(self, tx_hash: str) -> bool:
        """Whether the node knows ``tx_hash`` (pending or mined)."""
        try:
            self.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
            return True
        except TransactionNotFound:
            return False

    def wait(self, tx_hash: str, what: str, *, timeout: float = RECEIPT_TIMEOUT) -> Sent:
        """The receipt of ``tx_hash``; status 0 raises :class:`RevertedError` with the error's name,
        a transaction the node forgot raises :class:`ChainError` (dropped)."""
        deadline = time.monotonic() + timeout
        while True:
            receipt = self.receipt(tx_hash)
            if receipt is not None:
                break
            if time.monotonic() > deadline:
                state = "pending" if self.known(tx_hash) else "dropped (unknown to the node)"
                raise ChainError(f"{what}: transaction {tx_hash} not mined after {timeout:.0f} s, {state}")
            time.sleep(0.2)
        sent = Sent(tx_hash, int(self.w3.eth.get_transaction(tx_hash)["nonce"]),  # type: ignore[arg-type]
                    int(receipt["blockNumber"]), int(receipt["gasUsed"]), int(receipt["status"]),
                    tuple(receipt["logs"]))
        if sent.status != 1:
            raise RevertedError(what, self.replay_error(tx_hash), tx_hash)
        return sent

    def replay_error(self, tx_hash: str) -> str:
        """The error a mined, reverted transaction reverted with (``eth_call`` at its block)."""
        tx = self.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
        call = {"from": tx["from"], "to": tx["to"], "data": _hex(tx["input"]), "gas": tx["gas"]}
        try:
            self.w3.eth.call(call, int(tx["blockNumber"]) - 1)  # type: ignore[arg-type]
        except (ContractCustomError, ContractLogicError, Web3RPCError) as exc:
            return self.decode_error(self._revert_data(exc))
        return "(the replay succeeds: out of gas, or state changed in the block)"

    def send(self, to: str | None, data: bytes, what: str,
             journal: Callable[[str, int, bytes], None] | None = None) -> Sent:
        """Build, simulate, sign, journal (``journal(hash, nonce, raw)`` before broadcasting),
        broadcast and wait for ``data`` sent to ``to`` (None: a deployment)."""
        tx = self.build(to, data, what)
        tx_hash, raw = self.sign(tx)
        if journal is not None:
            journal(tx_hash, int(tx["nonce"]), raw)
        self.broadcast(raw, tx_hash)
        return self.wait(tx_hash, what)
