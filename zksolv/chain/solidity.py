"""Solidity export: the Groth16 verifiers of the venue's accepted tiers, plus the registry source.

A ``SolvencyRegistry`` accepts up to :data:`MAX_TIERS` circuit tiers, each named by its position
capacity and served by two contracts generated from that tier's verification key (the
verifier below and :func:`render_batch_verifier`). :func:`export_registry` writes them all,
the registry and a deploy note (``deploy.json``: what to deploy, in which order, and the
registry's constructor argument).

The verifier is rendered from snarkjs' own template
(``node_modules/snarkjs/templates/verifier_groth16.sol.ejs``) with ejs, through
:func:`zksolv.toolchain.run_node` — exactly what ``snarkjs zkey export solidityverifier``
does after reading the key from a ``.zkey``. Why this and not groth16py's
``VerifyingKey.to_solidity()``: both expose the snarkjs ABI
``verifyProof(uint[2] a, uint[2][2] b, uint[2] c, uint[2] pub)``, but the snarkjs template
takes its arguments as ``calldata`` and runs in inline assembly (no memory copies of the
proof, a cheaper call), is the form audits and tooling know, is pinned by our
``package-lock.json`` together with the prover, and is the verifier the gas figures in
FACTS.md were measured on. groth16py's emitter is the older Pairing-library style with
``memory`` arguments and defaults to ``pragma ^0.8.29`` (above our pinned solc 0.8.28).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from zksolv.toolchain import resources
from zksolv.core.atomic import atomic_write_text
from zksolv.core.errors import InputError
from zksolv.chain.evm import CompiledContract, EvmScript, Ref, compile_solidity
from zksolv.toolchain import node_module_path, node_script, run_node

#: Contract name of the rendered verifier (snarkjs' template name).
VERIFIER_CONTRACT = "Groth16Verifier"
#: Contract name of the batch verifier (zksolv's own template, :func:`render_batch_verifier`).
BATCH_VERIFIER_CONTRACT = "Groth16BatchVerifier"
#: Contract name of the hand-written registry (``contracts/SolvencyRegistry.sol``).
REGISTRY_CONTRACT = "SolvencyRegistry"
#: Number of public inputs every zksolv circuit exposes: [account_commitment, market_root].
N_PUBLIC = 2
#: Most tiers one registry accepts (``MAX_TIERS`` in ``contracts/SolvencyRegistry.sol``).
MAX_TIERS = 4
#: The deploy note :func:`export_registry` writes next to the contracts.
DEPLOY_NOTE = "deploy.json"
#: The registry's constructor, as the deploy note states it.
REGISTRY_CONSTRUCTOR = "constructor((uint256 capacity, address verifier, address batchVerifier)[] tiers)"

_LABEL = re.compile(r"^[0-9A-Za-z_.:-]{1,128}$")


def registry_source_path() -> Path:
    """Path of the hand-written ``contracts/SolvencyRegistry.sol`` (the checkout's, or the wheel's copy)."""
    return resources.contracts_dir() / "SolvencyRegistry.sol"


def _check_vk(vk: Mapping[str, Any]) -> None:
    if not isinstance(vk, Mapping):
        raise InputError("verification key: expected a JSON object")
    for key in ("vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2", "IC", "nPublic"):
        if key not in vk:
            raise InputError(f"verification key: missing {key}")
    if vk.get("protocol", "groth16") != "groth16" or vk.get("curve", "bn128") not in ("bn128", "bn254"):
        raise InputError("verification key: expected groth16 on bn128")
    n = int(vk["nPublic"])
    if n != N_PUBLIC or len(vk["IC"]) != n + 1:
        raise InputError(
            f"verification key: expected {N_PUBLIC} public inputs [account_commitment, market_root], "
            f"got nPublic={n} with {len(vk['IC'])} IC points"
        )
    numbers = json.dumps([vk[k] for k in ("vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2", "IC")])
    if not re.fullmatch(r'[\[\]\s",0-9]*', numbers):
        raise InputError("verification key: coordinates must be decimal strings")


def _header(circuit_hash: str | None, tier: str | None, vk_sha256: str | None, capacity: int | None = None) -> str:
    """The provenance lines: the circuit and tier, or (a key whose circuit zksolv cannot check)
    the key's sha256 and the tier name it was given, if any; then the registry tier it serves."""
    if circuit_hash is None:
        if vk_sha256 is None or not re.fullmatch(r"[0-9a-f]{64}", vk_sha256):
            raise InputError("vk_sha256: expected 64 lowercase hex digits when no circuit hash is given")
        if tier is not None and not _LABEL.match(tier):
            raise InputError(f"tier: expected 1-128 characters of [0-9A-Za-z_.:-], got {tier!r}")
        identity = (f"// verification key sha256: {vk_sha256} (circuit not identified)\n"
                    + (f"// tier: {tier} (as the key set names it; not checked against a circuit)\n" if tier
                       else "// tier: not claimed (exported from a key file with --vk)\n"))
    else:
        for name, value in (("circuit_hash", circuit_hash), ("tier", tier)):
            if value is None or not _LABEL.match(value):
                raise InputError(f"{name}: expected 1-128 characters of [0-9A-Za-z_.:-], got {value!r}")
        identity = f"// circuit hash: {circuit_hash}\n// tier: {tier}\n"
    if capacity is not None:
        identity += f"// SolvencyRegistry tier: position capacity {_capacity(capacity)}\n"
    return (
        "// auto-generated by zksolv — do not edit\n"
        + identity
        + "// source: snarkjs templates/verifier_groth16.sol.ejs rendered by zksolv.chain.solidity.render_verifier\n"
    )


