pragma circom 2.1.0;

// Test circuit for the R1CS checker (tests/test_r1cs_checker.py), not part of
// zksolv's margin circuits: a range check (Num2Bits), a multiplication and a
// comparison (LessThan). Public: limit, output ok. Private: x, y.
// Proves x, y < 2^16, prod = x * y and ok = (prod < limit); ok must be 1.

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";

template TamperDemo(n) {
    signal input x;
    signal input y;
    signal input limit;
    signal output ok;

    component rx = Num2Bits(n);
    rx.in <== x;
    component ry = Num2Bits(n);
    ry.in <== y;

    signal prod <== x * y;
    component lt = LessThan(2 * n + 1);
    lt.in[0] <== prod;
    lt.in[1] <== limit;
    ok <== lt.out;
    ok === 1;
}

component main {public [limit]} = TamperDemo(16);
