"""Privacy: no private value leaves the private account file.

The CLI runs end to end in subprocesses with a fresh ``ZKSOLV_CACHE`` and a private ``TMPDIR``
(market demo, market commit, commit, report, setup, prove, verify, export-solidity, and the error
path of an insolvent account). Then every file written — output folders, the whole fresh cache,
the temp dir, and files under the project's ``build/`` modified during the test — and everything
printed is scanned for each private value: quantities and balances (raw integer, decimal string,
field encoding ``p - |q|``, hex), the salt (decimal and hex). Only the account file may hold them.

Values are chosen long and distinctive (1.234567, 98765.432101, ...) so chance matches are
negligible. Leaf indices are small numbers that occur everywhere by chance; they are checked only
in structured places: keys and values of the JSON outputs (no output JSON may carry a value equal
to a position's leaf index under a key naming an index/leaf/position).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zksolv import fixedpoint as fp
from zksolv.account import Account, Position
from zksolv.demo import demo_market

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from zksolv.cli import main; main()"]
SALT = 0x1D2C3B4A59687706F5E4D3C2B1A0998877665544332211FFEEDDCCBBAA998877 % fp.FIELD_MODULUS


def _forms(raw: int) -> set[str]:
    out = {str(raw), str(abs(raw)), fp.format_fixed(abs(raw), fp.QTY_SCALE), hex(abs(raw))[2:]}
    if raw < 0:
        out |= {str(fp.FIELD_MODULUS + raw), hex(fp.FIELD_MODULUS + raw)[2:]}
    return out


def _scan(path: Path, needles: set[str]) -> list[str]:
    data = path.read_bytes().lower()
    return [n for n in needles if n.lower().encode() in data]


def _json_leaks(node, indices: set[int], where: str = "") -> list[str]:
    hits = []
    if isinstance(node, dict):
        for k, v in node.items():
            if any(w in str(k).lower() for w in ("index", "leaf", "position", "slot")) and _as_int(v) in indices:
                hits.append(f"{where}.{k}")
            hits += _json_leaks(v, indices, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            hits += _json_leaks(v, indices, f"{where}[{i}]")
    return hits


def _as_int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _seed_compiled_circuit(market, cache: Path) -> None:
    """Copy the (public, cached) compiled circuit into the fresh cache to skip a ~20 s compile.
    Setup, proving and everything else still write into the fresh cache, which is scanned whole."""
    import shutil

    from zksolv.artifacts import compile_tier
    from zksolv.circuitgen import Tier

    entry = Path(compile_tier(Tier.for_market(market, 4))[1].wasm)
    while not (entry / "MANIFEST.json").exists():
        entry = entry.parent
    shutil.copytree(entry, cache / "circuit" / entry.name)


def test_no_private_value_leaves_the_account_file(tmp_path: Path) -> None:
    started = time.time() - 1
    market = demo_market(n_strikes=3, n_expiries=1)
    syms = [i.symbol for i in market.instruments]
    solvent = Account((Position(syms[4], -1_234_567), Position(syms[15], -2_718_281), Position(syms[1], 3_141_592)),
                      {"USDC": 98_765_432_101, "USDT": 87_654_321_987}, SALT).validated(market)
    insolvent = Account((Position(syms[6], -7_777_777_123_457),), {"USDC": 1_357_913}, SALT ^ 0xABCDEF)
    work, cache, tmpdir = tmp_path / "work", tmp_path / "cache", tmp_path / "tmp"
    for d in (work, cache, tmpdir):
        d.mkdir()
    market.save(work / "market.json")
    _seed_compiled_circuit(market, cache)
    solvent.save(work / "account.json")
    insolvent.save(work / "insolvent.json")
    env = {**os.environ, "ZKSOLV_CACHE": str(cache), "TMPDIR": str(tmpdir), "PYTHONPATH": str(ROOT)}
    m, a, b = str(work / "market.json"), str(work / "account.json"), str(work / "insolvent.json")
    steps = [
        (["market", "demo", "--out", str(work / "demo_market.json"), "--json"], 0),
        (["market", "commit", m, "--json"], 0),
        (["commit", "--account", a, "--market", m, "--json"], 0),
        (["report", "--account", a, "--market", m, "--json", "--no-prices"], 0),
        (["setup", "--market", m, "--positions", "4", "--json"], 0),
        (["prove", "--account", a, "--market", m, "--out", str(work / "proof"), "--positions", "4", "--json"], 0),
        (["verify", "--proof", str(work / "proof"), "--market", m, "--json"], 0),
        (["export-solidity", "--proof", str(work / "proof"), "--out", str(work / "sol"), "--json"], 0),
        (["prove", "--account", b, "--market", m, "--out", str(work / "proof_bad"), "--positions", "4"], 4),
        (["commit", "--account", b, "--market", m], 0),
    ]
    printed = []
    for args, code in steps:
        proc = subprocess.run(CLI + args, capture_output=True, text=True, env=env, cwd=work, timeout=300)
        assert proc.returncode == code, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
        printed.append((args[0], proc.stdout + proc.stderr))
    private_files = {work / "account.json", work / "insolvent.json"}
    # the report is a *local* view of the private account: it may print the account's own NAV etc.,
    # but never the raw quantities, balances or salt
    needles: set[str] = {str(SALT), hex(SALT)[2:], str(SALT ^ 0xABCDEF), hex(SALT ^ 0xABCDEF)[2:]}
    for acct in (solvent, insolvent):
        for pos in acct.positions:
            needles |= _forms(pos.quantity)
        for bal in acct.collateral.values():
            needles |= _forms(bal)
    needles = {n for n in needles if len(n) >= 7}  # all chosen values are long; guards against accidents
    written = [p for root in (work, cache, tmpdir, ROOT / "build") for p in root.rglob("*")
               if p.is_file() and p.stat().st_mtime >= started and p not in private_files]
    assert any(p.name == "proof.json" for p in written) and any(p.suffix == ".sol" for p in written)
    leaks = {str(p): hits for p in written if (hits := _scan(p, needles))}
    assert not leaks, leaks
    for name, text in printed:
        hits = [n for n in needles if n in text]
        assert not hits, (name, hits)
    assert not list(tmpdir.rglob("*")), "temporary witness/input files left behind"
    indices = {market.instrument_index(p.instrument) for acct in (solvent, insolvent) for p in acct.positions}
    for p in written:
        if p.suffix == ".json" and p.stat().st_size < 5_000_000:
            try:
                doc = json.loads(p.read_text())
            except ValueError:
                continue
            assert not _json_leaks(doc, indices), p
    for name, text in printed:
        for line in text.splitlines():
            if line.lstrip().startswith("{"):
                break
        try:
            doc = json.loads(text[text.index("{"):text.rindex("}") + 1])
        except ValueError:
            continue
        assert not _json_leaks(doc, indices), name
