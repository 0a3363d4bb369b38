"""What an entry of the op table is: every facet of one operation, in one frozen record.

The table is the floor of `derive`: it imports only the expression tree. Each facet that needs an engine is
written against a small protocol the engine implements, never against the engine itself:

- `Backend` — evaluation at the file's sizes, exact (SymPy object arrays with atoms) or float64;
- `IndexAlgebra` — entries in index notation with symbolic sizes (`derive.index.form.IndexContext`);
- `WitnessArith` — the independent witness's own mpmath arrays (`verify.witness.interp.Interp`).

So an engine has no list of ops of its own: it dispatches on `OPS[node.op]`, and a new op is one entry. The
derivative of a smooth element-wise op is a formula (`derivative`) in the language itself, over the placeholders
`_u` (the argument) and `_self` (the op's own value; `_`-names can never be user names), so the fixed-size engine
and the index engine differentiate it by the same rule, and the witness, which uses no derivative rule at all,
checks that rule by finite differences.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

import numpy as np

from derive_check.derive.tree import Apply, Node

Array = np.ndarray[Any, Any]
Options = dict[str, Any]
Dim = str | int
Shape = tuple[Dim, ...]
ATOM = 5  # the precedence of anything that never needs parentheses
ARG, SELF = "_u", "_self"  # placeholders in derivative formulas


class Kind(enum.Enum):
    """How an op behaves under differentiation; engines and the coverage test read it."""

    LINEAR = "linear"  # sums, products by constants, transposes, entries: exact in every engine
    POLYNOMIAL = "polynomial"  # products and integer powers of operands
    SMOOTH = "smooth"  # exp, log, sigmoid, tanh, softmax, ...: an atom, differentiated by its `derivative`
    PIECEWISE = "piecewise"  # relu, leaky_relu, '>': a 0/1 mask per entry, constant where differentiable
    DECLARED = "declared"  # a function the file names but does not define: every smooth f at once
    BINDER = "binder"  # sum(body for i in range(N)): binds an index; each engine's walker sums the body


class OpShapeError(ValueError):
    """Operand shapes that cannot combine at the file's sizes; the message states expected and actual."""


class OpDomainError(ValueError):
    """A value outside an operation's domain: division by zero, log of a non-positive number."""


class SymbolicShapeError(ValueError):
    """Operands whose shapes disagree for symbolic sizes; `node` is the failing operation."""

    def __init__(self, message: str, node: Node) -> None:
        super().__init__(message)
        self.node = node


class Backend(Protocol):
    """What an evaluation backend supplies beyond numpy's array API."""

    dtype: Any

    def const(self, value: Fraction) -> Array: ...
    def pi(self) -> Array: ...
    def exp(self, x: Array) -> Array: ...
    def log(self, x: Array) -> Array: ...
    def relu(self, x: Array) -> Array: ...
    def smooth(self, op: str, x: Array) -> Array: ...
    def positive(self, x: Array) -> Array: ...
    def intermediate(self, x: Array, name: str) -> Array: ...
    def function(self, name: str, order: int, x: Array) -> Array: ...
    def scalar_function(self, name: str, x: Array) -> Array: ...
    def total(self, x: Array, axis: int | None, keepdims: bool = False) -> Array: ...