def _capacity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 1 << 32:
        raise InputError(f"tier capacity: expected a positive integer (a position capacity), got {value!r}")
    return value


def render_verifier(vk: Mapping[str, Any], *, circuit_hash: str | None = None, tier: str | None = None,
                    vk_sha256: str | None = None, capacity: int | None = None) -> str:
    """Solidity source of the Groth16 verifier for ``vk`` (snarkjs ``verification_key.json``).

    The contract is ``Groth16Verifier`` with
    ``verifyProof(uint[2] a, uint[2][2] b, uint[2] c, uint[2] pub) view returns (bool)``;
    ``b`` is in EVM order (imaginary part first). A header names ``circuit_hash`` and ``tier``,
    or, without a circuit hash, ``vk_sha256`` (a key whose circuit zksolv cannot identify) and
    the ``tier`` name it was given, if any; and ``capacity``, the registry tier it serves.
    Raises :class:`InputError` for a key that is not a 2-input Groth16/BN254 key.
    """
    _check_vk(vk)
    template = node_module_path("snarkjs", "templates", "verifier_groth16.sol.ejs")
    proc = run_node(
        [node_script("render_verifier.mjs"), template],
        timeout=60,
        what="render Solidity verifier (snarkjs template)",
        stdin=json.dumps(vk),
    )
    return _header(circuit_hash, tier, vk_sha256, capacity) + proc.stdout


@dataclass(frozen=True)
class TierKey:
    """One tier to export for a registry: its position capacity and verification key file.

    ``tier`` is the circuit name (``avsl_n16_u2_a4_k16_d4_stress``) when known, and
    ``circuit_hash`` is set only when the key was checked against this checkout's circuit
    (``zksolv export-solidity --proof``); the verifiers' headers say which.
    """

    capacity: int
    vk_path: Path
    tier: str | None = None
    circuit_hash: str | None = None


#: Why a grouped tier's key (``_g<G>``) is left out of the registry: one verifier per capacity, the plain one.
GROUPED_SKIPPED = ("a grouped circuit's key: the registry holds one verifier per capacity, the plain tier's "
                   "(grouped proofs are verified off chain by keepers)")


