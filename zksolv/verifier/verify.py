"""Keeper-side verification of solvency proofs against a public market state.

:func:`verify` (one proof) and :func:`verify_many` (an epoch's worth) check, in order:
the public inputs are exactly ``[account_commitment, market_root]``; ``market_root``
equals the root this keeper computes from the :class:`~zksolv.core.market.MarketState` it
trusts (so a proof for another epoch or another market is refused before any pairing; a state
read by :func:`zksolv.core.root_cache.load_market` carries the root the keeper computed
earlier for the same file bytes);
the commitment equals the one the venue stores for the account (when given); then the
Groth16 pairing check with the keeper's own verification key. Both give the same
:class:`Verdict`, with the same reasons, for the same input.

:func:`verify_many` batches the pairing checks of all proofs of one key
(:mod:`zksolv.verifier.batch`: one random linear combination, bisection to name the invalid
ones) or hands them to groth16py over a process pool (:mod:`zksolv.verifier.native`).

Imports only pure-Python modules: no node, numba or circuit code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Sequence, Union

from zksolv.verifier.groth16 import (
    Groth16Proof,
    PreparedVerifyingKey,
    parse_proof,
    parse_public_signals,
    parse_verification_key,
    verify_parsed,
)
from zksolv.proofs.statement import MAX_CHUNKS, Statement
from zksolv.core.commitments import market_root as compute_market_root
from zksolv.core.errors import VerificationError
from zksolv.core.market import MarketState

N_PUBLIC = 2  #: [account_commitment, market_root]
#: Which pairing implementation :func:`verify_many` uses.
Backend = Literal["auto", "python", "native", "py_ecc"]


@dataclass(frozen=True)
class Verdict:
    """The outcome of :func:`verify`; ``reason`` says why a proof was refused."""

    valid: bool
    reason: str
    account_commitment: int | None = None
    market_root: int | None = None
    epoch: int | None = None

    @property
    def status(self) -> str:
        """``valid``, ``malformed`` (unparsable input or file) or ``invalid``."""
        if self.valid:
            return "valid"
        return "malformed" if self.reason.startswith("malformed") else "invalid"

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "status": self.status,
            "reason": self.reason,
            "account_commitment": None if self.account_commitment is None else str(self.account_commitment),
            "market_root": None if self.market_root is None else str(self.market_root),
            "epoch": self.epoch,
        }


def malformed(reason: str, **fields: Any) -> Verdict:
    """A refusal for input that could not be read or parsed (a missing file, bad JSON, ...)."""
    return Verdict(False, f"malformed: {reason}", **fields)


def policy_refusal(market: MarketState, statement: Statement) -> str | None:
    """Why the venue's size policy (``market.venue``) refuses the shape a statement names (its tier,
    or its chunk size and count), or None. Checked before any key is looked up."""
    if statement.groups and market.params.risk_mode.is_revaluation:
        return "grouped openings: a revaluation market has no grouped circuits"
    return market.venue.refusal(statement.capacity, statement.n_chunks if statement.chunked else None,
                                statement.groups)


@dataclass(frozen=True)
class Epoch:
    """What every check of one epoch shares: the market (validated once), its root, the keeper's key."""

    market: MarketState
    root: int
    key: PreparedVerifyingKey | None
    #: False on the native path, whose verifier does the G2 subgroup check itself.
    subgroup_check: bool = True


@dataclass(frozen=True)
class Check:
    """One Groth16 check: a parsed proof and its signals under a prepared key (raw JSON kept for
    groth16py); ``label`` names it in a refusal when a submission has several (``chunk 3``)."""

    key: PreparedVerifyingKey
    proof: Groth16Proof
    public: tuple[int, ...]
    raw_proof: Any
    label: str = ""
    #: The setup route the submission's statement claims its keys came from (None: no statement).
    claimed_route: str | None = None


