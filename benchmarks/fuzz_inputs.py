"""Bad-input fuzz job: every user-facing parser and the keeper's verifier against hostile files.

    python benchmarks/fuzz_inputs.py                  # 10,500 cases, seed 1, with a real proof
    python benchmarks/fuzz_inputs.py --cases 2000 --no-proof   # parsers only (no node needed)

Each case feeds one malformed or hostile input to a library entry point
(``MarketState.load``, ``Account.load`` + resolution against a market,
``Statement.load``, ``zksolv.verifier.verify`` with proof / public / key dicts) or,
for a sample, to the CLI through click's ``CliRunner``. Outcomes:

``clean``    refused with a :class:`~zksolv.core.errors.ZksolvError` (library), an
             invalid :class:`~zksolv.verifier.verify.Verdict`, or (CLI) a non-zero exit
             with one ``error:`` line and no traceback;
``accepted`` parsed fine and is still a valid object (e.g. a byte flip that
             changed one digit of a price) — allowed only in categories whose
             mutation can produce valid input;
``crash``    any other exception (a traceback for the user);
``wrong``    a hostile input was *accepted* where it must be refused (e.g. a
             mutated proof verified).

Prints a table (category -> cases, clean, accepted, crashes, wrong) and writes
``benchmarks/results/fuzz.json``. Crashes are grouped by exception signature.
The test-suite (``tests/test_fuzz_inputs.py``) runs the same generators with a
few hundred cases.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import copy
import io
import json
import random
import re
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from zksolv.core import fixedpoint as fp  # noqa: E402
from zksolv.core.account import Account, Position  # noqa: E402
from zksolv.core.errors import ZksolvError  # noqa: E402
from zksolv.core.market import MarketState  # noqa: E402

P = fp.FIELD_MODULUS
RESULTS = ROOT / "benchmarks" / "results" / "fuzz.json"

#: junk values substituted for a JSON leaf or node
JUNK: tuple[Any, ...] = (
    None, True, False, [], {}, "", "abc", "0x", "0x10", "1_000", "１２", "1e400", "-1e400", "1e-400", "NaN", "Infinity",
    "-Infinity", 1.5, -1, 0, 2**52, -(2**52), 2**64, 10**30, P, P - 1, 1e308, -1e308, [1, 2], {"a": 1}, "\u0000",
    "../../etc/passwd", "🙂", "1" * 80, "9" * 400,
)


@dataclass
class Context:
    """Valid documents the generators mutate, plus an optional real proof bundle."""

    market: MarketState
    market_text: str
    account: Account
    account_text: str
    statement_text: str
    tmp: Path
    bundle: Any = None  # zksolv.prover.prove.ProofBundle or None
    other_vk: dict[str, Any] | None = None  # a verification key of another circuit (2 public inputs)
    proof_dir: Path | None = None  # a saved valid proof folder (CLI verify)


@dataclass
class Tally:
    cases: int = 0
    clean: int = 0
    accepted: int = 0
    crash: int = 0
    wrong: int = 0
    signatures: collections.Counter = field(default_factory=collections.Counter)
    examples: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------- helpers
def small_market() -> MarketState:
    """The small demo market the tests use: 2 underlyings, 20 instruments, 4 assets, 16 scenarios."""
    from zksolv.app.demo import demo_market

    return demo_market(n_strikes=3, n_expiries=1)


def sample_account(market: MarketState) -> Account:
    syms = [i.symbol for i in market.instruments]
    positions = (Position(syms[4], -1_234_567), Position(syms[5], -2_345_678), Position(syms[1], 3_141_592))
    return Account(positions, {"USDC": 98_765_432_101, "BTC": 1_234_567}, Account.new_salt()).validated(market)


def sample_statement_text(market: MarketState) -> str:
    from zksolv.proofs.statement import Statement
    from zksolv.core.commitments import market_root

    st = Statement(tier="avsl_n4_u2_a4_k16_d3_stress", circuit_hash="ab" * 32, risk_mode="stress",
                   epoch=market.epoch, market_root=str(market_root(market)), account_commitment="12345",
                   setup_route="dev", insecure_setup=True)
    return json.dumps(st.__dict__, indent=1) + "\n"


def make_context(tmp: Path, *, with_proof: bool = False) -> Context:
    market = small_market()
    account = sample_account(market)
    ctx = Context(market, market.to_json(), account, account.to_json(), sample_statement_text(market), tmp)
    if with_proof:
        attach_proof(ctx)
    return ctx


def attach_proof(ctx: Context) -> None:
    """Prove ``ctx.account`` (cached small tier) and build a verification key of another circuit."""
    from zksolv.prover.prove import prove
    from zksolv import toolchain
    from zksolv.toolchain import trusted_setup

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx.bundle = prove(ctx.account, ctx.market, n_positions=4)
        toy = toolchain.compile_cached(ROOT / "tests" / "circuits" / "two_public.circom")
        ctx.other_vk = trusted_setup.dev_setup(toy).load_verification_key()
    ctx.proof_dir = ctx.tmp / "proof"
    ctx.bundle.save(ctx.proof_dir)
    ctx.market.save(ctx.tmp / "market.json")


def _leaves(node: Any, path: tuple = ()) -> list[tuple]:
    """Every path (tuple of keys/indices) in a JSON tree, nodes and leaves alike."""
    out = [path] if path else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _leaves(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _leaves(v, path + (i,))
    return out


def _set(node: Any, path: tuple, value: Any) -> Any:
    node = copy.deepcopy(node)
    cur = node
    for key in path[:-1]:
        cur = cur[key]
    cur[path[-1]] = value
    return node


def _delete(node: Any, path: tuple) -> Any:
    node = copy.deepcopy(node)
    cur = node
    for key in path[:-1]:
        cur = cur[key]
    del cur[path[-1]]
    return node


def _numeric_paths(node: Any) -> list[tuple]:
    def numeric(v: Any) -> bool:
        if isinstance(v, bool):
            return False
        if isinstance(v, (int, float)):
            return True
        if isinstance(v, str):
            try:
                float(v)
                return True
            except ValueError:
                return v.startswith("0x")
        return False

    out = []
    for path in _leaves(node):
        cur = node
        for key in path:
            cur = cur[key]
        if numeric(cur):
            out.append(path)
    return out


def _mutate_tree(rng: random.Random, data: Any) -> Any:
    paths = _leaves(data)
    path = rng.choice(paths)
    roll = rng.random()
    if roll < 0.15 and len(path) >= 1:
        return _delete(data, path)
    if roll < 0.25:
        return _set(data, path, _mutate_tree(rng, data) if isinstance(data, dict) and rng.random() < 0.1 else rng.choice(JUNK))
    return _set(data, path, rng.choice(JUNK))


def _raw_json_with(text_data: Any, path: tuple, literal: str) -> str:
    """JSON text of ``text_data`` with the value at ``path`` replaced by a raw ``literal`` (e.g. NaN)."""
    marker = "__ZKSOLV_FUZZ_MARKER__"
    return json.dumps(_set(text_data, path, marker)).replace(json.dumps(marker), literal)


def _flip_bytes(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(buf))
        r = rng.random()
        if r < 0.4:
            buf[i] ^= 1 << rng.randrange(8)
        elif r < 0.8:
            buf[i] = rng.randrange(256)
        else:
            buf[i] = ord(rng.choice('0123456789{}[]",:-.eE '))
    return bytes(buf)


def _write(ctx: Context, name: str, data: bytes | str) -> Path:
    path = ctx.tmp / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(data)
    return path


# ---------------------------------------------------------------- case kinds
# A case returns "clean", "accepted" or "wrong"; any exception other than
# ZksolvError escaping it is a crash (classified by the runner).

def _load_market_file(ctx: Context, data: bytes | str) -> str:
    try:
        MarketState.load(_write(ctx, "market_fuzz.json", data))
    except ZksolvError:
        return "clean"
    return "accepted"


def _load_account_file(ctx: Context, data: bytes | str, *, must_fail: bool = False) -> str:
    try:
        acct = Account.load(_write(ctx, "account_fuzz.json", data))
        acct.position_slots(ctx.market)
        acct.balances(ctx.market)
    except ZksolvError:
        return "clean"
    return "wrong" if must_fail else "accepted"


def _load_statement_file(ctx: Context, data: bytes | str) -> str:
    from zksolv.proofs.statement import Statement

    try:
        Statement.load(_write(ctx, "statement_fuzz.json", data))
    except ZksolvError:
        return "clean"
    return "accepted"


def _verify(ctx: Context, proof: Any, public: Any, vk: Any, *, original: bool = False) -> str:
    from zksolv.verifier.verify import verify

    verdict = verify(proof, public, ctx.market, vk)
    if verdict.valid:
        return "accepted" if original else "wrong"
    return "clean"


def _truncate(rng: random.Random, text: str) -> str:
    body = text.rstrip()
    return body[: rng.randrange(len(body))]


def gen_market_truncated(rng: random.Random, ctx: Context) -> Callable[[], str]:
    text = _truncate(rng, ctx.market_text)
    return lambda: "wrong" if _load_market_file(ctx, text) == "accepted" else "clean"


def gen_account_truncated(rng: random.Random, ctx: Context) -> Callable[[], str]:
    text = _truncate(rng, ctx.account_text)
    return lambda: _load_account_file(ctx, text, must_fail=True)


def gen_statement_truncated(rng: random.Random, ctx: Context) -> Callable[[], str]:
    text = _truncate(rng, ctx.statement_text)
    return lambda: "wrong" if _load_statement_file(ctx, text) == "accepted" else "clean"


def gen_market_byteflip(rng: random.Random, ctx: Context) -> Callable[[], str]:
    data = _flip_bytes(rng, ctx.market_text.encode())
    return lambda: _load_market_file(ctx, data)


def gen_account_byteflip(rng: random.Random, ctx: Context) -> Callable[[], str]:
    data = _flip_bytes(rng, ctx.account_text.encode())
    return lambda: _load_account_file(ctx, data)


def gen_statement_byteflip(rng: random.Random, ctx: Context) -> Callable[[], str]:
    data = _flip_bytes(rng, ctx.statement_text.encode())
    return lambda: _load_statement_file(ctx, data)


def gen_market_wrong_types(rng: random.Random, ctx: Context) -> Callable[[], str]:
    text = json.dumps(_mutate_tree(rng, json.loads(ctx.market_text)))
    return lambda: _load_market_file(ctx, text)


def gen_account_wrong_types(rng: random.Random, ctx: Context) -> Callable[[], str]:
    text = json.dumps(_mutate_tree(rng, json.loads(ctx.account_text)))
    return lambda: _load_account_file(ctx, text)


def gen_statement_wrong_types(rng: random.Random, ctx: Context) -> Callable[[], str]:
    text = json.dumps(_mutate_tree(rng, json.loads(ctx.statement_text)))
    return lambda: _load_statement_file(ctx, text)


def _nonfinite_literal(rng: random.Random) -> str:
    return rng.choice(["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])


def gen_nan_inf(rng: random.Random, ctx: Context) -> Callable[[], str]:
    which = rng.choice(["market", "account", "statement"])
    doc = json.loads({"market": ctx.market_text, "account": ctx.account_text, "statement": ctx.statement_text}[which])
    paths = _numeric_paths(doc) or _leaves(doc)
    text = _raw_json_with(doc, rng.choice(paths), _nonfinite_literal(rng))
    loader = {"market": _load_market_file, "account": _load_account_file, "statement": _load_statement_file}[which]
    return lambda: "wrong" if loader(ctx, text) == "accepted" and which != "statement" else "clean"


def _huge_literal(rng: random.Random) -> tuple[str, bool]:
    """``(raw JSON literal, must_refuse)``: huge magnitudes, absurd exponents, excess precision."""
    r = rng.random()
    if r < 0.25:
        return str(rng.choice([1, -1]) * 10 ** rng.randint(20, 600)), False
    if r < 0.4:
        return json.dumps(f"{rng.choice(['', '-'])}1e{rng.randint(20, 10**6)}"), False
    if r < 0.5:
        return json.dumps(f"1e{rng.randint(10**6, 10**18)}"), True  # beyond decimal's default Emax
    if r < 0.6:
        return json.dumps(f"1e-{rng.choice([rng.randint(30, 10**6), rng.randint(10**7, 10**18)])}"), True
    if r < 0.7:
        return str(rng.choice([1e300, -1e300, 1.7976931348623157e308])), False
    if r < 0.85:
        return json.dumps("1." + "0" * rng.randint(25, 60) + "1"), True  # more precision than the scale
    return "9" * rng.randint(4301, 6000), True  # beyond Python's int-from-string digit limit


def gen_huge_numbers(rng: random.Random, ctx: Context) -> Callable[[], str]:
    which = rng.choice(["market", "account", "statement"])
    doc = json.loads({"market": ctx.market_text, "account": ctx.account_text, "statement": ctx.statement_text}[which])
    paths = _numeric_paths(doc) or _leaves(doc)
    literal, must_refuse = _huge_literal(rng)
    text = _raw_json_with(doc, rng.choice(paths), literal)
    loader = {"market": _load_market_file, "account": _load_account_file, "statement": _load_statement_file}[which]
    must_refuse = must_refuse and which != "statement"  # statement fields are free-form strings

    def case() -> str:
        outcome = loader(ctx, text)
        return "wrong" if must_refuse and outcome == "accepted" else outcome
    return case


def gen_unknown_instrument(rng: random.Random, ctx: Context) -> Callable[[], str]:
    doc = json.loads(ctx.account_text)
    alphabet = "ABCXYZ-_0123456789 \u00e9\u4e2d\U0001f642"
    name = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30)))
    if rng.random() < 0.6:
        doc["positions"][rng.randrange(len(doc["positions"]))]["instrument"] = name + "?"
    else:
        doc["collateral"][name + "?"] = "1"
    text = json.dumps(doc)
    return lambda: _load_account_file(ctx, text, must_fail=True)


def gen_out_of_range_account(rng: random.Random, ctx: Context) -> Callable[[], str]:
    """Accounts built in Python (not JSON) beyond a bit width or the field: refused before any proving."""
    from zksolv.prover.witness import circuit_inputs
    from zksolv.toolchain.circuitgen import Tier

    syms = [i.symbol for i in ctx.market.instruments]
    kind = rng.choice(["qty", "bal", "negbal", "salt", "negsalt", "boolsalt", "too_many"])
    big = rng.choice([1 << fp.QTY_BITS, (1 << fp.QTY_BITS) + rng.randrange(1 << 60), P, P + 1, 2**256])
    positions = [Position(syms[0], 1)]
    coll, salt = {"USDC": 10**12}, 1
    if kind == "qty":
        positions = [Position(syms[0], rng.choice([1, -1]) * big)]
    elif kind == "bal":
        coll = {"USDC": big}
    elif kind == "negbal":
        coll = {"USDC": -rng.randint(1, 2**70)}
    elif kind == "salt":
        salt = P + rng.randrange(2**250)
    elif kind == "negsalt":
        salt = -rng.randint(1, P)
    elif kind == "boolsalt":
        salt = True  # type: ignore[assignment]
    else:
        positions = [Position(s, 1) for s in syms[:5]]
    account = Account(tuple(positions), coll, salt)

    def case() -> str:
        try:
            circuit_inputs(account, ctx.market, Tier.for_market(ctx.market, 4))
        except ZksolvError:
            return "clean"
        return "wrong"

    return case


def _mutate_json_leaf_digits(rng: random.Random, data: Any) -> Any:
    """Change one decimal-string leaf (a coordinate or signal) by a digit or a small offset."""
    paths = [p for p in _leaves(data) if isinstance(_get(data, p), str) and _get(data, p).isdigit()]
    path = rng.choice(paths)
    value = _get(data, path)
    r = rng.random()
    if r < 0.4:
        new = str(int(value) + rng.choice([1, -1, 2, P]))
    elif r < 0.7:
        i = rng.randrange(len(value))
        new = value[:i] + rng.choice("0123456789".replace(value[i], "")) + value[i + 1:]
    else:
        new = str(P - int(value)) if int(value) else "1"
    return _set(data, path, new)


def _get(data: Any, path: tuple) -> Any:
    for key in path:
        data = data[key]
    return data


def _same_proof(a: Any, b: Any) -> bool:
    """Same curve points (a mutation that only dropped 'protocol' or the z coordinate is not hostile)."""
    from zksolv.verifier.groth16 import parse_proof

    try:
        return parse_proof(a) == parse_proof(b)
    except ZksolvError:
        return False


def _same_vk(a: Any, b: Any) -> bool:
    from zksolv.verifier.groth16 import parse_verification_key

    try:
        x, y = parse_verification_key(a), parse_verification_key(b)
    except ZksolvError:
        return False
    return (x.alpha, x.beta, x.gamma, x.delta, x.ic) == (y.alpha, y.beta, y.gamma, y.delta, y.ic)


def gen_proof_mutated(rng: random.Random, ctx: Context) -> Callable[[], str]:
    b = ctx.bundle
    r = rng.random()
    if r < 0.45:
        proof = _mutate_json_leaf_digits(rng, b.proof)
    elif r < 0.9:
        proof = _mutate_tree(rng, b.proof)
    else:
        text = _truncate(rng, json.dumps(b.proof))
        try:
            proof = json.loads(text)
        except ValueError:
            proof = text
    return lambda: _verify(ctx, proof, b.public, b.verification_key, original=_same_proof(proof, b.proof))


def gen_public_mutated(rng: random.Random, ctx: Context) -> Callable[[], str]:
    b = ctx.bundle
    r = rng.random()
    if r < 0.5:
        public = _mutate_json_leaf_digits(rng, b.public)
    elif r < 0.8:
        public = _mutate_tree(rng, b.public)
    else:
        public = rng.choice([[], [b.public[0]], b.public + ["0"], b.public[::-1], "x", None, {"0": b.public[0]}])
    return lambda: _verify(ctx, b.proof, public, b.verification_key, original=public == b.public)


def gen_vk_mutated(rng: random.Random, ctx: Context) -> Callable[[], str]:
    b = ctx.bundle
    vk = _mutate_json_leaf_digits(rng, b.verification_key) if rng.random() < 0.5 else _mutate_tree(rng, b.verification_key)
    return lambda: _verify(ctx, b.proof, b.public, vk, original=_same_vk(vk, b.verification_key))


def gen_wrong_vk(rng: random.Random, ctx: Context) -> Callable[[], str]:
    """The proof checked against another circuit's key (same number of public inputs): invalid."""
    b = ctx.bundle
    return lambda: _verify(ctx, b.proof, b.public, ctx.other_vk)


