"""The layout stays readable: import contracts hold, no module imports itself round a circle, no file sprawls."""

import ast
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
APPS = ("registrations", "cohorts", "workshops", "support", "config", "guard", "staff")
# "About 400 lines a file, about 60 a function" (issue 13), with room for a docstring or two.
MAX_FILE_LINES = 450
MAX_FUNCTION_LINES = 80


def _app_sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_import_contracts_hold():
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def _cycles(graph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), function-level imports included."""
    modules = {m for m in graph.modules if ".migrations" not in m}
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module) & modules:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_round_a_circle():
    graph = grimp.build_graph(*APPS, cache_dir=None)
    assert _cycles(graph) == []


def test_no_app_file_is_longer_than_about_400_lines():
    long_files = {
        str(path.relative_to(ROOT)): n
        for path in _app_sources()
        if (n := len(path.read_text().splitlines())) > MAX_FILE_LINES
    }
    assert long_files == {}


def test_no_function_is_longer_than_about_60_lines():
    long_functions = {}
    for path in _app_sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long_functions[f"{path.relative_to(ROOT)}:{node.name}"] = length
    assert long_functions == {}


def test_every_app_module_opens_with_a_docstring():
    missing = [
        str(path.relative_to(ROOT))
        for path in _app_sources()
        if path.stat().st_size and ast.get_docstring(ast.parse(path.read_text())) is None
    ]
    assert missing == []
