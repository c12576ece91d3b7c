"""Compile Solidity with solc-js and run it in an in-process EVM (@ethereumjs/evm).

Both steps run under node through :func:`zksolv.toolchain.run_node`:

- ``zksolv/js/compile_solidity.mjs``: the pinned solc-js 0.8.28 (npm ``solc``; no compiler
  download), standard-JSON input, optimizer on with 200 runs. It also returns the 4-byte
  selectors of functions and custom errors and the event topics (keccak-256 computed in JS,
  so the Python side needs no keccak).
- ``zksolv/js/evm_run.mjs``: a script of deployments and calls executed in one
  ``@ethereumjs/evm`` instance (hardfork Prague). State lives for one :meth:`EvmScript.run`,
  so a test or benchmark builds the whole scenario and runs it in one node process. Each step
  is set up like a transaction (fresh EIP-2929 warm set with sender, recipient, coinbase and
  precompiles; EIP-2200 original-storage cache cleared), so execution gas equals what a real
  transaction would spend after its intrinsic cost.

Gas figures per step: ``execution_gas`` (what the EVM spent running the code),
``intrinsic_gas`` (21,000 + calldata 4/16 per zero/non-zero byte, + 32,000 and initcode words
for a deployment) and ``tx_gas`` (what the sender pays: intrinsic + execution - capped refund,
at least the EIP-7623 calldata floor). Why @ethereumjs/evm and not py-evm: docs/onchain.md.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from zksolv.core.errors import InputError, ToolchainError
from zksolv.toolchain import node_script, run_node

SOLC_VERSION = "0.8.28"
OPTIMIZER_RUNS = 200
HARDFORK = "prague"
#: Default transaction sender (the venue / deployer in tests and benchmarks).
DEFAULT_SENDER = "0x" + "10" * 20
DEFAULT_GAS_LIMIT = 30_000_000

TX_BASE_GAS = 21_000
CREATE_GAS = 32_000
INITCODE_WORD_GAS = 2
ZERO_BYTE_GAS = 4
NONZERO_BYTE_GAS = 16
FLOOR_GAS_PER_TOKEN = 10  # EIP-7623 (Prague)

_ERROR_STRING = "08c379a0"  # Error(string)
_PANIC = "4e487b71"  # Panic(uint256)


@dataclass(frozen=True)
class CompiledContract:
    """One contract from a solc run: ABI, bytecode and selector maps."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes
    functions: dict[str, str]  # "f(uint256)" -> "a1b2c3d4"
    errors: dict[str, str]  # "a1b2c3d4" -> "E(uint256)"
    events: dict[str, str]  # topic hex -> "Ev(address)"

    def selector(self, signature: str) -> bytes:
        """The 4-byte selector of ``signature`` (e.g. ``"currentEpoch()"``)."""
        try:
            return bytes.fromhex(self.functions[signature])
        except KeyError:
            raise InputError(f"{self.name} has no function {signature}") from None


_COMPILE_CACHE: dict[str, dict[str, CompiledContract]] = {}


def compile_solidity(
    sources: Mapping[str, str], *, optimizer_runs: int = OPTIMIZER_RUNS
) -> dict[str, CompiledContract]:
    """Compile ``{file name: source}`` with solc-js 0.8.28; returns contracts by name.

    Results are memoised in-process by a hash of the sources. Compiler errors raise
    :class:`ToolchainError` with solc's messages.
    """
    request = {"sources": dict(sources), "optimizerRuns": optimizer_runs, "expectVersion": SOLC_VERSION}
    payload = json.dumps(request, sort_keys=True)
    key = hashlib.sha256(payload.encode()).hexdigest()
    if key in _COMPILE_CACHE:
        return _COMPILE_CACHE[key]
    proc = run_node([node_script("compile_solidity.mjs")], timeout=300, what=f"solc-js {SOLC_VERSION} compile", stdin=payload)
    try:
        out = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise ToolchainError(f"solc-js compile: unreadable output: {proc.stdout[:200]!r}") from None
    contracts = {
        name: CompiledContract(
            name=name,
            abi=c["abi"],
            bytecode=bytes.fromhex(c["bytecode"]),
            deployed_bytecode=bytes.fromhex(c["deployedBytecode"]),
            functions=dict(c["functions"]),
            errors=dict(c["errors"]),
            events=dict(c["events"]),
        )
        for name, c in out["contracts"].items()
    }
    _COMPILE_CACHE[key] = contracts
    return contracts


@dataclass(frozen=True)
class Ref:
    """The address of a contract deployed earlier in the same script (by its label)."""

    label: str


