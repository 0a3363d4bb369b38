"""A safe parser for the numpy-like formula language.

The formula is parsed with `ast.parse(mode="eval")` and walked through an
explicit whitelist: a node type not handled here is an error, names are only
recorded (never looked up in any Python namespace), calls are only to
functions in the op registry, and attribute access is only `.T`. Nothing is
ever executed, so `__import__('os')` is merely an unknown function name.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import replace
from fractions import Fraction
from typing import Any, ClassVar

from derive_check.derive.errors import InputError, Location
from derive_check.derive.lang import hints
from derive_check.derive.lang.indexing import SPELLED, Indexing
from derive_check.derive.lang.literals import Literals, check_exponent, check_powers
from derive_check.derive.ops.spec import Kind
from derive_check.derive.ops.spellings import SPELLINGS, SpellingError
from derive_check.derive.ops.table import BUILDERS, FUNCTIONS, INFIX, METHODS
from derive_check.derive.tree import Apply, Const, Node, Ref

MAX_FORMULA_CHARS = 4000
MAX_DEPTH = 60


def parse_formula(text: str, where: Location, functions: Mapping[str, str] | None = None) -> Node:
    """Parse one formula into an expression tree, or raise InputError with a caret.

    `functions` maps names the file declares to their kind: "elementwise" (f; its derivatives are
    called df, ddf) or "scalar" (a generic scalar function of an array, such as a loss L(y)).
    """
    if len(text) > MAX_FORMULA_CHARS:
        raise InputError(f"formula is {len(text)} characters long; the limit is {MAX_FORMULA_CHARS}", where)
    if "\x00" in text:
        raise InputError("formula contains a NUL byte", where)
    escaped = hints.escaped_latex(text)
    if escaped is not None:
        message, shown, start, end = escaped
        message += f"; and a formula is not LaTeX: {hints.LATEX_FIELD}"
        raise InputError(message, Location(where.file, where.line, where.key, shown, start, end))
    source = text.strip()
    offset = text.index(source) if source else 0
    if not source:
        raise InputError("formula is empty", where)
    base = where.col_start + offset  # columns of `source` are these columns of where.text
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        before = len("\n".join(source.split("\n")[: (exc.lineno or 1) - 1])) + (1 if (exc.lineno or 1) > 1 else 0)
        flat = before + exc.offset if exc.offset else None  # a multi-line formula's columns, counted from its start
        ends = before + exc.end_offset if exc.end_offset and exc.end_lineno == exc.lineno else None
        message, start, end = hints.syntax_hint(source, exc.msg, flat, ends)
        raise InputError(message, where.shifted(base + start, base + end)) from None
    except (RecursionError, MemoryError, ValueError):
        raise InputError(f"formula is nested too deeply (limit {MAX_DEPTH} levels)", where) from None
    return _Walker(where, offset, dict(functions or {}), source).walk(tree.body, 0)


class _Walker(Indexing, Literals):
    def __init__(self, where: Location, offset: int, functions: dict[str, str], source: str = "") -> None:
        self.where = where
        self.offset = offset
        self.functions = functions
        self.source = source
        self.encoded = source.encode()

    def column(self, byte: int) -> int:
        """The character column of a UTF-8 byte offset into the source (ast counts bytes)."""
        return byte if self.source.isascii() else len(self.encoded[:byte].decode(errors="ignore"))

    def fail(self, message: str, node: ast.AST) -> InputError:
        start, end = self.span(node)
        return self.fail_at(message, start, max(end, start + 1))

    def fail_at(self, message: str, start: int, end: int) -> InputError:
        """An error with the caret under columns [start, end) of the formula."""
        base = self.where.col_start
        return InputError(message, self.where.shifted(base + start, base + end))

    def span(self, node: ast.AST) -> tuple[int, int]:
        """The columns [start, end) of `node` in the formula text."""
        start = self.column(getattr(node, "col_offset", 0))
        end = getattr(node, "end_col_offset", None)
        return start + self.offset, (self.column(end) if end is not None else start) + self.offset

    def walk(self, node: ast.AST, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.fail(f"formula is nested too deeply (limit {MAX_DEPTH} levels)", node)
        handler = self.HANDLERS.get(type(node))
        if handler is None:
            raise self.fail(hints.unsupported_node(node), node)
        return handler(self, node, depth + 1)

    def binop(self, node: ast.BinOp, depth: int) -> Node:
        op = INFIX.get(type(node.op))
        if op is None:
            left_end, right_start = self.span(node.left)[1], self.span(node.right)[0]
            start, end = hints.operator_columns(self.source, node, left_end - self.offset, right_start - self.offset)
            message = hints.operator_message(node, self.source[end:])
            raise self.fail_at(message, start + self.offset, end + self.offset)
        left, right = self.walk(node.left, depth), self.walk(node.right, depth)
        if op == "pow" and isinstance(right, Const) and right.value.denominator == 2:  # x ** 1.5 = sqrt(x) ** 3
            root = Apply("sqrt", (left,), span=self.span(node))
            right = Const(2 * right.value, span=right.span)
            check_exponent(right, self.fail("", node.right))
            return root if right.value == 1 else Apply("pow", (root, right), span=self.span(node))
        if op == "pow":
            check_exponent(right, self.fail("", node.right))
        return Apply(op, (left, right), span=self.span(node))

    def unary(self, node: ast.UnaryOp, depth: int) -> Node:
        operand = self.walk(node.operand, depth)
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.USub):
            if isinstance(operand, Const):
                return Const(-operand.value, span=self.span(node))
            return Apply("neg", (operand,), span=self.span(node))
        if isinstance(node.op, ast.Not):
            raise self.fail("'not' is not part of the formula language; write 1 - (a > b) for its indicator", node)
        raise self.fail(f"unary {type(node.op).__name__} is not supported", node)

    def compare(self, node: ast.Compare, depth: int) -> Node:
        if len(node.ops) != 1:
            raise self.fail("chained comparisons are not supported; write one indicator per comparison", node)
        left, right = self.walk(node.left, depth), self.walk(node.comparators[0], depth)
        op = node.ops[0]
        if isinstance(op, ast.GtE | ast.LtE):  # [a >= b] = 1 - [b > a] and [a <= b] = 1 - [a > b], at every value
            a, b = (right, left) if isinstance(op, ast.GtE) else (left, right)
            return Apply("sub", (Const(Fraction(1)), Apply("gt", (a, b))), span=self.span(node))
        if isinstance(op, ast.Lt):  # a < b is [b > a]
            op, left, right = ast.Gt(), right, left
        name = INFIX.get(type(op))
        if name is not None:
            return Apply(name, (left, right), span=self.span(node))
        raise self.fail("only the indicators '>', '<', '>=' and '<=' are comparisons of the language", node)

    def call(self, node: ast.Call, depth: int) -> Node:
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("T", "shape"):  # x.T(), x.shape(0)
            start = self.span(node.func.value)[1]
            words = "write x.T (no parentheses)" if node.func.attr == "T" else "write x.shape[0] for axis 0's size"
            raise self.fail_at(f"'.{node.func.attr}' is an attribute, not a method: {words}", start, self.span(node)[1])
        name, receiver = self.callee(node.func)
        if name == "sum" and receiver is None and len(node.args) == 1 and isinstance(node.args[0], ast.GeneratorExp):
            return self.index_sum(node.args[0], node, depth)
        if name == "astype" and receiver is not None:  # x.astype(float): the same numbers
            if len(node.args) != 1 or node.keywords or _dotted(node.args[0]) not in FLOAT_TYPES:
                raise self.fail("only .astype(float) is supported (a 0/1 indicator is already a number)", node)
            return self.walk(receiver, depth)
        numpy_identity = name == "identity" and isinstance(node.func, ast.Attribute)  # np.identity(N): a matrix
        if (name in BUILDERS or numpy_identity) and receiver is None:
            return self.built(node, "eye" if numpy_identity else name, depth)
        operands = [receiver, *node.args] if receiver is not None else list(node.args)
        declared = self.declared(name) if receiver is None else None
        if declared is not None:
            if len(node.args) != 1 or node.keywords:
                raise self.fail(f"{name}() takes exactly one argument", node)
            op, given = declared
            return Apply(op, (self.walk(node.args[0], depth),), given, span=self.span(node))
        spelling = SPELLINGS.get(name)
        if spelling is not None:
            if len(operands) != spelling.arity:
                self.positional_axis(node, name, spelling.arity, spelling.options, len(operands))
                words = f"{name}() takes {spelling.arity} argument(s) ({spelling.doc}), got {len(operands)}"
                raise self.fail(words, node)
            chosen: dict[str, int | Fraction | str] = dict(self.options(node, spelling.options, name))
            try:
                built = spelling.build([self.walk(a, depth) for a in operands], chosen)
            except SpellingError as exc:
                raise self.fail(str(exc), node) from None
            check_powers(built, self.fail("", node))
            return replace(built, span=self.span(node))  # the call's columns, for carets and for diagnoses
        rule = FUNCTIONS.get(name)
        if rule is None or rule.kind is Kind.BINDER:
            known = sorted([*FUNCTIONS, *SPELLINGS, *self.functions])
            hint = f"; write {SPELLED[name]}" if name in SPELLED else hints.function_hint(name, known)
            raise self.fail(f"unknown function '{name}'{hint} (known: {', '.join(known)})", node.func)
        if len(operands) != rule.arity:
            self.positional_axis(node, name, rule.arity, rule.options, len(operands))
            raise self.fail(f"{rule.spelling}() takes {rule.arity} argument(s), got {len(operands)}", node)
        args = tuple(self.walk(a, depth) for a in operands)
        return Apply(rule.name, args, tuple(self.options(node, rule.options, rule.spelling)), span=self.span(node))

    def callee(self, func: ast.expr) -> tuple[str, ast.expr | None]:
        """The function a call names, and the receiver of a method call: f(x), np.f(x), x.f()."""
        if isinstance(func, ast.Name):
            return func.id, None
        if isinstance(func, ast.Attribute):
            if isinstance(func.value, ast.Name) and func.value.id in NUMPY:
                return func.attr, None
            if func.attr in METHODS:
                return func.attr, func.value
            module = _dotted(func.value)
            known = sorted([*FUNCTIONS, *SPELLINGS])
            if module.split(".")[0] in hints.MODULES or module.split(".")[0] in NUMPY:
                raise self.fail(hints.module_message(module, func.attr, known), func)
            methods = ", ".join(f".{m}()" for m in sorted(METHODS))
            hint = hints.function_hint(func.attr, sorted(METHODS))
            raise self.fail(
                f"only calls of the language's functions are allowed (and the methods {methods}){hint}", func
            )
        raise self.fail("only calls of the language's functions are allowed", func)

    def index_sum(self, gen: ast.GeneratorExp, node: ast.Call, depth: int) -> Node:
        """sum(body for i in range(N)): the body at each i, added (a per-sample sum, as in notes)."""
        spelling = "sum(<formula> for i in range(N)), with N a size"
        if len(gen.generators) != 1 or node.keywords:
            raise self.fail(f"a sum over an index is written {spelling}", node)
        loop = gen.generators[0]
        iterator = loop.iter
        if (
            loop.ifs
            or loop.is_async
            or not isinstance(loop.target, ast.Name)
            or not isinstance(iterator, ast.Call)
            or not isinstance(iterator.func, ast.Name)
            or iterator.func.id != "range"
            or len(iterator.args) != 1
            or iterator.keywords
            or not isinstance(iterator.args[0], ast.Name)
        ):
            raise self.fail(f"a sum over an index is written {spelling}", gen)
        index, size = loop.target.id, iterator.args[0].id
        if index.startswith("_") or size.startswith("_"):
            raise self.fail("names may not start with '_'", gen)
        body = self.walk(gen.elt, depth)
        return Apply("index_sum", (body,), (("index", index), ("size", size)), span=self.span(node))

    def declared(self, name: str) -> tuple[str, tuple[tuple[str, int | Fraction | str], ...]] | None:
        """A call of a function the file declares: f, its derivatives df, ddf, or a scalar function."""
        for order in range(3):
            base = name[order:]
            if name[:order] == "d" * order and self.functions.get(base) == "elementwise":
                return "function", (("name", base), ("order", order))
        if self.functions.get(name) == "scalar":
            return "scalar_function", (("name", name),)
        return None

    def attribute(self, node: ast.Attribute, depth: int) -> Node:
        if node.attr == "pi" and _dotted(node.value) in NUMPY:
            return Apply("pi", (), span=self.span(node))
        if node.attr == "shape":
            raise self.fail("x.shape is a tuple: write x.shape[0] for the size of an axis", node)
        if node.attr != "T":
            raise self.fail(hints.attribute_message(node.attr, sorted(METHODS)), node)
        return Apply("transpose", (self.walk(node.value, depth),), span=self.span(node))

    def name(self, node: ast.Name, depth: int) -> Node:
        if node.id.startswith("_"):
            raise self.fail(f"name '{node.id}' is not allowed (names may not start with '_')", node)
        return Ref(node.id, span=self.span(node))

    def paren(self, node: ast.Tuple, depth: int) -> Node:
        raise self.fail("tuples are not part of the formula language", node)

    HANDLERS: ClassVar[dict[type[ast.AST], Callable[[_Walker, Any, int], Node]]] = {
        ast.BinOp: binop,
        ast.UnaryOp: unary,
        ast.Compare: compare,
        ast.Call: call,
        ast.Attribute: attribute,
        ast.Name: name,
        ast.Constant: Literals.constant,
        ast.Tuple: paren,
        ast.Subscript: Indexing.subscript,
    }


NUMPY = {"np", "numpy"}  # the module prefix of np.exp(x)
FLOAT_TYPES = {"float", "np.float64", "np.float32", "numpy.float64", "numpy.float32"}


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""
