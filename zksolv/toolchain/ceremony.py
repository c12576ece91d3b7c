"""The venue's multi-party Groth16 phase-2 ceremony over its whole circuit set.

One job: take the circuits a market's shape needs (every accepted tier; with
``chunks`` every accepted chunk size and the final circuit, as ``zksolv setup
--chunks`` builds them) from a public powers-of-tau file to a key set keepers
and traders can check.

A **ceremony folder** holds::

    ceremony.json          the transcript (below)
    powers_of_tau.ptau     the phase-1 file (a hard link or copy of the one given to init)
    <circuit name>.zkey    each circuit's current phase-2 key

The transcript records, per circuit: its name, circuit hash (zksolv's hash of the
sources and shape), r1cs sha256, the ptau's BLAKE2b-512, the initial zkey's sha256,
the zkey's current sha256 and its contributions (name, contribution hash as snarkjs
prints it, the zkey's sha256 after it, and for a beacon its hex and iterations).

Steps: :func:`init` (compile, check the ptau, ``zkey new``), :func:`contribute`
(one participant, every circuit, fresh ``os.urandom`` entropy passed over stdin to
``zksolv/js/ceremony.mjs``: never on a command line, never on disk), :func:`beacon`
(the closing public random beacon), :func:`verify` (recompile from the shipped
sources, check each zkey's whole chain against r1cs + ptau, check the transcript
against each key's history) and :func:`finalize` (the key set: verification keys,
proving keys, ``manifest.json``). Every step that writes builds a new folder beside
the old one and renames it into place (:func:`zksolv.core.atomic.staged_dir`): a failed
step leaves the folder as it was. A step refuses a folder whose zkeys are not the
ones its transcript names (a stale or mixed copy), before any work.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zksolv.core.atomic import atomic_write_text, exclusive_lock, staged_dir
from zksolv.toolchain.circuitgen import circuit_set
from zksolv.core.errors import InputError, ToolchainError
from zksolv.proofs.circuit_names import parse_circuit_name
from zksolv.toolchain import node_script, run_node, snarkjs_version
from zksolv.toolchain.cache import ArtifactCache, content_key, file_sha256
from zksolv.proofs.ptau_hashes import BY_HASH
from zksolv.proofs.keyset import transcript_coverage_problem

TRANSCRIPT = "ceremony.json"
PTAU_FILE = "powers_of_tau.ptau"
MANIFEST = "manifest.json"
FORMAT = "zksolv-ceremony/1"
KEYSET_FORMAT = "zksolv-keyset/1"

#: snarkjs keeps at most 64 bytes of a contribution's name
MAX_NAME = 64
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._@()+-]{0,63}", re.ASCII)
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+", re.ASCII)
_STEP_TIMEOUT = 3 * 3600.0


# ----------------------------------------------------------------- helpers
def blake2b_file(path: Path) -> str:
    """BLAKE2b-512 hex of a file (what ``b2sum`` prints; the ptau table's hash)."""
    h = hashlib.blake2b(digest_size=64)
    with Path(path).open("rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def known_ptau(blake2b: str) -> str | None:
    """The public Perpetual Powers of Tau file with this hash, or None."""
    hit = BY_HASH.get(blake2b)
    return hit[1] if hit else None


def transcript_sha256(folder: Path) -> str:
    """sha256 of the folder's transcript file (the hash a venue publishes and a manifest names)."""
    return file_sha256(Path(folder) / TRANSCRIPT)


def _ceremony_node(request: dict[str, Any], what: str) -> dict[str, Any]:
    """Run one step of ``zksolv/js/ceremony.mjs``; the request (entropy included) goes over stdin only."""
    proc = run_node([node_script("ceremony.mjs")], timeout=_STEP_TIMEOUT, what=what, stdin=json.dumps(request))
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise ToolchainError(f"{what}: no result from the ceremony script") from None
    if not isinstance(result, dict):
        raise ToolchainError(f"{what}: malformed result from the ceremony script")
    return result


def initial_zkey(r1cs: Path, ptau: Path, ptau_blake2b: str, name: str) -> Path:
    """``zkey new`` of ``r1cs`` on ``ptau`` (no contribution yet), made by this machine and cached by
    content (snarkjs version, r1cs, ptau hash): init copies it, verify checks chains from it."""
    key = content_key("ceremony-initial-zkey", snarkjs_version(), Path(r1cs), ptau_blake2b)

    def build(staging: Path) -> None:
        result = _ceremony_node({"op": "new", "r1cs": str(_abs(r1cs)), "ptau": str(_abs(ptau)),
                                 "out": str(staging / "initial.zkey")}, f"zkey new for {name}")
        if not result.get("ok"):
            raise ToolchainError(f"zkey new for {name} failed: {result.get('errors')}")

    return ArtifactCache().get_or_build("zkey-initial", key, build) / "initial.zkey"


def _abs(path: Path | str) -> Path:
    """An absolute path (node runs in the toolchain's folder, so relative paths would point elsewhere)."""
    return Path(os.path.abspath(path))


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def load_transcript(folder: Path) -> dict[str, Any]:
    """The folder's transcript, checked for shape; :class:`InputError` naming the file and field."""
    path = Path(folder) / TRANSCRIPT
    if not Path(folder).is_dir():
        raise InputError(f"{folder}: not a ceremony folder (no such folder)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: missing: not a ceremony folder (run `zksolv ceremony init`)") from None
    except (OSError, ValueError, RecursionError):
        raise InputError(f"{path}: not valid JSON") from None
    where = str(path)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{where}: format: expected {FORMAT!r}")
    ptau = data.get("ptau")
    if not isinstance(ptau, dict) or not isinstance(ptau.get("blake2b"), str):
        raise InputError(f"{where}: ptau: missing or malformed")
    circuits = data.get("circuits")
    if not isinstance(circuits, list) or not circuits:
        raise InputError(f"{where}: circuits: expected a non-empty list")
    for i, c in enumerate(circuits):
        if not isinstance(c, dict):
            raise InputError(f"{where}: circuits[{i}]: expected an object")
        for key in ("name", "circuit_hash", "r1cs_sha256", "ptau_blake2b", "initial_zkey_sha256", "zkey_sha256"):
            if not isinstance(c.get(key), str):
                raise InputError(f"{where}: circuits[{i}].{key}: missing or not a string")
        parse_circuit_name(c["name"], f"{where}: circuits[{i}].name")
        contribs = c.get("contributions")
        if not isinstance(contribs, list) or not all(
                isinstance(x, dict) and isinstance(x.get("name"), str) and isinstance(x.get("hash"), str)
                and isinstance(x.get("zkey_sha256"), str) for x in contribs):
            raise InputError(f"{where}: circuits[{i}].contributions: malformed")
    return data


def _check_current(folder: Path, transcript: dict[str, Any]) -> None:
    """Refuse a folder whose zkeys are not the ones the transcript names (a stale or mixed copy)."""
    for c in transcript["circuits"]:
        zkey = Path(folder) / f"{c['name']}.zkey"
        if not zkey.is_file():
            raise InputError(f"circuit {c['name']}: {zkey} is missing")
        if file_sha256(zkey) != c["zkey_sha256"]:
            raise InputError(
                f"circuit {c['name']}: {zkey} is not the key the transcript names (sha256 differs): a stale or "
                "mixed copy of the ceremony folder, or a truncated/altered key; get the latest folder from the "
                "previous participant")


def _write_transcript(folder: Path, transcript: dict[str, Any]) -> None:
    atomic_write_text(Path(folder) / TRANSCRIPT, json.dumps(transcript, indent=1, sort_keys=True) + "\n")


# --------------------------------------------------------------------- init
@dataclass(frozen=True)
class InitResult:
    """What :func:`init` wrote: the transcript and the warnings to show."""

    transcript: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def init(state: Any, ptau: Path, out: Path, *, chunks: bool = False) -> InitResult:
    """Compile the circuit set of ``state``'s shape, check ``ptau`` and write each circuit's initial
    zkey and the transcript into the new folder ``out`` (which must not exist or be empty)."""
    from zksolv.toolchain.artifacts import compile_tier
    from zksolv.toolchain.trusted_setup import read_ptau_info

    ptau, out = _abs(ptau), _abs(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"--out {out}: exists and is not an empty folder (a ceremony starts in a new folder)")
    if not ptau.is_file():
        raise InputError(f"--ptau {ptau}: not found")
    try:
        info = read_ptau_info(ptau)
    except (ToolchainError, OSError, ValueError) as exc:
        raise InputError(f"--ptau {ptau}: not a powers-of-tau file ({exc})") from None
    if not info.prepared:
        raise InputError(f"--ptau {ptau}: not prepared for phase 2 (use a *_final.ptau file, or run "
                         "`snarkjs powersoftau prepare phase2`)")
    compiled = []
    for shape in circuit_set(state, chunks):
        circuit_hash, circuit = compile_tier(shape)
        need = circuit.n_constraints + circuit.n_public + 1
        if need > 2**info.power:
            raise InputError(f"--ptau {ptau.name}: power {info.power} holds 2^{info.power} = {2**info.power}, but "
                             f"circuit {shape.name} needs {need} (constraints + public + 1): use a file of power >= "
                             f"{(need - 1).bit_length()}")
        compiled.append((shape, circuit_hash, circuit))
    blake = blake2b_file(ptau)
    known = known_ptau(blake)
    warnings = [] if known else [
        f"{ptau.name} is not one of the public Perpetual Powers of Tau files zksolv knows (BLAKE2b-512 "
        f"{blake[:16]}…): zksolv cannot vouch for its phase 1 — whoever made it may know its toxic waste"]
    circuits = []
    with staged_dir(out) as staging:
        _link_or_copy(ptau, staging / PTAU_FILE)
        for shape, circuit_hash, circuit in compiled:
            zkey = staging / f"{shape.name}.zkey"
            shutil.copyfile(initial_zkey(circuit.r1cs, ptau, blake, shape.name), zkey)
            digest = file_sha256(zkey)
            circuits.append({"name": shape.name, "circuit_hash": circuit_hash, "r1cs_sha256": file_sha256(circuit.r1cs),
                             "constraints": circuit.n_constraints, "ptau_blake2b": blake,
                             "initial_zkey_sha256": digest, "zkey_sha256": digest, "contributions": []})
        transcript = {"format": FORMAT, "snarkjs": snarkjs_version(), "chunks": chunks,
                      "ptau": {"blake2b": blake, "power": info.power, "known_file": known},
                      "circuits": circuits}
        _write_transcript(staging, transcript)
    return InitResult(transcript, warnings)


# --------------------------------------------------------- contribute/beacon
@dataclass(frozen=True)
class Contribution:
    """One circuit's new contribution: what the participant publishes."""

    circuit: str
    hash: str
    zkey_sha256: str


def _check_name(name: str) -> None:
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise InputError(f"--name {name!r}: 1-{MAX_NAME} characters of letters, digits, space and ._@()+- "
                         "(snarkjs stores it in every key; it is public)")


def _add_round(folder: Path, record: dict[str, Any], request_of: Any, what: str) -> list[Contribution]:
    """Apply one round (a contribution or the beacon) to every circuit, in a staged copy of ``folder``."""
    folder = _abs(folder)
    load_transcript(folder)  # a clear error for a missing folder before the lock file is made beside it
    # one step at a time per folder: two processes contributing to the same state would otherwise race,
    # the later rename silently dropping the earlier contribution (the lock file sits beside the folder)
    with exclusive_lock(folder.parent / f".{folder.name}.ceremony.lock"):
        return _add_round_locked(folder, record, request_of, what)


def _add_round_locked(folder: Path, record: dict[str, Any], request_of: Any, what: str) -> list[Contribution]:
    transcript = load_transcript(folder)
    _check_current(folder, transcript)
    if any(x.get("type") == "beacon" for c in transcript["circuits"] for x in c["contributions"]):
        raise InputError(f"{folder}: the beacon closed this ceremony; nothing more can be added (finalize it)")
    previous = transcript_sha256(folder)
    added: list[Contribution] = []
    with staged_dir(folder) as staging:
        for item in folder.iterdir():
            if item.is_file() and not item.name.endswith(".zkey") and item.name != TRANSCRIPT:
                _link_or_copy(item, staging / item.name)
        for c in transcript["circuits"]:
            old, new = folder / f"{c['name']}.zkey", staging / f"{c['name']}.zkey"
            result = _ceremony_node({**request_of(), "in": str(old), "out": str(new)}, f"{what} to {c['name']}")
            if not result.get("ok") or not isinstance(result.get("hash"), str):
                raise ToolchainError(f"{what} to circuit {c['name']} failed: {result.get('errors')}")
            digest = file_sha256(new)
            c["contributions"].append({**record, "hash": result["hash"], "zkey_sha256": digest,
                                       "previous_transcript_sha256": previous})
            c["zkey_sha256"] = digest
            added.append(Contribution(c["name"], result["hash"], digest))
        _write_transcript(staging, transcript)
    return added


def contribute(folder: Path, name: str) -> list[Contribution]:
    """Add one participant's contribution (named ``name``) to every circuit of the ceremony in ``folder``.

    Each circuit gets 32 fresh bytes of ``os.urandom`` (snarkjs mixes in its own random bytes too),
    handed to node over stdin and dropped after the step. Needs only the folder (no market, no checkout).
    """
    _check_name(name)
    return _add_round(Path(folder), {"name": name, "type": "contribution"},
                      lambda: {"op": "contribute", "name": name, "entropy": os.urandom(32).hex()},
                      "ceremony contribute")


def beacon(folder: Path, beacon_hex: str, iterations_exp: int = 10, *, name: str = "zksolv beacon") -> list[Contribution]:
    """Apply the closing public random beacon (``beacon_hex``, e.g. a future block hash) to every circuit."""
    text = beacon_hex[2:] if beacon_hex.lower().startswith("0x") else beacon_hex
    if _HEX.fullmatch(text) is None or not 1 <= len(text) // 2 <= 255:
        raise InputError(f"--hex {beacon_hex!r}: not a hex string of 1-255 whole bytes (e.g. a block hash)")
    if not 10 <= iterations_exp <= 63:
        raise InputError(f"--iterations-exp {iterations_exp}: must be in 10..63")
    _check_name(name)
    return _add_round(Path(folder), {"name": name, "type": "beacon", "beacon": text.lower(),
                                     "iterations_exp": iterations_exp},
                      lambda: {"op": "beacon", "name": name, "beacon": text.lower(), "iterations_exp": iterations_exp},
                      "ceremony beacon")


# ------------------------------------------------------------------- verify
@dataclass
class CeremonyReport:
    """Outcome of :func:`verify`: ``valid`` only if ``failures`` is empty.

    ``waived`` lists the production requirements the caller explicitly waived (``unpublished_ptau``:
    a phase-1 file not in the shipped table; ``no_beacon``: no closing beacon). A report with a
    waiver can be valid, but ``production`` is then False: such keys are for tests, never for real funds.
    """

    transcript_sha256: str
    ptau_blake2b: str
    ptau_known_file: str | None
    circuits: list[dict[str, Any]]
    contributors: list[dict[str, Any]]
    failures: list[str]
    warnings: list[str]
    waived: list[str] = field(default_factory=list)
    #: sha256 of the key set's ``manifest.json`` (None for a ceremony folder): the pin for
    #: ``zksolv verify --keys --key-set-sha256``, covering the transcript and every key file.
    key_set_sha256: str | None = None

    @property
    def valid(self) -> bool:
        return not self.failures

    @property
    def production(self) -> bool:
        """Valid with no requirement waived: the only result that vouches for keys guarding real funds."""
        return self.valid and not self.waived

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``zksolv ceremony verify --json``)."""
        return {"valid": self.valid, "production": self.production, "waived": self.waived,
                "transcript_sha256": self.transcript_sha256, "key_set_sha256": self.key_set_sha256,
                "ptau_blake2b": self.ptau_blake2b,
                "ptau_known_file": self.ptau_known_file, "circuits": self.circuits,
                "contributors": self.contributors, "failures": self.failures, "warnings": self.warnings}


def _compare_history(name: str, recorded: list[dict[str, Any]], history: list[dict[str, Any]]) -> str | None:
    """Why the transcript's contributions differ from the key's own history, or None."""
    if len(recorded) != len(history):
        return (f"circuit {name}: the transcript lists {len(recorded)} contribution(s), the key holds "
                f"{len(history)}")
    for i, (r, h) in enumerate(zip(recorded, history), 1):
        if r["hash"] != h.get("hash"):
            return f"circuit {name}: contribution #{i} ({r['name']}): hash differs from the key's"
        if r["name"] != h.get("name"):
            return f"circuit {name}: contribution #{i}: the transcript names {r['name']!r}, the key {h.get('name')!r}"
        if (r.get("type") == "beacon") != (h.get("type") == "beacon"):
            return f"circuit {name}: contribution #{i}: beacon or not differs from the key"
        if r.get("type") == "beacon" and (r.get("beacon") != h.get("beacon")
                                          or r.get("iterations_exp") != h.get("iterations_exp")):
            return f"circuit {name}: contribution #{i}: beacon value or iterations differ from the key"
    return None


def verify(folder: Path, state: Any, *, ptau: Path | None = None, allow_unpublished_ptau: bool = False,
           allow_no_beacon: bool = False) -> CeremonyReport:
    """Check a ceremony folder (or a finalized key set) against ``state``'s shape from scratch.

    Recompiles every circuit from the shipped sources; checks circuit hash and r1cs sha256 against
    the transcript, each zkey's whole contribution chain against r1cs + ptau (snarkjs'
    ``zkey verify``), the transcript's contributions against each key's own history, that every
    circuit went through the same rounds, ending with the public random beacon, that the ptau is
    one of the published Perpetual Powers of Tau files (:mod:`zksolv.proofs.ptau_hashes`), and,
    in a key set, that each verification key is the one its proving key gives and that the manifest
    lists no key outside the transcript. :class:`InputError` for a folder of another market shape or
    an unreadable transcript; every other failure is listed in the report (naming circuit and file).

    ``allow_unpublished_ptau`` / ``allow_no_beacon`` waive those two requirements (for tests and
    dry runs on small generated ptau files): the report may then be valid but records the waiver
    and is not :attr:`CeremonyReport.production`.
    """
    from zksolv.toolchain.artifacts import compile_tier

    folder = _abs(folder)
    transcript = load_transcript(folder)
    t_hash = transcript_sha256(folder)
    expected = circuit_set(state, bool(transcript.get("chunks")))
    names = [c["name"] for c in transcript["circuits"]]
    if sorted(names) != sorted(s.name for s in expected):
        raise InputError(f"{folder / TRANSCRIPT}: its circuits {names} are not the set of this market's shape "
                         f"{[s.name for s in expected]} (a ceremony of another market shape)")
    ptau_path = _abs(ptau) if ptau is not None else folder / PTAU_FILE
    if not ptau_path.is_file():
        raise InputError(f"{ptau_path}: powers-of-tau file not found (pass --ptau FILE)")
    failures: list[str] = []
    warnings: list[str] = []
    waived: list[str] = []
    blake = blake2b_file(ptau_path)
    known = known_ptau(blake)
    if blake != transcript["ptau"]["blake2b"]:
        failures.append(f"{ptau_path}: BLAKE2b-512 differs from the transcript's ptau hash")
    if known is None:
        # whoever made an unknown phase 1 may know tau, alpha, beta: from the H-query points they get
        # [1/delta]_1 and forge any proof, whatever phase 2 did; so no verdict vouches for it by default
        unpublished = (f"{ptau_path}: its BLAKE2b-512 ({blake[:16]}…) is not one of the published Perpetual Powers "
                       "of Tau files zksolv ships hashes of: whoever made it may know its toxic waste and forge "
                       "proofs under every key of this ceremony")
        if allow_unpublished_ptau:
            waived.append("unpublished_ptau")
            warnings.append(f"{unpublished} (waived with --allow-unpublished-ptau: NOT FOR REAL FUNDS)")
        else:
            failures.append(unpublished)
    manifest, digest = None, None
    if (folder / MANIFEST).is_file():
        # read once: the digest printed as the pin is the hash of the very manifest checked below
        raw = (folder / MANIFEST).read_bytes()
        manifest, digest = _load_manifest(folder, raw=raw), hashlib.sha256(raw).hexdigest()
    if manifest is not None:
        why = transcript_coverage_problem(transcript, manifest)
        if why is not None:
            failures.append(f"{folder / MANIFEST}: {why}")
    by_shape = {s.name: s for s in expected}
    rows: list[dict[str, Any]] = []
    rounds: list[tuple[str, str, Any, Any]] | None = None
    for c in transcript["circuits"]:
        name = c["name"]
        zkey = folder / f"{name}.zkey"
        row: dict[str, Any] = {"circuit": name, "ok": False}
        rows.append(row)
        circuit_hash, circuit = compile_tier(by_shape[name])
        row["circuit_hash"] = circuit_hash
        if c["circuit_hash"] != circuit_hash:
            failures.append(f"circuit {name}: the transcript's circuit hash is not this installation's circuit")
            continue
        if c["r1cs_sha256"] != file_sha256(circuit.r1cs):
            failures.append(f"circuit {name}: the transcript's r1cs sha256 is not the recompiled circuit's")
            continue
        if c["ptau_blake2b"] != transcript["ptau"]["blake2b"]:
            failures.append(f"circuit {name}: its ptau hash differs from the transcript's ptau")
            continue
        if not zkey.is_file():
            failures.append(f"circuit {name}: {zkey} is missing")
            continue
        if file_sha256(zkey) != c["zkey_sha256"]:
            failures.append(f"circuit {name}: {zkey} is not the key the transcript names (sha256 differs)")
            continue
        recorded = c["contributions"]
        if recorded and recorded[-1]["zkey_sha256"] != c["zkey_sha256"]:
            failures.append(f"circuit {name}: the transcript's last contribution does not end at the current key")
            continue
        if not recorded:
            failures.append(f"circuit {name}: no contribution yet (the initial key's toxic waste is public)")
            continue
        init_zkey = initial_zkey(circuit.r1cs, ptau_path, blake, name)
        if file_sha256(init_zkey) != c["initial_zkey_sha256"]:
            failures.append(f"circuit {name}: the transcript's initial key is not zkey new of the recompiled r1cs "
                            "and the ptau")
            continue
        result = _ceremony_node({"op": "verify", "r1cs": str(circuit.r1cs), "ptau": str(ptau_path), "zkey": str(zkey),
                                 "init": str(init_zkey)}, f"ceremony verify of {name}")
        if not result.get("ok"):
            errors = "; ".join(str(e) for e in result.get("errors") or [])[-300:]
            failures.append(f"circuit {name}: {zkey} does not verify against its r1cs and the ptau ({errors})")
            continue
        history = result.get("contributions") or []
        why = _compare_history(name, recorded, history)
        if why:
            failures.append(why)
            continue
        sequence = [(r["name"], r.get("type", "contribution"), r.get("beacon"), r.get("iterations_exp"))
                    for r in recorded]
        if rounds is None:
            rounds = sequence
        elif sequence != rounds:
            failures.append(f"circuit {name}: its contributions {[r[:2] for r in sequence]} differ from the other "
                            f"circuits' {[r[:2] for r in rounds]} (a contribution dropped or added for one circuit, "
                            "or another beacon)")
            continue
        if manifest is not None:
            why = _check_manifest_key(folder, manifest, name, circuit_hash, zkey, t_hash)
            if why:
                failures.append(why)
                continue
        row.update(ok=True, contributions=[{"name": r["name"], "hash": r["hash"], "type": r.get("type")}
                                           for r in recorded])
    if rounds and rounds[-1][1] != "beacon":
        # the beacon (a value nobody could know while contributing) makes the last contributor unable
        # to choose the final key; a key set without it is not what the runbook announces
        missing = ("no closing random beacon: the last round is not `zksolv ceremony beacon`"
                   if any(r[1] == "beacon" for r in rounds) else
                   "no closing random beacon was applied (`zksolv ceremony beacon`)")
        if allow_no_beacon:
            waived.append("no_beacon")
            warnings.append(f"{missing} (waived with --allow-no-beacon: NOT FOR REAL FUNDS)")
        else:
            failures.append(missing)
    contributors = [{"name": n, "type": t, **({"beacon": b, "iterations_exp": e} if t == "beacon" else {})}
                    for n, t, b, e in (rounds or [])]
    return CeremonyReport(t_hash, blake, known, rows, contributors, failures, warnings, waived, digest)


# ----------------------------------------------------------------- finalize
def _load_manifest(folder: Path, raw: bytes | None = None) -> dict[str, Any]:
    from zksolv.proofs.keyset import load_manifest

    return load_manifest(Path(folder), raw=raw)



def _check_manifest_key(folder: Path, manifest: dict[str, Any], name: str, circuit_hash: str, zkey: Path,
                        t_hash: str) -> str | None:
    """In a key set: the manifest names this transcript and circuit, and the verification key is the zkey's own."""
    if manifest.get("transcript_sha256") != t_hash:
        return f"{folder / MANIFEST}: transcript_sha256 is not the hash of {folder / TRANSCRIPT}"
    entry = manifest["keys"].get(name)
    if entry is None:
        return f"circuit {name}: not in {folder / MANIFEST}"
    if entry.get("circuit_hash") != circuit_hash:
        return f"circuit {name}: {folder / MANIFEST} names another circuit hash"
    vk_path = folder / f"{name}.json"
    # read once: the bytes hashed against the manifest are the bytes compared with the zkey's own key (a
    # file swapped between two reads let the manifest list another setup's key, adversary review round 3)
    try:
        vk_bytes = vk_path.read_bytes() if vk_path.is_file() else None
    except OSError:
        vk_bytes = None
    if vk_bytes is None or hashlib.sha256(vk_bytes).hexdigest() != entry.get("verification_key_sha256"):
        return f"circuit {name}: {vk_path} is missing or does not match the manifest's sha256"
    if file_sha256(zkey) != entry.get("proving_key_sha256"):
        return f"circuit {name}: {zkey} does not match the manifest's sha256"
    with tempfile.TemporaryDirectory() as tmp:
        exported = Path(tmp) / "vk.json"
        result = _ceremony_node({"op": "export_vk", "zkey": str(zkey), "out": str(exported)},
                                f"export the verification key of {name}")
        try:
            same = bool(result.get("ok")) and json.loads(exported.read_text()) == json.loads(vk_bytes)
        except (OSError, ValueError, RecursionError):
            same = False
        if not same:
            return f"circuit {name}: {vk_path} is not the verification key of {zkey.name}"
    return None