class IndexAlgebra(Protocol):
    """Entries in index notation: what an op's `index` facet may ask for (`Sum` values are opaque here)."""

    bindings: dict[str, str]

    def entry(self, node: Node, out: tuple[str, ...]) -> Any: ...
    def aligned(self, node: Node, out: tuple[str, ...]) -> Any: ...
    def shape(self, node: Node) -> Shape: ...
    def fresh(self, dim: Dim) -> str: ...
    def constant(self, value: Any) -> Any: ...
    def pi(self) -> Any: ...
    def plus(self, a: Any, b: Any) -> Any: ...
    def times(self, a: Any, b: Any) -> Any: ...
    def scaled(self, a: Any, factor: Any) -> Any: ...
    def power(self, base: Any, k: int, node: Node) -> Any: ...
    def reciprocal(self, node: Node, out: tuple[str, ...]) -> Any: ...
    def summed(self, terms: Any, index: str, dim: Dim) -> Any: ...
    def size(self, dim: Dim) -> Any: ...
    def mask(self, z: Node, out: tuple[str, ...]) -> Any: ...
    def atom(self, node: Apply, out: tuple[str, ...]) -> Any: ...
    def selection(self, node: Apply, at: tuple[str, ...], axis: int) -> Any: ...
    def one_hot_axis(self, node: Node) -> int | None: ...
    def shifted(self, index: str, offset: Dim) -> str: ...
    def delta(self, a: str, b: str) -> Any: ...
    def nonzero_ae(self, node: Node, out: tuple[str, ...]) -> bool: ...
    def per_sample(self, node: Node) -> None: ...
    def lines(self) -> Mapping[str, Node]: ...
    def not_general(self, message: str, node: Node) -> Exception: ...
    def factor(self, name: str, indices: tuple[str, ...]) -> Any: ...
    def gradient_name(self, function: str) -> str | None: ...


class WitnessArith(Protocol):
    """The witness's arrays of mpmath numbers: what an op's `witness` facet may use."""

    ctx: Any  # the mpmath context (exp, log, tanh, mpf at the witness's precision)

    def const(self, value: Fraction) -> Any: ...
    def unary(self, x: Any, fn: Callable[[Any], Any]) -> Any: ...
    def binary(self, a: Any, b: Any, symbol: str, fn: Callable[[Any, Any], Any]) -> Any: ...
    def matmul(self, a: Any, b: Any) -> Any: ...
    def transpose(self, a: Any) -> Any: ...
    def reduce_sum(self, a: Any, axis: int | None, keep: bool = False) -> Any: ...
    def reshape(self, a: Any, shape: tuple[int, ...]) -> Any: ...
    def reduce(self, a: Any, axis: int | None, keep: bool, fold: Callable[[list[Any]], Any]) -> Any: ...
    def select(self, a: Any, keys: list[int | range | None]) -> Any: ...
    def concat(self, parts: list[Any], axis: int) -> Any: ...
    def count(self, a: Any, axis: int | None) -> int: ...
    def rank(self, a: Any) -> int: ...
    def entry(self, a: Any, indices: list[Any]) -> Any: ...
    def kink(self, x: Any) -> None: ...
    def denominator(self, x: Any) -> Any: ...
    def log(self, x: Any) -> Any: ...
    def positive_argument(self, x: Any, op: str) -> Any: ...
    def declared(self, name: str, order: int, x: Any) -> Any: ...
    def declared_scalar(self, name: str, y: Any) -> Any: ...
    def scalar(self, a: Any, message: str) -> Any: ...
    def axis(self, a: Any, axis: int) -> int: ...
    def fail(self, message: str) -> Exception: ...


Evaluate = Callable[[Backend, list[Array], Options], Array]
ShapeRule = Callable[[list[Shape], Apply, Mapping[str, Shape]], Shape]
IndexRule = Callable[[Apply, tuple[str, ...], IndexAlgebra], Any]
WitnessRule = Callable[[WitnessArith, Apply, list[Any]], Any]
Derivative = Callable[[Apply], Node]
# (application, its factor's name, the factor's indices, target, the target's indices, algebra) -> d factor
IndexDerivative = Callable[[Apply, str, tuple[str, ...], str, tuple[str, ...], Any], Any]
CustomPrint = Callable[[Any, Apply, list[tuple[str, int]]], tuple[str, int]]


@dataclass(frozen=True, kw_only=True)
class Form:
    """How an application prints in one output format.

    `template` is a `str.format` string over the operands' texts ({0}, {1}) and the op's options; `needs[k]` is
    the least precedence operand k may have without parentheses (0: it never needs them); `call` prints
    `call(operands, option=value)` instead; `custom` takes over for forms no template says (x[i, j], f'(x)).
    """

    template: str = ""
    prec: int = ATOM
    needs: tuple[int, ...] = ()
    call: str = ""
    custom: CustomPrint | None = None


