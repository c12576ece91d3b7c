pragma circom 2.1.6;
/*
 * avsl_revaluation_chunk.circom — AvslRevaluationChunk(C, U, K, DEPTH, CAP): one chunk of a
 * book proven in chunks under a revaluation market (docs/chunked.md; the greeks modes
 * use AvslChunk):
 *
 *   state_in  = RevaluationChunkState(counter, chain_in, PnL_in, value_in, blinding)
 *   state_out = RevaluationChunkState(counter + 1, EntryChain(C) from chain_in over this
 *               chunk's entries, PnL_in + this chunk's sums, value_in + its q*mark, blinding)
 *
 * and every one of the C slots opens, under the instruments_root of `market_root`, a
 * revaluation leaf (RevaluationLeaf(K)) that carries the slot's identity
 * (RevaluationSlots). Unlike AvslChunk this circuit depends on K and the mode: its
 * leaves carry the K-entry risk arrays and its state the U*K sums. It needs no
 * parameter of the market besides the root: a revaluation leaf of K entries exists
 * only under the root of a revaluation market with K scenarios (the keeper validated
 * it; any other root holds leaves of another length or format, and hash_list is
 * length-prefixed), and the final proof binds the mode and K through params_hash.
 *
 * Public inputs: market_root, state_in, state_out (in that order).
 * Private: the market root's other parts (opaque), instruments_root, counter, chain_in,
 *   PnL_in[U][K], value_in (any field elements: only ever the previous chunk's outputs;
 *   the final proof range-checks the sums), blinding, and the slots (q, instrument_id,
 *   leaf_index, path below the cap, leaf fields with pnl[C][K]) and the tree's cap.
 * Constraints: C * per-slot cost (revaluation.circom) + C/8 * 424 (EntryChain)
 *   + 2 * RevaluationChunkState(U, K) + 354 (MarketRoot).
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen.
 */
include "revaluation.circom";
include "state.circom";
include "market.circom";

template AvslRevaluationChunk(C, U, K, DEPTH, CAP) {
    assert(C >= 1 && C % FP_ENTRY_BLOCK() == 0 && U >= 1 && K >= 1 && DEPTH >= 1 && CAP >= 0 && CAP <= DEPTH);

    // ---- public
    signal input market_root;
    signal input state_in;
    signal input state_out;

    // ---- private: the market root's parts
    signal input epoch;
    signal input params_hash;
    signal input instruments_root;
    signal input underlyings_hash;
    signal input collateral_hash;
    signal input symbols_hash;

    // ---- private: the running state before this chunk
    signal input counter;
    signal input chain_in;
    signal input PnL_in[U][K];
    signal input value_in;
    signal input blinding;

    // ---- private: this chunk's slots
    signal input q[C];
    signal input instrument_id[C];
    signal input leaf_index[C];
    signal input path[C][DEPTH - CAP][FP_MERKLE_ARITY() - 1];
    signal input cap[FP_MERKLE_ARITY() ** CAP];
    signal input underlying[C];
    signal input mark[C];
    signal input delta[C];
    signal input gamma[C];
    signal input vega[C];
    signal input pnl[C][K];

    component root = MarketRoot();
    root.epoch <== epoch;
    root.params_hash <== params_hash;
    root.instruments_root <== instruments_root;
    root.underlyings_hash <== underlyings_hash;
    root.collateral_hash <== collateral_hash;
    root.symbols_hash <== symbols_hash;
    root.root === market_root;

    component before = RevaluationChunkState(U, K);
    before.counter <== counter;
    before.chain <== chain_in;
    before.PnL <== PnL_in;
    before.position_value <== value_in;
    before.blinding <== blinding;
    before.out === state_in;

    component slots = RevaluationSlots(C, U, K, DEPTH, CAP);
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
    component chain = EntryChain(C);
    chain.init <== chain_in;
    chain.entry <== slots.entry;

    component after = RevaluationChunkState(U, K);
    after.counter <== counter + 1;
    after.chain <== chain.out;
    for (var u = 0; u < U; u++) {
        for (var k = 0; k < K; k++) { after.PnL[u][k] <== PnL_in[u][k] + slots.PnL[u][k]; }
    }
    after.position_value <== value_in + slots.position_value;
    after.blinding <== blinding;
    after.out === state_out;
}
