// Phase-2 ceremony steps through snarkjs' JS API (never its CLI, so entropy never sits on a command line).
// Run only through zksolv/toolchain/__init__.py:run_node (see zksolv/toolchain/ceremony.py).
//   node ceremony.mjs  < request.json  > result.json
// The request (one JSON object on stdin) is one of:
//   {"op": "new",        "r1cs": F, "ptau": F, "out": F}
//   {"op": "contribute", "in": F, "out": F, "name": S, "entropy": HEX}   (entropy: fresh os.urandom, stdin only)
//   {"op": "beacon",     "in": F, "out": F, "name": S, "beacon": HEX, "iterations_exp": N}
//   {"op": "verify",     "r1cs": F, "ptau": F, "zkey": F, "init": F?}  (init: our own zkey new of r1cs + ptau)
//   {"op": "export_vk",  "zkey": F, "out": F}
// The result is one JSON line on stdout: {"ok": bool, ...}; "contributions" lists the key's history
// (name, contribution hash as snarkjs prints it, beacon fields) for verify; "hash" the new contribution's hash.
import { readFileSync, writeFileSync } from "node:fs";
import * as snarkjs from "snarkjs";

function hex(bytes) {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

// a logger that keeps what snarkjs reports instead of printing it
function collector() {
  const lines = { info: [], error: [] };
  const logger = {
    info: (m) => lines.info.push(String(m)),
    warn: (m) => lines.error.push(String(m)),
    error: (m) => lines.error.push(String(m)),
    debug: () => {},
  };
  return { lines, logger };
}

// snarkjs' formatHash output ("title\n\t\tXXXXXXXX XXXXXXXX ...") back to (title, hex)
function parseHash(text) {
  const [title, ...rest] = text.split("\n");
  return [title.trim(), rest.join("").replace(/\s+/g, "")];
}

function historyFrom(info) {
  const out = [];
  for (const line of info) {
    const m = /^contribution #(\d+) ?(.*):$/.exec(line.split("\n")[0].trim());
    if (m) {
      const [, hash] = parseHash(line);
      out.push({ index: Number(m[1]), name: m[2], hash, type: "contribution" });
    } else if (line.startsWith("Beacon generator: ") && out.length) {
      out[out.length - 1].type = "beacon";
      out[out.length - 1].beacon = line.slice("Beacon generator: ".length).trim();
    } else if (line.startsWith("Beacon iterations Exp: ") && out.length) {
      out[out.length - 1].iterations_exp = Number(line.slice("Beacon iterations Exp: ".length));
    }
  }
  return out.sort((a, b) => a.index - b.index); // snarkjs reports the newest first
}

async function run(req) {
  const { lines, logger } = collector();
  // snarkjs' verify prints some failures with console.log: keep them out of our stdout
  const origLog = console.log;
  console.log = (...a) => lines.error.push(a.join(" "));
  try {
    switch (req.op) {
      case "new": {
        const csHash = await snarkjs.zKey.newZKey(req.r1cs, req.ptau, req.out, logger);
        return { ok: true, circuit_hash: hex(csHash) };
      }
      case "contribute": {
        if (!/^[0-9a-f]{64,}$/.test(req.entropy || "")) return { ok: false, errors: ["entropy missing"] };
        const h = await snarkjs.zKey.contribute(req.in, req.out, req.name, req.entropy, logger);
        return h ? { ok: true, hash: hex(h) } : { ok: false, errors: lines.error };
      }
      case "beacon": {
        const h = await snarkjs.zKey.beacon(req.in, req.out, req.name, req.beacon, req.iterations_exp, logger);
        return h ? { ok: true, hash: hex(h) } : { ok: false, errors: lines.error };
      }
      case "verify": {
        // from the initial key (zkey new of the same r1cs and ptau, computed by the verifier itself) when given:
        // exactly what verifyFromR1cs does after making that key
        const ok = req.init
          ? await snarkjs.zKey.verifyFromInit(req.init, req.ptau, req.zkey, logger)
          : await snarkjs.zKey.verifyFromR1cs(req.r1cs, req.ptau, req.zkey, logger);
        return { ok: ok === true, contributions: ok === true ? historyFrom(lines.info) : [], errors: lines.error };
      }
      case "export_vk": {
        const vk = await snarkjs.zKey.exportVerificationKey(req.zkey, logger);
        writeFileSync(req.out, JSON.stringify(vk, null, 1));
        return { ok: true };
      }
      default:
        return { ok: false, errors: [`unknown op ${req.op}`] };
    }
  } catch (err) {
    return { ok: false, errors: [...lines.error, String(err && err.message ? err.message : err)] };
  } finally {
    console.log = origLog;
  }
}

const request = JSON.parse(readFileSync(0, "utf8"));
const result = await run(request);
process.stdout.write(JSON.stringify(result) + "\n");
process.exit(0);
