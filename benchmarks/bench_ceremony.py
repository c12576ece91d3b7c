"""What a venue's phase-2 ceremony costs per step (``zksolv ceremony``, docs/ceremony.md).

    python benchmarks/bench_ceremony.py --market M.json --ptau FILE [--chunks] [--out results/ceremony.json]

Times, on this machine, ``init`` (compile is cached: run ``zksolv setup`` or a first init
before timing; the figure is ``zkey new`` per circuit), one ``contribute``, the ``beacon``,
``verify`` (recompile cached; the whole-chain ``zkey verify`` per circuit) and ``finalize``,
and records each circuit's constraints and the ptau power it needs. Default: the smallest
market the test suite uses (tests/test_ceremony.py, one tier, one chunk size, final) on a
2^13 development ptau from the cache.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from zksolv.core.market import MarketState
    from zksolv.toolchain import ceremony as cer
    from zksolv.toolchain.trusted_setup import dev_powers_of_tau

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--market", type=Path, help="market JSON (default: the test suite's smallest market)")
    parser.add_argument("--ptau", type=Path, help="prepared ptau (default: the cached 2^13 development file)")
    parser.add_argument("--chunks", action="store_true", help="include the chunk and final circuits")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "ceremony.json")
    args = parser.parse_args(argv)
    if args.market is None:
        from tests.test_ceremony import small_market

        state, args.chunks = small_market(), True
    else:
        state = MarketState.load(args.market)
    ptau = args.ptau or dev_powers_of_tau(13)
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder, keys = Path(tmp) / "ceremony", Path(tmp) / "KEYS"
        started = time.perf_counter()
        result = cer.init(state, ptau, folder, chunks=args.chunks)
        times["init"] = time.perf_counter() - started
        for step, run in (("contribute", lambda: cer.contribute(folder, "bench")),
                          ("beacon", lambda: cer.beacon(folder, "ab" * 32, 10)),
                          # the default dev ptau is not a published file: waived (the timing is the same)
                          ("verify", lambda: cer.verify(folder, state, allow_unpublished_ptau=args.ptau is None)),
                          ("finalize", lambda: cer.finalize(folder, keys))):
            started = time.perf_counter()
            out = run()
            times[step] = time.perf_counter() - started
            if step == "verify" and not out.valid:
                raise SystemExit(f"verify failed: {out.failures}")
        sizes = {p.name: p.stat().st_size for p in sorted(keys.glob("*.zkey"))}
    circuits = [{"name": c["name"], "constraints": c["constraints"]} for c in result.transcript["circuits"]]
    need = max(c["constraints"] for c in circuits) + 5
    record = {"circuits": circuits, "ptau_power": result.transcript["ptau"]["power"],
              "ptau_power_needed": need.bit_length(), "seconds": {k: round(v, 1) for k, v in times.items()},
              "zkey_bytes": sizes}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
