"""Imports point down: front ends use the engine, never the other way; no UI toolkit below the front ends.

Read from the source (every import, including those inside functions, except under TYPE_CHECKING), so a
lazy import that breaks the layering fails here as surely as a top-level one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "flashchat"
FRONT_ENDS = ("cli", "repl", "tui")
ENGINE = ("core", "providers", "store", "config", "render")
UI_TOOLKITS = ("textual", "prompt_toolkit")
HTTP_STACKS = ("google.genai", "google", "httpx2", "httpx")
# Package -> the flashchat packages it may import (itself always). `testing` is the fakes: it stands beside the app.
ALLOWED = {
    "config": {"config"},
    "render": {"render", "config", "core"},
    "core": {"core", "config", "render", "providers", "store"},
    "providers": {"providers", "config", "core"},
    "store": {"store", "config", "core"},
    "testing": {"testing", "config", "core"},
    "tui": {"tui", *ENGINE},
    "repl": {"repl", *ENGINE},
    "cli": {"cli", "repl", "tui", *ENGINE},
}
# Within the engine, modules that the providers and the store build on must not reach back up into the session.
NOT_FROM_BELOW = {"flashchat.core.session", "flashchat.core.prompt", "flashchat.core.commands"}


def modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports_of(name: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    skipped = _type_checking_lines(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


MODULES = modules()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down(name: str) -> None:
    own = layer(name)
    if own not in ALLOWED:
        return  # flashchat/__init__.py, __main__.py
    problems = []
    for target in sorted(imports_of(name, MODULES[name])):
        if target.startswith("flashchat."):
            if target not in MODULES and target.rpartition(".")[0] in MODULES:
                target = target.rpartition(".")[0]  # `from flashchat.config import paths` names a module
            if target not in MODULES or target == "flashchat":  # the package itself only holds __version__
                continue  # a name imported from a module, counted with the module
            if layer(target) not in ALLOWED[own]:
                problems.append(f"{target} (the {own} layer may use {sorted(ALLOWED[own])})")
            if own in ("providers", "store", "config", "render") and target in NOT_FROM_BELOW:
                problems.append(f"{target} (only front ends and the session's own package use it)")
        elif own in ENGINE and target.split(".")[0] in UI_TOOLKITS:
            problems.append(f"{target} (no UI toolkit in the engine)")
        elif own in FRONT_ENDS and any(target == stack or target.startswith(stack + ".") for stack in HTTP_STACKS):
            problems.append(f"{target} (a front end never builds an HTTP request)")
    assert not problems, f"{name} imports: " + "; ".join(problems)


def test_no_import_cycles_between_modules() -> None:
    graph = {
        name: {
            (t if t in MODULES else t.rpartition(".")[0])
            for t in imports_of(name, path)
            if t.startswith("flashchat.") and (t in MODULES or t.rpartition(".")[0] in MODULES)
        }
        - {name}
        for name, path in MODULES.items()
    }
    # Package __init__ modules are imported on the way to their children; that is not a cycle of ours.
    for name in graph:
        graph[name] = {target for target in graph[name] if not name.startswith(target + ".")}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> None:
        if node in done:
            return
        if node in visiting:
            cycle = [*visiting[visiting.index(node) :], node]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        visiting.append(node)
        for target in sorted(graph.get(node, ())):
            visit(target)
        visiting.pop()
        done.add(node)

    for name in sorted(graph):
        visit(name)
