// Render snarkjs' own Groth16 Solidity template with a verification key.
// Run only through zksolv/toolchain/__init__.py:run_node (see zksolv/chain/solidity.py).
//   node render_verifier.mjs <template.sol.ejs>   < verification_key.json  > Verifier.sol
// Does exactly what `snarkjs zkey export solidityverifier` does after reading the
// key out of the .zkey: ejs.render(template, verificationKey).
import { readFileSync } from "node:fs";
import ejs from "ejs";

const templatePath = process.argv[2];
if (!templatePath) {
  console.error("usage: render_verifier.mjs <template.sol.ejs> < vk.json");
  process.exit(2);
}
const vk = JSON.parse(readFileSync(0, "utf8"));
const template = readFileSync(templatePath, "utf8");
process.stdout.write(ejs.render(template, vk));
