"""One ladder: proof time against portfolio size, every design side by side (issue 26, item 4).

Books of 1, 4, 16, 64, 256, 1,024, 4,096 and 10,000 distinct positions on **one market family**
(``bench_chunked._market``: the demo chain, 3,780 instruments for every book it holds, more expiries
for larger books), one row per (size, design):

- ``baseline``: the naive design of ``bench_baseline.py`` (binary Poseidon tree, one Poseidon per
  position, node witness + snarkjs). Its prove time is the Python inputs + the node witness process
  + the ``snarkjs groth16 prove`` process; snarkjs needs a cached dev powers of tau that fits
  (``--ptau-max-power``), otherwise its time is *estimated* from arkworks on the same naive circuit
  times the snarkjs/arkworks ratio of the largest point that fit (this run's, else
  ``results/baseline.json``'s) and the row says ``estimated``. Peak RSS is arkworks' on the naive
  circuit (snarkjs' is not measured). No keeper path exists for it (verify not timed). Up to
  ``--baseline-max`` positions (one circuit: compiling it beyond that takes many minutes).
- ``single``: zksolv in one circuit, the smallest tier that holds the book (``--single-max``).
- ``pool``: zksolv in chunks of ``--chunk-size`` on the local process pool (``--workers``).
- ``resident``: the same chunks on the resident prover (``zksolv prover``: a daemon started for
  the size, warmed by one proof so its keys are loaded, then timed: ``bench_chunked._resident_runs``).
- ``ray``: the same chunks on a Ray cluster the prove starts locally (``--ray local``; the time
  includes starting Ray; peak RSS counts the processes the prover waits for, not Ray's own).
- ``grouped``: the local pool under a venue that also accepts grouped circuits (``venue.groups`` =
  ``bench_grouped_openings.GROUP_COUNTS``): the prover opens each chunk's leaves through the
  smallest listed count of groups of 8 that holds every chunk when that is cheaper (docs/design.md,
  "Grouped openings"), else proves exactly as ``pool``. Not in the default designs (run it with
  ``--designs grouped``).

Columns: constraints (chunked: every chunk proven plus the final circuit), ``zksolv prove`` wall time
as a whole process, its peak RSS (the process and the workers it waits for; the resident prover's
daemon counted), and the keeper's check as a whole ``zksolv verify`` process.

**Venue policy.** Every chunked figure is under the default policy's chunk counts
(``zksolv.core.venue.DEFAULT_POLICY``): the prove pads the book with empty chunks to the next
accepted count, and each row records ``chunks_needed`` and ``chunks_padded`` (the count read back
from the proof's statement). One-circuit rows are under the default tiers.

Sizes above ``--max-positions`` (default 1,024) are not re-measured: the local pool's figures come
from ``results/chunked.json`` (``bench_chunked.py``: ``prove_default_s`` where measured, else
``prove_w2_s`` when the book needs exactly an accepted count; ``peak_rss_w2_mib``,
``verify_process_s``) and the row says ``from chunked.json``.

    python benchmarks/bench_ladder.py                                  # the full ladder
    python benchmarks/bench_ladder.py --positions 1024 --designs ray --append   # one more row
    python benchmarks/bench_ladder.py --quick                          # CI-sized, about a minute
    python benchmarks/bench_ladder.py --replot benchmarks/results/ladder.json

Prints a markdown table, writes ``results/ladder.json`` and ``ladder.md`` (the summary, one line per
size and a column per design, then every row; atomically, after every
row: a stopped run keeps what it measured; ``--append`` keeps the other rows of an earlier run) and
draws ``ladder.png`` (prove time against positions, log-log, one line per design).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
for _p in (ROOT, HERE):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from bench_chunked import _account, _market, _resident_runs, _run  # noqa: E402

DESIGNS = ("baseline", "single", "pool", "resident", "ray", "grouped")
#: The designs a run measures unless ``--designs`` says otherwise.
DEFAULT_DESIGNS = ("baseline", "single", "pool", "resident", "ray")
LABELS = {"baseline": "naive baseline (binary tree, snarkjs)", "single": "zksolv one circuit",
          "pool": "zksolv chunked, local pool", "resident": "zksolv chunked, resident prover",
          "ray": "zksolv chunked, Ray (local cluster)", "grouped": "zksolv chunked, grouped openings (local pool)"}
ALL_TIERS = (4, 16, 64, 256, 1024)


@dataclasses.dataclass
class Size:
    """One rung: the market, the account and their files."""

    positions: int
    market: Any
    account: Any
    folder: Path

    @property
    def market_json(self) -> str:
        return str(self.folder / "market.json")

    @property
    def account_json(self) -> str:
        return str(self.folder / "account.json")


def ladder_policy(chunk_size: int, tiers_up_to: int) -> Any:
    """The default venue policy (its tiers and chunk counts), plus the tiers 256 and 1,024 when one-circuit
    rows go that far, and ``chunk_size`` as the only chunk size when the default does not accept it (``--quick``)."""
    from zksolv.core.venue import DEFAULT_POLICY, VenuePolicy

    tiers = tuple(t for t in ALL_TIERS if t in DEFAULT_POLICY.tiers or t <= tiers_up_to)
    sizes = DEFAULT_POLICY.chunk_sizes if chunk_size in DEFAULT_POLICY.chunk_sizes else (chunk_size,)
    return VenuePolicy(tiers=tiers, chunk_sizes=sizes, chunk_counts=DEFAULT_POLICY.chunk_counts).validated()


def make_size(n: int, args: argparse.Namespace, policy: Any, work: Path, markets: dict[int, Any]) -> Size:
    """The market of the family that holds ``n`` positions (built once per instrument count) and an account."""
    target = max(min(args.market_size, 3780), n)
    if target not in markets:
        markets[target] = dataclasses.replace(_market(target, args.chunk_size, policy.chunk_counts),
                                              venue=policy).validated()
    market = markets[target]
    folder = work / f"p{n}"
    folder.mkdir(parents=True, exist_ok=True)
    account = _account(market, n)
    market.save(folder / "market.json")
    account.save(folder / "account.json")
    return Size(n, market, account, folder)


def _verify_s(proof: Path, market_json: str, env: dict[str, str]) -> float:
    dt, _, _ = _run(["verify", "--proof", str(proof), "--market", market_json, "--dev-key", "--json"], env)
    return round(dt, 2)


def _grouped_market(size: Size) -> tuple[Any, str]:
    """The size's market under a venue that also lists group counts, and its file."""
    from bench_grouped_openings import GROUP_COUNTS

    market = dataclasses.replace(size.market, venue=dataclasses.replace(size.market.venue, groups=GROUP_COUNTS))
    path = size.folder / "market_grouped.json"
    market.validated().save(path)
    return market, str(path)


