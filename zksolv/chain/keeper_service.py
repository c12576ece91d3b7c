"""The keeper service: each epoch verify the venue's submitted proofs off chain, submit the
valid ones in batches, mark the missed accounts after the deadline; state in SQLite.

Lives in :mod:`zksolv.chain` (not :mod:`verifier`): it needs web3 (the ``chain`` extra) and
the keeper's verification path must stay free of it; the off-chain check of one epoch is
:func:`zksolv.verifier.keeper.check_epoch`, the same as ``python -m zksolv.verifier.keeper``.

The venue folder is ``zksolv.verifier.keeper``'s (``accounts.json``: account -> registered
commitment; ``epochs/<epoch>/market.json`` and ``proofs/<account>/``). Accounts are the
registry's registered addresses (or any name the venue uses for the folder; the commitment
is what the chain knows).

Crash safety (SQLite, WAL, one transaction per state change):

- a verdict is written with its epoch in one transaction, before anything is sent;
- every chain transaction is recorded ``signed`` (hash, nonce, raw bytes) *before* it is
  broadcast; on restart a ``signed`` record is reconciled: mined (receipt) -> ``confirmed`` or
  ``reverted``; known to the node -> re-broadcast and wait; unknown and the signer's nonce has
  passed it -> ``dropped`` (reported; the work it carried is re-planned from the chain's
  state); unknown and the nonce is still free -> re-broadcast the same signed bytes (same hash);
  if the node refuses them (e.g. their max fee fell below the base fee) -> ``refused``
  (reported; the nonce is reused by the next send, so at most one of the two is mined, and the
  work is re-planned). So no transaction is sent twice and no work is assumed done without a
  receipt, and one stale journal entry cannot block every restart.

Verdicts: a ``valid`` verdict for the commitment an account still has is final; every other
account is checked again at each pass (a proof submitted later in the window is seen). A proof
folder that no longer reads, or an account re-registered since its verdict, is reported under
``skipped`` and the pass goes on with the others.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any, Mapping

from zksolv.verifier.calldata import encode_mark_liquidatable, encode_prove_solvent
from zksolv.verifier.keeper import check_epoch, load_registered
from zksolv.verifier.submissions import KeySet, read_listed_key
from zksolv.proofs.proof_io import load_verification_key
from zksolv.chain import registry as reg
from zksolv.chain.client import Chain
from zksolv.chain.errors import ChainError, RevertedError
from zksolv.chain.solidity import tier_keys_from_folder
from zksolv.core.errors import InputError
from zksolv.core.policy import check_policy
from zksolv.core.root_cache import load_market
from zksolv.proofs.keyset import check_key_set

SCHEMA = """
CREATE TABLE IF NOT EXISTS epochs (epoch INTEGER PRIMARY KEY, market_root TEXT NOT NULL, checked_at REAL NOT NULL,
                                   submitted INTEGER NOT NULL DEFAULT 0, marked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS verdicts (epoch INTEGER NOT NULL, account TEXT NOT NULL, commitment TEXT NOT NULL,
                                     status TEXT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (epoch, account));
CREATE TABLE IF NOT EXISTS txs (tx_hash TEXT PRIMARY KEY, nonce INTEGER NOT NULL, epoch INTEGER NOT NULL,
                                what TEXT NOT NULL, raw BLOB NOT NULL, state TEXT NOT NULL,
                                gas_used INTEGER, block INTEGER, error TEXT, sent_at REAL NOT NULL);
"""


def open_db(path: str | Path) -> sqlite3.Connection:
    """The keeper's database (created if absent), WAL journal, synchronous FULL."""
    db = sqlite3.connect(str(path), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(SCHEMA)
    return db


def _pinned_tier_keys(folder: Path, tiers: list[Any], deployment: reg.Deployment, pin: str) -> dict[int, Any]:
    """The tier keys of the key set pinned by ``pin`` (its manifest's sha256), each read once and
    checked against the manifest; :class:`InputError` when the manifest is not the pinned one, a key
    file differs from its manifest entry, or the deployment records another key for a tier."""
    manifest = check_key_set(folder, {}, key_set_sha256=pin)  # the manifest (and transcript) pinned
    recorded = {row["capacity"]: row["vk_sha256"] for row in deployment.tiers}
    keys = {}
    for t in tiers:
        row = manifest["keys"].get(t.tier or "")
        if row is None:
            raise InputError(f"--keys: tier {t.capacity} is not in the pinned key set's manifest")
        if recorded.get(t.capacity) != row["verification_key_sha256"]:
            raise InputError(f"--deploy {deployment.path}: tier {t.capacity}'s verifier was deployed for another key "
                             "than the pinned key set's")
        keys[t.capacity] = read_listed_key(folder / row["verification_key"], row["verification_key_sha256"])
    return keys


class Keeper:
    """One keeper: a venue folder, a deployment, a chain connection, a database."""

    #: Whether market roots come from the keeper's root cache (:mod:`zksolv.core.root_cache`).
    use_cache: bool = True

    def __init__(self, venue: Path, deployment: reg.Deployment, chain: Chain, db: sqlite3.Connection | str | Path,
                 keys_dir: Path, backend: str = "python", policy: Mapping[str, Any] | None = None,
                 use_cache: bool = True, key_set_sha256: str | None = None) -> None:
        """``db``: an open connection, or the database's path, opened only after every check passed
        (so a refused start leaves no file behind). ``policy``: the venue's risk policy this keeper
        pinned (:mod:`zksolv.core.policy`): an epoch whose market applies another raises
        :class:`InputError` before any verdict, submission or mark for it. ``use_cache``: False
        recomputes each epoch's market root at every pass instead of reading the keeper's root
        cache (:mod:`zksolv.core.root_cache`). ``key_set_sha256``: the key set digest `zksolv ceremony
        verify` printed (:func:`zksolv.proofs.keyset.key_set_sha256`): the folder's manifest must hash
        to it, each tier key this keeper verifies with is the file's bytes read once and checked
        against the manifest, and the deployment must record those very keys (refused otherwise,
        before any work)."""
        self.venue, self.deployment, self.chain = Path(venue), deployment, chain
        if not (self.venue / "accounts.json").is_file():
            raise InputError(f"--venue {self.venue}: no accounts.json (account -> registered commitment)")
        tiers, _ = tier_keys_from_folder(keys_dir)
        # a pinned key set first (the folder is the keeper's own), then the chain
        pinned = _pinned_tier_keys(Path(keys_dir), tiers, deployment, key_set_sha256) if key_set_sha256 else None
        # a deploy.json for other keys, or verifiers that are not these keys': refused before any work
        reg.check_verifier_code(chain, deployment, tiers)
        # the keys of the verifiers checked above, by tier: the registry takes single-circuit proofs only
        vks = pinned or {t.capacity: load_verification_key(Path(t.vk_path)) for t in tiers}
        self.keys = KeySet.from_tiers(vks, names={t.capacity: t.tier for t in tiers if t.tier is not None})
        self.backend = backend
        self.policy = dict(policy) if policy is not None else None
        self.use_cache = use_cache
        self.db = db if isinstance(db, sqlite3.Connection) else open_db(db)

    # ------------------------------------------------------------------ journal

    def _journal(self, epoch: int, what: str):
        def record(tx_hash: str, nonce: int, raw: bytes) -> None:
            with self.db:
                self.db.execute("INSERT INTO txs (tx_hash, nonce, epoch, what, raw, state, sent_at) "
                                "VALUES (?, ?, ?, ?, ?, 'signed', ?)", (tx_hash, nonce, epoch, what, raw, time.time()))
        return record

    def _settle(self, tx_hash: str, what: str) -> str:
        try:
            sent = self.chain.wait(tx_hash, what)
        except RevertedError as exc:
            with self.db:
                self.db.execute("UPDATE txs SET state='reverted', error=? WHERE tx_hash=?", (exc.error, tx_hash))
            return "reverted"
        with self.db:
            self.db.execute("UPDATE txs SET state='confirmed', gas_used=?, block=? WHERE tx_hash=?",
                            (sent.gas_used, sent.block, tx_hash))
        return "confirmed"

    def reconcile(self) -> list[dict[str, Any]]:
        """Settle every transaction recorded ``signed`` but not known mined (after a crash)."""
        out = []
        rows = self.db.execute("SELECT tx_hash, nonce, what, raw FROM txs WHERE state='signed' ORDER BY nonce").fetchall()
        for tx_hash, nonce, what, raw in rows:
            if self.chain.receipt(tx_hash) is None and not self.chain.known(tx_hash):
                mined_nonce = self.chain.w3.eth.get_transaction_count(self.chain.address, "latest")
                if mined_nonce > nonce:  # another tx took the nonce: ours can never be mined
                    with self.db:
                        self.db.execute("UPDATE txs SET state='dropped', error='nonce used by another transaction' "
                                        "WHERE tx_hash=?", (tx_hash,))
                    out.append({"tx": tx_hash, "what": what, "state": "dropped"})
                    continue
                try:
                    self.chain.broadcast(bytes(raw), tx_hash)  # the same signed bytes: the same hash
                except ChainError as exc:
                    # the node refuses the bytes (e.g. max fee now below the base fee): never mined
                    # as long as nobody re-broadcasts them; its nonce is reused by the next send,
                    # so at most one of the two is ever mined, and the work is re-planned from
                    # the chain's state (proofs already recorded are skipped, marks AlreadyMarked)
                    with self.db:
                        self.db.execute("UPDATE txs SET state='refused', error=? WHERE tx_hash=?",
                                        (str(exc)[:500], tx_hash))
                    out.append({"tx": tx_hash, "what": what, "state": "refused", "error": str(exc)})
                    continue
            out.append({"tx": tx_hash, "what": what, "state": self._settle(tx_hash, what)})
        return out

    def _send(self, epoch: int, data: bytes, what: str) -> dict[str, Any]:
        """Send one transaction through the journal; a simulation that reverts sends nothing and
        is reported (``refused`` with the error's name); the next pass re-plans from the chain."""
        try:
            tx = self.chain.build(self.deployment.registry, data, what)
        except RevertedError as exc:
            return {"what": what, "state": "refused", "error": exc.error}
        tx_hash, raw = self.chain.sign(tx)
        self._journal(epoch, what)(tx_hash, int(tx["nonce"]), raw)
        self.chain.broadcast(raw, tx_hash)
        return {"tx": tx_hash, "what": what, "state": self._settle(tx_hash, what)}

    # ------------------------------------------------------------------ one epoch

    def verdicts(self, epoch_dir: Path, registered: dict[str, int]) -> tuple[int, dict[str, tuple[str, str]]]:
        """The epoch's verdicts. A ``valid`` verdict for the commitment an account still has is
        final (kept from the database); every other account (no proof yet, an invalid one, newly
        registered or re-registered) is checked again at each pass, so a proof submitted later
        in its window is seen. Recorded in one transaction."""
        market = load_market(epoch_dir / "market.json", use_cache=self.use_cache)  # its root: once per file
        if self.policy is not None:
            check_policy(market, self.policy)
        rows = self.db.execute("SELECT account, commitment, status, reason FROM verdicts WHERE epoch=?",
                               (market.epoch,)).fetchall()
        known = {a: (c, s, r) for a, c, s, r in rows}
        final = {a: (s, r) for a, (c, s, r) in known.items()
                 if s == "valid" and a in registered and c == str(registered[a])}
        recheck = {a: c for a, c in registered.items() if a not in final}
        verdicts = dict(final)
        if recheck or not known:
            report = check_epoch(epoch_dir, recheck, backend=self.backend, keys=self.keys, market=market)
            fresh = {a: ("valid", "valid") for a in report.valid}
            fresh.update({a: ("invalid", r) for a, r in report.invalid.items()})
            fresh.update({a: ("missing", "no proof submitted") for a in report.missing})
            fresh = {a: v for a, v in fresh.items() if a in recheck}
            from zksolv.core.commitments import market_root

            with self.db:
                self.db.execute("INSERT OR IGNORE INTO epochs (epoch, market_root, checked_at) VALUES (?, ?, ?)",
                                (market.epoch, str(market_root(market)), time.time()))
                self.db.execute("UPDATE epochs SET checked_at=? WHERE epoch=?", (time.time(), market.epoch))
                self.db.executemany("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?)",
                                    [(market.epoch, a, str(recheck[a]), s, r) for a, (s, r) in fresh.items()])
            verdicts.update(fresh)
        return market.epoch, verdicts

    def run_epoch(self, epoch_dir: Path) -> dict[str, Any]:
        """Verify, submit the valid proofs (batches), and after the deadline mark the missed."""
        out: dict[str, Any] = {"reconciled": self.reconcile()}
        registered = load_registered(self.venue)
        epoch, verdicts = self.verdicts(epoch_dir, registered)
        out["epoch"] = epoch
        out["valid"] = sorted(a for a, (s, _) in verdicts.items() if s == "valid")
        chain_epoch, root, _ = reg.current_epoch(self.chain, self.deployment)
        if chain_epoch != epoch:
            out["note"] = f"the registry is at epoch {chain_epoch}: nothing sent for epoch {epoch}"
            return out
        skipped: dict[str, str] = {}
        proofs = []
        for account in out["valid"]:
            # the folder is read again (a valid verdict is final): one that no longer reads, or no
            # longer states the registered commitment and the current root, was rewritten since its
            # verdict; it is reported, never submitted, and never stops the others (a duplicate
            # commitment or another root used to abort the whole pass)
            try:
                p = reg.read_proof_folder(epoch_dir / "proofs" / account, self.deployment.capacities())
            except InputError as exc:
                skipped[account] = f"proof folder no longer reads: {exc}"
                continue
            if p.commitment != registered.get(account) or p.root != root:
                skipped[account] = ("proof folder rewritten since its verdict: it no longer states the registered "
                                    "commitment and the current market root; not submitted")
                continue
            twin = next((q.label for q in proofs if q.commitment == p.commitment), None)
            if twin is not None:  # accounts.json lists one commitment twice (stale): one proof records it
                skipped[account] = f"same registered commitment as {twin} (accounts.json): submitted once"
                continue
            proofs.append(p)
        todo = reg.pending_proofs(self.chain, self.deployment, proofs, skipped)
        out["skipped"] = skipped
        out["sent"], out["refused_members"] = [], {}
        for batch in reg.plan_batches(todo):
            out["sent"].extend(self._send_batch(epoch, batch, out["refused_members"]))
        marks, refused = reg.markable(self.chain, self.deployment)
        for account, commitment in marks:
            out["sent"].append(self._send(epoch, encode_mark_liquidatable(commitment), f"markLiquidatable({account})"))
        out["not_marked"] = refused
        return out

    def _send_batch(self, epoch: int, batch: list[Any], refused: dict[str, str]) -> list[dict[str, Any]]:
        """Send one batch; if the registry refuses it (simulated), find the members it refuses alone
        (each one's ``proveSolvent`` simulated), record them in ``refused`` (label -> error), drop
        their verdicts (checked again next pass) and send the rest; if that batch is refused too, or
        no member is refused alone, each of the rest goes alone (``proveSolvent``). One member whose proof fails on
        chain (its folder rewritten with a proof that passes the folder checks but not the pairing,
        or anything the off-chain check does not see) would otherwise make every pass's batch
        revert, and every other member would miss its deadline and be marked by this keeper."""
        sent = [self._send(epoch, reg.batch_calldata(batch), f"proveSolventBatch({len(batch)})")]
        if sent[0].get("state") != "refused":
            return sent
        keep = []
        for p in batch:
            why = reg.refusal_of(self.chain, self.deployment, p)
            if why is None:
                keep.append(p)
            else:
                refused[p.label] = why
        if refused:
            with self.db:
                self.db.executemany("UPDATE verdicts SET status='invalid', reason=? WHERE epoch=? AND account=?",
                                    [(f"refused on chain: {why}", epoch, a) for a, why in refused.items()])
        if keep and len(keep) < len(batch):
            sent.append(self._send(epoch, reg.batch_calldata(keep), f"proveSolventBatch({len(keep)})"))
            if sent[-1].get("state") != "refused":
                return sent
        # no member is refused alone, yet their batch is (its gas over the node's or the block's cap, a
        # repricing of the batch verifier's capped precompiles): sending it again would send nothing at
        # every pass, and this keeper would mark them all at the deadline. Each goes alone (simulated
        # first by _send, so a refusal costs no gas; an attacker cannot reach this path, since a member
        # valid alone keeps a batch of valid members valid)
        for p in keep:
            sent.append(self._send(epoch, encode_prove_solvent(p.tier, p.a, p.b, p.c, p.commitment),
                                   f"proveSolvent({p.label})"))
        return sent

    def run_once(self) -> list[dict[str, Any]]:
        """One pass over every epoch folder, oldest first."""
        epochs = self.venue / "epochs"
        dirs = sorted(p for p in epochs.iterdir() if (p / "market.json").is_file()) if epochs.is_dir() else []
        return [self.run_epoch(d) for d in dirs]

    def transactions(self) -> list[dict[str, Any]]:
        """Every recorded transaction (hash, nonce, epoch, what, state, gas, error)."""
        cols = ("tx_hash", "nonce", "epoch", "what", "state", "gas_used", "block", "error")
        return [dict(zip(cols, r)) for r in self.db.execute(f"SELECT {', '.join(cols)} FROM txs ORDER BY nonce")]
