"""Groth16 verification on BN254 in pure Python (py_ecc ``optimized_bn128``).

Inputs are snarkjs JSON objects (``verification_key.json``, ``proof.json``,
``public.json``). Parsing is strict: a wrong type, a coordinate >= the field
modulus, a point off the curve or (G2) outside the order-r subgroup, a public
input >= r or the wrong number of public inputs raises
:class:`~zksolv.errors.VerificationError` ("malformed"). A well-formed proof
that does not satisfy the pairing equation makes :func:`verify_groth16` return
``False``.

The check is ``e(-A, B) · e(alpha, beta) · e(vk_x, gamma) · e(C, delta) == 1``,
computed as one product of four Miller loops followed by one final
exponentiation. The Miller loop of the constant ``e(alpha, beta)`` term is
cached per prepared key.

Imports only the standard library, py_ecc, zksolv.errors and the decimal pattern of verifier.calldata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from py_ecc.fields import optimized_bn128_FQ as FQ
from py_ecc.fields import optimized_bn128_FQ2 as FQ2
from py_ecc.fields import optimized_bn128_FQ12 as FQ12
from py_ecc.optimized_bn128 import (
    add,
    b,
    b2,
    curve_order,
    field_modulus,
    final_exponentiate,
    is_inf,
    is_on_curve,
    multiply,
    neg,
    pairing,
)

from verifier.calldata import CANONICAL_DECIMAL
from zksolv.errors import VerificationError

G1Point = tuple[FQ, FQ, FQ]
G2Point = tuple[FQ2, FQ2, FQ2]


def _int(value: Any, where: str, bound: int) -> int:
    """A canonical non-negative integer < bound from a decimal string or a JSON int."""
    if isinstance(value, bool):
        raise VerificationError(f"{where}: expected a decimal string, got a boolean")
    if isinstance(value, int):
        n = value
    elif isinstance(value, str):
        if CANONICAL_DECIMAL.fullmatch(value) is None:
            raise VerificationError(f"{where}: not a canonical decimal integer")
        n = int(value)
    else:
        raise VerificationError(f"{where}: expected a decimal string, got {type(value).__name__}")
    if n < 0:
        raise VerificationError(f"{where}: negative")
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
    """A G1 point from snarkjs ``[x, y, "1"]`` (or ``["0", "1", "0"]`` for infinity)."""
    coords = _list(value, where)
    if len(coords) not in (2, 3):
        raise VerificationError(f"{where}: expected [x, y, z], got {len(coords)} entries")
    x, y = (_int(c, f"{where}[{i}]", field_modulus) for i, c in enumerate(coords[:2]))
    z = _int(coords[2], f"{where}[2]", field_modulus) if len(coords) == 3 else 1
    if z == 0:
        if (x, y) != (0, 1) or not allow_infinity:
            raise VerificationError(f"{where}: point at infinity not allowed here")
        return (FQ(1), FQ(1), FQ(0))
    if z != 1:
        raise VerificationError(f"{where}: expected affine coordinates (z = 1)")
    point = (FQ(x), FQ(y), FQ(1))
    if not is_on_curve(point, b):
        raise VerificationError(f"{where}: point is not on the BN254 G1 curve")
    return point


def parse_g2(value: Any, where: str) -> G2Point:
    """A G2 point from snarkjs ``[[x_re, x_im], [y_re, y_im], ["1", "0"]]``; checked on curve and in G2."""
    coords = _list(value, where)
    if len(coords) not in (2, 3):
        raise VerificationError(f"{where}: expected [x, y, z], got {len(coords)} entries")
    parts = []
    for i, c in enumerate(coords):
        pair = _list(c, f"{where}[{i}]", 2)
        parts.append([_int(v, f"{where}[{i}][{j}]", field_modulus) for j, v in enumerate(pair)])
    if len(parts) == 3 and parts[2] != [1, 0]:
        raise VerificationError(f"{where}: expected affine coordinates (z = [1, 0]) or infinity not allowed")
    point = (FQ2(parts[0]), FQ2(parts[1]), FQ2([1, 0]))
    if not is_on_curve(point, b2):
        raise VerificationError(
            f"{where}: point is not on the BN254 G2 twist curve (coordinate order must be [real, imaginary])"
        )
    if not is_inf(multiply(point, curve_order)):
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
    """A parsed, validated verifying key with the ``e(alpha, beta)`` Miller loop cached."""

    alpha: G1Point
    beta: G2Point
    gamma: G2Point
    delta: G2Point
    ic: list[G1Point]
    _alpha_beta: FQ12 | None = field(default=None, repr=False)

    @property
    def n_public(self) -> int:
        """Number of public signals the key expects."""
        return len(self.ic) - 1

    def alpha_beta_miller(self) -> FQ12:
        """Miller loop of e(alpha, beta) without final exponentiation (cached)."""
        if self._alpha_beta is None:
            self._alpha_beta = pairing(self.beta, self.alpha, final_exponentiate=False)
        return self._alpha_beta


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
        alpha=parse_g1(vk["vk_alpha_1"], "vk_alpha_1"),
        beta=parse_g2(vk["vk_beta_2"], "vk_beta_2"),
        gamma=parse_g2(vk["vk_gamma_2"], "vk_gamma_2"),
        delta=parse_g2(vk["vk_delta_2"], "vk_delta_2"),
        ic=[parse_g1(p, f"IC[{i}]", allow_infinity=True) for i, p in enumerate(ic_raw)],
    )


def parse_proof(proof: Any) -> Groth16Proof:
    """Validate a snarkjs ``proof.json`` object."""
    if not isinstance(proof, dict):
        raise VerificationError("proof: expected a JSON object")
    if "protocol" in proof and proof["protocol"] != "groth16":
        raise VerificationError("proof: protocol must be 'groth16'")
    if "curve" in proof and proof["curve"] not in ("bn128", "bn254"):
        raise VerificationError("proof: curve must be 'bn128'")
    for name in ("pi_a", "pi_b", "pi_c"):
        if name not in proof:
            raise VerificationError(f"proof: {name} missing")
    return Groth16Proof(parse_g1(proof["pi_a"], "proof pi_a"), parse_g2(proof["pi_b"], "proof pi_b"),
                        parse_g1(proof["pi_c"], "proof pi_c"))


def parse_public_signals(public: Any, n_public: int) -> list[int]:
    """Validate public signals: a list of exactly ``n_public`` canonical integers < r."""
    values = _list(public, "public signals")
    if len(values) != n_public:
        raise VerificationError(f"public signals: expected {n_public}, got {len(values)}")
    return [_int(v, f"public signals[{i}]", curve_order) for i, v in enumerate(values)]


def verify_parsed(vk: PreparedVerifyingKey, proof: Groth16Proof, public: Sequence[int]) -> bool:
    """Pairing check on already validated inputs (one final exponentiation)."""
    if len(public) != vk.n_public:
        raise VerificationError(f"public signals: expected {vk.n_public}, got {len(public)}")
    vk_x = vk.ic[0]
    for s, point in zip(public, vk.ic[1:]):
        if s:
            vk_x = add(vk_x, multiply(point, s))
    f = (
        pairing(proof.b, neg(proof.a), final_exponentiate=False)
        * vk.alpha_beta_miller()
        * pairing(vk.gamma, vk_x, final_exponentiate=False)
        * pairing(vk.delta, proof.c, final_exponentiate=False)
    )
    return final_exponentiate(f) == FQ12.one()


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
