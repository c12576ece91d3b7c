"""The slow, obviously-correct reference check: py_ecc's own pairing.

:mod:`zksolv.verifier.bn254` is an integer re-implementation of py_ecc's
``optimized_bn128`` pairing, about 35x faster and tested against it line for
line. A keeper who wants the same check done by py_ecc itself at run time
(``zksolv verify --backend py_ecc``, ``verify_many(..., backend="py_ecc")``)
gets this module: the same parsed, validated inputs, the product
``e(-A, B) · e(alpha, beta) · e(vk_x, gamma) · e(C, delta)`` as four py_ecc
Miller loops and one final exponentiation. py_ecc is imported here only.
"""

from __future__ import annotations

from typing import Any, Sequence

from zksolv.verifier.groth16 import G1Point, G2Point, Groth16Proof, PreparedVerifyingKey


def _g1(point: G1Point) -> Any:
    from py_ecc.fields import optimized_bn128_FQ as FQ

    if point is None:
        return (FQ(1), FQ(1), FQ(0))
    return (FQ(point[0]), FQ(point[1]), FQ(1))


def _g2(point: G2Point) -> Any:
    from py_ecc.fields import optimized_bn128_FQ2 as FQ2

    (x_re, x_im), (y_re, y_im) = point
    return (FQ2([x_re, x_im]), FQ2([y_re, y_im]), FQ2([1, 0]))


def check(key: PreparedVerifyingKey, proof: Groth16Proof, public: Sequence[int]) -> bool:
    """The Groth16 pairing equation evaluated with py_ecc (inputs already parsed and validated)."""
    from py_ecc.fields import optimized_bn128_FQ12 as FQ12
    from py_ecc.optimized_bn128 import final_exponentiate, neg, pairing

    f = (
        pairing(_g2(proof.b), neg(_g1(proof.a)), final_exponentiate=False)
        * pairing(_g2(key.beta), _g1(key.alpha), final_exponentiate=False)
        * pairing(_g2(key.gamma), _g1(key.vk_x(public)), final_exponentiate=False)
        * pairing(_g2(key.delta), _g1(proof.c), final_exponentiate=False)
    )
    return final_exponentiate(f) == FQ12.one()
