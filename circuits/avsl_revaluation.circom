pragma circom 2.1.6;
/*
 * avsl_revaluation.circom — AvslRevaluation(N, U, A, K, DEPTH, CAP): the statement of
 * zksolv under a revaluation market (risk_mode "revaluation", MODE 3; the greeks
 * modes are AvslSolvency):
 *
 *   the account committed in `account_commitment` satisfies
 *   NAV_raw * 1e6 >= REQ_raw = mm * 1e12 * min_ratio
 *   under the market committed in `market_root`, where mm >= MM_base / 2e24 and
 *   MM_base = sum_u max(0, max_k L_{u,k}),  L_{u,k} = -sum_{j on u} q_j * pnl_{i(j),k}
 *   (the published full-repricing P&L of one unit, committed in each leaf, repriced
 *   at the scan range dS * (1 + V*beta), dsig * (1 + V*beta): the AVSL factor widens
 *   the scenarios instead of multiplying MM_base, risk_revaluation.circom).
 *
 * Public inputs: account_commitment, market_root (in that order, see main).
 * Private account inputs and lookup details: as AvslSolvency (q[N], instrument_id[N],
 *   leaf_index[N], path[N][DEPTH-CAP][ARITY-1], cap[ARITY^CAP], balance[A], asset_index[A], salt).
 * Private market inputs (bound by market_root, validated by the keeper): as
 *   AvslSolvency (the parameters enter params_hash with MODE 3, so a proof of this
 *   circuit matches a revaluation market only), and per slot the leaf fields
 *   underlying, mark, delta, gamma, vega, pnl[K] (revaluation leaves, revaluation.circom).
 * Hints (range-checked one-sidedly): mm (128 bits), m[U] (112 bits, m_u >= L_{u,k}).
 * Unused slots: q = 0 with a valid path: they add 0 to every sum, entry 0.
 * The net greeks are committed in the leaves (reports show the greeks modes beside
 * this one on the same data) but not computed: MM_base does not use them.
 * Constraints (measured, --O2): per tier in tests/data/constraint_counts.json; per
 *   position: RevaluationLeaf 606*ceil((6+K)/15) + path 2+301 per level + entry 3 +
 *   PositionPnl 56 + (U == 1 ? K : 2U + U*K) + Poseidon(9)/8; per scenario and
 *   underlying 113 (the one-sided maximum) — docs/fixed_point.md §2, benchmarks/README.md.
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen.
 *
 * Composition (shared with avsl_revaluation_chunk / avsl_revaluation_final):
 *   RevaluationSlots -> EntryChain -> AccountCommitment; BalanceSlots; MarketBinding;
 *   RevaluationMargin.
 */
include "revaluation.circom";
include "market.circom";

template AvslRevaluation(N, U, A, K, DEPTH, CAP) {
    assert(N >= 1 && U >= 1 && A >= 1 && K >= 1 && DEPTH >= 1 && CAP >= 0 && CAP <= DEPTH);

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
    signal input symbols_hash;
    signal input asset_id[A];
    signal input price[A];
    signal input haircut[A];
    signal input underlying[N];
    signal input mark[N];
    signal input delta[N];
    signal input gamma[N];
    signal input vega[N];
    signal input pnl[N][K];
    signal input path[N][DEPTH - CAP][FP_MERKLE_ARITY() - 1];
    signal input cap[FP_MERKLE_ARITY() ** CAP];

    // ---- hints
    signal input mm;
    signal input m[U];

    // ---- every slot opens a revaluation leaf carrying its committed identity
    component slots = RevaluationSlots(N, U, K, DEPTH, CAP);
    slots.instruments_root <== instruments_root;
    slots.q <== q;
    slots.instrument_id <== instrument_id;
    slots.leaf_index <== leaf_index;
    slots.path <== path;
    slots.cap <== cap;
    slots.underlying <== underlying;
    slots.mark <== mark;
    slots.delta <== delta;
    slots.gamma <== gamma;
    slots.vega <== vega;
    slots.pnl <== pnl;
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

    // ---- the market data is the committed one (a revaluation market: MODE 3)
    component market = MarketBinding(U, K, A, FP_MODE_REVALUATION());
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

    // ---- NAV (exact, scale 1e18), MM_base from the repriced losses, the AVSL statement
    signal nav_raw <== balances.value + FP_NAV_POSITION_FACTOR() * slots.position_value;
    component margin = RevaluationMargin(U, K);
    margin.PnL <== slots.PnL;
    margin.nav_raw <== nav_raw;
    margin.min_ratio <== min_ratio;
    margin.mm <== mm;
    margin.m <== m;
    signal req_raw <== margin.req_raw;

    if (FP_DEBUG()) {
        log("nav_raw", nav_raw);
        log("mm", mm);
        log("req_raw", req_raw);
    }
}
