"""The import graph of gradekit/: no cycles (not even through imports inside functions), and the
speed shortcuts reached from the property runner alone."""

from __future__ import annotations

import ast
from pathlib import Path

import gradekit

PACKAGE = Path(gradekit.__file__).resolve().parent
ROOT = PACKAGE.parent
# reference/ and assignments/ install inside the package (pyproject's package-dir).
FOLDERS = {"gradekit": PACKAGE, "gradekit.reference": ROOT / "reference", "gradekit.assignments": ROOT / "assignments"}


def _modules() -> dict[str, Path]:
    found = {}
    for prefix, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            if "known_right" in path.parts or "known_wrong" in path.parts:
                continue  # student code in the banks, never imported by the grader
            parts = path.relative_to(folder).with_suffix("").parts
            name = ".".join((prefix, *parts[:-1])) if parts[-1] == "__init__" else ".".join((prefix, *parts))
            found[name] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The gradekit modules `name` imports anywhere in its text, but for TYPE_CHECKING blocks."""
    tree = ast.parse(path.read_text())
    checking = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    wanted = set()
    for node in ast.walk(tree):
        if id(node) in checking:
            continue
        if isinstance(node, ast.Import):
            wanted |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            wanted |= {f"{base}.{alias.name}" for alias in node.names} | {base}
    targets = set()
    for target in wanted:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        # Importing a module runs the packages above it first; a module's own packages have run
        # before it, whatever it names, so there is no edge to them.
        above = {".".join(target.split(".")[:i]) for i in range(1, target.count(".") + 2)}
        targets |= {t for t in above if t and t != name and not name.startswith(t + ".")}
    return targets


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_graph_is_read_whole():
    graph = _graph()
    assert {"gradekit.grader", "gradekit.runner", "gradekit.scorer", "gradekit.speed"} <= set(graph)
    assert "gradekit.speed" in graph["gradekit.runner"] and "gradekit.scorer" in graph["gradekit.grader"]


def test_a_cycle_is_found_where_there_is_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_gradekit_has_no_import_cycle():
    assert _cycle(_graph()) is None


def test_only_the_runner_reaches_the_speed_shortcuts():
    graph = _graph()
    outside = sorted(
        name
        for name, targets in graph.items()
        if not name.startswith("gradekit.speed") and any(t.startswith("gradekit.speed") for t in targets)
    )
    assert outside == ["gradekit.runner"]


def test_the_scorer_is_apart_from_running():
    """Points are given from outcomes alone: the scorer imports neither the runner nor the sandbox."""
    graph = _graph()
    reached, todo = set(), ["gradekit.scorer"]
    while todo:
        for nxt in graph[todo.pop()] - reached:
            reached.add(nxt)
            todo.append(nxt)
    assert not reached & {"gradekit.runner", "gradekit.speed", "gradekit.sandbox", "gradekit.calls"}
