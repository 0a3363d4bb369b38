"""What a formula's author most likely meant: the words of an error for Python-isms, MATLAB-isms and LaTeX.

Every function here only reads text or an `ast` node and returns a message (with the columns to put the caret
under, relative to the formula); nothing is evaluated. The walker (`derive.lang.formula`) raises the errors.
"""

from __future__ import annotations

import ast
import re

from derive_check.derive.errors import did_you_mean

LATEX_FIELD = "LaTeX goes in a claim's latex = '...' field"
_LATEX = re.compile(r"\\[A-Za-z]+|\\.|[_^]\s*\{|(?<![\w)\]])1\s*\{")
_UNICODE = {
    "²": "write x ** 2 for a square",
    "³": "write x ** 3 for a cube",
    "·": "write '*' (element-wise) or '@' (matrix product)",
    "⋅": "write '*' (element-wise) or '@' (matrix product)",
    "×": "write '*' (element-wise) or '@' (matrix product)",
    "⊙": "write '*' for the element-wise product",
    "∘": "write '*' for the element-wise product",
    "−": "write the ASCII minus '-'",
    "–": "write the ASCII minus '-'",
    "√": "write sqrt(x)",
    "ᵀ": "write x.T for a transpose",
    "∑": "write sum(x, axis=0), or sum(body for i in range(N))",
    "Σ": "write sum(x, axis=0), or sum(body for i in range(N))",
    "≥": "write '>='",
    "≤": "write '<='",
    "’": "write x.T for a transpose",
    "′": "write df(z) for the derivative of a declared function f",
}
_OPERATORS = {
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.MatMult: "@",
}
MODULES = {"math", "torch", "jnp", "jax", "tf", "F", "scipy", "sp", "special", "nn", "cupy", "cp"}
COMMON = {  # names people call that the language spells another way
    "len": "x.shape[0] (or the size's name, N)",
    "σ": "sigmoid(z)",
    "sigma": "sigmoid(z)",
    "expit": "sigmoid(z)",
    "logistic": "sigmoid(z)",
    "ln": "log(x)",
    "mm": "a @ b",
    "einsum": "a @ b, x.T and sum(x, axis=k)",
    "norm": "sqrt(sum(x ** 2))",
    "multiply": "a * b",
    "add": "a + b",
    "subtract": "a - b",
    "divide": "a / b",
    "true_divide": "a / b",
    "negative": "-x",
    "heaviside": "(x > 0)",
    "diag": "x * np.eye(N) (for a vector x of length N)",
    "reshape": "x[:, None] or x[None, :] (a new axis)",
    "float": "the formula itself (numbers are exact)",
    "relu_grad": "(z > 0)",
    "relu_prime": "(z > 0)",
}


def latex_in_formula(source: str) -> tuple[str, int, int] | None:
    """LaTeX written in a formula field: the message and the columns of the first LaTeX mark, or None."""
    found = _LATEX.search(source)
    if found is None:
        return None
    mark = found.group(0).strip()
    if mark.endswith("{") and mark[0] in "_^":
        how = "write W1 for W_{1}" if mark[0] == "_" else "write x ** 2 for x^{2}, x.T for x^T"
    elif mark.endswith("{"):
        how = "write (z > 0) for the indicator 1{z > 0}"
    else:
        how = "write the formula with + - * / ** @ and .T (X.T @ dz / N, not \\frac{1}{N} X^T dz)"
    message = f"'{mark}' is LaTeX, which a formula does not read: {how}; {LATEX_FIELD}"
    return message, found.start(), found.start() + len(mark)


