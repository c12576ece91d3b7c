"""Proving benchmark: constraints, compile, setup, witness, prove, verify, memory per (mode, market, positions).

For every point (risk mode x market size x portfolio size) it builds the demo market
(:func:`zksolv.app.demo.demo_market`, two underlyings, option chain sized to the requested
instrument count) and a solvent account of ``n`` distinct positions, then measures on the
*same compiled circuit*:

* constraints (and per position), compile time (circom2 under node), dev setup time
  (groth16py) and, where the circuit fits a development powers of tau (``2^power`` with
  ``power <= --ptau-max-power``, default 14), the snarkjs phase-2 setup time;
* witness time (circom's ``generate_witness.js``, including node start-up; node's bare
  start-up is measured separately);
* prove time per backend, each in a child process whose peak RSS (``ru_maxrss`` of the
  child and of its node children) is reported: ``arkworks`` (groth16py, dev keys, every
  size), ``snarkjs`` (node, ``.zkey``) and ``arkworks-zkey`` (groth16py importing the same
  ``.zkey``: the like-for-like peer of snarkjs);
* verify time: py_ecc (the pure-Python keeper in ``verifier/``), groth16py (arkworks) and
  ``snarkjs groth16 verify``; proof size (256-byte calldata and snarkjs JSON);
* the Python reference margin computation (``zksolv.risk.model.evaluate``) for the account.

Repeated runs give median / min / max. Output: ``<out>/proving[_quick].json`` (with
machine info, load average and which setup route each point used), a markdown table
``<out>/proving[_quick].md`` and plots ``<out>/proving_{prove,constraints,verify}.{png,svg}``.

Setup routes: the arkworks numbers always use the fast single-party *development* setup
(insecure, benchmarking only) so large circuits never need a multi-hour powers of tau.
snarkjs needs a ``.zkey`` from a prepared powers of tau; this runner makes a local one
with :func:`zksolv.toolchain.trusted_setup.dev_powers_of_tau` only up to ``2^--ptau-max-power``
(prepare phase2 ~250 s at 2^14, cached afterwards) and marks larger points
``snarkjs: skipped``.

Run::

    python benchmarks/bench_proving.py --quick                # CI subset, a few minutes
    python benchmarks/bench_proving.py --positions 1,2,4,8,16 --modes stress --extra es:64:4,var:64:4
    python benchmarks/bench_proving.py                        # full grid (hours; see README)

Importable: ``run(quick=True, out=..., ...) -> dict``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = Path(__file__).resolve().parent / "results"
MODES = ("stress", "es", "var")
FULL_POSITIONS = (1, 2, 4, 8, 16, 32, 64, 128)
FULL_MARKETS = (64, 256, 1024, 4096)
QUICK_POSITIONS = (1, 2)
QUICK_MARKETS = (64,)
QUICK_MODES = ("stress",)
PROOF_CALLDATA_BYTES = 256  #: a.x, a.y, b (4 words), c.x, c.y — 8 x 32 bytes


# ----------------------------------------------------------------------------- helpers
def stats(values: Sequence[float]) -> dict[str, Any]:
    """Median and spread of repeated measurements (seconds)."""
    vals = [float(v) for v in values]
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals),
            "runs": [round(v, 6) for v in vals]}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def repeat_timed(fn: Callable[[], Any], n: int) -> tuple[dict[str, Any], Any]:
    times, out = [], None
    for _ in range(max(1, n)):
        t, out = timed(fn)
        times.append(t)
    return stats(times), out


class Progress:
    """A one-line text progress bar on stderr (no dependency): ``[####----] 3/8 label (elapsed)``."""

    def __init__(self, total: int, enabled: bool = True, width: int = 24) -> None:
        self.total, self.enabled, self.width = total, enabled, width
        self.done = 0
        self.start = time.perf_counter()

    def show(self, label: str) -> None:
        if not self.enabled:
            return
        filled = int(self.width * self.done / max(1, self.total))
        el = time.perf_counter() - self.start
        eta = f", eta {el / self.done * (self.total - self.done):.0f} s" if self.done else ""
        sys.stderr.write(f"\r[{'#' * filled}{'-' * (self.width - filled)}] {self.done}/{self.total} "
                         f"{label[:70]:<70} ({el:.0f} s{eta})")
        sys.stderr.flush()

    def step(self, label: str) -> None:
        self.show(label)

    def advance(self, label: str = "") -> None:
        self.done += 1
        self.show(label)
        if self.enabled and self.done == self.total:
            sys.stderr.write("\n")


def _entry_is_new(directory: Path, since: float) -> bool:
    """True if a cache entry directory was created after ``since`` (i.e. this call built it)."""
    try:
        return directory.stat().st_mtime >= since - 1.0
    except OSError:
        return True


def machine_info() -> dict[str, Any]:
    from zksolv import toolchain
    info: dict[str, Any] = {"platform": platform.platform(), "python": platform.python_version(),
                            "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["mem_total_gib"] = round(int(line.split()[1]) / 2**20, 1)
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str] = {}
    for mod in ("groth16py", "py_ecc", "numpy", "numba"):
        try:
            from importlib.metadata import version

            versions[mod] = version(mod)
        except Exception:  # noqa: BLE001
            pass
    try:
        versions["node"] = subprocess.run([toolchain.node_binary(), "--version"], capture_output=True,
                                          text=True, timeout=30).stdout.strip()
        versions["snarkjs"] = toolchain.snarkjs_version()
        versions["circom2"] = toolchain.circom2_version()
    except Exception:  # noqa: BLE001
        pass
    info["versions"] = versions
    info["loadavg_start"] = os.getloadavg()
    return info


# ----------------------------------------------------------------------------- inputs
def market_for(mode: str, n_instruments: int, mc_scenarios: int = 128):  # noqa: ANN201
    """Demo market with about ``n_instruments`` instruments (2 underlyings x (spot, perp, 2 futures,
    2 expiries x calls+puts on ``n_strikes``)); the demo chain caps the strikes, so 1,024 and 4,096
    give 1,008 and 2,784 instruments (tree depth 5 and 6; the row states the real count)."""
    from zksolv.app.demo import demo_market

    n_strikes = max(1, (n_instruments // 2 - 4) // 4)
    return demo_market(risk_mode=mode, n_strikes=n_strikes, n_expiries=2, mc_scenarios=mc_scenarios)


def account_for(market, n_positions: int, seed: int = 11):  # noqa: ANN001, ANN201
    """A solvent account of ``n_positions`` distinct instruments (alternating long/short, small
    sizes) with ample USDC; checked against the reference model."""
    import numpy as np

    from zksolv.core import fixedpoint as fp
    from zksolv.core.account import Account, Position
    from zksolv.app.demo import demo_salt
    from zksolv.risk.model import evaluate

    if n_positions > len(market.instruments):
        raise ValueError(f"{n_positions} positions > {len(market.instruments)} instruments")
    rng = np.random.default_rng([seed, n_positions])
    picks = sorted(int(i) for i in rng.choice(len(market.instruments), size=n_positions, replace=False))
    positions = []
    for j, idx in enumerate(picks):
        ins = market.instruments[idx]
        size = 0.1 if ins.underlying == 0 else 1.0  # BTC, ETH
        positions.append(Position(ins.symbol, int(round(size * (1 if j % 2 == 0 else -1) * fp.QTY_SCALE))))
    account = Account(positions=tuple(positions), collateral={"USDC": 5_000_000 * fp.QTY_SCALE},
                      salt=demo_salt(seed, f"bench{n_positions}")).validated(market)
    result = evaluate(market, account.position_slots(market), account.balances(market))
    if not result.solvent:
        raise RuntimeError("benchmark account is not solvent")
    return account


# ----------------------------------------------------------------------------- child prover
def _own_peak_rss_kib() -> int:
    """Peak RSS of this process's own address space (KiB).

    ``getrusage(RUSAGE_SELF).ru_maxrss`` is not it on Linux: the kernel carries the
    high-water mark of the pre-``exec`` image over, so a child forked from a large
    benchmark parent reports the parent's size. ``VmHWM`` belongs to the new image only.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _child_main(spec_json: str) -> None:
    """Runs in a fresh interpreter: load the proving key, prove ``repeat`` times, report times and peak RSS."""
    spec = json.loads(spec_json)
    from zksolv.prover.backends import get_backend
    from zksolv.toolchain.trusted_setup import KeyPair

    kp = spec["keys"]
    keys = KeyPair(route=kp["route"], directory=Path(kp["directory"]), verification_key=Path(kp["verification_key"]),
                   n_public=kp["n_public"], zkey=Path(kp["zkey"]) if kp.get("zkey") else None,
                   arkworks_pk=Path(kp["arkworks_pk"]) if kp.get("arkworks_pk") else None,
                   insecure=kp["insecure"], n_wires=kp.get("n_wires"))
    backend = get_backend(spec["backend"])
    load_s = None
    if spec["backend"] == "arkworks":
        load_s, _ = timed(lambda: backend._proving_key(keys))  # noqa: SLF001 — separate key loading from proving
    times, proof = [], None
    for _ in range(spec["repeat"]):
        t, proof = timed(lambda: backend.prove(keys, Path(spec["wtns"])))
        times.append(t)
    assert proof is not None
    Path(spec["proof_out"]).write_text(json.dumps({"proof": proof.proof, "public": proof.public_signals}))
    own = _own_peak_rss_kib()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"load_s": load_s, "prove_s": times, "rss_self_kib": own, "rss_children_kib": kids}))


def prove_in_child(backend: str, keys: Any, wtns: Path, repeat: int, proof_out: Path) -> dict[str, Any]:
    """Prove in a child Python process; returns its timings and peak RSS (MiB, max of python and node)."""
    kp = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(keys).items()}
    spec = {"backend": backend, "keys": kp, "wtns": str(wtns), "repeat": repeat, "proof_out": str(proof_out)}
    proc = subprocess.run([sys.executable, "-W", "ignore", str(Path(__file__).resolve()), "--_child", json.dumps(spec)],
                          capture_output=True, text=True, timeout=6 * 3600, cwd=str(ROOT))
    if proc.returncode != 0:
        raise RuntimeError(f"{backend} prover child failed: {proc.stderr.strip()[-800:]}")
    rep = json.loads(proc.stdout.strip().splitlines()[-1])
    rss = max(rep["rss_self_kib"], rep["rss_children_kib"]) / 1024
    out = json.loads(proof_out.read_text())
    return {"prove_s": stats(rep["prove_s"]), "key_load_s": rep["load_s"], "peak_rss_mib": round(rss, 1),
            "rss_python_mib": round(rep["rss_self_kib"] / 1024, 1),
            "rss_node_mib": round(rep["rss_children_kib"] / 1024, 1), "proof": out["proof"], "public": out["public"]}


# ----------------------------------------------------------------------------- setup helpers
def dev_ptau_cached(power: int) -> Path | None:
    """The cached development ptau of ``power`` if it exists (same key as ``dev_powers_of_tau``)."""
    from zksolv.toolchain.cache import ArtifactCache, content_key
    from zksolv.toolchain import snarkjs_version

    try:
        entry = ArtifactCache().lookup("ptau", content_key("dev-ptau", "bn128", power, snarkjs_version()))
    except Exception:  # noqa: BLE001
        return None
    return entry / f"pot{power}_final.ptau" if entry else None


def ptau_power_for(n_constraints: int, n_public: int) -> int:
    need = n_constraints + n_public + 1
    return max(1, (need - 1).bit_length())


def node_startup_s(repeat: int) -> dict[str, Any]:
    from zksolv import toolchain
    node = toolchain.node_binary()
    return repeat_timed(lambda: subprocess.run([node, "-e", "0"], check=True), repeat)[0]


_PHASES_JS = r"""
const snarkjs = require(process.argv[1] + "/node_modules/snarkjs");
const t0 = Date.now(); const marks = [["start", 0]];
const log = (m) => marks.push([String(m), Date.now() - t0]);
const logger = {debug: log, info: log, warn: log, error: log};
snarkjs.groth16.prove(process.argv[2], process.argv[3], logger).then(() => {
  marks.push(["end", Date.now() - t0]); console.log(JSON.stringify(marks)); process.exit(0);
}).catch((e) => { console.error(String(e)); process.exit(1); });
"""


def snarkjs_phases(zkey: Path, wtns: Path) -> dict[str, float]:
    """One ``snarkjs.groth16.prove`` through its JS API with a timestamping logger: seconds spent in
    start-up (curve / worker init, file opening), witness x coefficients (ABC) with the 6 FFTs and
    join (``abc_fft_s``), and the 5 multi-exponentiations A, B1, B2 (G2), C, H (``msm_s``)."""
    from zksolv import toolchain
    proc = subprocess.run([toolchain.node_binary(), "-e", _PHASES_JS, str(ROOT), str(zkey), str(wtns)],
                          capture_output=True, text=True, timeout=3600, cwd=str(ROOT))
    if proc.returncode != 0:
        raise RuntimeError(f"snarkjs phase run failed: {proc.stderr[-300:]}")
    marks = json.loads(proc.stdout.strip().splitlines()[-1])

    def at(prefix: str) -> float:
        return next(t for m, t in marks if m.startswith(prefix)) / 1e3

    end = marks[-1][1] / 1e3
    return {"startup_s": at("Reading Wtns"), "abc_fft_s": at("Reading A Points") - at("Reading Wtns"),
            "msm_s": end - at("Reading A Points"), "total_s": end}


# ----------------------------------------------------------------------------- one point
def bench_point(mode: str, n_instruments: int, n_positions: int, *, repeat: int, backends: Sequence[str],
                ptau_max_power: int, build_ptau: bool, fresh: bool, market_cache: dict[tuple[str, int], Any],
                step: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    import groth16py

    from zksolv.prover.witness import circuit_inputs
    from zksolv.verifier.verify import verify as pyecc_verify
    from zksolv import toolchain
    from zksolv.toolchain.artifacts import compile_tier
    from zksolv.toolchain.circuitgen import Tier, include_dirs, write_main
    from zksolv.risk.model import evaluate
    from zksolv.toolchain.trusted_setup import dev_powers_of_tau, dev_setup, production_setup

    label = f"{mode} m{n_instruments} n{n_positions}"
    if (mode, n_instruments) not in market_cache:
        market_cache[(mode, n_instruments)] = market_for(mode, n_instruments)
    market = market_cache[(mode, n_instruments)]
    account = account_for(market, n_positions)
    tier = Tier.for_market(market, n_positions)
    n_u, n_a, n_k, depth = market.shape
    row: dict[str, Any] = {"mode": mode, "instruments": len(market.instruments), "instruments_target": n_instruments,
                           "positions": n_positions, "tier": tier.name, "scenarios": n_k, "tree_depth": depth,
                           "notes": []}
    slots, balances = account.position_slots(market), account.balances(market)
    row["model_evaluate_s"] = repeat_timed(lambda: evaluate(market, slots, balances), max(3, repeat))[0]

    # compile (through the cache; a cache hit is re-measured by a fresh compile into a temp dir)
    step(f"{label}: compiling")
    t_start = time.time()
    compile_s, (_h, circuit) = timed(lambda: compile_tier(tier))
    hit = not _entry_is_new(circuit.directory.parent, t_start)
    row["compile_cache_hit"] = hit
    if hit and fresh:
        with tempfile.TemporaryDirectory(prefix="zksolv-bench-compile-") as tmp:
            main = write_main(tier, Path(tmp) / "src")
            compile_s, _ = timed(lambda: toolchain.compile_circuit(main, Path(tmp) / "out", include_dirs()))
    row["compile_s"] = compile_s if (not hit or fresh) else None
    row["constraints"] = circuit.n_constraints
    row["wires"] = circuit.n_wires
    row["constraints_per_position"] = round(circuit.n_constraints / n_positions, 1)

    # dev setup (groth16py), always
    step(f"{label}: dev setup")
    t_start = time.time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        setup_s, dev_keys = timed(lambda: dev_setup(circuit))
    hit = not _entry_is_new(dev_keys.directory, t_start)
    if hit and fresh:
        setup_s, _ = timed(lambda: groth16py.setup(str(circuit.r1cs)))
    row["setup_dev_s"] = setup_s if (not hit or fresh) else None
    row["setup_dev_cache_hit"] = hit

    # snarkjs route where a dev powers of tau of small enough power exists / may be made
    power = ptau_power_for(circuit.n_constraints, circuit.n_public)
    row["ptau_power_needed"] = power
    zkey_keys = None
    want_zkey = any(b in ("snarkjs", "arkworks-zkey") for b in backends)
    if want_zkey:
        # the smallest cached dev ptau that fits; else (if allowed) build the largest allowed one once,
        # so that every later point up to 2^ptau_max_power reuses it
        ptau_power, ptau = next(((p, path) for p in range(power, ptau_max_power + 1)
                                 if (path := dev_ptau_cached(p)) is not None), (ptau_max_power, None))
        if power > ptau_max_power:
            row["notes"].append(f"snarkjs skipped: needs a 2^{power} powers of tau (> 2^{ptau_max_power}); "
                                "arkworks proved with dev-route keys")
        elif ptau is None and not build_ptau:
            row["notes"].append(f"snarkjs skipped: no cached 2^{power}..2^{ptau_max_power} dev powers of tau and "
                                "building one is off (quick run / --no-build-ptau)")
        else:
            if ptau is None:
                step(f"{label}: dev powers of tau 2^{ptau_power} (slow, cached)")
                t, ptau = timed(lambda: dev_powers_of_tau(ptau_power))
                row["ptau_build_s"] = t
            step(f"{label}: snarkjs setup")
            t_start = time.time()
            t, zkey_keys = timed(lambda: production_setup(circuit, ptau))
            hit = not _entry_is_new(zkey_keys.directory, t_start)
            row["setup_snarkjs_s"] = None if hit else t
            row["setup_snarkjs_cache_hit"] = hit
            row["notes"].append(f"snarkjs route: phase 2 on a local dev powers of tau 2^{ptau_power} (not a ceremony)")
    row["setup_routes"] = {"arkworks": "dev"} | ({"snarkjs": f"snarkjs(dev ptau 2^{ptau_power})",
                                                  "arkworks-zkey": f"snarkjs(dev ptau 2^{ptau_power})"}
                                                 if zkey_keys else {})

    # witness
    inputs = circuit_inputs(account, market, tier)
    with tempfile.TemporaryDirectory(prefix="zksolv-bench-") as tmp:
        wtns = Path(tmp) / "w.wtns"
        step(f"{label}: witness")
        row["witness_s"] = repeat_timed(lambda: toolchain.calculate_witness(circuit.wasm, inputs, wtns), repeat)[0]
        row["witness_bytes"] = wtns.stat().st_size

        provers: list[tuple[str, str, Any]] = []
        for b in backends:
            if b == "arkworks":
                provers.append(("arkworks", "arkworks", dev_keys))
            elif b in ("snarkjs", "arkworks-zkey") and zkey_keys is not None:
                provers.append((b, "snarkjs" if b == "snarkjs" else "arkworks", zkey_keys))
        row["prove"] = {}
        proofs: dict[str, tuple[Any, Any, Any]] = {}
        for name, backend, keys in provers:
            step(f"{label}: prove {name}")
            res = prove_in_child(backend, keys, wtns, repeat, Path(tmp) / f"{name}.json")
            proofs[name] = (res.pop("proof"), res.pop("public"), keys)
            row["prove"][name] = res
        if zkey_keys is not None and "snarkjs" in row["prove"]:
            try:
                row["snarkjs_phases"] = snarkjs_phases(zkey_keys.zkey, wtns)
            except Exception as exc:  # noqa: BLE001 — diagnostic only
                row["notes"].append(f"snarkjs phase breakdown failed: {exc}")

    # verify (on the arkworks dev-key proof, and the snarkjs proof if any)
    step(f"{label}: verify")
    proof, public, keys = proofs["arkworks"] if "arkworks" in proofs else next(iter(proofs.values()))
    vk = keys.load_verification_key()
    nv = max(1, min(repeat, 3))
    t, verdict = repeat_timed(lambda: pyecc_verify(proof, public, market, vk), nv)
    if not verdict.valid:
        raise RuntimeError(f"py_ecc rejected the benchmark proof: {verdict.reason}")
    row["verify"] = {"py_ecc": t}
    ver = groth16py.Verifier(groth16py.VerifyingKey.from_snarkjs(json.dumps(vk)))
    pj, pubj = json.dumps(proof), json.dumps(public)
    t, ok = repeat_timed(lambda: ver.verify_snarkjs(pj, pubj), max(5, repeat))
    if not ok:
        raise RuntimeError("groth16py rejected the benchmark proof")
    row["verify"]["groth16py"] = t
    with tempfile.TemporaryDirectory(prefix="zksolv-bench-v-") as tmp:
        pp, pub = Path(tmp) / "proof.json", Path(tmp) / "public.json"
        pp.write_text(pj)
        pub.write_text(pubj)
        t, ok = repeat_timed(lambda: toolchain.snarkjs_groth16_verify(keys.verification_key, pub, pp), nv)
        if not ok:
            raise RuntimeError("snarkjs rejected the benchmark proof")
        row["verify"]["snarkjs"] = t
    for name, (p2, pub2, k2) in proofs.items():  # every backend's proof must check too
        if name != "arkworks" and not pyecc_verify(p2, pub2, market, k2.load_verification_key()).valid:
            raise RuntimeError(f"{name} proof does not verify")
    row["proof_bytes_calldata"] = PROOF_CALLDATA_BYTES
    row["proof_bytes_json"] = len(json.dumps(proof, separators=(",", ":")))
    return row


# ----------------------------------------------------------------------------- run
def plan(positions: Iterable[int], markets: Iterable[int], modes: Iterable[str],
         extra: Iterable[tuple[str, int, int]] = ()) -> list[tuple[str, int, int]]:
    pts = [(m, k, n) for m in modes for k in markets for n in positions]
    for p in extra:
        if p not in pts:
            pts.append(p)
    return pts


def run(quick: bool = True, *, out: Path | str | None = RESULTS, positions: Sequence[int] | None = None,
        markets: Sequence[int] | None = None, modes: Sequence[str] | None = None,
        extra: Sequence[tuple[str, int, int]] = (), repeat: int | None = None,
        backends: Sequence[str] = ("arkworks", "snarkjs", "arkworks-zkey"), ptau_max_power: int = 14,
        build_ptau: bool | None = None, fresh: bool | None = None, plots: bool = True, progress: bool = True,
        label: str | None = None) -> dict[str, Any]:
    """Run the benchmark and return the result dict (also written to ``out`` unless ``out`` is None).

    ``quick``: positions 1, 2 on a 64-instrument stress market, 2 repeats, snarkjs only if a
    dev powers of tau is already cached. Otherwise the full grid (positions 1..128, markets
    64..4096, every mode) unless narrowed by the arguments. ``fresh`` re-measures compile and
    dev setup when they were cache hits (default: not in quick mode).
    """
    positions = tuple(positions or (QUICK_POSITIONS if quick else FULL_POSITIONS))
    markets = tuple(markets or (QUICK_MARKETS if quick else FULL_MARKETS))
    modes = tuple(modes or (QUICK_MODES if quick else MODES))
    repeat = repeat or (2 if quick else 3)
    build_ptau = (not quick) if build_ptau is None else build_ptau
    fresh = (not quick) if fresh is None else fresh
    points = plan(positions, markets, modes, extra)
    t0 = time.perf_counter()
    result: dict[str, Any] = {
        "benchmark": "zksolv proving pipeline (circom2 + groth16py/snarkjs, Groth16 BN254)",
        "kind": "quick" if quick else "custom" if (positions, markets, modes) != (FULL_POSITIONS, FULL_MARKETS, MODES) else "full",
        "machine": machine_info(),
        "config": {"positions": positions, "markets": markets, "modes": modes, "extra": [list(e) for e in extra],
                   "repeat": repeat, "backends": list(backends), "ptau_max_power": ptau_max_power,
                   "build_ptau": build_ptau, "fresh": fresh},
        "setup_note": ("arkworks proves with the single-party dev setup (groth16py; insecure, benchmark only) at "
                       f"every size; snarkjs needs a .zkey, made here only for circuits fitting a local dev powers "
                       f"of tau up to 2^{ptau_max_power} — larger points report 'snarkjs skipped'"),
        "node_startup_s": node_startup_s(max(3, repeat)),
        "points": [],
        "errors": [],
    }
    bar = Progress(len(points), enabled=progress)
    market_cache: dict[tuple[str, int], Any] = {}
    for mode, k, n in points:
        try:
            row = bench_point(mode, k, n, repeat=repeat, backends=backends, ptau_max_power=ptau_max_power,
                              build_ptau=build_ptau, fresh=fresh, market_cache=market_cache, step=bar.step)
            result["points"].append(row)
        except Exception as exc:  # noqa: BLE001 — record and go on with the other points
            result["errors"].append({"mode": mode, "instruments": k, "positions": n,
                                     "error": f"{type(exc).__name__}: {exc}"[:1000]})
        bar.advance(f"{mode} m{k} n{n} done")
    result["duration_s"] = round(time.perf_counter() - t0, 1)
    result["machine"]["loadavg_end"] = os.getloadavg()
    result["table_md"] = table_md(result["points"])
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        name = label or ("proving_quick" if quick else "proving")
        from zksolv.core.atomic import atomic_write_text

        atomic_write_text(out / f"{name}.json", json.dumps(result, indent=1, default=str) + "\n")
        atomic_write_text(out / f"{name}.md", result["table_md"] + "\n")
        result["files"] = [str(out / f"{name}.json"), str(out / f"{name}.md")]
        if plots and result["points"]:
            result["files"] += plot(result["points"], out, name)
    return result


# ----------------------------------------------------------------------------- report
def _fmt(x: Any, unit: float = 1.0, p: int = 2) -> str:
    if x is None:
        return "–"
    if isinstance(x, dict):
        x = x["median"]
    return f"{x * unit:.{p}f}"


def _spread(x: Any, unit: float = 1.0, p: int = 2) -> str:
    """``median (min–max)`` of a repeated measurement; just the value for a single run."""
    if not isinstance(x, dict) or x.get("n", 1) < 2:
        return _fmt(x, unit, p)
    return f"{x['median'] * unit:.{p}f} ({x['min'] * unit:.{p}f}–{x['max'] * unit:.{p}f})"


def table_md(points: list[dict[str, Any]]) -> str:
    """Markdown table: medians, with (min–max) over the repeats for the per-proof steps (seconds unless stated)."""
    head = ("| mode | instr. | pos. | constraints | /pos | compile s | setup dev s | setup snarkjs s | witness s "
            "| prove arkworks s | prove arkworks-zkey s | prove snarkjs s | verify py_ecc s | verify groth16py ms "
            "| verify snarkjs s | RSS arkworks MiB | RSS snarkjs MiB | model.evaluate ms |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in points:
        pr = r.get("prove", {})
        lines.append("| " + " | ".join([
            r["mode"], str(r["instruments"]), str(r["positions"]), f"{r['constraints']:,}",
            f"{r['constraints_per_position']:,.0f}", _fmt(r.get("compile_s"), p=1), _fmt(r.get("setup_dev_s"), p=1),
            _fmt(r.get("setup_snarkjs_s"), p=1) if "setup_snarkjs_cache_hit" in r else "skipped",
            _spread(r.get("witness_s")),
            _spread(pr.get("arkworks", {}).get("prove_s")), _spread(pr.get("arkworks-zkey", {}).get("prove_s")),
            _spread(pr.get("snarkjs", {}).get("prove_s")) if "snarkjs" in pr else "skipped",
            _spread(r["verify"]["py_ecc"]), _fmt(r["verify"]["groth16py"], 1e3, 2), _spread(r["verify"]["snarkjs"]),
            _fmt(pr.get("arkworks", {}).get("peak_rss_mib"), p=0), _fmt(pr.get("snarkjs", {}).get("peak_rss_mib"), p=0),
            _fmt(r["model_evaluate_s"], 1e3, 2),
        ]) + " |")
    return "\n".join(lines)


_MODE_COLOURS = {"stress": "tab:blue", "var": "tab:green", "es": "tab:red"}
_BACKEND_STYLES = {"arkworks": ("o", "-"), "arkworks-zkey": ("s", "--"), "snarkjs": ("^", "-."), "witness": ("x", ":")}
_VERIFIER_STYLES = {"py_ecc": ("o", "-", "tab:purple"), "snarkjs": ("^", "-.", "tab:orange"),
                    "groth16py": ("s", "--", "tab:gray")}


def _series(points: list[dict[str, Any]]) -> tuple[dict[str, list[dict[str, Any]]], dict[tuple[str, int], list[dict[str, Any]]]]:
    """Rows by mode on each mode's smallest market (vs positions), and rows by (mode, positions)
    where several market sizes were measured (vs instruments)."""
    by_positions: dict[str, list[dict[str, Any]]] = {}
    for mode in dict.fromkeys(r["mode"] for r in points):
        rows = [r for r in points if r["mode"] == mode]
        smallest = min(r["instruments"] for r in rows)
        by_positions[mode] = sorted((r for r in rows if r["instruments"] == smallest), key=lambda r: r["positions"])
    by_market: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in points:
        by_market.setdefault((r["mode"], r["positions"]), []).append(r)
    by_market = {k: sorted(v, key=lambda r: r["instruments"]) for k, v in by_market.items() if len(v) > 1}
    return by_positions, by_market


def save_figure(fig: Any, out: Path, stem: str) -> list[str]:
    """Write ``fig`` as ``<out>/<stem>.png`` and ``.svg`` (each atomically), close it; returns the paths."""
    import matplotlib.pyplot as plt

    written = []
    for ext in ("png", "svg"):
        path = out / f"{stem}.{ext}"
        tmp = path.with_name(path.stem + ".tmp." + ext)
        fig.savefig(tmp)
        os.replace(tmp, path)
        written.append(str(path))
    plt.close(fig)
    return written


def plot(points: list[dict[str, Any]], out: Path, name: str) -> list[str]:
    """Prove time, constraints and verify time vs positions (log-log; colour = risk mode, line style =
    backend) and, where several market sizes were run, vs instruments; PNG + SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_positions, by_market = _series(points)
    written: list[str] = []

    def figure(title: str) -> tuple[Any, Any, Any]:
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 6.4), dpi=110, sharey=True,
                                          gridspec_kw={"width_ratios": [3, 2]})
        fig.suptitle(title)
        for ax in (left, right):
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.grid(True, which="both", alpha=0.3)
        left.set_xlabel("positions (tier capacity), each mode's smallest market")
        depths = sorted({p.get("tree_depth") for p in points if p.get("tree_depth")})
        span = f" (Merkle depth {depths[0]}..{depths[-1]})" if depths else ""
        right.set_xlabel(f"instruments in the market{span}")
        if not by_market:
            right.set_visible(False)
        return fig, left, right

    def save(fig: Any, stem: str, *axes: Any) -> None:
        for ax in axes:
            if ax.get_visible() and ax.lines:
                ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
        fig.tight_layout()
        written.extend(save_figure(fig, out, f"{name}_{stem}"))

    def prove_lines(ax: Any, rows: list[dict[str, Any]], x: str, mode: str, suffix: str) -> None:
        colour = _MODE_COLOURS.get(mode)
        for b in ("arkworks", "arkworks-zkey", "snarkjs"):
            pts = [(r[x], r["prove"][b]["prove_s"]["median"]) for r in rows if b in r.get("prove", {})]
            if pts:
                marker, line = _BACKEND_STYLES[b]
                ax.plot(*zip(*pts), marker=marker, linestyle=line, color=colour, label=f"{b}, {mode}{suffix}")
        marker, line = _BACKEND_STYLES["witness"]
        ax.plot([r[x] for r in rows], [r["witness_s"]["median"] for r in rows], marker=marker, linestyle=line,
                color=colour, alpha=0.6, label=f"witness (node), {mode}{suffix}")

    fig, left, right = figure("Groth16 prove time (median; key load excluded)")
    left.set_ylabel("seconds")
    for mode, rows in by_positions.items():
        prove_lines(left, rows, "positions", mode, f" ({rows[0]['instruments']} instr.)")
    for (mode, n), rows in by_market.items():
        prove_lines(right, rows, "instruments", mode, f", {n} pos.")
    save(fig, "prove", left, right)

    fig, left, right = figure("Circuit size (R1CS constraints, circom2 --O2)")
    left.set_ylabel("constraints")
    for mode, rows in by_positions.items():
        left.plot([r["positions"] for r in rows], [r["constraints"] for r in rows], "o-",
                  color=_MODE_COLOURS.get(mode), label=f"{mode} ({rows[0]['instruments']} instr., {rows[0]['scenarios']} scen.)")
    for (mode, n), rows in by_market.items():
        right.plot([r["instruments"] for r in rows], [r["constraints"] for r in rows], "o-",
                   color=_MODE_COLOURS.get(mode), label=f"{mode}, {n} pos.")
    save(fig, "constraints", left, right)

    fig, left, right = figure("Groth16 verify time (2 public inputs; constant in the book)")
    left.set_ylabel("seconds")
    for v, (marker, line, colour) in _VERIFIER_STYLES.items():
        for mode, rows in by_positions.items():
            left.plot([r["positions"] for r in rows], [r["verify"][v]["median"] for r in rows], marker=marker,
                      linestyle=line, color=colour, alpha=1.0 if mode == "stress" else 0.5, label=f"{v}, {mode}")
        for (mode, n), rows in by_market.items():
            right.plot([r["instruments"] for r in rows], [r["verify"][v]["median"] for r in rows], marker=marker,
                       linestyle=line, color=colour, label=f"{v}, {mode}, {n} pos.")
    save(fig, "verify", left, right)
    return written


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="CI subset: positions 1,2; 64 instruments; stress")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--positions", type=_ints, default=None, help="e.g. 1,2,4,8")
    ap.add_argument("--markets", type=_ints, default=None, help="instrument counts, e.g. 64,256")
    ap.add_argument("--modes", default=None, help="comma list of stress,es,var")
    ap.add_argument("--extra", default="", help="extra points mode:instruments:positions, comma separated")
    ap.add_argument("--repeat", type=int, default=None)
    ap.add_argument("--backends", default="arkworks,snarkjs,arkworks-zkey")
    ap.add_argument("--ptau-max-power", type=int, default=14)
    ap.add_argument("--build-ptau", dest="build_ptau", action="store_true", default=None)
    ap.add_argument("--no-build-ptau", dest="build_ptau", action="store_false")
    ap.add_argument("--no-fresh", action="store_true", help="do not re-measure cached compiles/setups")
    ap.add_argument("--label", default=None, help="output file stem (default proving / proving_quick)")
    ap.add_argument("--replot", type=Path, default=None, metavar="JSON",
                    help="only redraw the plots of an earlier run's JSON (next to it)")
    ap.add_argument("--_child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._child is not None:
        _child_main(args._child)
        return {}
    if args.replot is not None:
        res = json.loads(args.replot.read_text())
        print("wrote", ", ".join(plot(res["points"], args.replot.parent, args.replot.stem)))
        return res
    extra = tuple((m, int(k), int(n)) for m, k, n in (e.split(":") for e in args.extra.split(",") if e))
    res = run(args.quick, out=args.out, positions=args.positions, markets=args.markets,
              modes=tuple(args.modes.split(",")) if args.modes else None, extra=extra, repeat=args.repeat,
              backends=tuple(args.backends.split(",")), ptau_max_power=args.ptau_max_power,
              build_ptau=args.build_ptau, fresh=False if args.no_fresh else None, label=args.label)
    print(res["table_md"])
    print(res["setup_note"])
    for r in res["points"]:
        for note in r["notes"]:
            print(f"  {r['tier']}: {note}")
    for e in res["errors"]:
        print(f"  ERROR {e}", file=sys.stderr)
    print(f"duration {res['duration_s']} s; wrote {', '.join(res.get('files', []))}")
    return res


if __name__ == "__main__":
    main()
