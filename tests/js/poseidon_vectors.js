// Reference Poseidon hashes from circomlibjs (buildPoseidon), for zksolv's tests.
// stdin: JSON list of input arrays (decimal strings); stdout: JSON list of
// decimal-string hashes, one per array. Run only through zksolv.toolchain.run_node.
"use strict";
const fs = require("fs");
const { buildPoseidon } = require("circomlibjs");

async function main() {
    const batches = JSON.parse(fs.readFileSync(0, "utf8"));
    const poseidon = await buildPoseidon();
    const out = batches.map((inputs) => poseidon.F.toString(poseidon(inputs.map(BigInt))));
    process.stdout.write(JSON.stringify(out) + "\n");
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
