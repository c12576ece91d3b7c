"""BN254 pairing arithmetic for the keeper, in plain Python integers.

py_ecc's ``optimized_bn128`` is the reference this module is tested against
(``tests/test_batch_verify.py``): it gives the same Miller-loop lines and the
same reduced pairing, only faster, because

- G2 points are doubled and added on the twist, over F_p2 (py_ecc maps them
  into F_p12 first and does every step there);
- the lines of a *fixed* G2 point (the key's beta, gamma, delta) are computed
  once (:func:`prepare_g2`); evaluating one at a G1 point is two scalar
  multiplications, and a line is a sparse F_p12 element (5 of 12 coefficients),
  so multiplying it in costs 60 base-field multiplications, not 144;
- several pairings share one Miller loop (:func:`multi_miller_loop`: one F_p12
  squaring per step for all of them) and one final exponentiation;
- the final exponentiation uses the Frobenius map (a sparse linear map in
  py_ecc's basis) for the "easy" part and for a base-p split of the "hard"
  exponent ``(p^4 - p^2 + 1) / r`` (one joint exponentiation of ~254 bits
  instead of py_ecc's 2,790-bit power);
- group checks (G2 subgroup, scalar multiplication) run in Jacobian
  coordinates on integers.

F_p12 elements are 12-tuples of ints in py_ecc's basis ``1, w, ..., w^11``
with ``w^12 = 18 w^6 - 82``; F_p2 elements are pairs ``(a, b) = a + b i``,
``i^2 = -1``. G1/G2 points are affine pairs, ``None`` for infinity.
Imports only the standard library (py_ecc is the reference the tests compare with).
"""

from __future__ import annotations

from typing import Optional, Sequence

#: BN254 base field order (py_ecc's ``field_modulus``; not imported: py_ecc costs ~0.1 s to import).
P = 21888242871839275222246405745257275088696311157297823662689037894645226208583
#: BN254 group order (py_ecc's ``curve_order``).
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
#: 6x + 2 in signed binary, least significant first (py_ecc's ``pseudo_binary_encoding``; a test compares).
ATE_LOOP_NAF = (0, 0, 0, 1, 0, 1, 0, -1, 0, 0, 1, -1, 0, 0, 1, 0, 0, 1, 1, 0, -1, 0, 0, 1, 0, -1, 0, 0, 0, 0, 1, 1,
                1, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, -1, 0, 0, 1, 1, 0, 0, -1, 0, 0, 0, 1, 1, 0, -1, 0, 0, 1, 0, 1, 1)
#: BN parameter x (p and r are polynomials in it); 6x + 2 is the ate loop count.
BN_X = 4965661367192848881

Fp2 = tuple[int, int]
Fp12 = tuple[int, ...]
G1 = Optional[tuple[int, int]]
G2 = Optional[tuple[Fp2, Fp2]]
#: One Miller-loop line of a G2 point: ``l(x, y) = -y + x (c1 w + c7 w^7) + c3 w^3 + c9 w^9``.
Line = tuple[int, int, int, int]

_B2 = None  # set below: 3 / (9 + i), the twist's b


# ------------------------------------------------------------------ F_p2
def f2_mul(a: Fp2, b: Fp2) -> Fp2:
    """``a * b`` in F_p2 (Karatsuba: three base-field products)."""
    t0, t1 = a[0] * b[0], a[1] * b[1]
    return (t0 - t1) % P, ((a[0] + a[1]) * (b[0] + b[1]) - t0 - t1) % P


def f2_sqr(a: Fp2) -> Fp2:
    """``a^2`` in F_p2."""
    return (a[0] + a[1]) * (a[0] - a[1]) % P, 2 * a[0] * a[1] % P


def f2_add(a: Fp2, b: Fp2) -> Fp2:
    """``a + b`` in F_p2."""
    return (a[0] + b[0]) % P, (a[1] + b[1]) % P


def f2_sub(a: Fp2, b: Fp2) -> Fp2:
    """``a - b`` in F_p2."""
    return (a[0] - b[0]) % P, (a[1] - b[1]) % P


def f2_inv(a: Fp2) -> Fp2:
    """``1 / a`` in F_p2 (conjugate over the norm; ``a != 0``)."""
    inv = pow(a[0] * a[0] + a[1] * a[1], -1, P)
    return a[0] * inv % P, -a[1] * inv % P


