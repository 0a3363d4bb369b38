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

from derive_check.derive.errors import InputError, Location
from derive_check.derive.lang.formula import parse_formula
from derive_check.derive.model.labels import resolve_labels
from derive_check.derive.model.names import KINDS, Namespace
from derive_check.derive.model.ranges import read_index_vars
from derive_check.derive.source import formula_location, locate
from derive_check.derive.tree import Apply, Node, Ref, refs

LAYOUTS = ("denominator", "numerator")
_COMPARISONS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.Gt: ">"}
VALUE_KINDS = ("size", "input", "param", "gradient", "forward", "claim")  # names a formula may use
CLAIM_KEYS = {
    "formula", "wrt", "of", "layout", "source", "for", "when", "label", "reading", "latex", "latex_as_written",
    "latex_note",
}  # fmt: skip


@dataclass(frozen=True)
class Condition:
    """A conjunction of comparisons between index variables, sizes and integers. A size is kept by name and read
    at the sizes being checked (a file that `extends` another with other sizes, the witness's other sizes)."""

    clauses: tuple[tuple[str | int, str, str | int], ...] = ()

    def holds(self, values: Mapping[str, int], sizes: Mapping[str, int]) -> bool:
        """Whether every clause is true for these index values at these sizes."""
        ops = {"==": int.__eq__, "!=": int.__ne__, "<": int.__lt__, ">": int.__gt__}

        def get(side: str | int) -> int:
            return side if isinstance(side, int) else values[side] if side in values else sizes[side]

        return all(ops[op](get(a), get(b)) for a, op, b in self.clauses)

    def names(self) -> set[str]:
        """The index variables and sizes the condition reads."""
        return {side for a, _, b in self.clauses for side in (a, b) if isinstance(side, str)}


@dataclass(frozen=True, kw_only=True)
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
    from_latex: bool = False  # the formula was read from LaTeX: reports show the reading taken


def parse_claims(
    file: str,
    text: str,
    table: dict[str, Any],
    names: Namespace,
    sizes: Mapping[str, int],
    functions: Mapping[str, str],
    layout: str,
    aliases: Mapping[str, Node] | None = None,
    loss: str = "L",
) -> list[ClaimSpec]:
    """Every claim of the [claims] table; a claim that is broken carries its error (the others still count).

    Each claim key is declared in `names`: a key that is already a size, input, parameter, function,
    forward quantity or earlier claim would silently rebind that name for later claims, so it is an error.
    """
    claims: list[ClaimSpec] = []
    for key, value in table.items():
        claim = _claim(file, text, key, value, names, sizes, functions, layout)
        if isinstance(value, dict) and "latex" in value and claim.error is None:
            known = names.of_kind(*VALUE_KINDS)
            claim = _with_latex(claim, value["latex"], known, functions, aliases or {}, loss, set(sizes))
        try:
            names.declare(key, "claim", claim.where)
        except InputError as exc:
            claim = replace(claim, error=exc, expr=None)
        claims.append(claim)
    return claims


def _with_latex(
    claim: ClaimSpec,
    latex: Any,
    known: set[str],
    functions: Mapping[str, str],
    aliases: Mapping[str, Node],
    loss: str,
    sizes: set[str],
) -> ClaimSpec:
    """The claim read from its LaTeX (one line, or a first line and `+=` lines that add terms)."""
    from derive_check.derive.lang.latex import read_latex

    lines = [latex] if isinstance(latex, str) else list(latex)
    where = claim.where
    parts = []
    try:
        for k, line in enumerate(lines):
            if not isinstance(line, str):
                raise InputError("latex must be a string or a list of strings", where)
            spot = Location(where.file, where.line, f"{where.key}.latex", line)
            read = read_latex(line, spot, known, functions, aliases, {v for v, _ in claim.index_vars}, sizes)
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
    return replace(claim, expr=expr, text=" ; ".join(lines), twin=claim.expr, from_latex=True)


