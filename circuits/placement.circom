pragma circom 2.1.6;
/*
 * placement.circom — ChildPlacement(LOG): the children of one Merkle node, with
 * `node` placed at position p = sum_j b[j] * 2^j among ARITY = 2^LOG children and
 * the ARITY - 1 siblings filling the other positions in order
 * (docs/fixed_point.md §3; zksolv.merkle.MerkleTree.path removes the node's own
 * position from a level the same way).
 *
 *   c[i] = sib[i]      for i < p
 *   c[p] = node
 *   c[i] = sib[i - 1]  for i > p
 *
 * Construction (thermometer selectors, telescoping differences):
 *   A_i = [p >= i] for i = 1 .. ARITY-1, a multilinear polynomial in the bits whose
 *   coefficients are computed at compile time (Moebius transform of the indicator);
 *   the monomials of degree >= 2 are product signals, ARITY - 1 - LOG of them
 *   (arity 8: b0*b1, b0*b2, b1*b2, b0*b1*b2);
 *   x_i = A_i * (node - sib[i-1])                                ARITY - 1 products
 *   c[0] = node - x_1,   c[i] = sib[i-1] + x_i - x_{i+1},   c[ARITY-1] = sib[ARITY-2] + x_{ARITY-1}
 *   (all linear in the x_i: --O2 folds them into the Poseidon that consumes c).
 *   Check: for i < p, x_i = node - sib[i-1] and x_{i+1} = node - sib[i], so
 *   c[i] = sib[i]; for i = p, x_p = node - sib[p-1] and x_{p+1} = 0, so c[p] = node;
 *   for i > p both vanish, c[i] = sib[i-1]; c[0] = sib[0] if p > 0 else node.
 *
 * Constraints: (ARITY - 1 - LOG) + (ARITY - 1): arity 8: 4 + 7 = 11, arity 4: 1 + 3 = 4
 *   (measured, --O2, standalone: ChildPlacement(3) = 11, ChildPlacement(2) = 4).
 *   Minimal for this shape: the 7 products x_i are needed because the children are 7
 *   independent bilinear forms in (selector, sibling), and 7 selector functions that
 *   span every function of p on {0..7} need 7 constrained signals (3 booleans + 4).
 *
 * Soundness (why a prover cannot place the node elsewhere, drop it or duplicate a
 *   sibling): the caller guarantees b[j] in {0, 1} (the bits of Num2Bits of the leaf
 *   index, unique since LOG*DEPTH <= 252). On boolean inputs every A_i equals the
 *   indicator [p >= i] exactly (a polynomial identity on {0,1}^LOG, not a hint), every
 *   x_i and every c[i] is fixed by an equality constraint, so c is a deterministic
 *   function of (node, sib, p): exactly the sequence above. There is no free signal
 *   (no `<--`), so no other placement, no missing node and no repeated sibling
 *   satisfies the constraints. Which p the bits encode is the caller's (private) index.
 * Needs nothing but the caller's bits: no FP_* constants, no circomlib.
 */

function placementPopcount(x) {
    var n = 0;
    var y = x;
    while (y > 0) {
        n += y & 1;
        y = y >> 1;
    }
    return n;
}

// coefficient of the monomial prod_{j in s} b[j] in the indicator [p >= i]
function placementCoefficient(i, s) {
    var total = 0;
    for (var t = 0; t <= s; t++) {
        if ((t & s) == t && t >= i) {
            if ((placementPopcount(s) - placementPopcount(t)) % 2 == 0) {
                total += 1;
            } else {
                total -= 1;
            }
        }
    }
    return total;
}

template ChildPlacement(LOG) {
    assert(LOG >= 2 && LOG <= 4);
    var ARITY = 1 << LOG;
    signal input node;
    signal input sib[ARITY - 1];
    signal input b[LOG];
    signal output c[ARITY];

    // monomials of the bits: mono[s] for every mask s (symbolic: 1, a bit, or a product signal)
    signal prod[ARITY - 1 - LOG];
    var mono[ARITY];
    var used = 0;
    mono[0] = 1;
    for (var s = 1; s < ARITY; s++) {
        var high = 0;
        while ((1 << (high + 1)) <= s) { high++; }
        var rest = s - (1 << high);
        if (rest == 0) {
            mono[s] = b[high];
        } else {
            prod[used] <== mono[rest] * b[high];
            mono[s] = prod[used];
            used++;
        }
    }

    signal x[ARITY - 1];                           // x[i-1] = [p >= i] * (node - sib[i-1])
    for (var i = 1; i < ARITY; i++) {
        var sel = 0;
        for (var s = 0; s < ARITY; s++) {
            sel += placementCoefficient(i, s) * mono[s];
        }
        x[i - 1] <== sel * (node - sib[i - 1]);
    }

    c[0] <== node - x[0];
    for (var i = 1; i < ARITY - 1; i++) {
        c[i] <== sib[i - 1] + x[i - 1] - x[i];
    }
    c[ARITY - 1] <== sib[ARITY - 2] + x[ARITY - 2];
}
