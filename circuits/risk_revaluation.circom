pragma circom 2.1.6;
/*
 * risk_revaluation.circom — the arithmetic of the full-revaluation risk mode
 * (risk_mode "revaluation", MODE 3; docs/fixed_point.md §2, zksolv.revaluation). The
 * oracle publishes per instrument i and scenario k the P&L of one unit by full
 * repricing, pnl_{i,k} (micro-USD, |.| < 2^49, rounded toward -infinity), committed in
 * the instrument's leaf (revaluation.circom); these templates add q * pnl up exactly
 * per underlying and scenario and take, per underlying, the worst scenario (the
 * structure of the stress mode, no credit across underlyings).
 *
 * PositionPnl(U, K): QuantityRange(q); value = q * mark (scale 1e12); the position's
 *   contributions dPnL[u][k] = [u == u_j] * q * pnl_k (scale 1e12, |.| < 2^101).
 *   55 + 1 + (U == 1 ? K : 2U + U*K) constraints (U == 1: u === 0, no selector).
 * RiskRevaluation(U, K): loss[u][k] (= -PnL[u][k], |.| < 2^111); hints m_u in
 *   [0, 2^112) with m_u - loss[u][k] in [0, 2^113) (WorstScenario);
 *   MM_raw = 2e18 * sum_u m_u (scale 2e30 as every mode's MM_raw, < 2^177).
 *   U*112 + U*K*113 constraints.
 * RevaluationMargin(U, K): RiskRevaluation on -PnL, MarginRounding, Solvency: the
 *   AVSL statement nav_raw * 1e6 >= mm * 1e12 * min_ratio. The AVSL factor 1 + V*beta
 *   scales the scan range the arrays are repriced at (dS' = dS * (1 + V*beta), dsig'
 *   likewise: zksolv.market.MarketState.scan_range, docs/design.md "Full revaluation"),
 *   so it is not applied to MM_base a second time.
 *
 * Bounds (no wrap mod p): |q| < 2^52 (range-checked), |pnl| < 2^49 (validated by the
 * keeper, bound by market_root), so |q * pnl| < 2^101 and over N <= 1024 slots
 * |PnL[u][k]| < 2^111 (REVAL_SUM_BITS; a chunked book's final proof range-checks its
 * sums to it). WorstScenario's soundness needs |loss| < 2^112 < 2^113: a negative
 * slack wraps above 2^113. MM_raw < 16 * 2^112 * 2^61 < 2^177 << 2^216 (MarginRounding).
 * No Poseidon here (circheck analyses these templates; tests/test_static_analysis.py).
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen.
 */
include "aggregate.circom";
include "risk_stress.circom";
include "solvency.circom";

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

template RiskRevaluation(U, K) {
    signal input loss[U][K];
    signal input m[U];
    signal output MM_raw;

    component worst = WorstScenario(U, K, FP_REVAL_HINT_BITS(), FP_REVAL_SLACK_BITS());
    for (var u = 0; u < U; u++) {   // element-wise: circheck's data-flow graph needs scalar wiring
        for (var k = 0; k < K; k++) { worst.loss[u][k] <== loss[u][k]; }
        worst.m[u] <== m[u];
    }
    MM_raw <== FP_REVAL_LOSS_FACTOR() * worst.sum_m;
}

template RevaluationMargin(U, K) {
    signal input PnL[U][K];   // sum q * pnl per underlying and scenario, |.| < 2^111
    signal input nav_raw;     // |.| < 2^131
    signal input min_ratio;
    signal input mm;          // hint, range-checked to 128 bits by Solvency
    signal input m[U];        // hints
    signal output req_raw;

    component risk = RiskRevaluation(U, K);
    for (var u = 0; u < U; u++) {
        for (var k = 0; k < K; k++) { risk.loss[u][k] <== -PnL[u][k]; }
        risk.m[u] <== m[u];
    }
    component rounding = MarginRounding();
    rounding.mm <== mm;
    rounding.MM_raw <== risk.MM_raw;
    component solvency = Solvency();
    solvency.nav_raw <== nav_raw;
    solvency.mm <== mm;
    // the AVSL factor 1 + V*beta is in the arrays (repriced at the scan range scaled by it,
    // zksolv.market.MarketState.scan_range): the statement multiplies MM_base by 1
    solvency.V <== 0;
    solvency.beta <== 0;
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
