"""The architecture as tests: data flows one way (file -> derive -> verify -> reports), the shell is the only
composition root, no import circle hides behind a local or TYPE_CHECKING import, and the wheel holds every
package on disk."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

FOLDERS = {"shell": "derive_check", "derive": "derive_check.derive", "verify": "derive_check.verify"}
FOLDERS["reports"] = "derive_check.reports"
# Floors, lowest first. A module may import its own package and any lower floor, never a higher one; packages on
# one floor are peers and do not import each other.
FLOORS = [
    {"derive_check.derive"},  # the expression tree, errors, source locations, the time budget
    {"derive_check.derive.ops"},  # the op table
    {"derive_check.derive.printing"},
    {"derive_check.derive.lang"},
    {"derive_check.derive.model"},
    {"derive_check.derive.exact", "derive_check.derive.index", "derive_check.derive.code"},  # code: read into a model
    {"derive_check.verify"},  # the result types reports read
    {"derive_check.verify.decide", "derive_check.verify.witness"},
    {"derive_check.verify.check"},
    {"derive_check.verify.refute"},
    {"derive_check.verify.diagnose"},
    {"derive_check.verify.run"},
    {"derive_check.reports"},
    {"derive_check"},  # the shell: the command line and the pytest plugin
]
MAX_LINES = 330  # "about 300"


def _modules() -> dict[str, Path]:
    found = {}
    for folder, prefix in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = [p for p in path.relative_to(ROOT / folder).with_suffix("").parts if p != "__init__"]
            found[".".join([prefix, *parts])] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Every derive_check module `path` imports, at any depth (local and TYPE_CHECKING imports included)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("derive_check"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                out.add(full if full in MODULES else node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("derive_check")}
    return {m for m in out if m in MODULES}


EDGES = {module: _imports(path) - {module} for module, path in MODULES.items()}


def _package(module: str) -> str:
    path = MODULES[module]
    if path.name == "__init__.py":
        return module
    return module.rpartition(".")[0] or module


def _floor(package: str) -> int:
    return next(k for k, floor in enumerate(FLOORS) if package in floor)


def test_every_package_has_a_floor() -> None:
    """A new sub-package must be placed in the flow before it can be imported."""
    packages = {_package(m) for m in MODULES}
    assert packages <= set().union(*FLOORS), packages - set().union(*FLOORS)


def test_no_import_runs_back_up_or_sideways() -> None:
    """Lower floors never import higher ones; peers never import each other; reports read only result types."""
    wrong = []
    for module, imported in EDGES.items():
        here = _package(module)
        for other in imported:
            there = _package(other)
            if there == here or (here == "derive_check" and there == "derive_check"):
                continue
            if _floor(there) >= _floor(here):
                wrong.append(f"{module} -> {other}")
            if here == "derive_check.reports" and other != "derive_check.verify.results":
                wrong.append(f"{module} -> {other} (reports read result types only)")
    assert wrong == []


def test_only_the_shell_imports_reports() -> None:
    """The command line and the pytest plugin are the only composition roots."""
    importers = {m for m, imported in EDGES.items() for o in imported if o.startswith("derive_check.reports")}
    assert {m for m in importers if not m.startswith("derive_check.reports")} <= {
        "derive_check.cli",
        "derive_check.pytest_plugin",
    }


def test_there_is_no_import_circle() -> None:
    """No module reaches itself through imports (a local import does not hide a circle from this test)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for other in sorted(EDGES[module]):
            if state.get(other) == 1:
                pytest.fail("import circle: " + " -> ".join([*stack[stack.index(other) :], other]))
            if other not in state:
                visit(other)
        stack.pop()
        state[module] = 2

    for module in sorted(MODULES):
        if module not in state:
            visit(module)


def test_the_wheel_holds_every_package_on_disk() -> None:
    """pyproject.toml lists its packages by hand (the folders map onto one import name): none may be missing."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = {m for m, path in MODULES.items() if path.name == "__init__.py"}
    assert set(config["packages"]) == packages
    assert config["package-dir"] == {prefix: folder for folder, prefix in FOLDERS.items()}


def test_modules_stay_small() -> None:
    """About 300 lines at most: a module that grows past it is split along a seam that says what it is."""
    sizes = {m: len(path.read_text().splitlines()) for m, path in MODULES.items()}
    assert {m: n for m, n in sizes.items() if n > MAX_LINES} == {}
