"""Expression trees back to the formula language, with the fewest parentheses that keep meaning."""

from __future__ import annotations

from fractions import Fraction

from derive_check.derive.ops.table import RULES
from derive_check.derive.tree import Apply, Const, Node, Ref

_INFIX = {"add": ("+", 1), "sub": ("-", 1), "mul": ("*", 2), "div": ("/", 2), "matmul": ("@", 2), "pow": ("**", 4)}
# `product` (LaTeX juxtaposition) has no spelling of its own: it prints as the operation its shapes chose
_ATOM = 5


def to_text(node: Node) -> str:
    """The formula for `node`, parseable by `derive.lang.formula.parse_formula`."""
    return _text(node)[0]


def _text(node: Node) -> tuple[str, int]:
    if isinstance(node, Const):
        value = node.value
        text = str(value.numerator) if value.denominator == 1 else f"({value.numerator} / {value.denominator})"
        return (text, _ATOM) if value >= 0 else (f"({text})", _ATOM)
    if isinstance(node, Ref):
        return node.name, _ATOM
    assert isinstance(node, Apply)
    if node.op in _INFIX:
        symbol, prec = _INFIX[node.op]
        left, right = _wrap(node.args[0], prec, right=False), _wrap(node.args[1], prec, right=True)
        return f"{left} {symbol} {right}", prec
    if node.op == "neg":
        return f"-{_wrap(node.args[0], 3, right=True)}", 3
    if node.op == "transpose":
        return f"{_wrap(node.args[0], _ATOM, right=False)}.T", _ATOM
    if node.op == "gt":
        return f"({to_text(node.args[0])} > {to_text(node.args[1])})", _ATOM
    if node.op == "entry":
        return f"{_wrap(node.args[0], _ATOM, right=False)}[{', '.join(to_text(a) for a in node.args[1:])}]", _ATOM
    options = dict(node.options)
    if node.op == "index_sum":
        size = options["size"] or "?"  # '?' only before LaTeX's \sum_i is resolved against shapes
        return f"sum({to_text(node.args[0])} for {options['index']} in range({size}))", _ATOM
    if node.op in ("function", "scalar_function"):
        name = "d" * int(options.get("order", 0)) + str(options["name"])
        return f"{name}({to_text(node.args[0])})", _ATOM
    spelling = RULES[node.op].spelling or node.op
    extra = [f"{k}={_option(v)}" for k, v in node.options]
    return f"{spelling}({', '.join([*(to_text(a) for a in node.args), *extra])})", _ATOM


def _option(value: object) -> str:
    if isinstance(value, Fraction) and value.denominator != 1:
        return str(float(value))
    return str(value)


def _wrap(node: Node, prec: int, right: bool) -> str:
    text, inner = _text(node)
    needs = inner < prec or (right and inner == prec and prec in (1, 2)) or (prec == 4 and inner == 4)
    return f"({text})" if needs else text
