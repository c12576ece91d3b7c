pragma circom 2.1.6;
/*
 * merkle.circom — Poseidon Merkle inclusion in the arity-ARITY instrument tree
 * (docs/fixed_point.md §3), ARITY = FP_MERKLE_ARITY() = zksolv.fixedpoint.MERKLE_ARITY
 * (8: a power of two, LOG = log2(ARITY) = 3 index bits per level).
 *
 * MerkleInclusion(DEPTH): root of the tree holding `leaf` at `index`.
 *   Inputs: leaf, index (< ARITY^DEPTH, enforced by Num2Bits(LOG*DEPTH): the
 *   decomposition is unique since LOG*DEPTH <= 3*6 = 18 <= 252, so an index cannot
 *   alias another leaf), path[DEPTH][ARITY-1] (the siblings per level from the leaf
 *   up, the node's own position removed, as zksolv.merkle.MerkleTree.path).
 *   Output: root. A level is node = Poseidon(ARITY)(ChildPlacement(LOG)(node, path[l],
 *   index bits of level l)).
 *   Constraints: DEPTH * (LOG + (ARITY - 1 - LOG) + (ARITY - 1) + Poseidon(ARITY))
 *   = DEPTH * (3 + 4 + 7 + 402) = 416 * DEPTH at arity 8 (Poseidon(8) = 402);
 *   measured, --O2: MerkleInclusion(4) = 1664 standalone (arity 4 was 304 per level:
 *   2 bits + 5 placement + Poseidon(4) 297).
 * Soundness: the index bits are boolean and unique (Num2Bits); ChildPlacement then
 *   fixes every child (placement.circom: the node sits at the position its bits
 *   encode, the siblings fill the rest in order, nothing is free), and Poseidon binds
 *   the children, so `root` is the root of a tree holding `leaf` at `index`.
 * Why arity 8 (measured, see benchmarks/README.md): 416 constraints per 3 index bits
 *   (139 per bit) against 304 per 2 bits at arity 4 (152 per bit) and ~242 per bit
 *   binary; a 4,096-instrument tree is 4 levels (1,664) instead of 6 (1,824).
 * Needs FP_MERKLE_ARITY() rendered into main by zksolv.circuitgen.
 */
include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";
include "placement.circom";

function merkleLog2(arity) {
    var bits = 0;
    while ((1 << bits) < arity) { bits++; }
    return bits;
}

// MerkleLevels(LEVELS): the node LEVELS levels above `leaf`, climbing with the caller's
// index bits b[LOG*LEVELS] (boolean, least significant first) and the siblings path[l].
template MerkleLevels(LEVELS) {
    var ARITY = FP_MERKLE_ARITY();
    var LOG = merkleLog2(ARITY);
    assert((1 << LOG) == ARITY);
    signal input leaf;
    signal input b[LOG * LEVELS];
    signal input path[LEVELS][ARITY - 1];
    signal output node;

    component place[LEVELS];
    component hash[LEVELS];
    signal up[LEVELS + 1];
    up[0] <== leaf;
    for (var l = 0; l < LEVELS; l++) {
        place[l] = ChildPlacement(LOG);
        place[l].node <== up[l];
        place[l].sib <== path[l];
        for (var j = 0; j < LOG; j++) {
            place[l].b[j] <== b[LOG * l + j];
        }
        hash[l] = Poseidon(ARITY);
        hash[l].inputs <== place[l].c;
        up[l + 1] <== hash[l].out;
    }
    node <== up[LEVELS];
}

template MerkleInclusion(DEPTH) {
    var ARITY = FP_MERKLE_ARITY();
    var LOG = merkleLog2(ARITY);
    assert(LOG * DEPTH <= 252);
    signal input leaf;
    signal input index;
    signal input path[DEPTH][ARITY - 1];
    signal output root;

    component bits = Num2Bits(LOG * DEPTH);
    bits.in <== index;
    component levels = MerkleLevels(DEPTH);
    levels.leaf <== leaf;
    levels.b <== bits.out;
    levels.path <== path;
    root <== levels.node;
}

