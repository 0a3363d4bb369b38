"""The network built symbolically at the file's sizes.

Inputs and parameters become one SymPy symbol per entry (`W1[0,2]`), one-hot
labels become symbols `Y[i,c]` whose rows are recorded so the verifier can
reduce modulo "each row is a one-hot vector" (that covers every label
assignment at once), and the forward pass is evaluated line by line. A
quantity can be overridden by stand-in symbols, which is how derivatives with
respect to intermediates (dscores, dh1) are taken.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from derive_check.derive.errors import InputError
from derive_check.derive.exact.atoms import as_expr
from derive_check.derive.exact.backend import NumericBackend, SymbolicBackend
from derive_check.derive.exact.evaluate import evaluate, shape_text
from derive_check.derive.model.declarations import Decl
from derive_check.derive.model.spec import Line, ModelSpec
from derive_check.derive.ops.spec import Array
from derive_check.derive.printing.symbols import Label
from derive_check.derive.source import formula_location


@dataclass
class Network:
    """Symbolic values of every named quantity, the scalar loss, and the invented atoms."""

    spec: ModelSpec
    backend: SymbolicBackend
    values: dict[str, Array]
    symbols: dict[str, Array]  # the free symbols of each input and parameter
    label_rows: list[list[sp.Symbol]]
    loss: sp.Expr
    built: int = 0  # atoms the model itself made; later ones come from claims and their diagnosis readings


def entry_label(name: str, index: tuple[int, ...]) -> str:
    """How an entry is written in reports: W1[0,2], b1[3], reg."""
    return f"{name}[{','.join(map(str, index))}]" if index else name


def one_hot_groups(labels: Array, dims: tuple[str | int, ...]) -> list[list[sp.Symbol]]:
    """The groups of label symbols that each hold exactly one 1, decided by the declaration, not the sizes:
    a vector or a 'K x 1' column (a literal 1) is one one-hot vector; 'N x C' has one-hot rows, even at C = 1."""
    if labels.ndim == 1 or dims[-1] == 1:
        return [list(labels.flat)]
    return [list(row) for row in labels]


def shape_findings(spec: ModelSpec, values: Mapping[str, Array]) -> list[tuple[Line, str]]:
    """Forward lines whose declared shape contradicts the shape the forward pass gives them."""
    found = []
    for line in spec.forward:
        if line.declared is not None:
            expected, actual = spec.dims(line.declared), np.shape(values[line.name])
            if expected != actual:
                words = " x ".join(map(str, line.declared.dims)) or "scalar"
                found.append(
                    (
                        line,
                        f"declared {words} ({shape_text(np.empty(expected))}), but the formula "
                        f"gives {shape_text(values[line.name])}",
                    )
                )
    return found


def symbol_array(name: str, shape: tuple[int, ...]) -> Array:
    """One symbol per entry, named like the entry."""
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(shape):
        out[index] = sp.Symbol(entry_label(name, index))
    return out


def declared_symbols(spec: ModelSpec) -> dict[str, Array]:
    """Symbol arrays for every input and parameter."""
    decls: dict[str, Decl] = {**spec.inputs, **spec.params}
    return {name: symbol_array(name, spec.dims(d)) for name, d in decls.items()}


def build_network(spec: ModelSpec) -> Network:
    """Evaluate the forward pass exactly, each forward entry a line atom."""
    backend = SymbolicBackend()
    symbols = declared_symbols(spec)
    backend.discrete = {s for d in spec.inputs.values() if d.onehot for s in symbols[d.name].flat}
    for d in spec.inputs.values():
        for row in one_hot_groups(symbols[d.name], d.dims) if d.onehot else []:
            backend.rows.update(dict.fromkeys(row, tuple(row)))
    backend.positive_symbols = {symbols[d.name].item() for d in spec.inputs.values() if d.positive}
    backend.positive_symbols |= {symbols[d.name].item() for d in spec.params.values() if d.positive}
    for name, array in symbols.items():
        for index, symbol in np.ndenumerate(array):
            backend.atoms.labels[symbol] = Label("entry", name, index)
    values = run_forward(spec, backend, {**size_constants(spec, backend), **symbols}, {})
    loss = values[spec.loss]
    for gradient, function in spec.gradients.items():
        if function in backend.gradients:
            values[gradient] = backend.gradients[function]
    label_rows = [row for d in spec.inputs.values() if d.onehot for row in one_hot_groups(symbols[d.name], d.dims)]
    return Network(spec, backend, values, symbols, label_rows, as_expr(loss.item()), len(backend.atoms.created))


def size_constants(spec: ModelSpec, backend: SymbolicBackend | NumericBackend) -> dict[str, Array]:
    """Size names (N, D, ...) usable as constants in formulas."""
    return {name: backend.const(Fraction(value)) for name, value in spec.sizes.items()}


def run_forward(
    spec: ModelSpec, backend: SymbolicBackend | NumericBackend, env: dict[str, Array], overrides: Mapping[str, Array]
) -> dict[str, Array]:
    """Evaluate every forward line in order, checking that the loss is a scalar."""
    for line in spec.forward:
        if isinstance(backend, SymbolicBackend):
            backend.context = line.name
        if line.name in overrides:
            env[line.name] = overrides[line.name]
            continue
        value = evaluate(line.expr, env, backend, formula_location(line.where, line.text))
        if isinstance(backend, SymbolicBackend):
            value = atomize(value, line.name, backend)
            for index, entry in np.ndenumerate(value):
                backend.names.setdefault(entry, entry_label(line.name, index))
        env[line.name] = value
    loss = env[spec.loss]
    if np.ndim(loss) != 0:
        where = next(line.where for line in spec.forward if line.name == spec.loss)
        raise InputError(f"the loss '{spec.loss}' must be a scalar, but it has shape {shape_text(loss)}", where)
    return env


def atomize(value: Array, name: str, backend: SymbolicBackend) -> Array:
    """Replace each entry of a forward quantity by a line atom named like the entry."""
    out = np.empty(np.shape(value), dtype=object)
    for index, entry in np.ndenumerate(value):
        out[index] = backend.atoms.define(as_expr(entry), Label("entry", name, index))
    return out


def numeric_forward(
    spec: ModelSpec, point: Mapping[str, Array], overrides: Mapping[str, Array] | None = None
) -> dict[str, Array]:
    """Evaluate the forward pass in float64 at `point` (the oracle's model)."""
    backend = NumericBackend()
    env = {**size_constants(spec, backend), **{k: np.asarray(v, dtype=np.float64) for k, v in point.items()}}
    return run_forward(spec, backend, env, overrides or {})
