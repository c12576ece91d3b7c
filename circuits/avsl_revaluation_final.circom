pragma circom 2.1.6;
/*
 * avsl_revaluation_final.circom — AvslRevaluationFinal(U, A, K): the statement of a book
 * proven in chunks under a revaluation market (docs/chunked.md; the greeks modes use
 * AvslFinal). With the chunk proofs (AvslRevaluationChunk) linking
 * state_first -> ... -> state_last it says what AvslRevaluation says for one circuit:
 *
 *   state_first = RevaluationChunkState(0, 0, 0..., 0, blinding): this book's empty state;
 *   state_last  = RevaluationChunkState(counter, chain, PnL[U][K], position_value, blinding);
 *   account_commitment = AccountCommitment(salt, chain, balances' EntryChain);
 *   NAV_raw * 1e6 >= mm * 1e12 * min_ratio under the market of market_root (the AVSL
 *   factor 1 + V*beta is in the arrays' scan range, risk_revaluation.circom)
 *   (MODE 3 and K bound through params_hash), mm >= MM_base of PnL (RevaluationMargin).
 *
 * Public inputs: account_commitment, market_root, state_first, state_last.
 * The sums arrive through the chunk states, not from range-checked slots, so they are
 * range-checked here to the widths a one-circuit book of <= 1,024 positions guarantees
 * (|PnL[u][k]| < 2^111, |position_value| < 2^110): RevaluationMargin's bounds then hold
 * as for one circuit. A book whose sums exceed them is refused in Python before proving.
 * (The sums cannot wrap mod p on the way: each chunk adds < C * 2^101.)
 * Private: blinding, counter, chain, the sums, balances + asset_index, salt, the market
 *   parameters and collateral table, instruments_root, underlyings_hash and symbols_hash
 *   (opaque), and the hints mm, m[U].
 * Constraints: 2 * RevaluationChunkState(U, K) + U*K*112 + 111 + BalanceSlots(A)
 *   + MarketBinding + RevaluationMargin(U, K).
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen.
 */
include "range.circom";
include "account.circom";
include "state.circom";
include "risk_revaluation.circom";
include "market.circom";

template AvslRevaluationFinal(U, A, K) {
    assert(U >= 1 && A >= 1 && K >= 1);

    // ---- public
    signal input account_commitment;
    signal input market_root;
    signal input state_first;
    signal input state_last;

    // ---- private: the book's state after its last chunk
    signal input blinding;
    signal input counter;
    signal input chain;
    signal input PnL[U][K];
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
    signal input m[U];

    // ---- the chunks started from this book's empty state and ended in (chain, sums)
    component first = RevaluationChunkState(U, K);
    first.counter <== 0;
    first.chain <== 0;
    for (var u = 0; u < U; u++) {
        for (var k = 0; k < K; k++) { first.PnL[u][k] <== 0; }
    }
    first.position_value <== 0;
    first.blinding <== blinding;
    first.out === state_first;

    component last = RevaluationChunkState(U, K);
    last.counter <== counter;
    last.chain <== chain;
    last.PnL <== PnL;
    last.position_value <== position_value;
    last.blinding <== blinding;
    last.out === state_last;

    // ---- the sums within the widths of a one-circuit book
    component sumRange[U][K];
    for (var u = 0; u < U; u++) {
        for (var k = 0; k < K; k++) {
            sumRange[u][k] = SignedRangeCheck(FP_REVAL_SUM_BITS());
            sumRange[u][k].in <== PnL[u][k];
        }
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

    signal nav_raw <== balances.value + FP_NAV_POSITION_FACTOR() * position_value;

    component margin = RevaluationMargin(U, K);
    margin.PnL <== PnL;
    margin.nav_raw <== nav_raw;
    margin.min_ratio <== min_ratio;
    margin.mm <== mm;
    margin.m <== m;
    signal req_raw <== margin.req_raw;
}
