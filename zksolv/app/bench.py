"""Library entry of ``zksolv bench``: runs ``benchmarks/bench_proving.py`` of this checkout.

The runner lives in ``benchmarks/`` (not an installed package), so it is loaded by path
from :func:`zksolv.toolchain.resources.checkout_root`. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from zksolv.toolchain import resources
from zksolv.core.errors import ToolchainError


def load_runner() -> ModuleType:
    """Import ``benchmarks/bench_proving.py`` of the checkout (the wheel does not ship benchmarks/)."""
    root = resources.checkout_root()
    if root is None:
        raise ToolchainError("zksolv bench runs benchmarks/ of a zksolv checkout (not part of the installed "
                             "package): clone the repository and run it there")
    path = root / "benchmarks" / "bench_proving.py"
    if not path.is_file():
        raise ToolchainError(f"benchmark runner {path} not found (run zksolv bench from a checkout)")
    spec = importlib.util.spec_from_file_location("zksolv_bench_proving", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_bench(quick: bool = False, out: Path | str | None = None, **options: Any) -> dict[str, Any]:
    """Run the proving benchmark (``quick``: the CI subset); results go to ``out`` (default benchmarks/results)."""
    runner = load_runner()
    return runner.run(quick, out=Path(out) if out is not None else runner.RESULTS, **options)


def summary(result: dict[str, Any]) -> str:
    """The markdown table, the setup-route notes and where the files went."""
    lines = [result["table_md"], result["setup_note"]]
    lines += [f"  {r['tier']}: {n}" for r in result["points"] for n in r["notes"]]
    lines += [f"  ERROR {e['mode']} m{e['instruments']} n{e['positions']}: {e['error']}" for e in result["errors"]]
    lines.append(f"duration {result['duration_s']} s; wrote {', '.join(result.get('files', []))}")
    return "\n".join(lines)