def f2_pow(a: Fp2, e: int) -> Fp2:
    """``a^e`` in F_p2 (square and multiply)."""
    out: Fp2 = (1, 0)
    for bit in bin(e)[2:]:
        out = f2_sqr(out)
        if bit == "1":
            out = f2_mul(out, a)
    return out


_B2 = f2_mul((3, 0), f2_inv((9, 1)))


# ------------------------------------------------------------------ curves (Jacobian, integers)
class _Field:
    """The few operations the Jacobian formulas need, for F_p (ints) or F_p2 (pairs)."""

    def __init__(self, mul, sqr, add, sub, small, zero, one) -> None:  # type: ignore[no-untyped-def]
        self.mul, self.sqr, self.add, self.sub, self.zero, self.one = mul, sqr, add, sub, zero, one
        self.small = small  # (k, a) -> k * a for a small integer k


FP = _Field(lambda a, b: a * b % P, lambda a: a * a % P, lambda a, b: (a + b) % P, lambda a, b: (a - b) % P,
            lambda k, a: k * a % P, 0, 1)
FP2 = _Field(f2_mul, f2_sqr, f2_add, f2_sub, lambda k, a: (k * a[0] % P, k * a[1] % P), (0, 0), (1, 0))


def _jac_double(F: _Field, pt):  # type: ignore[no-untyped-def]
    x, y, z = pt
    if z == F.zero:
        return pt
    a, b = F.sqr(x), F.sqr(y)
    c = F.sqr(b)
    d = F.small(2, F.sub(F.sub(F.sqr(F.add(x, b)), a), c))
    e = F.small(3, a)
    x3 = F.sub(F.sqr(e), F.small(2, d))
    y3 = F.sub(F.mul(e, F.sub(d, x3)), F.small(8, c))
    return x3, y3, F.small(2, F.mul(y, z))


def _jac_add_affine(F: _Field, pt, q):  # type: ignore[no-untyped-def]
    """Jacobian ``pt`` + affine ``q`` (madd-2007-bl)."""
    x1, y1, z1 = pt
    if z1 == F.zero:
        return q[0], q[1], F.one
    z1z1 = F.sqr(z1)
    u2 = F.mul(q[0], z1z1)
    s2 = F.mul(F.mul(q[1], z1), z1z1)
    h = F.sub(u2, x1)
    rr = F.small(2, F.sub(s2, y1))
    if h == F.zero:
        return _jac_double(F, pt) if rr == F.zero else (F.one, F.one, F.zero)
    hh = F.sqr(h)
    i = F.small(4, hh)
    j = F.mul(h, i)
    v = F.mul(x1, i)
    x3 = F.sub(F.sub(F.sqr(rr), j), F.small(2, v))
    y3 = F.sub(F.mul(rr, F.sub(v, x3)), F.small(2, F.mul(y1, j)))
    z3 = F.sub(F.sub(F.sqr(F.add(z1, h)), z1z1), hh)
    return x3, y3, z3


def _jac_mul(F: _Field, q, k: int):  # type: ignore[no-untyped-def]
    out = (F.one, F.one, F.zero)
    for bit in bin(k)[2:]:
        out = _jac_double(F, out)
        if bit == "1":
            out = _jac_add_affine(F, out, q)
    return out


def _to_affine(F: _Field, pt, inv):  # type: ignore[no-untyped-def]
    x, y, z = pt
    if z == F.zero:
        return None
    zi = inv(z)
    zi2 = F.sqr(zi)
    return F.mul(x, zi2), F.mul(y, F.mul(zi, zi2))


def g1_mul(pt: G1, k: int) -> G1:
    """``k * pt`` for an affine G1 point (``None`` = infinity)."""
    if pt is None or k % R == 0:
        return None
    return _to_affine(FP, _jac_mul(FP, pt, k % R), lambda z: pow(z, -1, P))


def g1_add(a: G1, b: G1) -> G1:
    """``a + b`` for affine G1 points (``None`` = infinity)."""
    if a is None:
        return b
    if b is None:
        return a
    return _to_affine(FP, _jac_add_affine(FP, (a[0], a[1], 1), b), lambda z: pow(z, -1, P))


def g1_neg(a: G1) -> G1:
    """``-a`` for an affine G1 point."""
    return None if a is None else (a[0], -a[1] % P)