def row_single(size: Size, args: argparse.Namespace, env: dict[str, str], row: dict[str, Any]) -> None:
    """zksolv in one circuit: the smallest tier of the policy that holds the book."""
    from zksolv.toolchain.artifacts import build_artifacts
    from zksolv.toolchain.circuitgen import Tier

    capacity = size.market.venue.tier_for(size.positions)
    tier = Tier.for_market(size.market, capacity)
    t = time.perf_counter()
    row["constraints"] = build_artifacts(tier, "dev").circuit.n_constraints
    row["build_s"] = round(time.perf_counter() - t, 2)
    row["tier"] = capacity
    proof = size.folder / "proof_single"
    dt, rss, _ = _run(["prove", "--account", size.account_json, "--market", size.market_json, "--positions",
                       str(capacity), "--resident", "off", "--out", str(proof), "--json"], env)
    row["prove_s"], row["peak_rss_mib"] = round(dt, 2), round(rss / 1024, 1)
    row["verify_s"] = _verify_s(proof, size.market_json, env)


def row_chunked(size: Size, args: argparse.Namespace, env: dict[str, str], row: dict[str, Any], work: Path) -> None:
    """zksolv in chunks under the policy's chunk counts, on the design's engine."""
    from zksolv.core.venue import chunks_needed
    from zksolv.proofs.statement import Statement
    from zksolv.toolchain.artifacts import build_artifacts
    from zksolv.toolchain.circuitgen import ChunkTier, FinalTier

    design, cs = row["design"], args.chunk_size
    market, market_json = _grouped_market(size) if design == "grouped" else (size.market, size.market_json)
    needed, padded = chunks_needed(size.positions, cs), market.venue.padding(size.positions, cs).padded
    row.update(chunk_size=cs, chunks_needed=needed, chunks_padded=padded)
    groups = 0
    if design == "grouped":
        from zksolv.prover.chunks import chunk_groups_touched
        from zksolv.prover.prove import groups_for

        touched = chunk_groups_touched(size.account, market, cs)
        groups = groups_for(market, touched, cs)
        row.update(groups_touched=touched, groups=groups)
    t = time.perf_counter()
    for label, shape in (("chunk", ChunkTier.for_market(market, cs, groups)), ("final", FinalTier.for_market(market))):
        row[f"{label}_constraints"] = build_artifacts(shape, "dev").circuit.n_constraints
    row["build_s"] = round(time.perf_counter() - t, 2)
    row["constraints"] = padded * row["chunk_constraints"] + row["final_constraints"]
    base = ["prove", "--account", size.account_json, "--market", market_json, "--chunk-size", str(cs), "--json"]
    if design == "resident":
        point: dict[str, Any] = {}
        _resident_runs(point, base, size.folder, work, env)
        proof = size.folder / "proof_resident"
        row["prove_s"], row["prove_first_s"] = point["prove_resident_s"], point["prove_resident_first_s"]
        row["peak_rss_client_mib"] = point["peak_rss_resident_client_mib"]
        row["peak_rss_daemon_mib"] = point["peak_rss_resident_daemon_mib"]
        row["peak_rss_mib"] = max(row["peak_rss_client_mib"], row["peak_rss_daemon_mib"])
    else:
        proof = size.folder / f"proof_{design}"
        engine = ["--ray", "local"] if design == "ray" else ["--workers", str(args.workers)]
        dt, rss, _ = _run([*base, *engine, "--resident", "off", "--out", str(proof)], env)
        row["prove_s"], row["peak_rss_mib"] = round(dt, 2), round(rss / 1024, 1)
        if design != "ray":
            row["workers"] = args.workers
    statement = Statement.load(proof / "statement.json")
    if statement.n_chunks != padded:
        raise RuntimeError(f"{design}: the proof has {statement.n_chunks} chunks, the policy pads {needed} to {padded}")
    if statement.groups != groups:
        raise RuntimeError(f"{design}: the proof's chunks open through {statement.groups} groups, expected {groups}")
    row["verify_s"] = _verify_s(proof, market_json, env)


