pragma circom 2.1.6;
/*
 * instrument.circom — InstrumentLeaf(): Poseidon5([u * 2^187 + id, mark, delta, gamma, vega])
 * (docs/fixed_point.md §3).
 * `id` is the instrument's stable identity (zksolv.identity.instrument_id:
 * underlying symbol, expiry, kind, strike packed, < 2^187): the account
 * commitment names positions by it, and AvslSolvency feeds the same signal
 * to the commitment and to this leaf, so an opened leaf always carries the
 * committed identity. `u` is the underlying's row in this epoch's table (< 16).
 * The circuit never unpacks either.
 * Inputs: market data (signed values as p - |x|), not range-checked here (the keeper
 * validated the market bound by market_root: every leaf has id < 2^187, u < 16).
 * Constraints: 321 (Poseidon(5), measured; the unpacked Poseidon(6) leaf was 354).
 *
 * Why packing (id, u) is sound — and why nothing else is packed. A packed element
 * admits another decomposition unless the parts are range-checked. Market data
 * (mark, greeks) is not range-checked in the circuit, so packing e.g. mark with delta
 * would let a prover move value between them. `id` and `u` are different: for a
 * leaf the keeper validated, X = U*2^187 + ID with ID < 2^187, U < 16, a prover
 * opening it with u' and id' = X - u'*2^187 needs, in AvslSolvency,
 *   (1) u' in [0, U) — OneHot(U) in Aggregate routes the greeks by u' and admits
 *       nothing else (U <= 16), and
 *   (2) for a used slot (q != 0), id'*2^53 + (q' + 2^52) equal to the committed entry
 *       ID_c*2^53 + (Q + 2^52) with ID_c < 2^187 (AccountCommitment), q' range-checked
 *       so that q' + 2^52 lies in [0, 2^53) (PositionGreeks).
 *   Then id' = ID + (U - u')*2^187 lies in (-2^191, 2^191) as an integer, both sides of
 *   (2) are below 2^245 << p in size, so (2) holds over the integers: modulo 2^53 it
 *   gives q' = Q, then ID + (U - u')*2^187 = ID_c with ID, ID_c in [0, 2^187) forces
 *   u' = U and ID = ID_c. The slot opens the committed instrument with its own
 *   underlying — exactly what the unpacked leaf guaranteed. An empty slot (q = 0)
 *   adds 0 to every sum whatever it opens, as before.
 *   So a caller must keep (1) and (2) for every slot it opens a leaf for
 *   (tests/test_adversarial.py forges the other decomposition and must find no witness).
 */
include "circomlib/circuits/poseidon.circom";

template InstrumentLeaf() {
    signal input id;
    signal input u;
    signal input mark;
    signal input delta;
    signal input gamma;
    signal input vega;
    signal output leaf;

    component h = Poseidon(5);
    h.inputs[0] <== u * (2 ** FP_INSTRUMENT_ID_BITS()) + id;
    h.inputs[1] <== mark;
    h.inputs[2] <== delta;
    h.inputs[3] <== gamma;
    h.inputs[4] <== vega;
    leaf <== h.out;
}
