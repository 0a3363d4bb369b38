"""A forward/backward pair of code as the model every engine already proves, with the loss sum(out * dout).

For a forward out = f(x, w) and an upstream gradient dout (a free input of out's shape), the gradient of the
scalar sum(out * dout) with respect to x is, entry by entry, Σ dout[i] ∂out[i]/∂x = the vector-Jacobian product
the backward must return. So the pair becomes a derivation model: the forward's inputs (the ones the backward
returns a gradient for are the parameters), one upstream input per output, the forward's lines, the loss line
`L = np.sum(out * dout)`, and one claim per returned gradient whose formula is the backward's computation over
the forward's quantities. A loss function (`X_loss(x, y) -> (loss, dx)`) is the same with its own loss.

The backward's statements are inlined into the claims while the formula stays short (so a diagnosis reads the
whole computation); a longer one stays a line of the model. Either way the claim's value is exactly what the
code computes: inlining a name by its formula changes no value.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from pathlib import Path

from derive_check.derive.code.declare import Declarations, Declared
from derive_check.derive.code.declare import read as read_declarations
from derive_check.derive.code.interpret import Reader
from derive_check.derive.code.pairs import Pair, read_module
from derive_check.derive.code.shapes import Shapes
from derive_check.derive.code.source import error_at
from derive_check.derive.code.spelling import TorchSpelling
from derive_check.derive.code.toml_text import Model, spec_of
from derive_check.derive.code.updates import evaluate
from derive_check.derive.code.values import Ctx, Names, Obj, Tup, Value, closure, module_values, names_in
from derive_check.derive.errors import InputError, Location
from derive_check.derive.model.spec import ModelSpec


def load_code(path: Path, text: str) -> list[tuple[str, ModelSpec | InputError]]:
    """Every declared pair of a Python file as a model, or the input error that stops that pair, in file order
    (an input error if there is no pair at all: one pair's error does not stop the others)."""
    file = str(path)
    module = read_module(file, text)
    if not module.pairs:
        raise InputError(
            "no forward/backward pair with a '# derive-check: x: N x D, ...' shape declaration in this file "
            "(pairs are X_forward/X_backward functions, X_loss functions returning (loss, dx, ...), or "
            "torch.autograd.Function classes)",
            Location(file, 1),
        )
    lines = text.splitlines()
    found: list[tuple[str, ModelSpec | InputError]] = []
    for pair in module.pairs:
        try:
            found.append((pair.name, lower(file, lines, module.helpers, module.modules, module.constants, pair)))
        except InputError as exc:
            found.append((pair.name, exc))
    return found


def lower(
    file: str,
    lines: list[str],
    helpers: dict[str, ast.FunctionDef],
    modules: dict[str, str],
    constants: dict[str, ast.Constant],
    pair: Pair,
    given: Declarations | None = None,
) -> ModelSpec:
    """One pair as a resolved model (`given`: its declarations, from a derivation file's [code] table)."""
    declared = given or read_declarations(file, lines, pair.declarations)
    sizes = declared.sized()
    torch = pair.kind == "torch Function"
    params = [a.arg for a in pair.forward.args.args][1 if torch else 0 :]
    for name, decl in declared.decls.items():
        if name not in params:
            raise InputError(
                f"'{name}' is declared but is not a parameter of {pair.forward.name}({', '.join(params)})", decl.where
            )
    missing = [a for a in pair.forward.args.args if a.arg in params and a.arg not in declared.decls]
    if missing:
        arg = missing[0]
        raise error_at(
            file, lines, arg, f"declare the shape of '{arg.arg}' in a '# derive-check: {arg.arg}: N x D' line"
        )
    concrete = _positional(pair, helpers)
    labelled = {w for d in declared.decls.values() if "labels" in d.value for w in re.findall(r"[A-Za-z_]\w*", d.value)}
    fixed = {k: v for k, v in sizes.items() if k not in labelled}  # np.arange(N), np.eye(C) need size names
    decls = {n: Declared(n, _at_sizes(d.value, fixed), d.where) if concrete else d for n, d in declared.decls.items()}
    shapes = Shapes(file, sizes, {n: (d.value, d.where) for n, d in decls.items()})
    names = Names(set(sizes) | set(params))
    reader = Reader(file, lines, names, helpers, shapes.of, shapes.classes, sizes, TorchSpelling(file, lines, modules))
    shapes.emitted = reader.emitted
    reader.constants = constants
    reader.arrays |= set(params)
    env: dict[str, Value] = {n: Obj(ast.Name(n, ast.Load())) for n in params}
    env.update(module_values(constants, pair.forward, env))
    ctx = Ctx()
    if torch:
        env[pair.forward.args.args[0].arg] = ctx
    returned = _as_lines(reader, reader.call(pair.forward, env), "out", pair.forward)
    if pair.backward is None:
        return _loss_function(file, lines, pair, reader, returned, env, params, shapes, decls, concrete)
    ups = [a.arg for a in pair.backward.args.args][1 if torch else 0 :]
    outputs, cache = _outputs(file, lines, pair, returned, len(ups) - (0 if torch else 1))
    reader.part = "backward"
    back: dict[str, Value] = module_values(constants, pair.backward, {})
    upstream = []
    for up, out in zip(ups, outputs, strict=False):
        model_name = names.fresh(up, pair.backward.lineno)
        shape = shapes.of(out.expr)
        if shape is None:
            raise error_at(file, lines, pair.backward, f"the shape of the forward's output for '{up}' is not known")
        shapes.declare(model_name, shape)
        upstream.append((model_name, shape))
        back[up] = Obj(ast.Name(model_name, ast.Load()))
        reader.arrays.add(model_name)
    if torch:
        back[pair.backward.args.args[0].arg] = ctx
    else:
        back[ups[-1]] = cache
    grads = _as_lines(reader, reader.call(pair.backward, back), "grad", pair.backward)
    loss = " + ".join(f"np.sum(({ast.unparse(o.expr)}) * {u})" for o, (u, _) in zip(outputs, upstream, strict=True))
    model = Model(file=file, lines=lines, pair=pair, sizes=sizes, declared=decls, shapes=shapes, concrete=concrete)
    model.upstream, model.loss = upstream, loss
    return _finish(model, reader, grads, (back, env), params, torch)


def _positional(pair: Pair, helpers: dict[str, ast.FunctionDef]) -> bool:
    """Whether the pair (or a helper it calls) has a loop or writes entries at positions: then it is read at the
    stated sizes only, with every dimension a number (a loop's length and a position are numbers there)."""
    bodies = [fn for fn in (pair.forward, pair.backward) if fn is not None]
    called = {
        n.func.id for fn in bodies for n in ast.walk(fn) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    bodies += [helpers[name] for name in called if name in helpers]
    for fn in bodies:
        for node in ast.walk(fn):
            if isinstance(node, ast.For):
                return True
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AugAssign)
                else []
            )
            for target in targets:
                if isinstance(target, ast.Subscript) and not _by_labels_or_mask(target.slice):
                    return True
    return False