@dataclass(frozen=True)
class Submission:
    """What one account submitted for an epoch, as received (untrusted JSON).

    ``account_commitment``: the commitment the venue registered for this account, compared
    with the proof's first public input when given. ``label`` names it in reports (e.g. its
    folder). ``error`` marks a submission that could not even be read (its files): it is
    refused as malformed with that reason.

    A submission stands for a list of Groth16 :class:`Check` s (:meth:`prepare`): one
    today. A later *chunked* submission (one account proven as k + 1 proofs under
    different keys) is another class with the same ``prepare``; :func:`verify_many`
    batches all checks per key and a submission is valid when all of its checks are.
    """

    proof: Any = None
    public: Any = None
    account_commitment: int | None = None
    statement: Statement | None = None
    label: str = ""
    error: str | None = None
    #: The key of this submission's circuit, when it is not the epoch's (a keeper with one key per tier).
    key: PreparedVerifyingKey | None = None

    def prepare(self, epoch: Epoch) -> Union[Verdict, tuple[Verdict, list[Check]]]:
        """The pre-pairing checks: a refusal, or (the verdict if the checks pass, the checks)."""
        if self.error is not None:
            return malformed(self.error, epoch=epoch.market.epoch)
        key = self.key or epoch.key
        if key is None:
            return malformed("no verification key for this proof's circuit", epoch=epoch.market.epoch)
        if key.n_public != N_PUBLIC:
            return Verdict(False, f"verification key has {key.n_public} public inputs, a solvency circuit has {N_PUBLIC}")
        try:
            signals = parse_public_signals(self.public, N_PUBLIC)
            parsed = parse_proof(self.proof, subgroup_check=epoch.subgroup_check)
        except VerificationError as exc:
            return malformed(str(exc))
        commitment, claimed_root = signals
        base = dict(account_commitment=commitment, market_root=claimed_root, epoch=epoch.market.epoch)
        statement = self.statement
        if statement is not None and statement.epoch != epoch.market.epoch:
            return Verdict(False, f"proof is for epoch {statement.epoch}, the market state is epoch {epoch.market.epoch}",
                           **base)
        refused = None if statement is None else policy_refusal(epoch.market, statement)
        if refused:
            return Verdict(False, refused, **base)
        if claimed_root != epoch.root:
            return Verdict(False, "market_root differs: the proof is for another market state or epoch", **base)
        if self.account_commitment is not None and commitment != self.account_commitment:
            return Verdict(False, "account_commitment differs from the account's registered commitment", **base)
        route = None if statement is None else statement.setup_route
        return Verdict(True, "valid", **base), [Check(key, parsed, tuple(signals), self.proof, claimed_route=route)]


N_PUBLIC_CHUNK = 3  #: a chunk proof: [market_root, state_in, state_out]
N_PUBLIC_FINAL = 4  #: a chunked book's final proof: [account_commitment, market_root, state_first, state_last]


@dataclass(frozen=True)
class ChunkedSubmission:
    """A book proven in chunks (``docs/chunked.md``): ``chunks[i] = (proof, public)`` and the
    final proof, under the keeper's keys of the chunk and the final circuit.

    Before any pairing: the counts and shapes of the public inputs, every proof's
    ``market_root`` against the keeper's, the registered commitment, the statement's
    epoch and chunk count, and the state chain (``s_0`` of the final is chunk 0's input,
    each chunk's output the next one's input, the last output the final's ``s_k``: a
    re-ordered, dropped, duplicated or foreign chunk breaks it). Then k + 1 checks,
    batched with every other check of the same key.
    """

    chunks: Sequence[tuple[Any, Any]]
    proof: Any
    public: Any
    final_key: PreparedVerifyingKey
    chunk_key: PreparedVerifyingKey
    account_commitment: int | None = None
    statement: Statement | None = None
    label: str = ""

    def prepare(self, epoch: Epoch) -> Union[Verdict, tuple[Verdict, list[Check]]]:
        """The pre-pairing checks: a refusal, or (the verdict if the checks pass, the checks)."""
        if self.final_key.n_public != N_PUBLIC_FINAL or self.chunk_key.n_public != N_PUBLIC_CHUNK:
            return Verdict(False, f"verification keys have {self.final_key.n_public} / {self.chunk_key.n_public} "
                                  f"public inputs; a final / chunk circuit has {N_PUBLIC_FINAL} / {N_PUBLIC_CHUNK}")
        if not isinstance(self.chunks, (list, tuple)) or not 1 <= len(self.chunks) <= MAX_CHUNKS:
            return malformed(f"a chunked bundle holds 1 to {MAX_CHUNKS} chunk proofs", epoch=epoch.market.epoch)
        sub = epoch.subgroup_check
        try:
            final = parse_public_signals(self.public, N_PUBLIC_FINAL)
            final_proof = parse_proof(self.proof, subgroup_check=sub)
            parsed = [(parse_proof(p, subgroup_check=sub), parse_public_signals(s, N_PUBLIC_CHUNK), p)
                      for p, s in self.chunks]
        except (VerificationError, TypeError, ValueError) as exc:
            return malformed(str(exc), epoch=epoch.market.epoch)
        commitment, claimed_root, first, last = final
        base = dict(account_commitment=commitment, market_root=claimed_root, epoch=epoch.market.epoch)
        statement = self.statement
        if statement is not None:
            if statement.epoch != epoch.market.epoch:
                return Verdict(False, f"proof is for epoch {statement.epoch}, the market state is epoch "
                                      f"{epoch.market.epoch}", **base)
            if statement.n_chunks != len(self.chunks):
                return Verdict(False, f"the statement claims {statement.n_chunks} chunks, the bundle has "
                                      f"{len(self.chunks)}", **base)
        refused = epoch.market.venue.refusal(None if statement is None else statement.capacity, len(self.chunks),
                                             0 if statement is None else statement.groups)
        if refused:
            return Verdict(False, refused, **base)
        if claimed_root != epoch.root or any(s[0] != epoch.root for _, s, _ in parsed):
            return Verdict(False, "market_root differs: the proof is for another market state or epoch", **base)
        if self.account_commitment is not None and commitment != self.account_commitment:
            return Verdict(False, "account_commitment differs from the account's registered commitment", **base)
        link = first
        for i, (_, (_, state_in, state_out), _) in enumerate(parsed):
            if state_in != link:
                return Verdict(False, f"chunk {i} does not continue the previous state: the chunks do not link", **base)
            link = state_out
        if link != last:
            return Verdict(False, "the last chunk does not end in the final proof's state: the chunks do not link",
                           **base)
        route = None if statement is None else statement.setup_route
        checks = [Check(self.final_key, final_proof, tuple(final), self.proof, "the final proof", route)]
        checks += [Check(self.chunk_key, p, tuple(s), raw, f"chunk {i}", route) for i, (p, s, raw) in enumerate(parsed)]
        return Verdict(True, "valid", **base), checks


