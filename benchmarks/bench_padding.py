"""What size privacy costs: chunk-count buckets against padding, for the default policy and alternatives (issue 27).

A venue accepts only some chunk counts (``zksolv/core/venue.py``); a chunked book is padded with
empty chunks up to the next accepted count, and a keeper learns which count it was. For chunk
counts from 2 to 1,024 spaced by the ratio ``2^(1/S)`` (S = 1: powers of two, the default before
issue 27; S = 4: the default now) this prints, per range of book sizes:

- **buckets** a book in the range can fall in, and **bits** = log2(buckets): what a keeper learns
  about a book it only knows to lie in the range;
- **worst** and **mean padding**: chunk proofs proven over chunk proofs needed (mean over every
  book size in the range). It bounds the proving time's ratio from above: the final proof, the
  planning and the fixed start-up are not padded (``bench_chunked.py`` measures the whole process,
  padded and unpadded).

Padding ratios are exact counts, not timings, so this runs in a second:

    python benchmarks/bench_padding.py                      # S = 1, 2, 4, 8; 1,000-10,000 and 65-65,536
    python benchmarks/bench_padding.py --steps 3,4,6 --ranges 1000-10000

Prints a table, writes ``benchmarks/results/padding.json`` and ``padding.md``, draws ``padding.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))

from zksolv.core.atomic import atomic_write_text  # noqa: E402
from zksolv.core.venue import (DEFAULT_POLICY, DEFAULT_STEPS_PER_DOUBLING, VenuePolicy,  # noqa: E402
                               geometric_counts, padding_profile)


def policy_for(steps: int) -> VenuePolicy:
    """The default policy with chunk counts 2..1,024 spaced by 2^(1/steps)."""
    return dataclasses.replace(DEFAULT_POLICY, chunk_counts=geometric_counts(steps)).validated()


def rows(steps: list[int], ranges: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """One row per (policy, range): the :class:`~zksolv.core.venue.PaddingProfile` as a dict."""
    out = []
    for s in steps:
        policy = policy_for(s)
        for low, high in ranges:
            out.append({"steps_per_doubling": s, "ratio": round(2 ** (1 / s), 4), "default": s == DEFAULT_STEPS_PER_DOUBLING,
                        "chunk_counts": len(policy.chunk_counts), **padding_profile(policy, low, high).to_dict()})
    return out


def table_md(table: list[dict[str, Any]]) -> str:
    head = ("| chunk counts (2..1,024) | positions | buckets | bits | worst padding (at) | mean padding |\n"
            "|---|---|---:|---:|---:|---:|\n")
    body = []
    for r in table:
        name = f"ratio 2^(1/{r['steps_per_doubling']}) = {r['ratio']}, {r['chunk_counts']} counts"
        if r["default"]:
            name = f"**{name} (default)**"
        low, high = r["positions"]
        body.append(f"| {name} | {low:,}–{high:,} | {r['buckets']} | {r['bits']:.2f} | "
                    f"{r['worst_padding']:.3f} ({r['worst_at']:,}) | {r['mean_padding']:.3f} |")
    return head + "\n".join(body) + "\n"


def plot(steps: list[int], low: int, high: int, out: Path) -> Path:
    """Padding (chunk proofs proven / needed) against book size, one step line per policy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.2))
    for s in steps:
        policy = policy_for(s)
        xs = list(range(max(low, policy.tiers[-1] + 1), high + 1, max(1, (high - low) // 2000)))
        label = f"2^(1/{s}): {padding_profile(policy, low, high).bits:.2f} bits" + (" (default)" if
                                                                                  s == DEFAULT_STEPS_PER_DOUBLING else "")
        ax.plot(xs, [policy.padding(n).ratio for n in xs], label=label, linewidth=1.8 if s == 4 else 1.0)
    ax.axhline(1.25, color="grey", linestyle=":", label="1.25x (issue 27's target at 10,000)")
    ax.set(xlabel="positions in the book (chunks of 64)", ylabel="chunk proofs proven / needed",
           title="what size privacy costs: padding to the venue's chunk-count buckets")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = out / "padding.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", default="1,2,4,8", help="steps per doubling of the chunk counts to compare")
    ap.add_argument("--ranges", default="1000-10000,65-65536", help="ranges of book sizes (positions)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    steps = [int(s) for s in args.steps.split(",")]
    ranges = [tuple(int(x) for x in r.split("-")) for r in args.ranges.split(",")]
    table = rows(steps, ranges)  # type: ignore[arg-type]
    args.out.mkdir(parents=True, exist_ok=True)
    data = {"label": "padding", "chunk_size": DEFAULT_POLICY.chunk_size, "rows": table}
    atomic_write_text(args.out / "padding.json", json.dumps(data, indent=1) + "\n")
    atomic_write_text(args.out / "padding.md", table_md(table))
    if not args.no_plot:
        plot(steps, *ranges[0], args.out)
    print(table_md(table))
    return data


if __name__ == "__main__":
    main()
