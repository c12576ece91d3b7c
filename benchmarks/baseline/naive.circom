pragma circom 2.1.6;
/*
 * naive.circom — benchmark only: the parts of zksolv's statement written the
 * straightforward way, for the "naive baseline" of benchmarks/bench_baseline.py.
 * Never used to prove anything real.
 *
 * MerkleInclusion2(DEPTH): binary Poseidon(2) tree (instead of zksolv's
 *   arity-8 Poseidon(8) tree of a third of the depth): per level one selector and
 *   one Poseidon(2); index < 2^DEPTH by Num2Bits.
 * NaiveEntryChain(M): one Poseidon(2) per entry, h = Poseidon2([h, e]) over every
 *   slot (instead of one Poseidon(9) per block of 8 that skips empty blocks); the
 *   same PositionEntry entries.
 *
 * The rest of the statement (leaves, aggregation, risk, solvency, market hash) is
 * circuits/ itself: bench_baseline.py derives the top template and the position
 * slots from circuits/avsl_solvency.circom and circuits/positions.circom, swapping
 * only these two components.
 */
include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";

template MerkleInclusion2(DEPTH) {
    signal input leaf;
    signal input index;
    signal input path[DEPTH];
    signal output root;

    component bits = Num2Bits(DEPTH);
    bits.in <== index;
    component hash[DEPTH];
    signal node[DEPTH + 1];
    signal swap[DEPTH];
    node[0] <== leaf;
    for (var l = 0; l < DEPTH; l++) {
        // left = bit ? sibling : node; right = the other one
        swap[l] <== bits.out[l] * (path[l] - node[l]);
        hash[l] = Poseidon(2);
        hash[l].inputs[0] <== node[l] + swap[l];
        hash[l].inputs[1] <== path[l] - swap[l];
        node[l + 1] <== hash[l].out;
    }
    root <== node[DEPTH];
}

template NaiveEntryChain(M) {
    signal input init;
    signal input entry[M];
    signal output out;

    component h[M];
    signal state[M + 1];
    state[0] <== init;
    for (var j = 0; j < M; j++) {
        h[j] = Poseidon(2);
        h[j].inputs[0] <== state[j];
        h[j].inputs[1] <== entry[j];
        state[j + 1] <== h[j].out;
    }
    out <== state[M];
}
