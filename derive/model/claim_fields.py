"""The fields of a claim other than its formula: where each sits in the file, `wrt`, `when`, and name checks.

Errors point at the field that is wrong: a typo in a claim's name (`dWW`) at the name, with the closest claim
name that would make sense; an unknown `wrt` at its value; a condition at the clause it cannot read.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass

from derive_check.derive.errors import InputError, Location, did_you_mean
from derive_check.derive.lang.formula import parse_formula
from derive_check.derive.model.names import KINDS, Namespace
from derive_check.derive.source import formula_location, key_location, locate
from derive_check.derive.tree import Apply, Node, Ref, refs, walk

_COMPARISONS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.Gt: ">"}
GREEK = {"λ": "lam", "η": "eta", "α": "alpha", "β": "beta", "γ": "gamma", "ε": "eps", "μ": "mu", "θ": "theta"}


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


@dataclass(frozen=True)
class ClaimText:
    """Where one claim's parts sit in the file text, for carets under the part that is wrong."""

    file: str
    text: str
    name: str

    def field(self, key: str, value: str | None = None) -> Location:
        """The line of `key = ...` in the claim's table, the caret over `value` when given."""
        return locate(self.file, self.text, f"claims.{self.name}", key, value)

    def value(self, key: str, value: str) -> Location:
        """A location whose columns index into the field's string value (as `formula_location`)."""
        return formula_location(self.field(key, value), value)

    def name_part(self, start: int) -> Location:
        """The claim's name from character `start` on (`WW` of `dWW`), where the name is written."""
        at = key_location(self.file, self.text, "claims", self.name)
        if at.text is None or at.col_end - at.col_start != len(self.name):
            return at
        return Location(at.file, at.line, f"claims.{self.name}", at.text, at.col_start + start, at.col_end)


def read_wrt(
    wrt: str, given: bool, names: Namespace, variables: set[str], where: ClaimText, functions: Mapping[str, str]
) -> tuple[str, tuple[Node, ...]]:
    """The quantity a claim differentiates with respect to (and the index of an entry: wrt = "z[j]")."""
    if not wrt:
        hint = f"; did you mean 'd{where.name}'?" if names.kind(where.name) in ("input", "param", "forward") else ""
        raise InputError(f"claim must be named d<quantity> or give wrt = ...{hint}", where.name_part(0))
    at = where.value("wrt", wrt) if given else where.name_part(1)
    spot = at if given else Location(at.file, at.line, at.key, at.text, at.col_start, at.col_start)
    tree = parse_formula(wrt, spot, functions)
    if isinstance(tree, Apply) and tree.op == "entry" and isinstance(tree.args[0], Ref):
        name, index = tree.args[0].name, tree.args[1:]
    elif isinstance(tree, Ref):
        name, index = tree.name, ()
    else:
        words = f"wrt must name a quantity or one of its entries, got '{wrt}'"
        raise InputError(words, spot.shifted(spot.col_start, spot.col_start + max(len(wrt), 1)))
    here = spot.shifted(spot.col_start, spot.col_start + len(name)) if spot.text is not None else spot
    kind = names.kind(name)
    if name in names.labels:
        raise InputError(f"'{name}' is a label vector (class indices): there is no derivative with respect to it", here)
    if name in names.onehot:  # the engines use y² = y, Σ_c y_c = 1 and log Σ_c y_c a_c = Σ_c y_c log a_c
        raise InputError(
            f"'{name}' is one-hot data (every entry 0 or 1, one 1 per row): there is no derivative with respect to "
            f"it; to differentiate with respect to it as real numbers, declare it without ', onehot'",
            here,
        )
    if kind not in ("input", "param", "forward"):
        what = f"is {KINDS[kind]}" if kind else "is not declared"
        candidates = names.of_kind("input", "param", "forward")
        hint = did_you_mean(name, candidates, "wrt = '{}'" if given else "'d{}'")
        raise InputError(
            f"'{name}' {what}{hint} (a claim differentiates with respect to an input, a parameter or a forward "
            f"quantity: {', '.join(sorted(candidates))})",
            here,
        )
    for part in index:
        if isinstance(part, Ref) and part.name not in variables:
            hint = did_you_mean(part.name, variables) if variables else f'; declare it: for = {{ {part.name} = "K" }}'
            columns = (spot.col_start + part.span[0], spot.col_start + max(part.span[1], part.span[0] + 1))
            raise InputError(
                f"the index '{part.name}' in wrt is not an index variable of this claim{hint}", spot.shifted(*columns)
            )
    return name, tuple(index)


