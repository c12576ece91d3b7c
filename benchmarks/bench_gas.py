"""Gas report: the generated Groth16 verifiers and SolvencyRegistry in @ethereumjs/evm.

    python benchmarks/bench_gas.py            # toy circuit + demo stress, es and var tiers
    python benchmarks/bench_gas.py --toy      # the toy circuit only (seconds, no prover)

A registry accepts up to four tiers (position capacities), one verifier and batch verifier
each. On the toy circuit (gas does not depend on the circuit: every tier has two public
inputs), with four dev setups of it standing for four tiers with their own keys: the tier
lookup (``proveSolvent`` in each of the four slots, and an unaccepted tier's revert),
``proveSolventBatch`` at batch sizes 1, 2, 4, 8, 16, 32 (per batch and per account) and the
missed-proof trigger (``markLiquidatable``, ``isSolvent``).

Prints a table and writes ``benchmarks/results/gas.json`` (after every tier, so a failure
in a later tier keeps the rows measured so far). Per tier (a one-tier registry) it measures
deployment, ``verifyProof`` alone, ``postMarketRoot``, ``registerAccount`` (which pays the
commitment record's zero-to-non-zero write) and ``proveSolvent`` for a commitment's first
proof and for a later epoch (steady state; both write a non-zero record, so they should cost
the same). "exec" is execution gas; "tx" adds the 21,000 base cost and calldata (what the
sender pays).

Real tiers: call :func:`measure_tier` with a :class:`TierInput` per tier (verification key,
and proofs for one account commitment against two consecutive market roots) and pass the rows to
:func:`write_report`.
"""

from __future__ import annotations

import json
import secrets
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from zksolv.verifier.calldata import (  # noqa: E402
    IS_SOLVENT_SELECTOR,
    Q,
    R,
    encode_mark_liquidatable,
    encode_post_market_root,
    encode_prove_solvent_batch,
    encode_prove_solvent,
    encode_register_account,
    encode_verify_proof,
    proof_from_bytes,
    proof_to_calldata,
    public_to_calldata,
)
from zksolv.core.atomic import atomic_write_text  # noqa: E402
from zksolv.chain.evm import EvmScript, StepResult  # noqa: E402
from zksolv.chain.solidity import deploy_registry  # noqa: E402
from zksolv.toolchain import node_module_path, run_node  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "gas.json"
ACCOUNT = "0x" + "a1" * 20
#: Batch sizes measured for proveSolventBatch.
BATCH_SIZES = (1, 2, 4, 8, 16, 32)
#: Proof window (seconds) the venue sets with each root in the scenarios.
PROOF_WINDOW = 3600
#: Gas limit of the malformed-proof transactions (issue 25 measured 9,692,719 of it burnt).
MALFORMED_GAS_LIMIT = 10_000_000
#: One broken proof per kind (a, b, c in calldata form): a coordinate >= q, A or C off G1, B off
#: the twist.
MALFORMED = {
    "c.x >= q": lambda a, b, c: (a, b, [c[0] + Q, c[1]]),
    "c off the curve": lambda a, b, c: (a, b, [c[0], (c[1] + 1) % Q]),
    "a off the curve": lambda a, b, c: ([a[0], (a[1] + 1) % Q], b, c),
    "b off the twist": lambda a, b, c: (a, [[b[0][0], (b[0][1] + 1) % Q], b[1]], c),
}
#: The capacities the toy circuit's four setups stand for (a registry's most tiers).
TOY_CAPACITIES = (4, 16, 64, 256)


@dataclass
class TierInput:
    """What the gas report needs for one tier.

    ``proof``/``public`` prove the account against the epoch-1 root; ``proof_next``/
    ``public_next`` the same account (same commitment) against the epoch-2 root.
    """

    tier: str
    circuit_hash: str
    capacity: int
    vk: dict[str, Any]
    proof: dict[str, Any]
    public: Sequence[int | str]
    proof_next: dict[str, Any] | None = None
    public_next: Sequence[int | str] | None = None


def _rows(tier: str, results: dict[str, StepResult], keep: Any = None) -> list[dict[str, Any]]:
    """One row per step (those ``keep(label)`` accepts), refusing any that failed."""
    rows = []
    for label, r in results.items():
        if keep is not None and not keep(label):
            continue
        if not r.success or (label == "verifyProof" and not r.returned_bool()):
            raise RuntimeError(f"{tier}: {label} failed ({r.error}, {r.revert})")
        rows.append({"tier": tier, "n_public": 2, "operation": label, "execution_gas": r.execution_gas,
                     "intrinsic_gas": r.intrinsic_gas, "tx_gas": r.tx_gas, "calldata_bytes": r.calldata_bytes})
    return rows


