pragma circom 2.1.6;
/*
 * positions.circom — PositionSlots(N, U, DEPTH, CAP, G): N position slots of an account
 * (or of one chunk of it), each opened against the instruments tree.
 *
 * How the leaves are opened (merkle.circom): G = 0, each slot climbs its own path
 * (CappedOpenings: leaf_index[N], path[N][DEPTH - CAP][ARITY - 1]); G >= 1, the slots' leaves
 * are children of at most G groups opened once each (GroupedOpenings: group[G][ARITY],
 * group_index[G], group_path[G][DEPTH - 1 - CAP][ARITY - 1]; CAP is then
 * zksolv.merkle.group_cap_height(G, DEPTH)), for books whose positions cluster. The sections
 * below describe G = 0; with G >= 1 a slot has no leaf_index or path and its opening costs
 * ARITY*G - 1 (zksolv.merkle.grouped_opening_constraints).
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

template PositionSlots(N, U, DEPTH, CAP, G) {
    var ARITY = FP_MERKLE_ARITY();
    signal input instruments_root;
    signal input cap[ARITY ** CAP];
    signal input q[N];
    signal input instrument_id[N];
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
    signal opened[N];            // each slot's leaf, opened below
    for (var j = 0; j < N; j++) {
        leaf[j] = InstrumentLeaf();
        leaf[j].id <== instrument_id[j];
        leaf[j].u <== underlying[j];
        leaf[j].mark <== mark[j];
        leaf[j].delta <== delta[j];
        leaf[j].gamma <== gamma[j];
        leaf[j].vega <== vega[j];
        opened[j] <== leaf[j].leaf;
        pos[j] = PositionEntry();
        pos[j].q <== q[j];
        pos[j].id <== instrument_id[j];
        entry[j] <== pos[j].entry;
    }

    if (G == 0) {
        signal input leaf_index[N];
        signal input path[N][DEPTH - CAP][ARITY - 1];
        component capped = CappedOpenings(N, DEPTH, CAP);
        capped.root <== instruments_root;
        capped.cap <== cap;
        capped.index <== leaf_index;
        capped.path <== path;
        capped.leaf <== opened;
    } else {
        signal input group[G][ARITY];
        signal input group_index[G];
        signal input group_path[G][DEPTH - 1 - CAP][ARITY - 1];
        component grouped = GroupedOpenings(N, G, DEPTH, CAP);
        grouped.root <== instruments_root;
        grouped.cap <== cap;
        grouped.group <== group;
        grouped.group_index <== group_index;
        grouped.group_path <== group_path;
        grouped.leaf <== opened;
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