def _claim(
    file: str,
    text: str,
    key: str,
    value: Any,
    names: Namespace,
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
    base = ClaimSpec(name=key, target="", expr=None, text=str(formula), where=where)
    try:
        return _read_claim(key, entry, formula, where, names, sizes, functions, layout, base)
    except InputError as exc:  # a broken claim is reported as ERROR without stopping the other claims
        return _replace(base, error=exc)


def _read_claim(
    key: str,
    entry: dict[str, Any],
    formula: Any,
    where: Location,
    names: Namespace,
    sizes: Mapping[str, int],
    functions: Mapping[str, str],
    layout: str,
    base: ClaimSpec,
) -> ClaimSpec:
    if not isinstance(formula, str):
        raise InputError("a claim must be a formula string or a table with 'formula' or 'latex'", where)
    unknown = set(entry) - CLAIM_KEYS
    if unknown:
        known_keys = ", ".join(sorted(CLAIM_KEYS))
        raise InputError(f"unknown claim key(s): {', '.join(sorted(unknown))} (known: {known_keys})", where)
    index_vars = read_index_vars(entry.get("for", {}), sizes, where, names)
    variables = {v for v, _ in index_vars}
    local = names.of_kind(*VALUE_KINDS) | variables
    wrt_text = str(entry.get("wrt") or (key[1:] if key.startswith("d") else ""))
    target, wrt_index = _wrt(wrt_text, names, variables, where, functions)
    claim_layout = str(entry.get("layout", layout))
    if claim_layout not in LAYOUTS:
        raise InputError(f"layout must be one of {', '.join(LAYOUTS)}, got {claim_layout!r}", where)
    labels = tuple((str(k), str(v)) for k, v in dict(entry.get("label", {})).items())
    for label_input, var in labels:
        if var not in variables:
            raise InputError(f"label index '{var}' is not declared in 'for'", where)
        if names.kind(label_input) != "input" or label_input in names.labels:
            raise InputError(f"label binding names '{label_input}', which is not a declared input", where)
    of, of_text = None, str(entry.get("of", ""))
    if of_text:
        of = parse_formula(of_text, Location(where.file, where.line, f"{where.key}.of", of_text), functions)
        check_names(of, local, where, of_text)
        of = resolve_labels(of, names, where, of_text)
    expr = parse_formula(formula, formula_location(where, formula), functions)
    check_names(expr, local, where, formula)
    expr = resolve_labels(expr, names, where, formula)
    return _replace(
        base,
        target=target,
        expr=expr,
        source=str(entry.get("source", "")),
        of=of,
        of_text=of_text,
        wrt_index=wrt_index,
        layout=claim_layout,
        index_vars=index_vars,
        when=_condition(str(entry.get("when", "")), where, variables, sizes),
        labels=labels,
        reading=str(entry.get("reading", "")),
        latex_note=str(entry.get("latex_note", "")),
    )


def _replace(claim: ClaimSpec, **changes: Any) -> ClaimSpec:
    return replace(claim, **changes)


def _wrt(
    text: str, names: Namespace, variables: set[str], where: Location, functions: Mapping[str, str]
) -> tuple[str, tuple[Node, ...]]:
    if not text:
        raise InputError("claim must be named d<quantity> or give wrt = ...", where)
    tree = parse_formula(text, Location(where.file, where.line, f"{where.key}.wrt", text), functions)
    if isinstance(tree, Apply) and tree.op == "entry" and isinstance(tree.args[0], Ref):
        name, index = tree.args[0].name, tree.args[1:]
    elif isinstance(tree, Ref):
        name, index = tree.name, ()
    else:
        raise InputError(f"wrt must name a quantity or one of its entries, got '{text}'", where)
    kind = names.kind(name)
    if name in names.labels:
        raise InputError(
            f"'{name}' is a label vector (class indices): there is no derivative with respect to it", where
        )
    if name in names.onehot:  # the engines use y² = y, Σ_c y_c = 1 and log Σ_c y_c a_c = Σ_c y_c log a_c
        raise InputError(
            f"'{name}' is one-hot data (every entry 0 or 1, one 1 per row): there is no derivative with respect to "
            f"it; to differentiate with respect to it as real numbers, declare it without ', onehot'",
            where,
        )
    if kind not in ("input", "param", "forward"):
        what = f"is {KINDS[kind]}" if kind else "is not declared"
        allowed = ", ".join(sorted(names.of_kind("input", "param", "forward")))
        raise InputError(
            f"'{name}' {what}; a claim differentiates with respect to an input, a parameter or a forward "
            f"quantity (here: {allowed})",
            where,
        )
    for part in index:
        if isinstance(part, Ref) and part.name not in variables:
            raise InputError(f"the index '{part.name}' in wrt is not an index variable of this claim", where)
    return name, tuple(index)


def _condition(text: str, where: Location, variables: set[str], sizes: Mapping[str, int]) -> Condition:
    """A conjunction of comparisons; sizes may appear and stand for their values."""
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
        left, right = (_side(n, text, where, variables, sizes) for n in (part.left, part.comparators[0]))
        clauses.append((left, _COMPARISONS[type(part.ops[0])], right))
    return Condition(tuple(clauses))


def _side(node: ast.expr, text: str, where: Location, variables: set[str], sizes: Mapping[str, int]) -> str | int:
    if isinstance(node, ast.Name) and node.id in variables:
        return node.id
    if isinstance(node, ast.Name) and node.id in sizes:
        return node.id  # read at the sizes being checked, never frozen at the stated ones
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    known = ", ".join(sorted(variables)) or "none"
    raise InputError(
        f"condition '{text}' may only use this claim's index variables ({known}), sizes and integers", where
    )


def check_names(expr: Node, known: set[str], where: Location, formula: str) -> None:
    """Raise InputError with a caret at the first name in `expr` that is not in `known`."""
    for name in sorted(refs(expr) - known):
        col = formula_location(where, formula)
        match = re.search(r"\b" + re.escape(name) + r"\b", formula)
        start = col.col_start + (match.start() if match else 0)
        raise InputError(
            f"unknown name '{name}' (known here: {', '.join(sorted(known))})", col.shifted(start, start + len(name))
        )
