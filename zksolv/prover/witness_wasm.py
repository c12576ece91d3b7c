"""Witness computation: circom's generated wasm run in-process (wasmtime), node as the fallback.

circom compiles each circuit to a WebAssembly witness calculator and ships a
JavaScript driver (``witness_calculator.js`` + ``generate_witness.js``) for
it. :func:`calculate_witness` runs the *same* wasm without node, through the
``wasmtime`` package (optional extra ``zksolv[fast]``), implementing the
driver's ABI in Python:

* inputs: each input signal name (nested objects joined with ``.``, arrays of
  objects with ``[i]``, as ``qualify_input`` does) is hashed with 64-bit
  FNV-1a; ``getInputSignalSize(hi, lo)`` gives its length; each value goes
  into the shared read/write memory as ``n32`` little-endian 32-bit limbs and
  ``setInputSignal(hi, lo, i)`` consumes it; the last input runs the circuit;
* errors: the wasm calls ``runtime.exceptionHandler(code)`` (1 signal not
  found ... 4 assert failed ...) after ``printErrorMessage`` calls whose text
  (``Error in template T line: N``) is read with ``getMessageChar``;
* output: ``getWitness(i)`` puts wire ``i`` into the shared memory, in normal
  form. A 20-instruction helper module (:data:`_DUMP_WAT`) linked against the
  circuit's memory does that for every wire inside wasm, so Python reads the
  whole witness with one copy instead of ~10^5 foreign calls; the bytes are
  exactly the data section ``calculateWTNSBin`` writes.

The result is byte-identical to ``generate_witness.js`` (tests check it), and
failures raise the same :class:`~zksolv.core.errors.ProofError` text as the node
path (same diagnostics, through :func:`zksolv.toolchain._witness_failure_reason`;
never an input value). Compiling a circuit's wasm to machine code takes
seconds (3.6 s for the demo tier), so the compiled module is kept in the
artifact cache (kind ``wasm``, keyed by the wasm's sha256, the wasmtime version
and the machine; checked against its manifest on every use like every cached
artifact) and later loads take milliseconds.

``engine``: ``"auto"`` (default: wasmtime if installed, else node),
``"wasmtime"`` or ``"node"``; ``$ZKSOLV_WITNESS`` sets the default.
"""

from __future__ import annotations

import atexit
import functools
import gc
import os
import platform
from pathlib import Path
from typing import Any, Callable, Mapping

from zksolv.core.atomic import atomic_write_bytes
from zksolv.core.errors import ProofError, ToolchainError

ENGINES = ("auto", "wasmtime", "node")
_ENV = "ZKSOLV_WITNESS"

#: Messages of circom's ``exceptionHandler`` codes, as ``witness_calculator.js`` words them.
_EXCEPTIONS = {
    1: "Signal not found.\n",
    2: "Too many signals set.\n",
    3: "Signal already set.\n",
    4: "Assert Failed.\n",
    5: "Not enough memory.\n",
    6: "Input signal array access exceeds the size.\n",
    7: "Out of bounds array access.\n",
}

#: Helper module: ``dump(n, src, dst, n8)`` calls the circuit's ``getWitness(i)`` for
#: i < n and copies the ``n8`` bytes it leaves at ``src`` (the shared read/write
#: memory) to ``dst + i * n8``. It imports the circuit's memory and function.
_DUMP_WAT = """
(module
  (import "c" "memory" (memory 0))
  (import "c" "getWitness" (func $gw (param i32)))
  (func (export "dump") (param $n i32) (param $src i32) (param $dst i32) (param $n8 i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $gw (local.get $i))
        (memory.copy (i32.add (local.get $dst) (i32.mul (local.get $i) (local.get $n8)))
                     (local.get $src) (local.get $n8))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))))
"""

_PAGE = 65536