/*
 * The Merkle cap (docs/design.md, "Merkle cap"): the ARITY^CAP nodes of the tree at height
 * DEPTH - CAP, opened once per circuit, so that each leaf climbs only DEPTH - CAP levels.
 *
 * MerkleCapRoot(CAP): the root above cap[ARITY^CAP] (nodes in index order).
 *   Constraints: (ARITY^CAP - 1) / (ARITY - 1) Poseidon(ARITY) = 402 per node above the cap.
 * CapSelect(BITS): out = x[p], p = sum_j b[j] 2^j; a binary multiplexer tree, 2^BITS - 1
 *   constraints, no free signal. It does NOT constrain b: a non-boolean b[j] mixes nodes
 *   (b = 2 gives 2 x[1] - x[0]), so a caller must feed it boolean bits (MerkleCapInclusion:
 *   the outputs of Num2Bits).
 * MerkleCapInclusion(DEPTH, CAP): the leaf at `index` (< ARITY^DEPTH, Num2Bits(LOG*DEPTH)
 *   as MerkleInclusion) climbs its lower DEPTH - CAP levels with path[DEPTH-CAP][ARITY-1]
 *   and lands on cap[index >> LOG*(DEPTH-CAP)], selected by the index's top LOG*CAP bits.
 *   Constraints: LOG*DEPTH + 413*(DEPTH - CAP) + ARITY^CAP - 1 (arity 8).
 *   Soundness: with `cap` hashing to the tree's root (MerkleCapRoot, the caller's check),
 *   cap[k] is the tree's node k at height DEPTH - CAP (Poseidon is collision resistant), and
 *   the leaf sits under it at the position the lower bits encode, so the leaf is the tree's
 *   leaf `index` exactly as with MerkleInclusion(DEPTH): same index bits, same levels counted.
 * CappedOpenings(N, DEPTH, CAP): N leaves at their indices under `root`, through one cap.
 */
template MerkleCapRoot(CAP) {
    var ARITY = FP_MERKLE_ARITY();
    signal input cap[ARITY ** CAP];
    signal output root;

    var width = ARITY ** CAP;
    var hashes = (width - 1) \ (ARITY - 1);
    component hash[hashes];
    signal node[hashes + width];           // the cap, then each level's nodes, the root last
    for (var k = 0; k < width; k++) { node[k] <== cap[k]; }
    var first = 0;                         // index in node[] of the current level's first node
    var used = 0;
    while (width > 1) {
        for (var k = 0; k < width \ ARITY; k++) {
            hash[used] = Poseidon(ARITY);
            for (var c = 0; c < ARITY; c++) { hash[used].inputs[c] <== node[first + ARITY * k + c]; }
            node[first + width + k] <== hash[used].out;
            used++;
        }
        first += width;
        width = width \ ARITY;
    }
    root <== node[first];
}

template CapSelect(BITS) {
    signal input x[1 << BITS];
    signal input b[BITS];
    signal output out;

    signal level[(1 << BITS) - 1];         // each level's choices in turn, the chosen node last
    var prev = 0;                          // where the previous level starts in level[]
    var at = 0;                            // where this level starts
    var width = 1 << BITS;
    for (var j = 0; j < BITS; j++) {
        for (var k = 0; k < width \ 2; k++) {
            var lo;
            var hi;
            if (j == 0) {
                lo = x[2 * k];
                hi = x[2 * k + 1];
            } else {
                lo = level[prev + 2 * k];
                hi = level[prev + 2 * k + 1];
            }
            level[at + k] <== lo + b[j] * (hi - lo);
        }
        prev = at;
        at += width \ 2;
        width = width \ 2;
    }
    if (BITS == 0) {
        out <== x[0];
    } else {
        out <== level[(1 << BITS) - 2];
    }
}

template MerkleCapInclusion(DEPTH, CAP) {
    var ARITY = FP_MERKLE_ARITY();
    var LOG = merkleLog2(ARITY);
    assert(CAP >= 0 && CAP <= DEPTH && LOG * DEPTH <= 252);
    signal input leaf;
    signal input index;
    signal input path[DEPTH - CAP][ARITY - 1];
    signal input cap[ARITY ** CAP];

    component bits = Num2Bits(LOG * DEPTH);
    bits.in <== index;
    component levels = MerkleLevels(DEPTH - CAP);
    levels.leaf <== leaf;
    for (var j = 0; j < LOG * (DEPTH - CAP); j++) { levels.b[j] <== bits.out[j]; }
    levels.path <== path;
    component select = CapSelect(LOG * CAP);
    select.x <== cap;
    for (var j = 0; j < LOG * CAP; j++) { select.b[j] <== bits.out[LOG * (DEPTH - CAP) + j]; }
    levels.node === select.out;
}

