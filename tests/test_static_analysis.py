"""Static analysis of the margin circuits (issue "Soundness", part 2).

* ``circom --inspect`` (circom2 = circom 2.2.3) on the main of every margin
  tier the tests use plus a wider tier per risk mode (and the revaluation
  mode's chunk and final circuits): every warning must
  match :data:`INSPECT_ALLOWED`, whose entries carry their justification
  (triage in docs/static_analysis.md). The deliberately broken
  tests/circuits/underconstrained_demo.circom proves the filter is not vacuous.
* circheck (PyPI, optional): run on a wrapper main per arithmetic template
  when a circheck is available (``ZKSOLV_CIRCHECK`` = path of its CLI, or
  ``circheck`` on PATH); findings must match :data:`CIRCHECK_ALLOWED`.
  circheck cannot analyse ``AvslSolvency`` itself, nor the Poseidon-based
  templates in reasonable time: see docs/static_analysis.md.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from zksolv import toolchain
from tests.tiers import SOUNDNESS_TIERS
from zksolv.toolchain.circuitgen import (PRAGMA, ChunkTier, FinalTier, Tier, circuits_dir, constants_source, include_dirs,
                                         write_main)
from zksolv.core.market import RiskMode

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "static-analysis"
BROKEN = Path(__file__).parent / "circuits" / "underconstrained_demo.circom"
STRESS, ES, VAR, REVAL = RiskMode.STRESS, RiskMode.ES, RiskMode.VAR, RiskMode.REVALUATION

TIERS = list(SOUNDNESS_TIERS.values())
#: The revaluation mode's own chunked pair (its chunk circuit depends on K and the mode).
CHUNKED_TIERS = [ChunkTier(8, 2, 2, 4, REVAL), FinalTier(2, 2, 4, REVAL)]


# ============================================================== circom --inspect
@dataclass(frozen=True)
class InspectWarning:
    """One ``warning[CODE]`` block of ``circom --inspect``."""

    code: str
    template: str
    message: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.template}: {self.message}"


@dataclass(frozen=True)
class Allowed:
    """An allow-list entry: regexes on code, template and message, plus why it is harmless."""

    code: str
    template: str
    message: str
    why: str

    def matches(self, w: InspectWarning) -> bool:
        return (re.fullmatch(self.code, w.code) is not None
                and re.fullmatch(self.template, w.template) is not None
                and re.search(self.message, w.message) is not None)


INSPECT_ALLOWED = (
    Allowed(
        "CA02", r"(RangeCheck|SignedRangeCheck|NonNegSlack)\(\d+\)",
        r"signals bits\.out contains a total of \d+ signals that do not appear in any constraint of the father",
        "The range-check wrappers use circomlib Num2Bits(n) only for its constraints: each bit is constrained "
        "boolean and sum(bits*2^i) === in inside Num2Bits; the parent never needs the bits. Inspecting Num2Bits "
        "itself raises nothing. The tamper sweep confirms every bit wire is rejected.",
    ),
    *(Allowed(
        "CA01", rf"MarginStatement\(\d+,\d+,{mode}\)",
        rf"(Local signal ({names})(\[\d+\])* does not|Array of local signals ({names}) contains a total of \d+ "
        rf"signals that do not) appear in any constraint",
        "MarginStatement(U, K, MODE) takes every greeks mode's market parameters so that AvslSolvency and "
        "AvslFinal wire it alike for any MODE; each mode computes with its own only (stress: dS, dsig; es: dS, "
        "dsig, w, es_level; var: a, g, vs). The others are still bound: the caller feeds the same signals to "
        "MarketBinding, whose ParamsHash is checked against market_root, and the tamper sweep rejects every "
        "wire. (Red on main before issue 16: the template split left this warning untriaged.)",
    ) for mode, names in ((0, "es_level|w|a|g|vs"), (1, "a|g|vs"), (2, "dS|dsig|w|es_level"))),
    Allowed(
        "CA02", r"SignBit\(\d+\)",
        r"signals bits\.out contains a total of \d+ signals that do not appear in any constraint of the father",
        "RiskEs' SignBit(n) decomposes L_k - t + 2^n with circomlib Num2Bits(n+1) for its range check and keeps "
        "only the top bit (the sign, which selects e_k = max(0, L_k - t)); the lower n bits are needed only for "
        "their constraints inside Num2Bits (each boolean, sum(bits*2^i) === in), exactly as in RangeCheck. The "
        "tamper sweep rejects every bit wire.",
    ),
    Allowed(
        "CA02", r"PositionGreeks\(1\)", r"onehot\.sel\[0\] does not appear in any constraint",
        "U == 1 only: OneHot(1) constrains idx === 0 and sets sel[0] <== 1; PositionGreeks(1) routes every "
        "contribution to the single underlying without multiplying by the constant selector, so sel[0] is "
        "intentionally unused. Nothing is left free (sel[0] is the constant 1).",
    ),
)

_BLOCK = re.compile(r"^(warning|error)\[(\w+)\]: (.*)$")
_TEMPLATE = re.compile(r'In template "([^"]+)"')
_TRACE = re.compile(r"->\s*([\w$]+(?:\([^)]*\))?)")


def _strip(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def parse_inspect(stderr: str) -> tuple[list[InspectWarning], list[str]]:
    """``(warnings, errors)`` from circom's stderr (``--inspect`` prints warning blocks there)."""
    warnings: list[InspectWarning] = []
    errors: list[str] = []
    lines = _strip(stderr).splitlines()
    for i, line in enumerate(lines):
        m = _BLOCK.match(line.strip())
        if not m:
            continue
        kind, code, message = m.groups()
        if kind == "error":
            errors.append(f"[{code}] {message}")
            continue
        template = _TEMPLATE.search(message)
        name = template.group(1) if template else ""
        if not name:  # e.g. T3002: the template is in the call trace below
            for follow in lines[i + 1 : i + 15]:
                t = _TRACE.search(follow)
                if t:
                    name = t.group(1)
                    break
        warnings.append(InspectWarning(code, name, message))
    return warnings, errors


