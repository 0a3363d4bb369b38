"""What a variable of the code holds while its function body is read, and the model lines reading emits.

numpy arrays are mutable and shared: `dx = dout` makes two names for one array, `cache = (x, w)` holds the arrays
themselves, and `dx[mask] = 0` changes the array every holder sees. The reader therefore keeps *objects*: a name,
a tuple slot and a `ctx` attribute refer to an `Obj`, and an in-place update changes the object's value, so every
holder sees it, as numpy does. A value is always a formula over the model's names (sizes, the pair's inputs and
the lines emitted so far): each assignment of an array emits one model line, so nothing is computed twice.
"""

from __future__ import annotations

import ast
import copy
import keyword
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from derive_check.derive.ops.spellings import SPELLINGS
from derive_check.derive.ops.table import BUILDERS, FUNCTIONS, METHODS

if TYPE_CHECKING:
    from derive_check.derive.code.spelling import TorchSpelling
    from derive_check.derive.errors import InputError

RESERVED = {"np", "torch", "F", "L", "loss", "sum", "max", "min", "range", *FUNCTIONS, *SPELLINGS, *BUILDERS, *METHODS}


@dataclass(eq=False)
class Obj:
    """One array or number of the running code; `expr` is its current value as a formula over model names."""

    expr: ast.expr
    line: int = 0  # the source line of the statement that gave it its current value (0: an argument)
    shared: bool = False  # it shares memory with another object (a view of it, or viewed): never updated in place


@dataclass(frozen=True)
class Tup:
    """A tuple of values (a cache, `ctx.saved_tensors`, a multiple return)."""

    items: tuple[Value, ...]


@dataclass
class Ctx:
    """torch's `ctx`: what forward saved for backward."""

    saved: Tup | None = None
    attrs: dict[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class Fresh:
    """An expression's value before it is bound to a name (then it becomes an `Obj`, and a model line)."""

    expr: ast.expr
    copy: bool = False  # `x.copy()`: a new object holding the same value, so no new line is needed
    view_of: Obj | None = None  # basic slicing, .T, reshape: numpy returns a view sharing the memory of this object


Value = Obj | Tup | Ctx | Fresh | None


@dataclass(frozen=True)
class Emitted:
    """One model line emitted while reading: `name = expr`, from the statement at source line `line`."""

    name: str
    expr: ast.expr
    line: int
    var: str  # the code's variable it was assigned to
    part: str  # "forward" or "backward"


class Names:
    """Model names, unique across the pair: a variable keeps its own name the first time, then `name_<line>`."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken) | RESERVED | set(keyword.kwlist)

    def fresh(self, base: str, line: int, suffixed: bool = False) -> str:
        """An unused model name for variable `base` assigned at source line `line` (`suffixed`: never `base`
        itself, which stays free for a claim)."""
        first = () if suffixed else (base,)
        for candidate in (*first, f"{base}_{line}", *(f"{base}_{line}_{k}" for k in range(2, 10_000))):
            if candidate not in self.taken and candidate.isidentifier():
                self.taken.add(candidate)
                return str(candidate)
        raise AssertionError("no fresh name")  # unreachable: the counter is unbounded in practice


def names_in(expr: ast.expr) -> set[str]:
    """The names an expression reads."""
    return {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}


def module_values(constants: dict[str, ast.Constant], fn: ast.FunctionDef, local: dict[str, Value]) -> dict[str, Value]:
    """The module's number constants as a function sees them: fresh objects, without the names the function
    binds itself (Python makes those local throughout the function, so reading one first is an error)."""
    bound = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {a.arg for a in fn.args.args}
    return {k: Obj(copy.deepcopy(v)) for k, v in constants.items() if k not in bound and k not in local}


def closure(start: Iterable[str], emitted: Sequence[Emitted]) -> set[str]:
    """The emitted lines `start` names, and every line they read, transitively."""
    by_name = {e.name: e for e in emitted}
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        todo.extend(names_in(by_name[name].expr))
    return seen


def substitute(expr: ast.expr, values: dict[str, ast.expr]) -> ast.expr:
    """The expression with each name of `values` replaced by its formula (a copy; `expr` is not changed)."""

    class _Sub(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.expr:
            return _copy(values[node.id]) if node.id in values else node

    return _Sub().visit(_copy(expr))  # type: ignore[no-any-return]


def _copy(expr: ast.expr) -> ast.expr:
    return copy.deepcopy(expr)


class Reading(Protocol):
    """What the statement readers (`control`, `expressions`, `updates`, `aliasing`) need of the reader
    (`derive.code.interpret.Reader`): they receive it, and never import it."""

    sizes: dict[str, int]
    helpers: dict[str, ast.FunctionDef]
    arrays: set[str]
    unrolled: set[str]
    iterations: int
    bound: dict[str, int]
    spelling: TorchSpelling

    def error(self, message: str, node: ast.AST) -> InputError:
        """An input error with the caret under `node`."""

    def statement(self, stmt: ast.stmt, env: dict[str, Value], top: bool) -> Value | object:
        """Read one statement."""

    def lookup(self, name: str, env: dict[str, Value], node: ast.AST) -> Value:
        """A variable's value."""

    def value(self, node: ast.expr, env: dict[str, Value]) -> Value:
        """An expression's value."""

    def held(self, value: Value, var: str, stmt: ast.stmt) -> Value:
        """The value as a name holds it."""

    def operand(self, value: Value, node: ast.AST) -> ast.expr:
        """A value used as an array formula."""

    def replace(self, obj: Obj, expr: ast.expr, var: str, stmt: ast.stmt) -> None:
        """An object's value changed in place."""

    def integer(self, node: ast.expr, env: dict[str, Value]) -> int:
        """An integer formula at the stated sizes."""

    def expression(self, node: ast.expr, env: dict[str, Value]) -> ast.expr:
        """An expression as a formula over model names."""

    def shape_of(self, expr: ast.expr) -> tuple[str | int, ...] | None:
        """The symbolic shape of a formula, or None."""

    def classes(self, expr: ast.expr) -> str | int | None:
        """The class count of a label vector, or None."""
