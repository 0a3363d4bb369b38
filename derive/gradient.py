"""Ground truth: dL/d(entry) by `sympy.diff` and the chain rule through atoms.

Every entry of a parameter or input is a symbol, and every entry of a forward
quantity is a line atom, so the derivative with respect to either is the same
call: the total derivative of the loss with all upstream quantities held
fixed (see `Atoms.total_diff`).
"""

from __future__ import annotations

import numpy as np

from derive.atoms import as_expr
from derive.network import Network
from derive.ops import Array


def is_intermediate(net: Network, target: str) -> bool:
    """Whether `target` is a forward quantity rather than an input or parameter."""
    return target not in net.symbols


def true_gradient(net: Network, target: str) -> Array:
    """The array of exact partial derivatives dL/d target[i, j], shaped like `target`."""
    wrt = net.values[target]
    out = np.empty(np.shape(wrt), dtype=object)
    for index in np.ndindex(np.shape(wrt)):
        entry = as_expr(wrt[index])
        if not entry.is_Symbol:
            raise ValueError(f"{target}{list(index)} is the constant {entry}; it has no derivative")
        out[index] = net.backend.atoms.total_diff(net.loss, entry, {})
    return out
