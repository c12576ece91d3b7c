"""Groth16 trusted setup: a fast development route and a ceremony-based production route.

Routes
------
``dev`` (:func:`dev_setup`)
    ``groth16py.setup(r1cs)`` — a single-party setup in-process, in
    milliseconds to seconds. The toxic waste was generated on (and is known to)
    this machine, so anyone with it can forge proofs: **NOT FOR REAL FUNDS**.
    The resulting :class:`KeyPair` has ``insecure=True`` and a ``warning``;
    an :class:`InsecureSetupWarning` is also emitted. Proving material is a
    groth16py ``ProvingKey`` file (arkworks backend only).
``snarkjs`` (:func:`production_setup`)
    Phase 1 is a powers-of-tau file the user supplies (a public ceremony file
    for real use). Phase 2: ``snarkjs groth16 setup``, ``contributions`` local
    ``zkey contribute`` rounds with entropy from ``os.urandom`` (fed on stdin,
    so it never appears in a process list), an optional ``zkey beacon``, then
    ``zkey verify`` against r1cs + ptau and ``zkey export verificationkey``.
    Proving material is a ``.zkey`` (both backends). Local contributions alone
    do not make a ceremony: for real funds, other parties must contribute too
    (pass their ``.zkey`` through the snarkjs CLI) — ``insecure`` is False only
    in the sense that no single-party toxic waste is held by zksolv.

Both routes are cached in :mod:`zksolv.toolchain.cache` by a content key of (route, tool
version, r1cs contents, ptau contents, options); an unchanged circuit is never
set up twice. :func:`dev_powers_of_tau` makes a small ptau for tests and
development (new + contribute + prepare phase2), cached by power: at 2^8
prepare phase2 takes ~5 s, at 2^12 ~55 s, at 2^15 ~500 s.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zksolv.proofs.proof_io import VK_FILE
from zksolv.toolchain.cache import ArtifactCache, content_key, file_sha256
from zksolv.core.errors import InsecureSetupWarning, ToolchainError
from zksolv.toolchain.r1cs import read_binfile_section, read_binfile_sections
from zksolv.toolchain import CompiledCircuit, read_r1cs_header, snarkjs, snarkjs_version

log = logging.getLogger(__name__)

ROUTE_DEV = "dev"
ROUTE_SNARKJS = "snarkjs"

DEV_WARNING = (
    "NOT FOR REAL FUNDS: single-party development setup — the toxic waste is known to this machine, "
    "so proofs made with these keys can be forged"
)

ZKEY_FILE = "circuit_final.zkey"
ARK_PK_FILE = "proving_key.ark"
INFO_FILE = "setup.json"

# phase-2 timeouts: generous, prepare phase2 grows steeply with the power
_SETUP_TIMEOUT = 3 * 3600.0


@dataclass(frozen=True)
class KeyPair:
    """Proving and verifying material of one circuit.

    ``zkey`` (snarkjs route) and ``arkworks_pk`` (dev route) are the proving
    material; ``verification_key`` is always a snarkjs-format JSON file.
    """

    route: str
    directory: Path
    verification_key: Path
    n_public: int
    zkey: Path | None = None
    arkworks_pk: Path | None = None
    insecure: bool = False
    warning: str | None = None
    n_wires: int | None = None  # witness length the keys expect (checked before proving)

    def load_verification_key(self) -> dict[str, Any]:
        """The parsed ``verification_key.json``."""
        data = json.loads(self.verification_key.read_text())
        if not isinstance(data, dict):
            raise ToolchainError(f"{self.verification_key} is not a verification key")
        return data


# --------------------------------------------------------------------------
# powers of tau
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class PtauInfo:
    """Header facts of a ``.ptau`` file."""

    power: int
    ceremony_power: int
    prepared: bool  # has the Lagrange sections phase 2 needs


def read_ptau_info(path: Path) -> PtauInfo:
    """Read the power from a ``.ptau`` header and whether ``prepare phase2`` was run on it."""
    path = Path(path)
    data = read_binfile_section(path, b"ptau", 1, "header section")
    _, sections = read_binfile_sections(path, b"ptau")  # the table again (a few bytes): which sections exist
    (n8,) = struct.unpack_from("<I", data, 0)
    power, ceremony_power = struct.unpack_from("<II", data, 4 + n8)
    # sections 12..15: tau/alpha/beta in Lagrange basis, written by prepare phase2
    prepared = all(s in sections for s in (12, 13, 14, 15))
    return PtauInfo(power, ceremony_power, prepared)


def check_ptau_fits(ptau: Path, circuit: CompiledCircuit) -> PtauInfo:
    """Validate that ``ptau`` exists, is prepared for phase 2 and is big enough for ``circuit``.

    snarkjs needs ``2^power >= n_constraints + n_public + 1``.
    """
    ptau = Path(ptau)
    if not ptau.is_file():
        raise ToolchainError(f"powers-of-tau file {ptau} not found")
    info = read_ptau_info(ptau)
    need = circuit.n_constraints + circuit.n_public + 1
    if 2**info.power < need:
        min_power = (need - 1).bit_length()
        raise ToolchainError(
            f"powers-of-tau file {ptau.name} has power {info.power} (2^{info.power} = {2**info.power}) but "
            f"circuit {circuit.name} needs 2^power >= {need} (constraints + public + 1): use power >= {min_power}"
        )
    if not info.prepared:
        raise ToolchainError(
            f"powers-of-tau file {ptau.name} is not prepared for phase 2: run "
            "`snarkjs powersoftau prepare phase2 in.ptau out.ptau` (or use a *_final.ptau file)"
        )
    return info


def _entropy() -> str:
    return os.urandom(32).hex()


def dev_powers_of_tau(power: int, cache: ArtifactCache | None = None) -> Path:
    """A small locally generated, phase-2-prepared ``.ptau`` of the given power (cached by power).

    For tests and development only (one local contribution; its entropy is
    discarded but it was on this machine). Never regenerated once cached.
    """
    if not 1 <= power <= 28:
        raise ToolchainError(f"powers-of-tau power must be in 1..28, not {power}")
    cache = cache or ArtifactCache()
    key = content_key("dev-ptau", "bn128", power, snarkjs_version())

    def build(staging: Path) -> None:
        p0, p1 = staging / "pot_0000.ptau", staging / "pot_0001.ptau"
        final = staging / f"pot{power}_final.ptau"
        snarkjs(["powersoftau", "new", "bn128", str(power), p0], timeout=_SETUP_TIMEOUT, what="snarkjs powersoftau new")
        snarkjs(["powersoftau", "contribute", p0, p1, "--name=zksolv dev contribution"],
                stdin=_entropy() + "\n", timeout=_SETUP_TIMEOUT, what="snarkjs powersoftau contribute")
        log.info("preparing phase 2 for a 2^%d powers of tau (slow: ~5 s at 2^8, ~55 s at 2^12)", power)
        snarkjs(["powersoftau", "prepare", "phase2", p1, final], timeout=_SETUP_TIMEOUT,
                what="snarkjs powersoftau prepare phase2")
        p0.unlink()
        p1.unlink()

    entry = cache.get_or_build("ptau", key, build)
    return entry / f"pot{power}_final.ptau"


# --------------------------------------------------------------------------
# setup routes
# --------------------------------------------------------------------------

def _write_info(staging: Path, info: dict[str, Any]) -> None:
    (staging / INFO_FILE).write_text(json.dumps(info, indent=1, sort_keys=True))


def _n_public_of(vk_path: Path) -> int:
    return int(json.loads(vk_path.read_text())["nPublic"])


def dev_setup(circuit: CompiledCircuit, cache: ArtifactCache | None = None) -> KeyPair:
    """Single-party groth16py setup (cached). **NOT FOR REAL FUNDS** — see module docstring."""
    import groth16py  # heavy native extension: imported only where used

    cache = cache or ArtifactCache()
    key = content_key("setup", ROUTE_DEV, "groth16py", groth16py.__version__, Path(circuit.r1cs))

    def build(staging: Path) -> None:
        try:
            pk, vk = groth16py.setup(str(circuit.r1cs))
        except Exception as exc:  # groth16py.SetupError and friends
            raise ToolchainError(f"groth16py setup of {circuit.name} failed: {type(exc).__name__}: {exc}") from None
        pk.save(str(staging / ARK_PK_FILE))
        (staging / VK_FILE).write_text(vk.to_json())
        _write_info(staging, {"route": ROUTE_DEV, "insecure": True, "warning": DEV_WARNING,
                              "r1cs_sha256": file_sha256(circuit.r1cs), "groth16py": groth16py.__version__})

    entry = cache.get_or_build("setup", key, build)
    warnings.warn(DEV_WARNING, InsecureSetupWarning, stacklevel=2)
    log.warning(DEV_WARNING)
    vk_path = entry / VK_FILE
    return KeyPair(route=ROUTE_DEV, directory=entry, verification_key=vk_path, n_public=_n_public_of(vk_path),
                   arkworks_pk=entry / ARK_PK_FILE, insecure=True, warning=DEV_WARNING,
                   n_wires=circuit.n_wires)


def production_setup(
    circuit: CompiledCircuit,
    ptau: Path,
    *,
    contributions: int = 1,
    beacon: str | None = None,
    beacon_iterations_exp: int = 10,
    cache: ArtifactCache | None = None,
) -> KeyPair:
    """snarkjs phase-2 setup on a user-supplied powers-of-tau file (cached).

    ``contributions`` local ``zkey contribute`` rounds (>= 1) are made with
    fresh ``os.urandom`` entropy; ``beacon`` (hex string, e.g. a future block
    hash) adds a final ``zkey beacon``. The result is checked with
    ``zkey verify`` before it is cached.
    """
    ptau = Path(ptau)
    check_ptau_fits(ptau, circuit)
    if contributions < 1:
        raise ToolchainError("production setup needs at least one phase-2 contribution")
    if beacon is not None:
        if len(beacon) < 2 or len(beacon) % 2 or any(c not in "0123456789abcdefABCDEF" for c in beacon):
            raise ToolchainError("beacon must be a hex string of whole bytes (e.g. a block hash without 0x)")
        if not 10 <= beacon_iterations_exp <= 63:
            raise ToolchainError("beacon_iterations_exp must be in 10..63")
    cache = cache or ArtifactCache()
    ptau_hash = file_sha256(ptau)
    key = content_key("setup", ROUTE_SNARKJS, snarkjs_version(), Path(circuit.r1cs), bytes.fromhex(ptau_hash),
                      contributions, beacon or "", beacon_iterations_exp if beacon else 0)

    def build(staging: Path) -> None:
        work = staging / "work"
        work.mkdir()
        current = work / "c0000.zkey"
        snarkjs(["groth16", "setup", circuit.r1cs, ptau, current], timeout=_SETUP_TIMEOUT,
                what="snarkjs groth16 setup")
        for i in range(1, contributions + 1):
            nxt = work / f"c{i:04d}.zkey"
            snarkjs(["zkey", "contribute", current, nxt, f"--name=zksolv contribution {i}"],
                    stdin=_entropy() + "\n", timeout=_SETUP_TIMEOUT, what="snarkjs zkey contribute")
            current = nxt
        if beacon is not None:
            nxt = work / "beacon.zkey"
            snarkjs(["zkey", "beacon", current, nxt, beacon, str(beacon_iterations_exp), "--name=zksolv beacon"],
                    timeout=_SETUP_TIMEOUT, what="snarkjs zkey beacon")
            current = nxt
        final = staging / ZKEY_FILE
        os.replace(current, final)
        shutil.rmtree(work)
        out = snarkjs(["zkey", "verify", circuit.r1cs, ptau, final], timeout=_SETUP_TIMEOUT,
                      what="snarkjs zkey verify")
        if "ZKey Ok!" not in out.stdout + out.stderr:
            raise ToolchainError("snarkjs zkey verify did not confirm the phase-2 key (no 'ZKey Ok!')")
        snarkjs(["zkey", "export", "verificationkey", final, staging / VK_FILE], timeout=600,
                what="snarkjs zkey export verificationkey")
        _write_info(staging, {"route": ROUTE_SNARKJS, "insecure": False, "ptau_sha256": ptau_hash,
                              "r1cs_sha256": file_sha256(circuit.r1cs), "contributions": contributions,
                              "beacon": beacon, "snarkjs": snarkjs_version()})

    entry = cache.get_or_build("setup", key, build)
    vk_path = entry / VK_FILE
    return KeyPair(route=ROUTE_SNARKJS, directory=entry, verification_key=vk_path, n_public=_n_public_of(vk_path),
                   zkey=entry / ZKEY_FILE, n_wires=circuit.n_wires)


def setup_keys(circuit: CompiledCircuit, route: str = ROUTE_DEV, *, ptau: Path | None = None,
               cache: ArtifactCache | None = None, **options: Any) -> KeyPair:
    """Dispatch to :func:`dev_setup` (``route="dev"``) or :func:`production_setup` (``"snarkjs"``)."""
    if route == ROUTE_DEV:
        return dev_setup(circuit, cache=cache)
    if route == ROUTE_SNARKJS:
        if ptau is None:
            raise ToolchainError("the snarkjs route needs a powers-of-tau file (ptau=...)")
        return production_setup(circuit, ptau, cache=cache, **options)
    raise ToolchainError(f"unknown setup route {route!r} (use 'dev' or 'snarkjs')")


__all__ = [
    "KeyPair", "PtauInfo", "InsecureSetupWarning", "DEV_WARNING", "ROUTE_DEV", "ROUTE_SNARKJS",
    "read_ptau_info", "check_ptau_fits", "dev_powers_of_tau", "dev_setup", "production_setup", "setup_keys",
    "read_r1cs_header",
]
