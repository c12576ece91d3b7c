pragma circom 2.1.6;
/*
 * revaluation.circom — the full-revaluation risk mode (risk_mode "revaluation",
 * MODE 3; docs/fixed_point.md §2, zksolv.revaluation): the oracle publishes per
 * instrument i and scenario k the P&L of one unit by full repricing, pnl_{i,k}
 * (micro-USD, |.| < 2^49, rounded toward -infinity), committed in the instrument's
 * leaf; the circuit adds q * pnl up exactly per underlying and scenario and takes,
 * per underlying, the worst scenario (the structure of the stress mode, no credit
 * across underlyings).
 *
 * RevaluationLeaf(K): hash_list([id, u, mark, delta, gamma, vega, pnl_0 .. pnl_{K-1}])
 *   — every published value its own field element (market data is not range-checked
 *   in the circuit, so nothing is packed: a packing would admit other decompositions).
 *   606 * ceil((6 + K) / 15) constraints (HashList).
 * PositionPnl(U, K): QuantityRange(q); value = q * mark (scale 1e12); the position's
 *   contributions dPnL[u][k] = [u == u_j] * q * pnl_k (scale 1e12, |.| < 2^101).
 *   55 + 1 + (U == 1 ? K : 2U + U*K) constraints.
 * RevaluationSlots(N, U, K, DEPTH): N position slots opened against the instruments
 *   tree as PositionSlots does (the slot's instrument_id is the first input of the
 *   leaf it opens; leaf_index and path are private lookup details), with
 *   revaluation leaves; outputs entry[N] (for EntryChain), PnL[U][K] = sum_j dPnL
 *   and position_value = sum_j q_j * mark_j.
 *   Per slot: RevaluationLeaf(K) + MerkleInclusion4(DEPTH) + entry 3 + PositionPnl.
 * RiskRevaluation(U, K): loss[u][k] (= -PnL[u][k], |.| < 2^111); hints m_u in
 *   [0, 2^112) with m_u - loss[u][k] in [0, 2^113) (WorstScenario);
 *   MM_raw = 2e18 * sum_u m_u (scale 2e30 as every mode's MM_raw, < 2^177).
 *   U*112 + U*K*113 constraints.
 * RevaluationMargin(U, K): RiskRevaluation on -PnL, MarginRounding, Solvency: the
 *   AVSL statement nav_raw * 1e6 >= mm * (1e12 + V*beta) * min_ratio, unchanged.
 *
 * Bounds (no wrap mod p): |q| < 2^52 (range-checked), |pnl| < 2^49 (validated by the
 * keeper, bound by market_root), so |q * pnl| < 2^101 and over N <= 1024 slots
 * |PnL[u][k]| < 2^111 (REVAL_SUM_BITS; a chunked book's final proof range-checks its
 * sums to it). WorstScenario's soundness needs |loss| < 2^112 < 2^113: a negative
 * slack wraps above 2^113. MM_raw < 16 * 2^112 * 2^61 < 2^177 << 2^216 (MarginRounding).
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen.
 */
include "hash_list.circom";
include "merkle.circom";
include "aggregate.circom";
include "account.circom";
include "risk_stress.circom";
include "solvency.circom";

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

template PositionPnl(U, K) {
    signal input q;        // private, signed, |q| < 2^QTY_BITS
    signal input u;        // underlying index of the instrument (market data)
    signal input mark;
    signal input pnl[K];
    signal output dPnL[U][K];
    signal output value;   // q * mark, scale 1e12

    component qRange = QuantityRange();
    qRange.q <== q;
    value <== q * mark;
    if (U == 1) {
        u === 0;
        for (var k = 0; k < K; k++) { dPnL[0][k] <== q * pnl[k]; }
    } else {
        component onehot = OneHot(U);
        onehot.idx <== u;
        signal qs[U];      // q routed to its underlying: sel_u * q
        for (var v = 0; v < U; v++) {
            qs[v] <== onehot.sel[v] * q;
            for (var k = 0; k < K; k++) { dPnL[v][k] <== qs[v] * pnl[k]; }
        }
    }
}

template RevaluationSlots(N, U, K, DEPTH) {
    signal input instruments_root;
    signal input q[N];
    signal input instrument_id[N];
    signal input leaf_index[N];
    signal input path[N][DEPTH][3];
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
    component inclusion[N];
    component pos[N];
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
        inclusion[j] = MerkleInclusion4(DEPTH);
        inclusion[j].leaf <== leaf[j].leaf;
        inclusion[j].index <== leaf_index[j];
        inclusion[j].path <== path[j];
        inclusion[j].root === instruments_root;
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

template RiskRevaluation(U, K) {
    signal input loss[U][K];
    signal input m[U];
    signal output MM_raw;

    component worst = WorstScenario(U, K, FP_REVAL_HINT_BITS(), FP_REVAL_SLACK_BITS());
    worst.loss <== loss;
    worst.m <== m;
    MM_raw <== FP_REVAL_LOSS_FACTOR() * worst.sum_m;
}

template RevaluationMargin(U, K) {
    signal input PnL[U][K];   // sum q * pnl per underlying and scenario, |.| < 2^111
    signal input nav_raw;     // |.| < 2^131
    signal input V;
    signal input beta;
    signal input min_ratio;
    signal input mm;          // hint, range-checked to 128 bits by Solvency
    signal input m[U];        // hints
    signal output req_raw;

    component risk = RiskRevaluation(U, K);
    for (var u = 0; u < U; u++) {
        for (var k = 0; k < K; k++) { risk.loss[u][k] <== -PnL[u][k]; }
    }
    risk.m <== m;
    component rounding = MarginRounding();
    rounding.mm <== mm;
    rounding.MM_raw <== risk.MM_raw;
    component solvency = Solvency();
    solvency.nav_raw <== nav_raw;
    solvency.mm <== mm;
    solvency.V <== V;
    solvency.beta <== beta;
    solvency.min_ratio <== min_ratio;
    req_raw <== solvency.req_raw;
    if (FP_DEBUG()) {
        for (var u = 0; u < U; u++) {
            for (var k = 0; k < K; k++) {
                log("PnL", u, k, PnL[u][k]);
                log("loss2", u, k, -FP_REVAL_LOSS_FACTOR() * PnL[u][k]);
            }
        }
        log("MM_raw", risk.MM_raw);
    }
}