def tier_keys_from_folder(keys_dir: str | os.PathLike[str]) -> tuple[list[TierKey], dict[str, str]]:
    """The single-circuit tiers of the venue's key set (``zksolv verify --keys DIR``).

    The folder holds one ``<circuit name>.json`` per circuit the venue accepts; every
    ``avsl_n<N>_...`` key becomes a :class:`TierKey` of capacity ``N``. Returns the tiers and
    the other files with the reason each is left out (chunk and final keys: books proven in
    chunks are verified off chain by keepers; grouped tiers' keys, ``_g<G>``: one verifier per capacity).
    """
    from zksolv.core.errors import MalformedFieldError
    from zksolv.proofs.circuit_names import TierName, parse_circuit_name

    folder = Path(keys_dir)
    if not folder.is_dir():
        raise InputError(f"--keys: {folder} is not a folder")
    tiers: list[TierKey] = []
    skipped: dict[str, str] = {}
    if (folder / "manifest.json").is_file():  # a key set with a manifest: its entries, with their circuit hashes
        from zksolv.proofs.keyset import load_manifest

        for name, row in sorted(load_manifest(folder)["keys"].items()):
            circuit = parse_circuit_name(name, f"--keys: {folder}/manifest.json: keys")
            if isinstance(circuit, TierName) and circuit.groups:
                skipped[f"{name}.json"] = GROUPED_SKIPPED
            elif isinstance(circuit, TierName):
                tiers.append(TierKey(circuit.n_positions, folder / row["verification_key"], tier=name,
                                     circuit_hash=row["circuit_hash"]))
            else:
                skipped[f"{name}.json"] = "a chunked book's key: keepers verify chunked books off chain"
        if not tiers:
            raise InputError(f"--keys: {folder}/manifest.json lists no single-circuit tier key")
        return tiers, skipped
    for path in sorted(folder.iterdir()):
        name = path.name.removesuffix(".json")
        if path.suffix != ".json" or not path.is_file():
            skipped[path.name] = "not a <circuit name>.json key file"
            continue
        try:
            circuit = parse_circuit_name(name)
        except MalformedFieldError:
            skipped[path.name] = "not a zksolv circuit name"
            continue
        if isinstance(circuit, TierName) and circuit.groups:
            skipped[path.name] = GROUPED_SKIPPED
        elif isinstance(circuit, TierName):
            tiers.append(TierKey(circuit.n_positions, path, tier=name))
        else:
            skipped[path.name] = "a chunked book's key: keepers verify chunked books off chain"
    if not tiers:
        raise InputError(f"--keys: {folder} holds no single-circuit tier key (avsl_n<N>_u<U>_a<A>_k<K>_d<D>_<mode>.json)")
    return tiers, skipped


def _check_tier_set(tiers: Sequence[TierKey]) -> list[TierKey]:
    """``tiers`` by increasing capacity, checked: 1 to MAX_TIERS, distinct capacities, one market shape."""
    from zksolv.proofs.circuit_names import parse_tier_name

    if not 1 <= len(tiers) <= MAX_TIERS:
        raise InputError(f"tiers: a SolvencyRegistry accepts 1 to {MAX_TIERS} tiers, {len(tiers)} given")
    ordered = sorted(tiers, key=lambda t: _capacity(t.capacity))
    for before, after in zip(ordered, ordered[1:]):
        if before.capacity == after.capacity:
            raise InputError(f"tiers: capacity {after.capacity} is given twice ({before.vk_path}, {after.vk_path})")
    shapes = {}
    for t in ordered:
        if t.tier is None:
            continue
        shape = parse_tier_name(t.tier, f"tier {t.tier!r}")
        if shape.n_positions != t.capacity:
            raise InputError(f"tier {t.tier}: its capacity is {shape.n_positions}, not {t.capacity}")
        shapes[t.tier] = (shape.n_underlyings, shape.n_collateral, shape.n_scenarios, shape.depth, shape.mode)
    if len(set(shapes.values())) > 1:
        raise InputError(f"tiers: {', '.join(shapes)} are circuits of different market shapes; a registry's tiers "
                         "differ only in position capacity")
    return ordered


def _read_vk(path: Path) -> tuple[bytes, Any]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"verification key {path}: cannot read ({exc.strerror})") from None
    try:
        return data, json.loads(data)
    except (ValueError, RecursionError):
        raise InputError(f"verification key {path}: not valid JSON") from None


