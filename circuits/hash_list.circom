pragma circom 2.1.6;
/*
 * hash_list.circom — HashList(n): the list hash of docs/fixed_point.md §3.
 *
 *   h = n; for each chunk of 15 (at least one, the last zero-padded):
 *   h = Poseidon16([h] + chunk)
 *
 * Inputs: in[n] (field elements, any value). Output: out.
 * Constraints (measured, circom2 --O2): 606 per chunk of 15 (Poseidon(16)),
 * i.e. 606 * max(1, ceil(n/15)).
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen.
 * A hash, no range checks: the caller range-checks private elements.
 */
include "circomlib/circuits/poseidon.circom";

template HashList(n) {
    signal input in[n];
    signal output out;

    var C = FP_HASH_CHUNK();   // 15, rendered from zksolv.commitments.CHUNK
    var chunks = n == 0 ? 1 : (n + C - 1) \ C;
    component h[chunks];
    for (var c = 0; c < chunks; c++) {
        h[c] = Poseidon(C + 1);
        h[c].inputs[0] <== c == 0 ? n : h[c - 1].out;
        for (var i = 0; i < C; i++) {
            var idx = c * C + i;
            if (idx < n) {
                h[c].inputs[i + 1] <== in[idx];
            } else {
                h[c].inputs[i + 1] <== 0;
            }
        }
    }
    out <== h[chunks - 1].out;
}
