pragma circom 2.1.0;

// Toy circuit for the toolchain tests (not part of zksolv's margin circuits).
// Private a, b < 2^n; public c, k; output h.
// Proves a * b == c with both factors range-checked, and h == c * k.
// Public signals (snarkjs order): [h, c, k].

include "circomlib/circuits/bitify.circom";

template RangeMultiplier(n) {
    signal input a;
    signal input b;
    signal input c;
    signal input k;
    signal output h;

    component ra = Num2Bits(n);
    ra.in <== a;
    component rb = Num2Bits(n);
    rb.in <== b;

    signal ab;
    ab <== a * b;
    ab === c;
    h <== c * k;
}

component main {public [c, k]} = RangeMultiplier(32);
