// Test helper: snarkjs.groth16.verify on many (proof, public) pairs in one node process.
//   stdin : {"vk": <verification_key.json>, "cases": [{"proof": <proof.json>, "public": [..]}]}
//   stdout: [true | false | "error: ..."]
import { readFileSync } from "node:fs";
import * as snarkjs from "snarkjs";

const req = JSON.parse(readFileSync(0, "utf8"));
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const out = [];
for (const c of req.cases) {
  try {
    out.push(await snarkjs.groth16.verify(req.vk, c.public, c.proof, silent));
  } catch (e) {
    out.push("error: " + String(e && e.message ? e.message : e));
  }
}
process.stdout.write(JSON.stringify(out));
process.exit(0); // snarkjs keeps worker threads alive
