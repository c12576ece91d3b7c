"""The keeper's trust and its reading of proof folders: which verification key checks which
submission, and what a submitted folder holds.

Shared by ``zksolv verify``, the library keeper (``python -m zksolv.verifier.keeper``) and the
keeper service (``zksolv keeper run``), so all three refuse the same folders for the same reasons.

A :class:`KeySet` says where a keeper's keys come from:

- :meth:`KeySet.from_folder`: the venue's key set (``--keys DIR``), one ``<circuit name>.json``
  per accepted tier, chunk size and the final circuit, tied to the circuits of the market's
  shape by its ``manifest.json`` (:func:`zksolv.proofs.keyset.check_key_set`, run for every
  market it serves: every accepted tier and chunked books);
- :meth:`KeySet.from_file`: one key (``--vk FILE``), whatever the circuit (no chunked books);
- :meth:`KeySet.from_tiers`: keys already trusted by position capacity (e.g. the verifiers
  the keeper service checked on chain);
- :meth:`KeySet.dev`: this machine's own development setup (NOT FOR REAL FUNDS); it needs the
  prover's toolchain (its key cache), imported only when such a key is looked up.

:func:`read_submission` reads one proof folder (one circuit, or a book proven in chunks) into a
:class:`FolderSubmission`: the :class:`~zksolv.verifier.verify.Submission` or
:class:`~zksolv.verifier.verify.ChunkedSubmission` to hand to
:func:`~zksolv.verifier.verify.verify_many`, or the verdict refusing the folder before any pairing.
A keeper takes from a prover's ``statement.json`` only the position capacity (and, for a
chunked book, the chunk count); the circuits follow from the market it trusts, and the venue's
size policy is applied before any key is looked up.

This module imports no node, numba or numpy code. Naming the circuit a market gives a
statement's capacity, and recomputing circuit hashes (a key-set folder, development keys), uses
the circuit generator's renderer (:mod:`zksolv.toolchain.circuitgen`: text and sha256 over the
shipped circuit sources; it runs no node and compiles nothing), imported at that point only. A
:meth:`KeySet.from_tiers` keeper, and a one-key keeper reading folders without a statement,
never import it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Sequence, Union

from zksolv.core.errors import CacheError, InputError, VerificationError, ZksolvError
from zksolv.core.market import MarketState
from zksolv.proofs.proof_io import FINAL_DIR, PROOF_FILE, PUBLIC_FILE, load_proof, load_public, load_verification_key
from zksolv.proofs.statement import STATEMENT_FILE, Statement
from zksolv.verifier.chunked import load_chunks
from zksolv.verifier.groth16 import PreparedVerifyingKey
from zksolv.proofs.keyset import MANIFEST, check_key_set, key_setup_label, load_manifest, parse_transcript_pin
from zksolv.verifier.verify import ChunkedSubmission, Submission, Verdict, malformed, policy_refusal, prepare_key

if TYPE_CHECKING:
    from zksolv.toolchain.circuitgen import CircuitShape

#: Where a :class:`KeySet`'s keys come from.
KeySource = Literal["folder", "file", "tiers", "dev"]

_DEV_SETUP = "dev (INSECURE development setup: NOT FOR REAL FUNDS)"
_FILE_SETUP = "given with --vk (its setup is not known to zksolv)"


@dataclass(frozen=True)
class KeyChoice:
    """The key a keeper chose for one circuit: its file (or name), how reports describe its
    origin, and whether it is an insecure development setup (None: not known)."""

    path: str
    setup: str
    insecure: bool | None = None


@dataclass
class KeySet:
    """The verification keys a keeper trusts (see the module docstring for the four sources).

    Build one with a ``from_*`` constructor (or :meth:`dev`) and reuse it for every epoch: keys
    are parsed and checked (G2 subgroup checks included) once per file content.
    """

    source: KeySource
    folder: Path | None = None
    vk_path: Path | None = None
    transcript_sha256: str | None = None
    key_set_sha256: str | None = None
    tiers: dict[int, PreparedVerifyingKey] = field(default_factory=dict)
    tier_names: dict[int, str] = field(default_factory=dict)
    _prepared: dict[Any, PreparedVerifyingKey | str] = field(default_factory=dict, init=False, repr=False)
    #: a folder's check per market shape (its circuits and hashes): (report label, listed circuits, key sha256s)
    _checked: dict[tuple[tuple[str, str], ...], tuple[str, frozenset[str], dict[str, str]]] = field(
        default_factory=dict, init=False, repr=False)

    # ------------------------------------------------------------------ constructors

    @classmethod
    def from_folder(cls, folder: str | os.PathLike[str], *, transcript_sha256: str | None = None,
                    key_set_sha256: str | None = None) -> "KeySet":
        """The venue's key set (``--keys DIR``): its manifest is read now (:class:`InputError` for a
        missing folder or manifest, a manifest naming another transcript than the pinned
        ``transcript_sha256``, or a manifest whose sha256 is not the pinned ``key_set_sha256`` — the
        pin that covers the transcript and every key file); its keys are checked against each
        market's circuits when used."""
        path = Path(folder)
        pin = parse_transcript_pin(transcript_sha256)
        set_pin = parse_transcript_pin(key_set_sha256, "--key-set-sha256")
        if not path.is_dir():
            raise InputError(f"--keys: {path} is not a folder")
        load_manifest(path)  # the shape of the manifest: refused before any work
        keys = cls("folder", folder=path, transcript_sha256=pin, key_set_sha256=set_pin)
        if pin is not None or set_pin is not None:  # the pins and the transcript, before any work
            check_key_set(path, {}, transcript_sha256=pin, key_set_sha256=set_pin)
        return keys

    @classmethod
    def from_file(cls, vk: str | os.PathLike[str]) -> "KeySet":
        """One verification key (``--vk FILE``) for every single-circuit proof; :class:`InputError`
        when the file is missing or not a JSON object. A key that does not parse refuses every
        proof checked with it (as a malformed verdict naming the reason)."""
        path = Path(vk)
        if not path.is_file():
            raise InputError(f"--vk: {path} not found")
        keys = cls("file", vk_path=path)
        try:
            keys._load(str(path), path)
        except VerificationError as exc:
            raise InputError(f"--vk: {exc}") from None
        return keys

    @classmethod
    def from_key(cls, key: Any) -> "KeySet":
        """One key given as an object (snarkjs JSON or :class:`PreparedVerifyingKey`) rather than a file."""
        keys = cls("file")
        keys._prepared["<key>"] = _prepare(key)
        return keys

    @classmethod
    def from_tiers(cls, tiers: Mapping[int, Any], names: Mapping[int, str] | None = None) -> "KeySet":
        """Keys by position capacity, already trusted by the caller (e.g. the keys whose verifiers
        a deployed registry runs); ``names`` (capacity -> circuit name), when given, must be the
        circuit a proof's statement names. A key that does not parse is an :class:`InputError`."""
        prepared: dict[int, PreparedVerifyingKey] = {}
        for capacity, key in tiers.items():
            try:
                prepared[int(capacity)] = prepare_key(key)
            except VerificationError as exc:
                raise InputError(f"the key of tier {capacity}: {exc}") from None
        if not prepared:
            raise InputError("a key set by tier needs at least one tier")
        return cls("tiers", tiers=prepared, tier_names=dict(names or {}))

    @classmethod
    def dev(cls) -> "KeySet":
        """This machine's own development keys (``zksolv setup``): NOT FOR REAL FUNDS."""
        return cls("dev")

    # ------------------------------------------------------------------ what it is

    @property
    def single_key(self) -> PreparedVerifyingKey | None:
        """The one key of a :meth:`from_file` / :meth:`from_key` set (or of a one-tier set), if it parses."""
        if self.source == "file":
            (key,) = self._prepared.values()
            return key if isinstance(key, PreparedVerifyingKey) else None
        if self.source == "tiers" and len(self.tiers) == 1:
            return next(iter(self.tiers.values()))
        return None

    # ------------------------------------------------------------------ key lookup

    def check_market(self, market: MarketState, *, again: bool = True) -> None:
        """A key-set folder: check it against ``market``'s circuits (every accepted tier, chunk size
        and the final circuit) before any pairing; :class:`InputError` with the reason. ``again``
        (the default) re-reads the folder, as a keeper does at each epoch; without it a market
        shape checked before is not checked again (:func:`read_submission`, once per folder).
        Other sources: nothing to check."""
        if self.source == "folder":
            self._folder_check(market, again=again)

    def _folder_check(self, market: MarketState, *, again: bool = False) -> tuple[str, frozenset[str], dict[str, str]]:
        assert self.folder is not None
        expected = market_circuit_hashes(market)
        shape = tuple(sorted(expected.items()))
        if again or shape not in self._checked:
            manifest = check_key_set(self.folder, expected, transcript_sha256=self.transcript_sha256,
                                     key_set_sha256=self.key_set_sha256)
            label = key_setup_label(manifest, pinned=self.transcript_sha256 is not None,
                                    key_set_pinned=self.key_set_sha256 is not None)
            digests = {name: row["verification_key_sha256"] for name, row in manifest["keys"].items()}
            self._checked[shape] = (label, frozenset(manifest["keys"]), digests)
        return self._checked[shape]

    def choose(self, shape: "CircuitShape | None", statement_name: str, statement_hash: str, market: MarketState,
               capacity: int | None = None) -> tuple[KeyChoice, PreparedVerifyingKey | str]:
        """The key for the circuit the keeper's market and the statement's capacity define, and that
        key (prepared, or the reason it does not parse). :class:`VerificationError` when the
        statement names another circuit or the set has no key for it; :class:`CacheError` when
        this machine has no development key for it (``dev``)."""
        if self.source == "tiers":
            assert capacity is not None
            key = self.tiers.get(capacity)
            if key is None:
                raise VerificationError(f"tier {capacity} is not one the venue accepts ({sorted(self.tiers)})")
            name = self.tier_names.get(capacity)
            if name is not None and statement_name != name:
                raise VerificationError(f"proof is for circuit {statement_name}; the venue's key for tier {capacity} "
                                        f"is {name}")
            return KeyChoice(name or f"tier {capacity}", "the venue's key for this tier"), key
        assert shape is not None
        if statement_name != shape.name:
            raise VerificationError(f"proof is for circuit {statement_name}; this market's shape gives {shape.name}")
        if self.source == "folder":
            assert self.folder is not None
            label, listed, digests = self._folder_check(market)
            path = self.folder / f"{shape.name}.json"
            if shape.name not in listed or not path.is_file():
                raise VerificationError(f"the venue's key set has no key for {shape.name}")
            choice = KeyChoice(str(path), label or "the venue's key set (--keys)")
            return choice, self._load((str(path), digests[shape.name]), path, digests[shape.name])
        if self.source == "file":
            (cache_key, key), = self._prepared.items()
            return KeyChoice(str(self.vk_path) if self.vk_path else cache_key, _FILE_SETUP), key
        from zksolv.toolchain.artifacts import local_key  # the prover's key cache: dev keys only

        circuit_hash = _circuit_hash(shape)
        if statement_hash != circuit_hash:
            raise VerificationError(f"proof is for circuit {statement_hash[:16]}…; this keeper's circuit for "
                                    f"{shape.name} is {circuit_hash[:16]}… (re-prove with the current circuits)")
        local = local_key(shape.name, circuit_hash, "dev")
        choice = KeyChoice(str(local.path), _DEV_SETUP if local.insecure else "dev", bool(local.insecure))
        return choice, self._load(str(local.path), Path(local.path))

    def _load(self, cache_key: Any, path: Path, sha256: str | None = None) -> PreparedVerifyingKey | str:
        """A key file, parsed and checked once per ``cache_key``; a key that does not parse is kept as its
        reason. ``sha256``: the digest the key set's manifest lists, checked on the bytes parsed."""
        if cache_key not in self._prepared:
            if sha256 is None:
                self._prepared[cache_key] = _prepare(load_verification_key(path))
            else:
                self._prepared[cache_key] = _prepare(read_listed_key(path, sha256))
        return self._prepared[cache_key]


