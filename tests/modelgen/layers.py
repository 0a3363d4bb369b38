"""Names, sizes and dense layers: fresh names for one model, small distinct sizes and the size profiles, the layer
stack from the input to the output pre-activation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction

from tests.modelgen.backprop import Model
from tests.modelgen.ir import (
    Ex,
    Shape,
    add,
    call,
    columns,
    const,
    dim_value,
    div,
    mask,
    matmul,
    mul,
    power,
    reduce,
    sub,
    transpose,
    var,
)

MAX_ENTRIES = 400


class Names:
    """Fresh, distinct names for one model (never starting with d, never a loss name by accident)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.taken: set[str] = {"i", "j", "t", "k", "p", "q", "L", "loss", "J", "cost"}

    def pick(self, *options: str) -> str:
        """The first free name among shuffled options (or a numbered variant)."""
        choices = list(options)
        self.rng.shuffle(choices)
        for name in choices:
            if name not in self.taken and not name.startswith("d"):
                self.taken.add(name)
                return name
        base = choices[0]
        k = 2
        while f"{base}{k}" in self.taken:
            k += 1
        self.taken.add(f"{base}{k}")
        return f"{base}{k}"

    def claim_key(self, target: str, plain: bool) -> str:
        """A claim key: d<target> or a table key such as grad_W1."""
        key = f"d{target}"
        if not plain or key in self.taken:
            key = self.rng.choice([f"grad_{target}", f"{target}_grad", f"g{target}", f"dL_d{target}"])
        while key in self.taken:
            key += "x"
        self.taken.add(key)
        return key


SCHEMES = [
    ("W{l}", "b{l}", "z{l}", "h{l}"),
    ("W_{l}", "b_{l}", "z_{l}", "h_{l}"),
    ("W{l}", "bias{l}", "Z{k}", "act{l}"),
    ("U{l}", "c{l}", "pre{l}", "hidden{l}"),
    ("Wt{l}", "beta{l}", "a{l}", "H{l}"),
]
ACTIVATIONS = ["relu", "leaky", "sigmoid", "tanh", "identity", "fn", "softabs"]


def _act(kind: str, a: Ex, rng: random.Random, fname: str) -> Ex:
    if kind == "softabs":  # sqrt(z**2 + c): a smooth |z|, through sqrt of a positive argument
        return call("sqrt", add(power(a, 2), const(rng.choice(["1", "0.5"]))))
    if kind == "leaky":
        return call("leaky", a, value=rng.choice([Fraction(1, 10), Fraction(1, 5), Fraction(0), Fraction(1, 100)]))
    if kind == "fn":
        return call("fn", a, fname, 0)
    return call(kind, a)


def pick_sizes(rng: random.Random, names: list[str], allow_one: bool) -> dict[str, int]:
    """Distinct small values; the first name (the batch) gets the smallest."""
    pool = [2, 3, 4, 5, 6][: max(len(names), 3)]
    values = rng.sample(pool, len(names))
    smallest = values.index(min(values))
    values[0], values[smallest] = values[smallest], values[0]
    if allow_one and rng.random() < 0.2:
        values[rng.randrange(len(names))] = 1
    return dict(zip(names, values, strict=True))


def entry_count(model: Model) -> int:
    def n(shape: Shape) -> int:
        """The number of entries of a shape."""
        out = 1
        for d in shape:
            out *= dim_value(d, model.sizes)
        return out

    total_count = sum(n(s) for s, _ in model.inputs.values()) + sum(n(s) for s in model.params.values())
    return total_count + sum(n(e.shape) for _, e in model.lines)


@dataclass
class Layers:
    """What the layer builder hands the head: the output expression, its masks, lines that may be reused."""

    out: Ex
    reusable: list[tuple[str, Ex]]  # identity lines' arguments to use again: (name, expr)
    copyable: list[str]  # activation lines whose expression may be written out again