def _by_labels_or_mask(index: ast.expr) -> bool:
    if isinstance(index, ast.Compare):
        return True
    if isinstance(index, ast.Tuple) and len(index.elts) == 2 and isinstance(index.elts[0], ast.Call):
        func = index.elts[0].func
        return isinstance(func, ast.Attribute) and func.attr == "arange"
    return isinstance(index, ast.Name)  # a mask held in a variable: read as a mask or refused there


def _at_sizes(value: str, sizes: dict[str, int]) -> str:
    """A declaration with its dimensions as numbers at the given sizes ("N x 4*H" -> "2 x 8"); the sizes of
    label vectors are not given (np.arange(N) and np.eye(C) need their names), so they stay names."""
    shape, comma, flags = value.partition(",")
    if shape.strip() == "scalar":
        return value
    parts = []
    for part in re.split(r"\s+x\s+|\s*×\s*", shape.strip()):
        try:
            number = evaluate(sizes, ast.parse(part, mode="eval").body)
        except SyntaxError:
            number = None
        parts.append(str(number) if number is not None else part)
    return " x ".join(parts) + comma + flags


def _as_lines(reader: Reader, value: Value, var: str, fn: ast.FunctionDef) -> Value:
    """What a pair's function returns, with an expression returned as it is (`return x @ w + b`) made a line."""
    ret = fn.body[-1] if fn.body else fn
    return reader.held(value, var, ret) if isinstance(ret, ast.stmt) else value


