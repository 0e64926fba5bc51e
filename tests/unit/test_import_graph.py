"""No import cycles in ``mockidp`` and ``pytest_mockidp``: the layers only import downwards.

The graph is read from the source, not from ``sys.modules``: every ``import`` and ``from``
statement counts, also the ones inside functions (lazy imports that dodge a cycle at runtime)
and under ``if TYPE_CHECKING:``, because each of them is a dependency all the same. An edge goes
to the module a statement names (``from .a import b`` -> ``a.b`` when that is a module, else
``a``); the parent packages Python imports on the way are not edges of their own.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("mockidp", "pytest_mockidp")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _base(module: str, path: Path, level: int) -> str:
    """The package a relative import with ``level`` dots starts from."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(level - 1):
        package = package.rpartition(".")[0]
    return package


def _targets(module: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _base(module, path, node.level)
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                yield submodule if submodule in known else source


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of our packages it imports (anywhere in its source)."""
    known = _modules()
    return {
        module: {t for t in _targets(module, path, known) if t in known and t != module}
        for module, path in known.items()
    }


def _components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _shortest_cycle(graph: dict[str, set[str]], start: str, members: set[str]) -> list[str]:
    """The shortest path from ``start`` back to itself inside one component."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph[node] & members):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if child not in came_from:
                came_from[child] = node
                queue.append(child)
    raise AssertionError(f"{start} is in a component but on no cycle")  # pragma: no cover


def cycles(graph: dict[str, set[str]]) -> list[str]:
    """One readable cycle per tangle: ``a -> b -> a``, plus the size of the whole tangle."""
    described = []
    for component in _components(graph):
        cycle = _shortest_cycle(graph, component[0], set(component))
        described.append(f"{' -> '.join(cycle)}  ({len(component)} modules tangled: {', '.join(component)})")
    return described


def test_the_graph_sees_lazy_and_type_checking_imports() -> None:
    graph = import_graph()
    assert "mockidp.config" in graph["mockidp.server"]
    assert "mockidp.errors" in graph["mockidp.config"]
    assert "mockidp.server" in graph["pytest_mockidp.plugin"]  # imported inside fixtures only
    assert all(not module.startswith("pytest_mockidp") for module in graph["mockidp"])


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"} - {"e"}}
    assert cycles(graph) == ["a -> b -> c -> a  (3 modules tangled: a, b, c)"]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(found)