#: Reason of a proof whose pre-checks passed and whose pairing check failed.
PAIRING_FAILED = "pairing check failed: the proof is not valid for these public inputs"

#: The BN254 G2 generator, affine ``((x_re, x_im), (y_re, y_im))``: every key of a snarkjs
#: ``groth16 setup`` has it as gamma (snarkjs fixes gamma = 1); the development route's
#: (groth16py) gamma is random, so it is the generator only with negligible probability.
G2_GENERATOR = (
    (10857046999023057135944570762232829481370756359578518086990519993285655852781,
     11559732032986387107991004021392285783925812861821192530917403151452391805634),
    (8495653923123431417604973247489272438418190587263600148770280649306958101930,
     4082367875863433681332203403145435568316851327593401208105741076214120093531),
)


def key_is_snarkjs(key: PreparedVerifyingKey) -> bool:
    """Whether ``key`` comes from a snarkjs setup (the snarkjs route): its gamma is the G2 generator."""
    return key.gamma == G2_GENERATOR


def route_mismatch(claimed_route: str | None, key: PreparedVerifyingKey) -> str | None:
    """Why a proof that failed its pairing check was checked against a key of another setup route,
    or None when the statement's ``setup_route`` and the key agree (or nothing tells them apart).

    Only ever *explains* a failed pairing check: a statement is the prover's claim, so it never
    makes a proof invalid by itself.
    """
    if claimed_route is None:
        return None
    snarkjs_key = key_is_snarkjs(key)
    if claimed_route == "snarkjs" and not snarkjs_key:
        return ("verification key of another setup: the statement says the proof was made with keys of the "
                "snarkjs setup route, and this verification key is not from a snarkjs setup (e.g. a development "
                "key); verify with the key of the setup the proof was made with")
    if claimed_route == "dev" and snarkjs_key:
        return ("verification key of another setup: the statement says the proof was made with development "
                "keys (setup route dev), and this verification key is from a snarkjs setup; verify with the "
                "key of the setup the proof was made with")
    return None


def prepare_key(verification_key: Any) -> PreparedVerifyingKey:
    """Parse and check a snarkjs verification key once (G2 subgroup checks included) for reuse.

    Raises :class:`VerificationError` for a malformed key.
    """
    if isinstance(verification_key, PreparedVerifyingKey):
        return verification_key
    return parse_verification_key(verification_key)


def verify(
    proof: Any,
    public: Sequence[Any],
    market: MarketState,
    verification_key: Any,
    *,
    account_commitment: int | None = None,
    statement: Statement | None = None,
) -> Verdict:
    """Is ``proof`` a valid solvency proof for ``market`` (and the given account)?

    ``verification_key`` is a snarkjs key object or a :class:`PreparedVerifyingKey`
    (:func:`prepare_key`; reuse it across calls). Returns a :class:`Verdict`; a malformed
    proof, key or public-input list is an invalid verdict too (with the parse error as the
    reason), never an exception, so a keeper can process untrusted submissions in a loop.
    The market state is the keeper's own input: it is validated here (the circuit relies
    on its ranges) and an invalid one raises :class:`~zksolv.core.errors.InputError`.
    """
    submission = Submission(proof, public, account_commitment, statement)
    return verify_many([submission], market, verification_key, backend="python")[0]


