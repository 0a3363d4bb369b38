"""Claims written in LaTeX, as they appear in notes, parsed into the same expression tree as formulas.

A real grammar (lark, Earley) reads the mathematics; a small normalisation pass first removes what only
affects typesetting (\\left, \\right, \\, \\! \\quad, \\mathbf{}, \\boldsymbol{}) and maps Unicode (−, ·, ⊙, ᵀ),
and the file's alias table replaces prose (\\text{one-hot label}, probs, \\text{ReLU 的导数}) by formulas of the
model. Matrix meaning, not scalar: ^T is a transpose, \\odot and \\circ are element-wise, and juxtaposition or
\\cdot become the registry's `product`, which shapes later make a scalar or a matrix product. \\sum_{i=1}^{N}
is a per-sample sum, `sum(body for i in range(N))`: x_i is row i of x, and a quantity written without the
subscript whose first axis runs over N is read as its row i too (notes write ReLU' for ReLU'_i); the reading taken
is printed as a formula. Only full ranges over a declared size are read (1..N, or 0..N-1); a partial range or a
range over the wrong size is an error with a caret, never a silent full sum. Errors point into the LaTeX string
with a caret and say what was expected.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import cast

from lark import Token, Transformer, Tree, UnexpectedInput, v_args
from lark.exceptions import VisitError

from derive_check.derive.errors import InputError, Location, did_you_mean
from derive_check.derive.lang.hints import escaped_latex
from derive_check.derive.lang.latex_errors import describe
from derive_check.derive.lang.latex_grammar import PARSER, Prepared, prepare, source_column
from derive_check.derive.lang.latex_sums import at_columns, counted, extended, find_word
from derive_check.derive.ops.table import LATEX_BRACED, LATEX_COMMANDS, LATEX_WORDS, OPS, derivative_at
from derive_check.derive.printing.text import to_text
from derive_check.derive.tree import Apply, Const, Node, Ref


@dataclass(frozen=True)
class LatexClaim:
    """What a LaTeX claim says: the formula, and what its left side differentiates (if it has one)."""

    expr: Node
    of: str | None  # the numerator of the left side: "L", or a quantity such as "yhat[t]"
    wrt: str | None  # the denominator of the left side, as a formula: "W2", "z[t]"
    accumulate: bool  # the relation was "+=" (a term added to an earlier statement)


@functools.lru_cache(maxsize=1024)
def parsed(prepared: str) -> Tree[Token]:
    """The parse tree of a prepared LaTeX string, remembered: a file that `extends` another reads the other's
    claims again, and lark's Earley parse is most of reading them. Sound to share: the tree depends on the
    string alone, and `_Builder` (a lark Transformer, not an in-place one) builds new nodes without changing it."""
    return PARSER.parse(prepared)


def read_latex(
    text: str,
    where: Location,
    names: set[str],
    functions: Mapping[str, str],
    aliases: Mapping[str, Node],
    index_vars: set[str],
    sizes: set[str] | None = None,
) -> LatexClaim:
    """Parse a LaTeX claim (`\\frac{\\partial L}{\\partial W_2} = ...` or just the right side)."""
    escaped = escaped_latex(text)
    if escaped is not None:
        message, shown, start, end = escaped
        raise InputError(message, Location(where.file, where.line, where.key, shown, start, end))
    prepared, placeholders = prepare(text, functions, aliases)
    try:
        tree = parsed(str(prepared))
    except UnexpectedInput as exc:
        message, start, end = describe(exc, text, prepared)
        raise InputError(message, at_columns(where, text, start, end)) from None
    builder = _Builder(text, where, names, functions, placeholders, index_vars, sizes or set(), prepared)
    try:
        if tree.data == "relation":
            left, relation, right = tree.children
            of, wrt = builder.left_side(left)
            expr = counted(builder.transform(cast("Tree[Token]", right)), {}, text, where)
            claim = LatexClaim(expr, of, wrt, str(relation) == "+=")
        else:
            claim = LatexClaim(counted(builder.transform(tree), {}, text, where), None, None, False)
        check_latex_names(claim.expr, names | index_vars, text, where)
        return claim
    except VisitError as exc:  # errors raised while building arrive wrapped by lark
        if isinstance(exc.orig_exc, InputError):
            raise exc.orig_exc from None
        raise InputError(f"cannot read the LaTeX: {exc.orig_exc}", where) from None


class _Builder(Transformer):  # type: ignore[type-arg]
    """lark tree -> expression tree, checking names as it goes."""

    def __init__(
        self,
        text: str,
        where: Location,
        names: set[str],
        functions: Mapping[str, str],
        placeholders: dict[int, Node],
        index_vars: set[str],
        sizes: set[str],
        prepared: Prepared | None = None,
    ) -> None:
        super().__init__()
        self.prepared = prepared
        self.text, self.where, self.names, self.functions = text, where, names, functions
        self.placeholders, self.index_vars, self.sizes = placeholders, index_vars, sizes

    def fail(self, message: str, meta: object = None) -> InputError:
        """An error with the caret under the original text of `meta`'s span (the first column without one)."""
        if meta is None or getattr(meta, "empty", True) or self.prepared is None:
            return InputError(message, at_columns(self.where, self.text, 0, 1))
        start = source_column(self.prepared, getattr(meta, "start_pos", 0))
        end = source_column(self.prepared, getattr(meta, "end_pos", 0) - 1) + 1
        return InputError(message, at_columns(self.where, self.text, start, max(end, start + 1)))

    def left_side(self, tree: object) -> tuple[str | None, str | None]:
        """(numerator, denominator) of \\frac{\\partial A}{\\partial B}, as formulas."""
        from lark import Tree

        if not (isinstance(tree, Tree) and tree.data == "derivative"):
            raise self.fail("the left side must be \\frac{\\partial L}{\\partial X}", getattr(tree, "meta", None))
        top, bottom = (self.transform(tree.children[k]) for k in (1, 3))
        return to_text(top), to_text(bottom)

    @v_args(inline=True)
    def name(self, token: Token) -> Node:
        return Ref(str(token))  # checked once subscripts are joined (h_1 is h1): see `check_latex_names`

    @v_args(inline=True)
    def greek(self, token: Token) -> Node:
        """\\lambda is the name lambda, or lam, whichever the model declares."""
        word = str(token)[1:]
        short = {"lambda": "lam", "epsilon": "eps"}.get(word, word)
        return Ref(word if word in self.names or short not in self.names else short)

    @v_args(inline=True)
    def pi(self, token: Token) -> Node:
        return Apply("pi", ())

    @v_args(inline=True)
    def number(self, token: Token) -> Node:
        return Const(Fraction(str(token)))

    @v_args(inline=True)
    def alias(self, token: Token) -> Node:
        return self.placeholders[int(str(token)[7:-1])]

    @v_args(inline=True)
    def hat(self, token: Token) -> Node:
        return Ref(f"{token}hat")

    def add(self, args: list[Node]) -> Node:
        return Apply("add", tuple(args))

    def sub(self, args: list[Node]) -> Node:
        return Apply("sub", tuple(args))

    def neg(self, args: list[Node]) -> Node:
        return Apply("neg", tuple(args))

    def product(self, args: list[object]) -> Node:
        return extended("product", args[0], args[-1])  # type: ignore[arg-type]

    def hadamard(self, args: list[object]) -> Node:
        return extended("mul", args[0], args[-1])  # type: ignore[arg-type]

    def div(self, args: list[Node]) -> Node:
        return extended("div", args[0], args[-1])

    def paren(self, args: list[Node]) -> Node:
        """Parentheses close a sum: (\\sum_i x_i) y multiplies the whole sum by y."""
        node = args[0]
        if isinstance(node, Apply) and node.op == "index_sum" and node.option("open"):
            return Apply("index_sum", node.args, tuple(kv for kv in node.options if kv[0] != "open"))
        return node

    def frac(self, args: list[Node]) -> Node:
        return Apply("div", tuple(args))

    @v_args(meta=True)
    def derivative(self, meta: object, args: list[object]) -> Node:
        raise self.fail("a derivative \\frac{\\partial}{\\partial} can only be the left side of a claim", meta)

    @v_args(meta=True)
    def total(self, meta: object, args: list[object]) -> Node:
        """\\sum_{i=1}^{N} body: the body at each i, added; only a full range over a size is read."""
        body = args[-1]
        assert isinstance(body, Node)
        if len(args) == 1:
            raise self.fail("a sum needs its index and range, e.g. \\sum_{i=1}^{N}", meta)
        bound = args[0]
        assert isinstance(bound, tuple)
        index, lower, upper = bound
        one, zero = Const(Fraction(1)), Const(Fraction(0))
        size = ""
        if upper is None and lower in (None, one):
            size = ""  # \sum_i: the range is read from the quantities subscripted with i
        elif isinstance(upper, Ref) and upper.name in self.sizes and lower in (None, one):
            size = upper.name
        elif (
            lower == zero
            and isinstance(upper, Apply)
            and upper.op == "sub"
            and isinstance(upper.args[0], Ref)
            and upper.args[0].name in self.sizes
            and upper.args[1] == one
        ):
            size = upper.args[0].name
        else:
            low = to_text(lower) if isinstance(lower, Node) else "1"
            high = to_text(upper) if isinstance(upper, Node) else "?"
            raise self.fail(
                f"\\sum_{{{index}={low}}}^{{{high}}} is not a full sum over a size: only \\sum_{{{index}=1}}^{{N}} "
                f"(or {index}=0 to N-1), with N a declared size ({', '.join(sorted(self.sizes)) or 'none'}), is read",
                meta,
            )
        start = 0 if lower == zero else (1 if upper is not None else -1)  # -1: \sum_i, where i starts is unsaid
        options = (("index", index), ("size", size), ("rows", 1), ("open", 1), ("from", start))
        return Apply("index_sum", (body,), options)

    def bounds_from(self, args: list[object]) -> tuple[str, Node | None, Node | None]:
        """\\sum_{i=a}^{b}: (index, lower, upper or None)."""
        lower = args[1] if isinstance(args[1], Node) else None
        upper = args[2] if len(args) > 2 and isinstance(args[2], Node) else None
        return str(args[0]), lower, upper

    def bounds_upper(self, args: list[object]) -> tuple[str, Node | None, Node | None]:
        """\\sum_i^{b} or \\sum_{i}: (index, None, upper or None)."""
        upper = args[1] if len(args) > 1 and isinstance(args[1], Node) else None
        return str(args[0]), None, upper

    @v_args(inline=True)
    def comparison(self, left: Node, op: Token, right: Node) -> Node:
        """[a > b]; [a >= b] is 1 - [b > a] (and so on), which holds at every value."""
        word = str(op)
        if word in (">=", "\\geq", "\\ge", "<=", "\\leq", "\\le"):
            a, b = (right, left) if word in (">=", "\\geq", "\\ge") else (left, right)
            return Apply("sub", (Const(Fraction(1)), Apply("gt", (a, b))))
        return Apply("gt", (left, right) if word in (">", "\\gt") else (right, left))

    def indicator(self, args: list[object]) -> Node:
        return args[-1]  # type: ignore[return-value]

    def braced(self, args: list[object]) -> Node:
        """\\sqrt{x}: an op whose LaTeX takes its argument in braces."""
        body = args[-1]
        assert isinstance(body, Node)
        return Apply(LATEX_BRACED[str(args[0])[1:]], (body,))

    @v_args(meta=True)
    def call(self, meta: object, args: list[object]) -> Node:
        function, body = str(args[0]), args[-1]
        primes = len(str(args[1])) if len(args) == 3 else 0
        assert isinstance(body, Node)
        declared = re.fullmatch(r"\\fn\{(\w+)\}", function)
        if declared:
            name = declared.group(1)
            return Apply("function", (body,), (("name", name), ("order", primes)))
        wrapped = re.fullmatch(r"\\(?:text|operatorname|mathrm)\{(\w+)\}", function)
        word = LATEX_WORDS[wrapped.group(1)] if wrapped else LATEX_COMMANDS[function[1:]]
        if primes == 1 and word == "relu":
            return Apply("gt", (body, Const(Fraction(0))))  # ReLU'(z) = 1[z > 0]
        if primes == 1 and OPS[word].derivative is not None:  # \sigma'(z): the op table's derivative at z
            return derivative_at(Apply(word, (body,)))
        if primes:
            raise self.fail(f"the derivative {word}{chr(39) * primes} is not built in; write it out", meta)
        return Apply(word, (body,))

    def superscript(self, args: list[object]) -> Node:
        base, sup = args[0], args[-1]
        assert isinstance(base, Node)
        if sup == "T":
            return Apply("transpose", (base,))
        return Apply("pow", (base, sup), (("latex", 1),))  # type: ignore[arg-type]  # shapes decide (see shapes)

    def sup(self, args: list[object]) -> object:
        item = args[0]
        if isinstance(item, Token) and item.type == "TRANSPOSE":
            return "T"
        if isinstance(item, Token) and item.type == "NUMBER":
            return Const(Fraction(str(item)))
        if isinstance(item, Token) and item.type == "NAME":
            return self.name(item)
        return item

    def sub_index(self, args: list[object]) -> list[str]:
        return [str(a) for a in args]

    def subscripted(self, args: list[object]) -> Node:
        """W_2 is the name W2 when the model has it; otherwise x_t, x_{i,j} are entries (or rows, inside a sum)."""
        base, index = args[0], args[-1]
        assert isinstance(base, Node) and isinstance(index, list)
        if isinstance(base, Ref) and base.name + "".join(index) in self.names:
            return Ref(base.name + "".join(index))
        parts = [Const(Fraction(int(i))) if i.isdigit() else Ref(i) for i in index]
        return Apply("entry", (base, *parts))

    def __default__(self, data: str, children: list[object], meta: object) -> object:
        raise self.fail(f"'{data}' is not supported in LaTeX claims", meta)


def check_latex_names(node: Node, known: set[str], text: str, where: Location) -> None:
    """Raise InputError with a caret at the first name the model does not have."""
    from derive_check.derive.tree import refs

    for word in sorted(refs(node) - known):
        hint = did_you_mean(word, known)
        raise InputError(
            f"unknown name '{word}' in LaTeX{hint} (known: {', '.join(sorted(known))}; prose and other "
            f"notation can be mapped in [aliases])",
            at_columns(where, text, *find_word(text, word)),
        )
