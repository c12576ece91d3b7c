"""The package layout is the architecture: one import root, layers that import only the layers
above them, and the README's layout table saying exactly which.

Every ``import`` / ``from ... import`` statement under ``zksolv/`` is parsed, including the lazy
ones inside functions (a lazy import is still a dependency: it decides what a keeper's process
may end up loading).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "zksolv"
#: The README's table, top to bottom: a layer may import only layers listed before it.
ROW = re.compile(r"^\| `zksolv/(\w+)/` \| .* \| (.*) \|$", re.M)


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "zksolv":
                names.update(f"zksolv.{a.name}" for a in node.names)
            else:
                names.add(node.module)
    return names


def package_graph() -> dict[str, set[str]]:
    """Layer -> the other layers its modules import (``zksolv/__init__.py`` and ``zksolv/_data`` aside)."""
    layers = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    graph: dict[str, set[str]] = {layer: set() for layer in layers}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        if len(parts) < 2:
            continue
        for name in _imported_modules(path):
            bits = name.split(".")
            if bits[0] == "zksolv" and len(bits) > 1 and bits[1] != parts[0]:
                graph[parts[0]].add(bits[1])
    return graph


def readme_layers() -> list[tuple[str, set[str]]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = ROW.findall(text)
    assert rows, "README.md: no layout table rows `| `zksolv/<layer>/` | what | imports |`"
    names = {name for name, _ in rows}
    # layer names in the column, outside parentheses (which name outside packages and remarks)
    return [(name, {w for w in re.findall(r"\b[a-z]+\b", re.sub(r"\([^)]*\)", "", imports)) if w in names})
            for name, imports in rows]


def test_every_import_targets_a_layer() -> None:
    graph = package_graph()
    unknown = {(layer, dep) for layer, deps in graph.items() for dep in deps if dep not in graph}
    assert not unknown, f"imports of zksolv.<name> that is no layer: {sorted(unknown)}"


def test_the_layers_form_no_cycle_and_match_the_readme_table() -> None:
    graph = package_graph()
    rows = readme_layers()
    assert [name for name, _ in rows] and {name for name, _ in rows} == set(graph), \
        f"README layout table lists {sorted(n for n, _ in rows)}, the package has {sorted(graph)}"
    seen: set[str] = set()
    for name, documented in rows:
        assert graph[name] == documented, \
            f"zksolv/{name}/ imports {sorted(graph[name])}; the README's table says {sorted(documented)}"
        upward = graph[name] - seen
        assert not upward, f"zksolv/{name}/ imports {sorted(upward)}, listed below it: an arrow running back up"
        seen.add(name)


def test_the_check_sees_a_lazy_import_running_back_up(tmp_path: Path) -> None:
    """The parser counts an import inside a function (what a lazy arrow back up would look like)."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from zksolv.cli.common import emit\n    import zksolv.app.demo\n")
    assert _imported_modules(module) == {"zksolv.cli.common", "zksolv.app.demo"}