def dense_layers(
    model: Model, names: Names, rng: random.Random, depth: int, column: bool, normalise: bool = True
) -> Layers:
    """Dense layers from the input to the output pre-activation, appending forward lines to the model."""
    scheme = rng.choice(SCHEMES)
    fname = next(iter(model.functions), "f")
    dims = model.dims
    x_name = next(n for n, (s, oh) in model.inputs.items() if not oh and len(s) == 2)
    prev = var(x_name, model.inputs[x_name][0])
    reusable: list[tuple[str, Ex]] = []
    copyable: list[str] = []
    for layer in range(1, depth + 1):
        din, dout = dims[layer - 1], dims[layer]
        fmt = {"l": layer, "k": layer - 1}
        w_name = names.pick(scheme[0].format(**fmt))
        transposed = not column and rng.random() < 0.15
        # sliced gates and layernorm make large formulas: at most two layers deep, so the campaign's models stay
        # within their deadline
        gated = not column and layer < depth <= 2 and isinstance(dout, str) and rng.random() < 0.15
        if gated:  # one matrix for two halves, sliced: tanh(z[:, :H]) * sigmoid(z[:, H:2*H]), as LSTM gates are
            wide = f"2*{dout}"
            model.params[w_name] = (din, wide)
            z_name = names.pick(scheme[2].format(**fmt))
            model.lines.append((z_name, matmul(prev, var(w_name, (din, wide)))))
            z = var(z_name, (prev.shape[0], wide))
            first, second = columns(z, 0, dout, dout, dout), columns(z, dout, wide, dout, 0)
            h_name = names.pick(scheme[3].format(**fmt))
            model.lines.append((h_name, mul(call("tanh", first), call("sigmoid", second))))
            model.features.add("sliced_gates")
            prev = var(h_name, (prev.shape[0], dout))
            continue
        if column:
            model.params[w_name] = (dout, din)
            pre = matmul(var(w_name, (dout, din)), prev)
        elif transposed:
            model.params[w_name] = (dout, din)
            pre = matmul(prev, transpose(var(w_name, (dout, din))))
        else:
            model.params[w_name] = (din, dout)
            pre = matmul(prev, var(w_name, (din, dout)))
        if rng.random() < 0.8:
            b_name = names.pick(scheme[1].format(**fmt))
            b_shape: Shape = (dout, 1) if column else (dout,)
            model.params[b_name] = b_shape
            pre = add(pre, var(b_name, b_shape)) if rng.random() < 0.8 else add(var(b_name, b_shape), pre)
        last = layer == depth
        if last:
            return Layers(pre, reusable, copyable)
        kind = rng.choice(ACTIVATIONS)
        if kind == "fn" and not model.functions:
            model.functions[fname] = "elementwise"
            model.features.add("declared_f")
        named_pre = kind == "identity" or rng.random() < 0.5
        if named_pre:
            z_name = names.pick(scheme[2].format(**fmt))
            model.lines.append((z_name, pre))
            pre = var(z_name, pre.shape)
        act = _act(kind, pre, rng, fname)
        if kind == "softabs":
            model.features.add("sqrt")
        model.layer_masks.append(mask(pre))
        h_name = names.pick(scheme[3].format(**fmt))
        if kind == "identity":
            model.features.add("identity_line")
            reusable.append((pre.name, pre))
        residual = din == dout and prev.shape == act.shape and rng.random() < 0.5
        value = add(act, prev) if residual else act
        if residual:
            model.features.add("residual")
        model.lines.append((h_name, value))
        if not residual and kind != "identity":
            copyable.append(h_name)
        prev = var(h_name, value.shape)
        if normalise and not column and depth <= 2 and rng.random() < 0.12:
            prev = _layer_norm(model, names, prev)
    raise AssertionError("unreachable")


def _layer_norm(model: Model, names: Names, h: Ex) -> Ex:
    """Rows centred and scaled: (h - mean) / sqrt(var + 0.01), with keepdims, in three lines (layernorm)."""
    mu = names.pick("mu", "mean1", "m_row")
    model.lines.append((mu, reduce("mean", h, 1, keep=True)))
    c = names.pick("xc", "centred", "c1")
    model.lines.append((c, sub(h, var(mu, (h.shape[0], 1)))))
    cv = var(c, h.shape)
    sd = names.pick("sd", "std1", "sigma1")
    model.lines.append((sd, call("sqrt", add(reduce("mean", power(cv, 2), 1, keep=True), const("0.01")))))
    out = names.pick("hn", "normed", "ln1")
    model.lines.append((out, div(cv, var(sd, (h.shape[0], 1)))))
    model.features.add("layernorm")
    return var(out, h.shape)


@dataclass(frozen=True)
class Profile:
    """How big models may get: the full fuzz run, or the light CI sample."""

    max_depth: int = 4
    max_entries: int = MAX_ENTRIES
    layernorm: bool = True  # layernorm layers: their gradients through later layers take tens of seconds to decide


FULL, LIGHT = Profile(), Profile(max_depth=2, max_entries=80, layernorm=False)


def shrink(model: Model, limit: int = MAX_ENTRIES) -> None:
    """Smaller sizes until the model has at most `limit` entries."""
    while entry_count(model) > limit:
        big = max(model.sizes, key=lambda s: model.sizes[s])
        model.sizes[big] -= 1
