"""Groth16 verification on BN254 in pure Python (integers; py_ecc's constants and reference).

Inputs are snarkjs JSON objects (``verification_key.json``, ``proof.json``,
``public.json``). Parsing is strict: a wrong type, a coordinate >= the field
modulus, a point off the curve or (G2) outside the order-r subgroup, a public
input >= r or the wrong number of public inputs raises
:class:`~zksolv.core.errors.VerificationError` ("malformed"). A well-formed proof
that does not satisfy the pairing equation makes :func:`verify_groth16` return
``False``.

The check is ``e(-A, B) · e(alpha, beta) · e(vk_x, gamma) · e(C, delta) == 1``,
computed as one multi-Miller loop followed by one final exponentiation
(:mod:`zksolv.verifier.bn254`, tested line for line against py_ecc's pairing). A
:class:`PreparedVerifyingKey` is parsed and checked once (G2 subgroup checks
included) and keeps the Miller-loop lines of beta, gamma and delta and the
Miller loop of ``e(alpha, beta)``, so a keeper reuses it for every proof.
Many proofs of one key are checked together by :mod:`zksolv.verifier.batch`.

Imports only the standard library, py_ecc, zksolv.core.errors and the number reader of zksolv.proofs.proof_io.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from zksolv.verifier import bn254
from zksolv.verifier.bn254 import ONE12, Fp12, Line, R as curve_order, P as field_modulus
from zksolv.verifier.bn254 import final_exponentiation as final_exponentiate
from zksolv.proofs.proof_io import canonical_int
from zksolv.core.errors import VerificationError

#: An affine G1 point as integers, ``None`` for the point at infinity.
G1Point = bn254.G1
#: An affine G2 (twist) point ``((x_re, x_im), (y_re, y_im))``.
G2Point = tuple[bn254.Fp2, bn254.Fp2]


def _below(value: Any, where: str, bound: int) -> int:
    """A canonical non-negative integer (:func:`~zksolv.proofs.proof_io.canonical_int`) < ``bound``."""
    n = canonical_int(value, where)
    if n >= bound:
        raise VerificationError(f"{where}: value >= {'field modulus' if bound == field_modulus else 'r'}")
    return n


def _list(value: Any, where: str, length: int | None = None) -> list[Any]:
    if not isinstance(value, list):
        raise VerificationError(f"{where}: expected a list, got {type(value).__name__}")
    if length is not None and len(value) != length:
        raise VerificationError(f"{where}: expected {length} entries, got {len(value)}")
    return value


def parse_g1(value: Any, where: str, *, allow_infinity: bool = False) -> G1Point:
    """A G1 point from snarkjs ``[x, y, "1"]`` (or ``["0", "1", "0"]`` for infinity, returned as ``None``)."""
    coords = _list(value, where)
    if len(coords) not in (2, 3):
        raise VerificationError(f"{where}: expected [x, y, z], got {len(coords)} entries")
    x, y = (_below(c, f"{where}[{i}]", field_modulus) for i, c in enumerate(coords[:2]))
    z = _below(coords[2], f"{where}[2]", field_modulus) if len(coords) == 3 else 1
    if z == 0:
        if (x, y) != (0, 1) or not allow_infinity:
            raise VerificationError(f"{where}: point at infinity not allowed here")
        return None
    if z != 1:
        raise VerificationError(f"{where}: expected affine coordinates (z = 1)")
    if not bn254.g1_on_curve((x, y)):
        raise VerificationError(f"{where}: point is not on the BN254 G1 curve")
    return x, y


def parse_g2(value: Any, where: str, *, subgroup_check: bool = True) -> G2Point:
    """A G2 point from snarkjs ``[[x_re, x_im], [y_re, y_im], ["1", "0"]]``; checked on curve and in G2.

    ``subgroup_check=False`` is for a caller that hands the point to a verifier doing that
    check itself (the native path: groth16py/arkworks rejects points outside G2).
    """
    coords = _list(value, where)
    if len(coords) not in (2, 3):
        raise VerificationError(f"{where}: expected [x, y, z], got {len(coords)} entries")
    parts = []
    for i, c in enumerate(coords):
        pair = _list(c, f"{where}[{i}]", 2)
        parts.append([_below(v, f"{where}[{i}][{j}]", field_modulus) for j, v in enumerate(pair)])
    if len(parts) == 3 and parts[2] != [1, 0]:
        raise VerificationError(f"{where}: expected affine coordinates (z = [1, 0]) or infinity not allowed")
    point = ((parts[0][0], parts[0][1]), (parts[1][0], parts[1][1]))
    if not bn254.g2_on_curve(point):
        raise VerificationError(
            f"{where}: point is not on the BN254 G2 twist curve (coordinate order must be [real, imaginary])"
        )
    if subgroup_check and not bn254.g2_in_subgroup(point):
        raise VerificationError(f"{where}: point is not in the order-r subgroup of G2")
    return point


@dataclass(frozen=True)
class Groth16Proof:
    """A parsed, validated proof."""

    a: G1Point
    b: G2Point
    c: G1Point


@dataclass
class PreparedVerifyingKey:
    """A parsed, validated verifying key, ready for many proofs.

    Holds the Miller-loop lines of beta, gamma and delta (:func:`zksolv.verifier.bn254.prepare_g2`)
    and, once computed, the Miller loop of ``e(alpha, beta)``; parse it once
    (:func:`parse_verification_key`) and pass it to every check.
    """

    alpha: G1Point
    beta: G2Point
    gamma: G2Point
    delta: G2Point
    ic: list[G1Point]
    source: dict[str, Any] | None = field(default=None, repr=False)
    _lines: dict[str, list[Line]] = field(default_factory=dict, repr=False)
    _alpha_beta: Fp12 | None = field(default=None, repr=False)

    @property
    def n_public(self) -> int:
        """Number of public signals the key expects."""
        return len(self.ic) - 1

    def lines(self, name: str) -> list[Line]:
        """Prepared Miller-loop lines of ``beta``, ``gamma`` or ``delta`` (computed once)."""
        if name not in self._lines:
            self._lines[name] = bn254.prepare_g2(getattr(self, name))
        return self._lines[name]

    def alpha_beta_miller(self) -> Fp12:
        """Miller loop of e(alpha, beta) without final exponentiation (cached)."""
        if self._alpha_beta is None:
            self._alpha_beta = bn254.multi_miller_loop([(self.alpha, self.lines("beta"))])
        return self._alpha_beta

    def vk_x(self, public: Sequence[int]) -> G1Point:
        """``IC[0] + sum(public[i] * IC[i + 1])``."""
        return bn254.g1_lincomb(self.ic, [1, *public])


def parse_verification_key(vk: Any) -> PreparedVerifyingKey:
    """Validate a snarkjs ``verification_key.json`` object (Groth16, bn128)."""
    if not isinstance(vk, dict):
        raise VerificationError("verification key: expected a JSON object")
    if vk.get("protocol") != "groth16":
        raise VerificationError("verification key: protocol must be 'groth16'")
    if vk.get("curve") not in ("bn128", "bn254"):
        raise VerificationError("verification key: curve must be 'bn128' (BN254)")
    for name in ("vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2", "IC", "nPublic"):
        if name not in vk:
            raise VerificationError(f"verification key: {name} missing")
    n_public = vk["nPublic"]
    if isinstance(n_public, bool) or not isinstance(n_public, int) or n_public < 0:
        raise VerificationError("verification key: nPublic must be a non-negative integer")
    ic_raw = _list(vk["IC"], "verification key IC")
    if len(ic_raw) != n_public + 1:
        raise VerificationError(f"verification key: IC has {len(ic_raw)} points, nPublic + 1 = {n_public + 1}")
    return PreparedVerifyingKey(
        source=vk,
        alpha=parse_g1(vk["vk_alpha_1"], "vk_alpha_1"),
        beta=parse_g2(vk["vk_beta_2"], "vk_beta_2"),
        gamma=parse_g2(vk["vk_gamma_2"], "vk_gamma_2"),
        delta=parse_g2(vk["vk_delta_2"], "vk_delta_2"),
        ic=[parse_g1(p, f"IC[{i}]", allow_infinity=True) for i, p in enumerate(ic_raw)],
    )


def parse_proof(proof: Any, *, subgroup_check: bool = True) -> Groth16Proof:
    """Validate a snarkjs ``proof.json`` object (``subgroup_check``: see :func:`parse_g2`)."""
    if not isinstance(proof, dict):
        raise VerificationError("proof: expected a JSON object")
    if "protocol" in proof and proof["protocol"] != "groth16":
        raise VerificationError("proof: protocol must be 'groth16'")
    if "curve" in proof and proof["curve"] not in ("bn128", "bn254"):
        raise VerificationError("proof: curve must be 'bn128'")
    for name in ("pi_a", "pi_b", "pi_c"):
        if name not in proof:
            raise VerificationError(f"proof: {name} missing")
    return Groth16Proof(parse_g1(proof["pi_a"], "proof pi_a"),
                        parse_g2(proof["pi_b"], "proof pi_b", subgroup_check=subgroup_check),
                        parse_g1(proof["pi_c"], "proof pi_c"))


def parse_public_signals(public: Any, n_public: int) -> list[int]:
    """Validate public signals: a list of exactly ``n_public`` canonical integers < r."""
    values = _list(public, "public signals")
    if len(values) != n_public:
        raise VerificationError(f"public signals: expected {n_public}, got {len(values)}")
    return [_below(v, f"public signals[{i}]", curve_order) for i, v in enumerate(values)]


def verify_parsed(vk: PreparedVerifyingKey, proof: Groth16Proof, public: Sequence[int]) -> bool:
    """Pairing check on already validated inputs (one multi-Miller loop, one final exponentiation)."""
    if len(public) != vk.n_public:
        raise VerificationError(f"public signals: expected {vk.n_public}, got {len(public)}")
    f = bn254.multi_miller_loop([
        (bn254.g1_neg(proof.a), bn254.prepare_g2(proof.b)),
        (vk.vk_x(public), vk.lines("gamma")),
        (proof.c, vk.lines("delta")),
    ])
    f = bn254.f12_mul(f, vk.alpha_beta_miller())
    return any(f) and final_exponentiate(f) == ONE12


def verify_groth16(vk: Any, proof: Any, public: Any) -> bool:
    """Verify a Groth16 proof given as snarkjs JSON objects (or a :class:`PreparedVerifyingKey`).

    Returns ``True``/``False`` for well-formed inputs; raises
    :class:`VerificationError` if any input is malformed.
    """
    pvk = vk if isinstance(vk, PreparedVerifyingKey) else parse_verification_key(vk)
    parsed = parse_proof(proof)
    signals = parse_public_signals(public, pvk.n_public)
    return verify_parsed(pvk, parsed, signals)


__all__ = [
    "Groth16Proof", "PreparedVerifyingKey", "parse_g1", "parse_g2", "parse_verification_key", "parse_proof",
    "parse_public_signals", "verify_parsed", "verify_groth16",
]
