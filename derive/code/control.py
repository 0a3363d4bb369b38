"""The statements beside assignments: effects, `if ctx.needs_input_grad[k]:` and `for` loops.

A loop is unrolled at the stated sizes (its bound must be a number or a size there, and all loops of a pair run
at most MAX_UNROLLED iterations): each iteration is read with the loop variable a number, so an index computed
from it is a number too. The sizes a loop's bound reads are recorded; the pair is then read at the stated sizes
only (`derive.code.lower`), and no claim about other sizes is made for it.
"""

from __future__ import annotations

import ast

from derive_check.derive.code.updates import added_at
from derive_check.derive.code.values import Ctx, Obj, Reading, Tup, Value, names_in

MAX_UNROLLED = 64  # loop iterations read in one pair
NOTHING: object = object()  # what a statement that is not a return gives


def effect(reader: Reading, stmt: ast.Expr, env: dict[str, Value]) -> None:
    """A docstring, or `ctx.save_for_backward(...)`."""
    node = stmt.value
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
        owner = env.get(node.func.value.id)
        if isinstance(owner, Ctx) and node.func.attr == "save_for_backward":
            owner.saved = Tup(tuple(reader.held(reader.value(a, env), "saved", stmt) for a in node.args))
            return
        if isinstance(owner, Ctx) and node.func.attr in ("mark_non_differentiable", "set_materialize_grads"):
            return
    if isinstance(node, ast.Call) and ast.unparse(node.func) == "np.add.at" and len(node.args) == 3:
        target = node.args[0]
        obj = reader.lookup(target.id, env, target) if isinstance(target, ast.Name) else None
        if isinstance(obj, Obj) and isinstance(target, ast.Name):
            index, value = reader.expression(node.args[1], env), reader.operand(reader.value(node.args[2], env), stmt)
            reader.replace(obj, added_at(reader, obj.expr, index, value, node), target.id, stmt)
            reader.bound[target.id] = stmt.lineno
            return
    raise reader.error("a call whose value is not used is not read (only ctx.save_for_backward, np.add.at)", stmt)


def needs_grad(reader: Reading, stmt: ast.If, env: dict[str, Value]) -> None:
    """`if ctx.needs_input_grad[k]:` - its body is read (the gradient is claimed); any other `if` is refused."""
    test = stmt.test
    ok = (
        isinstance(test, ast.Subscript)
        and isinstance(test.value, ast.Attribute)
        and test.value.attr == "needs_input_grad"
        and not stmt.orelse
    )
    if not ok:
        raise reader.error("an if is not read in code mode (only `if ctx.needs_input_grad[k]:` without else)", stmt)
    for inner in stmt.body:
        if reader.statement(inner, env, top=False) is not NOTHING:
            raise reader.error("a return inside an if is not read", inner)


def loop(reader: Reading, stmt: ast.For, env: dict[str, Value]) -> None:
    """A `for i in range(...)` loop, unrolled at the stated sizes."""
    iterator = stmt.iter
    if (
        not isinstance(stmt.target, ast.Name)
        or stmt.orelse
        or not isinstance(iterator, ast.Call)
        or not isinstance(iterator.func, ast.Name)
        or iterator.func.id != "range"
        or not 1 <= len(iterator.args) <= 2
        or iterator.keywords
    ):
        raise reader.error("only `for i in range(stop)` or `for i in range(start, stop)` loops are read", stmt)
    bounds = [reader.integer(a, env) for a in iterator.args]
    start, stop = (0, bounds[0]) if len(bounds) == 1 else (bounds[0], bounds[1])
    for arg in iterator.args:
        reader.unrolled |= {n for n in names_in(reader.expression(arg, env)) if n not in reader.arrays}
    for i in range(start, stop):
        reader.iterations += 1
        if reader.iterations > MAX_UNROLLED:
            raise reader.error(f"loops run more than {MAX_UNROLLED} iterations in all at these sizes", stmt)
        env[stmt.target.id] = Obj(ast.Constant(i), stmt.lineno)
        for inner in stmt.body:
            if isinstance(inner, ast.Break | ast.Continue) or reader.statement(inner, env, False) is not NOTHING:
                raise reader.error("break, continue and return inside a loop are not read", inner)
