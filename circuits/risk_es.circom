pragma circom 2.1.6;
/*
 * risk_es.circom — RiskEs(U, K): expected-shortfall margin condition
 * (Rockafellar–Uryasev, docs/fixed_point.md §2).
 *
 *   L_k = sum_u 2L_{u,k};  d_k = L_k - t with t the prover's threshold (the only hint);
 *   d_k + 2^n in [0, 2^(n+1)) (n = ES_EXCESS_BITS = 212), whose top bit is
 *   s_k = [d_k >= 0];  e_k = s_k * d_k = max(0, L_k - t)  (computed, not a hint);
 *   mm*2e24*(1e6 - c) - ( t*(1e6 - c) + sum_k w_k e_k ) in [0, 2^235).
 *
 * SignBit(n): the sign bit [in >= 0] of an `in` with -2^n <= in < 2^n (no witness
 *   otherwise): Num2Bits(n+1) of in + 2^n, top bit. n+1 constraints.
 * Inputs: loss2[U][K] (|.| < 2^207, so |L_k| < 2^211), market data w[K] (<= 1e6,
 * summing to 1e6), es_level c (< 1e6), hint t, and mm (range-checked to 128 bits by
 * Solvency).
 * Constraints: K * (213 + 1 + 1) + 1 + 235 (per scenario: the sign bit's decomposition,
 *   e_k, w_k*e_k; measured RiskEs(2,16) = 3,676, per scenario 215; it was 431 with
 *   separate range checks e_k >= 0 (214) and e_k - L_k + t >= 0 (216), plus 215 for t).
 * Soundness: the decomposition is unique (213 <= 252 bits), so d_k is forced into
 *   [-2^212, 2^212) as an integer and s_k is exactly its sign: e_k = max(0, L_k - t)
 *   exactly, for every k — no prover choice at all besides t. That also bounds t:
 *   |t| <= |L_0| + 2^212 < 2^213 (no separate range check on t is needed). Any t
 *   gives F(t) = t + sum_k w_k e_k / (1 - c) >= ES_c (Rockafellar–Uryasev), so the
 *   hint can only raise the prover's own margin; the reference's t is the c-quantile,
 *   where F(t) = ES_c. The margin slack is < (2^209 + 2^213) * 2^20 + 2^20 * 2^212
 *   < 2^235 in magnitude, so a negative one wraps above p - 2^235 > 2^235.
 *   Completeness: for the reference t (one of the L_j), |d_k| < 2 * 2^210.0000001 < 2^212.
 * Why not a boolean hint b_k with a range check on (2 b_k - 1) * d_k: the same count
 *   (1 booleanity + 212), sound too, but b_k is free whenever d_k = 0 — which the
 *   quantile scenario always is — leaving a witness wire nothing constrains.
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen.
 */
include "range.circom";

template SignBit(n) {
    assert(n + 1 <= 252);
    signal input in;
    signal output sign;
    component bits = Num2Bits(n + 1);
    bits.in <== in + 2 ** n;
    sign <== bits.out[n];
}

template RiskEs(U, K) {
    signal input loss2[U][K];
    signal input w[K];
    signal input es_level;
    signal input t;
    signal input mm;

    component sign[K];
    signal e[K];
    signal we[K];
    var weighted = 0;
    for (var k = 0; k < K; k++) {
        var L = 0;
        for (var u = 0; u < U; u++) { L += loss2[u][k]; }
        sign[k] = SignBit(FP_ES_EXCESS_BITS());         // |L_k - t| <= 2^212, sign exact
        sign[k].in <== L - t;
        e[k] <== sign[k].sign * (L - t);                 // e_k = max(0, L_k - t)
        we[k] <== w[k] * e[k];
        weighted += we[k];
    }
    // mm*2e24*(1e6-c) >= t*(1e6-c) + sum w_k e_k
    signal tail_margin <== (FP_MM_DIVISOR() * mm - t) * (FP_RATIO_SCALE() - es_level);
    component cond = RangeCheck(FP_ES_SLACK_BITS());
    cond.in <== tail_margin - weighted;
}