def g1_lincomb(points: Sequence[G1], scalars: Sequence[int]) -> G1:
    """``sum(k_i * P_i)`` by one interleaved double-and-add over the longest scalar."""
    pairs = [(pt, k % R) for pt, k in zip(points, scalars) if pt is not None and k % R]
    if not pairs:
        return None
    out = (1, 1, 0)
    for i in range(max(k.bit_length() for _, k in pairs) - 1, -1, -1):
        out = _jac_double(FP, out)
        for pt, k in pairs:
            if k >> i & 1:
                out = _jac_add_affine(FP, out, pt)
    return _to_affine(FP, out, lambda z: pow(z, -1, P))


def g1_on_curve(pt: tuple[int, int]) -> bool:
    """``y^2 == x^3 + 3`` (G1 has cofactor 1: on the curve means in G1)."""
    x, y = pt
    return (y * y - x * x * x - 3) % P == 0


def g2_on_curve(pt: tuple[Fp2, Fp2]) -> bool:
    """``y^2 == x^3 + 3 / (9 + i)`` on the twist (not yet a G2 membership test)."""
    x, y = pt
    return f2_sub(f2_sqr(y), f2_add(f2_mul(f2_sqr(x), x), _B2)) == (0, 0)


def g2_in_subgroup_by_order(pt: tuple[Fp2, Fp2]) -> bool:
    """``r * pt == infinity``: the definition of G2 membership (254-bit multiplication; the tests' reference)."""
    return _jac_mul(FP2, pt, R)[2] == (0, 0)


def _psi(pt: tuple[Fp2, Fp2]) -> tuple[Fp2, Fp2]:
    """The untwist-Frobenius-twist endomorphism: ``(conj(x) (9+i)^((p-1)/3), conj(y) (9+i)^((p-1)/2))``."""
    (x, y) = pt
    return f2_mul((x[0], -x[1] % P), _KX1), f2_mul((y[0], -y[1] % P), _KY1)


def g2_in_subgroup(pt: tuple[Fp2, Fp2]) -> bool:
    """G2 membership of an on-curve twist point with one 63-bit multiplication.

    ``[x+1]P + psi([x]P) + psi^2([x]P) == psi^3([2x]P)`` for the BN seed x, which holds exactly
    for the points of order r when x is not 4 mod 13 nor 92 mod 97 (Dai, Lin, Zhao, Zhou,
    eprint 2022/348, sec. 5.1; true for BN254's x). Four times cheaper than ``[r]P`` (kept as
    :func:`g2_in_subgroup_by_order`; the tests compare both on points in and outside G2).
    """
    xp = _to_affine(FP2, _jac_mul(FP2, pt, BN_X), f2_inv)
    if xp is None:  # [x]P = 0: P has order dividing x, which is < r, so P is not of order r
        return False
    lhs = _jac_add_affine(FP2, (xp[0], xp[1], (1, 0)), pt)
    lhs = _jac_add_affine(FP2, lhs, _psi(xp))
    lhs = _jac_add_affine(FP2, lhs, _psi(_psi(xp)))
    two_xp = _to_affine(FP2, _jac_double(FP2, (xp[0], xp[1], (1, 0))), f2_inv)
    rhs = None if two_xp is None else _psi(_psi(_psi(two_xp)))
    return _to_affine(FP2, lhs, f2_inv) == rhs


# ------------------------------------------------------------------ F_p12 (py_ecc's basis)
ONE12: Fp12 = (1,) + (0,) * 11


def _reduce(t: list[int]) -> Fp12:
    for k in range(len(t) - 1, 11, -1):
        c = t[k]
        if c:
            t[k - 6] += 18 * c
            t[k - 12] -= 82 * c
    return tuple(x % P for x in t[:12])


def f12_mul(a: Fp12, b: Fp12) -> Fp12:
    """``a * b`` in F_p12 (schoolbook, one reduction)."""
    t = [0] * 23
    for i, ai in enumerate(a):
        if ai:
            for j, bj in enumerate(b):
                t[i + j] += ai * bj
    return _reduce(t)


def f12_sqr(a: Fp12) -> Fp12:
    """``a^2`` in F_p12 (78 products instead of 144)."""
    t = [0] * 23
    for i, ai in enumerate(a):
        if ai:
            t[2 * i] += ai * ai
            d = 2 * ai
            for j in range(i + 1, 12):
                t[i + j] += d * a[j]
    return _reduce(t)


#: The modulus of py_ecc's F_p12 as a polynomial, low degree first: w^12 - 18 w^6 + 82.
_MODULUS12 = [82, 0, 0, 0, 0, 0, -18 % P, 0, 0, 0, 0, 0, 1]