def inspect(source: Path, extra_includes: list[Path], out_dir: Path) -> tuple[list[InspectWarning], list[str]]:
    """Run ``circom --inspect`` on ``source``; return its warnings and errors."""
    out_dir.mkdir(parents=True, exist_ok=True)
    args: list[str | os.PathLike[str]] = [
        toolchain.node_module_path(*toolchain.CIRCOM2_CLI), source, "--inspect", "-o", out_dir,
        "-l", toolchain.node_module_path()]
    for inc in extra_includes:
        args += ["-l", inc]
    proc = toolchain.run_node(args, timeout=600, what=f"circom --inspect {source.name}", check=False)
    warnings, errors = parse_inspect(proc.stderr + "\n" + proc.stdout)
    if proc.returncode != 0 and not errors:
        errors.append(_strip(proc.stderr or proc.stdout)[-500:])
    return warnings, errors


def unexplained(warnings: list[InspectWarning]) -> list[str]:
    """Warnings no allow-list entry covers."""
    return [str(w) for w in warnings if not any(a.matches(w) for a in INSPECT_ALLOWED)]


def test_parse_inspect_blocks() -> None:
    text = ('\x1b[1mwarning[CA02]\x1b[0m: In template "RangeCheck(52)": Array of subcomponent input/output '
            "signals bits.out contains a total of 52 signals that do not appear in any constraint of the father "
            "component\n warning[T3002]: Consider using <== instead of <--\n  = call trace:\n     ->Foo\n"
            "error[P1014]: The file x.circom to be included has not been found\n")
    warnings, errors = parse_inspect(text)
    assert [(w.code, w.template) for w in warnings] == [("CA02", "RangeCheck(52)"), ("T3002", "Foo")]
    assert errors == ["[P1014] The file x.circom to be included has not been found"]
    assert unexplained(warnings) == [str(warnings[1])]


