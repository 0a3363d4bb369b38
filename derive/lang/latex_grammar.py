"""The LaTeX grammar (lark, Earley) and the normalisation run before it.

The grammar's function names come from the op table (`\\exp`, `\\sigma`, `\\text{ReLU}`), so a new op's LaTeX
spelling is read without an edit here. Normalisation removes what only affects typesetting (\\left, \\right,
\\, \\quad, \\mathbf{}), maps Unicode (−, ·, ⊙, ᵀ), and replaces the file's aliases by placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from lark import Lark

from derive_check.derive.ops.table import LATEX_BRACED, LATEX_COMMANDS, LATEX_WORDS
from derive_check.derive.tree import Node

GRAMMAR = r"""
?start: relation | expr
relation: expr EQUALS expr
EQUALS: "+=" | "="

?expr: term
     | expr "+" term           -> add
     | expr "-" term           -> sub
     | "-" term                -> neg
?term: postfix
     | term CDOT postfix       -> product
     | term HADAMARD postfix   -> hadamard
     | term "/" postfix        -> div
     | term postfix            -> product
CDOT: "\\cdot" | "\\times" | "*"
HADAMARD: "\\odot" | "\\circ"

?postfix: atomic
     | postfix "^" sup         -> superscript
     | postfix "_" sub_index   -> subscripted
?atomic: NAME                  -> name
     | GREEK                   -> greek
     | PI                      -> pi
     | NUMBER                  -> number
     | ALIAS                   -> alias
     | "(" expr ")"            -> paren
     | "[" expr "]"            -> paren
     | "{" expr "}"            -> paren
     | "\\frac" "{" expr "}" "{" expr "}"                 -> frac
     | "\\frac" "{" PARTIAL expr "}" "{" PARTIAL expr "}"  -> derivative
     | "\\sum" bounds? term                             -> total
     | INDICATOR "[" comparison "]"                     -> indicator
     | INDICATOR "\\{" comparison "\\}"                 -> indicator
     | INDICATOR "_" "{" comparison "}"                 -> indicator
     | FUNCTION PRIMES? "(" expr ")"                    -> call
     | BRACED "{" expr "}"                              -> braced
     | "\\hat" "{" NAME "}"                              -> hat
     | "\\hat" NAME                                      -> hat
PARTIAL: "\\partial"
PI: /\\pi(?![A-Za-z])/
GREEK: /\\(lambda|eta|alpha|beta|gamma|delta|theta|Theta|mu|rho|tau|omega|epsilon)(?![A-Za-z])/
PRIMES: /'+/
INDICATOR: "\\mathbb{1}" | "\\mathbf{1}" | "\\mathbb 1" | "1"
BRACED: /\\(@BRACED@)\b/
FUNCTION: /\\(@COMMANDS@)\b/
        | /\\(text|operatorname|mathrm)\{(@WORDS@)\}/
        | /\\fn\{[A-Za-z]\w*\}/
ALIAS: /\\alias\{\d+\}/
comparison: expr COMPARE expr
COMPARE: ">=" | "<=" | ">" | "<" | "\\geq" | "\\leq" | "\\ge" | "\\le" | "\\gt" | "\\lt"
?bounds: "_" "{" NAME "=" expr "}" ("^" sup)?   -> bounds_from
      | "_" "{" NAME "}" ("^" sup)?               -> bounds_upper
      | "_" NAME ("^" sup)?                       -> bounds_upper
