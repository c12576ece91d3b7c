// Compile Solidity with the pinned solc-js (npm `solc`), standard-JSON in, summary JSON out.
// Run only through zksolv/toolchain/__init__.py:run_node (see zksolv/chain/evm.py). No downloads:
// the compiler is the soljson build shipped inside the npm package.
//   stdin : {"sources": {"File.sol": "<source>"}, "optimizerRuns": 200, "expectVersion": "0.8.28"}
//   stdout: {"version", "contracts": {Name: {abi, bytecode, deployedBytecode,
//            functions: {sig: sel}, errors: {sel: sig}, events: {topic: sig}}}, "warnings": [...]}
import { readFileSync } from "node:fs";
import solc from "solc";
import { keccak_256 } from "@noble/hashes/sha3.js";

const req = JSON.parse(readFileSync(0, "utf8"));
const version = solc.version();
if (req.expectVersion && !version.startsWith(req.expectVersion + "+")) {
  console.error(`solc-js is ${version}, expected ${req.expectVersion}`);
  process.exit(3);
}

const sources = {};
for (const [name, content] of Object.entries(req.sources)) sources[name] = { content };
const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: req.optimizerRuns ?? 200 },
    evmVersion: req.evmVersion ?? "cancun",
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "evm.methodIdentifiers"] } },
  },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (out.errors ?? []).filter((e) => e.severity === "error");
if (errors.length) {
  console.error(errors.map((e) => e.formattedMessage).join("\n"));
  process.exit(1);
}

const hex = (bytes) => Buffer.from(bytes).toString("hex");
const canonType = (p) => {
  // a struct is its components in parentheses (SolvencyRegistry's AcceptedTier[] -> (uint256,address,address)[])
  if (p.type.startsWith("tuple")) return "(" + p.components.map(canonType).join(",") + ")" + p.type.slice(5);
  return p.type;
};
const signature = (item) => `${item.name}(${item.inputs.map(canonType).join(",")})`;

const contracts = {};
for (const file of Object.keys(out.contracts ?? {})) {
  for (const [name, c] of Object.entries(out.contracts[file])) {
    const errorsBySel = {};
    const eventsByTopic = {};
    for (const item of c.abi) {
      if (item.type === "error") errorsBySel[hex(keccak_256(new TextEncoder().encode(signature(item)))).slice(0, 8)] = signature(item);
      if (item.type === "event") eventsByTopic[hex(keccak_256(new TextEncoder().encode(signature(item))))] = signature(item);
    }
    if (contracts[name]) {
      // contracts are returned by name: two of one name (two tiers' Groth16Verifier) would shadow each other
      console.error(`contract ${name} is defined in ${contracts[name].file} and ${file}: compile each tier's verifiers on their own`);
      process.exit(1);
    }
    contracts[name] = {
      file,
      abi: c.abi,
      bytecode: c.evm.bytecode.object,
      deployedBytecode: c.evm.deployedBytecode.object,
      functions: c.evm.methodIdentifiers,
      errors: errorsBySel,
      events: eventsByTopic,
    };
  }
}
const warnings = (out.errors ?? []).filter((e) => e.severity !== "error").map((e) => e.formattedMessage);
process.stdout.write(JSON.stringify({ version, contracts, warnings }));
