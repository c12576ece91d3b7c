pragma circom 2.1.6;
/*
 * range.circom — range checks (docs/fixed_point.md §1–2).
 *
 * RangeCheck(n):        in in [0, 2^n)                     n constraints
 * SignedRangeCheck(n):  in + 2^n in [0, 2^(n+1)), i.e. in in [-2^n, 2^n)
 *                       (signed, carried as p - |x|; -2^n itself passes: callers'
 *                       bounds use |in| <= 2^n, and PositionGreeks refuses
 *                       q = -2^52 separately)                n+1 constraints
 * NonNegSlack(n):       a - b in [0, 2^n), i.e. a >= b when both are known to
 *                       be far below p/2 in magnitude      n constraints
 *
 * Soundness: Num2Bits(n) with n <= 252 has a unique decomposition (2^n < p), so
 * a value outside [0, 2^n) has no satisfying bits. A one-sided check a >= b is
 * sound only when |a - b| < p - 2^n, which every caller documents (all values
 * here are < 2^250 in magnitude, so a negative difference wraps to > 2^252).
 */
include "circomlib/circuits/bitify.circom";

template RangeCheck(n) {
    assert(n <= 252);
    signal input in;
    component bits = Num2Bits(n);
    bits.in <== in;
}

template SignedRangeCheck(n) {
    assert(n + 1 <= 252);
    signal input in;
    component bits = Num2Bits(n + 1);
    bits.in <== in + 2 ** n;
}

template NonNegSlack(n) {
    assert(n <= 252);
    signal input a;
    signal input b;
    component bits = Num2Bits(n);
    bits.in <== a - b;
}