def export_registry(tiers: Sequence[TierKey], out_dir: str | os.PathLike[str], *,
                    key_set: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Write, for each accepted tier, ``Groth16Verifier_<name>.sol`` and
    ``Groth16BatchVerifier_<name>.sol``, then ``SolvencyRegistry.sol`` and the deploy note
    ``deploy.json`` into ``out_dir`` (every write atomic, nothing written if a key is refused).

    ``<name>`` is the tier's circuit name, or ``n<capacity>_vk_<sha16>`` for a key known only by
    its file (named after the first 16 hex digits of its sha256). Returns
    ``{"registry": path, "deploy_note": path, "tiers": [{"capacity", "tier", "circuit_hash",
    "vk_sha256", "verifier", "batch_verifier"}, ...]}`` in increasing capacity — the order of
    the registry's constructor argument. ``key_set``: the provenance of the keys (the key set's
    manifest route and ceremony transcript sha256), recorded in ``deploy.json``.
    """
    rendered = []
    for t in _check_tier_set(tiers):
        data, vk = _read_vk(Path(t.vk_path))
        digest = hashlib.sha256(data).hexdigest()
        ident = {"circuit_hash": t.circuit_hash, "tier": t.tier,
                 "vk_sha256": None if t.circuit_hash else digest, "capacity": t.capacity}
        name = t.tier or f"n{t.capacity}_vk_{digest[:16]}"
        rendered.append((t, digest, name, render_verifier(vk, **ident), render_batch_verifier(vk, **ident)))
    out = Path(out_dir)
    rows: list[dict[str, Any]] = []
    for t, digest, name, source, batch in rendered:
        verifier_path = out / f"{VERIFIER_CONTRACT}_{name}.sol"
        batch_path = out / f"{BATCH_VERIFIER_CONTRACT}_{name}.sol"
        atomic_write_text(verifier_path, source)
        atomic_write_text(batch_path, batch)
        rows.append({"capacity": t.capacity, "tier": t.tier, "circuit_hash": t.circuit_hash, "vk_sha256": digest,
                     "verifier": verifier_path, "batch_verifier": batch_path})
    registry_path = out / f"{REGISTRY_CONTRACT}.sol"
    atomic_write_text(registry_path, registry_source_path().read_text())
    note_path = out / DEPLOY_NOTE
    note = deploy_note(rows)
    if key_set is not None:
        note["key_set"] = dict(key_set)
    atomic_write_text(note_path, json.dumps(note, indent=1) + "\n")
    return {"registry": registry_path, "deploy_note": note_path, "tiers": rows}


def deploy_note(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The deploy note of an export: the contracts to deploy and the registry's constructor argument."""
    tiers = [{"capacity": r["capacity"], "tier": r["tier"], "circuit_hash": r["circuit_hash"],
              "vk_sha256": r["vk_sha256"],
              "verifier": {"file": Path(r["verifier"]).name, "contract": VERIFIER_CONTRACT},
              "batch_verifier": {"file": Path(r["batch_verifier"]).name, "contract": BATCH_VERIFIER_CONTRACT}}
             for r in rows]
    return {
        "registry": {"file": f"{REGISTRY_CONTRACT}.sol", "contract": REGISTRY_CONTRACT,
                     "constructor": REGISTRY_CONSTRUCTOR},
        "tiers": tiers,
        "constructor_args": [[[t["capacity"], f"<address of {t['verifier']['file']}>",
                               f"<address of {t['batch_verifier']['file']}>"] for t in tiers]],
        "steps": [
            "deploy every tier's Groth16Verifier and Groth16BatchVerifier (solc 0.8.28, optimizer 200 runs); "
            "each file has its own contract of that name, so address them by file",
            "deploy SolvencyRegistry from the venue's address with constructor_args (the tiers in increasing "
            "capacity, each with its own two verifiers); the deployer is the venue",
            "proveSolvent(tier, a, b, c, commitment) and proveSolventBatch(tier, proofs, commitments) take the tier's "
            "capacity; any other tier reverts UnknownTier(tier)",
        ],
    }


def verifier_sources(vk: Mapping[str, Any], *, circuit_hash: str | None = None, tier: str | None = None,
                     vk_sha256: str | None = None, capacity: int | None = None) -> dict[str, str]:
    """Both verifiers of ``vk`` as ``{file name: source}`` (compile each tier on its own: every
    tier's contracts have the same names)."""
    ident = dict(circuit_hash=circuit_hash, tier=tier, vk_sha256=vk_sha256, capacity=capacity)
    return {f"{VERIFIER_CONTRACT}.sol": render_verifier(vk, **ident),
            f"{BATCH_VERIFIER_CONTRACT}.sol": render_batch_verifier(vk, **ident)}


def registry_source() -> dict[str, str]:
    """The registry as ``{file name: source}`` (it depends on no key: tiers are constructor arguments)."""
    return {f"{REGISTRY_CONTRACT}.sol": registry_source_path().read_text()}


