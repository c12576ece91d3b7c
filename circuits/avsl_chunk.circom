pragma circom 2.1.6;
/*
 * avsl_chunk.circom — AvslChunk(C, U, DEPTH, CAP, G): one chunk of a book proven in chunks
 * (zksolv.chunking, docs/chunked.md).
 *
 *   state_in  = ChunkState(counter, chain_in, acc_in, blinding)
 *   state_out = ChunkState(counter + 1, EntryChain(C) from chain_in over this chunk's
 *               entries, acc_in + this chunk's sums, blinding)
 *
 * and every one of the C slots opens, under the instruments_root of `market_root`,
 * a leaf that carries the slot's identity (PositionSlots). Chunks cut a book at
 * multiples of the entry block (C % 8 == 0), so the chain after the last chunk is
 * exactly the positions hash of the whole book: the account commitment is the same
 * whether the book is proven in one circuit or in chunks.
 *
 * Public inputs: market_root, state_in, state_out (in that order).
 * Private: the market root's other parts (epoch, params_hash, underlyings_hash,
 *   collateral_hash, symbols_hash: opaque), instruments_root, counter, chain_in, acc_in
 *   (Delta_in[U], Gamma_in[U], Vega_in[U], value_in: any field elements — they are
 *   only ever the previous chunk's outputs, and the final proof range-checks the
 *   sums), blinding, and the slots (q, instrument_id, leaf_index, path below the cap, leaf fields) and the tree's cap.
 *   G >= 1: the slots' leaves open through G groups instead of a path each (PositionSlots).
 * Nothing here depends on the risk mode, the scenarios or the collateral table:
 *   one chunk key serves every mode and every market of the same U and depth.
 * Constraints: C * per-slot cost (positions.circom) + C/8 * 424 (EntryChain)
 *   + 2 * ChunkState(U) + 354 (MarketRoot).
 */
include "positions.circom";
include "state.circom";
include "market.circom";

template AvslChunk(C, U, DEPTH, CAP, G) {
    assert(C >= 1 && C % FP_ENTRY_BLOCK() == 0 && U >= 1 && DEPTH >= 1 && CAP >= 0 && CAP <= DEPTH && G >= 0);

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
    signal input Delta_in[U];
    signal input Gamma_in[U];
    signal input Vega_in[U];
    signal input value_in;
    signal input blinding;

    // ---- private: this chunk's slots
    signal input q[C];
    signal input instrument_id[C];
    signal input cap[FP_MERKLE_ARITY() ** CAP];
    signal input underlying[C];
    signal input mark[C];
    signal input delta[C];
    signal input gamma[C];
    signal input vega[C];

    component root = MarketRoot();
    root.epoch <== epoch;
    root.params_hash <== params_hash;
    root.instruments_root <== instruments_root;
    root.underlyings_hash <== underlyings_hash;
    root.collateral_hash <== collateral_hash;
    root.symbols_hash <== symbols_hash;
    root.root === market_root;

    component before = ChunkState(U);
    before.counter <== counter;
    before.chain <== chain_in;
    before.Delta <== Delta_in;
    before.Gamma <== Gamma_in;
    before.Vega <== Vega_in;
    before.position_value <== value_in;
    before.blinding <== blinding;
    before.out === state_in;

    component slots = PositionSlots(C, U, DEPTH, CAP, G);
    slots.instruments_root <== instruments_root;
    slots.q <== q;
    slots.instrument_id <== instrument_id;
    if (G == 0) {
        signal input leaf_index[C];
        signal input path[C][DEPTH - CAP][FP_MERKLE_ARITY() - 1];
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
    component chain = EntryChain(C);
    chain.init <== chain_in;
    chain.entry <== slots.entry;

    component after = ChunkState(U);
    after.counter <== counter + 1;
    after.chain <== chain.out;
    for (var u = 0; u < U; u++) {
        after.Delta[u] <== Delta_in[u] + slots.Delta[u];
        after.Gamma[u] <== Gamma_in[u] + slots.Gamma[u];
        after.Vega[u] <== Vega_in[u] + slots.Vega[u];
    }
    after.position_value <== value_in + slots.position_value;
    after.blinding <== blinding;
    after.out === state_out;
}
