pragma circom 2.1.6;
/*
 * solvency.circom — margin rounding and the AVSL solvency statement
 * (docs/fixed_point.md §2).
 *
 * MarginRounding(): mm*2e24 - MM_raw in [0, 2^216) (mm = ceil(MM_raw/2e24) or
 *   more). Inputs mm (< 2^128, checked by Solvency), MM_raw (< 2^218 from the
 *   risk modes). 216 constraints. Soundness: mm*2e24 < 2^209 and MM_raw < 2^218,
 *   so a negative slack wraps above 2^216.
 * Solvency(): mm in [0, 2^128);
 *   req_raw = mm * (1e12 + V*beta) * min_ratio  (scale 1e24, < 2^225);
 *   nav_raw*1e6 - req_raw in [0, 2^240).
 *   Inputs nav_raw (|.| < 2^131), mm, market data V, beta, min_ratio (< 2^32).
 *   128 + 3 + 240 = 371 constraints (measured). Soundness: the slack is in (-2^226, 2^151), a
 *   negative one wraps above 2^240.
 * Needs the FP_* constant functions rendered into main by zksolv.circuitgen.
 */
include "range.circom";

template MarginRounding() {
    signal input mm;
    signal input MM_raw;
    component slack = NonNegSlack(FP_SLACK_BITS());
    slack.a <== FP_MM_DIVISOR() * mm;
    slack.b <== MM_raw;
}

template Solvency() {
    signal input nav_raw;
    signal input mm;
    signal input V;
    signal input beta;
    signal input min_ratio;
    signal output req_raw;

    component mmRange = RangeCheck(FP_MM_BITS());
    mmRange.in <== mm;

    signal vbeta <== V * beta;
    signal mm_avsl <== mm * (FP_AVSL_ONE() + vbeta);   // scale 1e18
    req_raw <== mm_avsl * min_ratio;                    // scale 1e24

    component solvent = NonNegSlack(FP_SOLVENCY_BITS());
    solvent.a <== FP_RATIO_SCALE() * nav_raw;
    solvent.b <== req_raw;
}