def wasmtime_available() -> bool:
    """True if the optional ``wasmtime`` package is importable."""
    try:
        import wasmtime  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_engine(engine: str | None = None) -> str:
    """The engine :func:`calculate_witness` will use for ``engine`` (``"wasmtime"`` or ``"node"``)."""
    choice = engine or os.environ.get(_ENV) or "auto"
    if choice not in ENGINES:
        raise ToolchainError(f"witness engine must be one of {', '.join(ENGINES)}, not {choice!r}")
    if choice == "auto":
        return "wasmtime" if wasmtime_available() else "node"
    if choice == "wasmtime" and not wasmtime_available():
        raise ToolchainError("witness engine 'wasmtime' needs the wasmtime package: pip install 'zksolv[fast]'")
    return choice


def calculate_witness(wasm: Path, inputs: Mapping[str, Any], out_wtns: Path, *, engine: str | None = None,
                      timeout: float = 600.0) -> Path:
    """Compute the witness of ``inputs`` for the circuit ``wasm`` into ``out_wtns`` (atomically).

    Same contract as :func:`zksolv.toolchain.calculate_witness` (the node
    path, used when ``engine`` resolves to ``"node"``): :class:`ProofError`
    when the inputs violate the circuit, :class:`ToolchainError` when the
    circuit files or the engine are missing; no message holds an input value.
    ``timeout`` applies to the node path only.
    """
    if resolve_engine(engine) == "node":
        from zksolv.toolchain import calculate_witness as node_witness

        return node_witness(wasm, inputs, out_wtns, timeout=timeout)
    wasm = Path(wasm).resolve()
    if not wasm.is_file():
        raise ToolchainError(f"witness generator missing: {wasm} not found (compile the circuit first)")
    data = WasmWitnessCalculator(wasm).wtns(inputs)
    out_wtns = Path(out_wtns).resolve()
    atomic_write_bytes(out_wtns, data, mode=0o600)
    return out_wtns


# --------------------------------------------------------------------------
# inputs: the driver's flattening and hashing
# --------------------------------------------------------------------------

