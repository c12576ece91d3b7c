pragma circom 2.1.6;
/*
 * risk_stress.circom — RiskStress(U, K): stress-mode margin (docs/fixed_point.md §2).
 *
 *   hints m_u in [0, 2^207) with m_u - 2L_{u,k} in [0, 2^208) for every k;
 *   MM_raw = sum_u m_u   (scale 2e30; any m_u >= max(0, max_k 2L_{u,k}) passes,
 *   a larger one only raises the prover's own margin).
 *
 * Inputs: loss2[U][K] (|.| < 2^206.0000001 for any admitted values, fixed_point.md §2),
 * hints m[U]. Output: MM_raw (< 2^211).
 * Constraints: U*207 + U*K*208 (measured: RiskStress(2,16) = 7,070; it was
 *   U*214 + U*K*216 = 7,340 with the old, looser widths).
 * Widths: STRESS_HINT_BITS = 207 holds every honest maximum (|2L| < 2^207) and
 * STRESS_SLACK_BITS = 208 every honest slack m_u - 2L_{u,k} < 2^207 + 2^207.
 * Soundness: m_u - 2L_{u,k} lies in (-2^207, 2^208) as an integer, so a negative
 * difference is p - x > 2^253 in the field and fails the range check.
 *
 * WorstScenario(U, K, HINT, SLACK): the one-sided maximum both RiskStress and
 *   RiskRevaluation (revaluation.circom) use: m_u in [0, 2^HINT) and
 *   m_u - loss_{u,k} in [0, 2^SLACK); sum_m = sum_u m_u. Sound when
 *   |loss| < 2^HINT and HINT < SLACK <= 252: m_u - loss_{u,k} then lies in
 *   (-2^HINT, 2^SLACK) as an integer, and a negative one wraps above 2^SLACK.
 *   U*HINT + U*K*SLACK constraints.
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen.
 */
include "range.circom";

template WorstScenario(U, K, HINT, SLACK) {
    assert(HINT < SLACK && SLACK <= 252);
    signal input loss[U][K];
    signal input m[U];
    signal output sum_m;

    component mRange[U];
    component slack[U][K];
    var total = 0;
    for (var u = 0; u < U; u++) {
        mRange[u] = RangeCheck(HINT);                    // m_u >= 0
        mRange[u].in <== m[u];
        for (var k = 0; k < K; k++) {
            slack[u][k] = NonNegSlack(SLACK);            // m_u >= loss_{u,k}
            slack[u][k].a <== m[u];
            slack[u][k].b <== loss[u][k];
        }
        total += m[u];
    }
    sum_m <== total;
}

template RiskStress(U, K) {
    signal input loss2[U][K];
    signal input m[U];
    signal output MM_raw;

    component worst = WorstScenario(U, K, FP_STRESS_HINT_BITS(), FP_STRESS_SLACK_BITS());
    for (var u = 0; u < U; u++) {
        for (var k = 0; k < K; k++) { worst.loss[u][k] <== loss2[u][k]; }
        worst.m[u] <== m[u];
    }
    MM_raw <== worst.sum_m;
}
