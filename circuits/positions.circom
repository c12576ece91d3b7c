pragma circom 2.1.6;
/*
 * positions.circom — PositionSlots(N, U, DEPTH, CAP): N position slots of an account
 * (or of one chunk of it), each opened against the instruments tree.
 *
 * Per slot j (private): q (signed, |q| < 2^52, range-checked in PositionGreeks),
 * instrument_id, and the lookup details leaf_index (< 8^DEPTH) and the lower DEPTH - CAP
 * levels of its path; the leaf's market fields underlying, mark, delta, gamma, vega.
 * Once (private): the tree's cap[8^CAP], its nodes CAP levels below instruments_root.
 *   - leaf = InstrumentLeaf(instrument_id, underlying, mark, delta, gamma, vega)
 *     sits at leaf_index under instruments_root (CappedOpenings, merkle.circom; the
 *     slot's instrument_id is the same signal that enters its commitment entry: an
 *     opened leaf always carries the committed identity);
 *   - entry[j] = PositionEntry(q, instrument_id): 0 for an empty slot (q = 0);
 *   - Delta[u], Gamma[u], Vega[u], position_value: sums of q * greek and q * mark
 *     (Aggregate; an empty slot adds 0).
 * Outputs: entry[N] (for EntryChain), the sums (scales and bounds in aggregate.circom).
 * Constraints per slot: leaf 354 + opening (3 index bits per level, 413 per level below the
 * cap, 8^CAP - 1 to pick its cap node) + entry 3 + greeks (57 at U=1, 65 at U=2)
 * + 2 (q != -2^52); once: 402 per node above the cap (zksolv.merkle.opening_constraints).
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen.
 */
include "merkle.circom";
include "instrument.circom";
include "aggregate.circom";
include "account.circom";

template PositionSlots(N, U, DEPTH, CAP) {
    signal input instruments_root;
    signal input cap[FP_MERKLE_ARITY() ** CAP];
    signal input q[N];
    signal input instrument_id[N];
    signal input leaf_index[N];
    signal input path[N][DEPTH - CAP][FP_MERKLE_ARITY() - 1];
    signal input underlying[N];
    signal input mark[N];
    signal input delta[N];
    signal input gamma[N];
    signal input vega[N];
    signal output entry[N];
    signal output Delta[U];
    signal output Gamma[U];
    signal output Vega[U];
    signal output position_value;

    component leaf[N];
    component pos[N];
    component open = CappedOpenings(N, DEPTH, CAP);
    open.root <== instruments_root;
    open.cap <== cap;
    open.index <== leaf_index;
    open.path <== path;
    for (var j = 0; j < N; j++) {
        leaf[j] = InstrumentLeaf();
        leaf[j].id <== instrument_id[j];
        leaf[j].u <== underlying[j];
        leaf[j].mark <== mark[j];
        leaf[j].delta <== delta[j];
        leaf[j].gamma <== gamma[j];
        leaf[j].vega <== vega[j];
        open.leaf[j] <== leaf[j].leaf;
        pos[j] = PositionEntry();
        pos[j].q <== q[j];
        pos[j].id <== instrument_id[j];
        entry[j] <== pos[j].entry;
    }

    component agg = Aggregate(N, U);
    agg.q <== q;
    agg.u <== underlying;
    agg.mark <== mark;
    agg.delta <== delta;
    agg.gamma <== gamma;
    agg.vega <== vega;
    Delta <== agg.Delta;
    Gamma <== agg.Gamma;
    Vega <== agg.Vega;
    position_value <== agg.position_value;
}