def read_listed_key(path: Path, sha256: str) -> Any:
    """A key file of a key set, read once: its bytes must hash to the manifest's ``sha256`` (so the key
    parsed is the key checked, even if the file is replaced in between)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"--keys: {path}: cannot read ({exc.strerror})") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise InputError(f"--keys: {path} does not match its sha256 in {MANIFEST} (altered or replaced)")
    try:
        key = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise VerificationError(f"verification key {path}: not valid JSON") from None
    if not isinstance(key, dict):
        raise VerificationError("verification key: expected a JSON object")
    return key


def _prepare(vk_json: Any) -> PreparedVerifyingKey | str:
    """The prepared key, or why it is malformed (every proof checked with it is then refused with the reason)."""
    try:
        return prepare_key(vk_json)
    except VerificationError as exc:
        return str(exc)


# ---------------------------------------------------------------------- the market's circuits

def market_circuit_hashes(market: MarketState) -> dict[str, str]:
    """Circuit name -> this installation's circuit hash, for every circuit of ``market``'s shape a venue
    needs keys for (accepted tiers, chunk sizes, the final circuit)."""
    from zksolv.toolchain.circuitgen import circuit_set  # renderer only: no node, no compilation

    # what circuit_set depends on: the market's shape and mode, the venue's tiers, chunk sizes and group counts
    venue = market.venue
    key = (market.shape, market.params.risk_mode, tuple(venue.tiers), tuple(venue.chunk_sizes), tuple(venue.groups))
    if key not in _MARKET_CIRCUITS:
        _MARKET_CIRCUITS[key] = {shape.name: _circuit_hash(shape) for shape in circuit_set(market, chunks=True)}
    return dict(_MARKET_CIRCUITS[key])


_MARKET_CIRCUITS: dict[tuple[Any, ...], dict[str, str]] = {}


@functools.lru_cache(maxsize=256)
def _circuit_hash(shape: "CircuitShape") -> str:
    """This installation's circuit hash of ``shape`` (the circuit sources must be present)."""
    from zksolv.toolchain.circuitgen import circuit_source_hash, circuits_dir

    if not any(circuits_dir().glob("*.circom")):
        raise CacheError(f"no circuit sources in {circuits_dir()}: reinstall zksolv, or pass --vk / --keys")
    return circuit_source_hash(shape)


