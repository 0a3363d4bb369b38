"""Claims as the file states them: what is differentiated, with respect to what, in which layout.

A claim is `d(of)/d(wrt)` with `of` the loss unless stated. `wrt` may name an entry (`z[j]`), and
a claim may carry index variables (`for = { t = "K", j = "K" }`), a condition on them
(`when = "j != t"`) and a true-class binding (`label = { y = "t" }`: y is the one-hot vector of
class t), so seed 002's case analysis ("for j = t", "for j ≠ t", "t is the true class") is checked
for every index assignment the condition allows, each one exactly.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from derive.errors import InputError, Location
from derive.lang import parse_formula
from derive.source import formula_location, locate
from derive.tree import Apply, Node, Ref, refs

LAYOUTS = ("denominator", "numerator")
_COMPARISONS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.Gt: ">"}


@dataclass(frozen=True)
class Condition:
    """A conjunction of comparisons between index variables and integers."""

    clauses: tuple[tuple[str | int, str, str | int], ...] = ()

    def holds(self, values: Mapping[str, int]) -> bool:
        """Whether every clause is true for these index values."""
        ops = {"==": int.__eq__, "!=": int.__ne__, "<": int.__lt__, ">": int.__gt__}

        def get(side: str | int) -> int:
            return values[side] if isinstance(side, str) else side

        return all(ops[op](get(a), get(b)) for a, op, b in self.clauses)


@dataclass(frozen=True)
class ClaimSpec:
    """A claimed derivative `name` = d(of)/d(target[wrt_index]), written as `expr`."""

    name: str
    target: str
    expr: Node | None  # None when the formula did not parse; `error` says why
    text: str
    where: Location
    source: str = ""
    error: InputError | None = None
    of: Node | None = None  # None: the loss
    of_text: str = ""
    wrt_index: tuple[Node, ...] = ()
    layout: str = "denominator"
    index_vars: tuple[tuple[str, str], ...] = ()  # (variable, size name)
    when: Condition = field(default_factory=Condition)
    labels: tuple[tuple[str, str], ...] = ()  # (one-hot input, index variable of its class)
    reading: str = ""  # which reading of an ambiguous source was encoded
    twin: Node | None = None  # the numpy-style formula given beside a LaTeX one (tests pin equal verdicts)
    latex_note: str = ""  # why a seed's LaTeX line is recorded but not used


def parse_claims(
    file: str,
    text: str,
    table: dict[str, Any],
    known: set[str],
    sizes: Mapping[str, int],
    functions: Mapping[str, str],
    layout: str,
    aliases: Mapping[str, Node] | None = None,
    loss: str = "L",
) -> list[ClaimSpec]:
    """Every claim of the [claims] table; a claim whose formula is broken carries its error."""
    claims: list[ClaimSpec] = []
    for key, value in table.items():
        names = known | {c.name for c in claims}
        claim = _claim(file, text, key, value, names, sizes, functions, layout)
        if isinstance(value, dict) and "latex" in value and claim.error is None:
            claim = _with_latex(claim, value["latex"], names, functions, aliases or {}, loss)
        claims.append(claim)
    return claims


def _with_latex(
    claim: ClaimSpec, latex: Any, known: set[str], functions: Mapping[str, str], aliases: Mapping[str, Node], loss: str
) -> ClaimSpec:
    """The claim read from its LaTeX (one line, or a first line and `+=` lines that add terms)."""
    from derive.texparse import read_latex

    lines = [latex] if isinstance(latex, str) else list(latex)
    where = claim.where
    parts = []
    try:
        for k, line in enumerate(lines):
            if not isinstance(line, str):
                raise InputError("latex must be a string or a list of strings", where)
            spot = Location(where.file, where.line, f"{where.key}.latex", line)
            read = read_latex(line, spot, known, functions, aliases, {v for v, _ in claim.index_vars})
            if read.accumulate != (k > 0):
                raise InputError("only lines after the first may use += (they add a term)", spot)
            if read.wrt is not None and read.wrt.split("[")[0] != claim.target:
                raise InputError(
                    f"the LaTeX differentiates with respect to {read.wrt}, the claim is about {claim.target}", spot
                )
            if read.of not in (None, loss) and claim.of is None:
                raise InputError(f'the LaTeX differentiates {read.of}; give of = "{read.of}" to say so', spot)
            parts.append(read.expr)
    except InputError as exc:
        return replace(claim, error=exc, expr=None)
    expr = parts[0]
    for extra in parts[1:]:
        expr = Apply("add", (expr, extra))
    return replace(claim, expr=expr, text=" ; ".join(lines), twin=claim.expr)


def _claim(
    file: str,
    text: str,
    key: str,
    value: Any,
    known: set[str],
    sizes: Mapping[str, int],
    functions: Mapping[str, str],
    layout: str,
) -> ClaimSpec:
    entry = value if isinstance(value, dict) else {"formula": value}
    section, field_name = ("claims", key) if not isinstance(value, dict) else (f"claims.{key}", "formula")
    formula = entry.get("formula")
    if formula is None and "latex" in entry:  # LaTeX only: the formula comes from the LaTeX, read below
        formula, field_name = "0", "latex"
    located = formula if isinstance(formula, str) and field_name == "formula" else None
    where = locate(file, text, section, field_name, located)
    if not isinstance(formula, str):
        raise InputError("a claim must be a formula string or a table with 'formula' or 'latex'", where)
    unknown = set(entry) - {
        "formula",
        "wrt",
        "of",
        "layout",
        "source",
        "for",
        "when",
        "label",
        "reading",
        "latex",
        "latex_as_written",
        "latex_note",
    }
    if unknown:
        raise InputError(f"unknown claim key(s): {', '.join(sorted(unknown))}", where)
    index_vars = _index_vars(entry.get("for", {}), sizes, where)
    local = known | {v for v, _ in index_vars}
    wrt_text = str(entry.get("wrt") or (key[1:] if key.startswith("d") else ""))
    target, wrt_index = _wrt(wrt_text, local, where, functions)
    claim_layout = str(entry.get("layout", layout))
    if claim_layout not in LAYOUTS:
        raise InputError(f"layout must be one of {', '.join(LAYOUTS)}, got {claim_layout!r}", where)
    labels = tuple((str(k), str(v)) for k, v in dict(entry.get("label", {})).items())
    for _, var in labels:
        if var not in dict(index_vars):
            raise InputError(f"label index '{var}' is not declared in 'for'", where)
    of, of_text = None, str(entry.get("of", ""))
    base = ClaimSpec(
        key,
        target,
        None,
        formula,
        where,
        str(entry.get("source", "")),
        None,
        None,
        of_text,
        wrt_index,
        claim_layout,
        index_vars,
        _condition(str(entry.get("when", "")), where),
        labels,
        str(entry.get("reading", "")),
        latex_note=str(entry.get("latex_note", "")),
    )
    try:  # a broken formula is reported as ERROR without stopping the other claims
        if of_text:
            of = parse_formula(of_text, Location(where.file, where.line, f"{where.key}.of", of_text), functions)
            check_names(of, local, where, of_text)
        expr = parse_formula(formula, formula_location(where, formula), functions)
        check_names(expr, local, where, formula)
    except InputError as exc:
        return _replace(base, error=exc)
    return _replace(base, expr=expr, of=of)


def _replace(claim: ClaimSpec, **changes: Any) -> ClaimSpec:
    return replace(claim, **changes)


def _index_vars(table: Any, sizes: Mapping[str, int], where: Location) -> tuple[tuple[str, str], ...]:
    if not isinstance(table, dict):
        raise InputError("'for' must be a table of index variables, e.g. { t = \"K\" }", where)
    for var, size in table.items():
        if size not in sizes:
            raise InputError(f"index variable '{var}' ranges over '{size}', which is not a declared size", where)
    return tuple((str(k), str(v)) for k, v in table.items())


def _wrt(text: str, known: set[str], where: Location, functions: Mapping[str, str]) -> tuple[str, tuple[Node, ...]]:
    if not text:
        raise InputError("claim must be named d<quantity> or give wrt = ...", where)
    tree = parse_formula(text, Location(where.file, where.line, f"{where.key}.wrt", text), functions)
    if isinstance(tree, Apply) and tree.op == "entry" and isinstance(tree.args[0], Ref):
        name, index = tree.args[0].name, tree.args[1:]
    elif isinstance(tree, Ref):
        name, index = tree.name, ()
    else:
        raise InputError(f"wrt must name a quantity or one of its entries, got '{text}'", where)
    if name not in known:
        raise InputError(f"'{name}' is not declared (claims differentiate with respect to declared quantities)", where)
    check_names(tree, known, where, text)
    return name, tuple(index)


def _condition(text: str, where: Location) -> Condition:
    if not text.strip():
        return Condition()
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise InputError(f"cannot read condition '{text}'", where) from None
    parts = tree.values if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And) else [tree]
    clauses = []
    for part in parts:
        if not (isinstance(part, ast.Compare) and len(part.ops) == 1 and type(part.ops[0]) in _COMPARISONS):
            raise InputError(f"condition '{text}' must compare index variables with == != < > (joined by 'and')", where)
        clauses.append(
            (_side(part.left, text, where), _COMPARISONS[type(part.ops[0])], _side(part.comparators[0], text, where))
        )
    return Condition(tuple(clauses))


def _side(node: ast.expr, text: str, where: Location) -> str | int:
    if isinstance(node, ast.Name) and not node.id.startswith("_"):
        return node.id
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    raise InputError(f"condition '{text}' may only use index variables and integers", where)


def check_names(expr: Node, known: set[str], where: Location, formula: str) -> None:
    """Raise InputError with a caret at the first name in `expr` that is not in `known`."""
    for name in sorted(refs(expr) - known):
        col = formula_location(where, formula)
        match = re.search(r"\b" + re.escape(name) + r"\b", formula)
        start = col.col_start + (match.start() if match else 0)
        raise InputError(
            f"unknown name '{name}' (known here: {', '.join(sorted(known))})", col.shifted(start, start + len(name))
        )