def fnv1a64(name: str) -> tuple[int, int]:
    """64-bit FNV-1a of a signal name as ``(high 32 bits, low 32 bits)`` (``fnvHash`` of the driver)."""
    h = 0xCBF29CE484222325
    for ch in name:
        h = ((h ^ ord(ch)) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h >> 32, h & 0xFFFFFFFF


def _flat(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [x for item in value for x in _flat(item)]
    return [value]


def qualify_inputs(inputs: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Signal name -> flat list of values, as ``qualify_input`` + ``flatArray`` of the driver do it.

    Nested mappings become ``a.b``; a list whose elements are mappings becomes
    ``a[0].b``, ``a[1].b``; lists of numbers stay one signal.
    """
    out: dict[str, list[Any]] = {}

    def visit(prefix: str, value: Any) -> None:
        if isinstance(value, (list, tuple)):
            flat = _flat(value)
            if flat and isinstance(flat[0], Mapping):
                if not all(isinstance(x, Mapping) for x in flat):
                    raise _DriverError(f"Types are not the same in the key {prefix}")
                for i, item in enumerate(value):
                    visit(f"{prefix}[{i}]", item)
            else:
                if any(isinstance(x, Mapping) for x in flat):
                    raise _DriverError(f"Types are not the same in the key {prefix}")
                out[prefix] = flat
        elif isinstance(value, Mapping):
            for key, item in value.items():
                visit(f"{prefix}.{key}" if prefix else str(key), item)
        else:
            out[prefix] = [value]

    visit("", inputs)
    return out


def _field_value(value: Any, prime: int) -> int:
    """``normalize(BigInt(value), prime)``: ints, decimal or 0x-hex strings; negatives wrap mod p."""
    if isinstance(value, bool):
        raise ToolchainError("circuit inputs must be integers, not booleans")
    if isinstance(value, int):
        n = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            n = int(text, 16) if text[:2].lower() == "0x" else int(text, 10)
        except ValueError:
            raise _DriverError("cannot convert an input value to a BigInt") from None
    else:
        raise ToolchainError(f"circuit inputs must be ints, decimal strings or lists, not {type(value).__name__}")
    return n % prime


class _DriverError(Exception):
    """A failure inside the witness calculator, with the text node would print (redacted later)."""


# --------------------------------------------------------------------------
# the engine
# --------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _engine() -> Any:
    import wasmtime

    return wasmtime.Engine()


@functools.lru_cache(maxsize=1)
def _dump_module() -> Any:
    import wasmtime

    return wasmtime.Module(_engine(), wasmtime.wat2wasm(_DUMP_WAT))


@atexit.register
def _release() -> None:
    """Drop the cached modules and the engine while wasmtime is still whole: left to interpreter
    teardown, their finalisers run after wasmtime's own globals are gone and print errors."""
    _compiled.cache_clear()
    _dump_module.cache_clear()
    _engine.cache_clear()
    gc.collect()


def _wasmtime_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wasmtime")
    except PackageNotFoundError:  # pragma: no cover - imported but not installed as a distribution
        return "unknown"


@functools.lru_cache(maxsize=8)
def _compiled(wasm: str, sha256: str) -> Any:
    """The circuit's module compiled for this machine: from the artifact cache, or compiled and cached."""
    import wasmtime

    from zksolv.toolchain.cache import ArtifactCache, content_key

    key = content_key("wasmtime-module", _wasmtime_version(), platform.machine(), platform.system(),
                      bytes.fromhex(sha256))

    def build(staging: Path) -> None:
        try:
            module = wasmtime.Module.from_file(_engine(), wasm)
        except wasmtime.WasmtimeError as exc:
            raise ToolchainError(f"wasmtime cannot compile {Path(wasm).name}: {str(exc)[:200]}") from None
        (staging / "module.cwasm").write_bytes(module.serialize())

    entry = ArtifactCache().get_or_build("wasm", key, build)
    try:
        return wasmtime.Module.deserialize_file(_engine(), str(entry / "module.cwasm"))
    except wasmtime.WasmtimeError as exc:
        raise ToolchainError(f"cached compiled witness calculator unusable: {str(exc)[:200]}") from None


class WasmWitnessCalculator:
    """circom's witness calculator for one compiled circuit, run by wasmtime in this process."""

    def __init__(self, wasm: Path) -> None:
        from zksolv.toolchain.cache import file_sha256

        self.wasm = Path(wasm).resolve()
        try:
            digest = file_sha256(self.wasm)
        except OSError as exc:
            raise ToolchainError(f"cannot read {self.wasm.name}: {exc.strerror}") from None
        self.module = _compiled(str(self.wasm), digest)

    def wtns(self, inputs: Mapping[str, Any]) -> bytes:
        """The ``.wtns`` file (version 2) of ``inputs``, as ``calculateWTNSBin`` writes it."""
        from zksolv.toolchain import _witness_failure_reason

        try:
            return self._run(inputs)
        except _DriverError as exc:
            raise ProofError("witness calculation failed — the inputs do not satisfy the circuit: "
                             + _witness_failure_reason(str(exc))) from None

    def _run(self, inputs: Mapping[str, Any]) -> bytes:
        import wasmtime

        # The host functions live in the store and must not reach it through a Python reference
        # of their own: that cycle runs through wasmtime's native side, which Python's collector
        # cannot see, so every call leaked its store (the circuit's whole linear memory, 15-30 MB
        # per witness of a 64-position chunk). They reach it through `exports`, emptied at the end.
        state: dict[str, Any] = {"err": "", "code": None}
        exports: dict[str, Any] = {}
        try:
            return self._drive(wasmtime.Store(_engine()), inputs, state, exports)
        finally:
            exports.clear()

    def _drive(self, store: Any, inputs: Mapping[str, Any], state: dict[str, Any], exports: dict[str, Any]) -> bytes:
        import wasmtime

        def message() -> str:
            chars = []
            get, st = exports["getMessageChar"], exports["store"]
            while (c := get(st)) != 0:
                chars.append(chr(c))
            return "".join(chars)

        def exception_handler(code: int) -> None:
            state["code"] = code
            raise wasmtime.Trap("circom exception")

        def print_error_message() -> None:
            state["err"] += message() + "\n"

        def write_buffer_message() -> None:
            message()  # circuit log() output: consumed, never printed (it may show private values)

        hooks: dict[str, Callable[..., None]] = {
            "exceptionHandler": exception_handler, "printErrorMessage": print_error_message,
            "writeBufferMessage": write_buffer_message, "showSharedRWMemory": lambda: None,
        }
        imports = []
        for imp in self.module.imports:
            if imp.module != "runtime" or imp.name not in hooks:
                raise ToolchainError(f"{self.wasm.name}: unexpected import {imp.module}.{imp.name} "
                                     "(not a circom 2 witness calculator)")
            imports.append(wasmtime.Func(store, imp.type, hooks[imp.name]))
        try:
            instance = wasmtime.Instance(store, self.module, imports)
        except wasmtime.WasmtimeError as exc:
            raise ToolchainError(f"{self.wasm.name}: cannot instantiate the witness calculator: "
                                 f"{str(exc)[:200]}") from None
        exports.update({e.name: instance.exports(store)[e.name] for e in self.module.exports})
        exports["store"] = store
        memory = exports["memory"]

        def call(name: str, *args: int) -> Any:
            try:
                return exports[name](store, *args)
            except (wasmtime.Trap, wasmtime.WasmtimeError):
                code = state["code"]
                text = _EXCEPTIONS.get(code, "Unknown error.\n") if code is not None else "wasm trap\n"
                raise _DriverError(text + state["err"]) from None

        n32 = call("getFieldNumLen32")
        n8 = 4 * n32
        shared = call("getSharedRWMemoryStart")
        call("getRawPrime")
        prime_bytes = bytes(memory.read(store, shared, shared + n8))
        prime = int.from_bytes(prime_bytes, "little")
        witness_size = call("getWitnessSize")

        def i32(x: int) -> int:  # JS passes parseInt(hex) through ToInt32
            return x - (1 << 32) if x >= 1 << 31 else x

        call("init", 0)
        counter = 0
        for name, values in qualify_inputs(inputs).items():
            hi, lo = fnv1a64(name)
            size = call("getInputSignalSize", i32(hi), i32(lo))
            if size < 0:
                raise _DriverError(f"Signal {name} not found\n")
            if len(values) < size:
                raise _DriverError(f"Not enough values for input signal {name}\n")
            if len(values) > size:
                raise _DriverError(f"Too many values for input signal {name}\n")
            for i, value in enumerate(values):
                memory.write(store, _field_value(value, prime).to_bytes(n8, "little"), shared)
                call("setInputSignal", i32(hi), i32(lo), i)
                counter += 1
        if counter < call("getInputSize"):
            raise _DriverError(f"Not all inputs have been set. Only {counter} out of {call('getInputSize')}\n")

        # every wire, copied inside wasm into fresh pages past the circuit's memory
        dst = memory.size(store) * _PAGE
        memory.grow(store, -(-witness_size * n8 // _PAGE))
        dump = wasmtime.Instance(store, _dump_module(), [memory, exports["getWitness"]]).exports(store)["dump"]
        try:
            dump(store, witness_size, shared, dst, n8)
        except (wasmtime.Trap, wasmtime.WasmtimeError):
            raise _DriverError("wasm trap\n" + state["err"]) from None
        values = bytes(memory.read(store, dst, dst + witness_size * n8))

        header = (b"wtns" + (2).to_bytes(4, "little") + (2).to_bytes(4, "little")
                  + (1).to_bytes(4, "little") + (8 + n8).to_bytes(8, "little") + n8.to_bytes(4, "little")
                  + prime_bytes + witness_size.to_bytes(4, "little")
                  + (2).to_bytes(4, "little") + (n8 * witness_size).to_bytes(8, "little"))
        return header + values


__all__ = ["ENGINES", "calculate_witness", "resolve_engine", "wasmtime_available", "WasmWitnessCalculator",
           "fnv1a64", "qualify_inputs"]
