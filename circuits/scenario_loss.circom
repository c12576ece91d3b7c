pragma circom 2.1.6;
/*
 * scenario_loss.circom — doubled scenario loss at scale 1e30 (docs/fixed_point.md §2):
 *
 *   2L_{u,k} = -( 2e10 * Delta_u * dS_{u,k} + Gamma_u * dS_{u,k}^2 + 2e12 * Vega_u * dsig_{u,k} )
 *
 * computed as -( dS * (2e10*Delta + Gamma*dS) + 2e12 * Vega * dsig ).
 * ScenarioLoss2L(): 3 constraints.  ScenarioLosses(U, K): 3*U*K constraints.
 * Inputs: Delta_u (|.| < 2^93), Gamma_u, Vega_u (< 2^110), market data dS
 * (|.| < 2^48), dsig (|.| < 2^31). |2L| < 2^35*2^141 + 2^206 + 2^41*2^141 < 2^207:
 * exact, far from p. Output signed as p - |x|.
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen.
 */

template ScenarioLoss2L() {
    signal input Delta;
    signal input Gamma;
    signal input Vega;
    signal input dS;
    signal input dsig;
    signal output loss2;

    signal gdS <== Gamma * dS;
    signal price_term <== dS * (2 * FP_DELTA_LOSS_FACTOR() * Delta + gdS);
    signal vega_term <== Vega * dsig;
    loss2 <== -(price_term + 2 * FP_VEGA_LOSS_FACTOR() * vega_term);
}

template ScenarioLosses(U, K) {
    signal input Delta[U];
    signal input Gamma[U];
    signal input Vega[U];
    signal input dS[U][K];
    signal input dsig[U][K];
    signal output loss2[U][K];

    component l[U][K];
    for (var u = 0; u < U; u++) {
        for (var k = 0; k < K; k++) {
            l[u][k] = ScenarioLoss2L();
            l[u][k].Delta <== Delta[u];
            l[u][k].Gamma <== Gamma[u];
            l[u][k].Vega <== Vega[u];
            l[u][k].dS <== dS[u][k];
            l[u][k].dsig <== dsig[u][k];
            loss2[u][k] <== l[u][k].loss2;
        }
    }
}