def test_inspect_flags_the_underconstrained_demo(tmp_path: Path) -> None:
    """Sanity: the allow-list does not hide real under-constraints."""
    warnings, errors = inspect(BROKEN, [], tmp_path)
    assert not errors
    found = {(w.code, w.template) for w in warnings}
    assert ("T3002", "UnderconstrainedDemo") in found
    assert sum(w.code == "CA01" for w in warnings) == 2  # `half` and `unused`
    assert len(unexplained(warnings)) == len(warnings) == 3


@pytest.mark.slow
@pytest.mark.parametrize("tier", TIERS + CHUNKED_TIERS, ids=lambda t: t.name)
def test_inspect_margin_tier_has_only_triaged_warnings(tier: Tier) -> None:
    main = write_main(tier, BUILD / "src")
    warnings, errors = inspect(main, include_dirs(), BUILD / "out" / tier.name)
    assert not errors, errors
    print(f"\n[inspect] {tier.name}: {len(warnings)} warnings: "
          + ", ".join(sorted(f"{w.code} {w.template}" for w in warnings)))
    assert not unexplained(warnings), unexplained(warnings)


# ============================================================== circheck (optional)
#: circheck wrappers: name -> (file to include, template instance). The
#: Poseidon-based templates are left out (circheck needs minutes to parse
#: circomlib's Poseidon constants and a raised recursion limit).
CIRCHECK_WRAPPERS = {
    "range_check": ("range.circom", "RangeCheck(52)"),
    "signed_range": ("range.circom", "SignedRangeCheck(52)"),
    "nonneg_slack": ("range.circom", "NonNegSlack(216)"),
    "onehot1": ("aggregate.circom", "OneHot(1)"),
    "onehot3": ("aggregate.circom", "OneHot(3)"),
    "position_greeks": ("aggregate.circom", "PositionGreeks(2)"),
    "aggregate": ("aggregate.circom", "Aggregate(2, 2)"),
    "collateral_lookup": ("aggregate.circom", "CollateralLookup(2)"),
    "scenario_losses": ("scenario_loss.circom", "ScenarioLosses(2, 4)"),
    "risk_stress": ("risk_stress.circom", "RiskStress(2, 4)"),
    "risk_es": ("risk_es.circom", "RiskEs(2, 4)"),
    "risk_var": ("risk_var.circom", "RiskVar(2)"),
    "margin_rounding": ("solvency.circom", "MarginRounding()"),
    "solvency": ("solvency.circom", "Solvency()"),
    "child_placement": ("placement.circom", "ChildPlacement(3)"),
    # the revaluation mode's arithmetic (its leaf and slots are Poseidon-based: left out as above)
    "quantity_range": ("aggregate.circom", "QuantityRange()"),
    "worst_scenario": ("risk_stress.circom", "WorstScenario(2, 4, 112, 113)"),
    "position_pnl1": ("risk_revaluation.circom", "PositionPnl(1, 4)"),
    "position_pnl3": ("risk_revaluation.circom", "PositionPnl(3, 4)"),
    "risk_revaluation": ("risk_revaluation.circom", "RiskRevaluation(2, 4)"),
    "revaluation_margin": ("risk_revaluation.circom", "RevaluationMargin(2, 4)"),
}

#: (template regex, detector, message regex, why).
_ISZERO_WHY = (
    "circomlib IsZero (QuantityRange's q != -2^52, the masked commitment entries): inv <-- in != 0 ? 1/in : 0 "
    "is a guarded hint (no division by zero is evaluated), then out <== 1 - in*inv and in*out === 0 force "
    "out = (in == 0) for every in; inv is forced to 1/in when in != 0 and free only when in == 0, where "
    "nothing depends on it (tests/test_tamper.py ALLOWED_SURVIVORS). (Red on main before issue 16: IsZero "
    "entered PositionGreeks with the q != -2^52 fix and was never triaged here.)")
