"""Pluggable Groth16 proving backends with one interface.

``SnarkjsBackend``
    ``snarkjs groth16 prove`` (node); needs a ``.zkey`` (snarkjs setup route).
``ArkworksBackend``
    groth16py (arkworks, in-process, ~2.5x faster than snarkjs); works with the
    dev route's proving key or imports the ``.zkey`` of the snarkjs route
    (``groth16py.import_zkey``), so ceremony keys prove without node.

Both take a circom ``.wtns`` and return a :class:`Proof` in snarkjs JSON shape
(``pi_b`` coordinates ``[real, imaginary]``), which verifies with snarkjs and
with :mod:`zksolv.verifier.groth16`.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zksolv.core.errors import InputError, ProofError, ToolchainError, ZksolvError
from zksolv.core.fixedpoint import FIELD_MODULUS
from zksolv.toolchain.r1cs import read_wtns_with_prime
from zksolv.toolchain.trusted_setup import KeyPair


BN254_R = FIELD_MODULUS


@dataclass(frozen=True)
class Proof:
    """A Groth16 proof in snarkjs JSON form plus its public signals (decimal strings)."""

    proof: dict[str, Any]
    public_signals: list[str]
    backend: str = field(default="", compare=False)


class ProvingBackend(ABC):
    """Interface of a proving backend."""

    name: str = ""

    @abstractmethod
    def available(self) -> bool:
        """True if the backend's dependencies are installed."""

    @abstractmethod
    def supports(self, keys: KeyPair) -> bool:
        """True if the backend can prove with this key pair."""

    @abstractmethod
    def prove(self, keys: KeyPair, wtns_path: Path) -> Proof:
        """Prove the statement whose witness is in ``wtns_path``."""

    def _check(self, keys: KeyPair, wtns_path: Path) -> tuple[Path, list[str]]:
        """Check the witness file fits the keys; return it and its public signals."""
        if not self.supports(keys):
            raise ProofError(f"backend {self.name!r} cannot prove with {keys.route!r} keys")
        wtns_path = Path(wtns_path)
        if not wtns_path.is_file():
            raise ProofError(f"witness file {wtns_path} not found")
        try:
            prime, witness = read_wtns_with_prime(wtns_path)
        except ToolchainError as exc:
            raise ProofError(f"witness file unreadable: {exc}") from None
        if prime != BN254_R:
            raise ProofError("witness is not over the BN254 scalar field")
        if keys.n_wires is not None and len(witness) != keys.n_wires:
            raise ProofError(f"witness has {len(witness)} values but the keys' circuit has {keys.n_wires} wires "
                             "(witness of another circuit?)")
        if len(witness) < keys.n_public + 1:
            raise ProofError("witness is shorter than the public signals")
        return wtns_path, [str(v) for v in witness[1 : 1 + keys.n_public]]


class SnarkjsBackend(ProvingBackend):
    """``snarkjs groth16 prove <zkey> <wtns> proof.json public.json``."""

    name = "snarkjs"

    def __init__(self, timeout: float = 3600.0) -> None:
        self.timeout = timeout

    def available(self) -> bool:
        from zksolv import toolchain
        try:
            toolchain.node_binary()
            return toolchain.node_module_path(*toolchain.SNARKJS_CLI).is_file()
        except ToolchainError:
            return False

    def supports(self, keys: KeyPair) -> bool:
        return keys.zkey is not None

    def prove(self, keys: KeyPair, wtns_path: Path) -> Proof:
        from zksolv import toolchain
        wtns_path, _public = self._check(keys, wtns_path)
        with tempfile.TemporaryDirectory(prefix="zksolv-prove-") as tmp:
            proof_path, public_path = Path(tmp) / "proof.json", Path(tmp) / "public.json"
            try:
                toolchain.snarkjs(["groth16", "prove", keys.zkey, wtns_path, proof_path, public_path],
                                  timeout=self.timeout, what="snarkjs groth16 prove")
            except ToolchainError as exc:
                msg = str(exc)
                if "timed out" in msg or "node not found" in msg or "could not start node" in msg:
                    raise
                raise ProofError(f"snarkjs groth16 prove failed: {toolchain._redact(msg)[-500:]}") from None
            proof = json.loads(proof_path.read_text())
            public = [str(x) for x in json.loads(public_path.read_text())]
        return Proof(proof=proof, public_signals=public, backend=self.name)


def _u256(blob: bytes, i: int) -> str:
    return str(int.from_bytes(blob[32 * i : 32 * (i + 1)], "big"))


def eth_proof_to_snarkjs(blob: bytes) -> dict[str, Any]:
    """Reshape groth16py's 256-byte Ethereum-order proof into snarkjs ``proof.json``.

    Byte order: a.x, a.y, b.x_im, b.x_re, b.y_im, b.y_re, c.x, c.y (32-byte
    big-endian each); snarkjs wants ``pi_b = [[x_re, x_im], [y_re, y_im], ["1", "0"]]``.
    """
    if len(blob) != 256:
        raise ProofError(f"groth16py returned a {len(blob)}-byte proof, expected 256")
    w = [_u256(blob, i) for i in range(8)]
    return {
        "pi_a": [w[0], w[1], "1"],
        "pi_b": [[w[3], w[2]], [w[5], w[4]], ["1", "0"]],
        "pi_c": [w[6], w[7], "1"],
        "protocol": "groth16",
        "curve": "bn128",
    }


