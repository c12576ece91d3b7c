pragma circom 2.1.6;
/*
 * instrument.circom — InstrumentLeaf(): Poseidon6([id, u, mark, delta, gamma, vega])
 * (docs/fixed_point.md §3).
 * `id` is the instrument's stable identity (zksolv.identity.instrument_id:
 * underlying symbol, expiry, kind, strike packed, < 2^187): the account
 * commitment names positions by it, and AvslSolvency feeds the same signal
 * to the commitment and to this leaf, so an opened leaf always carries the
 * committed identity. The circuit never unpacks it.
 * Inputs: market data (signed values as p - |x|), not range-checked (the keeper
 * validated the market bound by market_root, ids included).
 * Constraints: 354 (Poseidon(6), measured).
 */
include "circomlib/circuits/poseidon.circom";

template InstrumentLeaf() {
    signal input id;
    signal input u;
    signal input mark;
    signal input delta;
    signal input gamma;
    signal input vega;
    signal output leaf;

    component h = Poseidon(6);
    h.inputs[0] <== id;
    h.inputs[1] <== u;
    h.inputs[2] <== mark;
    h.inputs[3] <== delta;
    h.inputs[4] <== gamma;
    h.inputs[5] <== vega;
    leaf <== h.out;
}
