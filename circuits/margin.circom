pragma circom 2.1.6;
/*
 * margin.circom — MarginStatement(U, K, MODE): the AVSL rule on an account's net
 * greeks and NAV (docs/fixed_point.md §2):
 *
 *   mm >= MM_base / 2e24 by risk MODE (0 = stress, 1 = es, 2 = var), each max /
 *   ES threshold / root a one-sided prover hint;
 *   nav_raw * 1e6 >= req_raw = mm * (1e12 + V*beta) * min_ratio.
 *
 * Inputs: Delta[U] (|.| < 2^93), Gamma[U], Vega[U] (|.| < 2^110), nav_raw
 * (|.| < 2^131), market data V, beta, min_ratio and per mode (only what the mode
 * uses is an input: an unused input would be unconstrained) stress: dS, dsig;
 * es: dS, dsig, w, es_level; var: a, g, vs — bound by market_root, validated by
 * the keeper; hints mm and per mode stress: m[U]; es: t, e[K]; var: yt[U], s, n[U], v[U].
 * Output: req_raw (scale 1e24). Widths, constraints and soundness: see the
 * templates it composes (scenario_loss, risk_*, solvency).
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen.
 */
include "scenario_loss.circom";
include "risk_stress.circom";
include "risk_es.circom";
include "risk_var.circom";
include "solvency.circom";

template MarginStatement(U, K, MODE) {
    assert(MODE == 0 || MODE == 1 || MODE == 2);
    signal input Delta[U];
    signal input Gamma[U];
    signal input Vega[U];
    signal input nav_raw;
    signal input V;
    signal input beta;
    signal input min_ratio;
    signal input mm;
    signal output req_raw;

    if (MODE == 0) {
        signal input dS[U][K];
        signal input dsig[U][K];
        signal input m[U];
        component losses = ScenarioLosses(U, K);
        losses.Delta <== Delta;
        losses.Gamma <== Gamma;
        losses.Vega <== Vega;
        losses.dS <== dS;
        losses.dsig <== dsig;
        component stress = RiskStress(U, K);
        stress.loss2 <== losses.loss2;
        stress.m <== m;
        component rounding = MarginRounding();
        rounding.mm <== mm;
        rounding.MM_raw <== stress.MM_raw;
        if (FP_DEBUG()) {
            for (var u = 0; u < U; u++) {
                for (var k = 0; k < K; k++) { log("loss2", u, k, losses.loss2[u][k]); }
            }
            log("MM_raw", stress.MM_raw);
        }
    }
    if (MODE == 1) {
        signal input dS[U][K];
        signal input dsig[U][K];
        signal input w[K];
        signal input es_level;
        signal input t;
        component losses = ScenarioLosses(U, K);
        losses.Delta <== Delta;
        losses.Gamma <== Gamma;
        losses.Vega <== Vega;
        losses.dS <== dS;
        losses.dsig <== dsig;
        component es = RiskEs(U, K);
        es.loss2 <== losses.loss2;
        es.w <== w;
        es.es_level <== es_level;
        es.t <== t;
        es.mm <== mm;
        if (FP_DEBUG()) {
            for (var u = 0; u < U; u++) {
                for (var k = 0; k < K; k++) { log("loss2", u, k, losses.loss2[u][k]); }
            }
        }
    }
    if (MODE == 2) {
        signal input a[U][U];
        signal input g[U];
        signal input vs[U];
        signal input yt[U];
        signal input s;
        signal input n[U];
        signal input v[U];
        component risk = RiskVar(U);
        risk.Delta <== Delta;
        risk.Gamma <== Gamma;
        risk.Vega <== Vega;
        risk.a <== a;
        risk.g <== g;
        risk.vs <== vs;
        risk.yt <== yt;
        risk.s <== s;
        risk.n <== n;
        risk.v <== v;
        component rounding = MarginRounding();
        rounding.mm <== mm;
        rounding.MM_raw <== risk.MM_raw;
        if (FP_DEBUG()) { log("MM_raw", risk.MM_raw); }
    }

    component solvency = Solvency();
    solvency.nav_raw <== nav_raw;
    solvency.mm <== mm;
    solvency.V <== V;
    solvency.beta <== beta;
    solvency.min_ratio <== min_ratio;
    req_raw <== solvency.req_raw;
}
