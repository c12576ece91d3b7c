"""The local dev chain: a Hardhat node from the pinned npm toolchain, on a free local port.

Why Hardhat 2 (``hardhat`` 2.29.1 in ``package.json``) and not Hardhat 3: Hardhat 3 needs
Node >= 22.13 and the toolchain supports Node >= 18 (this machine runs 20). Hardhat 2's node
runs offline: no compiler download (nothing is compiled by Hardhat; zksolv compiles with
solc-js), no telemetry without consent (``HARDHAT_DISABLE_TELEMETRY_PROMPT``), and its only
network call (the version notifier) happens after failed ``hardhat test`` runs only.

The node is configured by ``zksolv/js/hardhat.config.cjs`` (chain id 31337, hardfork Prague:
the in-process EVM's, so receipts' gas equals :mod:`zksolv.chain.evm`'s figures). It must run
with the toolchain's root as working directory (Hardhat refuses a non-local installation).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zksolv.core.errors import ToolchainError
from zksolv.toolchain import ensure_node_modules, node_binary, node_module_path, project_root

#: Chain id of the local dev chain (Hardhat Network's default).
LOCAL_CHAIN_ID = 31337
#: Hardhat's first funded dev account (its private key is public: dev chains only).
DEV_ACCOUNT = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
DEV_PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # noqa: S105 (public)
# (the well-known key above is Hardhat's account #0: "Any funds sent to them on Mainnet ... WILL BE LOST")


def _config_path() -> Path:
    return Path(__file__).resolve().parent.parent / "js" / "hardhat.config.cjs"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rpc_call(url: str, method: str, params: list[Any] | None = None, *, timeout: float = 5.0) -> Any:
    """One raw JSON-RPC call (stdlib only: used before web3 is needed, e.g. to wait for the node)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(url, body, {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (an http URL we were given)
        reply = json.loads(response.read())
    if "error" in reply:
        raise ToolchainError(f"{method}: {reply['error'].get('message', reply['error'])}")
    return reply["result"]


@dataclass
class LocalNode:
    """A running Hardhat node: its URL, port and process (stop it with :meth:`stop`)."""

    url: str
    port: int
    process: subprocess.Popen[bytes] = field(repr=False)
    log_path: Path | None = None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the node (SIGTERM to its process group, SIGKILL after ``timeout``)."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout)
        except ProcessLookupError:
            pass

    def __enter__(self) -> "LocalNode":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_node(port: int | None = None, *, host: str = "127.0.0.1", log_path: Path | None = None,
               timeout: float = 60.0) -> LocalNode:
    """Start a Hardhat node on ``host:port`` (a free port if None) and wait until it answers
    ``eth_chainId`` with 31337. Raises :class:`ToolchainError` if it exits or does not answer."""
    ensure_node_modules()
    port = port or free_port()
    cli = node_module_path("hardhat", "internal", "cli", "cli.js")
    if not cli.is_file():
        raise ToolchainError(f"hardhat is not installed under {project_root()}: run scripts/bootstrap.sh")
    env = {**os.environ, "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true", "HARDHAT_HIDE_SOLIDITY_SURVEY_MESSAGE": "true",
           "NO_COLOR": "1"}
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115 (owned by the process)
    process = subprocess.Popen(
        [node_binary(), str(cli), "--config", str(_config_path()), "node", "--hostname", host, "--port", str(port)],
        cwd=project_root(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        start_new_session=True,
    )
    node = LocalNode(f"http://{host}:{port}", port, process, log_path)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ToolchainError(f"hardhat node exited with code {process.returncode}"
                                     + (f" (log: {log_path})" if log_path else ""))
            try:
                if int(rpc_call(node.url, "eth_chainId", timeout=1.0), 16) == LOCAL_CHAIN_ID:
                    return node
            except (OSError, urllib.error.URLError, ValueError, ToolchainError):
                pass
            time.sleep(0.2)
    except BaseException:  # Ctrl-C while waiting: the node runs in its own session, stop it
        node.stop()
        raise
    node.stop()
    raise ToolchainError(f"hardhat node did not answer on {node.url} within {timeout:.0f} s")