def key_source(keys: KeyPair) -> tuple[str, Path]:
    """``("ark", path)`` for a dev-route key file, ``("zkey", path)`` for a snarkjs ``.zkey``."""
    if keys.arkworks_pk is not None:
        return "ark", Path(keys.arkworks_pk)
    if keys.zkey is not None:
        return "zkey", Path(keys.zkey)
    raise ProofError(f"backend 'arkworks' cannot prove with {keys.route!r} keys")


def load_proving_key(kind: str, path: str | Path, name: str | None = None) -> Any:
    """Load a groth16py proving key: ``ProvingKey.load`` (``kind="ark"``) or ``import_zkey`` (``"zkey"``).

    ``name`` is the file name used in errors (``path`` may be a private copy).
    Raises :class:`ToolchainError` if groth16py refuses the file.
    """
    import groth16py

    try:
        if kind == "ark":
            return groth16py.ProvingKey.load(str(path))
        pk, _vk = groth16py.import_zkey(str(path))
        return pk
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 — groth16py.EncodingError, or a Rust panic
        raise ToolchainError(f"groth16py could not load the proving key {name or Path(path).name}: "
                             f"{type(exc).__name__}") from None


def prove_with_key(pk: Any, wtns_path: Path) -> dict[str, Any]:
    """``groth16py.prove_wtns`` with a loaded key; the proof in snarkjs JSON form.

    Raises :class:`ProofError` (never with a witness value) if the witness does not fit the key.
    """
    import groth16py

    try:
        blob = groth16py.prove_wtns(pk, str(wtns_path))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 — WitnessError, or a Rust panic (pyo3 PanicException)
        raise ProofError(f"arkworks proving failed ({type(exc).__name__}): the witness does not fit the "
                         "proving key's circuit") from None
    return eth_proof_to_snarkjs(bytes(blob))


@functools.lru_cache(maxsize=8)
def _load_arkworks_pk(kind: str, path: str, mtime_ns: int, size: int) -> Any:
    """Load (and memoise per process) a groth16py proving key from a dev key file or a .zkey."""
    return load_proving_key(kind, path)


class ArkworksBackend(ProvingBackend):
    """groth16py (arkworks) ``prove_wtns``; dev keys or an imported snarkjs ``.zkey``."""

    name = "arkworks"

    def available(self) -> bool:
        try:
            import groth16py  # noqa: F401
        except ImportError:
            return False
        return True

    def supports(self, keys: KeyPair) -> bool:
        return keys.arkworks_pk is not None or keys.zkey is not None

    def _proving_key(self, keys: KeyPair) -> Any:
        kind, path = key_source(keys)
        st = os.stat(path)
        return _load_arkworks_pk(kind, str(path), st.st_mtime_ns, st.st_size)

    def prove(self, keys: KeyPair, wtns_path: Path) -> Proof:
        wtns_path, public = self._check(keys, wtns_path)
        proof = prove_with_key(self._proving_key(keys), wtns_path)
        return Proof(proof=proof, public_signals=public, backend=self.name)


_BACKENDS: dict[str, type[ProvingBackend]] = {
    ArkworksBackend.name: ArkworksBackend,
    SnarkjsBackend.name: SnarkjsBackend,
}


def available_backends() -> list[str]:
    """Names of the backends whose dependencies are installed (fastest first)."""
    return [name for name, cls in _BACKENDS.items() if cls().available()]


def get_backend(name: str) -> ProvingBackend:
    """The backend called ``name`` ("arkworks" or "snarkjs")."""
    try:
        backend = _BACKENDS[name]()
    except KeyError:
        raise ZksolvError(f"unknown proving backend {name!r}; choose from {sorted(_BACKENDS)}") from None
    if not backend.available():
        raise ToolchainError(f"proving backend {name!r} is not available on this machine")
    return backend


#: The setup routes whose keys each backend proves with (snarkjs needs a ``.zkey``: the snarkjs route).
BACKEND_ROUTES: dict[str, tuple[str, ...]] = {"arkworks": ("dev", "snarkjs"), "snarkjs": ("snarkjs",)}


def check_backend_route(backend: str, route: str) -> None:
    """Refuse, before any work, a backend that cannot prove with the keys of ``route``.

    Raises :class:`~zksolv.core.errors.InputError` (a usage error, not a refused proof):
    the snarkjs backend proves only with a ``.zkey`` of the snarkjs setup route.
    """
    routes = BACKEND_ROUTES.get(backend)
    if routes is not None and route not in routes:
        raise InputError(f"--backend {backend}: proves only with keys of the {' or '.join(routes)} setup route, "
                         f"not {route!r} (use --route snarkjs --ptau FILE, or --backend arkworks)")


__all__ = ["Proof", "ProvingBackend", "SnarkjsBackend", "ArkworksBackend", "eth_proof_to_snarkjs",
           "available_backends", "get_backend", "check_backend_route", "BACKEND_ROUTES", "key_source", "load_proving_key", "prove_with_key"]
