"""Privacy: no private value leaves the private account file.

The CLI runs end to end in subprocesses with a fresh ``ZKSOLV_CACHE`` and a private ``TMPDIR``
(market demo, market commit, commit, report, setup, prove, verify, export-solidity, and the error
path of an insolvent account). Then every file written — the output folder, the whole fresh cache,
the temp dir, and files under the project's ``build/`` modified during the test — and everything
printed is scanned for each private value: quantities and balances (raw integer, decimal string,
field encoding ``p - |q|``, hex), the salt (decimal and hex), as text; and every one of those files
is also scanned as bytes for each value's 32-byte little-endian field encoding, which is how a leaked
``.wtns`` would hold it. Positive control: a witness of the solvent account, computed outside the
scanned folders, must contain every one of its binary needles. Only the account files may hold them.

Values are chosen long and distinctive (1234.567891, 98765432.101234, ...): every text form has at
least 8 characters (asserted; nothing is dropped), so chance matches are negligible. Leaf indices
are small numbers that occur everywhere by chance; they are checked only in structured places: keys
and values of the JSON outputs (no output JSON may carry a value equal to a position's leaf index
under a key naming an index/leaf/position/slot), every ``--json`` stdout included.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zksolv.core import fixedpoint as fp
from zksolv.core.account import Account, Position
from zksolv.app.demo import demo_market

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from zksolv.cli import main; main()"]
SALT = 0x1D2C3B4A59687706F5E4D3C2B1A0998877665544332211FFEEDDCCBBAA998877 % fp.FIELD_MODULUS
MIN_FORM_LEN = 8  # every text form of every private value is at least this long (no chance matches)


def _forms(raw: int) -> set[str]:
    """Text forms of a quantity or balance (scale 1e6): raw, decimal, field ``p - |q|``, hex."""
    out = {str(raw), str(abs(raw)), fp.format_fixed(abs(raw), fp.QTY_SCALE), hex(abs(raw))[2:]}
    if raw < 0:
        out |= {str(fp.FIELD_MODULUS + raw), hex(fp.FIELD_MODULUS + raw)[2:]}
    return out


def _field_bytes(raw: int) -> bytes:
    """The value as a BN254 field element, 32 bytes little-endian (the .wtns encoding)."""
    return (raw % fp.FIELD_MODULUS).to_bytes(32, "little")


def _needles(account: Account) -> tuple[set[str], dict[bytes, str]]:
    """``(text forms, {LE field bytes: what})`` of every private value of ``account``."""
    text = {str(account.salt), hex(account.salt)[2:]}
    binary = {_field_bytes(account.salt): "salt"}
    for pos in account.positions:
        text |= _forms(pos.quantity)
        binary[_field_bytes(pos.quantity)] = f"quantity of {pos.instrument}"
    for sym, bal in account.collateral.items():
        text |= _forms(bal)
        binary[_field_bytes(bal)] = f"balance of {sym}"
    return text, binary


def _scan(path: Path, needles: set[str], binary: dict[bytes, str]) -> list[str]:
    """Text needles (case-insensitive) and binary field encodings found in ``path``."""
    data = path.read_bytes()
    lower = data.lower()
    return ([n for n in needles if n.lower().encode() in lower]
            + [f"LE field bytes of the {what}" for b, what in binary.items() if b in data])


def _positive_control(market, account: Account, folder: Path, binary: dict[bytes, str]) -> None:
    """A real witness of ``account`` (outside the scanned folders) holds every binary needle, so the
    binary scan would catch a leaked .wtns."""
    from zksolv.prover.witness import circuit_inputs
    from zksolv.toolchain.artifacts import compile_tier
    from zksolv.toolchain.circuitgen import Tier
    from zksolv.toolchain import calculate_witness

    tier = Tier.for_market(market, 4)
    wtns = calculate_witness(compile_tier(tier)[1].wasm, circuit_inputs(account, market, tier), folder / "w.wtns")
    found = _scan(wtns, set(), binary)
    assert len(found) == len(binary), f"a leaked witness would hide some values: found only {found}"


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

    from zksolv.toolchain.artifacts import compile_tier
    from zksolv.toolchain.circuitgen import Tier

    entry = Path(compile_tier(Tier.for_market(market, 4))[1].wasm)
    while not (entry / "MANIFEST.json").exists():
        entry = entry.parent
    shutil.copytree(entry, cache / "circuit" / entry.name)


def test_no_private_value_leaves_the_account_file(tmp_path: Path) -> None:
    started = time.time() - 1
    market = demo_market(n_strikes=3, n_expiries=1)
    syms = [i.symbol for i in market.instruments]
    # quantities 1234.567891 / 2718.281828 / 3141.592653 contracts, balances ~98.8M / 87.7M USD: even
    # the hex forms have 8+ digits (499602d3, a205b064, bb40e64d, 59d39e7f1972, ...)
    solvent = Account((Position(syms[4], -1_234_567_891), Position(syms[15], -2_718_281_828),
                       Position(syms[1], 3_141_592_653)),
                      {"USDC": 98_765_432_101_234, "USDT": 87_654_321_987_654}, SALT).validated(market)
    insolvent = Account((Position(syms[6], -7_777_777_123_457),), {"USDC": 1_357_913_579}, SALT ^ 0xABCDEF)
    needles, binary = _needles(solvent)
    bad_text, bad_binary = _needles(insolvent)
    short = sorted(n for n in needles | bad_text if len(n) < MIN_FORM_LEN)
    assert not short, f"private test values must be long and distinctive in every form: {short}"
    work, cache, tmpdir, control = (tmp_path / d for d in ("work", "cache", "tmp", "control"))
    for d in (work, cache, tmpdir, control):
        d.mkdir()
    _positive_control(market, solvent, control, binary)
    needles |= bad_text
    binary |= {b: f"insolvent account's {what}" for b, what in bad_binary.items()}
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
        (["verify", "--proof", str(work / "proof"), "--market", m, "--dev-key", "--json"], 0),
        (["export-solidity", "--proof", str(work / "proof"), "--out", str(work / "sol"), "--json"], 0),
        (["prove", "--account", b, "--market", m, "--out", str(work / "proof_bad"), "--positions", "4"], 4),
        (["commit", "--account", b, "--market", m], 0),
    ]
    printed, json_out = [], []
    for args, code in steps:
        proc = subprocess.run(CLI + args, capture_output=True, text=True, env=env, cwd=work, timeout=300)
        assert proc.returncode == code, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
        printed.append((args[0], proc.stdout + proc.stderr))
        if "--json" in args:  # stdout is one JSON document (verify: one per line; progress goes to stderr)
            docs = proc.stdout.splitlines() if args[0] == "verify" else [proc.stdout]
            try:
                json_out.extend((" ".join(args[:2]), json.loads(doc)) for doc in docs)
            except ValueError as exc:
                raise AssertionError(f"{args[:2]} --json: stdout is not JSON ({exc})") from None
    private_files = {work / "account.json", work / "insolvent.json"}
    # everything in the folders this test owns (fresh cache whole, seeded circuit included); in the
    # shared build/ what changed during the test
    written = [p for p in work.rglob("*") if p.is_file() and p not in private_files]
    written += [p for root in (cache, tmpdir) for p in root.rglob("*") if p.is_file()]
    written += [p for p in (ROOT / "build").rglob("*") if p.is_file() and p.stat().st_mtime >= started]
    assert any(p.name == "proof.json" for p in written) and any(p.suffix == ".sol" for p in written)
    assert any(p.name.startswith("proving_key") for p in written) and any(p.suffix == ".wasm" for p in written), \
        "the fresh cache should hold the proving key and the circuit"
    leaks = {str(p): hits for p in written if (hits := _scan(p, needles, binary))}
    assert not leaks, leaks
    # the report is a *local* view of the private account: it may print the account's own NAV etc.,
    # but never the raw quantities, balances or salt
    for name, text in printed:
        hits = [n for n in needles if n.lower() in text.lower()]
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
    # every --json step printed JSON (verify: a line per proof and a summary line)
    assert len({name for name, _ in json_out}) == sum("--json" in args for args, _ in steps)
    for name, doc in json_out:
        assert not (hits := _json_leaks(doc, indices)), (name, hits)