def _cli_outcome(result: Any, *, may_succeed: bool) -> str:
    out = result.output or ""  # click >= 8.2: stdout and stderr interleaved
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    if "Traceback" in out:
        raise RuntimeError("traceback printed")
    if result.exit_code == 0:
        return "accepted" if may_succeed else "wrong"
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    if len(errors) != 1 and result.exit_code != 1:
        raise RuntimeError(f"exit {result.exit_code} without exactly one 'error:' line")
    return "clean"


def gen_cli(rng: random.Random, ctx: Context) -> Callable[[], str]:
    """A sample of the above through the real CLI (CliRunner): exit code and one-line error."""
    from click.testing import CliRunner

    from zksolv.verifier.groth16 import parse_proof
    from zksolv.cli import main

    mpath, apath = ctx.tmp / "cli_market.json", ctx.tmp / "cli_account.json"
    good_market = ctx.tmp / "cli_good_market.json"
    choices = ["market", "account_report", "account_commit"] + (["verify_proof", "verify_public", "verify_statement"]
                                                                  if ctx.proof_dir else [])
    kind = rng.choice(choices)
    mut = rng.choice(["truncate", "flip", "types"])

    def mutate(text: str) -> bytes:
        if mut == "truncate":
            return _truncate(rng, text).encode()
        if mut == "flip":
            return _flip_bytes(rng, text.encode())
        return json.dumps(_mutate_tree(rng, json.loads(text))).encode()

    runner = CliRunner()
    if kind == "market":
        data = mutate(ctx.market_text)

        def case() -> str:
            mpath.write_bytes(data)
            return _cli_outcome(runner.invoke(main, ["market", "commit", str(mpath)]), may_succeed=mut != "truncate")
        return case
    if kind.startswith("account"):
        data = mutate(ctx.account_text)

        def case() -> str:
            good_market.write_text(ctx.market_text)
            apath.write_bytes(data)
            args = (["report", "--no-prices"] if kind == "account_report" else ["commit"])
            res = runner.invoke(main, [*args, "--account", str(apath), "--market", str(good_market)])
            return _cli_outcome(res, may_succeed=mut != "truncate")
        return case
    name = {"verify_proof": "proof.json", "verify_public": "public.json", "verify_statement": "statement.json"}[kind]
    original = (ctx.proof_dir / name).read_text()
    data = mutate(original)

    def case() -> str:
        folder = ctx.tmp / "cli_proof"
        folder.mkdir(exist_ok=True)
        for f in ("proof.json", "public.json", "statement.json", "verification_key.json"):
            (folder / f).write_text((ctx.proof_dir / f).read_text())
        (folder / name).write_bytes(data)
        res = runner.invoke(main, ["verify", "--proof", str(folder), "--market", str(ctx.tmp / "market.json"),
                                   "--dev-key"])
        try:  # a flip that only touched whitespace leaves the same document: success is then correct
            same_doc = json.loads(data) == json.loads(original)
            if not same_doc and name == "proof.json":  # e.g. a dropped projective z = 1: the same points
                same_doc = parse_proof(json.loads(data)) == parse_proof(json.loads(original))
        except (ValueError, ZksolvError):
            same_doc = False
        same = same_doc or (name == "statement.json" and res.exit_code == 0)
        return _cli_outcome(res, may_succeed=same)
    return case