_ESCAPES = {"\x08": "\\b", "\x0c": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escaped_latex(text: str) -> tuple[str, str, int, int] | None:
    """LaTeX whose backslash TOML read as an escape ("\\frac" in double quotes is a form feed and 'rac'): the
    message, the text as written, and the columns of the command in it; or None."""
    found = next((m for m in re.finditer(r"[\x08\x0c\n\r\t][A-Za-z]{2,}", text) if _is_command(m.group(0))), None)
    if found is None:
        return None
    shown = "".join(_ESCAPES.get(c, c) for c in text)
    start = len("".join(_ESCAPES.get(c, c) for c in text[: found.start()]))
    command = _ESCAPES[found.group(0)[0]] + found.group(0)[1:]
    message = (
        f"'{command}' was read by TOML as an escape ('{_ESCAPES[found.group(0)[0]]}'): in a \"...\" string a "
        f"backslash starts an escape, so write LaTeX in single quotes ('{command}') or double the backslash"
    )
    return message, shown, start, start + len(command)


_TAB_COMMANDS = {"times", "text", "top", "theta", "tau", "tanh", "tilde", "textbf", "textrm"}
_LINE_COMMANDS = {"nabla", "neq", "nu", "right", "rho", "rangle", "rm"}


def _is_command(found: str) -> bool:
    """Whether a control character and the letters after it are a LaTeX command TOML read as an escape: \\f and
    \\b always (\\frac, \\beta), a tab or a line break only before a command's letters (\\times, \\nabla)."""
    word = _ESCAPES[found[0]][1] + found[1:]
    if found[0] in "\x08\x0c":
        return True
    return word in (_TAB_COMMANDS if found[0] == "\t" else _LINE_COMMANDS)


def syntax_hint(source: str, message: str, offset: int | None, end_offset: int | None) -> tuple[str, int, int]:
    """A Python SyntaxError in the words of the formula language, with the columns of the caret."""
    start = max((offset or 0) - 1, 0) if offset else len(source)
    end = end_offset - 1 if end_offset and end_offset - 1 > start else start + 1
    latex = latex_in_formula(source)
    if latex is not None:
        return latex
    assignment = re.match(r"\s*([A-Za-z_]\w*(\[[^\]]*\])?)\s*=(?!=)", source)
    if assignment:
        return (
            f"a formula is only the right-hand side: drop '{assignment.group(0).strip()}' (the TOML key names it)",
            assignment.start(1),
            assignment.end(0),
        )
    matlab = re.search(r"\.\s*([*/^])", source)
    if matlab and not re.search(r"\d\.\s*[*/]", source[max(matlab.start() - 1, 0) : matlab.end()]):
        spelled = {"*": "'*'", "/": "'/'", "^": "'**'"}[matlab.group(1)]
        return (
            f"syntax error: MATLAB's '.{matlab.group(1)}' is {spelled} here (operators are element-wise)",
            matlab.start(),
            matlab.end(),
        )
    char = re.match(r"invalid character '(.)'", message)
    if char and char.group(1) in _UNICODE:
        return f"syntax error: {message}: {_UNICODE[char.group(1)]}", start, start + 1
    prime = re.search(r"[\w)\]]\s*(')", source)
    if prime and "string literal" in message:
        return (
            "syntax error: a quote is not a transpose or a derivative here: write X.T for a transpose (MATLAB's "
            "X'), and df(z) for the derivative of a declared function f",
            prime.start(1),
            prime.end(1),
        )
    if source.rstrip().endswith(";"):
        at = source.rstrip().rindex(";")
        return "syntax error: drop the ';' (a formula is one expression)", at, at + 1
    if "was never closed" in message:
        closer = {"(": ")", "[": "]", "{": "}"}.get(source[start] if start < len(source) else "", ")")
        return f"syntax error: {message} (expected '{closer}' before the end of the formula)", start, start + 1
    if offset is None or offset == 0 or start >= len(source):
        last = source.rstrip()
        tail = " ".join(last[-12:].split())
        return f"syntax error: the formula ends too early, after '{tail}'", len(last), len(last) + 1
    found = source[start:end].strip() or source[start]
    where = "" if f"'{found}'" in message else f" at '{found}'"
    if "unmatched" in message:
        where = f" (there is no opening '{ {')': '(', ']': '[', '}': '{'}.get(found, '(') }' for it)"
    return f"syntax error: {message}{where}", start, end


def operator_message(node: ast.BinOp, after: str) -> str:
    """Why an infix operator of Python is not one of the language, and what to write instead (`after`: the
    text that follows the operator)."""
    kind = type(node.op)
    if kind is ast.BitXor:
        transpose = re.match(r"\s*(T|top)\b", after)
        if transpose:
            return f"'^{transpose.group(1)}' is LaTeX for a transpose: write x.T; {LATEX_FIELD}"
        if after.lstrip().startswith("{"):
            return f"'^{{...}}' is LaTeX: write '**' for a power (x ** 2); {LATEX_FIELD}"
        return "'^' is XOR in Python; write '**' for a power (x ** 2)"
    symbol = _OPERATORS.get(kind, type(node.op).__name__)
    instead = {
        ast.FloorDiv: "; write '/' (division is exact)",
        ast.BitAnd: "; multiply indicators for 'and': (a > 0) * (b > 0)",
        ast.BitOr: "; for 'or' of indicators write a + b - a * b",
        ast.Mod: "",
    }.get(kind, "")
    return f"operator '{symbol}' is not part of the formula language (use + - * / ** @){instead}"


def operator_columns(source: str, node: ast.BinOp, left_end: int, right_start: int) -> tuple[int, int]:
    """The columns of the operator symbol between a BinOp's operands (both given as columns of `source`)."""
    symbol = _OPERATORS.get(type(node.op), "")
    between = source[left_end:right_start]
    at = between.find(symbol) if symbol else -1
    if at < 0:
        return left_end, max(right_start, left_end + 1)
    return left_end + at, left_end + at + len(symbol)


def unsupported_node(node: ast.AST) -> str:
    """Why a kind of Python syntax is not part of the language, and what to write instead."""
    if isinstance(node, ast.BoolOp):
        word = "and" if isinstance(node.op, ast.And) else "or"
        how = "multiply indicators: (a > 0) * (b > 0)" if word == "and" else "write a + b - a * b of indicators"
        return f"'{word}' is not part of the formula language; {how}"
    if isinstance(node, ast.IfExp):
        return "conditional expression is not part of the formula language; write np.where(a > b, x, y)"
    if isinstance(node, ast.List):
        if len(node.elts) == 1 and isinstance(node.elts[0], ast.Compare):
            return "a list is not a formula; write (z > 0) for the indicator [z > 0]"
        return "a list is not a formula (lists appear only in np.concatenate([a, b], axis=1))"
    if isinstance(node, ast.Set | ast.Dict):
        return f"braces are not part of the formula language; {LATEX_FIELD}"
    kinds = {ast.Lambda: "lambda", ast.Slice: "slicing", ast.ListComp: "a list comprehension"}
    return f"{kinds.get(type(node), f'syntax {type(node).__name__!r}')} is not part of the formula language"


def function_hint(name: str, known: list[str]) -> str:
    """'; write sigmoid(z)' or '; did you mean 'exp'?' for an unknown function name."""
    if name in COMMON:
        return f"; write {COMMON[name]}"
    return did_you_mean(name, known)


def module_message(module: str, attr: str, known: list[str]) -> str:
    """A call through another library (math.exp, torch.sigmoid): the numpy name to write."""
    if attr in known:
        return f"'{module}.{attr}' is not read: formulas use numpy's names, write np.{attr}(x) or {attr}(x)"
    hint = function_hint(attr, known)
    return f"'{module}.{attr}' is not read: formulas use numpy's names (np.f or f){hint}"


def attribute_message(attr: str, methods: list[str]) -> str:
    """An attribute other than .T and .shape[k]."""
    if attr in methods:
        return f"'.{attr}' is a method: call it, x.{attr}()"
    if attr in ("size", "ndim", "dtype"):
        return f"attribute '.{attr}' is not supported (only '.T' and x.shape[k]); write sizes by name (N * D)"
    hint = did_you_mean(attr, ["T", "shape", *methods], "'.{}'")
    return f"attribute '.{attr}' is not supported (only '.T' and x.shape[k]){hint}"


def keyword_start(source: str, keyword: ast.keyword, value_start: int) -> int:
    """The column where `name=` of a keyword option starts (the value's column when it cannot be found)."""
    at = source.rfind(f"{keyword.arg}", 0, value_start)
    return at if at >= 0 else value_start
