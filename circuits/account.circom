pragma circom 2.1.6;
/*
 * account.circom — the account commitment (docs/fixed_point.md §3).
 *
 * PositionsChain(N): chain = 0; for each slot j with q_j != 0:
 *   chain = Poseidon3([chain, leaf_index_j, q_j]); zero slots are skipped
 *   (IsZero + select), so padding leaves the commitment unchanged.
 *   264 * N constraints (IsZero 2 + Poseidon(3) 261 + select 1, measured).
 * AccountCommitment(N, A): Poseidon3([salt, chain, HashList(A)(balance)]).
 * Inputs: q[N] (range-checked by Aggregate), leaf_index[N] (< 4^DEPTH, checked by
 * the Merkle inclusion), balance[A] (range-checked by CollateralValue), salt
 * (any field element). Both ranges matter: they make (index, q) encodings unique.
 */
include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/comparators.circom";
include "hash_list.circom";

template ChainStep() {
    signal input chain;
    signal input leaf_index;
    signal input q;
    signal output out;

    component zero = IsZero();
    zero.in <== q;
    component h = Poseidon(3);
    h.inputs[0] <== chain;
    h.inputs[1] <== leaf_index;
    h.inputs[2] <== q;
    // out = q == 0 ? chain : h
    out <== h.out + zero.out * (chain - h.out);
}

template PositionsChain(N) {
    signal input q[N];
    signal input leaf_index[N];
    signal output chain;

    component step[N];
    for (var j = 0; j < N; j++) {
        step[j] = ChainStep();
        step[j].chain <== j == 0 ? 0 : step[j - 1].out;
        step[j].leaf_index <== leaf_index[j];
        step[j].q <== q[j];
    }
    chain <== step[N - 1].out;
}

template AccountCommitment(N, A) {
    signal input q[N];
    signal input leaf_index[N];
    signal input balance[A];
    signal input salt;
    signal output commitment;

    component chain = PositionsChain(N);
    chain.q <== q;
    chain.leaf_index <== leaf_index;
    component balances = HashList(A);
    balances.in <== balance;
    component h = Poseidon(3);
    h.inputs[0] <== salt;
    h.inputs[1] <== chain.chain;
    h.inputs[2] <== balances.out;
    commitment <== h.out;
}
