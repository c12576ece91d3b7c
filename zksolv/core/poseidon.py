"""Poseidon over BN254, bit-identical to circomlib's ``Poseidon(n)`` circuit.

``poseidon(inputs)`` hashes ``n = 1..16`` field elements with the
permutation of width ``t = n + 1`` (S-box ``x^5``, 8 full rounds, the partial
round counts of circomlib), initial state ``[0, *inputs]``, output
``state[0]`` -- the same function as circomlibjs ``buildPoseidon`` and the
``Poseidon(n)`` template (tests check every arity against circomlibjs).

This module is the reference (:func:`poseidon_reference`, pure Python) and the entry point
(:func:`poseidon`): the latter hands an arity to the native library of the optional ``poseidon``
extra once :mod:`zksolv.core.poseidon_native` has cross-checked it against the reference in this
process, and uses the reference otherwise.

Round constants and MDS matrices are not shipped as data: they are generated
on first use per width, exactly as the Poseidon reference script
``generate_parameters_grain.sage 1 0 254 t 8 R_P p`` does (Grain LFSR in
self-shrinking mode; constants by rejection sampling; Cauchy MDS
``1/(x_i + y_j)``). The script's MDS security checks are not re-run: for
every width circomlib uses, the first candidate matrix is the published one,
which the tests confirm.

Deriving a width's schedule costs 0.03-0.6 s, so every process that hashes a market (a keeper
runs ``zksolv verify`` as a whole process) paid ~0.8 s for the five widths a market root uses.
The derived schedule is therefore kept in the zksolv cache (``$ZKSOLV_CACHE``, else
``~/.cache/zksolv``: ``poseidon/plan-t<t>.bin``) and used only when its sha256 equals the one
recorded here (``_PLAN_SHA256``, checked against a fresh derivation by the tests); a missing,
unwritable or altered file just means deriving it again.

Speed comes from the standard partial-round optimisation (Poseidon paper,
appendix B): partial-round constants on cells 1..t-1 are carried forward so
each partial round adds one scalar, and the MDS matrix of each partial round
is factored into a sparse matrix times a block-diagonal one that commutes
backwards into the previous round. Partial rounds then cost O(t) instead of
O(t^2) multiplications. Plain Python ints only (no numpy), so the keeper-side
verifier stays light.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from operator import mul
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

from zksolv.core.fixedpoint import FIELD_MODULUS

P = FIELD_MODULUS
FULL_ROUNDS = 8
#: Partial rounds for t = 2..17 (circomlib / circomlibjs).
PARTIAL_ROUNDS = (56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68)
MAX_INPUTS = len(PARTIAL_ROUNDS)

_FIELD_BITS = 254
_LFSR_BITS = 80
_LFSR_STEP = 18  # taps at 62 (= 80 - 18) allow 18 new bits per shift
_WARMUP = 160

Matrix = tuple[tuple[int, ...], ...]


class _Grain:
    """The Grain LFSR of the Poseidon reference script, in self-shrinking mode.

    State bit ``i`` of the 80-bit integer is ``bit_sequence[i]`` of the script
    (index 0 = oldest); new bit = b62 ^ b51 ^ b38 ^ b23 ^ b13 ^ b0.
    """

    def __init__(self, t: int, partial_rounds: int) -> None:
        seed = (
            "01"  # field: prime
            + "0000"  # S-box: x^alpha
            + format(_FIELD_BITS, "012b")
            + format(t, "012b")
            + format(FULL_ROUNDS, "010b")
            + format(partial_rounds, "010b")
            + "1" * 30
        )
        self._state = int(seed[::-1], 2)
        self._out = ""
        for _ in range(_WARMUP // _LFSR_STEP):
            self._clock(_LFSR_STEP)
        self._clock(_WARMUP % _LFSR_STEP)

    def _clock(self, k: int) -> str:
        """Shift ``k <= 18`` new bits in; return them oldest first."""
        s = self._state
        new = (s >> 62 ^ s >> 51 ^ s >> 38 ^ s >> 23 ^ s >> 13 ^ s) & ((1 << k) - 1)
        self._state = (s >> k) | (new << (_LFSR_BITS - k))
        return format(new, f"0{k}b")[::-1]

    def take(self, n: int) -> int:
        """The next ``n`` output bits as an integer, first bit most significant.

        Self-shrinking: raw bits come in pairs ``(a, b)``; ``b`` is output
        iff ``a == 1``.
        """
        while len(self._out) < n:
            raw = "".join([self._clock(_LFSR_STEP) for _ in range(64)])
            self._out += "".join([b for a, b in zip(raw[0::2], raw[1::2]) if a == "1"])
        bits, self._out = self._out[:n], self._out[n:]
        return int(bits, 2)


@lru_cache(maxsize=None)
def parameters(t: int) -> tuple[tuple[int, ...], Matrix]:
    """Round constants (flat, ``(R_F + R_P) * t``) and MDS matrix for width ``t``."""
    if not 2 <= t <= MAX_INPUTS + 1:
        raise ValueError(f"Poseidon width t must be in [2, {MAX_INPUTS + 1}], got {t}")
    grain = _Grain(t, PARTIAL_ROUNDS[t - 2])
    constants = tuple(_field_sample(grain) for _ in range((FULL_ROUNDS + PARTIAL_ROUNDS[t - 2]) * t))
    while True:
        xy = [grain.take(_FIELD_BITS) % P for _ in range(2 * t)]
        if len(set(xy)) == 2 * t:
            break
    xs, ys = xy[:t], xy[t:]
    mds = tuple(tuple(pow(x + y, -1, P) for y in ys) for x in xs)
    return constants, mds


def _field_sample(grain: _Grain) -> int:
    """A uniform field element by rejection sampling 254-bit Grain outputs."""
    while True:
        x = grain.take(_FIELD_BITS)
        if x < P:
            return x


class _Plan(NamedTuple):
    """The optimised round schedule for one width.

    ``head``/``tail``: full rounds as ``(constants, matrix)``; ``partial``:
    ``(scalar constant, row, column)`` -- new cell 0 is ``row . state`` and
    new cell i is ``state[i] + column[i-1] * state[0]``.
    """

    head: tuple[tuple[tuple[int, ...], Matrix], ...]
    partial: tuple[tuple[int, tuple[int, ...], tuple[int, ...]], ...]
    tail: tuple[tuple[tuple[int, ...], Matrix], ...]


@lru_cache(maxsize=None)
def _plan(t: int) -> _Plan:
    """The optimised schedule of width ``t``: from the cache when it checks out, else derived (and cached)."""
    blob = _read_cached_plan(t)
    if blob is not None:
        return _plan_from_bytes(t, blob)
    plan = _derive_plan(t)
    _write_cached_plan(t, _plan_bytes(plan))
    return plan


#: sha256 of :func:`_plan_bytes` of each width's derived schedule (tests/test_poseidon.py re-derives them).
_PLAN_SHA256 = {
    2: "71669dd5db240d6a621ee8b824a1e664e064103bbd5f847c0b4d90303012b056",
    3: "d475956d0a2518a7cf5f996f207b09e535b3f95ed86477bb345be3eb94ee68d0",
    4: "d800617568764f70da6d31718fa90e8fac7dadef15ab7b861e0e1ae70dc98851",
    5: "a2f9c04aece8011d9129abf29bc86deb6e80731bf13dea20f3e31edd06112ee4",
    6: "54b3853fb45f7c154151d8ac0a443420430c586e41178011e2143f843c00bbb5",
    7: "a48250cc781b4d3e001ce90a3e7fb8d3ae834683ba5989de3bedb67abcb88c4d",
    8: "cd3731ea13c048bd1b3e7d357b216de987cb7fa58efcf7e4711c5191f1d81811",
    9: "37dc3c3973bf625b2868da3467372d6e52d4848fbdc29f81436f72ebfa0e444d",
    10: "2d437444342a34e35f9b7ca3a5806708e2589614479591fecd3386eff03247bb",
    11: "0fda1f58ff3562b3d4303bce1dc7c9b322f0589790dc0f3c7c1846a085f28a9f",
    12: "aa3a1c2767467804bd5e8ac82c2870724807b5c34a0470a512a95374b0db8b0f",
    13: "cce3e24748316d00a3962adbcee95b8d5166b0d214f77a8c78692434c94b63f3",
    14: "f92d079e1161de11167bc8f582f6a5a011cf37d82b58531d50434d8ddf564ab5",
    15: "b50749512fe80109bd75157fde4ce11afa65f9def74ae8ec624dacdb2a9f90cf",
    16: "8d2849e88e190f169e822a684b8b36b1932dee9c30abb4367fbba2ac89fa94a7",
    17: "b462f5331d7447d0ed1c1c848dfe917bdc93c3c01afc902cf25372136b728f32",
}


def _plan_path(t: int) -> Path:
    from zksolv.core.cache_root import cache_dir  # stdlib only: the keeper's side may import it

    return cache_dir() / "poseidon" / f"plan-t{t}.bin"


def _read_cached_plan(t: int) -> bytes | None:
    try:
        blob = _plan_path(t).read_bytes()
    except (OSError, RuntimeError):  # RuntimeError: no home directory
        return None
    return blob if hashlib.sha256(blob).hexdigest() == _PLAN_SHA256.get(t) else None


def _write_cached_plan(t: int, blob: bytes) -> None:
    if hashlib.sha256(blob).hexdigest() != _PLAN_SHA256.get(t):
        return  # never cache what could not be read back
    try:
        path = _plan_path(t)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(blob)
        os.replace(tmp, path)
    except (OSError, RuntimeError):
        pass  # a read-only or full cache only costs the derivation next time


def _plan_bytes(plan: _Plan) -> bytes:
    """Every number of a schedule, in order, as 32-byte big-endian words."""
    words: list[int] = []
    for consts, matrix in (*plan.head, *plan.tail):
        words += [*consts, *(x for row in matrix for x in row)]
    for k, row, col in plan.partial:
        words += [k, *row, *col]
    return b"".join(w.to_bytes(32, "big") for w in words)


def _plan_from_bytes(t: int, blob: bytes) -> _Plan:
    """Inverse of :func:`_plan_bytes` for width ``t``."""
    words = iter([int.from_bytes(blob[i:i + 32], "big") for i in range(0, len(blob), 32)])

    def take(n: int) -> tuple[int, ...]:
        return tuple(next(words) for _ in range(n))

    def full_round() -> tuple[tuple[int, ...], Matrix]:
        return take(t), tuple(take(t) for _ in range(t))

    half = FULL_ROUNDS // 2
    head = tuple(full_round() for _ in range(half))
    tail = tuple(full_round() for _ in range(half))
    partial = tuple((take(1)[0], take(t), take(t - 1)) for _ in range(PARTIAL_ROUNDS[t - 2]))
    return _Plan(head, partial, tail)


def _derive_plan(t: int) -> _Plan:
    """Derive the optimised schedule from the plain constants and MDS matrix."""
    constants, mds = parameters(t)
    half, n_partial = FULL_ROUNDS // 2, PARTIAL_ROUNDS[t - 2]
    rounds = [list(constants[r * t : (r + 1) * t]) for r in range(FULL_ROUNDS + n_partial)]
    scalars = _carry_partial_constants(rounds, mds, half, n_partial)
    sparse, first = _factor_partial_matrices(mds, n_partial)
    head = [(tuple(rounds[r]), mds) for r in range(half)]
    head[-1] = (head[-1][0], _matmul(first, mds))
    tail = [(tuple(rounds[r]), mds) for r in range(half + n_partial, FULL_ROUNDS + n_partial)]
    partial = tuple((k, row, col) for k, (row, col) in zip(scalars, sparse))
    return _Plan(tuple(head), partial, tuple(tail))


def _carry_partial_constants(rounds: list[list[int]], mds: Matrix, half: int, n_partial: int) -> list[int]:
    """Move partial-round constants of cells 1..t-1 past the S-box and MDS.

    They commute with the cell-0 S-box, so ``M (0, c_1..)`` is added to the
    next round's constants instead; the last carry lands in the first tail
    full round (mutated in ``rounds``). Returns the scalar cell-0 constants.
    """
    scalars = []
    carry = [0] * len(mds)
    for r in range(half, half + n_partial):
        eff = [(c + d) % P for c, d in zip(rounds[r], carry)]
        scalars.append(eff[0])
        carry = _matvec(mds, [0, *eff[1:]])
    first_tail = half + n_partial
    rounds[first_tail] = [(c + d) % P for c, d in zip(rounds[first_tail], carry)]
    return scalars


def _factor_partial_matrices(
    mds: Matrix, n_partial: int
) -> tuple[list[tuple[tuple[int, ...], tuple[int, ...]]], Matrix]:
    """Factor each partial round's matrix ``A = S B`` from the last round back.

    ``B = diag(1, A_hat)`` commutes with the cell-0 S-box and constant, so it
    moves into the previous round (``A_prev = B M``); ``S`` is sparse:
    ``[[a00, a_row A_hat^-1], [a_col, I]]``. Returns the sparse factors in
    round order and the ``B`` left for the last head round.
    """
    t = len(mds)
    factors = []
    a: Matrix = mds
    for _ in range(n_partial):
        hat = tuple(row[1:] for row in a[1:])
        row0 = _vecmat(a[0][1:], _inverse(hat))
        factors.append(((a[0][0], *row0), tuple(a[i][0] for i in range(1, t))))
        block = ((1,) + (0,) * (t - 1), *((0, *row) for row in hat))
        a = _matmul(block, mds)
    factors.reverse()
    return factors, block


def _matvec(m: Matrix, v: Sequence[int]) -> list[int]:
    return [sum(map(mul, row, v)) % P for row in m]


def _vecmat(v: Sequence[int], m: Matrix) -> tuple[int, ...]:
    return tuple(sum(v[i] * m[i][j] for i in range(len(v))) % P for j in range(len(m[0])))


def _matmul(a: Matrix, b: Matrix) -> Matrix:
    cols = list(zip(*b))
    return tuple(tuple(sum(map(mul, row, col)) % P for col in cols) for row in a)


def _inverse(m: Matrix) -> Matrix:
    """Inverse mod p by Gauss-Jordan elimination (Cauchy minors are invertible)."""
    n = len(m)
    aug = [list(row) + [int(i == j) for j in range(n)] for i, row in enumerate(m)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if aug[r][col])
        aug[col], aug[pivot] = aug[pivot], aug[col]
        inv = pow(aug[col][col], -1, P)
        aug[col] = [x * inv % P for x in aug[col]]
        for r in range(n):
            if r != col and aug[r][col]:
                f = aug[r][col]
                aug[r] = [(x - f * y) % P for x, y in zip(aug[r], aug[col])]
    return tuple(tuple(row[n:]) for row in aug)


def _check_inputs(inputs: Sequence[int]) -> int:
    """The arity of ``inputs``; :class:`ValueError` for another arity or an input outside ``[0, p)``."""
    n = len(inputs)
    if not 1 <= n <= MAX_INPUTS:
        raise ValueError(f"Poseidon takes 1..{MAX_INPUTS} inputs, got {n}")
    for x in inputs:
        if isinstance(x, bool) or not isinstance(x, int) or not 0 <= x < P:
            raise ValueError("Poseidon inputs must be integers in [0, p) (reduced BN254 field elements)")
    return n


def poseidon(inputs: Sequence[int]) -> int:
    """circomlib ``Poseidon(len(inputs))`` of 1..16 reduced field elements.

    Uses the native library (:mod:`zksolv.core.poseidon_native`) for an arity it supports and
    that passed its once-per-process cross-check against :func:`poseidon_reference`, else the
    pure-Python reference. Raises :class:`ValueError` for another arity or an input outside ``[0, p)``
    (checked here, before either implementation sees the inputs).
    """
    n = _check_inputs(inputs)
    native = _NATIVE[n] if n in _NATIVE else _native_for(n)
    return native(inputs) if native is not None else _reference(n, inputs)


def poseidon_reference(inputs: Sequence[int]) -> int:
    """The pure-Python reference :func:`poseidon` (never native; the fallback and the cross-check)."""
    return _reference(_check_inputs(inputs), inputs)


#: per arity: the cross-checked native function, or None (pure Python); filled on first use
_NATIVE: dict[int, Callable[[Sequence[int]], int] | None] = {}


def _native_for(n: int) -> Callable[[Sequence[int]], int] | None:
    """Resolve (once per arity per process) whether arity ``n`` hashes natively."""
    from zksolv.core import poseidon_native  # lazy: the reference alone never imports the extension

    fn = poseidon_native.checked_native(n, poseidon_reference)
    _NATIVE[n] = fn
    return fn


def _reference(n: int, inputs: Sequence[int]) -> int:
    """The pure-Python permutation of width ``n + 1`` on already-checked inputs."""
    plan = _plan(n + 1)
    state = [0, *inputs]
    for consts, matrix in plan.head:
        state = _full_round(state, consts, matrix)
    for k, row, col in plan.partial:
        x0 = pow(state[0] + k, 5, P)
        state[0] = x0
        # cells 1.. stay unreduced: each round adds one ~508-bit product only
        state = [sum(map(mul, row, state)), *[x + c * x0 for x, c in zip(state[1:], col)]]
    for consts, matrix in plan.tail:
        state = _full_round(state, consts, matrix)
    return state[0]


def _full_round(state: list[int], consts: tuple[int, ...], matrix: Matrix) -> list[int]:
    """Add constants, S-box every cell, multiply by ``matrix``."""
    boxed = [pow(x + c, 5, P) for x, c in zip(state, consts)]
    return [sum(map(mul, row, boxed)) % P for row in matrix]
