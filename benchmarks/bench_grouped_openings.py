"""Grouped openings (issue 26 item 3): what opening the leaves through G groups of 8 saves, measured.

A grouped circuit (``_g<G>``, ``GroupedOpenings`` in circuits/merkle.circom, docs/design.md "Grouped
openings") hashes each touched group of 8 listings once and opens it through the cap; a position
then proves its leaf is one of the groups' children (``8G - 1`` constraints) instead of climbing
its own path (``3D + 413 (D - cap) + 8^cap - 1``). It pays when a book clusters.

Cases (``--quick``: the first only, in CI):

- ``demo 12 clustered``: 12 positions in 2 groups of the 20-instrument demo market, tier 16, G = 2;
- ``mm64 tier``: a market maker's 64 positions (``bench_shared_openings.mm_book``: the perpetual,
  the nearest future and the options nearest the money on the 3 nearest expiries, 2 underlyings) on
  the 4,096-instrument benchmark market, the 64-position tier, G = 16 (it touches 12 groups);
- ``mm64 chunk``: the same book as one chunk of 64 (the chunk circuit alone);
- ``ladder 10,000 chunk``: the ladder's 10,000-position book on 11,324 instruments, chunks of 64:
  the most groups a chunk touches, and the chunk circuit at depth 5 with that many groups (count only);
- ``ladder 1,024``: the ladder's (spread) 1,024-position book: groups per chunk (no grouping pays).

Per case: constraints of the plain and the grouped circuit (compiled, not modelled), per position,
and for one-circuit cases the whole in-process ``prove`` (warm cache, median of ``--repeat``).
Writes ``results/grouped_openings{_quick}.{json,md,png}``.

Run: ``python benchmarks/bench_grouped_openings.py`` (~15 min cold, the compiles and dev setups
cached afterwards) or ``--quick`` (~1 min).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
for _p in (ROOT, HERE):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

#: The group counts the benchmark's venue accepts (a venue lists its own: ``venue.groups``).
GROUP_COUNTS = (2, 4, 8, 16, 24, 32)


def _venue(market: Any, tiers: tuple[int, ...], chunk_size: int = 64) -> Any:
    from zksolv.core.venue import VenuePolicy

    policy = VenuePolicy(tiers=tiers, chunk_sizes=(chunk_size,), chunk_counts=market.venue.chunk_counts,
                         groups=GROUP_COUNTS)
    return dataclasses.replace(market, venue=policy).validated()


def _account(market: Any, indices: list[int]) -> Any:
    from zksolv.core.account import Account, Position

    positions = tuple(Position(market.instruments[i].symbol, (1 if k % 2 else -1) * (k % 5 + 1) * 10**5)
                      for k, i in enumerate(indices))
    return Account(positions, {"USDC": 10**9 * 10**6}, 0x6A0).validated()


def _constraints(shape: Any) -> int:
    from zksolv.toolchain.artifacts import compile_tier

    return compile_tier(shape)[1].n_constraints


def _prove_s(account: Any, market: Any, capacity: int, groups: int, repeat: int) -> dict[str, float]:
    """Whole in-process ``prove`` of the one-circuit tier (dev keys built first, not timed)."""
    from zksolv.prover.prove import prove

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prove(account, market, n_positions=capacity, groups=groups, resident="off")  # compile + setup, cached
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            prove(account, market, n_positions=capacity, groups=groups, resident="off")
            times.append(time.perf_counter() - t)
    return {"median": round(statistics.median(times), 2), "min": round(min(times), 2), "max": round(max(times), 2)}


def tier_case(label: str, market: Any, indices: list[int], capacity: int, repeat: int) -> dict[str, Any]:
    """A one-circuit tier, plain against grouped with the smallest accepted G holding the book."""
    from zksolv.core.merkle import groups_touched
    from zksolv.prover.prove import groups_for
    from zksolv.toolchain.circuitgen import Tier

    touched = groups_touched(indices)
    groups = groups_for(market, touched, capacity)
    assert groups, f"{label}: no accepted grouping pays"
    plain, grouped = Tier.for_market(market, capacity), Tier.for_market(market, capacity, groups)
    account = _account(market, indices)
    row = {"case": label, "kind": "tier", "instruments": len(market.instruments), "depth": market.tree_depth,
           "positions": len(indices), "capacity": capacity, "groups_touched": touched, "G": groups,
           "plain": {"circuit": plain.name, "constraints": _constraints(plain)},
           "grouped": {"circuit": grouped.name, "constraints": _constraints(grouped)}}
    if repeat:
        row["plain"]["prove_s"] = _prove_s(account, market, capacity, 0, repeat)
        row["grouped"]["prove_s"] = _prove_s(account, market, capacity, groups, repeat)
    return row


def chunk_case(label: str, market: Any, account: Any, size: int = 64, compile_grouped: bool = True) -> dict[str, Any]:
    """Chunks of ``size``: the most groups a chunk touches, and the chunk circuits' constraints."""
    from zksolv.prover.chunks import chunk_groups_touched
    from zksolv.prover.prove import groups_for
    from zksolv.toolchain.circuitgen import ChunkTier

    touched = chunk_groups_touched(account, market, size)
    groups = groups_for(market, touched, size)
    plain = ChunkTier.for_market(market, size)
    row = {"case": label, "kind": "chunk", "instruments": len(market.instruments), "depth": market.tree_depth,
           "positions": len(account.positions), "capacity": size, "groups_touched": touched, "G": groups,
           "plain": {"circuit": plain.name, "constraints": _constraints(plain)}, "grouped": None}
    if groups and compile_grouped:
        grouped = ChunkTier.for_market(market, size, groups)
        row["grouped"] = {"circuit": grouped.name, "constraints": _constraints(grouped)}
    return row


