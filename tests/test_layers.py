"""The package's layers, as the README's architecture section names them, hold in the code.

Every ``ntm_sim`` import in ``src/`` (at module level, inside a function, or in an
``if TYPE_CHECKING:`` block: a name a module's types need is part of its structure too)
goes to the same layer or one below it; the modules import no circle; nothing new lands at the top level; and the
modules over the size the README allows are only those listed here, none grown.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "ntm_sim"

#: From the bottom up; a layer may import its own and every layer before it.
LAYERS = ("foundation", "data", "model", "optimize", "simulate", "analysis", "present", "run", "serve",
          "dashboard", "entry")
#: The only modules at the top level: the foundation every layer may use, and the entry points.
TOP_LEVEL = {"errors": "foundation", "messages": "foundation", "text": "foundation", "bounds": "foundation",
             "storage": "foundation", "__main__": "entry"}  # and the cli/ package: entry

#: Modules longer than 600 lines when the layers were drawn, with their length then: a ceiling that
#: only comes down (split them, then take them off the list).
OVERSIZE: dict[str, int] = {}
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def layer_of(module: str) -> str:
    """The layer of a module of the package (``ntm_sim.run.jobs`` → ``run``)."""
    parts = module.split(".")
    if len(parts) == 1:
        return "foundation"  # the package itself: only its version
    if parts[1] in LAYERS:
        return parts[1]
    if parts[1] == "cli":
        return "entry"
    if len(parts) == 2 and parts[1] in TOP_LEVEL:
        return TOP_LEVEL[parts[1]]
    raise AssertionError(f"{module} is in no layer: put it in one of {LAYERS} (README, Architecture)")


def _nodes(tree: ast.AST):
    """Every node, the bodies of ``if TYPE_CHECKING:`` and of functions included."""
    return ast.walk(tree)


def _known(name: str) -> str:
    while name not in MODULES and "." in name:
        name = name.rpartition(".")[0]
    return name


@cache
def imports_of(module: str) -> frozenset[str]:
    """The package's modules that ``module`` imports (when it runs, or for its types)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in _nodes(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] == "ntm_sim":
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in MODULES else _known(node.module))
        elif isinstance(node, ast.Import):
            found |= {_known(a.name) for a in node.names if a.name.split(".")[0] == "ntm_sim"}
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{module}: relative import (the package imports by full name)")
    found.discard(module)
    return frozenset(found)


def test_every_module_is_in_a_layer_and_nothing_new_sits_at_the_top() -> None:
    top = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert top <= set(TOP_LEVEL), f"new modules at the top level: {sorted(top - set(TOP_LEVEL))}"
    for module in MODULES:
        layer_of(module)


def test_no_import_runs_up_a_layer() -> None:
    upward = []
    for module in sorted(MODULES):
        mine = LAYERS.index(layer_of(module))
        for target in sorted(imports_of(module)):
            if LAYERS.index(layer_of(target)) > mine:
                upward.append(f"{module} ({layer_of(module)}) imports {target} ({layer_of(target)})")
    assert not upward, "imports that run up a layer:\n" + "\n".join(upward)


def test_no_circle_between_modules() -> None:
    graph = {m: {t for t in imports_of(m) if t in MODULES} for m in MODULES}
    # a package imports its own modules to show them: not a circle of concepts
    for m in graph:
        graph[m] = {t for t in graph[m] if not (MODULES[m].name == "__init__.py" and t.startswith(m + "."))}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            pytest.fail("circle: " + " → ".join(cycle))


def test_long_modules_are_only_the_known_ones_and_none_grew() -> None:
    too_long = {}
    for path in PACKAGE.rglob("*.py"):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        rel = path.relative_to(PACKAGE).as_posix()
        if lines > max(MAX_LINES, OVERSIZE.get(rel, 0)):
            too_long[rel] = lines
    assert not too_long, f"modules over {MAX_LINES} lines (or grown past their recorded length): {too_long}"


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """The walker sees a function-level import and one for types only (a circle through types is one too)."""
    code = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ntm_sim.run import jobs\n"
            "def f():\n    from ntm_sim.present import report\n")
    seen = set()
    for node in _nodes(ast.parse(code)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ntm_sim"):
            seen.add(node.module)
    assert seen == {"ntm_sim.present", "ntm_sim.run"}
    assert layer_of("ntm_sim.run.jobs") == "run"
    assert layer_of("ntm_sim.errors") == "foundation"
    with pytest.raises(AssertionError, match="in no layer"):
        layer_of("ntm_sim.somewhere")
