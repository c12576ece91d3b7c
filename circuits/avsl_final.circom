pragma circom 2.1.6;
/*
 * avsl_final.circom — AvslFinal(U, A, K, MODE): the statement of a book proven in
 * chunks (zksolv.chunking, docs/chunked.md). With the chunk proofs linking
 * state_first -> ... -> state_last it says what AvslSolvency says for one circuit:
 *
 *   state_first = ChunkState(0, 0, 0..., blinding): the empty state of this book;
 *   state_last  = ChunkState(counter, chain, Delta, Gamma, Vega, position_value, blinding);
 *   account_commitment = AccountCommitment(salt, chain, balances' EntryChain);
 *   NAV_raw * 1e6 >= mm * (1e12 + V*beta) * min_ratio under the market of market_root,
 *   mm >= MM_base of (Delta, Gamma, Vega) by MODE (MarginStatement).
 *
 * Public inputs: account_commitment, market_root, state_first, state_last.
 * The sums arrive through the chunk states, not from range-checked slots, so they
 * are range-checked here to the widths a one-circuit book of <= 1,024 positions
 * guarantees (|Delta_u| < 2^93, |Gamma_u|, |Vega_u|, |position_value| < 2^110): every
 * bound downstream (scenario_loss, risk_*, solvency) then holds as for one circuit.
 * A book whose sums exceed them is refused in Python before proving. (The sums
 * cannot wrap mod p on the way: each chunk adds < C * 2^100.)
 * Private: blinding, counter, chain, the sums, balances + asset_index, salt, the
 *   market parameters and collateral table, instruments_root and underlyings_hash
 *   (opaque), and the hints of MarginStatement.
 * Constraints: 2 * ChunkState(U) + U*(94 + 2*111) + 111 + CollateralLookup(A)
 *   + A/8-block EntryChain + MarketBinding + MarginStatement(U, K, MODE).
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen.
 */
include "range.circom";
include "aggregate.circom";
include "account.circom";
include "state.circom";
include "margin.circom";
include "market.circom";

template AvslFinal(U, A, K, MODE) {
    assert(U >= 1 && A >= 1 && K >= 1);
    assert(MODE == 0 || MODE == 1 || MODE == 2);

    // ---- public
    signal input account_commitment;
    signal input market_root;
    signal input state_first;
    signal input state_last;

    // ---- private: the book's state after its last chunk
    signal input blinding;
    signal input counter;
    signal input chain;
    signal input Delta[U];
    signal input Gamma[U];
    signal input Vega[U];
    signal input position_value;

    // ---- private: balances and salt
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

    // ---- hints
    signal input mm;

    // ---- the chunks started from this book's empty state and ended in (chain, sums)
    component first = ChunkState(U);
    first.counter <== 0;
    first.chain <== 0;
    for (var u = 0; u < U; u++) {
        first.Delta[u] <== 0;
        first.Gamma[u] <== 0;
        first.Vega[u] <== 0;
    }
    first.position_value <== 0;
    first.blinding <== blinding;
    first.out === state_first;

    component last = ChunkState(U);
    last.counter <== counter;
    last.chain <== chain;
    last.Delta <== Delta;
    last.Gamma <== Gamma;
    last.Vega <== Vega;
    last.position_value <== position_value;
    last.blinding <== blinding;
    last.out === state_last;

    // ---- the sums within the widths of a one-circuit book
    component dRange[U];
    component gRange[U];
    component vRange[U];
    for (var u = 0; u < U; u++) {
        dRange[u] = SignedRangeCheck(FP_NET_DELTA_BITS());
        dRange[u].in <== Delta[u];
        gRange[u] = SignedRangeCheck(FP_NET_GAMMA_BITS());
        gRange[u].in <== Gamma[u];
        vRange[u] = SignedRangeCheck(FP_NET_VEGA_BITS());
        vRange[u].in <== Vega[u];
    }
    component valueRange = SignedRangeCheck(FP_POSITION_VALUE_BITS());
    valueRange.in <== position_value;

    // ---- balances: one collateral row each
    component balances = BalanceSlots(A);
    balances.asset_index <== asset_index;
    balances.balance <== balance;
    balances.asset_id <== asset_id;
    balances.price <== price;
    balances.haircut <== haircut;

    // ---- the account is the committed one (same commitment as one circuit)
    component account = AccountCommitment();
    account.salt <== salt;
    account.positions_hash <== chain;
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

    signal nav_raw <== balances.value + FP_NAV_POSITION_FACTOR() * position_value;

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
}
