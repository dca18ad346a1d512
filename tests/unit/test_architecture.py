"""The shape ARCHITECTURE.md describes, checked: no import cycle, a leaf record module, small modules."""

import ast
from pathlib import Path
from typing import Dict, List, Set

PACKAGE = Path(__file__).resolve().parents[2] / "skomirror"
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports(path: Path, modules: Set[str]) -> Set[str]:
    """Every skomirror module `path` imports, anywhere in it (TYPE_CHECKING blocks and functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("skomirror"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("skomirror"):
            for alias in node.names:  # `from skomirror.pkg import module` names the module itself
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
    return found & modules


def import_graph() -> Dict[str, Set[str]]:
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: project_imports(path, set(paths)) - {name} for name, path in paths.items()}


def cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                found.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_package():
    assert cycles(import_graph()) == []


def test_the_image_record_module_is_a_leaf():
    assert import_graph()["skomirror.records"] == set()


def test_no_module_is_past_the_size_that_wants_splitting():
    long = {module_name(path): n for path in PACKAGE.rglob("*.py")
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_the_test_kit_is_not_in_the_package():
    assert not (PACKAGE / "testkit").exists()
    assert not [name for name in import_graph() if "testkit" in name]
