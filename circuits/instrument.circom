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
 * Keep `id` a separate input (do not pack fields into it): AccountCommitment's
 * soundness needs every slot's id to be a validated identity < 2^187, so that entries
 * lie in [0, 2^240) and a block whose entries sum to 0 is really empty. Packing
 * u*2^187 + id (u is pinned by OneHot) looked sound and saves 33 constraints, but a
 * slot could then open a leaf as (u + 1, id - 2^187): its entry leaves [0, 2^240), and
 * for a listing whose identities sum to 2^187 - 1 (valid ones exist, docs/design.md)
 * three non-empty entries sum to 0 mod p, so EntryChain skips their block and the
 * positions escape the commitment. Market data (mark, greeks) is not range-checked
 * here either, so no pair of those can be packed.
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
