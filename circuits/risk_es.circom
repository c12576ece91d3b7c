pragma circom 2.1.6;
/*
 * risk_es.circom — RiskEs(U, K): expected-shortfall margin condition
 * (Rockafellar–Uryasev, docs/fixed_point.md §2).
 *
 *   L_k = sum_u 2L_{u,k};  hints t (|t| < 2^214), e_k in [0, 2^214) with
 *   e_k - (L_k - t) in [0, 2^216);
 *   mm*2e24*(1e6 - c) - ( t*(1e6 - c) + sum_k w_k e_k ) in [0, 2^248).
 *
 * Inputs: loss2[U][K] (|.| < 2^207, |L_k| < 2^212), market data w[K]
 * (<= 1e6), es_level c (< 1e6), hints t, e[K], and mm (range-checked to
 * 128 bits by Solvency). Constraints: 215 + K*(214 + 216 + 1) + 1 + 248
 * (measured RiskEs(2,16) = 7360).
 * Soundness: |e_k - L_k + t| < 2^216 so a negative slack wraps above 2^216;
 * the margin slack is < 2^229 + 2^234 + 2^242 < 2^243 in magnitude, so a
 * negative one wraps above 2^248. Any t gives an upper bound on ES.
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen.
 */
include "range.circom";

template RiskEs(U, K) {
    signal input loss2[U][K];
    signal input w[K];
    signal input es_level;
    signal input t;
    signal input e[K];
    signal input mm;

    component tRange = SignedRangeCheck(FP_HINT_BITS());
    tRange.in <== t;

    component eRange[K];
    component excess[K];
    signal we[K];
    var weighted = 0;
    for (var k = 0; k < K; k++) {
        var L = 0;
        for (var u = 0; u < U; u++) { L += loss2[u][k]; }
        eRange[k] = RangeCheck(FP_HINT_BITS());          // e_k >= 0
        eRange[k].in <== e[k];
        excess[k] = NonNegSlack(FP_SLACK_BITS());        // e_k >= L_k - t
        excess[k].a <== e[k] + t;
        excess[k].b <== L;
        we[k] <== w[k] * e[k];
        weighted += we[k];
    }
    // mm*2e24*(1e6-c) >= t*(1e6-c) + sum w_k e_k
    signal tail_margin <== (FP_MM_DIVISOR() * mm - t) * (FP_RATIO_SCALE() - es_level);
    component cond = RangeCheck(FP_ES_SLACK_BITS());
    cond.in <== tail_margin - weighted;
}
