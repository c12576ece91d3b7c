"""Many Groth16 proofs of one key checked together (pure Python, :mod:`zksolv.verifier.bn254`).

For proofs ``(A_i, B_i, C_i)`` with public inputs ``x_i`` and secret random scalars
``r_i``, every proof is valid exactly when each factor below is 1, and the batch
checks their random combination with one multi-Miller loop (N + 3 Miller loops)
and one final exponentiation::

    prod_i e(r_i A_i, B_i) · e(-s alpha, beta) · e(-sum_i r_i vk_x(x_i), gamma)
        · e(-sum_i r_i C_i, delta) == 1,        s = sum_i r_i

``sum_i r_i vk_x(x_i) = s IC_0 + sum_j (sum_i r_i x_ij) IC_j`` costs n_public + 1
scalar multiplications whatever N is. When the combination fails,
:func:`check_batch` bisects (fresh randomness at every level) to name the invalid
proofs; a batch with one bad proof costs about ``2 log2 N`` extra combinations.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Callable, Sequence

from zksolv.verifier import bn254
from zksolv.verifier.bn254 import R, Line
from zksolv.verifier.groth16 import Groth16Proof, PreparedVerifyingKey, final_exponentiate, verify_parsed

#: Bits of each random coefficient r_i (see :func:`random_coefficient`).
COEFFICIENT_BITS = 128


def random_coefficient() -> int:
    """A batch coefficient: uniform in ``[1, 2^128)`` from the OS CSPRNG (:mod:`secrets`).

    Why 128 bits are enough: write ``E_i`` for proof i's pairing-equation value in the
    target group G_T, of prime order r. The batch passes when ``prod E_i^(r_i) == 1``.
    If some ``E_j != 1``, then for any fixed values of the other coefficients exactly one
    residue of ``r_j`` mod r makes the product 1, and ``r_j`` is uniform over ``2^128 - 1``
    values below r, so an invalid batch passes with probability at most
    ``1 / (2^128 - 1)`` — the 128-bit security level BN254 offers anyway (~100-128 bits).
    This needs the coefficients to be unpredictable to whoever wrote the proofs: they come
    from :mod:`secrets` at check time, never from the proofs (a prover who could compute
    them could pick two invalid proofs whose errors cancel). Shorter scalars also make the
    ``r_i A_i`` and ``r_i C_i`` multiplications half as long as full 254-bit ones.
    """
    return secrets.randbelow((1 << COEFFICIENT_BITS) - 1) + 1


@dataclass
class BatchItem:
    """One parsed proof and its public signals, with B's Miller-loop lines computed once."""

    proof: Groth16Proof
    public: Sequence[int]
    _lines: list[Line] | None = field(default=None, repr=False)

    @property
    def b_lines(self) -> list[Line]:
        if self._lines is None:
            self._lines = bn254.prepare_g2(self.proof.b)
        return self._lines


def combined_check(key: PreparedVerifyingKey, items: Sequence[BatchItem],
                   coefficient: Callable[[], int] = random_coefficient) -> bool:
    """One random linear combination of ``items``: True iff (with overwhelming probability) all are valid."""
    rs = [coefficient() for _ in items]
    s = sum(rs) % R
    x_sums = [sum(r * it.public[j] for r, it in zip(rs, items)) % R for j in range(key.n_public)]
    pairs: list[tuple[bn254.G1, Sequence[Line]]] = [
        (bn254.g1_mul(it.proof.a, r), it.b_lines) for r, it in zip(rs, items)
    ]
    pairs.append((bn254.g1_neg(bn254.g1_mul(key.alpha, s)), key.lines("beta")))
    pairs.append((bn254.g1_neg(bn254.g1_lincomb(key.ic, [s, *x_sums])), key.lines("gamma")))
    pairs.append((bn254.g1_neg(bn254.g1_lincomb([it.proof.c for it in items], rs)), key.lines("delta")))
    f = bn254.multi_miller_loop(pairs)
    return any(f) and final_exponentiate(f) == bn254.ONE12


def check_batch(key: PreparedVerifyingKey, items: Sequence[BatchItem]) -> list[bool]:
    """Validity of each item, in order: one combination, bisecting only where it fails."""
    return _bisect(key, list(items), known_bad=False)


def _bisect(key: PreparedVerifyingKey, items: list[BatchItem], known_bad: bool) -> list[bool]:
    if not items:
        return []
    if len(items) == 1:
        # a failed combination is proof that something in it is invalid (valid proofs always pass)
        return [False] if known_bad else [verify_parsed(key, items[0].proof, items[0].public)]
    if not known_bad and combined_check(key, items):
        return [True] * len(items)
    mid = len(items) // 2
    left = _bisect(key, items[:mid], known_bad=False)
    # this half failed as a whole: if the left half is all valid, the right one holds the culprit
    return left + _bisect(key, items[mid:], known_bad=all(left))