#: category -> (generator, needs a proof bundle, relative weight)
CATEGORIES: dict[str, tuple[Callable[[random.Random, Context], Callable[[], str]], bool, float]] = {
    "market_truncated": (gen_market_truncated, False, 1.0),
    "account_truncated": (gen_account_truncated, False, 1.0),
    "statement_truncated": (gen_statement_truncated, False, 0.5),
    "market_byteflip": (gen_market_byteflip, False, 1.0),
    "account_byteflip": (gen_account_byteflip, False, 1.0),
    "statement_byteflip": (gen_statement_byteflip, False, 0.5),
    "market_wrong_types": (gen_market_wrong_types, False, 1.0),
    "account_wrong_types": (gen_account_wrong_types, False, 1.0),
    "statement_wrong_types": (gen_statement_wrong_types, False, 0.5),
    "nan_inf": (gen_nan_inf, False, 0.7),
    "huge_numbers": (gen_huge_numbers, False, 0.7),
    "unknown_instrument": (gen_unknown_instrument, False, 0.5),
    "out_of_range_account": (gen_out_of_range_account, False, 0.5),
    "proof_mutated": (gen_proof_mutated, True, 0.3),  # fewer: a mutation that stays on the curve costs a pairing
    "public_mutated": (gen_public_mutated, True, 0.25),
    "vk_mutated": (gen_vk_mutated, True, 0.15),
    "wrong_vk_other_circuit": (gen_wrong_vk, True, 0.02),
    "cli": (gen_cli, False, 0.3),
}


