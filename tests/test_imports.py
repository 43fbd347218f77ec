"""The layers of pyproject.toml's [tool.importlinter] hold, and no module is in an import
cycle: checked with import-linter over the source, and shown to catch an import that
climbs a layer."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(source: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=source,
        env={"PYTHONPATH": str(source), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_layers_hold() -> None:
    result = lint_imports(ROOT / "src")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "climbing"),
    [
        ("storage/base.py", "import practicelake.cli"),  # a lower layer reaching for an interface
        ("curate/engine.py", "from practicelake.query import scope"),  # curate -> query
        ("ingest/scan.py", "import practicelake.synth"),  # siblings that must stay apart
        ("query/scope.py", "import rich"),  # terminal drawing below the command line
    ],
)
def test_an_import_that_breaks_a_boundary_is_caught(tmp_path: Path, module: str, climbing: str) -> None:
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "practicelake", copy / "practicelake", ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / "practicelake" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{climbing}  # noqa\n", encoding="utf-8")
    result = lint_imports(copy)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_no_module_is_in_an_import_cycle() -> None:
    assert cycles(grimp.build_graph("practicelake")) == []


def test_the_cycle_finder_finds_a_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "ring"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "a.py").write_text("from ring import b\n", encoding="utf-8")
    (package / "b.py").write_text("from ring import c\n", encoding="utf-8")
    (package / "c.py").write_text("from ring import a\n", encoding="utf-8")
    (package / "d.py").write_text("from ring import a\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert cycles(grimp.build_graph("ring", cache_dir=None)) == [["ring.a", "ring.b", "ring.c"]]
