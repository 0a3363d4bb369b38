"""The LaTeX grammar (lark, Earley) and the normalisation run before it.

The grammar's function names come from the op table (`\\exp`, `\\sigma`, `\\text{ReLU}`), so a new op's LaTeX
spelling is read without an edit here. Normalisation removes what only affects typesetting (\\left, \\right,
\\, \\quad, \\mathbf{}), maps Unicode (−, ·, ⊙, ᵀ), and replaces the file's aliases by placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

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


def prepare(text: str, functions: Mapping[str, str], aliases: Mapping[str, Node]) -> tuple[str, dict[int, Node]]:
    """The text with aliases replaced by placeholders, typography removed and declared functions marked."""
    out = text
    placeholders: dict[int, Node] = {}
    for k, (key, node) in enumerate(sorted(aliases.items(), key=lambda kv: -len(kv[0]))):
        if key in out:
            out = out.replace(key, rf" \alias{{{k}}} ")
            placeholders[k] = node
    for pattern, replacement in _TYPOGRAPHY:
        out = re.sub(pattern, replacement, out)
    for name in functions:
        out = re.sub(rf"(?<![\\\w]){re.escape(name)}(?=\s*'*\s*\()", rf"\\fn{{{name}}}", out)
    # \text{reg}, \mathrm{scores}: a word that is not a function is just a name
    out = re.sub(
        r"\\(text|mathrm|operatorname)\s*\{([A-Za-z][A-Za-z0-9]*)\}",
        lambda m: m.group(0) if m.group(2) in LATEX_WORDS else f" {m.group(2)} ",
        out,
    )
    return out, placeholders


def source_column(original: str, prepared: str, column: int) -> int:
    """Map a column of the prepared text back to the original, by the longest common prefix of tokens."""
    fragment = prepared[column : column + 12].strip()
    found = original.find(fragment[:4]) if fragment else -1
    return found if found >= 0 else min(column, len(original))