def cases(quick: bool, repeat: int) -> list[dict[str, Any]]:
    from bench_chunked import _account as ladder_account
    from bench_chunked import _market as ladder_market
    from bench_shared_openings import mm_book
    from zksolv.app.demo import demo_market

    demo = _venue(demo_market(n_strikes=3, n_expiries=1), (4, 16), chunk_size=8)
    rows = [tier_case("demo 12 clustered", demo, list(range(3, 15)), 16, repeat)]
    if quick:
        return rows
    bench = _venue(demo_market(n_strikes=(4096 // 2 - 4) // 4, n_expiries=2), (4, 16, 64))
    book = mm_book(bench)
    rows.append(tier_case("mm64 tier", bench, book, 64, repeat))
    rows.append(chunk_case("mm64 chunk", bench, _account(bench, book)))
    for n in (10_000, 1_024):
        market = ladder_market(max(n, 3780), 64, (1,))
        market = _venue(market, (4, 16, 64))
        rows.append(chunk_case(f"ladder {n:,} chunks", market, ladder_account(market, n)))
    return rows


def table_md(rows: list[dict[str, Any]]) -> str:
    head = ("| case | instruments, depth | positions | circuit | groups touched | G | plain constraints (per pos.) "
            "| grouped constraints (per pos.) | saved per pos. | prove s plain → grouped |\n"
            "|---|---|---:|---|---:|---:|---:|---:|---:|---|\n")
    out = []
    for r in rows:
        n, p, g = r["capacity"], r["plain"], r["grouped"]
        plain = f"{p['constraints']:,} ({p['constraints'] / n:,.1f})"
        grouped = f"{g['constraints']:,} ({g['constraints'] / n:,.1f})" if g else "– (none pays)"
        saved = f"{(p['constraints'] - g['constraints']) / n:,.1f}" if g else "–"
        prove = (f"{p['prove_s']['median']} → {g['prove_s']['median']}" if g and "prove_s" in p else "–")
        out.append(f"| {r['case']} | {r['instruments']:,}, {r['depth']} | {r['positions']:,} | "
                   f"{'tier' if r['kind'] == 'tier' else 'chunk'} {n} | {r['groups_touched']} | {r['G'] or '–'} | "
                   f"{plain} | {grouped} | {saved} | {prove} |")
    return head + "\n".join(out) + "\n"


def plot(rows: list[dict[str, Any]], out: Path, stem: str) -> list[str]:
    """Constraints per position, plain against grouped, per case (PNG + SVG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from bench_proving import save_figure

    fig, ax = plt.subplots(figsize=(max(6.0, 2.2 * len(rows)), 4.6), dpi=110)
    xs = range(len(rows))
    plain = [r["plain"]["constraints"] / r["capacity"] for r in rows]
    grouped = [(r["grouped"]["constraints"] / r["capacity"]) if r["grouped"] else 0 for r in rows]
    ax.bar([x - 0.2 for x in xs], plain, width=0.4, label="a path per position")
    ax.bar([x + 0.2 for x in xs], grouped, width=0.4, label="grouped openings (G groups of 8)")
    for x, r in zip(xs, rows):
        ax.text(x + 0.2, grouped[x], f"G={r['G']}" if r["grouped"] else "none pays", ha="center", va="bottom",
                fontsize=8)
    ax.set_xticks(list(xs), [f"{r['case']}\n({r['groups_touched']} groups touched)" for r in rows], fontsize=8)
    ax.set_ylabel("constraints per position slot (whole circuit / capacity)")
    ax.set_title("Grouped openings: constraints per position, plain vs grouped circuit", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, out, stem)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from bench_proving import machine_info
    from zksolv.core.atomic import atomic_write_text

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the demo case only (CI)")
    ap.add_argument("--repeat", type=int, default=3, help="timed proofs per one-circuit design (0: counts only)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    started = time.perf_counter()
    rows = cases(args.quick, 1 if args.quick else args.repeat)
    stem = "grouped_openings_quick" if args.quick else "grouped_openings"
    data = {"benchmark": "grouped openings: constraints and prove time", "machine": machine_info(),
            "group_counts_accepted": list(GROUP_COUNTS), "cases": rows,
            "duration_s": round(time.perf_counter() - started, 1)}
    md = table_md(rows)
    print(md)
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / f"{stem}.json", json.dumps(data, indent=1) + "\n")
    atomic_write_text(args.out / f"{stem}.md", md)
    plot(rows, args.out, stem)
    return data


if __name__ == "__main__":
    main()