@dataclass(frozen=True)
class RegistryDeployment:
    """What :func:`deploy_registry` added to a script: the registry and each tier's verifiers
    (by capacity), with the compiled contracts for selectors and errors."""

    registry: Ref
    contract: CompiledContract
    verifiers: dict[int, Ref]
    batch_verifiers: dict[int, Ref]
    verifier_contracts: dict[int, CompiledContract]
    batch_verifier_contracts: dict[int, CompiledContract]


def deploy_registry(script: EvmScript, tiers: Sequence[tuple[int, Mapping[str, Any]]], *,
                    label: str = "") -> RegistryDeployment:
    """Add to ``script`` the deployment of a registry accepting ``tiers`` — ``(capacity,
    verification key)`` pairs, any order — with each tier's verifier and batch verifier.

    Steps are labelled ``"{label}deploy Groth16Verifier n<capacity>"``, ``"{label}deploy
    Groth16BatchVerifier n<capacity>"`` and ``"{label}deploy SolvencyRegistry"``. Development
    and test helper (the in-process EVM); a venue deploys what :func:`export_registry` wrote.
    """
    verifiers: dict[int, Ref] = {}
    batch_verifiers: dict[int, Ref] = {}
    compiled: dict[int, dict[str, CompiledContract]] = {}
    for capacity, vk in sorted(tiers, key=lambda t: t[0]):
        digest = hashlib.sha256(json.dumps(vk, sort_keys=True).encode()).hexdigest()
        compiled[capacity] = compile_solidity(verifier_sources(vk, vk_sha256=digest, capacity=capacity))
        verifiers[capacity] = script.deploy(f"{label}deploy {VERIFIER_CONTRACT} n{capacity}",
                                            compiled[capacity][VERIFIER_CONTRACT])
        batch_verifiers[capacity] = script.deploy(f"{label}deploy {BATCH_VERIFIER_CONTRACT} n{capacity}",
                                                  compiled[capacity][BATCH_VERIFIER_CONTRACT])
    registry = compile_solidity(registry_source())[REGISTRY_CONTRACT]
    members = [(capacity, verifiers[capacity], batch_verifiers[capacity]) for capacity in verifiers]
    ref = script.deploy(f"{label}deploy {REGISTRY_CONTRACT}", registry, [members])
    return RegistryDeployment(ref, registry, verifiers, batch_verifiers,
                              {c: v[VERIFIER_CONTRACT] for c, v in compiled.items()},
                              {c: v[BATCH_VERIFIER_CONTRACT] for c, v in compiled.items()})


def _evm_g2(point: Any) -> list[str]:
    """A snarkjs G2 point ``[[x_re, x_im], [y_re, y_im], ...]`` in EVM precompile order: x_im, x_re, y_im, y_re."""
    return [str(point[0][1]), str(point[0][0]), str(point[1][1]), str(point[1][0])]


def render_batch_verifier(vk: Mapping[str, Any], *, circuit_hash: str | None = None, tier: str | None = None,
                          vk_sha256: str | None = None, capacity: int | None = None) -> str:
    """Solidity source of ``Groth16BatchVerifier`` for ``vk``: N proofs, one pairing product.

    ``verifyBatch(uint256[] members, uint256 root) view returns (bool)``: ``members`` holds
    9 words per proof, ``a.x, a.y, b.x_im, b.x_re, b.y_im, b.y_re, c.x, c.y, commitment``
    (``b`` in EVM order, like ``proveSolvent``), each proof's public inputs being
    ``[commitment, root]``. It checks, with 128-bit coefficients ``rho_i`` taken from
    ``keccak256(members, root)`` (so whoever writes the proofs cannot choose them)::

        prod e(rho_i A_i, B_i) · e(-s alpha, beta) · e(-X, gamma) · e(-sum rho_i C_i, delta) == 1
        s = sum rho_i,  X = s IC_0 + (sum rho_i c_i) IC_1 + (s root) IC_2

    (N + 3 pairs, 2N + 4 ecMul). Key constants are written in the precompile's G2 order
    (imaginary part first). Every precompile call gets a gas cap (4x its EIP-1108 price, 2x for
    the pairing) instead of all the gas left, so a malformed member reverts
    ``PointNotOnCurve(commitment)`` (A or C) or ``PairingInputInvalid()`` (B) having burnt one
    cap, not the transaction's gas limit (issue 25). Same header as :func:`render_verifier`; no
    node needed.
    """
    _check_vk(vk)
    alpha, ic = vk["vk_alpha_1"], vk["IC"]
    consts = {
        "ALPHA_X": alpha[0], "ALPHA_Y": alpha[1],
        **{f"{name}_{part}": value for name in ("BETA", "GAMMA", "DELTA")
           for part, value in zip(("X_IM", "X_RE", "Y_IM", "Y_RE"), _evm_g2(vk[f"vk_{name.lower()}_2"]))},
        **{f"IC{i}_{xy}": ic[i][j] for i in range(N_PUBLIC + 1) for j, xy in enumerate(("X", "Y"))},
    }
    for name, value in consts.items():
        if not re.fullmatch(r"[0-9]{1,78}", str(value)):
            raise InputError(f"verification key: {name} is not a decimal coordinate")
    lines = "\n".join(f"    uint256 internal constant {name} = {value};" for name, value in consts.items())
    header = _header(circuit_hash, tier, vk_sha256, capacity).replace(
        "// source: snarkjs templates/verifier_groth16.sol.ejs rendered by zksolv.chain.solidity.render_verifier\n",
        "// source: zksolv.chain.solidity.render_batch_verifier (zksolv's own template)\n")
    return header + _BATCH_TEMPLATE.replace("    // {{CONSTANTS}}", lines)


