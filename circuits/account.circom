pragma circom 2.1.6;
/*
 * account.circom — the account commitment (docs/fixed_point.md §3, zksolv.commitments).
 *
 * The commitment names holdings by stable identity, never by listing position:
 *   position entry  e = id * 2^53 + (q + 2^52)      (0 for an empty slot, q = 0)
 *   balance entry   e = asset * 2^52 + bal          (0 for an empty slot, bal = 0)
 *   EntryChain(M):  h = init (0 for a whole book); per block of B = 8 entries (the
 *                   last padded with 0): h = Poseidon9([h] + block), except that an
 *                   all-zero block leaves h unchanged — so padding a book to any
 *                   capacity, and empty slots anywhere after the last entry, leave the
 *                   hash unchanged. A chunk of a book (M a multiple of B) continues the
 *                   hash of the chunks before it from `init`.
 *   PositionEntry(), BalanceEntry(): the masked entries below.
 *   BalanceSlots(A): A balance slots, each valued and identified by one row of the
 *                   committed collateral table (CollateralLookup); returns their value
 *                   and the EntryChain of their entries (init 0).
 *   AccountCommitment() = Poseidon4([DOMAIN, salt, positions_hash, balances_hash]).
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
include "aggregate.circom";

// entry = in == 0 ? 0 : base * 2^shift + in + offset
template MaskedEntry(shift, offset) {
    signal input in;
    signal input base;
    signal output entry;
    component zero = IsZero();
    zero.in <== in;
    entry <== (1 - zero.out) * (base * (2 ** shift) + in + offset);
}

template PositionEntry() {
    signal input q;
    signal input id;
    signal output entry;
    component e = MaskedEntry(FP_POSITION_ENTRY_SHIFT(), FP_QTY_OFFSET());
    e.in <== q;
    e.base <== id;
    entry <== e.entry;
}

template BalanceEntry() {
    signal input balance;
    signal input asset;
    signal output entry;
    component e = MaskedEntry(FP_BALANCE_ENTRY_SHIFT(), 0);
    e.in <== balance;
    e.base <== asset;
    entry <== e.entry;
}

template EntryChain(M) {
    signal input init;
    signal input entry[M];
    signal output out;

    var B = FP_ENTRY_BLOCK();
    var blocks = (M + B - 1) \ B;
    component h[blocks];
    component empty[blocks];
    signal state[blocks + 1];
    state[0] <== init;
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

template BalanceSlots(A) {
    signal input asset_index[A];  // private: each slot's row in this epoch's collateral table
    signal input balance[A];      // private, range-checked by CollateralLookup
    signal input asset_id[A];     // market table
    signal input price[A];
    signal input haircut[A];
    signal output value;          // sum bal * P * (1e6 - h), scale 1e18
    signal output hash;           // EntryChain of the balance entries

    component coll = CollateralLookup(A);
    coll.asset_index <== asset_index;
    coll.balance <== balance;
    coll.asset_id <== asset_id;
    coll.price <== price;
    coll.haircut <== haircut;
    component bal[A];
    component chain = EntryChain(A);
    chain.init <== 0;
    for (var b = 0; b < A; b++) {
        bal[b] = BalanceEntry();
        bal[b].balance <== balance[b];
        bal[b].asset <== coll.slot_asset[b];
        chain.entry[b] <== bal[b].entry;
    }
    value <== coll.value;
    hash <== chain.out;
}

template AccountCommitment() {
    signal input salt;             // any field element
    signal input positions_hash;   // EntryChain of the position entries (init 0)
    signal input balances_hash;    // EntryChain of the balance entries (init 0)
    signal output commitment;
    component h = Poseidon(4);
    h.inputs[0] <== FP_ACCOUNT_DOMAIN();
    h.inputs[1] <== salt;
    h.inputs[2] <== positions_hash;
    h.inputs[3] <== balances_hash;
    commitment <== h.out;
}
