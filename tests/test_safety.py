"""No user text can reach eval, exec, sympify or parse_expr: checked on the source itself."""

from __future__ import annotations

import ast
from pathlib import Path

BUILTINS = {"eval", "exec", "compile", "__import__"}  # dangerous as plain calls (re.compile is fine)
ANYWHERE = {"sympify", "parse_expr", "lambdify", "parse_latex"}  # dangerous however they are reached
PACKAGES = ("derive", "verify", "reports")
ROOT = Path(__file__).resolve().parent.parent


def forbidden_calls(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in ANYWHERE:
                names.add(func.attr)
            if isinstance(func, ast.Name) and func.id in BUILTINS | ANYWHERE:
                names.add(func.id)
    return names


def test_the_scanner_sees_attribute_and_plain_calls() -> None:
    assert forbidden_calls(ast.parse("sp.sympify(x); eval(y); re.compile(z)")) == {"sympify", "eval"}


def test_no_package_module_calls_an_evaluator() -> None:
    offenders = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            bad = forbidden_calls(ast.parse(path.read_text()))
            if bad:
                offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def imported_packages(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
    return names


def test_data_flows_one_way_derive_then_verify_then_reports() -> None:
    wrong = {}
    for package, banned in (("derive", {"verify", "reports"}), ("verify", {"reports"}), ("reports", {"derive"})):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name in ("cli.py", "pytest_plugin.py") and package == "verify":
                continue  # the composition roots: the command line and the pytest plugin
            bad = imported_packages(path) & banned
            if bad:
                wrong[str(path.relative_to(ROOT))] = sorted(bad)
    assert wrong == {}
