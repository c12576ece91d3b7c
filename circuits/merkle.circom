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

template MerkleInclusion(DEPTH) {
    var ARITY = FP_MERKLE_ARITY();
    var LOG = merkleLog2(ARITY);
    assert((1 << LOG) == ARITY);
    assert(LOG * DEPTH <= 252);
    signal input leaf;
    signal input index;
    signal input path[DEPTH][ARITY - 1];
    signal output root;

    component bits = Num2Bits(LOG * DEPTH);
    bits.in <== index;

    component place[DEPTH];
    component hash[DEPTH];
    signal node[DEPTH + 1];
    node[0] <== leaf;
    for (var l = 0; l < DEPTH; l++) {
        place[l] = ChildPlacement(LOG);
        place[l].node <== node[l];
        place[l].sib <== path[l];
        for (var j = 0; j < LOG; j++) {
            place[l].b[j] <== bits.out[LOG * l + j];
        }
        hash[l] = Poseidon(ARITY);
        hash[l].inputs <== place[l].c;
        node[l + 1] <== hash[l].out;
    }
    root <== node[DEPTH];
}
