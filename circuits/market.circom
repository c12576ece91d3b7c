pragma circom 2.1.6;
/*
 * market.circom — the market root (docs/fixed_point.md §3).
 *
 * ParamsHash(U, K, MODE): hash_list(header + dS + dsig + w + a + g + vs) with
 *   header [MODE, V, beta, min_ratio, c, alpha, horizon_seconds, var_z, U, K];
 *   MODE, U and K are template constants, so a proof for one risk mode / shape
 *   can only match a market published with that mode and shape.
 *   606 * ceil((10 + 2UK + K + U^2 + 2U) / 15) constraints.
 * CollateralHash(A): hash_list([asset_id_a, P_a, h_a] for each asset a).
 * MarketRoot(): Poseidon6([epoch, params_hash, instruments_root,
 *   underlyings_hash, collateral_hash, symbols_hash]) (symbols_hash: the
 *   instruments' display symbols, which account files resolve holdings by).
 * MarketBinding(U, K, A, MODE): the root of the market whose parameters and
 *   collateral table a margin statement uses (ParamsHash, CollateralHash, MarketRoot);
 *   instruments_root, underlyings_hash and symbols_hash enter opaque.
 *   instruments_root and underlyings_hash are opaque inputs (the root is tied to
 *   every position by the Merkle checks in AvslSolvency). Poseidon(6): 354.
 * Market data is public and validated by the keeper: no range checks here.
 */
include "circomlib/circuits/poseidon.circom";
include "hash_list.circom";

template ParamsHash(U, K, MODE) {
    signal input V;
    signal input beta;
    signal input min_ratio;
    signal input es_level;
    signal input alpha;
    signal input horizon_seconds;
    signal input var_z;
    signal input dS[U][K];
    signal input dsig[U][K];
    signal input w[K];
    signal input a[U][U];
    signal input g[U];
    signal input vs[U];
    signal output out;

    var LEN = 10 + 2 * U * K + K + U * U + 2 * U;
    component h = HashList(LEN);
    h.in[0] <== MODE;
    h.in[1] <== V;
    h.in[2] <== beta;
    h.in[3] <== min_ratio;
    h.in[4] <== es_level;
    h.in[5] <== alpha;
    h.in[6] <== horizon_seconds;
    h.in[7] <== var_z;
    h.in[8] <== U;
    h.in[9] <== K;
    var i = 10;
    for (var u = 0; u < U; u++) { for (var k = 0; k < K; k++) { h.in[i] <== dS[u][k]; i++; } }
    for (var u = 0; u < U; u++) { for (var k = 0; k < K; k++) { h.in[i] <== dsig[u][k]; i++; } }
    for (var k = 0; k < K; k++) { h.in[i] <== w[k]; i++; }
    for (var u = 0; u < U; u++) { for (var f = 0; f < U; f++) { h.in[i] <== a[u][f]; i++; } }
    for (var u = 0; u < U; u++) { h.in[i] <== g[u]; i++; }
    for (var u = 0; u < U; u++) { h.in[i] <== vs[u]; i++; }
    out <== h.out;
}

template CollateralHash(A) {
    signal input asset_id[A];
    signal input price[A];
    signal input haircut[A];
    signal output out;
    component h = HashList(3 * A);
    for (var a = 0; a < A; a++) {
        h.in[3 * a] <== asset_id[a];
        h.in[3 * a + 1] <== price[a];
        h.in[3 * a + 2] <== haircut[a];
    }
    out <== h.out;
}

template MarketRoot() {
    signal input epoch;
    signal input params_hash;
    signal input instruments_root;
    signal input underlyings_hash;
    signal input collateral_hash;
    signal input symbols_hash;
    signal output root;
    component h = Poseidon(6);
    h.inputs[0] <== epoch;
    h.inputs[1] <== params_hash;
    h.inputs[2] <== instruments_root;
    h.inputs[3] <== underlyings_hash;
    h.inputs[4] <== collateral_hash;
    h.inputs[5] <== symbols_hash;
    root <== h.out;
}

template MarketBinding(U, K, A, MODE) {
    signal input epoch;
    signal input V;
    signal input beta;
    signal input min_ratio;
    signal input es_level;
    signal input alpha;
    signal input horizon_seconds;
    signal input var_z;
    signal input dS[U][K];
    signal input dsig[U][K];
    signal input w[K];
    signal input a[U][U];
    signal input g[U];
    signal input vs[U];
    signal input instruments_root;
    signal input underlyings_hash;
    signal input symbols_hash;
    signal input asset_id[A];
    signal input price[A];
    signal input haircut[A];
    signal output root;

    component params = ParamsHash(U, K, MODE);
    params.V <== V;
    params.beta <== beta;
    params.min_ratio <== min_ratio;
    params.es_level <== es_level;
    params.alpha <== alpha;
    params.horizon_seconds <== horizon_seconds;
    params.var_z <== var_z;
    params.dS <== dS;
    params.dsig <== dsig;
    params.w <== w;
    params.a <== a;
    params.g <== g;
    params.vs <== vs;
    component collateral = CollateralHash(A);
    collateral.asset_id <== asset_id;
    collateral.price <== price;
    collateral.haircut <== haircut;
    component h = MarketRoot();
    h.epoch <== epoch;
    h.params_hash <== params.out;
    h.instruments_root <== instruments_root;
    h.underlyings_hash <== underlyings_hash;
    h.collateral_hash <== collateral.out;
    h.symbols_hash <== symbols_hash;
    root <== h.root;
}