def local_circuit_hash(shape: "CircuitShape") -> str:
    """This installation's circuit hash for ``shape``; :class:`CacheError` when the circuit sources are missing."""
    return _circuit_hash(shape)


# ---------------------------------------------------------------------- one folder

@dataclass
class FolderSubmission:
    """One proof folder as a keeper read it: the submission to verify, or the verdict refusing it.

    ``tier`` is the circuit its statement names (None when unreadable); ``key`` the key chosen
    for it (for a chunked book: its final circuit's), ``chunk_tier`` / ``chunks`` a chunked
    book's chunk circuit and count.
    """

    folder: Path
    tier: str | None = None
    submission: Union[Submission, ChunkedSubmission, None] = None
    refusal: Verdict | None = None
    key: KeyChoice | None = None
    chunk_tier: str | None = None
    chunks: int | None = None

    @property
    def chunked(self) -> bool:
        return self.chunk_tier is not None

    def report(self) -> dict[str, Any]:
        """The fields ``zksolv verify`` prints for the folder (before the verdict's)."""
        row: dict[str, Any] = {"folder": str(self.folder), "tier": self.tier}
        if self.chunk_tier is not None:
            row["chunk_tier"], row["chunks"] = self.chunk_tier, self.chunks
        if self.key is not None:
            row.update(verification_key=self.key.path, key_setup=self.key.setup, insecure_setup=self.key.insecure)
        return row