def row_baseline(size: Size, args: argparse.Namespace, env: dict[str, str], row: dict[str, Any], work: Path,
                 rows: list[dict[str, Any]]) -> None:
    """The naive baseline (``bench_baseline.bench_book``); snarkjs estimated where no powers of tau fits."""
    from bench_baseline import bench_book, naive_total_s

    res = bench_book(f"n{size.positions}", size.market, size.account, 1, args.ptau_max_power, work / f"baseline{size.positions}")
    row["constraints"], row["constraints_zksolv"] = res["constraints_naive"], res["constraints_zksolv"]
    row["baseline"] = {k: res[k] for k in ("tier", "ptau_power", "inputs_python_s", "witness_node_s", "prove_arkworks_s",
                                            "prove_snarkjs_s") if k in res}
    row["notes"] += res["notes"]
    if "prove_snarkjs_s" not in res:
        ratio, source = _snarkjs_ratio(rows)
        if ratio is None:
            raise RuntimeError("baseline: snarkjs not run and no measured snarkjs/arkworks ratio to estimate it from")
        res["prove_snarkjs_estimated_s"] = round(res["prove_arkworks_s"]["median"] * ratio, 2)
        row["source"] = "estimated"
        row["notes"].append(f"snarkjs time estimated: arkworks x {ratio:.2f} (the snarkjs/arkworks ratio of {source})")
    row["prove_s"] = round(naive_total_s(res, res["inputs_python_s"]), 2)
    row["peak_rss_mib"] = res["peak_rss_arkworks_mib"]
    row["notes"].append("prove = Python inputs + node witness process + snarkjs prove process; peak RSS is arkworks' "
                        "on the naive circuit; no keeper path (verify not timed)")