def _trim(poly: list[int]) -> list[int]:
    while poly and poly[-1] == 0:
        poly.pop()
    return poly


def f12_inv(a: Fp12) -> Fp12:
    """``1 / a`` by the extended Euclidean algorithm on polynomials over F_p (``a != 0``)."""
    r0, r1 = list(_MODULUS12), _trim([x % P for x in a])
    s0, s1 = [0], [1]
    if not r1:
        raise ZeroDivisionError("inverse of zero in F_p12")
    while len(r1) > 1:
        quotient = [0] * (len(r0) - len(r1) + 1)
        rem = list(r0)
        lead = pow(r1[-1], -1, P)
        for shift in range(len(r0) - len(r1), -1, -1):
            coef = rem[shift + len(r1) - 1] * lead % P
            quotient[shift] = coef
            if coef:
                for j, c in enumerate(r1):
                    rem[shift + j] = (rem[shift + j] - coef * c) % P
        rem = _trim(rem[:len(r1) - 1])
        product = [0] * (len(quotient) + len(s1) - 1)
        for i, q in enumerate(quotient):
            if q:
                for j, c in enumerate(s1):
                    product[i + j] += q * c
        s_next = [((s0[i] if i < len(s0) else 0) - (product[i] if i < len(product) else 0)) % P
                  for i in range(max(len(s0), len(product)))]
        r0, r1, s0, s1 = r1, rem, s1, _trim(s_next) or [0]
        if not r1:
            raise ZeroDivisionError("not invertible in F_p12")
    scale = pow(r1[0], -1, P)
    out = [c * scale % P for c in s1] + [0] * (12 - len(s1))
    return tuple(out[:12])


def _conj(a: Fp12) -> Fp12:
    """``a^(p^6)``: w -> -w (the conjugation of F_p12 over F_p6 = F_p(w^2))."""
    return tuple(c if i % 2 == 0 else -c % P for i, c in enumerate(a))


def _pow12(a: Fp12, e: int) -> Fp12:
    out = ONE12
    for bit in bin(e)[2:]:
        out = f12_sqr(out)
        if bit == "1":
            out = f12_mul(out, a)
    return out


_FROB: list[list[tuple[int, int]]] = []


def _frobenius(a: Fp12) -> Fp12:
    """``a^p``: coefficients are in F_p, so it is the linear map w^i -> (w^p)^i (sparse)."""
    if not _FROB:
        wp = _pow12((0, 1) + (0,) * 10, P)
        power = ONE12
        for _ in range(12):
            _FROB.append([(k, c) for k, c in enumerate(power) if c])
            power = f12_mul(power, wp)
    t = [0] * 12
    for ai, column in zip(a, _FROB):
        if ai:
            for k, c in column:
                t[k] += ai * c
    return tuple(x % P for x in t)