def read_submission(folder: str | os.PathLike[str], market: MarketState, expected_commitment: int | None,
                    keys: KeySet, *, require_statement: bool = True,
                    unregistered: str | None = None) -> FolderSubmission:
    """Read one proof folder for ``market``: its submission under the key ``keys`` give its circuit.

    ``expected_commitment``: the commitment the venue registered for the account (None: not
    compared). Anything wrong with the folder's own files (a missing or malformed statement or
    proof, a circuit of another shape, a size the venue's policy refuses, a circuit the key set
    has no key for) is a refusal in the result, never an exception: one bad submission does not
    stop an epoch. Raises only for the keeper's own environment: :class:`InputError` when a key-set
    folder does not check out for this market, :class:`CacheError` when this machine has no
    circuit sources, or (``KeySet.dev``) no development key for a proof of the dev route.

    ``require_statement=False`` (a one-key keeper, as ``python -m zksolv.verifier.keeper --vk``):
    a folder without ``statement.json`` is checked with that key (its circuit is the key's).
    ``unregistered``: the caller has no registered commitment for this folder; it is refused with
    this reason once its statement and the venue's policy are read, before any key lookup.
    """
    folder = Path(folder)
    out = FolderSubmission(folder)
    epoch = market.epoch
    keys.check_market(market, again=False)  # the keeper's own key set: an InputError, not a verdict
    statement_path = folder / STATEMENT_FILE
    if not require_statement and not statement_path.exists():
        key = keys.single_key
        if key is None:
            if keys.source == "tiers":
                out.refusal = malformed(f"no {STATEMENT_FILE} to name the proof's tier (the venue accepts "
                                        f"{sorted(keys.tiers)})", epoch=epoch)
            elif keys.source == "file":
                (reason,) = keys._prepared.values()
                out.refusal = malformed(str(reason), epoch=epoch)
            else:
                out.refusal = malformed(f"{STATEMENT_FILE} not found in {folder}", epoch=epoch)
            return out
        return _single(out, folder, None, expected_commitment, key, epoch)
    try:
        statement = Statement.load(statement_path)
    except VerificationError as exc:  # includes MalformedFieldError
        out.refusal = malformed(str(exc), epoch=epoch)
        return out
    out.tier = statement.tier
    refused = policy_refusal(market, statement)  # before any key lookup: a shape the venue refuses needs none
    if refused:
        out.refusal = Verdict(False, refused, epoch=epoch)
        return out
    if unregistered is not None:
        out.refusal = Verdict(False, unregistered, epoch=epoch)
        return out
    try:
        if statement.chunked:
            return _chunked(out, folder, statement, market, expected_commitment, keys)
        shape = None
        if keys.source != "tiers":  # the circuit the keeper's market gives for the statement's capacity
            from zksolv.toolchain.circuitgen import Tier

            shape = _statement_shape(lambda: Tier.for_market(market, statement.capacity, statement.groups))
        choice, key = keys.choose(shape, statement.tier, statement.circuit_hash, market, statement.capacity)
    except ZksolvError as exc:
        out.refusal = _key_refusal(exc, keys, statement, epoch)
        return out
    out.key = choice
    if isinstance(key, str):
        out.refusal = malformed(key, epoch=epoch)
        return out
    return _single(out, folder, statement, expected_commitment, key, epoch)