def _snarkjs_ratio(rows: list[dict[str, Any]]) -> tuple[float | None, str]:
    """snarkjs/arkworks on the largest naive circuit snarkjs proved: this run's rows, else baseline.json."""
    mine = [(r["constraints"], r["baseline"]) for r in rows
            if r["design"] == "baseline" and "prove_snarkjs_s" in r.get("baseline", {})]
    if mine:
        _, b = max(mine, key=lambda x: x[0])
        return b["prove_snarkjs_s"]["median"] / b["prove_arkworks_s"]["median"], "this run's largest measured point"
    path = RESULTS / "baseline.json"
    if path.exists():
        pts = [p for p in json.loads(path.read_text())["points"] if "prove_snarkjs_s" in p]
        if pts:
            p = max(pts, key=lambda p: p["constraints_naive"])
            return (p["prove_snarkjs_s"]["median"] / p["prove_arkworks_s"]["median"],
                    f"results/baseline.json point {p['point']!r}")
    return None, ""


def row_from_chunked(n: int, design: str, args: argparse.Namespace, row: dict[str, Any]) -> None:
    """A size above --max-positions: the local pool's figures from results/chunked.json, not re-measured."""
    from zksolv.core.venue import DEFAULT_POLICY, chunks_needed

    if design != "pool" or args.quick:
        row["skipped"] = f"above --max-positions {args.max_positions}: not measured (chunked.json has the local pool only)"
        return
    path = RESULTS / "chunked.json"
    p = next((p for p in json.loads(path.read_text())["points"] if p["positions"] == n), None) if path.exists() else None
    if p is None or p.get("chunk_size") != args.chunk_size:
        row["skipped"] = f"above --max-positions {args.max_positions} and not in results/chunked.json"
        return
    needed = chunks_needed(n, args.chunk_size)
    padded = DEFAULT_POLICY.chunks_for(needed, args.chunk_size)
    row.update(source="from chunked.json", instruments=p["instruments"], tree_depth=p["tree_depth"],
               chunk_size=args.chunk_size, chunks_needed=needed, chunks_padded=padded,
               chunk_constraints=p["chunk_constraints"], final_constraints=p["final_constraints"],
               constraints=padded * p["chunk_constraints"] + p["final_constraints"],
               workers=p.get("default_workers", 2), peak_rss_mib=p["peak_rss_w2_mib"], verify_s=p["verify_process_s"])
    if p.get("prove_default_s") is not None and p.get("chunks_default_policy") != padded:
        row.pop("constraints")
        row["skipped"] = (f"chunked.json's default-policy run padded to {p.get('chunks_default_policy')} chunks, "
                          f"the default policy now pads {needed} to {padded}")
    elif p.get("prove_default_s") is not None:
        row["prove_s"] = p["prove_default_s"]
        row["notes"].append(f"prove_default_s of chunked.json (padded {needed} -> {p.get('chunks_default_policy')}); "
                            "peak RSS and verify of its unpadded run")
    elif padded == needed:
        row["prove_s"] = p["prove_w2_s"]
        row["notes"].append(f"prove_w2_s of chunked.json: {needed} chunks is an accepted count (no padding)")
    else:
        row.pop("constraints")
        row["skipped"] = f"chunked.json has only the unpadded figure ({needed} chunks; the default policy pads to {padded})"