def finalize(folder: Path, keys_out: Path) -> dict[str, Any]:
    """Write the venue's key set from a ceremony folder: ``<circuit>.json`` verification keys,
    ``<circuit>.zkey`` proving keys, the transcript and ``manifest.json`` (per key: circuit name,
    circuit hash, sha256 of each key file; the transcript's sha256). Returns the manifest.

    Refuses a folder whose keys are not the transcript's, or a circuit without contributions.
    Run :func:`verify` before publishing: finalize checks consistency, not the chain.
    """
    from zksolv.proofs.keyset import write_manifest

    folder, keys_out = _abs(folder), _abs(keys_out)
    transcript = load_transcript(folder)
    _check_current(folder, transcript)
    for c in transcript["circuits"]:
        if not c["contributions"]:
            raise InputError(f"circuit {c['name']}: no contribution yet: a key set needs at least one "
                             "(`zksolv ceremony contribute`) and should end with a beacon")
    if keys_out.exists() and (not keys_out.is_dir() or any(keys_out.iterdir())):
        raise InputError(f"--keys-out {keys_out}: exists and is not an empty folder")
    t_hash = transcript_sha256(folder)
    with staged_dir(keys_out) as staging:
        shutil.copyfile(folder / TRANSCRIPT, staging / TRANSCRIPT)
        entries = []
        for c in transcript["circuits"]:
            name = c["name"]
            _link_or_copy(folder / f"{name}.zkey", staging / f"{name}.zkey")
            result = _ceremony_node({"op": "export_vk", "zkey": str(staging / f"{name}.zkey"),
                                     "out": str(staging / f"{name}.json")}, f"export the verification key of {name}")
            if not result.get("ok"):
                raise ToolchainError(f"ceremony finalize: exporting the verification key of {name} failed")
            entries.append({"circuit": name, "circuit_hash": c["circuit_hash"], "setup": "ceremony",
                            "verification_key": f"{name}.json", "proving_key": f"{name}.zkey"})
        manifest = write_manifest(staging, entries, transcript_sha256=t_hash, route="ceremony")
    return manifest


__all__ = ["TRANSCRIPT", "PTAU_FILE", "MANIFEST", "InitResult", "Contribution", "CeremonyReport", "blake2b_file",
           "known_ptau", "circuit_set", "transcript_sha256", "load_transcript", "init", "contribute", "beacon",
           "verify", "finalize"]
