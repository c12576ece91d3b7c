"""The venue's and keeper's operations on a deployed SolvencyRegistry (the ``chain`` extra).

``deploy`` writes the deployment record (``deploy.json``: chain id, block, the registry's and
every tier's verifier addresses, the key set's hashes; written atomically) that every other
operation reads back and checks against the chain (chain id, the registry's code, its
``acceptedTiers()`` against the record). Marks are read through the
registry's ``liquidatableEpoch`` view, by :func:`account_marks` only.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from zksolv.verifier.calldata import (
    ACCEPTED_TIERS_SELECTOR,
    decode_accepted_tiers,
    encode_mark_liquidatable,
    encode_post_market_root,
    encode_prove_solvent,
    encode_prove_solvent_batch,
    encode_register_account,
    encode_words,
    proof_to_calldata,
    public_to_calldata,
)
from zksolv.core.atomic import atomic_write_text
from zksolv.chain.client import Chain, Sent
from zksolv.chain.errors import RevertedError
from zksolv.chain.evm import SOLC_VERSION, CompiledContract, compile_solidity
from zksolv.chain.solidity import (
    BATCH_VERIFIER_CONTRACT,
    REGISTRY_CONTRACT,
    VERIFIER_CONTRACT,
    TierKey,
    _check_tier_set,
    _read_vk,
    registry_source,
    verifier_sources,
)
from zksolv.core.errors import InputError

#: Most proofs one ``proveSolventBatch`` transaction carries.
MAX_BATCH = 32
#: Format tag of the deployment record.
RECORD_FORMAT = "zksolv-deployment/1"

Journal = Callable[[str, int, bytes], None]


def registry_contract() -> CompiledContract:
    """The compiled SolvencyRegistry (ABI, errors, events)."""
    return compile_solidity(registry_source())[REGISTRY_CONTRACT]


def key_set_sha256(vk_hashes: Iterable[tuple[int, str]]) -> str:
    """One hash of a key set: sha256 over ``capacity:vk_sha256`` lines in increasing capacity."""
    return hashlib.sha256("".join(f"{c}:{h}\n" for c, h in sorted(vk_hashes)).encode()).hexdigest()


@dataclass(frozen=True)
class Deployment:
    """A deployment record (``deploy.json``)."""

    chain_id: int
    registry: str
    venue: str
    block: int
    tiers: tuple[dict[str, Any], ...]  # capacity, tier, vk_sha256, verifier, batch_verifier
    key_set_sha256: str
    path: Path | None = None

    def to_json(self) -> dict[str, Any]:
        return {"format": RECORD_FORMAT, "chain_id": self.chain_id, "registry": self.registry, "venue": self.venue,
                "block": self.block, "key_set_sha256": self.key_set_sha256, "tiers": list(self.tiers)}

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "Deployment":
        """Read ``deploy.json`` (InputError naming the file and field for anything malformed)."""
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"--deploy {p}: cannot read ({exc.strerror})") from None
        except ValueError:
            raise InputError(f"--deploy {p}: not valid JSON") from None
        if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
            raise InputError(f"--deploy {p}: not a zksolv deployment record (format {RECORD_FORMAT!r}; "
                             "`zksolv chain deploy` writes it; export-solidity's deploy.json is a deploy note)")
        try:
            tiers = tuple({"capacity": int(t["capacity"]), "tier": t.get("tier"), "vk_sha256": str(t["vk_sha256"]),
                           "verifier": str(t["verifier"]), "batch_verifier": str(t["batch_verifier"])}
                          for t in data["tiers"])
            return cls(int(data["chain_id"]), str(data["registry"]), str(data["venue"]), int(data["block"]), tiers,
                       str(data["key_set_sha256"]), p)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"--deploy {p}: missing or malformed field {exc}") from None

    def capacities(self) -> list[int]:
        return [t["capacity"] for t in self.tiers]

    def check_keys(self, tiers: Sequence[TierKey]) -> None:
        """Refuse a deployment made for another key set than ``tiers`` (InputError naming the tier)."""
        mine = {t.capacity: hashlib.sha256(_read_vk(Path(t.vk_path))[0]).hexdigest() for t in tiers}
        theirs = {t["capacity"]: t["vk_sha256"] for t in self.tiers}
        if mine != theirs:
            differ = sorted(c for c in set(mine) | set(theirs) if mine.get(c) != theirs.get(c))
            raise InputError(f"--deploy {self.path}: deployed for another key set (tiers {differ} differ from --keys)")


def _compiled_verifiers(t: TierKey) -> tuple[str, dict[str, CompiledContract]]:
    """(vk sha256, the two compiled verifiers of tier ``t``), rendered exactly as :func:`deploy` does."""
    data, vk = _read_vk(Path(t.vk_path))
    digest = hashlib.sha256(data).hexdigest()
    return digest, compile_solidity(verifier_sources(vk, circuit_hash=t.circuit_hash, tier=t.tier,
                                                     vk_sha256=None if t.circuit_hash else digest,
                                                     capacity=t.capacity))


def check_verifier_code(chain: Chain, deployment: Deployment, tiers: Sequence[TierKey]) -> None:
    """Refuse a registry whose verifiers' runtime code is not what ``tiers``' keys compile to
    (the record's key hashes are only a claim; the code on chain is what checks proofs)."""
    deployment.check_keys(tiers)
    by_capacity = {t.capacity: t for t in tiers}
    for row in deployment.tiers:
        _, compiled = _compiled_verifiers(by_capacity[row["capacity"]])
        for field_name, contract in (("verifier", VERIFIER_CONTRACT), ("batch_verifier", BATCH_VERIFIER_CONTRACT)):
            code = bytes(chain.w3.eth.get_code(row[field_name]))
            if code != compiled[contract].deployed_bytecode:
                raise InputError(f"--deploy {deployment.path}: the {contract} of tier {row['capacity']} at "
                                 f"{row[field_name]} is not the one its key compiles to (solc {SOLC_VERSION})")


def open_chain(url: str, deployment: Deployment, **kwargs: Any) -> Chain:
    """Connect to ``url``, check the chain id and that the registry in ``deployment`` is there
    with the recorded tiers; the chain decodes the registry's errors by name."""
    chain = Chain(url, expected_chain_id=deployment.chain_id, **kwargs)
    chain.learn_errors(registry_contract().errors)
    if not chain.w3.eth.get_code(deployment.registry):  # type: ignore[arg-type]
        raise InputError(f"--deploy {deployment.path}: no contract at {deployment.registry} on chain {chain.chain_id}")
    on_chain = decode_accepted_tiers(chain.call(deployment.registry, ACCEPTED_TIERS_SELECTOR, "acceptedTiers()"))
    recorded = [(t["capacity"], t["verifier"].lower(), t["batch_verifier"].lower()) for t in deployment.tiers]
    if [(c, v.lower(), b.lower()) for c, v, b in on_chain] != recorded:
        raise InputError(f"--deploy {deployment.path}: the registry at {deployment.registry} accepts other tiers "
                         f"than the record ({[t[0] for t in on_chain]})")
    return chain


def deploy(chain: Chain, tiers: Sequence[TierKey], out: str | os.PathLike[str]) -> tuple[Deployment, list[dict[str, Any]]]:
    """Deploy each tier's verifier and batch verifier, then the registry (the signer is the
    venue), and write the deployment record to ``out`` (atomically, after the last receipt).
    Returns the record and one row per transaction (what, hash, gas used)."""
    from zksolv.chain.client import Web3

    ordered = _check_tier_set(tiers)
    registry = registry_contract()
    chain.learn_errors(registry.errors)
    rows: list[dict[str, Any]] = []
    members = []
    recorded = []
    for t in ordered:
        digest, compiled = _compiled_verifiers(t)
        addresses = []
        for name in (VERIFIER_CONTRACT, BATCH_VERIFIER_CONTRACT):
            sent = chain.send(None, compiled[name].bytecode, f"deploy {name} n{t.capacity}")
            receipt = chain.receipt(sent.tx_hash)
            addresses.append(Web3.to_checksum_address(receipt["contractAddress"]))
            rows.append({"what": f"deploy {name} n{t.capacity}", "tx": sent.tx_hash, "gas_used": sent.gas_used})
        members.append((t.capacity, *addresses))
        recorded.append({"capacity": t.capacity, "tier": t.tier, "vk_sha256": digest,
                         "verifier": addresses[0], "batch_verifier": addresses[1]})
    from eth_abi import encode

    args = encode(["(uint256,address,address)[]"], [members])
    sent = chain.send(None, registry.bytecode + args, f"deploy {REGISTRY_CONTRACT}")
    address = Web3.to_checksum_address(chain.receipt(sent.tx_hash)["contractAddress"])
    rows.append({"what": f"deploy {REGISTRY_CONTRACT}", "tx": sent.tx_hash, "gas_used": sent.gas_used})
    record = Deployment(chain.chain_id, address, chain.address, sent.block, tuple(recorded),
                        key_set_sha256((r["capacity"], r["vk_sha256"]) for r in recorded), Path(out))
    atomic_write_text(Path(out), json.dumps(record.to_json(), indent=1) + "\n")
    return record, rows


# ---------------------------------------------------------------------- views


def view(chain: Chain, deployment: Deployment, signature: str, *args: int) -> int:
    """A registry view returning one word, as an integer (``view(c, d, "lastSolventEpoch(uint256)", x)``)."""
    from eth_utils import function_signature_to_4byte_selector

    data = function_signature_to_4byte_selector(signature) + encode_words(list(args))
    return int.from_bytes(chain.call(deployment.registry, data, signature)[:32], "big")


def current_epoch(chain: Chain, deployment: Deployment) -> tuple[int, int, int]:
    """(epoch, root, proof deadline) of the registry now."""
    return (view(chain, deployment, "currentEpoch()"), view(chain, deployment, "currentRoot()"),
            view(chain, deployment, "proofDeadline()"))


def is_solvent(chain: Chain, deployment: Deployment, commitment: int) -> bool:
    """``isSolvent(commitment)``: proven against the current root."""
    return view(chain, deployment, "isSolvent(uint256)", commitment) == 1


def is_registered(chain: Chain, deployment: Deployment, commitment: int) -> bool:
    """``isRegistered(commitment)``."""
    return view(chain, deployment, "isRegistered(uint256)", commitment) == 1


def events(chain: Chain, deployment: Deployment, name: str) -> list[dict[str, Any]]:
    """Every ``name`` event of the registry since its deployment block, decoded (args + block, tx)."""
    contract = chain.w3.eth.contract(address=deployment.registry, abi=registry_contract().abi)  # type: ignore[arg-type]
    logs = getattr(contract.events, name)().get_logs(from_block=deployment.block, to_block="latest")
    return [{**dict(log["args"]), "block": int(log["blockNumber"]), "tx": "0x" + bytes(log["transactionHash"]).hex()}
            for log in logs]


def registered_accounts(chain: Chain, deployment: Deployment) -> dict[str, int]:
    """account -> its current commitment, from ``AccountRegistered`` events (the last one per
    account wins; a re-registration replaces the commitment)."""
    out: dict[str, int] = {}
    for ev in events(chain, deployment, "AccountRegistered"):
        out[str(ev["account"])] = int(ev["commitment"])
    return out


def account_marks(chain: Chain, deployment: Deployment) -> dict[int, int]:
    """commitment -> the last epoch it was marked liquidatable in (0 = never: left out), for every
    commitment currently registered, read from the registry's ``liquidatableEpoch`` view.

    The one place marks are read. The view, not the ``Liquidatable`` events, is the state: a
    log query can be cut short by a node's range limits, a view cannot.
    """
    out: dict[int, int] = {}
    for commitment in set(registered_accounts(chain, deployment).values()):
        epoch = view(chain, deployment, "liquidatableEpoch(uint256)", commitment)
        if epoch:
            out[commitment] = epoch
    return out


def status(chain: Chain, deployment: Deployment) -> dict[str, Any]:
    """The registry now: epoch, root, deadline, block time, accounts registered / proven / marked."""
    epoch, root, deadline = current_epoch(chain, deployment)
    accounts = registered_accounts(chain, deployment)
    marks = account_marks(chain, deployment)
    proven = [a for a, c in accounts.items() if root and is_solvent(chain, deployment, c)]
    marked = [a for a, c in accounts.items() if epoch and marks.get(c) == epoch]
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    return {"chain_id": chain.chain_id, "registry": deployment.registry, "venue": deployment.venue,
            "tiers": deployment.capacities(), "epoch": epoch, "market_root": str(root), "proof_deadline": deadline,
            "block_time": now, "window_open": bool(epoch) and now <= deadline, "registered": len(accounts),
            "proven_this_epoch": len(proven), "marked_this_epoch": len(marked)}


# ---------------------------------------------------------------------- venue


def post_root(chain: Chain, deployment: Deployment, epoch: int, root: int, window: int,
              journal: Journal | None = None) -> Sent:
    """``postMarketRoot(epoch, root, window)`` (the venue's signer)."""
    from zksolv.verifier.calldata import MAX_PROOF_WINDOW, MIN_PROOF_WINDOW

    if not MIN_PROOF_WINDOW <= window <= MAX_PROOF_WINDOW:
        raise InputError(f"--window: expected {MIN_PROOF_WINDOW} to {MAX_PROOF_WINDOW} seconds (the registry's "
                         f"MIN_PROOF_WINDOW and MAX_PROOF_WINDOW), got {window}")
    return chain.send(deployment.registry, encode_post_market_root(epoch, root, window),
                      f"postMarketRoot(epoch {epoch})", journal)


def register(chain: Chain, deployment: Deployment, account: str, commitment: int,
             journal: Journal | None = None) -> Sent:
    """``registerAccount(account, commitment)`` (the venue's signer)."""
    from zksolv.chain.client import Web3

    if not Web3.is_address(account):
        raise InputError(f"--account: not an Ethereum address: {account!r}")
    return chain.send(deployment.registry, encode_register_account(account, commitment),
                      f"registerAccount({account})", journal)


# ---------------------------------------------------------------------- proofs


@dataclass
class ProofToSubmit:
    """One account's proof, ready for a batch: its tier, commitment, calldata and folder."""

    tier: int
    commitment: int
    root: int
    a: list[int]
    b: list[list[int]]
    c: list[int]
    label: str = ""


def read_proof_folder(folder: Path, capacities: Sequence[int]) -> ProofToSubmit:
    """A proof folder (``proof.json``, ``public.json`` [, ``statement.json``]) as a batch member;
    the tier is the statement's circuit capacity, or the registry's only tier."""
    from zksolv.proofs.proof_io import PROOF_FILE, PUBLIC_FILE, load_proof, load_public
    from zksolv.proofs.circuit_names import parse_tier_name
    from zksolv.proofs.statement import STATEMENT_FILE, Statement

    proof = load_proof(folder / PROOF_FILE)
    public = public_to_calldata(load_public(folder / PUBLIC_FILE))
    a, b, c = proof_to_calldata(proof)
    statement_path = folder / STATEMENT_FILE
    if statement_path.exists():
        tier = parse_tier_name(Statement.load(statement_path).tier, f"{statement_path}: tier").n_positions
    elif len(capacities) == 1:
        tier = capacities[0]
    else:
        raise InputError(f"{folder}: no {STATEMENT_FILE} to name the tier, and the registry accepts {list(capacities)}")
    if tier not in capacities:
        raise InputError(f"{folder}: tier {tier} is not one the registry accepts ({list(capacities)})")
    return ProofToSubmit(tier, public[0], public[1], a, b, c, folder.name)


def plan_batches(proofs: Sequence[ProofToSubmit], max_batch: int = MAX_BATCH) -> list[list[ProofToSubmit]]:
    """Batches of one tier each, commitments strictly increasing, at most ``max_batch`` each."""
    if not 1 <= max_batch <= MAX_BATCH:
        raise InputError(f"batch size: 1 to {MAX_BATCH}, got {max_batch}")
    batches = []
    for tier in sorted({p.tier for p in proofs}):
        members = sorted((p for p in proofs if p.tier == tier), key=lambda p: p.commitment)
        for i in range(len(members) - 1):
            if members[i].commitment == members[i + 1].commitment:
                raise InputError(f"proofs {members[i].label} and {members[i + 1].label}: the same commitment twice")
        batches.extend(members[i:i + max_batch] for i in range(0, len(members), max_batch))
    return batches


def batch_calldata(batch: Sequence[ProofToSubmit]) -> bytes:
    """``proveSolventBatch(tier, proofs, commitments)`` of one planned batch."""
    return encode_prove_solvent_batch(batch[0].tier, [(p.a, p.b, p.c) for p in batch], [p.commitment for p in batch])


def pending_proofs(chain: Chain, deployment: Deployment, proofs: Sequence[ProofToSubmit],
                   skipped: dict[str, str] | None = None) -> list[ProofToSubmit]:
    """The proofs still to record: for the current root (else InputError naming the folder),
    of a registered commitment, not already proven against the current root.

    ``skipped``: if given, a proof whose commitment is no longer registered (its account was
    re-registered since) is left out and reported there (label -> why) instead of raising, so
    one account that traded does not stop everyone else's proofs (the keeper's pass)."""
    _, root, _ = current_epoch(chain, deployment)
    if root == 0:
        raise InputError("the registry has no market root yet (zksolv chain post-root)")
    out = []
    for p in proofs:
        if p.root != root:
            raise InputError(f"proof {p.label}: for market root {p.root}, the registry's current root is {root} "
                             "(a proof folder of another market root or epoch)")
        if is_solvent(chain, deployment, p.commitment):
            continue
        if not is_registered(chain, deployment, p.commitment):
            if skipped is not None:
                skipped[p.label] = "commitment no longer registered (account re-registered since)"
                continue
            raise InputError(f"proof {p.label}: its account commitment is not registered on the registry "
                             "(never, or replaced by a re-registration)")
        out.append(p)
    return out


def refusal_of(chain: Chain, deployment: Deployment, proof: ProofToSubmit) -> str | None:
    """The error the registry would revert ``proveSolvent`` of this one proof with (simulated, nothing
    sent), or None if it would record it (``AlreadyProven`` counts as recorded)."""
    try:
        chain._simulate({"from": chain.address, "to": deployment.registry,
                         "data": "0x" + encode_prove_solvent(proof.tier, proof.a, proof.b, proof.c,
                                                             proof.commitment).hex()},
                        f"proveSolvent({proof.label})")
    except RevertedError as exc:
        return None if exc.error.startswith("AlreadyProven") else exc.error
    return None


def submit(chain: Chain, deployment: Deployment, proofs_dir: str | os.PathLike[str],
           journal: Journal | None = None, max_batch: int = MAX_BATCH) -> list[dict[str, Any]]:
    """Submit every proof folder under ``proofs_dir`` not yet recorded: one-tier batches, sorted,
    at most ``max_batch`` a transaction. Returns one row per transaction (tier, proofs, tx, gas)."""
    folder = Path(proofs_dir)
    if not folder.is_dir():
        raise InputError(f"--proofs: {folder} is not a folder")
    subs = sorted(p for p in folder.iterdir() if p.is_dir())
    if not subs:
        raise InputError(f"--proofs: {folder} holds no proof folder")
    proofs = [read_proof_folder(p, deployment.capacities()) for p in subs]
    todo = pending_proofs(chain, deployment, proofs)
    rows = []
    for batch in plan_batches(todo, max_batch):
        sent = chain.send(deployment.registry, batch_calldata(batch),
                          f"proveSolventBatch(tier {batch[0].tier}, {len(batch)} proofs)", journal)
        rows.append({"tier": batch[0].tier, "proofs": len(batch), "tx": sent.tx_hash, "block": sent.block,
                     "gas_used": sent.gas_used, "gas_per_proof": sent.gas_used // len(batch)})
    return rows


# ---------------------------------------------------------------------- marks


def markable(chain: Chain, deployment: Deployment) -> tuple[list[tuple[str, int]], dict[str, str]]:
    """The registered accounts to mark now, each simulated first (the registry decides: after
    the current deadline for the current epoch, and while the current window is open for the
    previous epoch's non-provers); and the others the registry would refuse, with the error's name."""
    epoch, root, deadline = current_epoch(chain, deployment)
    if epoch == 0:
        return [], {}
    # no early return while the current window is open: that is exactly when the registry lets
    # the previous epoch's non-provers be marked (the simulation below is the registry's answer)
    marks = account_marks(chain, deployment)
    todo, refused = [], {}
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    if now <= deadline:  # the current epoch's non-provers: not yet (said once)
        refused["*"] = f"ProofWindowOpen({deadline})"
    for account, commitment in sorted(registered_accounts(chain, deployment).items()):
        if marks.get(commitment) == epoch or not is_registered(chain, deployment, commitment):
            continue
        if is_solvent(chain, deployment, commitment):
            continue
        try:
            chain._simulate({"from": chain.address, "to": deployment.registry,
                             "data": "0x" + encode_mark_liquidatable(commitment).hex()}, "markLiquidatable")
        except RevertedError as exc:
            refused[account] = exc.error
            continue
        todo.append((account, commitment))
    return todo, refused


def mark(chain: Chain, deployment: Deployment, journal: Journal | None = None) -> list[dict[str, Any]]:
    """Mark every registered account without a proof after the deadline (one transaction each)."""
    todo, refused = markable(chain, deployment)
    rows = [{"account": a, "skipped": why} for a, why in refused.items()]
    for account, commitment in todo:
        sent = chain.send(deployment.registry, encode_mark_liquidatable(commitment),
                          f"markLiquidatable({account})", journal)
        rows.append({"account": account, "commitment": str(commitment), "tx": sent.tx_hash, "gas_used": sent.gas_used})
    return rows
