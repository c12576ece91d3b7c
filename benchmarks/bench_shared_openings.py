"""Shared openings: would opening each touched subtree once (instead of every full path) pay off?

Design evaluated (docs/design.md, "Shared openings"): a tier gets ``S`` subtree slots at height
``H``. Each slot opens a subtree root ``R_s`` against ``instruments_root`` with the upper
``D - H`` levels (``MerkleInclusion(D - H)``); each position opens only the lower ``H`` levels
to its own subtree root ``r_j`` and proves ``r_j`` is one of the slots by
``prod_s (r_j - R_s) = 0`` (``S - 1`` constraints, no selector signals). A book fits the tier
if its positions lie in at most ``S`` distinct subtrees of ``8^H`` leaves.

This script

1. compiles that construction (a stand-alone prototype template, generated here) and the
   per-position full paths it would replace, for a few small shapes, and fits the exact
   linear cost model ``N * (H*416 + S - 1) + S * (D - H) * 416`` to the measured counts;
2. counts, for realistic books, how many distinct subtrees they touch at every height, with
   the tree in listing order (today) and sorted by instrument identity (a market-side choice
   that would make books cluster): the demo portfolios on the demo market (152 instruments),
   a 64-position market maker's book (near-the-money options of the three nearest expiries,
   calls and puts, plus a perpetual hedge and the nearest future, on 2 underlyings) on the
   benchmark's 4,096-instrument market and on a 4,032-instrument market with 16 expiries of
   63 strikes, and the demo's random 60-position ``market_maker`` book;
3. prints per book the best (H, S) and the per-position path cost against full paths, and
   writes ``results/shared_openings.json``.

Run: ``python benchmarks/bench_shared_openings.py`` (~2 min: the compiles are cached under
``build/shared-openings``).
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from zksolv.core import fixedpoint as fp  # noqa: E402
from zksolv.core.merkle import ARITY, LOG  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
BUILD = ROOT / "build" / "shared-openings"

#: Measured (circom2 --O2): Poseidon(8) + 3 index bits + ChildPlacement(3) per level.
LEVEL = 416

PROTOTYPE = """
template SharedInclusion(N, S, DEPTH, H) {
    var A = FP_MERKLE_ARITY();
    signal input leaf[N];
    signal input index[N];                    // each position's index inside its subtree
    signal input path[N][H][A - 1];
    signal input slot_root[S];                // the subtree roots the book touches
    signal input slot_index[S];
    signal input slot_path[S][DEPTH - H][A - 1];
    signal input root;
    component up[S];
    for (var s = 0; s < S; s++) {
        up[s] = MerkleInclusion(DEPTH - H);
        up[s].leaf <== slot_root[s];
        up[s].index <== slot_index[s];
        up[s].path <== slot_path[s];
        up[s].root === root;
    }
    component low[N];
    signal member[N][S];
    for (var j = 0; j < N; j++) {
        low[j] = MerkleInclusion(H);
        low[j].leaf <== leaf[j];
        low[j].index <== index[j];
        low[j].path <== path[j];
        // low[j].root is one of the slot roots: prod_s (r - R_s) = 0
        member[j][0] <== low[j].root - slot_root[0];
        for (var s = 1; s < S; s++) {
            member[j][s] <== member[j][s - 1] * (low[j].root - slot_root[s]);
        }
        member[j][S - 1] === 0;
    }
}
"""

FULL = """
template FullPaths(N, DEPTH) {
    var A = FP_MERKLE_ARITY();
    signal input leaf[N];
    signal input index[N];
    signal input path[N][DEPTH][A - 1];
    signal input root;
    component m[N];
    for (var j = 0; j < N; j++) {
        m[j] = MerkleInclusion(DEPTH);
        m[j].leaf <== leaf[j];
        m[j].index <== index[j];
        m[j].path <== path[j];
        m[j].root === root;
    }
}
"""


def compile_count(main: str) -> int:
    """Constraints of ``main`` (a ``component main = ...;`` line) over the prototypes (cached)."""
    from zksolv.toolchain.circuitgen import Tier, include_dirs, render_main
    from zksolv.core.market import RiskMode
    from zksolv.toolchain import CompiledCircuit, compile_circuit

    consts = "\n".join(line for line in render_main(Tier(1, 1, 1, 1, 1, RiskMode.STRESS)).splitlines()
                       if line.startswith("function "))
    source = f'pragma circom 2.1.6;\ninclude "merkle.circom";\n{consts}\n{PROTOTYPE}\n{FULL}\n{main}\n'
    digest = hashlib.sha256(source.encode())
    for path in sorted((ROOT / "circuits").glob("*.circom")):
        digest.update(path.read_bytes())
    name = "shared"
    out = BUILD / f"{name}-{digest.hexdigest()[:16]}"
    try:
        return CompiledCircuit.from_dir(out, name).n_constraints
    except Exception:
        src = BUILD / "src" / f"{name}.circom"
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_text(source)
        return compile_circuit(src, out, include_dirs()).n_constraints


def model_shared(n: int, s: int, depth: int, h: int) -> int:
    """Constraints of the shared construction (slots + lower paths + membership products)."""
    return n * (h * LEVEL + max(0, s - 1)) + s * (depth - h) * LEVEL


def measure_model() -> list[dict[str, Any]]:
    """Compile a few shapes; each must equal the model exactly."""
    rows = []
    for n, s, depth, h in ((8, 4, 4, 2), (16, 4, 4, 2), (16, 8, 4, 2), (8, 4, 3, 1)):
        got = compile_count(f"component main = SharedInclusion({n}, {s}, {depth}, {h});")
        rows.append({"N": n, "S": s, "D": depth, "H": h, "measured": got, "model": model_shared(n, s, depth, h)})
    for n, depth in ((8, 4), (8, 3)):
        got = compile_count(f"component main = FullPaths({n}, {depth});")
        rows.append({"N": n, "D": depth, "full_measured": got, "full_model": n * depth * LEVEL})
    return rows


# ----------------------------------------------------------------------------- books
def mm_book(market, per_underlying: int = 32) -> list[int]:  # noqa: ANN001
    """A market maker's book on every underlying: the perpetual (delta hedge), the nearest future
    and ``per_underlying - 2`` options nearest the money on the three nearest expiries, calls and
    puts alternating. Returns instrument indices (listing order)."""
    from zksolv.core.market import InstrumentKind

    picks: list[int] = []
    for u, und in enumerate(market.underlyings):
        ins = list(enumerate(market.instruments))
        perp = [i for i, x in ins if x.underlying == u and x.kind is InstrumentKind.PERPETUAL]
        futs = sorted((x.expiry, i) for i, x in ins if x.underlying == u and x.kind is InstrumentKind.FUTURE)
        opts = [(i, x) for i, x in ins if x.underlying == u and x.kind.is_option]
        expiries = sorted({x.expiry for _, x in opts})[:3]
        chosen = perp[:1] + [futs[0][1]] if futs else perp[:1]
        ranked = sorted(((abs(x.strike - und.spot), expiries.index(x.expiry), x.kind.code, i)
                         for i, x in opts if x.expiry in expiries))
        chosen += [i for *_, i in ranked[: per_underlying - len(chosen)]]
        picks += chosen
    return picks


def subtrees(leaf_positions: Sequence[int], h: int) -> int:
    """Distinct subtrees of ARITY^h leaves that hold the given leaf positions."""
    return len({p >> (LOG * h) for p in leaf_positions})


def books() -> list[tuple[str, Any, list[int]]]:
    """``(label, market, instrument indices)`` of every book evaluated."""
    from zksolv.app.demo import demo_market, demo_portfolios

    demo = demo_market()
    out = []
    for name, acc in demo_portfolios(demo).items():
        out.append((f"demo {name}", demo, [i for i, _ in acc.position_slots(demo)]))
    bench = demo_market(n_strikes=(4096 // 2 - 4) // 4, n_expiries=2)  # bench_proving's 4,096 market
    chain = demo_market(n_strikes=63, n_expiries=16)
    out.append(("mm64 on bench 4,096", bench, mm_book(bench)))
    out.append(("mm64 on 16x63 chain", chain, mm_book(chain)))
    out.append(("demo market_maker on 16x63 chain", chain,
                [i for i, _ in demo_portfolios(chain)["market_maker"].position_slots(chain)]))
    return out


def evaluate_book(label: str, market, indices: list[int], n_slots: int) -> dict[str, Any]:  # noqa: ANN001
    """Subtrees touched per height in listing and identity order; best shared cost for a tier of
    ``n_slots`` positions against full paths."""
    depth = market.tree_depth
    ids = market.instrument_ids
    rank = {i: r for r, i in enumerate(sorted(range(len(ids)), key=lambda i: ids[i]))}
    orders = {"listing": indices, "sorted": [rank[i] for i in indices]}
    row: dict[str, Any] = {"book": label, "instruments": len(market.instruments), "depth": depth,
                           "positions": len(indices), "tier_N": n_slots}
    full = n_slots * depth * LEVEL
    for order, leaves in orders.items():
        touched = {h: subtrees(leaves, h) for h in range(1, depth)}
        best = min(((model_shared(n_slots, s, depth, h), h, s) for h, s in touched.items()), default=(full, 0, 0))
        row[order] = {"subtrees_by_height": touched, "best_H": best[1], "best_S": best[2],
                      "path_per_position": best[0] / n_slots, "full_path_per_position": full / n_slots}
    return row


def main() -> dict[str, Any]:
    model = measure_model()
    for r in model:
        assert r.get("measured", r.get("full_measured")) == r.get("model", r.get("full_model")), r
    rows = []
    for label, market, indices in books():
        n = 1 << max(0, math.ceil(math.log2(max(1, len(indices)))))  # the tier a book would use
        rows.append(evaluate_book(label, market, indices, n))
    print("cost model (measured = model):", json.dumps(model))
    print(f"{'book':36} {'instr':>6} {'D':>2} {'pos':>4} {'N':>4} | listing: H S path/pos | sorted: H S path/pos"
          " | full path/pos")
    for r in rows:
        lo, so = r["listing"], r["sorted"]
        print(f"{r['book']:36} {r['instruments']:>6} {r['depth']:>2} {r['positions']:>4} {r['tier_N']:>4} | "
              f"{lo['best_H']} {lo['best_S']:>3} {lo['path_per_position']:>7.1f} | "
              f"{so['best_H']} {so['best_S']:>3} {so['path_per_position']:>7.1f} | {lo['full_path_per_position']:.0f}")
    data = {"level_constraints": LEVEL, "arity": ARITY, "max_depth": fp.MAX_TREE_DEPTH, "model": model, "books": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "shared_openings.json").write_text(json.dumps(data, indent=1) + "\n")
    return data


if __name__ == "__main__":
    main()
