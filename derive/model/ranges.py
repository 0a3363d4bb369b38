"""The ranges of a claim's index variables: `for = { t = "K" }`, `{ j = "2*H" }` or `{ k = 3 }`.

A range is a declared size, sizes with arithmetic that are at least 1 at every size (`2*H`, `T-1` is refused:
it is 0 at T = 1), or a whole number. A number has the same values at every size, which is what lets an entry
claim be proved for every size entry by entry (`verify.decide.claim_proof`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from derive_check.derive.errors import InputError, Location, did_you_mean
from derive_check.derive.model.names import KINDS, Namespace
from derive_check.derive.ops.dims import DimError, below_for_every_size, read_dim, value

MAX_RANGE = 64  # a literal range of an index variable: for = { k = 3 }


MAX_ASSIGNMENTS = 4096  # combinations of index values a claim is checked at: each one is a whole entry theorem


def read_index_vars(
    table: Any, sizes: Mapping[str, int], where: Location, names: Namespace
) -> tuple[tuple[str, str], ...]:
    """A claim's `for` table: each index variable with its range (see `index_range`)."""
    if not isinstance(table, dict):
        raise InputError("'for' must be a table of index variables, e.g. { t = \"K\" }", where)
    ranges = {}
    for var, size in table.items():
        ranges[var] = index_range(var, size, sizes, where)
        taken = names.kind(var)
        if taken is not None or not str(var).isidentifier():
            what = f"is already declared as {KINDS[taken]}" if taken else "is not a valid name"
            raise InputError(f"index variable '{var}' {what}; every name has one meaning, choose another", where)
    assignments = 1
    for dim in ranges.values():
        assignments *= value(dim, sizes)
    if assignments > MAX_ASSIGNMENTS:
        raise InputError(
            f"the index variables take {assignments} combinations of values at these sizes; the limit is "
            f"{MAX_ASSIGNMENTS} (use fewer variables or smaller sizes)",
            where,
        )
    return tuple((str(k), ranges[k]) for k in table)


def index_range(var: str, size: Any, sizes: Mapping[str, int], where: Location) -> str:
    """An index variable's range as text: a declared size, sizes with arithmetic ("2*H"), or a number."""
    if type(size) is int and 1 <= size <= MAX_RANGE:
        return str(size)
    if isinstance(size, str) and size in sizes:
        return size
    if isinstance(size, str):
        with contextlib.suppress(DimError):
            dim = read_dim(size, sizes)
            if isinstance(dim, str) and below_for_every_size(0, dim):  # at least 1 at every size
                return dim
    hint = did_you_mean(size, sizes) if isinstance(size, str) else ""
    raise InputError(
        f"index variable '{var}' ranges over '{size}', which is not a declared size{hint} (or sizes with + - and "
        f'multiples: "2*H") or a whole number from 1 to {MAX_RANGE} (write {{ {var} = "K" }} or {{ {var} = 3 }})',
        where,
    )