def _signature(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in tb if "/zksolv/" in f.filename or "/verifier/" in f.filename or "/prover/" in f.filename]
    where = frames[-1] if frames else (tb[-1] if tb else None)
    loc = f"{Path(where.filename).parent.name}/{Path(where.filename).name}:{where.lineno} {where.name}" if where else "?"
    msg = re.sub(r"0x[0-9a-f]+|\d+", "N", str(exc))[:80]
    return f"{type(exc).__name__} at {loc}: {msg}"


def run(n_cases: int, seed: int = 1, ctx: Context | None = None, *, categories: list[str] | None = None,
        progress: bool = False) -> dict[str, Tally]:
    """Run ``n_cases`` cases spread over ``categories`` by weight; returns tallies per category."""
    own_tmp = None
    if ctx is None:
        own_tmp = tempfile.TemporaryDirectory(prefix="zksolv-fuzz-")
        ctx = make_context(Path(own_tmp.name))
    names = [c for c in (categories or list(CATEGORIES)) if ctx.bundle is not None or not CATEGORIES[c][1]]
    weights = [CATEGORIES[c][2] for c in names]
    total = sum(weights)
    counts = {c: max(1, round(n_cases * w / total)) for c, w in zip(names, weights)}
    rng = random.Random(seed)
    tallies = {c: Tally() for c in names}
    done = 0
    try:
        for cat in names:
            gen = CATEGORIES[cat][0]
            tally = tallies[cat]
            for _ in range(counts[cat]):
                tally.cases += 1
                try:
                    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
                        warnings.simplefilter("ignore")
                        outcome = gen(rng, ctx)()
                except ZksolvError:
                    outcome = "clean"  # raised while building the case (cannot happen for valid bases)
                except Exception as exc:  # noqa: BLE001 - that is the point: count everything else
                    outcome = "crash"
                    sig = _signature(exc)
                    tally.signatures[sig] += 1
                    tally.examples.setdefault(sig, cat)
                if outcome == "wrong":
                    tally.signatures[f"WRONG: hostile input accepted in {cat}"] += 1
                setattr(tally, outcome, getattr(tally, outcome) + 1)
                done += 1
                if progress and done % 1000 == 0:
                    print(f"  {done} cases ...", file=sys.stderr)
    finally:
        if own_tmp is not None:
            own_tmp.cleanup()
    return tallies