def _statement_shape(build: Callable[[], "CircuitShape"]) -> "CircuitShape":
    """The circuit the keeper's market gives for the statement's capacity and groups; a shape no circuit
    has (the venue's policy refuses the usual ones first) is the statement's fault: a refusal, never the
    keeper's own :class:`InputError`."""
    try:
        return build()
    except InputError as exc:
        raise VerificationError(f"statement: no circuit of this market's shape ({exc})") from None


def _key_refusal(exc: ZksolvError, keys: KeySet, statement: Statement, epoch: int) -> Verdict:
    """The verdict for a key lookup that failed for this submission; the keeper's own missing files re-raise."""
    if isinstance(exc, CacheError):
        if keys.source == "dev" and statement.setup_route != "dev":
            # no local development key for a proof made with another route's keys: say that, for this proof
            return Verdict(False, "verification key of another setup: the statement says the proof was made with "
                                  f"keys of the {statement.setup_route} setup route; --dev-key checks this machine's "
                                  "development setup: verify with the venue's key (--keys DIR or --vk FILE)",
                           epoch=epoch)
        raise exc
    if isinstance(exc, InputError) and not isinstance(exc, VerificationError):
        raise exc  # the keeper's own key set changed under it (a key file no longer matching its manifest)
    return Verdict(False, str(exc), epoch=epoch)