#: A static ABI word: an unsigned integer, a ``0x`` address, or a contract deployed earlier.
Word = int | Ref | str
#: A call or constructor argument: a word, or a dynamic array (``list``) of words or of static
#: tuples of words (structs).
Arg = Word | list[Word] | list[tuple[Word, ...]]


@dataclass(frozen=True)
class Log:
    """An emitted event: emitting address, topics, data, and the decoded event signature."""

    address: str
    topics: list[bytes]
    data: bytes
    event: str | None


@dataclass
class StepResult:
    """Outcome of one deployment or call."""

    label: str
    kind: str
    success: bool
    return_data: bytes
    error: str | None  # EVM exception ("revert", "out of gas", ...) or None
    revert: str | None  # decoded revert: custom error signature, Error(string) text, Panic(code)
    execution_gas: int
    gas_refund: int
    intrinsic_gas: int
    tx_gas: int
    calldata_bytes: int
    address: str | None
    logs: list[Log] = field(default_factory=list)

    def returned_bool(self) -> bool:
        """The call succeeded and returned an ABI ``true`` (``false`` for reverts)."""
        return self.success and len(self.return_data) == 32 and int.from_bytes(self.return_data, "big") == 1

    def returned_uint(self) -> int:
        """The first 32-byte return word as an unsigned integer."""
        if not self.success or len(self.return_data) < 32:
            raise InputError(f"{self.label}: no uint return value (error={self.error}, revert={self.revert})")
        return int.from_bytes(self.return_data[:32], "big")


