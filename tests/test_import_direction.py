"""Imports run one way: web → services → store / domain → models → infrastructure, with no
circle between modules. Read from the source (ast), so a lazy import inside a function
counts like one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tracker"

# Higher layers may import lower ones, never the reverse. The composition root (create_app,
# the CLI, the demo seed, the subscriptions table) sits on top and may import anything.
LAYERS = [
    ("infrastructure", ("tracker.extensions", "tracker.config", "tracker.clock")),
    ("domain", ("tracker.domain",)),
    ("models", ("tracker.models", "tracker.database", "tracker.search_index")),
    ("store", ("tracker.store",)),
    ("services", ("tracker.services",)),
    ("web", ("tracker.web", "tracker.observability")),
    ("composition", ("tracker.cli", "tracker.demo", "tracker.subscribers")),
]
TOP = len(LAYERS) - 1


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(name: str) -> int:
    if name == "tracker":  # the package itself: create_app
        return TOP
    for rank, (_label, prefixes) in reversed(list(enumerate(LAYERS))):
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            return rank
    raise AssertionError(f"{name} belongs to no layer: add it to LAYERS")


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The tracker modules this module imports (a `from package import module` counts as
    importing the module)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    typing_only = {  # `if TYPE_CHECKING:` imports never run
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    # Importing a.b.c also runs a and a.b; only the deepest module names a dependency.
    return {t for t in found if not any(o.startswith(t + ".") for o in found)}


GRAPH = {name: imports_of(name, path, set(modules())) for name, path in modules().items()}


def test_every_module_has_a_layer():
    for name in GRAPH:
        layer_of(name)


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_imports_point_down(name):
    rank = layer_of(name)
    upward = sorted(t for t in GRAPH[name] if layer_of(t) > rank)
    assert upward == [], f"{name} ({LAYERS[rank][0]}) imports a higher layer: {upward}"


def test_no_module_imports_itself_in_a_circle():
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(GRAPH[name]):
            if target == "tracker":  # the package's create_app is the composition root
                continue
            if state.get(target) == 1:
                circles.append(path[path.index(target) :] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[name] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])
    assert circles == [], "import circles: " + "; ".join(" → ".join(c) for c in circles)
