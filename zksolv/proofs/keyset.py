"""The venue's key set on disk and the checks every keeper runs on it before any pairing.

A key set (``zksolv ceremony finalize --keys-out KEYS``, or ``zksolv setup --keys-out KEYS``
for development keys) is a folder of ``<circuit name>.json`` verification keys (names as
:mod:`zksolv.proofs.circuit_names` spells them), optionally
``<circuit name>.zkey`` proving keys, and ``manifest.json``::

    {"format": "zksolv-keyset/1", "route": "ceremony" | "dev" | "snarkjs",
     "transcript_sha256": <sha256 of ceremony.json> | null,
     "keys": {<circuit name>: {"circuit_hash", "verification_key", "verification_key_sha256",
                               "proving_key"?, "proving_key_sha256"?}}}

:func:`check_key_set` ties the files to the manifest (sha256) and the manifest's circuits to
the circuits of the keeper's own market shape (circuit hashes recomputed from the shipped
sources). It does not redo the ceremony's cryptographic checks (``zksolv ceremony verify``,
run once per key set) and imports no node code.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Mapping

from zksolv.core.atomic import atomic_write_text
from zksolv.core.errors import InputError
from zksolv.proofs.circuit_names import parse_circuit_name

MANIFEST = "manifest.json"
TRANSCRIPT = "ceremony.json"
FORMAT = "zksolv-keyset/1"
_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def write_manifest(folder: Path, entries: list[dict[str, Any]], *, transcript_sha256: str | None,
                   route: str) -> dict[str, Any]:
    """Hash the key files named by ``entries`` (circuit, circuit_hash, verification_key[, proving_key])
    in ``folder`` and write ``manifest.json`` atomically; returns the manifest."""
    keys: dict[str, Any] = {}
    for e in entries:
        row: dict[str, Any] = {"circuit_hash": e["circuit_hash"], "verification_key": e["verification_key"],
                               "verification_key_sha256": _sha256(Path(folder) / e["verification_key"])}
        if e.get("proving_key"):
            row["proving_key"] = e["proving_key"]
            row["proving_key_sha256"] = _sha256(Path(folder) / e["proving_key"])
        keys[e["circuit"]] = row
    manifest = {"format": FORMAT, "route": route, "transcript_sha256": transcript_sha256, "keys": keys}
    atomic_write_text(Path(folder) / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def _manifest_bytes(folder: Path) -> bytes:
    path = Path(folder) / MANIFEST
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"--keys: {path} is missing: a key set needs its manifest (write it with "
                         "`zksolv ceremony finalize` or `zksolv setup --keys-out`)") from None
    except OSError as exc:
        raise InputError(f"--keys: {path} is not readable ({exc.strerror})") from None


def key_set_sha256(folder: Path) -> str:
    """The key set's digest: sha256 of its ``manifest.json``, which names the transcript's sha256 and
    every key file's sha256, so pinning it pins every byte a keeper uses (``zksolv ceremony verify``
    prints it for a key set it checked; ``zksolv verify --keys --key-set-sha256`` pins it)."""
    return hashlib.sha256(_manifest_bytes(folder)).hexdigest()


def load_manifest(folder: Path, *, raw: bytes | None = None) -> dict[str, Any]:
    """The key set's manifest (``raw``: its bytes, already read), checked for shape; :class:`InputError`
    naming the file and field."""
    path = Path(folder) / MANIFEST
    try:
        data = json.loads((_manifest_bytes(folder) if raw is None else raw).decode("utf-8"))
    except (ValueError, RecursionError):
        raise InputError(f"--keys: {path} is not valid JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"--keys: {path}: format: expected {FORMAT!r}")
    keys = data.get("keys")
    if not isinstance(keys, dict) or not keys:
        raise InputError(f"--keys: {path}: keys: expected a non-empty object")
    t_hash = data.get("transcript_sha256")
    if t_hash is not None and (not isinstance(t_hash, str) or not _HEX64.fullmatch(t_hash)):
        raise InputError(f"--keys: {path}: transcript_sha256: not a sha256")
    if data.get("route") == "ceremony" and t_hash is None:
        raise InputError(f"--keys: {path}: route 'ceremony' without a transcript_sha256")
    for name, row in keys.items():
        parse_circuit_name(name, f"--keys: {path}: keys[{name!r}]")
        if not isinstance(row, dict):
            raise InputError(f"--keys: {path}: keys[{name!r}]: malformed")
        for field in ("circuit_hash", "verification_key_sha256"):
            if not isinstance(row.get(field), str) or not _HEX64.fullmatch(row[field]):
                raise InputError(f"--keys: {path}: keys[{name!r}].{field}: not a sha256")
        if row.get("verification_key") != f"{name}.json":
            raise InputError(f"--keys: {path}: keys[{name!r}].verification_key: must be {name}.json")
        if "proving_key" in row and row["proving_key"] != f"{name}.zkey":
            raise InputError(f"--keys: {path}: keys[{name!r}].proving_key: must be {name}.zkey")
    return data


def parse_transcript_pin(value: str | None, option: str = "--transcript-sha256") -> str | None:
    """A ``--transcript-sha256`` (or ``option``, e.g. ``--key-set-sha256``) value as 64 lower-case hex
    digits (None stays None); :class:`InputError` otherwise."""
    if value is None:
        return None
    text = value.strip().lower()
    if not _HEX64.fullmatch(text):
        printed = option.removeprefix("--").replace("-", "_")
        raise InputError(f"{option} {value!r}: expected the 64 hex digits of a sha256 (the "
                         f"{printed} `zksolv ceremony verify` printed)")
    return text


def check_key_set(folder: Path, expected: Mapping[str, str], *, proving: bool = False,
                  transcript_sha256: str | None = None, key_set_sha256: str | None = None) -> dict[str, Any]:
    """Check a key set before any pairing; returns its manifest, or raises :class:`InputError` with the reason.

    ``expected``: circuit name -> circuit hash of the circuits of the market's shape (this
    installation's). Every manifest entry for one of them must carry that hash (entries of other
    shapes are never used, so not checked); a key file the manifest does not list is never used; every file the
    manifest names must be present with its sha256 (``proving``: the proving keys too); a
    ``ceremony.json`` in the folder must be the transcript the manifest names, and every key the
    manifest lists a circuit of that transcript.

    ``transcript_sha256``: the transcript hash this keeper pinned after running ``zksolv ceremony
    verify`` once on the key set; a key set naming another transcript (or none) is refused. It does
    not pin the key files: the transcript names each circuit's proving key, not its verification
    key, so a verification key swapped with its sha256 in the manifest passes a transcript pin.

    ``key_set_sha256``: the key set digest (:func:`key_set_sha256`, sha256 of ``manifest.json``)
    ``zksolv ceremony verify`` printed; pins the manifest, hence the transcript and every key file,
    so a folder changed later in any key is refused.

    The returned manifest carries ``transcript_waivers``: the production requirements the (pinned)
    transcript shows unmet (``unpublished_ptau``, ``no_beacon``), which ``ceremony verify`` refuses
    unless waived for tests; :func:`key_setup_label` names them NOT FOR REAL FUNDS.
    """
    folder = Path(folder)
    pin = parse_transcript_pin(transcript_sha256)
    key_pin = parse_transcript_pin(key_set_sha256, "--key-set-sha256")
    if not folder.is_dir():
        raise InputError(f"--keys: {folder} is not a folder")
    raw = _manifest_bytes(folder)
    if key_pin is not None and hashlib.sha256(raw).hexdigest() != key_pin:
        raise InputError(f"--keys: {folder / MANIFEST} is not the key set pinned with --key-set-sha256 "
                         f"({key_pin[:16]}…): its manifest, hence a key file or the transcript it names, changed "
                         "since `zksolv ceremony verify` checked it; run it again before trusting this key set")
    manifest = load_manifest(folder, raw=raw)
    if pin is not None and manifest.get("transcript_sha256") != pin:
        named = manifest.get("transcript_sha256")
        raise InputError(f"--keys: {folder / MANIFEST} names the ceremony transcript "
                         f"{(named[:16] + '…') if named else '(none: not a ceremony key set)'}, not the one pinned "
                         f"with --transcript-sha256 ({pin[:16]}…): run `zksolv ceremony verify` on this key set "
                         "before trusting it")
    for name, row in manifest["keys"].items():
        if name not in expected:
            continue  # a key of another shape (e.g. a size the venue no longer accepts): never used for this market
        if row["circuit_hash"] != expected[name]:
            raise InputError(f"--keys: circuit {name}: the manifest's circuit hash {row['circuit_hash'][:16]}… is not "
                             f"the circuit of this market's shape ({expected[name][:16]}…)")
        files = [("verification_key", "verification_key_sha256")]
        if proving and "proving_key" in row:
            files.append(("proving_key", "proving_key_sha256"))
        for file_field, hash_field in files:
            path = folder / row[file_field]
            if not path.is_file():
                raise InputError(f"--keys: {path} is missing (listed in {MANIFEST})")
            if _sha256(path) != row.get(hash_field):
                raise InputError(f"--keys: {path} does not match its sha256 in {MANIFEST} (altered or replaced)")
    transcript = folder / TRANSCRIPT
    manifest["transcript_waivers"] = []
    if manifest.get("transcript_sha256") is not None:
        # read once: the bytes hashed against the (pinned) manifest are the bytes the waivers and the
        # coverage are read from (two reads let a swap in between pass a no-beacon key set as production)
        try:
            data = transcript.read_bytes() if transcript.is_file() else None
        except OSError:
            data = None
        if data is None or hashlib.sha256(data).hexdigest() != manifest["transcript_sha256"]:
            raise InputError(f"--keys: {transcript} is missing or is not the transcript {MANIFEST} names")
        manifest["transcript_waivers"] = _check_keys_covered_by_transcript(transcript, manifest, data)
    return manifest


def transcript_waivers(transcript: Mapping[str, Any]) -> list[str]:
    """The production requirements a ceremony transcript shows unmet: ``unpublished_ptau`` (its
    phase-1 BLAKE2b is not a published Perpetual Powers of Tau file) and ``no_beacon`` (some circuit's
    last contribution is not the closing random beacon). ``zksolv ceremony verify`` refuses both
    unless waived for tests; read here from the transcript alone (no node), so a waived key set never
    reads as a production one. The transcript's claims were checked against the keys by ``ceremony
    verify``; under a pin they are the checked ones."""
    from zksolv.proofs.ptau_hashes import BY_HASH

    waived = []
    ptau = transcript.get("ptau")
    if not isinstance(ptau, Mapping) or BY_HASH.get(str(ptau.get("blake2b"))) is None:
        waived.append("unpublished_ptau")
    circuits = transcript.get("circuits") or []
    if not circuits or any(not isinstance(c, Mapping) or not c.get("contributions")
                           or not isinstance(c["contributions"][-1], Mapping)
                           or c["contributions"][-1].get("type") != "beacon" for c in circuits):
        waived.append("no_beacon")
    return waived


def transcript_coverage_problem(transcript: Mapping[str, Any], manifest: Mapping[str, Any]) -> str | None:
    """Why a ceremony key set's manifest lists a key its transcript did not make, or None.

    Every key a ceremony key set lists must be a circuit of its transcript, with the same circuit hash.
    Without this a key set from an honest ceremony over some circuits (say the tiers only) could be
    extended with keys of the other circuits (chunk, final) made with known toxic waste: their
    circuit hashes are public, so the manifest would check out while the keys forge proofs.
    Shared by ``zksolv verify --keys`` (:func:`check_key_set`) and ``zksolv ceremony verify``.
    """
    try:
        circuits = {str(c["name"]): str(c["circuit_hash"]) for c in transcript["circuits"]}
    except (KeyError, TypeError):
        return f"{TRANSCRIPT}: not a ceremony transcript (circuits[].name, circuit_hash)"
    for name, row in manifest["keys"].items():
        if name not in circuits:
            return (f"circuit {name}: listed in {MANIFEST} but not made by the ceremony of {TRANSCRIPT} "
                    "(a key no ceremony vouches for)")
        if circuits[name] != row["circuit_hash"]:
            return f"circuit {name}: {MANIFEST}'s circuit hash differs from {TRANSCRIPT}'s"
    return None


def _check_keys_covered_by_transcript(transcript: Path, manifest: Mapping[str, Any], data: bytes) -> list[str]:
    """:func:`transcript_coverage_problem` of the transcript file, as an :class:`InputError`; returns its
    :func:`transcript_waivers`."""
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        raise InputError(f"--keys: {transcript}: not a ceremony transcript (not readable JSON)") from None
    why = transcript_coverage_problem(parsed, manifest)
    if why is not None:
        raise InputError(f"--keys: {why}")
    return transcript_waivers(parsed)


_WAIVER_TEXT = {"unpublished_ptau": "its phase-1 file is not a published Perpetual Powers of Tau file",
                "no_beacon": "not closed by a random beacon"}


def key_setup_label(manifest: Mapping[str, Any], *, pinned: bool = False, key_set_pinned: bool = False) -> str:
    """How a report describes the key set's origin (``pinned``: its transcript is the one the keeper
    pinned; ``key_set_pinned``: its manifest, hence every key file, is the one the keeper pinned). A
    transcript that shows a waived production requirement (``transcript_waivers``) is NOT FOR REAL FUNDS."""
    route = manifest.get("route")
    if route == "ceremony":
        if key_set_pinned:
            how = "pinned"
        elif pinned:
            how = "transcript pinned, key files not pinned: pass --key-set-sha256"
        else:
            how = "not pinned: pass --key-set-sha256"
        waived = [_WAIVER_TEXT.get(w, w) for w in manifest.get("transcript_waivers") or []]
        warn = f"; {', '.join(waived)}: NOT FOR REAL FUNDS" if waived else ""
        return f"the venue's key set (ceremony transcript {str(manifest.get('transcript_sha256'))[:16]}…, {how}{warn})"
    if route == "dev":
        return "the venue's key set (dev: INSECURE development setup, NOT FOR REAL FUNDS)"
    return f"the venue's key set ({route} setup, no ceremony transcript)"
