"""One direction for a sale (issue 13.1): no import cycle between domain packages, and the read
side of live stock never imports the stock package that writes it."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import bartender

PACKAGE = Path(bartender.__file__).parent
# modules that assemble the domains (they may import every one of them)
ASSEMBLY = {"app", "cli", "runtime", "deps", "health", "demo", "settings", "errors", "__init__"}


def domain_graph() -> dict[str, set[str]]:
    """package -> packages it imports (bartender.<package>...), from every module's AST."""
    graph: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        source = parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
                if node.module == "bartender":
                    names = [f"bartender.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                pieces = name.split(".")
                if pieces[0] == "bartender" and len(pieces) > 1 and pieces[1] != source:
                    graph[source].add(pieces[1])
    return graph


def cycle(graph: dict[str, set[str]], nodes: set[str]) -> list[str] | None:
    """A cycle among `nodes`, or None."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, set()) & nodes):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(nodes):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_between_domain_packages() -> None:
    graph = domain_graph()
    domains = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert {"stock", "live", "realtime"} <= domains
    assert cycle(graph, domains - ASSEMBLY) is None


def test_the_read_side_never_imports_the_write_side() -> None:
    graph = domain_graph()
    assert "stock" not in graph["live"] and "realtime" not in graph["live"]
    assert "stock" not in graph["realtime"]
    assert graph["live"] <= {"db"}  # the feed needs only the database and its LISTEN


def test_the_checker_sees_a_cycle() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}, {"a", "b", "c"}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": {"c"}}, {"a", "b", "c"}) is None