def verify_many(
    bundles: Sequence[Submission | ChunkedSubmission],
    market: MarketState,
    key: Any = None,
    *,
    backend: Backend = "python",
    workers: int | None = None,
) -> list[Verdict]:
    """One :class:`Verdict` per submission, in input order, the same as :func:`verify` gives.

    Pre-pairing checks run per submission; the pairing checks of all submissions are
    batched per key. ``backend``: ``"python"`` (default; :mod:`zksolv.verifier.batch`, one random
    linear combination per key and bisection to name invalid proofs), ``"py_ecc"`` (each
    proof through py_ecc's own pairing: the slow reference, :mod:`zksolv.verifier.reference`), ``"native"``
    (groth16py over a process pool of ``workers``, :mod:`zksolv.verifier.native`; requires the
    ``keeper-native`` extra) or ``"auto"`` (native when importable). ``key`` is a snarkjs
    key object or a :class:`PreparedVerifyingKey` for the submissions that carry no key of
    their own (a chunked bundle carries its two); a malformed key refuses every proof.
    Raises :class:`~zksolv.core.errors.InputError` for an invalid market state (the keeper's
    own input) and ``ValueError`` for an unknown backend or native without groth16py.
    """
    from zksolv.verifier import native
    if backend not in ("auto", "python", "native", "py_ecc"):
        raise ValueError(f"backend: expected auto, python, native or py_ecc, got {backend!r}")
    use_native = backend == "native" or (backend == "auto" and native.available())
    if backend == "native" and not native.available():
        raise ValueError("backend native: groth16py is not installed (pip install 'zksolv[keeper-native]')")
    market.validated()  # the keeper's own input: an InputError before anything else
    try:
        prepared_key = None if key is None else prepare_key(key)
    except VerificationError as exc:
        return [malformed(str(exc)) for _ in bundles]
    epoch = Epoch(market, compute_market_root(market), prepared_key, subgroup_check=not use_native)
    verdicts: list[Verdict | None] = []
    pending: list[tuple[int, Check]] = []
    for i, bundle in enumerate(bundles):
        outcome = bundle.prepare(epoch)
        if isinstance(outcome, Verdict):
            verdicts.append(outcome)
            continue
        verdicts.append(outcome[0])
        pending.extend((i, check) for check in outcome[1])
    ok = _pairing_checks([check for _, check in pending], use_native, workers, backend == "py_ecc")
    for (i, check), good in zip(pending, ok):
        verdict = verdicts[i]
        if not good and verdict is not None and verdict.valid:
            verdicts[i] = _refusal(verdict, check, use_native)
    return [v for v in verdicts if v is not None]


def _refusal(verdict: Verdict, check: Check, native_path: bool) -> Verdict:
    """The verdict of a check whose pairing failed; on the native path (which left the G2
    subgroup check to groth16py) a point outside G2 gets the same "malformed" reason as
    on the Python path."""
    if native_path:
        try:
            parse_proof(check.raw_proof)
        except VerificationError as exc:
            return malformed(str(exc))
    reason = f"pairing check failed on {check.label}" if check.label else PAIRING_FAILED
    mismatch = route_mismatch(check.claimed_route, check.key)
    if mismatch is not None:
        reason = f"{mismatch} ({check.label})" if check.label else mismatch
    return Verdict(False, reason, verdict.account_commitment, verdict.market_root, verdict.epoch)


def _pairing_checks(checks: Sequence[Check], use_native: bool, workers: int | None,
                    use_py_ecc: bool = False) -> list[bool]:
    """Each check's pairing verdict, batched per key (by identity); with ``use_py_ecc`` one by one
    through py_ecc's own pairing (:mod:`zksolv.verifier.reference`)."""
    from zksolv.verifier import batch, native
    if use_py_ecc:
        from zksolv.verifier import reference
        return [reference.check(c.key, c.proof, c.public) for c in checks]

    out: list[bool] = [False] * len(checks)
    groups: dict[int, list[int]] = {}
    for i, check in enumerate(checks):
        groups.setdefault(id(check.key), []).append(i)
    for indices in groups.values():
        key = checks[indices[0]].key
        if use_native and key.source is not None:
            results = native.check_native(key.source, [(checks[i].raw_proof, checks[i].public) for i in indices],
                                          workers)
        elif len(indices) == 1:
            results = [verify_parsed(key, checks[indices[0]].proof, checks[indices[0]].public)]
        else:
            results = batch.check_batch(key, [batch.BatchItem(checks[i].proof, checks[i].public) for i in indices])
        for i, good in zip(indices, results):
            out[i] = good
    return out
