// Execute a script of deployments and calls in one in-process @ethereumjs/evm instance.
// Run only through zksolv/toolchain/__init__.py:run_node (see zksolv/chain/evm.py). State lives for
// one run: deploy and call in the same script.
//   stdin : {"hardfork": "prague", "steps": [
//             {"kind": "deploy", "label": "verifier", "sender": "0x..", "data": [<hex> | {"ref": label}], "gasLimit": "30000000"},
//             {"kind": "call",   "label": "x", "to": {"ref": label} | "0x..", "sender": "0x..", "data": [...], "gasLimit": "...",
//              "advance": {"seconds": "3600", "blocks": "300"}}]}
// Block: number 1, timestamp 1700000000 at the start; a step's "advance" moves the clock forward
// before it runs (and for every later step).
//   stdout: {"results": [{label, kind, success, error, returnData, executionGasUsed, gasRefund, address, logs}]}
// Each step is set up like a transaction (what @ethereumjs/vm runTx does for EIP-2929/2200):
// a fresh access journal with sender, recipient, coinbase and the precompiles warm, and the
// original-storage cache cleared. Gas reported is execution gas only; the intrinsic cost
// (21000 + calldata) is added in Python.
import { readFileSync } from "node:fs";
import { createEVM, getActivePrecompiles } from "@ethereumjs/evm";
import { Common, Mainnet } from "@ethereumjs/common";
import { Account, bytesToHex, createAddressFromString, createZeroAddress, hexToBytes } from "@ethereumjs/util";

const script = JSON.parse(readFileSync(0, "utf8"));
const common = new Common({ chain: Mainnet, hardfork: script.hardfork ?? "prague" });
const evm = await createEVM({ common });
const labels = new Map();
const clock = { number: 1n, timestamp: 1700000000n };
const blockOf = () => ({
  header: {
    number: clock.number, coinbase: createZeroAddress(), timestamp: clock.timestamp, difficulty: 0n,
    prevRandao: new Uint8Array(32), gasLimit: 30000000n, baseFeePerGas: undefined, slotNumber: 0n,
    getBlobGasPrice: () => undefined,
  },
});

const addressOf = (ref) => {
  if (typeof ref === "string") return createAddressFromString(ref);
  const a = labels.get(ref.ref);
  if (!a) throw new Error(`unknown reference ${ref.ref}`);
  return a;
};
const dataOf = (parts) => {
  let hex = "";
  for (const p of parts ?? []) {
    if (typeof p === "string") hex += p.replace(/^0x/, "");
    else hex += addressOf(p).toString().slice(2).padStart(64, "0");
  }
  return hexToBytes("0x" + hex);
};

const results = [];
for (const step of script.steps) {
  const sender = createAddressFromString(step.sender);
  if ((await evm.stateManager.getAccount(sender)) === undefined) {
    await evm.stateManager.putAccount(sender, new Account(0n, 10n ** 24n));
  }
  if (step.advance) {
    clock.timestamp += BigInt(step.advance.seconds ?? 0);
    clock.number += BigInt(step.advance.blocks ?? 0);
  }
  const to = step.kind === "call" ? addressOf(step.to) : undefined;
  // transaction-level warm set (EIP-2929, EIP-3651) and original-storage cache (EIP-2200)
  evm.journal.cleanJournal();
  evm.stateManager.originalStorageCache.clear();
  evm.journal.addAlwaysWarmAddress(sender.toString());
  if (to) evm.journal.addAlwaysWarmAddress(to.toString());
  evm.journal.addAlwaysWarmAddress(createZeroAddress().toString()); // default block coinbase
  for (const [addr] of getActivePrecompiles(common)) evm.journal.addAlwaysWarmAddress(addr);

  const res = await evm.runCall({
    caller: sender,
    origin: sender,
    to,
    data: dataOf(step.data),
    gasLimit: BigInt(step.gasLimit ?? "30000000"),
    block: blockOf(),
  });
  await evm.journal.cleanup();
  const ex = res.execResult;
  const ok = ex.exceptionError === undefined;
  if (step.kind === "deploy" && ok) labels.set(step.label, res.createdAddress);
  results.push({
    label: step.label,
    kind: step.kind,
    success: ok,
    error: ok ? null : String(ex.exceptionError.error ?? ex.exceptionError),
    returnData: bytesToHex(ex.returnValue ?? new Uint8Array()),
    executionGasUsed: ex.executionGasUsed.toString(),
    gasRefund: (ex.gasRefund ?? 0n).toString(),
    address: step.kind === "deploy" && ok ? res.createdAddress.toString() : to ? to.toString() : null,
    logs: (ex.logs ?? []).map(([address, topics, data]) => ({
      address: bytesToHex(address),
      topics: topics.map((t) => bytesToHex(t)),
      data: bytesToHex(data),
    })),
  });
}
process.stdout.write(JSON.stringify({ hardfork: common.hardfork(), results }));
