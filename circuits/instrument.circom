pragma circom 2.1.6;
/*
 * instrument.circom — InstrumentLeaf(): Poseidon6([info, u, mark, delta, gamma, vega])
 * (docs/fixed_point.md §3). info = Poseidon3([kind, strike, expiry]) is taken
 * as an opaque input: the circuit never uses kind, strike or expiry.
 * Inputs: market data (signed values as p - |x|), not range-checked (the keeper
 * validated the market bound by market_root). Constraints: 354 (Poseidon(6), measured).
 */
include "circomlib/circuits/poseidon.circom";

template InstrumentLeaf() {
    signal input info;
    signal input u;
    signal input mark;
    signal input delta;
    signal input gamma;
    signal input vega;
    signal output leaf;

    component h = Poseidon(6);
    h.inputs[0] <== info;
    h.inputs[1] <== u;
    h.inputs[2] <== mark;
    h.inputs[3] <== delta;
    h.inputs[4] <== gamma;
    h.inputs[5] <== vega;
    leaf <== h.out;
}