MAX_CONDITION = 1000  # characters of a `when`: a few comparisons


def read_condition(text: str, where: Location, variables: set[str], sizes: Mapping[str, int]) -> Condition:
    """A conjunction of comparisons; sizes may appear and stand for their values (`where`: into `text`)."""
    if not text.strip():
        return Condition()
    if len(text) > MAX_CONDITION:
        raise InputError(f"condition is longer than {MAX_CONDITION} characters", where)
    offset = where.col_start + len(text) - len(text.lstrip())
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        col = offset + max((exc.offset or 1) - 1, 0)
        hint = "; write == for equality" if re.search(r"[^=!<>]=[^=]", text) else ""
        raise InputError(f"cannot read condition '{text}': {exc.msg}{hint}", where.shifted(col, col + 1)) from None
    except (RecursionError, MemoryError, ValueError):
        raise InputError("condition is nested too deeply: write a few comparisons joined by 'and'", where) from None
    parts = tree.values if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And) else [tree]
    clauses = []
    for part in parts:
        span = where.shifted(offset + part.col_offset, offset + (part.end_col_offset or part.col_offset + 1))
        if not (isinstance(part, ast.Compare) and len(part.ops) == 1 and type(part.ops[0]) in _COMPARISONS):
            raise InputError(f"condition '{text}' must compare index variables with == != < > (joined by 'and')", span)
        left, right = (_side(n, text, span, variables, sizes) for n in (part.left, part.comparators[0]))
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
    hint = did_you_mean(node.id, {*variables, *sizes}) if isinstance(node, ast.Name) else ""
    raise InputError(
        f"condition '{text}' may only use this claim's index variables ({known}), sizes and integers{hint}", where
    )


def check_names(expr: Node, known: set[str], where: Location, formula: str) -> None:
    """Raise InputError with a caret at the first name in `expr` that is not in `known`, naming the closest."""
    for name in sorted(refs(expr) - known, key=lambda n: _first_use(n, expr, formula)):
        col = formula_location(where, formula)
        start = col.col_start + _first_use(name, expr, formula)
        raise InputError(
            f"unknown name '{name}'{name_hint(name, known)} (known here: {', '.join(sorted(known))})",
            col.shifted(start, start + len(name)),
        )


def name_hint(name: str, known: set[str]) -> str:
    """'; did you mean 'W1'?' for a misspelt name (W_1, w1, regg, λ), or ''."""
    spelled = GREEK.get(name)
    if spelled:
        found = [n for n in (spelled, {"lam": "lambda", "eps": "epsilon"}.get(spelled, spelled)) if n in known]
        return f"; did you mean '{found[0]}'?" if found else f"; Greek letters are written out ({spelled})"
    if name in ("true", "false", "none", "null", "True", "False", "None"):
        return "; only numbers and declared names are values in a formula"
    if name.startswith("d") and name[1:] in known:  # dz used before (or without) a claim dz
        return f'; claims may use earlier claims: claim {name} above this one ({name} = "...")'
    if name in ("i", "j", "k", "t", "c", "n") and not did_you_mean(name, known):
        return f'; an index variable is declared by the claim: for = {{ {name} = "N" }}'
    return did_you_mean(name, known)


def _first_use(name: str, expr: Node, formula: str) -> int:
    """The column of the first use of `name` in the formula (by its node's span, else by a word search)."""
    spans = [n.span[0] for n in walk(expr) if isinstance(n, Ref) and n.name == name and n.span != (0, 0)]
    if spans:
        return min(spans)
    match = re.search(r"(?<![\w.])" + re.escape(name) + r"(?!\w)", formula)
    return match.start() if match else 0