CIRCHECK_ALLOWED = (
    (r"IsZero", "assignment missue", r"The dataflow for signal 'inv'", _ISZERO_WHY),
    (r"IsZero", "divide by zero", r"divide-by-zero", _ISZERO_WHY),
    (r"IsZero", "nondeterministic data flow", r"conditional assignment depends on a signal", _ISZERO_WHY),
    (r"OneHot@U=\d+", "nondeterministic data flow", r"conditional assignment depends on a signal",
     "OneHot(U > 1): sel[u] <-- idx == u ? 1 : 0 is a hint; it is then constrained boolean, "
     "sum(sel) === 1 and sum(u*sel[u]) === idx, which has exactly one solution for idx in [0, U) and none "
     "otherwise. The tamper sweep (U = 2) rejects every sel wire."),
    (r"IsZero", "nondeterministic data flow", r"conditional assignment depends on a signal",
     "circomlib IsZero: inv <-- in != 0 ? 1/in : 0 is a hint; out <== -in*inv + 1 and in*out === 0 force "
     "out = (in == 0) for any inv. In PositionGreeks the caller adds out === 0 (q != -2^52), which forces "
     "in != 0 and so inv = 1/in: the tamper sweep rejects the wire in every used slot."),
    (r"IsZero", "assignment missue", r"inv",
     "The same IsZero inverse: assigned with <-- because 1/in is not a quadratic expression; the "
     "constraints above pin out (and inv whenever in != 0)."),
    (r"IsZero", "divide by zero", r"divide-by-zero",
     "The same hint: circomlib guards it (in != 0 ? 1/in : 0), so the witness calculator never divides by 0."),
)


def circheck_command() -> list[str] | None:
    """The circheck CLI (``ZKSOLV_CIRCHECK``, the one installed next to this Python, or on PATH), or None."""
    beside = Path(sys.executable).parent / "circheck"
    exe = os.environ.get("ZKSOLV_CIRCHECK") or (str(beside) if beside.exists() else shutil.which("circheck"))
    return [exe] if exe and Path(exe).exists() else None


def write_circheck_wrappers(dest: Path) -> dict[str, Path]:
    """Copy circuits/ to ``dest`` (circheck resolves includes relative to the file only), link
    circomlib next to them and write one wrapper main per :data:`CIRCHECK_WRAPPERS` entry."""
    dest.mkdir(parents=True, exist_ok=True)
    for src in circuits_dir().glob("*.circom"):
        shutil.copy(src, dest / src.name)
    link = dest / "circomlib"
    if not link.exists():
        link.symlink_to(toolchain.node_module_path("circomlib"), target_is_directory=True)
    consts = constants_source()
    out = {}
    for name, (include, instance) in CIRCHECK_WRAPPERS.items():
        path = dest / f"wrap_{name}.circom"
        path.write_text(f'pragma circom {PRAGMA};\ninclude "{include}";\n{consts}\ncomponent main = {instance};\n')
        out[name] = path
    return out


def run_circheck(cmd: list[str], source: Path) -> list[tuple[str, str, str]]:
    """``(template, detector, message)`` findings of circheck on ``source`` (raises if it fails)."""
    report = source.with_suffix(".json")
    proc = subprocess.run([*cmd, source.name, "--json", str(report)], cwd=source.parent,
                          capture_output=True, text=True, timeout=600)
    if "Analysis failed" in proc.stdout or proc.returncode != 0:
        raise AssertionError(f"circheck failed on {source.name}: {proc.stdout[-1500:]}{proc.stderr[-500:]}")
    if not report.exists():  # no findings: circheck writes no report
        return []
    data = json.loads(report.read_text())
    return [(tpl, det, msg) for tpl, dets in data.items() for det, locs in dets.items()
            for msgs in locs.values() for msg in msgs]


@pytest.mark.slow
def test_circheck_findings_are_triaged(tmp_path: Path) -> None:
    cmd = circheck_command()
    if cmd is None:
        pytest.skip("circheck not installed (pip install circheck; set ZKSOLV_CIRCHECK to its CLI)")
    findings = []
    for name, path in write_circheck_wrappers(tmp_path).items():
        findings += [(name, *f) for f in run_circheck(cmd, path)]
    print("\n[circheck] " + "; ".join(f"{n}: {t} {d}: {m}" for n, t, d, m in findings))
    bad = [f for f in findings
           if not any(re.fullmatch(t, f[1]) and d == f[2] and re.search(m, f[3]) for t, d, m, _ in CIRCHECK_ALLOWED)]
    assert not bad, bad