def bench_row(n: int, design: str, size: Size | None, args: argparse.Namespace, env: dict[str, str], work: Path,
              rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One (size, design) row: measured, taken from chunked.json, or skipped with the reason."""
    row: dict[str, Any] = {"positions": n, "design": design, "source": "measured", "notes": []}
    limit = {"baseline": ("--baseline-max", args.baseline_max), "single": ("--single-max", args.single_max)}.get(design)
    if limit is not None and n > limit[1]:
        row["skipped"] = f"above {limit[0]} {limit[1]} (one circuit: compiling larger tiers takes many minutes)"
        return row
    if n > args.max_positions:
        row_from_chunked(n, design, args, row)
        return row
    assert size is not None
    row.update(instruments=len(size.market.instruments), tree_depth=size.market.tree_depth)
    try:
        if design == "single":
            row_single(size, args, env, row)
        elif design == "baseline":
            row_baseline(size, args, env, row, work, rows)
        else:
            row_chunked(size, args, env, row, work)
    except Exception as exc:  # noqa: BLE001 - a benchmark row: record it, keep the other rows
        row["error"] = f"{type(exc).__name__}: {str(exc)[-400:]}"
    return row


# ----------------------------------------------------------------------------- output
def _cell(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table_md(rows: list[dict[str, Any]]) -> str:
    """One line per (size, design): positions, design, venue policy shape, the four columns, source."""
    head = ("| positions | design | instruments | chunks needed → padded | constraints | prove s | peak RSS MiB "
            "| zksolv verify s | source |\n|---:|---|---:|---:|---:|---:|---:|---:|---|\n")
    lines = []
    for r in rows:
        shape = (f"{r['chunks_needed']} → {r['chunks_padded']} of {r['chunk_size']}" if "chunks_needed" in r
                 else f"tier {r['tier']}" if "tier" in r else "–")
        source = r.get("skipped") or (f"error: {r['error']}" if "error" in r else r["source"])
        lines.append("| " + " | ".join([_cell(r["positions"]), LABELS[r["design"]], _cell(r.get("instruments")), shape,
                                        _cell(r.get("constraints")), _cell(r.get("prove_s")),
                                        _cell(r.get("peak_rss_mib")), _cell(r.get("verify_s")),
                                        source.replace("|", "/")]) + " |")
    return head + "\n".join(lines) + "\n"


def plot(rows: list[dict[str, Any]], out: Path, name: str = "ladder") -> Path:
    """Prove time against positions, log-log, one line per design (hollow markers: estimated or not re-measured)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for design in DESIGNS:
        pts = sorted((r["positions"], r["prove_s"], r["source"]) for r in rows
                     if r["design"] == design and r.get("prove_s") is not None)
        if not pts:
            continue
        (line,) = ax.plot([p[0] for p in pts], [p[1] for p in pts], label=LABELS[design])
        for x, y, source in pts:
            ax.plot([x], [y], marker="o", color=line.get_color(),
                    markerfacecolor=line.get_color() if source == "measured" else "white")
    ax.set(xscale="log", yscale="log", xlabel="positions", ylabel="prove, whole process (s)",
           title="proof time vs portfolio size (hollow: estimated or from chunked.json)")
    plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")  # 1, 10, 100 s rather than 10^0
    low, high = ax.get_ylim()
    for axis, minor in ((ax.xaxis, False), (ax.yaxis, high / low < 10)):  # under a decade: label the minor ticks
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(plain if minor else matplotlib.ticker.NullFormatter())
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    path = out / f"{name}.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def summary_md(rows: list[dict[str, Any]]) -> str:
    """The ladder at a glance: one line per size, one column per design, ``prove s / peak RSS MiB``
    (``*`` taken from chunked.json, ``est.`` an estimated time, ``–`` not measured)."""
    cells: dict[tuple[int, str], str] = {}
    for r in rows:
        if r.get("prove_s") is None:
            continue
        mark = {"from chunked.json": "*", "estimated": " est."}.get(r["source"], "")
        cells[(r["positions"], r["design"])] = f"{r['prove_s']:.1f}{mark} / {r['peak_rss_mib']:,.0f}"
    designs = [d for d in DESIGNS if any(r["design"] == d for r in rows)]
    lines = ["| positions | " + " | ".join(LABELS[d] for d in designs) + " |", "|---:|" + "---:|" * len(designs)]
    for n in sorted({r["positions"] for r in rows}):
        lines.append(f"| {n:,} | " + " | ".join(cells.get((n, d), "–") for d in designs) + " |")
    return "\n".join(lines) + "\n"


def _write(rows: list[dict[str, Any]], meta: dict[str, Any], path: Path) -> dict[str, Any]:
    from zksolv.core.atomic import atomic_write_text

    data = {**meta, "rows": rows}
    atomic_write_text(path, json.dumps(data, indent=1) + "\n")
    atomic_write_text(path.with_suffix(".md"), "prove s / peak RSS MiB (* from chunked.json, est. estimated)\n\n"
                      + summary_md(rows) + "\n" + table_md(rows))
    return data


def _order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r["positions"], DESIGNS.index(r["design"])))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--positions", default=None, help="comma-separated sizes (default 1,4,16,64,256,1024,4096,10000)")
    ap.add_argument("--designs", default=None, help=f"comma-separated, of {','.join(DESIGNS)} "
                    f"(default {','.join(DEFAULT_DESIGNS)})")
    ap.add_argument("--max-positions", type=int, default=1024,
                    help="measure up to this size; larger sizes come from results/chunked.json")
    ap.add_argument("--baseline-max", type=int, default=64, help="the naive baseline up to this size")
    ap.add_argument("--single-max", type=int, default=64, help="zksolv in one circuit up to this size (a tier)")
    ap.add_argument("--market-size", type=int, default=4096, help="instruments of the family (at most 3,780 "
                    "below 3,780 positions; larger books get the smallest demo market that holds them)")
    ap.add_argument("--chunk-size", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2, help="local pool processes")
    ap.add_argument("--ptau-max-power", type=int, default=15, help="the baseline's snarkjs: largest cached dev "
                    "powers of tau to use (larger circuits: snarkjs time estimated)")
    ap.add_argument("--quick", action="store_true", help="CI-sized: the tiny demo market, chunks of 8, "
                    "positions 1,4,16, designs single,pool,grouped")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--append", action="store_true", help="keep the other rows of an earlier results JSON")
    ap.add_argument("--replot", type=Path, default=None, help="redraw the plot of a results JSON")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.replot is not None:
        data = json.loads(args.replot.read_text())
        print(plot(data["rows"], args.out, args.replot.stem))
        return data
    if args.quick:
        args.market_size, args.chunk_size = 20, 8
        args.positions = args.positions or "1,4,16"
        args.designs = args.designs or "single,pool,grouped"
    positions = sorted({int(x) for x in (args.positions or "1,4,16,64,256,1024,4096,10000").split(",")})
    designs = [d for d in (args.designs or ",".join(DEFAULT_DESIGNS)).split(",") if d]
    unknown = set(designs) - set(DESIGNS)
    if unknown:
        ap.error(f"--designs: unknown {sorted(unknown)[0]!r}; choose from {','.join(DESIGNS)}")
    if min(positions) < 1:
        ap.error("--positions: every size must be at least 1")
    if args.chunk_size % 8 or not 8 <= args.chunk_size <= 1024:
        ap.error("--chunk-size: a multiple of 8 in [8, 1024]")
    policy = ladder_policy(args.chunk_size, max(args.single_max, args.baseline_max))
    name = "ladder_quick" if args.quick else "ladder"
    path = args.out / f"{name}.json"
    meta = {"label": name, "quick": args.quick, "cpu_count": os.cpu_count(), "chunk_size": args.chunk_size,
            "venue_policy": {"tiers": list(policy.tiers), "chunk_sizes": list(policy.chunk_sizes),
                             "chunk_counts": "zksolv.core.venue.DEFAULT_POLICY.chunk_counts"},
            "designs": {d: LABELS[d] for d in DESIGNS}}
    rows = json.loads(path.read_text())["rows"] if args.append and path.exists() else []
    warnings.filterwarnings("ignore", message="NOT FOR REAL FUNDS")  # dev keys: timing only, said in the README
    errors = 0
    with tempfile.TemporaryDirectory(prefix="zksolv-ladder-") as tmp:
        work = Path(tmp)
        from zksolv.prover import daemon

        env = {**os.environ, daemon.SOCKET_ENV: str(work / "no-resident.sock")}  # only our own resident prover
        env.setdefault("PYTHONWARNINGS", "ignore")
        markets: dict[int, Any] = {}
        for n in positions:
            size = make_size(n, args, policy, work, markets) if n <= args.max_positions else None
            for design in designs:
                print(f"... {n} positions: {design}", file=sys.stderr, flush=True)
                row = bench_row(n, design, size, args, env, work, rows)
                if row["source"] != "from chunked.json" and "skipped" not in row:
                    row["loadavg"] = [round(x, 2) for x in os.getloadavg()]
                errors += "error" in row
                rows = _order([r for r in rows if (r["positions"], r["design"]) != (n, design)] + [row])
                data = _write(rows, meta, path)  # after every row: a stopped run keeps what it measured
                print(table_md([row]).splitlines()[-1], file=sys.stderr, flush=True)
    plot(rows, args.out, name)
    print(table_md(rows))
    if errors:
        raise SystemExit(f"{errors} row(s) failed: see 'error' in {path}")
    return data


if __name__ == "__main__":
    main()