def _outputs(file: str, lines: list[str], pair: Pair, returned: Value, count: int) -> tuple[list[Obj], Value]:
    """The forward's outputs (one per upstream gradient the backward takes) and, for numpy, its cache."""
    items = list(returned.items) if isinstance(returned, Tup) else [returned]
    torch = pair.kind == "torch Function"
    want = count if torch else count + 1
    if count < 1 or len(items) != want:
        shown = f"{len(items)} value(s)"
        need = f"{count} output(s)" + ("" if torch else " and the cache")
        raise error_at(file, lines, pair.forward, f"{pair.forward.name} returns {shown}; its backward takes {need}")
    outputs = items[:count]
    for item in outputs:
        if not isinstance(item, Obj):
            raise error_at(file, lines, pair.forward, f"{pair.forward.name}'s outputs must be arrays")
    return [o for o in outputs if isinstance(o, Obj)], (None if torch else items[-1])


def _loss_function(
    file: str, lines: list[str], pair: Pair, reader: Reader, returned: Value, env: dict[str, Value],
    params: list[str], shapes: Shapes, declared: dict[str, Declared], concrete: bool,
) -> ModelSpec:  # fmt: skip
    if not isinstance(returned, Tup) or len(returned.items) < 2 or not isinstance(returned.items[0], Obj):
        raise error_at(file, lines, pair.forward, f"{pair.forward.name} must return (loss, gradient, ...)")
    loss_obj = returned.items[0]
    model = Model(
        file=file, lines=lines, pair=pair, sizes=reader.sizes, declared=declared, shapes=shapes, concrete=concrete
    )
    model.loss = ast.unparse(loss_obj.expr)
    reach = closure(names_in(loss_obj.expr), reader.emitted)
    for k, line in enumerate(reader.emitted):
        if line.name not in reach:
            reader.emitted[k] = replace(line, part="backward")
    return _finish(model, reader, Tup(returned.items[1:]), (env,), params, False)


def _finish(
    model: Model, reader: Reader, grads: Value, scopes: tuple[dict[str, Value], ...], params: list[str], torch: bool
) -> ModelSpec:
    pair, file, lines = model.pair, model.file, model.lines
    items = list(grads.items) if isinstance(grads, Tup) else [grads]
    spelled = _returned_names(pair)
    if torch and len(items) != len(params):
        raise error_at(
            file,
            lines,
            pair.backward or pair.forward,
            f"backward returns {len(items)} gradient(s) for {len(params)} input(s)",
        )
    targets = _targets(params, spelled, len(items), set(model.labels()))
    for k, (spelling, target) in enumerate(zip(spelled, targets, strict=False)):
        meant = _stripped(spelling, params)
        if meant is not None and meant != target:
            fn = pair.backward or pair.forward
            raise error_at(
                file, lines, fn.body[-1],
                f"returns {spelling} in place {k + 1}, where the gradient of {target} belongs: a caller (and torch's "
                f"autograd) takes the gradients in the order of the inputs ({', '.join(params)})",
            )  # fmt: skip
    claims: list[tuple[str, str, Obj]] = []
    for item, target, spelling in zip(items, targets, spelled + [None] * len(items), strict=False):
        if item is None or target is None:
            continue
        if not isinstance(item, Obj):
            raise error_at(file, lines, pair.backward or pair.forward, "a returned gradient must be an array or None")
        if spelling:  # `dx = dout` binds dx without a new value: the line that bound it is the claim's line
            item.line = max(item.line, reader.bound.get(spelling, 0))
        if torch:  # torch's autograd sums a gradient shaped like the broadcast input down to the input's shape
            item = Obj(_summed_to(item.expr, reader.shape_of(item.expr), model.shapes.known.get(target)), item.line)
        claims.append((spelling if spelling and spelling.isidentifier() else f"d{target}", target, item))
    if not claims:
        raise error_at(file, lines, pair.backward or pair.forward, "the backward returns no gradient to check")
    model.params = [t for _, t, _ in claims]
    probes = _probes(reader, scopes, {id(o) for _, _, o in claims}, set(model.params))
    return spec_of(model, reader, claims, probes)


