pragma circom 2.1.6;
/*
 * state.circom — ChunkState(U): the blinded running state of a book proven in
 * chunks (zksolv.chunking):
 *
 *   state = hash_list([STATE_DOMAIN, counter, chain, Delta[U], Gamma[U], Vega[U],
 *                      position_value, blinding])
 *
 * `chain` is the positions' EntryChain so far, the sums are the aggregates so far
 * (aggregate.circom scales), `counter` the number of chunks so far (so an empty
 * padding chunk still moves the state: equal states would reveal it) and
 * `blinding` a random field element chosen once per book and proving run: a state
 * is a hiding commitment, so nothing private follows from it, and two books'
 * states are unrelated even when their first positions coincide.
 * Inputs: any field elements (the circuits using it range-check what needs it).
 * Constraints: 606 * ceil((5 + 3U) / 15) (HashList).
 *
 * RevaluationChunkState(U, K): the state of a book proven in chunks under a
 * revaluation market, which carries the risk-array sums instead of the greeks:
 *
 *   state = hash_list([STATE_DOMAIN_REVALUATION, counter, chain, PnL[U][K] (row-major
 *                      by underlying), position_value, blinding])
 *
 * under its own domain tag, so no revaluation state can ever open as a greeks
 * state (their lengths coincide when K = 3). 606 * ceil((5 + U*K) / 15) constraints.
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen.
 */
include "hash_list.circom";

template ChunkState(U) {
    signal input counter;
    signal input chain;
    signal input Delta[U];
    signal input Gamma[U];
    signal input Vega[U];
    signal input position_value;
    signal input blinding;
    signal output out;

    component h = HashList(5 + 3 * U);
    h.in[0] <== FP_STATE_DOMAIN();
    h.in[1] <== counter;
    h.in[2] <== chain;
    for (var u = 0; u < U; u++) {
        h.in[3 + u] <== Delta[u];
        h.in[3 + U + u] <== Gamma[u];
        h.in[3 + 2 * U + u] <== Vega[u];
    }
    h.in[3 + 3 * U] <== position_value;
    h.in[4 + 3 * U] <== blinding;
    out <== h.out;
}

template RevaluationChunkState(U, K) {
    signal input counter;
    signal input chain;
    signal input PnL[U][K];
    signal input position_value;
    signal input blinding;
    signal output out;

    component h = HashList(5 + U * K);
    h.in[0] <== FP_STATE_DOMAIN_REVALUATION();
    h.in[1] <== counter;
    h.in[2] <== chain;
    for (var u = 0; u < U; u++) {
        for (var k = 0; k < K; k++) { h.in[3 + u * K + k] <== PnL[u][k]; }
    }
    h.in[3 + U * K] <== position_value;
    h.in[4 + U * K] <== blinding;
    out <== h.out;
}
