pragma circom 2.1.6;
/*
 * risk_var.circom — RiskVar(U): factor delta-normal VaR with gamma and vega
 * add-ons (docs/fixed_point.md §2). Factors f = 0..U-1.
 *
 *   y_f = sum_u a_{u,f} Delta_u                      (scale 1e20, |.| < 2^145)
 *   yt_f in [0, 2^100), yt_f*1e14 - y_f and yt_f*1e14 + y_f in [0, 2^216)
 *   s in [0, 2^104),   s^2 - sum_f yt_f^2 in [0, 2^216)
 *   n_u in [0, 2^112), n_u + Gamma_u in [0, 2^216)
 *   v_u in [0, 2^112), v_u - Vega_u and v_u + Vega_u in [0, 2^216)
 *   MM_raw = 2e24*s + sum_u ( n_u*g_u + 2e12*v_u*vs_u )   (< 2^213)
 *
 * Inputs: Delta[U], Gamma[U], Vega[U]; market data a[U][U] (|.| < 2^48),
 * g[U] (< 2^96), vs[U] (< 2^31); hints yt[U], s, n[U], v[U].
 * Constraints: U^2 + U*(100+432+1) + 104 + 1 + 216 + U*(112+216) + U*(112+432) + 2U
 * (measured RiskVar(2) = 3139).
 * Soundness: every slack is < 2^209 in magnitude, so a negative one wraps above 2^216.
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen.
 */
include "range.circom";

template RiskVar(U) {
    signal input Delta[U];
    signal input Gamma[U];
    signal input Vega[U];
    signal input a[U][U];
    signal input g[U];
    signal input vs[U];
    signal input yt[U];
    signal input s;
    signal input n[U];
    signal input v[U];
    signal output MM_raw;

    // |y_f| rounded up to micro-USD
    signal ad[U][U];
    signal ytsq[U];
    component ytRange[U];
    component ytPos[U];
    component ytNeg[U];
    var sumsq = 0;
    for (var f = 0; f < U; f++) {
        var y = 0;
        for (var u = 0; u < U; u++) {
            ad[u][f] <== a[u][f] * Delta[u];
            y += ad[u][f];
        }
        ytRange[f] = RangeCheck(FP_VAR_Y_BITS());
        ytRange[f].in <== yt[f];
        ytPos[f] = NonNegSlack(FP_SLACK_BITS());        // yt_f*1e14 >= y_f
        ytPos[f].a <== FP_VAR_Y_DIVISOR() * yt[f];
        ytPos[f].b <== y;
        ytNeg[f] = NonNegSlack(FP_SLACK_BITS());        // yt_f*1e14 >= -y_f
        ytNeg[f].a <== FP_VAR_Y_DIVISOR() * yt[f];
        ytNeg[f].b <== -y;
        ytsq[f] <== yt[f] * yt[f];
        sumsq += ytsq[f];
    }
    // s >= sqrt(sum yt_f^2)
    component sRange = RangeCheck(FP_VAR_S_BITS());
    sRange.in <== s;
    signal ssq <== s * s;
    component root = NonNegSlack(FP_SLACK_BITS());
    root.a <== ssq;
    root.b <== sumsq;

    // add-on hints
    component nRange[U];
    component nSlack[U];
    component vRange[U];
    component vPos[U];
    component vNeg[U];
    signal gamma_addon[U];
    signal vega_addon[U];
    var addons = 0;
    for (var u = 0; u < U; u++) {
        nRange[u] = RangeCheck(FP_GREEK_SUM_BITS());     // n_u >= 0
        nRange[u].in <== n[u];
        nSlack[u] = NonNegSlack(FP_SLACK_BITS());        // n_u >= -Gamma_u
        nSlack[u].a <== n[u];
        nSlack[u].b <== -Gamma[u];
        vRange[u] = RangeCheck(FP_GREEK_SUM_BITS());
        vRange[u].in <== v[u];
        vPos[u] = NonNegSlack(FP_SLACK_BITS());          // v_u >= Vega_u
        vPos[u].a <== v[u];
        vPos[u].b <== Vega[u];
        vNeg[u] = NonNegSlack(FP_SLACK_BITS());          // v_u >= -Vega_u
        vNeg[u].a <== v[u];
        vNeg[u].b <== -Vega[u];
        gamma_addon[u] <== n[u] * g[u];
        vega_addon[u] <== v[u] * vs[u];
        addons += gamma_addon[u] + 2 * FP_VEGA_LOSS_FACTOR() * vega_addon[u];
    }
    MM_raw <== FP_MM_DIVISOR() * s + addons;
}
