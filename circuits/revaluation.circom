pragma circom 2.1.6;
/*
 * revaluation.circom — the positions of a book under a revaluation market (MODE 3):
 * leaves carrying the risk arrays, opened per slot (the arithmetic is in
 * risk_revaluation.circom).
 *
 * RevaluationLeaf(K): hash_list([id, u, mark, delta, gamma, vega, pnl_0 .. pnl_{K-1}])
 *   — every published value its own field element (market data is not range-checked
 *   in the circuit, so nothing is packed: a packing would admit other decompositions).
 *   606 * ceil((6 + K) / 15) constraints (HashList).
 * RevaluationSlots(N, U, K, DEPTH): N position slots opened against the instruments
 *   tree as PositionSlots does (the slot's instrument_id is the first input of the
 *   leaf it opens; leaf_index and path are private lookup details), with
 *   revaluation leaves; outputs entry[N] (for EntryChain), PnL[U][K] = sum_j dPnL
 *   (PositionPnl) and position_value = sum_j q_j * mark_j.
 *   Per slot: RevaluationLeaf(K) + its opening through the cap (CappedOpenings) + entry 3 + PositionPnl.
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen.
 */
include "hash_list.circom";
include "merkle.circom";
include "account.circom";
include "risk_revaluation.circom";

template RevaluationLeaf(K) {
    signal input id;
    signal input u;
    signal input mark;
    signal input delta;
    signal input gamma;
    signal input vega;
    signal input pnl[K];
    signal output leaf;

    component h = HashList(6 + K);
    h.in[0] <== id;
    h.in[1] <== u;
    h.in[2] <== mark;
    h.in[3] <== delta;
    h.in[4] <== gamma;
    h.in[5] <== vega;
    for (var k = 0; k < K; k++) { h.in[6 + k] <== pnl[k]; }
    leaf <== h.out;
}

template RevaluationSlots(N, U, K, DEPTH, CAP) {
    signal input instruments_root;
    signal input cap[FP_MERKLE_ARITY() ** CAP];
    signal input q[N];
    signal input instrument_id[N];
    signal input leaf_index[N];
    signal input path[N][DEPTH - CAP][FP_MERKLE_ARITY() - 1];
    signal input underlying[N];
    signal input mark[N];
    signal input delta[N];
    signal input gamma[N];
    signal input vega[N];
    signal input pnl[N][K];
    signal output entry[N];
    signal output PnL[U][K];
    signal output position_value;

    component leaf[N];
    component pos[N];
    component open = CappedOpenings(N, DEPTH, CAP);
    open.root <== instruments_root;
    open.cap <== cap;
    open.index <== leaf_index;
    open.path <== path;
    component book[N];
    var sums[U][K];
    for (var v = 0; v < U; v++) { for (var k = 0; k < K; k++) { sums[v][k] = 0; } }
    var value = 0;
    for (var j = 0; j < N; j++) {
        leaf[j] = RevaluationLeaf(K);
        leaf[j].id <== instrument_id[j];
        leaf[j].u <== underlying[j];
        leaf[j].mark <== mark[j];
        leaf[j].delta <== delta[j];
        leaf[j].gamma <== gamma[j];
        leaf[j].vega <== vega[j];
        leaf[j].pnl <== pnl[j];
        open.leaf[j] <== leaf[j].leaf;
        pos[j] = PositionEntry();
        pos[j].q <== q[j];
        pos[j].id <== instrument_id[j];
        entry[j] <== pos[j].entry;
        book[j] = PositionPnl(U, K);
        book[j].q <== q[j];
        book[j].u <== underlying[j];
        book[j].mark <== mark[j];
        book[j].pnl <== pnl[j];
        for (var v = 0; v < U; v++) { for (var k = 0; k < K; k++) { sums[v][k] += book[j].dPnL[v][k]; } }
        value += book[j].value;
    }
    for (var v = 0; v < U; v++) { for (var k = 0; k < K; k++) { PnL[v][k] <== sums[v][k]; } }
    position_value <== value;
}
