"""Many witnesses of one compiled circuit in one node process (circom's generated witness calculator).

:func:`run_batch` returns per input ``{"ok": bool, "logs": [...], "error": str, "witness": [int] | None}``:
the circuit's ``log`` lines (DEBUG builds log intermediate values), the message of a failed
``===`` or range check (a fresh calculator instance is built after each failure) and, when
asked for, the whole witness. ``tests/test_circuits.py`` compares logged values with the
reference; ``tests/test_merkle.py`` sweeps whole witnesses of stand-alone templates
(:class:`StandaloneCircuit`: a main over ``circuits/`` compiled once per sources).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

_RUNNER = r"""
const fs = require('fs');
const [calcPath, wasmPath, inputsPath, wantWitness] = process.argv.slice(2);
const builder = require(calcPath);
(async () => {
  const code = fs.readFileSync(wasmPath);
  const inputs = JSON.parse(fs.readFileSync(inputsPath, 'utf8'));
  const results = [];
  const origLog = console.log;
  let calc = await builder(code);
  for (const inp of inputs) {
    const logs = [];
    console.log = (...a) => logs.push(a.join(' '));
    try {
      const w = await calc.calculateWitness(inp, true);
      results.push({ok: true, logs, witness: wantWitness === '1' ? w.map((x) => x.toString()) : null});
    } catch (e) {
      results.push({ok: false, logs, witness: null, error: String((e && e.message) || e).slice(0, 400)});
      console.log = origLog;
      calc = await builder(code);   // fresh instance after a trap
    }
    console.log = origLog;
  }
  process.stdout.write(JSON.stringify(results));
})();
"""


def run_batch(compiled: Any, batch: list[dict[str, Any]], *, witness: bool = False) -> list[dict[str, Any]]:
    """Witness of every input of ``batch`` for ``compiled`` (a :class:`zksolv.toolchain.CompiledCircuit`)."""
    from zksolv.toolchain import run_node

    with tempfile.TemporaryDirectory(prefix="zksolv-test-wtns-") as tmp:
        script, data = Path(tmp) / "runner.js", Path(tmp) / "inputs.json"
        script.write_text(_RUNNER)
        data.write_text(json.dumps(batch))
        proc = run_node([script, compiled.wasm.parent / "witness_calculator.js", compiled.wasm, data,
                         "1" if witness else "0"], timeout=900, what="test witness batch")
    out = json.loads(proc.stdout)
    for res in out:
        if res["witness"] is not None:
            res["witness"] = [int(x) for x in res["witness"]]
    return out


_BUILD = Path(__file__).resolve().parent.parent / "build" / "test-circuits"


class StandaloneCircuit:
    """A stand-alone main over ``circuits/``: ``body`` (its ``include`` lines and ``component main``)
    with the ``FP_*`` constant functions rendered in, compiled once per sources (the body and every
    circuit file), with its R1CS, wire names and a batch witness runner (None = no witness)."""

    def __init__(self, name: str, body: str) -> None:
        import hashlib

        from zksolv.toolchain import CompiledCircuit, compile_circuit
        from zksolv.toolchain import r1cs as R
        from zksolv.toolchain.circuitgen import PRAGMA, circuits_dir, constants_source, include_dirs

        includes = "\n".join(line for line in body.splitlines() if line.startswith("include"))
        rest = "\n".join(line for line in body.splitlines() if not line.startswith("include"))
        source = f"pragma circom {PRAGMA};\n{includes}\n{constants_source()}\n{rest}\n"
        h = hashlib.sha256(source.encode())
        for path in sorted(circuits_dir().glob("*.circom")):
            h.update(path.read_bytes())
        out = _BUILD / f"{name}-{h.hexdigest()[:16]}"
        try:
            self.compiled = CompiledCircuit.from_dir(out, name)
        except Exception:
            src = _BUILD / "src" / f"{name}.circom"
            src.parent.mkdir(parents=True, exist_ok=True)
            src.write_text(source)
            self.compiled = compile_circuit(src, out, include_dirs())
        self.r1cs = R.R1CS.load(self.compiled.r1cs)
        self.touching = R.constraints_touching(self.r1cs)
        self.names = R.wire_names(R.read_sym(self.compiled.sym))

    def run(self, batch: list[dict[str, Any]]) -> list[list[int] | None]:
        return [res["witness"] for res in run_batch(self.compiled, batch, witness=True)]


def tamper_survivors(compiled: Any, inputs: dict[str, Any], tmp: Path) -> list[str]:
    """Names of the wires of ``compiled``'s witness for ``inputs`` whose tampering (+1) the independent
    R1CS checker (:mod:`zksolv.toolchain.r1cs`) does not reject; the honest witness must satisfy it."""
    from zksolv.toolchain import calculate_witness
    from zksolv.toolchain import r1cs as R

    r1cs = R.R1CS.load(compiled.r1cs)
    w = R.read_wtns(calculate_witness(compiled.wasm, inputs, Path(tmp) / "w.wtns"))
    assert R.check(r1cs, w) == []
    touching = R.constraints_touching(r1cs)
    names = R.wire_names(R.read_sym(compiled.sym))
    return [min(names.get(i, [f"<{i}>"]), key=len) for i in range(1, r1cs.n_wires)
            if not R.tamper_rejected(r1cs, w, i, w[i] + 1, touching)]
