pragma circom 2.1.6;
/*
 * avsl_solvency.circom — AvslSolvency(N, U, A, K, DEPTH, MODE): the statement
 * of zksolv (docs/fixed_point.md, DESIGN §2–4):
 *
 *   the account committed in `account_commitment` satisfies
 *   NAV_raw * 1e6 >= REQ_raw = mm * (1e12 + V*beta) * min_ratio
 *   under the market committed in `market_root`, where mm >= MM_base (risk MODE:
 *   0 = stress, 1 = es, 2 = var) rounded up to micro-USD.
 *
 * Public inputs: account_commitment, market_root (in that order, see main).
 * Private account inputs (range-checked): per position slot q[N] (signed 52 bits)
 *   and instrument_id[N]; per balance slot balance[A] (52 bits); salt (any field
 *   element). What the commitment binds is (instrument_id, q) and (asset_id,
 *   balance): identities, never listing positions.
 * Private lookup details (constrained, not committed): leaf_index[N] (< ARITY^DEPTH,
 *   ARITY = FP_MERKLE_ARITY() = 8) and the Merkle path[N][DEPTH][ARITY-1] of each slot's leaf, which carries the
 *   slot's instrument_id; asset_index[A], where each balance slot's asset sits in
 *   this epoch's collateral table.
 * Private market inputs (bound by market_root, validated by the keeper):
 *   epoch, V, beta, min_ratio, es_level, alpha, horizon_seconds, var_z,
 *   dS[U][K], dsig[U][K], w[K], a[U][U], g[U], vs[U], instruments_root,
 *   underlyings_hash, asset_id[A], price[A], haircut[A]; per slot the
 *   instrument fields underlying, mark, delta, gamma, vega.
 * Hints (range-checked one-sidedly): mm (128 bits) and
 *   stress: m[U]; es: t (the excesses e_k are computed from it); var: yt[U], s, n[U], v[U].
 * Unused slots: q = 0 with a valid path (e.g. to leaf 0), balance = 0 with any
 *   asset_index: they add 0 to every sum and their entries are 0 (not committed).
 * Constraints (measured, --O2): per tier in tests/data/constraint_counts.json;
 *   (N=8, U=2, A=4, K=16, DEPTH=3, stress) = 27,653, N=16: 41,433: one position
 *   costs 1,722.5 at DEPTH=3 (the demo's 152 instruments), 2,138.5 at DEPTH=4
 *   (4,096 instruments: N=8 30,981, N=16 48,089), U=2 (leaf 354 + path 416 per
 *   level + entry 3 + Poseidon(9)/8 + greeks 65).
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen;
 * FP_DEBUG() != 0 logs intermediate values (test builds only: they are private).
 */
include "range.circom";
include "merkle.circom";
include "instrument.circom";
include "aggregate.circom";
include "scenario_loss.circom";
include "risk_stress.circom";
include "risk_es.circom";
include "risk_var.circom";
include "solvency.circom";
include "account.circom";
include "market.circom";

template AvslSolvency(N, U, A, K, DEPTH, MODE) {
    assert(N >= 1 && U >= 1 && A >= 1 && K >= 1 && DEPTH >= 1);
    assert(MODE == 0 || MODE == 1 || MODE == 2);

    // ---- public
    signal input account_commitment;
    signal input market_root;

    // ---- private: account
    signal input q[N];
    signal input instrument_id[N];
    signal input leaf_index[N];
    signal input balance[A];
    signal input asset_index[A];
    signal input salt;

    // ---- private: market
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
    signal input asset_id[A];
    signal input price[A];
    signal input haircut[A];
    signal input underlying[N];
    signal input mark[N];
    signal input delta[N];
    signal input gamma[N];
    signal input vega[N];
    signal input path[N][DEPTH][FP_MERKLE_ARITY() - 1];

    // ---- hints
    signal input mm;

    // ---- each balance slot's asset, price and haircut come from one row of the collateral table
    component coll = CollateralLookup(A);
    coll.asset_index <== asset_index;
    coll.balance <== balance;
    coll.asset_id <== asset_id;
    coll.price <== price;
    coll.haircut <== haircut;

    // ---- the account is the committed one: (instrument_id, q) and (asset, balance) per slot
    component account = AccountCommitment(N, A);
    account.q <== q;
    account.id <== instrument_id;
    account.balance <== balance;
    account.asset <== coll.slot_asset;
    account.salt <== salt;
    account.commitment === account_commitment;

    // ---- every slot's instrument is a leaf of instruments_root carrying the committed identity
    component leaf[N];
    component inclusion[N];
    for (var j = 0; j < N; j++) {
        leaf[j] = InstrumentLeaf();
        leaf[j].id <== instrument_id[j];
        leaf[j].u <== underlying[j];
        leaf[j].mark <== mark[j];
        leaf[j].delta <== delta[j];
        leaf[j].gamma <== gamma[j];
        leaf[j].vega <== vega[j];
        inclusion[j] = MerkleInclusion(DEPTH);
        inclusion[j].leaf <== leaf[j].leaf;
        inclusion[j].index <== leaf_index[j];
        inclusion[j].path <== path[j];
        inclusion[j].root === instruments_root;
    }

    // ---- the market data is the committed one
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
    component root = MarketRoot();
    root.epoch <== epoch;
    root.params_hash <== params.out;
    root.instruments_root <== instruments_root;
    root.underlyings_hash <== underlyings_hash;
    root.collateral_hash <== collateral.out;
    root.root === market_root;

    // ---- greeks per underlying and NAV (exact, scale 1e18)
    component agg = Aggregate(N, U);
    agg.q <== q;
    agg.u <== underlying;
    agg.mark <== mark;
    agg.delta <== delta;
    agg.gamma <== gamma;
    agg.vega <== vega;
    signal Delta[U] <== agg.Delta;
    signal Gamma[U] <== agg.Gamma;
    signal Vega[U] <== agg.Vega;

    signal nav_raw <== coll.value + FP_NAV_POSITION_FACTOR() * agg.position_value;

    // ---- MM_base by risk mode
    if (MODE == 0) {
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

    // ---- the AVSL statement
    component solvency = Solvency();
    solvency.nav_raw <== nav_raw;
    solvency.mm <== mm;
    solvency.V <== V;
    solvency.beta <== beta;
    solvency.min_ratio <== min_ratio;
    signal req_raw <== solvency.req_raw;

    if (FP_DEBUG()) {
        for (var u = 0; u < U; u++) {
            log("Delta", u, Delta[u]);
            log("Gamma", u, Gamma[u]);
            log("Vega", u, Vega[u]);
        }
        log("nav_raw", nav_raw);
        log("mm", mm);
        log("req_raw", req_raw);
    }
}
