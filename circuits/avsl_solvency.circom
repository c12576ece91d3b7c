pragma circom 2.1.6;
/*
 * avsl_solvency.circom — AvslSolvency(N, U, A, K, DEPTH, CAP, G, MODE): the statement
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
 *   ARITY = FP_MERKLE_ARITY() = 8) and the lower DEPTH - CAP levels path[N][DEPTH-CAP][ARITY-1] of
 *   the Merkle path of each slot's leaf, which carries the slot's instrument_id, up to the tree's
 *   cap[ARITY^CAP] (its nodes CAP levels below the root, opened once: merkle.circom; CAP is
 *   zksolv.merkle.cap_height(N, DEPTH), public with the tier); asset_index[A], where each balance slot's asset sits in
 *   this epoch's collateral table.
 *   With G >= 1 (a grouped tier, `_g<G>` in its name) the slots have no leaf_index or path: their
 *   leaves are children of G groups opened once each, group[G][ARITY], group_index[G],
 *   group_path[G][DEPTH-1-CAP][ARITY-1] (positions.circom, merkle.circom GroupedOpenings; CAP is then
 *   zksolv.merkle.group_cap_height(G, DEPTH)).
 * Private market inputs (bound by market_root, validated by the keeper):
 *   epoch, V, beta, min_ratio, es_level, alpha, horizon_seconds, var_z,
 *   dS[U][K], dsig[U][K], w[K], a[U][U], g[U], vs[U], instruments_root,
 *   underlyings_hash, asset_id[A], price[A], haircut[A]; per slot the
 *   instrument fields underlying, mark, delta, gamma, vega.
 * Hints (range-checked one-sidedly): mm (128 bits) and
 *   stress: m[U]; es: t (the excesses e_k are computed from it); var: yt[U], s, n[U], v[U].
 * Unused slots: q = 0 with a valid opening (a path to leaf 0; grouped: a group member), balance = 0 with any
 *   asset_index: they add 0 to every sum and their entries are 0 (not committed).
 * Constraints (measured, --O2): per tier in tests/data/constraint_counts.json; a position costs
 *   leaf 354 + entry 3 + q != -2^52 2 + Poseidon(9)/8 + greeks 65 (U=2) + its opening, 3 bits per
 *   level + 413 per level below the cap + ARITY^CAP - 1 to pick its cap node; the cap costs
 *   402 per node above it, once (zksolv.merkle.opening_constraints).
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen;
 * FP_DEBUG() != 0 logs intermediate values (test builds only: they are private).
 *
 * Composition (shared with the chunked circuits avsl_chunk / avsl_final):
 *   PositionSlots (leaves, paths, entries, greeks) -> EntryChain -> AccountCommitment;
 *   CollateralLookup + BalanceEntry -> EntryChain; MarketBinding; MarginStatement.
 */
include "positions.circom";
include "margin.circom";
include "market.circom";

template AvslSolvency(N, U, A, K, DEPTH, CAP, G, MODE) {
    assert(N >= 1 && U >= 1 && A >= 1 && K >= 1 && DEPTH >= 1 && CAP >= 0 && CAP <= DEPTH && G >= 0);
    assert(MODE == 0 || MODE == 1 || MODE == 2);

    // ---- public
    signal input account_commitment;
    signal input market_root;

    // ---- private: account
    signal input q[N];
    signal input instrument_id[N];
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
    signal input symbols_hash;
    signal input asset_id[A];
    signal input price[A];
    signal input haircut[A];
    signal input underlying[N];
    signal input mark[N];
    signal input delta[N];
    signal input gamma[N];
    signal input vega[N];
    signal input cap[FP_MERKLE_ARITY() ** CAP];

    // ---- hints
    signal input mm;

    // ---- every slot opens a leaf carrying its committed identity; entries and greeks
    component slots = PositionSlots(N, U, DEPTH, CAP, G);
    slots.instruments_root <== instruments_root;
    slots.q <== q;
    slots.instrument_id <== instrument_id;
    if (G == 0) {
        signal input leaf_index[N];
        signal input path[N][DEPTH - CAP][FP_MERKLE_ARITY() - 1];
        slots.leaf_index <== leaf_index;
        slots.path <== path;
    } else {
        signal input group[G][FP_MERKLE_ARITY()];
        signal input group_index[G];
        signal input group_path[G][DEPTH - 1 - CAP][FP_MERKLE_ARITY() - 1];
        slots.group <== group;
        slots.group_index <== group_index;
        slots.group_path <== group_path;
    }
    slots.cap <== cap;
    slots.underlying <== underlying;
    slots.mark <== mark;
    slots.delta <== delta;
    slots.gamma <== gamma;
    slots.vega <== vega;
    component positions = EntryChain(N);
    positions.init <== 0;
    positions.entry <== slots.entry;

    // ---- each balance slot's asset, price and haircut come from one row of the collateral table
    component balances = BalanceSlots(A);
    balances.asset_index <== asset_index;
    balances.balance <== balance;
    balances.asset_id <== asset_id;
    balances.price <== price;
    balances.haircut <== haircut;

    // ---- the account is the committed one
    component account = AccountCommitment();
    account.salt <== salt;
    account.positions_hash <== positions.out;
    account.balances_hash <== balances.hash;
    account.commitment === account_commitment;

    // ---- the market data is the committed one
    component market = MarketBinding(U, K, A, MODE);
    market.epoch <== epoch;
    market.V <== V;
    market.beta <== beta;
    market.min_ratio <== min_ratio;
    market.es_level <== es_level;
    market.alpha <== alpha;
    market.horizon_seconds <== horizon_seconds;
    market.var_z <== var_z;
    market.dS <== dS;
    market.dsig <== dsig;
    market.w <== w;
    market.a <== a;
    market.g <== g;
    market.vs <== vs;
    market.instruments_root <== instruments_root;
    market.underlyings_hash <== underlyings_hash;
    market.symbols_hash <== symbols_hash;
    market.asset_id <== asset_id;
    market.price <== price;
    market.haircut <== haircut;
    market.root === market_root;

    // ---- greeks per underlying and NAV (exact, scale 1e18)
    signal Delta[U] <== slots.Delta;
    signal Gamma[U] <== slots.Gamma;
    signal Vega[U] <== slots.Vega;
    signal nav_raw <== balances.value + FP_NAV_POSITION_FACTOR() * slots.position_value;

    // ---- MM_base by risk mode and the AVSL statement
    component margin = MarginStatement(U, K, MODE);
    margin.Delta <== Delta;
    margin.Gamma <== Gamma;
    margin.Vega <== Vega;
    margin.nav_raw <== nav_raw;
    margin.V <== V;
    margin.beta <== beta;
    margin.min_ratio <== min_ratio;
    margin.mm <== mm;
    if (MODE == 0) {
        signal input m[U];
        margin.dS <== dS;
        margin.dsig <== dsig;
        margin.m <== m;
    }
    if (MODE == 1) {
        signal input t;
        margin.dS <== dS;
        margin.dsig <== dsig;
        margin.w <== w;
        margin.es_level <== es_level;
        margin.t <== t;
    }
    if (MODE == 2) {
        signal input yt[U];
        signal input s;
        signal input n[U];
        signal input v[U];
        margin.a <== a;
        margin.g <== g;
        margin.vs <== vs;
        margin.yt <== yt;
        margin.s <== s;
        margin.n <== n;
        margin.v <== v;
    }
    signal req_raw <== margin.req_raw;

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
