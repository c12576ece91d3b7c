"""Many witnesses of one compiled circuit in one node process (circom's generated witness calculator).

:func:`run_batch` returns per input ``{"ok": bool, "logs": [...], "error": str, "witness": [int] | None}``:
the circuit's ``log`` lines (DEBUG builds log intermediate values), the message of a failed
``===`` or range check (a fresh calculator instance is built after each failure) and, when
asked for, the whole witness. ``tests/test_circuits.py`` compares logged values with the
reference; ``tests/test_merkle.py`` sweeps whole witnesses of stand-alone templates.
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
