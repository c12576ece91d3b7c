pragma circom 2.1.6;
/*
 * merkle.circom — arity-4 Poseidon Merkle inclusion (docs/fixed_point.md §3).
 *
 * Arity4Children():  places `node` at position p = b0 + 2*b1 among 4 children,
 *   the 3 siblings filling the other positions in order.   4 constraints
 *   (b0, b1 must be bits; the caller gets them from Num2Bits).
 * MerkleInclusion4(DEPTH): root of the tree holding `leaf` at `index`.
 *   Inputs: leaf, index (< 4^DEPTH, enforced by Num2Bits(2*DEPTH): an index
 *   cannot alias another leaf), path[DEPTH][3] (siblings per level, the node's
 *   own position removed, as zksolv.merkle.MerkleTree.path).
 *   Output: root.   2*DEPTH + DEPTH*(4 + 297) constraints (Poseidon(4) = 297);
 *   measured: MerkleInclusion4(4) = 1216 standalone.
 */
include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";

template Arity4Children() {
    signal input node;
    signal input sib[3];
    signal input b0;
    signal input b1;
    signal output c[4];

    signal is3 <== b0 * b1;                          // p == 3
    // p == 0 selector: (1-b0)(1-b1) = 1 - b0 - b1 + b0*b1
    c[0] <== sib[0] + (1 - b0 - b1 + is3) * (node - sib[0]);
    c[3] <== sib[2] + is3 * (node - sib[2]);
    signal low <== sib[0] + b0 * (node - sib[0]);    // child 1 when p in {0,1}
    c[1] <== sib[1] + (1 - b1) * (low - sib[1]);
    // the children are a permutation of {node, sib}: child 2 is what is left
    c[2] <== node + sib[0] + sib[1] + sib[2] - c[0] - c[1] - c[3];
}

template MerkleInclusion4(DEPTH) {
    signal input leaf;
    signal input index;
    signal input path[DEPTH][3];
    signal output root;

    component bits = Num2Bits(2 * DEPTH);
    bits.in <== index;

    component place[DEPTH];
    component hash[DEPTH];
    signal node[DEPTH + 1];
    node[0] <== leaf;
    for (var l = 0; l < DEPTH; l++) {
        place[l] = Arity4Children();
        place[l].node <== node[l];
        place[l].sib <== path[l];
        place[l].b0 <== bits.out[2 * l];
        place[l].b1 <== bits.out[2 * l + 1];
        hash[l] = Poseidon(4);
        hash[l].inputs <== place[l].c;
        node[l + 1] <== hash[l].out;
    }
    root <== node[DEPTH];
}
