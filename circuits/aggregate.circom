pragma circom 2.1.6;
/*
 * aggregate.circom — per-position aggregation (docs/fixed_point.md §2).
 *
 * OneHot(U): sel[U] bits with exactly one set, at position `idx`.
 *   U + 1 constraints (U booleans and sum(u*sel[u]) === idx; U == 1: 0, idx
 *   forced to 0). Fails if idx >= U.
 * QuantityRange(): range-checks a private quantity q (|q| < 2^52, signed as
 *   p - |q|: q + 2^52 in [1, 2^53), i.e. SignedRangeCheck(52) and q != -2^52).
 *   53 + 2 constraints. (Also used by PositionPnl, revaluation.circom.)
 * PositionGreeks(U): QuantityRange(q) and q's contributions q*delta, q*gamma,
 *   q*vega routed to its underlying, and q*mark.  (53 + 2 + 4 + U + 3U constraints)
 * Aggregate(N, U): Delta_u, Gamma_u, Vega_u summed over N positions and
 *   position_value = sum_j q_j * mark_j.
 * CollateralLookup(A): A balance slots, each a private (asset_index, balance);
 *   the slot's asset is looked up in the committed collateral table (OneHot over
 *   A entries: the index is a private detail, the asset identity is what the
 *   commitment binds). Range-checks balances (< 2^52); returns each slot's asset
 *   id and sum_b bal_b * P_sel * (1e6 - h_sel).
 *   A (unit values) + A * (52 + 3A + 1) constraints (A == 1: no lookup).
 *
 * Bounds (no wrap mod p): |q*delta| < 2^83, |q*gamma|, |q*vega| < 2^100,
 * q*mark < 2^100; with N <= 1024: |Delta_u| < 2^93, |Gamma_u|, |Vega_u| < 2^110,
 * |position_value| < 2^110; collateral < 16 * 2^52 * 2^48 * 2^20 = 2^124.
 * Market data (u, mark, greeks, P, h) is bound by market_root and validated by
 * the keeper, so it is within its documented width.
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen.
 */
include "range.circom";
include "circomlib/circuits/comparators.circom";

template OneHot(U) {
    signal input idx;
    signal output sel[U];
    if (U == 1) {
        idx === 0;
        sel[0] <== 1;
    } else {
        var total = 0;
        var weighted = 0;
        for (var u = 0; u < U; u++) {
            sel[u] <-- idx == u ? 1 : 0;
            sel[u] * (sel[u] - 1) === 0;
            total += sel[u];
            weighted += u * sel[u];
        }
        // booleans summing to 1: exactly one bit set, and it sits at idx
        total === 1;
        weighted === idx;
    }
}

template QuantityRange() {
    signal input q;        // private, signed, |q| < 2^QTY_BITS
    component range = SignedRangeCheck(FP_QTY_BITS());
    range.in <== q;
    // SignedRangeCheck admits q + 2^52 = 0 (q = -2^52); the model's range is |q| < 2^52
    component qMin = IsZero();
    qMin.in <== q + 2 ** FP_QTY_BITS();
    qMin.out === 0;
}

template PositionGreeks(U) {
    signal input q;        // private, signed, |q| < 2^QTY_BITS
    signal input u;        // underlying index of the instrument (market data)
    signal input mark;
    signal input delta;
    signal input gamma;
    signal input vega;
    signal output dDelta[U];
    signal output dGamma[U];
    signal output dVega[U];
    signal output value;   // q * mark, scale 1e12

    component qRange = QuantityRange();
    qRange.q <== q;

    signal qd <== q * delta;
    signal qg <== q * gamma;
    signal qv <== q * vega;
    value <== q * mark;

    component onehot = OneHot(U);
    onehot.idx <== u;
    for (var k = 0; k < U; k++) {
        if (U == 1) {
            dDelta[k] <== qd;
            dGamma[k] <== qg;
            dVega[k] <== qv;
        } else {
            dDelta[k] <== onehot.sel[k] * qd;
            dGamma[k] <== onehot.sel[k] * qg;
            dVega[k] <== onehot.sel[k] * qv;
        }
    }
}

template Aggregate(N, U) {
    signal input q[N];
    signal input u[N];
    signal input mark[N];
    signal input delta[N];
    signal input gamma[N];
    signal input vega[N];
    signal output Delta[U];
    signal output Gamma[U];
    signal output Vega[U];
    signal output position_value;

    component pos[N];
    var d[U];
    var g[U];
    var v[U];
    var value = 0;
    for (var k = 0; k < U; k++) { d[k] = 0; g[k] = 0; v[k] = 0; }
    for (var j = 0; j < N; j++) {
        pos[j] = PositionGreeks(U);
        pos[j].q <== q[j];
        pos[j].u <== u[j];
        pos[j].mark <== mark[j];
        pos[j].delta <== delta[j];
        pos[j].gamma <== gamma[j];
        pos[j].vega <== vega[j];
        for (var k = 0; k < U; k++) {
            d[k] += pos[j].dDelta[k];
            g[k] += pos[j].dGamma[k];
            v[k] += pos[j].dVega[k];
        }
        value += pos[j].value;
    }
    for (var k = 0; k < U; k++) {
        Delta[k] <== d[k];
        Gamma[k] <== g[k];
        Vega[k] <== v[k];
    }
    position_value <== value;
}

template CollateralLookup(A) {
    signal input asset_index[A];  // private: where each slot's asset sits in this epoch's table
    signal input balance[A];      // private, < 2^BALANCE_BITS
    signal input asset_id[A];     // market table: identity, price (< 2^48), haircut (in [0, 1e6])
    signal input price[A];
    signal input haircut[A];
    signal output slot_asset[A];  // the identity of the asset each slot holds
    signal output value;          // sum bal * P * (1e6 - h), scale 1e18

    signal unit[A];               // value of one unit of asset a, P * (1e6 - h) < 2^68
    for (var a = 0; a < A; a++) {
        unit[a] <== price[a] * (FP_RATIO_SCALE() - haircut[a]);
    }
    component balRange[A];
    component pick[A];
    signal pickedId[A][A];
    signal pickedUnit[A][A];
    signal term[A];
    var total = 0;
    for (var b = 0; b < A; b++) {
        balRange[b] = RangeCheck(FP_BALANCE_BITS());
        balRange[b].in <== balance[b];
        pick[b] = OneHot(A);
        pick[b].idx <== asset_index[b];
        var id = 0;
        var u = 0;
        for (var a = 0; a < A; a++) {
            pickedId[b][a] <== pick[b].sel[a] * asset_id[a];
            pickedUnit[b][a] <== pick[b].sel[a] * unit[a];
            id += pickedId[b][a];
            u += pickedUnit[b][a];
        }
        slot_asset[b] <== id;
        term[b] <== balance[b] * u;
        total += term[b];
    }
    value <== total;
}
