"""A LaTeX parse error in words: what was expected, after what, and what was found instead.

lark reports the grammar's terminal names (`CDOT`, `__ANON_0`); a reader wants "expected an operator or a
closing ')' after 'P', found '&'". The columns are the original text's (`latex_grammar.Prepared.origin`).
"""

from __future__ import annotations

import re

from lark import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from derive_check.derive.errors import did_you_mean
from derive_check.derive.lang.latex_grammar import PARSER, Prepared, source_column
from derive_check.derive.ops.table import LATEX_BRACED, LATEX_COMMANDS

_PATTERNS = {t.name: str(t.pattern.value) for t in PARSER.terminals}
_OPERANDS = {"ALIAS", "BRACED", "FUNCTION", "GREEK", "INDICATOR", "LBRACE", "LPAR", "LSQB", "NAME", "NUMBER", "PI"}
_OPERATORS = {"CDOT", "HADAMARD", "PLUS", "SLASH", "CIRCUMFLEX", "UNDERSCORE"}
_CLOSERS = {"RPAR": ")", "RBRACE": "}", "RSQB": "]"}
_OTHERS = {"EQUALS": "'='", "EQUAL": "'='", "COMPARE": "a comparison (> < \\geq \\leq)", "COMMA": "','"}
_STRUCTURE = {  # commands the grammar itself reads, beside the op table's
    "frac", "sum", "hat", "partial", "cdot", "times", "odot", "circ", "left", "right", "top", "mathbb", "mathbf",
    "mathsf", "text", "operatorname", "mathrm", "boldsymbol", "geq", "leq", "ge", "le", "gt", "lt", "pi", "lambda",
    "eta", "alpha", "beta", "gamma", "delta", "theta", "mu", "rho", "tau", "omega", "epsilon", "intercal", "quad",
}  # fmt: skip
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[A-Za-z][A-Za-z0-9]*|\d+(\.\d+)?|\S")


def describe(exc: UnexpectedInput, text: str, prepared: Prepared) -> tuple[str, int, int]:
    """'cannot read the LaTeX here: expected ... after ..., found ...' and the columns of the caret."""
    names = set(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
    expected = _expected(names)
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        end = len(text.rstrip())
        opened = _unclosed(text)
        why = f"; the '{opened}' is never closed" if opened and any(n in _CLOSERS for n in names) else ""
        return f"cannot read the LaTeX here: it ends too early{why} (expected {expected})", end, end + 1
    if isinstance(exc, UnexpectedToken):
        start = source_column(prepared, exc.token.start_pos or 0)
    elif isinstance(exc, UnexpectedCharacters):
        start = source_column(prepared, exc.pos_in_stream or 0)
    else:
        start = 0
    covering = [m for m in _TOKEN.finditer(text) if m.start() <= start < m.end()]  # \fracc: the whole command
    start = covering[0].start() if covering and covering[0].group(0).startswith("\\") else start
    found = _TOKEN.match(text, start)
    word = found.group(0) if found else text[start : start + 1]
    before = [m.group(0) for m in _TOKEN.finditer(text[:start])]
    after = f" after '{before[-1]}'" if before else " at the start"
    if word.startswith("\\") and word[1:].isalpha() and word[1:] not in _known_commands():
        hint = did_you_mean(word[1:], _known_commands(), "'\\{}'")
        return f"cannot read the LaTeX here: unknown command '{word}'{hint}", start, start + len(word)
    message = f"cannot read the LaTeX here: expected {expected}{after}, found '{word}'"
    if word in (")", "}", "]") and not _unclosed_before(text, start, word):
        message += f" (there is no opening bracket for this '{word}')"
    return message, start, start + max(len(word), 1)


def _expected(names: set[str]) -> str:
    """The expected terminals as words: a term, an operator, a closing bracket."""
    values = {_PATTERNS.get(n, n) for n in names}
    operand = bool(names & _OPERANDS) or bool(values & {"\\frac", "\\sum", "\\hat"})
    operator = bool(names & _OPERATORS)
    words = []
    if operator:
        words.append("an operator (+ - \\cdot \\odot / ^)" + (" or another factor" if operand else ""))
    elif operand:
        words.append("a term (a name, a number, '(' or a command such as \\frac)")
    words += [f"a closing '{c}'" for n, c in _CLOSERS.items() if n in names]
    if "\\}" in values:
        words.append("a closing '\\}'")
    words += [w for n, w in _OTHERS.items() if n in names and w not in words]
    if not words:
        return "something else"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _known_commands() -> set[str]:
    return {*LATEX_COMMANDS, *LATEX_BRACED, *_STRUCTURE}


def _unclosed(text: str) -> str:
    """The last bracket of the text that is never closed ('(' of 'X (P'), or ''."""
    stack: list[str] = []
    for match in re.finditer(r"\\[{}]|[()\[\]{}]", text):
        mark = match.group(0)
        if mark in ("(", "[", "{", "\\{"):
            stack.append(mark)
        elif stack:
            stack.pop()
    return stack[-1] if stack else ""


def _unclosed_before(text: str, end: int, closer: str) -> bool:
    """Whether an opening bracket for `closer` is still open before column `end`."""
    opener = {")": "(", "]": "[", "}": "{"}[closer]
    return text[:end].count(opener) > text[:end].count(closer)