#: The hard exponent (p^4 - p^2 + 1) / r in base p (digits < p): f^h = prod frob^i(f)^d_i.
_HARD = (P**4 - P**2 + 1) // R
_HARD_DIGITS = [(_HARD // P**i) % P for i in range(4)]


def final_exponentiation(f: Fp12) -> Fp12:
    """``f^((p^12 - 1) / r)``: easy part by Frobenius, hard part as one joint exponentiation."""
    f = f12_mul(_conj(f), f12_inv(f))  # f^(p^6 - 1)
    f = f12_mul(_frobenius(_frobenius(f)), f)  # ^(p^2 + 1)
    bases = [f]
    for _ in range(3):
        bases.append(_frobenius(bases[-1]))
    table: dict[int, Fp12] = {}
    for mask in range(1, 16):
        acc = ONE12
        for i in range(4):
            if mask >> i & 1:
                acc = f12_mul(acc, bases[i])
        table[mask] = acc
    out = ONE12
    for bit in range(max(d.bit_length() for d in _HARD_DIGITS) - 1, -1, -1):
        out = f12_sqr(out)
        mask = sum(1 << i for i, d in enumerate(_HARD_DIGITS) if d >> bit & 1)
        if mask:
            out = f12_mul(out, table[mask])
    return out


# ------------------------------------------------------------------ Miller loop
def _iota_line(lam: Fp2, c: Fp2) -> Line:
    """Coefficients of ``x * iota(lam) * w + iota(c) * w^3`` with ``iota(a + b i) = (a - 9b) + b w^6``."""
    return (lam[0] - 9 * lam[1]) % P, lam[1], (c[0] - 9 * c[1]) % P, c[1]


def _line_through(r_pt: tuple[Fp2, Fp2], q_pt: tuple[Fp2, Fp2]) -> tuple[Line, tuple[Fp2, Fp2]]:
    """The line through R and Q (tangent when equal) and R + Q, on the twist, over F_p2."""
    (xr, yr), (xq, yq) = r_pt, q_pt
    if r_pt == q_pt:
        lam = f2_mul(f2_mul((3, 0), f2_sqr(xr)), f2_inv(f2_add(yr, yr)))
    else:
        dx = f2_sub(xq, xr)
        if dx == (0, 0):
            raise ArithmeticError("vertical line in the Miller loop: the G2 point is not of order r")
        lam = f2_mul(f2_sub(yq, yr), f2_inv(dx))
    x3 = f2_sub(f2_sub(f2_sqr(lam), xr), xq)
    y3 = f2_sub(f2_mul(lam, f2_sub(xr, x3)), yr)
    return _iota_line(lam, f2_sub(yr, f2_mul(lam, xr))), (x3, y3)


_KX1 = f2_pow((9, 1), (P - 1) // 3)
_KY1 = f2_pow((9, 1), (P - 1) // 2)
_KX2 = f2_pow((9, 1), (P * P - 1) // 3)
_KY2 = f2_pow((9, 1), (P * P - 1) // 2)


def prepare_g2(q: tuple[Fp2, Fp2]) -> list[Line]:
    """Every Miller-loop line of ``q`` (an order-r twist point), in loop order.

    The same loop as py_ecc's ``miller_loop``: the ate loop count in signed binary
    from the top, then the lines to pi(Q) and -pi^2(Q).
    """
    lines: list[Line] = []
    neg_q = (q[0], (-q[1][0] % P, -q[1][1] % P))
    r_pt = q
    for v in ATE_LOOP_NAF[63::-1]:
        line, r_pt = _line_through(r_pt, r_pt)
        lines.append(line)
        if v:
            line, r_pt = _line_through(r_pt, q if v == 1 else neg_q)
            lines.append(line)
    (x, y) = q
    q1 = (f2_mul((x[0], -x[1] % P), _KX1), f2_mul((y[0], -y[1] % P), _KY1))
    q2 = (f2_mul(x, _KX2), f2_sub((0, 0), f2_mul(y, _KY2)))
    line, r_pt = _line_through(r_pt, q1)
    lines.append(line)
    lines.append(_line_through(r_pt, q2)[0])
    return lines


def _mul_line(f: Fp12, xp: int, yp: int, line: Line) -> Fp12:
    c1, c7, c3, c9 = line
    l0, l1, l7 = -yp, xp * c1 % P, xp * c7 % P
    t = [0] * 21
    for i, fi in enumerate(f):
        if fi:
            t[i] += fi * l0
            t[i + 1] += fi * l1
            t[i + 3] += fi * c3
            t[i + 7] += fi * l7
            t[i + 9] += fi * c9
    return _reduce(t)


_STEPS = [v != 0 for v in ATE_LOOP_NAF[63::-1]]


def multi_miller_loop(pairs: Sequence[tuple[G1, Sequence[Line]]]) -> Fp12:
    """Product of the Miller loops of ``(P_i, prepared Q_i)`` sharing one squaring per step.

    Pairs whose G1 point is infinity contribute 1 and are skipped.
    """
    live = [(pt[0], pt[1], lines) for pt, lines in pairs if pt is not None]
    f = ONE12
    k = 0
    for add_step in _STEPS:
        if f is not ONE12:
            f = f12_sqr(f)
        for xp, yp, lines in live:
            f = _mul_line(f, xp, yp, lines[k])
        k += 1
        if add_step:
            for xp, yp, lines in live:
                f = _mul_line(f, xp, yp, lines[k])
            k += 1
    for _ in range(2):
        for xp, yp, lines in live:
            f = _mul_line(f, xp, yp, lines[k])
        k += 1
    return f


def pairing_product_is_one(pairs: Sequence[tuple[G1, Sequence[Line]]], extra: Fp12 = ONE12) -> bool:
    """``prod e(P_i, Q_i) == 1`` (times a cached Miller-loop value ``extra``): one final exponentiation."""
    f = multi_miller_loop(pairs)
    if extra is not ONE12:
        f = f12_mul(f, extra)
    if not any(f):
        return False
    return final_exponentiation(f) == ONE12