def intrinsic_gas(data: bytes, *, create: bool) -> int:
    """Intrinsic cost of a transaction carrying ``data`` (EIP-2028 calldata, EIP-3860 initcode)."""
    zeros = data.count(0)
    gas = TX_BASE_GAS + ZERO_BYTE_GAS * zeros + NONZERO_BYTE_GAS * (len(data) - zeros)
    if create:
        gas += CREATE_GAS + INITCODE_WORD_GAS * ((len(data) + 31) // 32)
    return gas


def floor_gas(data: bytes) -> int:
    """EIP-7623 minimum a Prague transaction pays for its calldata."""
    zeros = data.count(0)
    return TX_BASE_GAS + FLOOR_GAS_PER_TOKEN * (zeros + 4 * (len(data) - zeros))


def decode_revert(data: bytes, errors: Mapping[str, str]) -> str | None:
    """Human-readable revert: custom error signature, ``Error: <text>``, ``Panic(0x..)``, or None."""
    if len(data) < 4:
        return None
    sel = data[:4].hex()
    if sel in errors:
        return errors[sel]
    if sel == _ERROR_STRING and len(data) >= 68:
        n = int.from_bytes(data[36:68], "big")
        return "Error: " + data[68 : 68 + n].decode("utf-8", "replace")
    if sel == _PANIC and len(data) >= 36:
        return f"Panic(0x{int.from_bytes(data[4:36], 'big'):02x})"
    return f"unknown error 0x{sel}"


class EvmScript:
    """A scenario of deployments and calls, run in one fresh in-process EVM.

    >>> s = EvmScript()
    >>> v = s.deploy("verifier", contracts["Groth16Verifier"])
    >>> s.call("ok", v, calldata)
    >>> results = s.run()   # {"verifier": StepResult, "ok": StepResult}
    """

    def __init__(self, *, hardfork: str = HARDFORK) -> None:
        self.hardfork = hardfork
        self._steps: list[dict[str, Any]] = []
        self._errors: dict[str, str] = {}
        self._events: dict[str, str] = {}

    def _label(self, label: str) -> None:
        if any(s["label"] == label for s in self._steps):
            raise InputError(f"duplicate step label {label!r}")

    @staticmethod
    def _word(arg: Word) -> Any:
        """One ABI word: an unsigned integer, a hex address, or a :class:`Ref` (resolved in node)."""
        if isinstance(arg, Ref):
            return {"ref": arg.label}
        if isinstance(arg, str):
            return arg.removeprefix("0x").rjust(64, "0")
        if isinstance(arg, int) and not isinstance(arg, bool) and 0 <= arg < 1 << 256:
            return arg.to_bytes(32, "big").hex()
        raise InputError(f"ABI argument out of range: {arg!r}")

    @classmethod
    def _parts(cls, data: bytes, args: Sequence[Arg]) -> list[Any]:
        """``data`` followed by the ABI encoding of ``args``: words in the head; a ``list`` is a
        dynamic array ``T[]`` (offset in the head, length and elements in the tail) whose
        elements are words or tuples of words (a static struct, e.g. ``(uint256,address,address)``)."""
        head: list[Any] = []
        tail: list[Any] = []
        for arg in args:
            if isinstance(arg, list):
                head.append(cls._word(32 * (len(args) + len(tail))))
                tail.append(cls._word(len(arg)))
                for element in arg:
                    tail.extend(cls._word(w) for w in (element if isinstance(element, tuple) else (element,)))
            else:
                head.append(cls._word(arg))  # type: ignore[arg-type]
        return [data.hex(), *head, *tail]

    def deploy(
        self,
        label: str,
        contract: CompiledContract,
        args: Sequence[Arg] = (),
        *,
        sender: str = DEFAULT_SENDER,
        gas_limit: int = DEFAULT_GAS_LIMIT,
    ) -> Ref:
        """Deploy ``contract`` with constructor ``args`` (ints, addresses, :class:`Ref`, and lists
        for dynamic arrays, e.g. ``[[(4, v4, b4), (16, v16, b16)]]`` for ``AcceptedTier[]``)."""
        self._label(label)
        self._errors.update(contract.errors)
        self._events.update(contract.events)
        self._steps.append({
            "kind": "deploy", "label": label, "sender": sender,
            "data": self._parts(contract.bytecode, args), "gasLimit": str(gas_limit),
        })
        return Ref(label)

    def call(
        self,
        label: str,
        to: Ref | str,
        calldata: bytes,
        args: Sequence[Arg] = (),
        *,
        sender: str = DEFAULT_SENDER,
        gas_limit: int = DEFAULT_GAS_LIMIT,
        advance_seconds: int = 0,
        advance_blocks: int = 0,
    ) -> None:
        """Call ``to`` with ``calldata`` followed by the ABI encoding of ``args`` (a :class:`Ref`
        becomes an address, a list a dynamic array; see :meth:`deploy`).

        ``advance_seconds`` / ``advance_blocks`` move the block clock forward before this call
        (and for every later step); the script starts at block 1, timestamp 1,700,000,000.
        """
        self._label(label)
        if advance_seconds < 0 or advance_blocks < 0:
            raise InputError("the block clock only moves forward")
        target: Any = {"ref": to.label} if isinstance(to, Ref) else to
        step: dict[str, Any] = {
            "kind": "call", "label": label, "sender": sender, "to": target,
            "data": self._parts(calldata, args), "gasLimit": str(gas_limit),
        }
        if advance_seconds or advance_blocks:
            step["advance"] = {"seconds": str(advance_seconds), "blocks": str(advance_blocks)}
        self._steps.append(step)

    def run(self, *, timeout: float = 600) -> dict[str, StepResult]:
        """Execute every step in order in one EVM; results by label, in step order."""
        payload = json.dumps({"hardfork": self.hardfork, "steps": self._steps})
        proc = run_node([node_script("evm_run.mjs")], timeout=timeout, what="@ethereumjs/evm run", stdin=payload)
        try:
            out = json.loads(proc.stdout)
        except json.JSONDecodeError:
            raise ToolchainError(f"@ethereumjs/evm run: unreadable output: {proc.stdout[:200]!r}") from None
        results: dict[str, StepResult] = {}
        for step, r in zip(self._steps, out["results"]):
            data = self._resolved_data(step, results)
            create = step["kind"] == "deploy"
            ret = bytes.fromhex(r["returnData"].removeprefix("0x"))
            exec_gas = int(r["executionGasUsed"])
            refund = int(r["gasRefund"])
            intr = intrinsic_gas(data, create=create)
            spent = intr + exec_gas
            tx = max(spent - min(refund, spent // 5), floor_gas(data))
            logs = [
                Log(
                    address=lg["address"],
                    topics=[bytes.fromhex(t.removeprefix("0x")) for t in lg["topics"]],
                    data=bytes.fromhex(lg["data"].removeprefix("0x")),
                    event=self._events.get(lg["topics"][0].removeprefix("0x")) if lg["topics"] else None,
                )
                for lg in r["logs"]
            ]
            results[step["label"]] = StepResult(
                label=step["label"], kind=step["kind"], success=r["success"], return_data=ret,
                error=r["error"], revert=None if r["success"] else decode_revert(ret, self._errors),
                execution_gas=exec_gas, gas_refund=refund, intrinsic_gas=intr, tx_gas=tx,
                calldata_bytes=len(data), address=r["address"], logs=logs,
            )
        return results

    @staticmethod
    def _resolved_data(step: Mapping[str, Any], done: Mapping[str, StepResult]) -> bytes:
        out = bytearray()
        for part in step["data"]:
            if isinstance(part, str):
                out += bytes.fromhex(part)
            else:
                addr = done[part["ref"]].address if part["ref"] in done else None
                out += bytes(12) + (bytes.fromhex(addr.removeprefix("0x")) if addr else bytes([0xFF]) * 20)
        return bytes(out)
