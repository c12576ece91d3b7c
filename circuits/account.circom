pragma circom 2.1.6;
/*
 * account.circom — the account commitment (docs/fixed_point.md §3, zksolv.commitments).
 *
 * The commitment names holdings by stable identity, never by listing position:
 *   position entry  e = id * 2^53 + (q + 2^52)      (0 for an empty slot, q = 0)
 *   balance entry   e = asset * 2^52 + bal          (0 for an empty slot, bal = 0)
 *   EntryChain(M):  h = 0; per block of B = 8 entries (the last padded with 0):
 *                   h = Poseidon9([h] + block), except that an all-zero block leaves h
 *                   unchanged — so padding a book to any capacity, and empty slots
 *                   anywhere after the last entry, leave the hash unchanged.
 *   AccountCommitment(N, A) = Poseidon4([DOMAIN, salt, EntryChain(N)(positions),
 *                                        EntryChain(A)(balances)]).
 *
 * Soundness (why an entry determines its holding, and a block sum its emptiness):
 *   q is range-checked to |q| < 2^52 (Aggregate), so q + 2^52 in [1, 2^53); id < 2^187
 *   because it is the first input of a leaf under the keeper-validated instruments_root;
 *   so a non-empty position entry lies in [1, 2^240) and splits uniquely into (id, q).
 *   Likewise bal < 2^52 (CollateralLookup) and asset < 2^96 (selected from the committed
 *   collateral table): a balance entry lies in [1, 2^148). A block's entries are
 *   integers in [0, 2^240), so their sum (< 2^243 < p) is 0 exactly when every entry is.
 *   Order is not constrained here: the registered commitment fixes the sequence of
 *   entries (canonical order), and any other order hashes differently.
 * Constraints (measured, --O2): per position 3 (IsZero 2 + mask 1) plus Poseidon(9)/8
 *   = 421/8 per slot; per block 3 more (IsZero, select).
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen.
 */
include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/comparators.circom";

// entry = in == 0 ? 0 : base * 2^shift + in + offset
template MaskedEntry(shift, offset) {
    signal input in;
    signal input base;
    signal output entry;
    component zero = IsZero();
    zero.in <== in;
    entry <== (1 - zero.out) * (base * (2 ** shift) + in + offset);
}

template EntryChain(M) {
    signal input entry[M];
    signal output out;

    var B = FP_ENTRY_BLOCK();
    var blocks = (M + B - 1) \ B;
    component h[blocks];
    component empty[blocks];
    signal state[blocks + 1];
    state[0] <== 0;
    for (var b = 0; b < blocks; b++) {
        h[b] = Poseidon(B + 1);
        h[b].inputs[0] <== state[b];
        var sum = 0;
        for (var i = 0; i < B; i++) {
            var idx = b * B + i;
            if (idx < M) {
                h[b].inputs[i + 1] <== entry[idx];
                sum += entry[idx];
            } else {
                h[b].inputs[i + 1] <== 0;
            }
        }
        empty[b] = IsZero();
        empty[b].in <== sum;
        state[b + 1] <== h[b].out + empty[b].out * (state[b] - h[b].out);
    }
    out <== state[blocks];
}

template AccountCommitment(N, A) {
    signal input q[N];          // signed, range-checked by Aggregate
    signal input id[N];         // instrument identity of each slot (the opened leaf's)
    signal input balance[A];    // range-checked by CollateralLookup
    signal input asset[A];      // asset identity of each balance slot (from the collateral table)
    signal input salt;          // any field element
    signal output commitment;

    component pos[N];
    component positions = EntryChain(N);
    for (var j = 0; j < N; j++) {
        pos[j] = MaskedEntry(FP_POSITION_ENTRY_SHIFT(), FP_QTY_OFFSET());
        pos[j].in <== q[j];
        pos[j].base <== id[j];
        positions.entry[j] <== pos[j].entry;
    }
    component bal[A];
    component balances = EntryChain(A);
    for (var a = 0; a < A; a++) {
        bal[a] = MaskedEntry(FP_BALANCE_ENTRY_SHIFT(), 0);
        bal[a].in <== balance[a];
        bal[a].base <== asset[a];
        balances.entry[a] <== bal[a].entry;
    }
    component h = Poseidon(4);
    h.inputs[0] <== FP_ACCOUNT_DOMAIN();
    h.inputs[1] <== salt;
    h.inputs[2] <== positions.out;
    h.inputs[3] <== balances.out;
    commitment <== h.out;
}