def _summed_to(expr: ast.expr, shape: tuple[str | int, ...] | None, to: tuple[str | int, ...] | None) -> ast.expr:
    """The gradient summed over the axes the input was broadcast along (torch's sum_to), or as it is."""
    if shape is None or to is None or shape == to or len(to) > len(shape):
        return expr
    text = ast.unparse(expr)
    if not to:
        return ast.parse(f"np.sum({text})", mode="eval").body
    lead = len(shape) - len(to)
    if any(a != b and b != 1 for a, b in zip(shape[lead:], to, strict=True)):
        return expr  # not broadcast-compatible: the shape check says so
    axes = [k for k in range(lead)] + [
        lead + k for k, (a, b) in enumerate(zip(shape[lead:], to, strict=True)) if b == 1 and a != 1
    ]
    for axis in sorted(axes, reverse=True):
        keep = ", keepdims=True" if axis >= lead else ""
        text = f"np.sum({text}, axis={axis}{keep})"
    return ast.parse(text, mode="eval").body


def _returned_names(pair: Pair) -> list[str | None]:
    """The names the backward's return statement spells (`return dx, dw, db`), None where not a name."""
    fn = pair.backward or pair.forward
    ret = fn.body[-1] if fn.body and isinstance(fn.body[-1], ast.Return) else None
    value = ret.value if ret is not None else None
    elts = value.elts if isinstance(value, ast.Tuple) else [value] if value is not None else []
    names = [e.id if isinstance(e, ast.Name) else None for e in elts]
    return names[1:] if pair.backward is None else names


def _targets(params: list[str], spelled: list[str | None], count: int, labels: set[str]) -> list[str | None]:
    """Which input each returned gradient is for, by position: one per input in order when there are as many
    (None for the ones not differentiated), else one per input that is not labels, in order. Names are not
    trusted: a caller unpacks by position, so `return dw, dx` for inputs (x, w) is a slip the caller would make
    too (`_finish` refuses a name that says otherwise)."""
    if count == len(params):
        return list(params)
    order = [p for p in params if p not in labels]
    return [order[k] if k < len(order) else None for k in range(count)]


def _stripped(spelled: str | None, params: list[str]) -> str | None:
    if spelled is None:
        return None
    for prefix in ("grad_", "d"):
        if spelled.startswith(prefix) and spelled[len(prefix) :] in params:
            return spelled[len(prefix) :]
    return None


def _probes(
    reader: Reader, scopes: tuple[dict[str, Value], ...], returned: set[int], params: set[str]
) -> list[tuple[str, list[str], Obj]]:
    """The backward's own adjoints: a variable dh (or grad_h) whose h holds a forward line or a parameter, read as
    the adjoint of h or, where h is an element-wise function of one line u of its shape, of u (`di` for the gate
    pre-activation of `i = sigmoid(a_i)`: both namings are common)."""
    env = scopes[0]
    lines = {e.name: e for e in reader.emitted if e.part == "forward"}
    found = []
    for var, value in env.items():
        stem = var[5:] if var.startswith("grad_") else var[1:] if var.startswith("d") else ""
        held = next((scope[stem] for scope in scopes if stem in scope), None)
        if not isinstance(value, Obj) or id(value) in returned or not isinstance(held, Obj) or value.line == 0:
            continue
        if not isinstance(held.expr, ast.Name) or held.expr.id not in set(lines) | params:
            continue
        target = held.expr.id
        targets = [target]
        inner = names_in(lines[target].expr) & (set(lines) | params) if target in lines else set()
        if len(inner) == 1 and reader.shape_of(ast.Name(next(iter(inner)))) == reader.shape_of(held.expr):
            targets.append(next(iter(inner)))
        found.append((var, targets, value))
    return found