template CappedOpenings(N, DEPTH, CAP) {
    var ARITY = FP_MERKLE_ARITY();
    signal input root;
    signal input cap[ARITY ** CAP];
    signal input leaf[N];
    signal input index[N];
    signal input path[N][DEPTH - CAP][ARITY - 1];

    component top = MerkleCapRoot(CAP);
    top.cap <== cap;
    top.root === root;
    component open[N];
    for (var j = 0; j < N; j++) {
        open[j] = MerkleCapInclusion(DEPTH, CAP);
        open[j].leaf <== leaf[j];
        open[j].index <== index[j];
        open[j].path <== path[j];
        open[j].cap <== cap;
    }
}

/*
 * Grouped openings (docs/design.md, "Grouped openings"): for books whose positions cluster.
 *
 * GroupedOpenings(N, G, DEPTH, CAP): N leaves under `root`, each equal to one of the ARITY
 *   children of one of G groups, a group being a node one level above the leaves.
 *   Inputs: root; cap[ARITY^CAP] (the tree's nodes CAP levels below the root; CAP <= DEPTH - 1);
 *   leaf[N]; per group g its children group[g][ARITY] in child order, its index group_index[g]
 *   among the nodes one level above the leaves (< ARITY^(DEPTH-1)) and the DEPTH - 1 - CAP levels
 *   group_path[g] of its path up to the cap (zksolv.merkle.MerkleTree.path(..., level=1)).
 *   Each group hashes its children once (Poseidon(ARITY)) and opens that node through the cap
 *   (MerkleCapInclusion(DEPTH - 1, CAP)); each leaf proves membership with
 *   prod over the G*ARITY children c of (leaf - c) = 0.
 *   Constraints: per leaf ARITY*G - 1 (no index, no path, no selector); once the cap
 *   (MerkleCapRoot) and per group Poseidon(ARITY) 402 + its opening
 *   (zksolv.merkle.grouped_opening_constraints). Cheaper than CappedOpenings while a group
 *   stands for several leaves: 127 + (amortised groups) per leaf at G = 16, against
 *   3 DEPTH + 413 (DEPTH - CAP) + ARITY^CAP - 1 = 901 at DEPTH 4, CAP 2.
 *   Soundness: the cap hashes to `root` and each group node climbs exactly DEPTH - 1 - CAP
 *   levels to the cap node its index selects, so (Poseidon collision resistance) it is the
 *   tree's node group_index one level above the leaves and group[g] are that node's children:
 *   the tree's leaves (or the empty leaf 0). A product in the field is 0 only if a factor is,
 *   so each leaf equals one of them. A leaf that is a Poseidon output (InstrumentLeaf) cannot
 *   equal the empty leaf 0 without a preimage of 0. Unused groups repeat a used one (any real
 *   group is sound); which leaf of the tree a slot opened is not constrained beyond
 *   membership: the opened leaf carries its instrument's identity, which is what the
 *   commitment binds (positions.circom).
 */
template GroupedOpenings(N, G, DEPTH, CAP) {
    var ARITY = FP_MERKLE_ARITY();
    assert(N >= 1 && G >= 1 && DEPTH >= 1 && CAP >= 0 && CAP <= DEPTH - 1);
    signal input root;
    signal input cap[ARITY ** CAP];
    signal input leaf[N];
    signal input group[G][ARITY];
    signal input group_index[G];
    signal input group_path[G][DEPTH - 1 - CAP][ARITY - 1];

    component top = MerkleCapRoot(CAP);
    top.cap <== cap;
    top.root === root;
    component node[G];
    component open[G];
    for (var g = 0; g < G; g++) {
        node[g] = Poseidon(ARITY);
        node[g].inputs <== group[g];
        open[g] = MerkleCapInclusion(DEPTH - 1, CAP);
        open[g].leaf <== node[g].out;
        open[g].index <== group_index[g];
        open[g].path <== group_path[g];
        open[g].cap <== cap;
    }
    var M = G * ARITY;
    signal member[N][M];                   // running products of (leaf - child), the last one 0
    for (var j = 0; j < N; j++) {
        member[j][0] <== leaf[j] - group[0][0];
        for (var k = 1; k < M; k++) {
            member[j][k] <== member[j][k - 1] * (leaf[j] - group[k \ ARITY][k % ARITY]);
        }
        member[j][M - 1] === 0;
    }
}
