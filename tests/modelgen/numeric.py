"""The emitter's own check: numpy evaluation of the IR and central differences (tests of this package only; the
fuzz runner never uses it).
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np

from tests.modelgen.backprop import Model
from tests.modelgen.claims import Claim
from tests.modelgen.ir import Ex, Shape, Unsupported, dim_value, names_in
from tests.modelgen.kinds import model_with_claims


def _eval(e: Ex, env: dict[str, np.ndarray], sizes: dict[str, int]) -> np.ndarray:
    op = e.op
    a = [_eval(x, env, sizes) for x in e.args]
    if op == "var":
        return env[e.name]
    if op == "size":
        return np.array(float(sizes[e.name]))
    if op == "const":
        return np.array(float(e.value))
    simple: dict[str, Callable[..., np.ndarray]] = {
        "add": np.add,
        "sub": np.subtract,
        "mul": np.multiply,
        "div": np.divide,
        "matmul": np.matmul,
        "neg": np.negative,
        "exp": np.exp,
        "log": np.log,
        "tanh": np.tanh,
    }
    if op in simple:
        return np.asarray(simple[op](*a))
    if op == "pow":
        return np.asarray(a[0] ** int(e.args[1].value))
    if op == "T":
        return a[0].T
    if op in ("sum", "mean"):
        fold = np.sum if op == "sum" else np.mean
        return np.asarray(fold(a[0], axis=e.axis, keepdims=e.name == "keep"))
    if op == "relu":
        return np.asarray(np.maximum(a[0], 0))
    if op == "leaky":
        alpha = float(e.value) if e.value else 0.01
        return np.asarray(np.where(a[0] > 0, a[0], alpha * a[0]))
    if op == "sigmoid":
        return np.asarray(1 / (1 + np.exp(-a[0])))
    if op == "identity":
        return a[0]
    if op == "fn":
        order = int(e.value)
        return np.asarray(np.sin(a[0]) if order == 0 else np.cos(a[0]) if order == 1 else -np.sin(a[0]))
    if op == "sfn":
        return np.asarray(np.sum(a[0] ** 2) / 2)
    if op == "gt":
        return (a[0] > 0).astype(float)
    if op == "softmax":
        ex = np.exp(a[0] - np.max(a[0], axis=e.axis, keepdims=True))
        return np.asarray(ex / np.sum(ex, axis=e.axis, keepdims=True))
    if op == "max":
        return np.asarray(np.max(a[0], axis=e.axis, keepdims=e.name == "keep"))
    if op == "sqrt":
        with np.errstate(invalid="ignore"):  # a mutant's sqrt of a negative number: nan, judged false
            return np.asarray(np.sqrt(a[0]))
    if op == "ge":
        return (a[0] >= a[1]).astype(float)
    if op == "slice":
        lo, hi = (dim_value(b, sizes) for b in e.name.split(";")[0].split(":"))
        return np.asarray(a[0][:, lo:hi])
    if op == "concat":
        return np.concatenate(a, axis=e.axis)
    if op == "zeros":
        return np.zeros(_dims(e.shape, sizes))
    if op == "entry":
        raise Unsupported("entries are not evaluated")
    raise Unsupported(op)


def _dims(shape: Shape, sizes: dict[str, int]) -> tuple[int, ...]:
    return tuple(dim_value(d, sizes) for d in shape)


def _forward(model: Model, env: dict[str, np.ndarray], fixed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    env = dict(env)
    for name, e in model.lines:
        env[name] = fixed[name] if name in fixed else _eval(e, env, model.sizes)
        for gname, arg in model.gradients.items():
            if gname not in env and names_in(arg) <= set(env):
                env[gname] = _eval(arg, env, model.sizes)
    return env


def numeric_check(model: Model, claims: list[Claim], rng: random.Random, step: float = 1e-6) -> dict[str, bool]:
    """Whether each formula claim equals the finite-difference gradient at a random point (the emitter's self-test)."""
    point: dict[str, np.ndarray] = {}
    for name, (shape, onehot) in model.inputs.items():
        dims = _dims(shape, model.sizes)
        if onehot:
            hot = np.zeros(dims)
            if len(dims) == 2 and dims[1] == 1:
                hot[rng.randrange(dims[0]), 0] = 1
            else:
                for row in range(dims[0]):
                    hot[row, rng.randrange(dims[1])] = 1
            point[name] = hot
        else:
            point[name] = np.array([rng.uniform(-1.5, 1.5) for _ in range(int(np.prod(dims)))]).reshape(dims)
    for name, shape in model.params.items():
        dims = _dims(shape, model.sizes)
        point[name] = np.array([rng.uniform(-1.5, 1.5) for _ in range(int(np.prod(dims)))]).reshape(dims)
    base = _forward(model, point, {})
    out: dict[str, bool] = {}
    env = dict(base)
    for c in claims:
        if c.expr is None or c.form == "entry" or c.extra:
            continue
        try:
            value = _eval(c.expr, env, model.sizes)
        except (Unsupported, KeyError, ValueError):
            out[c.key] = False
            continue
        target = np.asarray(base[c.target]) if c.target in base else None
        if target is None or np.shape(value) != np.shape(target):
            out[c.key] = False
            continue
        if c.believed and not c.mutation:
            env[c.key] = value
        ok = True
        for index in np.ndindex(np.shape(target)):
            x = float(np.asarray(base[c.target])[index])
            h = step * max(min(1.0, abs(x) * 100), 1e-3)

            def loss_at(delta: float, index: tuple[int, ...] = index, target: str = c.target) -> float:
                """The loss with the entry moved by delta (only what depends on the target recomputed)."""
                moved = np.array(base[target], dtype=float)
                moved[index] += delta
                if target in point:
                    return float(_forward(model, {**point, target: moved}, {})[model.loss])
                return float(_forward(model, point, {target: moved})[model.loss])

            fd = (loss_at(h) - loss_at(-h)) / (2 * h)
            if abs(fd - float(np.asarray(value)[index])) > 1e-4 * (1 + abs(fd)):
                ok = False
                break
        out[c.key] = ok
    return out


def build(seed: int) -> tuple[Model, list[Claim]]:
    """A plain model and its claims from a seed (for the emitter's self-test)."""
    rng = random.Random(seed)
    model, _, claims = model_with_claims(rng, rng.random() < 0.4)
    return model, claims