sup: TRANSPOSE | "{" TRANSPOSE "}" | NUMBER | "{" NUMBER "}" | NAME | "{" expr "}"
TRANSPOSE.2: "T" | "\\top" | "\\intercal" | "\\mathsf{T}" | "\\mathsf T"
sub_index: NAME | NUMBER | "{" NAME "}" | "{" NUMBER "}" | "{" NAME "," NAME "}" | "{" NUMBER "," NUMBER "}"
NAME: /[A-Za-z][A-Za-z0-9]*/
NUMBER: /\d+(\.\d+)?/
%ignore /\s+/
"""

GRAMMAR = (
    GRAMMAR.replace("@COMMANDS@", "|".join(LATEX_COMMANDS))
    .replace("@WORDS@", "|".join(LATEX_WORDS))
    .replace("@BRACED@", "|".join(LATEX_BRACED))
)
PARSER = Lark(GRAMMAR, parser="earley", propagate_positions=True, maybe_placeholders=False)
_TYPOGRAPHY = [
    (r"\\left\s*([(\[]|\\\{)", r"\1"),
    (r"\\right\s*([)\]]|\\\})", r"\1"),
    (r"\\[bB]igg?[lr]?", ""),
    (r"\\[,;:!]|\\q?quad\b|~", " "),
    (r"\\(mathbf|boldsymbol|bm|mathit|vec)\s*\{([A-Za-z][A-Za-z0-9]*)\}", r"\2"),
    (r"\\left\.|\\right\.", ""),
    ("−", "-"),
    ("·", r" \\cdot "),
    ("⊙", r" \\odot "),
    ("ᵀ", "^T"),
    (r"\\mathbb\s*\{\s*1\s*\}", r"\\mathbb{1}"),
]


class Prepared(str):
    """The prepared text, with `origin[k]`: the column of the original text that prepared column k came from."""

    origin: list[int]


def prepare(text: str, functions: Mapping[str, str], aliases: Mapping[str, Node]) -> tuple[Prepared, dict[int, Node]]:
    """The text with aliases replaced by placeholders, typography removed and declared functions marked."""
    out, origin = text, list(range(len(text) + 1))
    placeholders: dict[int, Node] = {}
    for k, (key, node) in enumerate(sorted(aliases.items(), key=lambda kv: -len(kv[0]))):
        if key in out:
            out, origin = _sub(re.escape(key), rf" \\alias{{{k}}} ", out, origin)
            placeholders[k] = node
    for pattern, replacement in _TYPOGRAPHY:
        out, origin = _sub(pattern, replacement, out, origin)
    for name in functions:
        out, origin = _sub(rf"(?<![\\\w]){re.escape(name)}(?=\s*'*\s*\()", rf"\\fn{{{name}}}", out, origin)
    # \text{reg}, \mathrm{scores}: a word that is not a function is just a name
    out, origin = _sub(
        r"\\(text|mathrm|operatorname)\s*\{([A-Za-z][A-Za-z0-9]*)\}",
        lambda m: m.group(0) if m.group(2) in LATEX_WORDS else f" {m.group(2)} ",
        out,
        origin,
    )
    prepared = Prepared(out)
    prepared.origin = origin
    return prepared, placeholders


def _sub(
    pattern: str, replacement: str | Callable[[re.Match[str]], str], text: str, origin: list[int]
) -> tuple[str, list[int]]:
    """re.sub that keeps the column map: a group copied into the replacement keeps its columns, the rest of
    the replacement takes the column of the match's start."""
    pieces: list[str] = []
    columns: list[int] = []
    last = 0
    for match in re.finditer(pattern, text):
        pieces.append(text[last : match.start()])
        columns.extend(origin[last : match.start()])
        new = replacement(match) if callable(replacement) else match.expand(replacement)
        mapped = [origin[match.start()]] * len(new)
        groups = sorted(range(1, (match.lastindex or 0) + 1), key=lambda g: -len(match.group(g) or ""))
        for g in groups:
            word = match.group(g) or ""
            at = new.find(word) if word else -1
            if at >= 0:
                mapped[at : at + len(word)] = origin[match.start(g) : match.end(g)]
                break
        pieces.append(new)
        columns.extend(mapped)
        last = match.end()
    pieces.append(text[last:])
    columns.extend(origin[last:])
    return "".join(pieces), columns


def source_column(prepared: Prepared, column: int) -> int:
    """The column of the original text that column `column` of the prepared text came from."""
    return prepared.origin[max(0, min(column, len(prepared.origin) - 1))]
