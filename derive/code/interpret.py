"""Reading a function body statement by statement, without running it: straight-line code becomes model lines.

The reader follows exactly the statements whose meaning it can state as formulas: assignments (to names, tuples,
`ctx` attributes and subscripts), augmented assignments, `return`, `for` loops over `range` of sizes and numbers
(unrolled at the stated sizes, so their sizes are recorded: no theorem for all sizes is claimed for them), calls
of helpers defined in the same file (inlined), `ctx.save_for_backward`, and `if ctx.needs_input_grad[k]:` (its
body is read: the gradient is then claimed). Anything else is an input error at the statement, with a caret:
silently skipping a statement could make the code that is proved differ from the code that runs.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from derive_check.derive.code.aliasing import activation, copied, in_tuples, pure, viewed
from derive_check.derive.code.control import NOTHING, effect, loop, needs_grad
from derive_check.derive.code.dtypes import dtype
from derive_check.derive.code.source import error_at
from derive_check.derive.code.spelling import TorchSpelling
from derive_check.derive.code.updates import evaluate, updated
from derive_check.derive.code.values import Ctx, Emitted, Fresh, Names, Obj, Tup, Value, module_values, names_in
from derive_check.derive.errors import InputError, did_you_mean

MAX_INLINE_DEPTH = 8  # helper calls inside helper calls
MODULES = ("np", "torch", "F")


class Reader:
    """Reads function bodies into model lines; `arrays` are the model names that hold arrays (inputs, lines)."""

    def __init__(
        self,
        file: str,
        lines: list[str],
        names: Names,
        helpers: dict[str, ast.FunctionDef],
        shape_of: Callable[[ast.expr], tuple[str | int, ...] | None],
        classes: Callable[[ast.expr], str | int | None],
        sizes: dict[str, int],
        spelling: TorchSpelling,
    ) -> None:
        self.file, self.lines, self.names, self.helpers = file, lines, names, helpers
        self.constants: dict[str, ast.Constant] = {}  # the module's number constants (helpers see them too)
        self.shape_of, self.classes, self.sizes, self.spelling = shape_of, classes, sizes, spelling
        self.emitted: list[Emitted] = []
        self.arrays: set[str] = set()
        self.bound: dict[str, int] = {}  # variable -> the line that last bound or updated it
        self.frames: list[dict[str, Value]] = []  # the environments of the functions being read (a helper's caller)
        self.unrolled: set[str] = set()  # sizes a loop was unrolled over
        self.iterations = 0
        self.part = "forward"
        self.depth = 0

    # -- errors ---------------------------------------------------------------------------------------------
    def error(self, message: str, node: ast.AST) -> InputError:
        """An input error with the caret under `node` in its source line."""
        return error_at(self.file, self.lines, node, message)

    # -- functions ------------------------------------------------------------------------------------------
    def call(self, fn: ast.FunctionDef, env: dict[str, Value]) -> Value:
        """Read `fn`'s body with its parameters bound in `env`; the value it returns."""
        self.frames.append(env)
        try:
            for stmt in fn.body:
                result = self.statement(stmt, env, top=True)
                if result is not NOTHING:
                    return result  # type: ignore[return-value]  # a Value: only a return gives anything else
        finally:
            self.frames.pop()
        raise self.error(f"{fn.name} does not end with a return statement", fn)

    def statement(self, stmt: ast.stmt, env: dict[str, Value], top: bool) -> Value | object:
        """Read one statement; a `return` gives its value, anything else NOTHING."""
        if isinstance(stmt, ast.Return):
            if not top:
                raise self.error("a return inside a loop or an if is not read: return at the end", stmt)
            return self.value(stmt.value, env) if stmt.value is not None else None
        if isinstance(stmt, ast.Assign):
            value = self.value(stmt.value, env)
            if len(stmt.targets) > 1:  # `a = b = np.zeros_like(x)`: one array with two names, as in numpy
                first = stmt.targets[0]
                value = self.held(value, first.id if isinstance(first, ast.Name) else "value", stmt)
            for target in stmt.targets:
                self.bind(target, value, env, stmt)
        elif isinstance(stmt, ast.AugAssign):
            self.augmented(stmt, env)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            self.bind(stmt.target, self.value(stmt.value, env), env, stmt)
        elif isinstance(stmt, ast.For):
            loop(self, stmt, env)
        elif isinstance(stmt, ast.If):
            needs_grad(self, stmt, env)
        elif isinstance(stmt, ast.Expr):
            effect(self, stmt, env)
        elif isinstance(stmt, ast.Assert):
            pure(self, stmt)
        elif not isinstance(stmt, ast.Pass):
            kind = type(stmt).__name__
            raise self.error(f"a {kind} statement is not read in code mode (straight-line numpy or torch only)", stmt)
        return NOTHING

    # -- binding --------------------------------------------------------------------------------------------
    def bind(self, target: ast.expr, value: Value, env: dict[str, Value], stmt: ast.stmt) -> None:
        """`target = value`: a name (aliasing objects, as numpy does), a tuple, a ctx attribute or a subscript."""
        if isinstance(target, ast.Name):
            env[target.id] = self.held(value, target.id, stmt)
            self.bound[target.id] = stmt.lineno
        elif isinstance(target, ast.Tuple | ast.List):
            if not isinstance(value, Tup) or len(value.items) != len(target.elts):
                have = f"{len(value.items)} values" if isinstance(value, Tup) else "one value"
                raise self.error(f"cannot unpack {have} into {len(target.elts)} names", target)
            for inner, item in zip(target.elts, value.items, strict=True):
                self.bind(inner, item, env, stmt)
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            owner = env.get(target.value.id)
            if not isinstance(owner, Ctx):
                raise self.error("only ctx attributes can be assigned", target)
            owner.attrs[target.attr] = self.held(value, target.attr, stmt)
        elif isinstance(target, ast.Subscript):
            self.update(target, None, value, env, stmt)
        else:
            raise self.error("this assignment target is not read", target)

    def held(self, value: Value, var: str, stmt: ast.stmt) -> Value:
        """The value as a name holds it: a fresh expression becomes an object (and a model line if it holds an
        array); an object is shared, not copied."""
        if isinstance(value, Fresh):
            if value.copy or not (names_in(value.expr) & self.arrays):
                return Obj(value.expr, stmt.lineno)
            held = Obj(self.emit(var, value.expr, stmt), stmt.lineno)
            if value.view_of is not None:  # numpy's view: an update of either one changes the other
                held.shared = value.view_of.shared = True
            return held
        if isinstance(value, Tup):
            return Tup(tuple(self.held(item, var, stmt) for item in value.items))
        return value

    def emit(self, var: str, expr: ast.expr, stmt: ast.stmt) -> ast.Name:
        """A new model line `name = expr` for variable `var`; its name, as a formula. In the forward, the argument
        of an element-wise function gets a line of its own (`g = np.tanh(a[:, 6:])` reads `g_in = a[:, 6:]`), so
        a backward's `dg` may be checked as the adjoint of g or of its argument (`derive.code.lower._probes`)."""
        if self.part == "forward" and activation(expr):
            assert isinstance(expr, ast.Call)
            expr = ast.Call(expr.func, [self.emit(f"{var}_in", expr.args[0], stmt)], [])
        name = self.names.fresh(var, stmt.lineno, suffixed=self.part == "backward")
        self.emitted.append(Emitted(name, expr, stmt.lineno, var, self.part))
        self.arrays.add(name)
        return ast.Name(name, ast.Load())

    def augmented(self, stmt: ast.AugAssign, env: dict[str, Value]) -> None:
        """`a op= v`: an in-place update of a's object (a numpy array) - refused where a Python number's rebinding
        and an array's in-place update would differ (the object has other holders)."""
        value = self.value(stmt.value, env)
        if isinstance(stmt.target, ast.Subscript):
            self.update(stmt.target, stmt.op, value, env, stmt)
            return
        if not isinstance(stmt.target, ast.Name):
            raise self.error("this augmented assignment target is not read", stmt.target)
        obj = self.lookup(stmt.target.id, env, stmt.target)
        if not isinstance(obj, Obj):
            raise self.error(f"'{stmt.target.id}' is not an array", stmt.target)
        holders = [
            k
            for frame in self.frames
            for k, v in frame.items()
            if v is obj and (frame is not env or k != stmt.target.id)
        ]
        holders += [h for frame in self.frames for h in in_tuples(obj, frame)]
        self.unshared(obj, stmt.target.id, stmt)
        if holders:
            name, symbol = stmt.target.id, _OPS.get(type(stmt.op), "?")
            raise self.error(
                f"'{name}' is also held by {holders[0]}: `{name} {symbol}= ...` updates both if it is an array and "
                f"only '{name}' if it is a number; write `{name} = {name} {symbol} ...` or copy it first",
                stmt,
            )
        new = ast.BinOp(obj.expr, stmt.op, self.operand(value, stmt.value))
        self.replace(obj, new, stmt.target.id, stmt)
        self.bound[stmt.target.id] = stmt.lineno

    def name_dtype(self, name: str) -> str:
        """A model name's dtype: labels and sizes int, other inputs float, a line its formula's."""
        line = next((e for e in self.emitted if e.name == name), None)
        if line is not None:
            return dtype(line.expr, self.name_dtype)
        if name in self.sizes or self.classes(ast.Name(name, ast.Load())) is not None:
            return "int"
        return "float" if name in self.arrays else "unknown"

    def unshared(self, obj: Obj, name: str, node: ast.AST) -> None:
        """Refuse an in-place update of an array that shares memory with another (a view, or viewed)."""
        if obj.shared:
            raise self.error(
                f"'{name}' shares memory with another array (numpy's basic slicing, .T and reshape return views): "
                f"updating it in place changes both; copy it first (.copy())",
                node,
            )

    def replace(self, obj: Obj, expr: ast.expr, var: str, stmt: ast.stmt) -> None:
        """An object's value changed in place: every holder sees the new value. numpy keeps the array's shape and
        dtype in place, so an update that would change either is refused (`+=` broadcasting up; a float stored
        into a bool or int array, `derive.code.dtypes`)."""
        kind = dtype(obj.expr, self.name_dtype)
        if kind != "float":
            raise self.error(
                f"'{var}' holds {kind} values: numpy keeps an array's dtype when it is updated in place (0.5 stored "
                f"into a bool array is True); make it a float array first (e.g. `{var} = ({var}) * 1.0`)",
                stmt,
            )
        if self.shape_of(expr) != self.shape_of(obj.expr):
            raise self.error(f"numpy refuses this in-place update: the result's shape is not '{var}''s", stmt)
        obj.expr = self.emit(var, expr, stmt) if names_in(expr) & self.arrays else expr
        obj.line = stmt.lineno

    def update(
        self, target: ast.Subscript, op: ast.operator | None, value: Value, env: dict[str, Value], stmt: ast.stmt
    ) -> None:
        """`a[index] = v` or `a[index] op= v`, as a formula for the whole of a (`derive.code.updates`)."""
        if not isinstance(target.value, ast.Name):
            raise self.error("only a named array's entries can be assigned", target)
        obj = self.lookup(target.value.id, env, target.value)
        if not isinstance(obj, Obj):
            raise self.error(f"'{target.value.id}' is not an array", target.value)
        self.unshared(obj, target.value.id, target)
        index = self.expression(target.slice, env)
        new = updated(self, obj.expr, index, op, self.operand(value, stmt), target)
        self.replace(obj, new, target.value.id, stmt)
        self.bound[target.value.id] = stmt.lineno

    # -- values ---------------------------------------------------------------------------------------------
    def lookup(self, name: str, env: dict[str, Value], node: ast.AST) -> Value:
        """A variable's value, or an input error naming the closest variable."""
        if name in env:
            return env[name]
        hint = did_you_mean(name, [k for k in env if not k.startswith("_")])
        raise self.error(f"unknown name '{name}'{hint}", node)

    def value(self, node: ast.expr, env: dict[str, Value]) -> Value:
        """The value of an expression: a tuple, an existing object (aliasing), None, or a fresh formula."""
        if isinstance(node, ast.Constant) and node.value is None:
            return None
        if isinstance(node, ast.Tuple | ast.List):
            return Tup(tuple(self.value(e, env) for e in node.elts))
        if isinstance(node, ast.Name) and node.id not in MODULES:
            return self.lookup(node.id, env, node)
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            owner = node.value
            ctx_attr = isinstance(owner, ast.Attribute) and isinstance(owner.value, ast.Name)
            ctx_attr = ctx_attr and isinstance(env.get(owner.value.id), Ctx)  # type: ignore[attr-defined]
            named = isinstance(owner, ast.Name) and owner.id not in MODULES
            held = self.value(owner, env) if named or ctx_attr else None
            if isinstance(held, Tup):
                k = node.slice.value
                if not isinstance(k, int) or not -len(held.items) <= k < len(held.items):
                    raise self.error(f"index {k!r} is outside a tuple of {len(held.items)}", node)
                return held.items[k]
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            ctx = env.get(node.value.id)
            if isinstance(ctx, Ctx):
                if node.attr == "saved_tensors":
                    if ctx.saved is None:
                        raise self.error("forward did not call ctx.save_for_backward", node)
                    return ctx.saved
                if node.attr not in ctx.attrs:
                    raise self.error(f"forward did not set ctx.{node.attr}{did_you_mean(node.attr, ctx.attrs)}", node)
                return ctx.attrs[node.attr]
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in self.helpers:
                return self.inline(self.helpers[func.id], node, env)
            source = copied(node)
            if source is not None:
                return Fresh(self.expression(source, env), copy=True)
        base = viewed(node, env, self.arrays)
        return Fresh(self.expression(node, env), view_of=base)

    def inline(self, fn: ast.FunctionDef, call: ast.Call, env: dict[str, Value]) -> Value:
        """A helper of the same file, read with its parameters bound to the arguments' values."""
        params = [a.arg for a in fn.args.args]
        if call.keywords or len(call.args) != len(params) or fn.args.vararg or fn.args.kwarg:
            raise self.error(f"call {fn.name} with its {len(params)} parameters, by position", call)
        if self.depth >= MAX_INLINE_DEPTH:
            raise self.error(f"helpers call helpers more than {MAX_INLINE_DEPTH} deep", call)
        inner = {p: self.held(self.value(a, env), p, _stmt(call)) for p, a in zip(params, call.args, strict=True)}
        inner.update(module_values(self.constants, fn, inner))
        self.depth += 1
        try:
            return self.call(fn, inner)
        finally:
            self.depth -= 1

    def operand(self, value: Value, node: ast.AST) -> ast.expr:
        """A value used as an array formula."""
        if isinstance(value, Obj | Fresh):
            return value.expr
        raise self.error("a tuple, None or ctx cannot be used as an array here", node)

    def integer(self, node: ast.expr, env: dict[str, Value]) -> int:
        """A loop bound or index at the stated sizes: an integer formula of sizes and numbers."""
        found = evaluate(self.sizes, self.expression(node, env))
        if found is None:
            raise self.error("a loop bound must be a number or a size", node)
        return found

    def expression(self, node: ast.expr, env: dict[str, Value]) -> ast.expr:
        """An array expression as a formula over model names: variables replaced by their current values,
        `x.shape[k]` by the size, helper calls inlined."""
        from derive_check.derive.code.expressions import formula

        return formula(self, node, env)


def _stmt(node: ast.expr) -> ast.stmt:
    stmt = ast.Pass()
    stmt.lineno = node.lineno
    return stmt


_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