_BATCH_TEMPLATE = """// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.28;

/// @title Groth16BatchVerifier
/// @notice Checks N Groth16 proofs of one key (public inputs [commitment, root]) with one
///         pairing product: a random linear combination whose coefficients come from a keccak
///         hash of every proof, commitment and the root, so a prover cannot choose them.
/// @dev An invalid member makes the whole batch false; the caller learns which one off chain
///      (zksolv's verify_many names it). A malformed member is not a false batch but a revert
///      that costs about what the work before it cost: every precompile call gets a gas cap of
///      a few times its price (EIP-1108), not all the gas left, so a point it refuses burns the
///      cap, not 63/64 of the transaction. A or C off the curve (or a coordinate >= q) reverts
///      `PointNotOnCurve(commitment)` at its ecMul; a B off the twist or outside G2 reverts
///      `PairingInputInvalid()` at the pairing (the precompile does not say which member).
///      Commitments and the root must be < r (else false). SolvencyRegistry checks every
///      coordinate < q first (`MemberNotInBaseField(index)`).
contract Groth16BatchVerifier {
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    /// @dev Gas caps per precompile call: 4x the EIP-1108 prices of ecAdd (150) and ecMul
    ///      (6,000), 2x the pairing's (45,000 + 34,000 per pair), headroom for a repricing.
    uint256 internal constant ECADD_GAS = 600;
    uint256 internal constant ECMUL_GAS = 24000;
    uint256 internal constant PAIRING_GAS_BASE = 90000;
    uint256 internal constant PAIRING_GAS_PER_PAIR = 68000;

    /// @notice A or C of the member for `commitment` is not a point of G1 (or a coordinate >= q).
    error PointNotOnCurve(uint256 commitment);
    /// @notice The pairing precompile refused the batch: some member's B is off the twist or
    ///         outside G2 (or a coordinate >= q).
    error PairingInputInvalid();
    // {{CONSTANTS}}

    /// @param members 9 words per proof: a.x, a.y, b.x_im, b.x_re, b.y_im, b.y_re, c.x, c.y, commitment.
    /// @param root    The second public input of every proof.
    function verifyBatch(uint256[] calldata members, uint256 root) external view returns (bool ok) {
        uint256 n = members.length / 9;
        if (n == 0 || members.length != n * 9 || root >= R) return false;
        assembly ("memory-safe") {
            // a failing precompile burns the gas it was given (capped, see ECMUL_GAS): revert at
            // once with the reason instead of running on
            function fail() {
                mstore(0, shl(224, 0x31ac2321)) // PairingInputInvalid()
                revert(0, 4)
            }
            function notOnCurve(commitment) {
                mstore(0, shl(224, 0x8be2934e)) // PointNotOnCurve(uint256)
                mstore(4, commitment)
                revert(0, 36)
            }
            // out[0..1] := s * (x, y)   (scratch: 3 words)
            function ecmul(scratch, x, y, s, out) {
                mstore(scratch, x)
                mstore(add(scratch, 32), y)
                mstore(add(scratch, 64), s)
                if iszero(staticcall(ECMUL_GAS, 7, scratch, 96, out, 64)) { fail() }
            }
            // out[0..1] := out + p   (scratch: 4 words, p must not overlap them)
            function ecadd_into(scratch, out, p) {
                mstore(scratch, mload(out))
                mstore(add(scratch, 32), mload(add(out, 32)))
                mstore(add(scratch, 64), mload(p))
                mstore(add(scratch, 96), mload(add(p, 32)))
                if iszero(staticcall(ECADD_GAS, 6, scratch, 128, out, 64)) { fail() }
            }
            // pair: negate its G1 point (y -> q - y; infinity stays) and append the G2 constant
            function negate_g2(pair, x_im, x_re, y_im, y_re) {
                mstore(add(pair, 32), mod(sub(Q, mload(add(pair, 32))), Q))
                mstore(add(pair, 64), x_im)
                mstore(add(pair, 96), x_re)
                mstore(add(pair, 128), y_im)
                mstore(add(pair, 160), y_re)
            }
            let buf := mload(0x40)
            let size := mul(n, 288)
            calldatacopy(buf, members.offset, size)
            mstore(add(buf, size), root)
            let seed := keccak256(buf, add(size, 32))
            // pairing input: (n + 3) pairs of 6 words, then 6 words of scratch
            let sc := add(buf, mul(add(n, 3), 192))
            let sumR := 0
            let sumRC := 0
            let accX := 0
            let accY := 0
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let src := add(members.offset, mul(i, 288))
                let pair := add(buf, mul(i, 192))
                mstore(sc, seed)
                mstore(add(sc, 32), i)
                let rho := or(shr(128, keccak256(sc, 64)), 1)
                // rho * A -> pair[0..1]; B -> pair[2..5]
                calldatacopy(sc, src, 64)
                mstore(add(sc, 64), rho)
                if iszero(staticcall(ECMUL_GAS, 7, sc, 96, pair, 64)) { notOnCurve(calldataload(add(src, 256))) }
                calldatacopy(add(pair, 64), add(src, 64), 128)
                // acc += rho * C
                calldatacopy(sc, add(src, 192), 64)
                mstore(add(sc, 64), rho)
                if iszero(staticcall(ECMUL_GAS, 7, sc, 96, add(sc, 64), 64)) { notOnCurve(calldataload(add(src, 256))) }
                mstore(sc, accX)
                mstore(add(sc, 32), accY)
                if iszero(staticcall(ECADD_GAS, 6, sc, 128, sc, 64)) { fail() }
                accX := mload(sc)
                accY := mload(add(sc, 32))
                let c := calldataload(add(src, 256))
                if iszero(lt(c, R)) { fail() }
                sumR := addmod(sumR, rho, R)
                sumRC := addmod(sumRC, mulmod(rho, c, R), R)
            }
            // pair n: (-(s alpha), beta)
            let pair := add(buf, mul(n, 192))
            ecmul(sc, ALPHA_X, ALPHA_Y, sumR, pair)
            negate_g2(pair, BETA_X_IM, BETA_X_RE, BETA_Y_IM, BETA_Y_RE)
            // pair n + 1: (-X, gamma), X = s IC0 + (sum rho c) IC1 + (s root) IC2
            pair := add(pair, 192)
            ecmul(sc, IC0_X, IC0_Y, sumR, pair)
            ecmul(sc, IC1_X, IC1_Y, sumRC, add(sc, 128))
            ecadd_into(sc, pair, add(sc, 128))
            ecmul(sc, IC2_X, IC2_Y, mulmod(sumR, root, R), add(sc, 128))
            ecadd_into(sc, pair, add(sc, 128))
            negate_g2(pair, GAMMA_X_IM, GAMMA_X_RE, GAMMA_Y_IM, GAMMA_Y_RE)
            // pair n + 2: (-sum rho C, delta)
            pair := add(pair, 192)
            mstore(pair, accX)
            mstore(add(pair, 32), accY)
            negate_g2(pair, DELTA_X_IM, DELTA_X_RE, DELTA_Y_IM, DELTA_Y_RE)
            let pairs := add(n, 3)
            if iszero(staticcall(add(PAIRING_GAS_BASE, mul(PAIRING_GAS_PER_PAIR, pairs)), 8, buf, mul(pairs, 192), sc, 32)) {
                fail()
            }
            ok := eq(mload(sc), 1)
        }
    }
}
"""