@dataclass(frozen=True, kw_only=True)
class Op:
    """One operation: how it is spelled, what shape it has, how every engine evaluates and differentiates it."""

    name: str
    doc: str  # one line: what it means
    arity: int  # operands; -1: any number (indexing)
    kind: Kind
    options: tuple[str, ...] = ()  # literal keyword options, such as axis=1, alpha=0.2
    spelling: str = ""  # the function name in formulas, if it is called like one
    syntax: str = ""  # how formulas write it when it is not called by its name: x[:, H:2*H], x.shape[0]
    infix: tuple[str, type[Any]] | None = None  # (symbol, Python ast operator class) for infix operators
    latex_commands: tuple[str, ...] = ()  # LaTeX commands read as this op: \exp, \sigma
    latex_words: tuple[str, ...] = ()  # words read as this op in \operatorname{...}, \text{...}, \mathrm{...}
    latex_braced: tuple[str, ...] = ()  # LaTeX commands that take the argument in braces: \sqrt{x}
    shape: ShapeRule
    evaluate: Evaluate  # on either `Backend`; operands evaluated first
    partial: bool = False  # may be undefined (1/0, log 0): results are checked for SymPy's zoo and nan
    positive: bool = False  # its value is > 0 wherever defined ([exp(u) > 0] = 1)
    positive_argument: bool = False  # defined (and differentiable) for arguments > 0 only: log, sqrt
    numeric: Callable[[Array], Array] | None = None  # float64 value of a SMOOTH element-wise op
    exact_value: Callable[[Any, Any], Any] | None = None  # (sympy, u) -> its exact value, for counterexamples
    derivative: Derivative | None = None  # d op(u)/du as a formula over `_u` and `_self`
    index: IndexRule | None = None  # the entry of the result in index notation; None: not in the index calculus
    index_gap: str = ""  # why there is no index rule
    atom: bool = False  # index notation keeps an application whole, as one factor
    index_derivative: IndexDerivative | None = None  # d(atom factor) where no element-wise `derivative` says it
    simplex_axis: Callable[[Apply, int], int] | None = None  # (node, rank) -> the axis along which entries sum to 1
    witness: WitnessRule
    text: Form
    latex: Form


def same_shape(args: list[Shape], node: Apply, env: Mapping[str, Shape]) -> Shape:
    """The shape rule of element-wise unary ops: the operand's shape."""
    return args[0]


def shape_text(shape: Shape) -> str:
    """A symbolic shape as people write it: 'scalar', 'H', 'N x C'."""
    return " x ".join(map(str, shape)) if shape else "scalar"


def broadcast(a: Shape, b: Shape, symbol: str, node: Node) -> Shape:
    """numpy's broadcast of two symbolic shapes: right-aligned, size 1 stretches; otherwise names must agree."""
    out: list[Dim] = []
    for k in range(1, max(len(a), len(b)) + 1):
        x = a[-k] if k <= len(a) else 1
        y = b[-k] if k <= len(b) else 1
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise SymbolicShapeError(
                f"operands of '{symbol}' have shapes {shape_text(a)} and {shape_text(b)}, which do not "
                f"broadcast for all sizes ({x} vs {y})",
                node,
            )
    return tuple(reversed(out))


def fmt(a: Array) -> str:
    """A concrete array's shape as people write it."""
    return shape_text(a.shape)


def operator_latex(word: str) -> CustomPrint:
    """\\operatorname{word}(x), with an axis option as a subscript: \\operatorname{sum}_{1}\\left(x\\right)."""

    def custom(printer: Any, node: Apply, parts: list[tuple[str, int]]) -> tuple[str, int]:
        axis = node.option("axis")
        if axis is None:
            return rf"\operatorname{{{word}}}({parts[0][0]})", ATOM
        return rf"\operatorname{{{word}}}_{{{axis}}}\left({parts[0][0]}\right)", ATOM

    return custom