def table(tallies: dict[str, Tally]) -> str:
    lines = [f"{'category':<26}{'cases':>7}{'clean':>7}{'accepted':>9}{'crashes':>9}{'wrong':>7}"]
    tot = Tally()
    for cat, t in tallies.items():
        lines.append(f"{cat:<26}{t.cases:>7}{t.clean:>7}{t.accepted:>9}{t.crash:>9}{t.wrong:>7}")
        for k in ("cases", "clean", "accepted", "crash", "wrong"):
            setattr(tot, k, getattr(tot, k) + getattr(t, k))
    lines.append(f"{'TOTAL':<26}{tot.cases:>7}{tot.clean:>7}{tot.accepted:>9}{tot.crash:>9}{tot.wrong:>7}")
    return "\n".join(lines)


def crash_signatures(tallies: dict[str, Tally]) -> collections.Counter:
    out: collections.Counter = collections.Counter()
    for t in tallies.values():
        out.update(t.signatures)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-proof", action="store_true", help="skip the proof/verifier categories (no node needed)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="zksolv-fuzz-") as tmp:
        ctx = make_context(Path(tmp), with_proof=not args.no_proof)
        setup_s = time.perf_counter() - started
        tallies = run(args.cases, args.seed, ctx, progress=True)
    elapsed = time.perf_counter() - started
    print(table(tallies))
    sigs = crash_signatures(tallies)
    if sigs:
        print("\ncrash / wrong signatures:")
        for sig, n in sigs.most_common():
            print(f"  {n:6d}  {sig}")
    report = {
        "cases": sum(t.cases for t in tallies.values()),
        "crashes": sum(t.crash for t in tallies.values()),
        "wrong": sum(t.wrong for t in tallies.values()),
        "seed": args.seed,
        "seconds": round(elapsed, 1),
        "setup_seconds": round(setup_s, 1),
        "categories": {c: {"cases": t.cases, "clean": t.clean, "accepted": t.accepted, "crashes": t.crash,
                           "wrong": t.wrong, "signatures": dict(t.signatures)} for c, t in tallies.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\n{report['cases']} cases in {elapsed:.1f} s; crashes {report['crashes']}, wrong {report['wrong']}; "
          f"wrote {args.out}")
    return 0 if report["crashes"] == 0 and report["wrong"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
