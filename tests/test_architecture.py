"""The structure of bot/ is enforced, not remembered: the import-linter contracts in
pyproject.toml (layers, storage below services, no cycles) and no module over 500 lines."""

from __future__ import annotations

import ast
import io
import os
import shutil
import subprocess
import sys
import tokenize
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted((ROOT / "bot").rglob("*.py"))
MOST_LINES = 500


def _lint_imports(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`lint-imports` from this interpreter's environment, on the pyproject.toml in `cwd`."""
    command = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(command), "--no-cache", "--no-logo"], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)  # fmt: skip


def test_the_import_contracts_are_kept():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_import_contracts_catch_what_they_forbid(tmp_path):
    """A copy of bot/ with one import each contract forbids: each contract is reported broken."""
    shutil.copytree(ROOT / "bot", tmp_path / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    forbidden = {
        "bot/storage/pinyin.py": "import bot.services.errors",  # storage reaching up to services
        "bot/handlers/home.py": "import bot.scheduler.hours",  # one way in calling the other
        "bot/clock.py": "import bot.notify",  # with notify.py's import below, a cycle among siblings
        "bot/notify.py": "import bot.clock",
    }
    for path, line in forbidden.items():
        with open(tmp_path / path, "a", encoding="utf-8") as file:
            file.write(f"\n{line}  # added by the test\n")
    result = _lint_imports(tmp_path, PYTHONPATH=str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    report = " ".join(result.stdout.split())  # rich wraps long lines
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    for contract in contracts:
        assert f"{contract['name']} BROKEN" in report, report
    assert "bot.storage.pinyin -> bot.services.errors" in report
    assert "bot.handlers.home -> bot.scheduler.hours" in report


def import_cycles(graph: grimp.ImportGraph) -> set[tuple[str, ...]]:
    """Every cycle of direct imports that an import closes (the shortest one through it),
    each written from its first module in sorted order."""
    cycles = set()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                cycle = (importer, *back[:-1])
                first = cycle.index(min(cycle))
                cycles.add(cycle[first:] + cycle[:first])
    return cycles


def test_the_cycle_finder_sees_a_cycle_through_a_package_of_its_own():
    graph = grimp.ImportGraph()
    graph.add_import(importer="p", imported="p.a")  # p/__init__.py imports p.a, which imports p back
    graph.add_import(importer="p.a", imported="p")
    graph.add_import(importer="p.b", imported="p.a")  # not on a cycle
    assert import_cycles(graph) == {("p", "p.a")}


def test_no_module_of_bot_is_on_an_import_cycle():
    """No module of bot imports one that imports it back, directly or through others,
    imports for type checking included (as import-linter counts them)."""
    cycles = sorted(" -> ".join((*cycle, cycle[0])) for cycle in import_cycles(grimp.build_graph("bot", cache_dir=None)))
    assert cycles == [], "\n".join(cycles)


def lines_of_code(source: str) -> int:
    """Lines holding code: blank lines, comments and docstrings left out."""
    tree = ast.parse(source)
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                docstrings.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    code: set[int] = set()
    layout = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in layout:
            code.update(range(token.start[0], token.end[0] + 1))
    return len(code - docstrings)


def test_lines_of_code_leave_out_blanks_comments_and_docstrings():
    source = '"""Doc,\non two lines."""\n\n# why\nX = """a string\nthat is code"""\n\n\ndef f():\n    """Doc."""\n    return X  # why\n'
    assert lines_of_code(source) == 4  # X = ..., its second line, def f, return X


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_of_bot_is_over_500_lines_of_code(path: Path):
    assert lines_of_code(path.read_text(encoding="utf-8")) <= MOST_LINES