def _single(out: FolderSubmission, folder: Path, statement: Statement | None, expected: int | None,
            key: PreparedVerifyingKey, epoch: int) -> FolderSubmission:
    try:
        proof, public = load_proof(folder / PROOF_FILE), load_public(folder / PUBLIC_FILE)
    except VerificationError as exc:
        out.refusal = malformed(str(exc), epoch=epoch)
        return out
    out.submission = Submission(proof, public, expected, statement, label=str(folder), key=key)
    return out


def _chunked(out: FolderSubmission, folder: Path, statement: Statement, market: MarketState, expected: int | None,
             keys: KeySet) -> FolderSubmission:
    """A book proven in chunks: the final circuit's and the chunk circuit's keys, then the bundle's files."""
    epoch = market.epoch
    if keys.source in ("file", "tiers"):
        raise VerificationError("a book proven in chunks needs the chunk and final keys: use --keys DIR")
    from zksolv.toolchain.circuitgen import ChunkTier, FinalTier

    out.chunk_tier, out.chunks = statement.chunk_tier, statement.n_chunks
    final_choice, final_key = keys.choose(FinalTier.for_market(market), statement.tier, statement.circuit_hash, market)
    chunk_shape = _statement_shape(lambda: ChunkTier.for_market(market, statement.capacity, statement.groups))
    _, chunk_key = keys.choose(chunk_shape, statement.chunk_tier or "", statement.chunk_circuit_hash or "", market)
    out.key = final_choice
    if isinstance(final_key, str) or isinstance(chunk_key, str):
        out.refusal = malformed("a verification key of the key set is malformed", epoch=epoch)
        return out
    try:
        chunks = load_chunks(folder, statement.n_chunks or 0)
        proof, public = load_proof(folder / FINAL_DIR / PROOF_FILE), load_public(folder / FINAL_DIR / PUBLIC_FILE)
    except VerificationError as exc:
        out.refusal = malformed(str(exc), epoch=epoch)
        return out
    out.submission = ChunkedSubmission(chunks, proof, public, final_key, chunk_key, expected, statement,
                                       label=str(folder))
    return out


# ---------------------------------------------------------------------- where keys may not come from

def refuse_shipped_key(vk: Path, folders: Sequence[Path]) -> None:
    """A keeper never takes its key from the proof: refuse (:class:`InputError`) a ``--vk`` that is a
    file of a proof folder being verified — by its path, through a symbolic link, or as a hard link
    of one of its files.

    The key's *content* is deliberately not compared with the keys the folders ship: every honest bundle
    ships the venue's key, so equal content cannot tell a venue key obtained elsewhere from an attacker's
    key copied out of its own bundle (and any re-encoding would defeat the comparison anyway). What makes
    a key trustworthy is where the keeper got it: the venue's key set, ``--keys DIR`` checked once with
    ``zksolv ceremony verify`` and pinned with ``--key-set-sha256``.
    """
    vk = Path(vk)
    if not vk.is_file():
        raise InputError(f"--vk: {vk} not found")
    resolved, literal = vk.resolve(), Path(os.path.abspath(vk))
    info = vk.stat()
    for folder in folders:
        root = Path(folder).resolve()
        if resolved.is_relative_to(root) or literal.is_relative_to(Path(os.path.abspath(folder))):
            raise InputError(f"--vk: {vk} lies inside the proof folder {folder}: a keeper never trusts a key "
                             "shipped with the proof (use the venue's key set, --keys DIR)")
        if info.st_nlink < 2 or not root.is_dir():
            continue  # a file with one name that is not inside the folder is not one of the folder's files
        for shipped in root.rglob("*"):
            try:
                other = shipped.lstat()  # a link in the folder pointing out is not the folder's file
            except OSError:
                continue
            if (other.st_dev, other.st_ino) == (info.st_dev, info.st_ino):
                raise InputError(f"--vk: {vk} is a link to {shipped}, a file of the proof folder: a keeper never "
                                 "trusts a key shipped with the proof (use the venue's key set, --keys DIR)")


__all__ = ["FolderSubmission", "KeyChoice", "KeySet", "KeySource", "local_circuit_hash",
           "market_circuit_hashes", "read_submission", "refuse_shipped_key"]