def measure_tier(t: TierInput) -> list[dict[str, Any]]:
    """A registry accepting ``t``'s tier alone: deploy and call in one EVM; one row per operation."""
    pub = public_to_calldata(t.public)
    a, b, c = proof_to_calldata(t.proof)
    s = EvmScript()
    deployed = deploy_registry(s, [(t.capacity, t.vk)])
    reg = deployed.registry
    s.call("verifyProof", deployed.verifiers[t.capacity], encode_verify_proof(a, b, c, pub))
    s.call("postMarketRoot", reg, encode_post_market_root(1, pub[1], PROOF_WINDOW))
    s.call("registerAccount", reg, encode_register_account(ACCOUNT, pub[0]))
    s.call("proveSolvent (first proof)", reg, encode_prove_solvent(t.capacity, a, b, c, pub[0]))
    if t.proof_next is not None and t.public_next is not None:
        pub2 = public_to_calldata(t.public_next)
        if pub2[0] != pub[0]:
            raise ValueError(f"{t.tier}: proof_next must be for the same account commitment")
        # a root cannot replace one whose proof window is open (ProofWindowOpen)
        s.call("postMarketRoot (next epoch)", reg, encode_post_market_root(2, pub2[1], PROOF_WINDOW),
               advance_seconds=PROOF_WINDOW + 1)
        s.call("proveSolvent (next epoch)", reg,
               encode_prove_solvent(t.capacity, *proof_to_calldata(t.proof_next), pub2[0]))
    new_commitment = (pub[0] + 1) % R or 1
    s.call("registerAccount (re-register, new commitment)", reg, encode_register_account(ACCOUNT, new_commitment))
    rows = _rows(t.tier, s.run())
    for row in rows:  # the tier's verifiers carry its capacity in their labels; the operation is the same for all
        row["operation"] = row["operation"].replace(f" n{t.capacity}", "")
    return rows


def print_table(rows: list[dict[str, Any]], *, header: bool = True) -> None:
    """Print ``rows`` as a fixed-width table (optionally without the header)."""
    head = f"{'tier':<30} {'operation':<46} {'exec gas':>10} {'+intrinsic':>11} {'tx gas':>10} {'calldata B':>10}"
    if header:
        print(head)
        print("-" * len(head))
    for r in rows:
        print(f"{r['tier']:<30} {r['operation']:<46} {r['execution_gas']:>10,} {r['intrinsic_gas']:>11,} "
              f"{r['tx_gas']:>10,} {r['calldata_bytes']:>10}", flush=True)


def write_json(rows: list[dict[str, Any]], path: Path = RESULTS) -> None:
    """Write the rows (with the toolchain versions) as JSON, atomically."""
    meta = {"evm": "@ethereumjs/evm 10.1.3 (prague)", "solc": "0.8.28 optimizer 200 runs",
            "verifier": "snarkjs 0.7.6 template verifier_groth16.sol.ejs"}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")


def write_report(rows: list[dict[str, Any]], path: Path = RESULTS) -> None:
    """Print the table and write the rows as JSON (atomically)."""
    print_table(rows)
    write_json(rows, path)
    print(f"\nwritten {path}")


class ToyProver:
    """The 2-public-input toy circuit of tests/circuits, compiled once, with ``n_keys`` dev setups
    (groth16py) standing for as many tiers with keys of their own."""

    def __init__(self, workdir: Path, n_keys: int = len(TOY_CAPACITIES)) -> None:
        import groth16py

        self.workdir = workdir
        run_node([node_module_path("circom2", "cli.js"), ROOT / "tests" / "circuits" / "two_public.circom",
                  "--r1cs", "--wasm", "-o", workdir], timeout=120, what="circom2 compile two_public")
        self.keys = [groth16py.setup(str(workdir / "two_public.r1cs")) for _ in range(n_keys)]
        self.vks = [json.loads(vk.to_json()) for _, vk in self.keys]
        self.vk = self.vks[0]
        self._n = 0

    def prove(self, secret: int, salt: int, root: int, key: int = 0) -> tuple[dict[str, Any], list[int]]:
        """(snarkjs proof, [commitment, root]) for the account (secret, salt), under setup ``key``."""
        import groth16py

        self._n += 1
        commitment = (secret * secret + salt) % R
        inp, wtns = self.workdir / f"in{self._n}.json", self.workdir / f"w{self._n}.wtns"
        inp.write_text(json.dumps({"account_commitment": str(commitment), "market_root": str(root),
                                   "secret": str(secret), "salt": str(salt)}))
        js = self.workdir / "two_public_js"
        run_node([js / "generate_witness.js", js / "two_public.wasm", inp, wtns], timeout=60, what="toy witness")
        return proof_from_bytes(groth16py.prove_wtns(self.keys[key][0], str(wtns))), [commitment, root]


