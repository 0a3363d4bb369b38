"""Claims as the file states them: what is differentiated, with respect to what, in which layout.

A claim is `d(of)/d(wrt)` with `of` the loss unless stated. `wrt` may name an entry (`z[j]`), and
a claim may carry index variables (`for = { t = "K", j = "K" }`), a condition on them
(`when = "j != t"`) and a true-class binding (`label = { y = "t" }`: y is the one-hot vector of
class t), so seed 002's case analysis ("for j = t", "for j ≠ t", "t is the true class") is checked
for every index assignment the condition allows, each one exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from derive_check.derive.errors import InputError, Location, did_you_mean
from derive_check.derive.lang.formula import parse_formula
from derive_check.derive.model.claim_fields import ClaimText, Condition, check_names, read_condition, read_wrt
from derive_check.derive.model.labels import resolve_labels
from derive_check.derive.model.names import Namespace
from derive_check.derive.model.provenance import read_provenance
from derive_check.derive.model.ranges import read_index_vars
from derive_check.derive.source import formula_location, key_location, locate, string_location
from derive_check.derive.tree import Apply, Node

__all__ = ["CLAIM_KEYS", "LAYOUTS", "VALUE_KINDS", "ClaimSpec", "Condition", "check_names", "parse_claims"]
LAYOUTS = ("denominator", "numerator")
VALUE_KINDS = ("size", "input", "param", "gradient", "forward", "claim")  # names a formula may use
CLAIM_KEYS = {
    "formula", "wrt", "of", "layout", "source", "for", "when", "label", "reading", "latex", "latex_as_written",
    "latex_note", "intent",
}  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class ClaimSpec:
    """A claimed derivative `name` = d(of)/d(target[wrt_index]), written as `expr`."""

    name: str
    target: str
    expr: Node | None  # None when the formula did not parse; `error` says why
    text: str
    where: Location
    source: str = ""  # where the claim is stated, as reports show it
    place: str = ""  # the place in the source document (a `source` table's `place`)
    written: tuple[str, ...] = ()  # the document's formulas verbatim (a `source` table's `written`)
    intent: str = ""  # "" (the only reading), "likely" (the author's most likely intent) or "alternative"
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
            at = ClaimText(file, text, key)
            claim = _with_latex(claim, value["latex"], known, functions, aliases or {}, loss, set(sizes), at)
        try:
            names.declare(key, "claim", key_location(file, text, "claims", key))
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
    at: ClaimText,
) -> ClaimSpec:
    """The claim read from its LaTeX (one line, or a first line and `+=` lines that add terms)."""
    from derive_check.derive.lang.latex import read_latex

    lines = [latex] if isinstance(latex, str) else list(latex) if isinstance(latex, list) else [latex]
    where = at.field("latex")
    start = at.name_part(0).line or where.line or 1
    parts = []
    try:
        for k, line in enumerate(lines):
            if not isinstance(line, str):
                raise InputError(f"latex must be a string or a list of strings, got {line!r}", where)
            spot = string_location(at.file, at.text, start, line, f"claims.{claim.name}.latex")
            start = spot.line or start
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
        return _read_claim(
            key, entry, formula, where, names, sizes, functions, layout, base, ClaimText(file, text, key)
        )
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
    at: ClaimText,
) -> ClaimSpec:
    for unknown in sorted(set(entry) - CLAIM_KEYS):
        known_keys = ", ".join(sorted(CLAIM_KEYS))
        spot = key_location(at.file, at.text, f"claims.{key}", unknown)
        hint = did_you_mean(unknown, CLAIM_KEYS)
        raise InputError(f"unknown claim key '{unknown}'{hint} (known: {known_keys})", spot)
    if not isinstance(formula, str):
        got = f", got {formula!r}" if formula is not None else ""
        words = f"a claim must be a formula string or a table with 'formula' or 'latex'{got}"
        raise InputError(words, where if formula is not None else at.name_part(0))
    index_vars = read_index_vars(entry.get("for", {}), sizes, at.field("for"), names)
    variables = {v for v, _ in index_vars}
    local = names.of_kind(*VALUE_KINDS) | variables
    wrt_text = str(entry.get("wrt") or (key[1:] if key.startswith("d") else ""))
    target, wrt_index = read_wrt(wrt_text, bool(entry.get("wrt")), names, variables, at, functions)
    claim_layout = str(entry.get("layout", layout))
    if claim_layout not in LAYOUTS:
        hint = did_you_mean(claim_layout, LAYOUTS)
        words = f"layout must be one of {', '.join(LAYOUTS)}, got {claim_layout!r}{hint}"
        raise InputError(words, at.field("layout", claim_layout))
    label_table = entry.get("label", {})
    if not isinstance(label_table, dict):
        raise InputError('label must be a table, e.g. label = { y = "t" }', at.field("label"))
    labels = tuple((str(k), str(v)) for k, v in label_table.items())
    for label_input, var in labels:
        if var not in variables:
            raise InputError(f"label index '{var}' is not declared in 'for'", at.field("label"))
        if names.kind(label_input) != "input" or label_input in names.labels:
            hint = did_you_mean(label_input, names.of_kind("input"))
            raise InputError(
                f"label binding names '{label_input}', which is not a declared input{hint}", at.field("label")
            )
    of, of_text = None, str(entry.get("of", ""))
    if of_text:
        of_where = at.value("of", of_text)
        of = parse_formula(of_text, of_where, functions)
        check_names(of, local, of_where, of_text)
        of = resolve_labels(of, names, of_where, of_text)
    expr = parse_formula(formula, formula_location(where, formula), functions)
    check_names(expr, local, where, formula)
    expr = resolve_labels(expr, names, where, formula)
    given = read_provenance(entry, at.field)
    return _replace(
        base,
        target=target,
        expr=expr,
        source=given.source,
        place=given.place,
        written=given.written,
        intent=given.intent,
        of=of,
        of_text=of_text,
        wrt_index=wrt_index,
        layout=claim_layout,
        index_vars=index_vars,
        when=read_condition(str(entry.get("when", "")), at.value("when", str(entry.get("when", ""))), variables, sizes),
        labels=labels,
        reading=str(entry.get("reading", "")),
        latex_note=str(entry.get("latex_note", "")),
    )


def _replace(claim: ClaimSpec, **changes: Any) -> ClaimSpec:
    return replace(claim, **changes)
