pragma circom 2.1.0;

// Deliberately broken test circuit (tests/test_r1cs_checker.py,
// tests/test_static_analysis.py): the checker's tamper sweep and
// `circom --inspect` must both flag it. Not part of zksolv's margin circuits.
//   - `unused` is an input that appears in no constraint;
//   - `half` is assigned with <-- and never constrained.

template UnderconstrainedDemo() {
    signal input a;
    signal input unused;
    signal output sq;
    signal output half;

    sq <== a * a;
    half <-- a / 2;
}

component main = UnderconstrainedDemo();