def toy_tier(prover: ToyProver) -> TierInput:
    """One toy account proven against two consecutive roots (first setup, capacity TOY_CAPACITIES[0])."""
    secret, salt = secrets.randbelow(R), secrets.randbelow(R)
    out = [prover.prove(secret, salt, secrets.randbelow(R - 1) + 1) for _ in (1, 2)]
    return TierInput("toy", "toy-two_public", TOY_CAPACITIES[0], prover.vk, out[0][0], out[0][1], out[1][0], out[1][1])


def _account() -> tuple[int, int]:
    return secrets.randbelow(R - 1) + 1, secrets.randbelow(R)


def measure_batches(prover: ToyProver, sizes: Sequence[int] = BATCH_SIZES) -> list[dict[str, Any]]:
    """On a four-tier registry: ``proveSolvent`` in each tier slot and for an unaccepted tier
    (the tier lookup), ``proveSolventBatch`` per batch size (first tier, fresh accounts each,
    one root; the largest batch again in the last slot), and the missed-proof trigger."""
    root = secrets.randbelow(R - 1) + 1
    singles = [prover.prove(*_account(), root, key=k) for k in range(len(TOY_CAPACITIES))]
    batches = []
    for size in sizes:
        members = [prover.prove(*_account(), root) for _ in range(size)]
        batches.append(sorted(members, key=lambda m: m[1][0]))
    last = len(TOY_CAPACITIES) - 1
    last_batch = sorted((prover.prove(*_account(), root, key=last) for _ in range(max(sizes))), key=lambda m: m[1][0])
    missing = _account()
    missing_commitment = (missing[0] * missing[0] + missing[1]) % R
    s = EvmScript()
    reg = deploy_registry(s, list(zip(TOY_CAPACITIES, prover.vks))).registry
    accounts = [pub[0] for _, pub in singles] + [pub[0] for batch in (*batches, last_batch) for _, pub in batch]
    for i, commitment in enumerate([*accounts, missing_commitment]):
        s.call(f"register {i}", reg, encode_register_account("0x" + f"{i + 1:040x}", commitment))
    s.call("postMarketRoot", reg, encode_post_market_root(1, root, PROOF_WINDOW))
    for slot, (capacity, (proof, pub)) in enumerate(zip(TOY_CAPACITIES, singles)):
        s.call(f"proveSolvent (tier slot {slot + 1} of {len(TOY_CAPACITIES)})", reg,
               encode_prove_solvent(capacity, *proof_to_calldata(proof), pub[0]))
    s.call("proveSolvent (unaccepted tier: UnknownTier revert)", reg,
           encode_prove_solvent(TOY_CAPACITIES[0] + 1, *proof_to_calldata(singles[0][0]), singles[0][1][0]))
    for batch in batches:
        s.call(f"proveSolventBatch (N={len(batch)})", reg, encode_prove_solvent_batch(
            TOY_CAPACITIES[0], [proof_to_calldata(p) for p, _ in batch], [pub[0] for _, pub in batch]))
    s.call(f"proveSolventBatch (N={len(last_batch)}, tier slot {last + 1})", reg, encode_prove_solvent_batch(
        TOY_CAPACITIES[last], [proof_to_calldata(p) for p, _ in last_batch], [pub[0] for _, pub in last_batch]))
    s.call("isSolvent", reg, IS_SOLVENT_SELECTOR, [accounts[0]])
    s.call("markLiquidatable", reg, encode_mark_liquidatable(missing_commitment), advance_seconds=PROOF_WINDOW + 1)
    # malformed proofs (issue 25): a batch of fresh accounts with its last member broken, and a
    # single proof broken the same way, under a 10M gas limit
    bad_batch = sorted((prover.prove(*_account(), root) for _ in range(max(sizes))), key=lambda m: m[1][0])
    for i, (_, pub) in enumerate(bad_batch):
        s.call(f"register bad {i}", reg, encode_register_account("0x" + f"{i + 1001:040x}", pub[0]))
    for name, broken in MALFORMED.items():
        proofs = [proof_to_calldata(p) for p, _ in bad_batch]
        proofs[-1] = broken(*proofs[-1])
        s.call(f"proveSolventBatch (N={len(bad_batch)}, last member {name})", reg, encode_prove_solvent_batch(
            TOY_CAPACITIES[0], proofs, [pub[0] for _, pub in bad_batch]), gas_limit=MALFORMED_GAS_LIMIT)
        s.call(f"proveSolvent ({name})", reg, encode_prove_solvent(TOY_CAPACITIES[0], *broken(*proofs[0]),
                                                                 bad_batch[0][1][0]), gas_limit=MALFORMED_GAS_LIMIT)
    res = s.run()
    malformed = {label: res.pop(label) for label in [k for k in res if "last member" in k or "proveSolvent (" in k
                                                     and any(m in k for m in MALFORMED)]}
    unknown = res.pop("proveSolvent (unaccepted tier: UnknownTier revert)")
    if unknown.success or unknown.revert != "UnknownTier(uint256)":
        raise RuntimeError(f"toy: an unaccepted tier did not revert UnknownTier ({unknown.revert})")
    rows = _rows("toy", res, keep=lambda label: label.startswith(("proveSolvent", "markLiquidatable", "isSolvent")))
    rows.append({**_rows("toy", {unknown.label: replace(unknown, success=True)})[0], "reverted": "UnknownTier(uint256)"})
    for label, r in malformed.items():
        if r.success:
            raise RuntimeError(f"toy: {label} did not revert")
        rows.append({**_rows("toy", {label: replace(r, success=True)})[0], "reverted": r.revert})
    for row in rows:
        label = row["operation"]
        n = int(label.split("N=")[1].split(",")[0].rstrip(")")) if "N=" in label else 1
        row.update(batch_size=n, execution_gas_per_account=row["execution_gas"] // n,
                   tx_gas_per_account=row["tx_gas"] // n)
    return rows


def prover_tier(mode: str = "stress", account: str = "short_strangle") -> TierInput:
    """A real margin-circuit tier: the demo market at epochs e and e+1, proofs from ``zksolv.prover.prove``.

    The account commitment does not depend on the epoch, so both proofs are for
    the same registered account (development keys, cached like every tier).
    """
    from zksolv.prover.prove import prove
    from zksolv.app.demo import demo_market, demo_portfolios

    market = demo_market(risk_mode=mode, mc_scenarios=16)
    book = demo_portfolios(market)[account]
    first = prove(book, market)
    second = prove(book, replace(market, epoch=market.epoch + 1))
    return TierInput(first.statement.tier, first.statement.circuit_hash, first.statement.capacity,
                     first.verification_key, first.proof, first.public, second.proof, second.public)


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if set(args) - {"--toy"}:
        raise SystemExit("usage: bench_gas.py [--toy]")
    with tempfile.TemporaryDirectory(prefix="zksolv-gas-") as tmp:
        prover = ToyProver(Path(tmp))
        rows = measure_tier(toy_tier(prover))
        rows += measure_batches(prover)
    print_table(rows)
    print_batch_table(rows)
    write_json(rows)  # after every tier: a later failure keeps what was measured
    if "--toy" not in args:
        for mode in ("stress", "es", "var"):
            new = measure_tier(prover_tier(mode))
            print_table(new, header=False)
            rows += new
            write_json(rows)
    print(f"\nwritten {RESULTS}")


def print_batch_table(rows: list[dict[str, Any]]) -> None:
    """Batch size against gas per batch and per account."""
    batch = [r for r in rows if r["operation"].startswith("proveSolventBatch (N=") and "slot" not in r["operation"]
             and "reverted" not in r]
    if not batch:
        return
    print(f"\n{'batch':>5} {'exec gas':>11} {'per account':>12} {'tx gas':>11} {'tx/account':>11}")
    for r in batch:
        print(f"{r['batch_size']:>5} {r['execution_gas']:>11,} {r['execution_gas_per_account']:>12,} "
              f"{r['tx_gas']:>11,} {r['tx_gas_per_account']:>11,}")


if __name__ == "__main__":
    main()
