"""Sizes with arithmetic: `4*H`, `H + 1`, `2*H - H`, as one canonical text per value.

A dimension is a size name (`"H"`), an integer, or a sum of size names with integer coefficients plus an integer
(`"4*H"`, `"2*H+1"`). Two dimensions are equal for every choice of sizes exactly when their canonical texts
are equal: a linear form in independent sizes is zero for all sizes iff every coefficient is zero, and the
canonical text lists the coefficients in a fixed order. So symbolic shape checks keep comparing strings, and
`x[:, H:2*H]` of a `D x 4*H` matrix has the shape `D x H` for every H, not only for the file's.

The texts are made and read by this module only (never evaluated): a size name is an identifier, a coefficient
an integer literal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

Linear = dict[str, int]  # size name -> coefficient; "" -> the constant
_TERM = re.compile(r"\s*([+-])?\s*(?:(\d+)\s*\*\s*)?([A-Za-z]\w*|\d+)\s*")


class DimError(ValueError):
    """A size expression that cannot be read, or that is not a positive size."""


def linear(dim: str | int) -> Linear:
    """A dimension as a linear form in sizes (the canonical texts of this module, names and integers)."""
    if isinstance(dim, int):
        return {"": dim} if dim else {}
    form: Linear = {}
    text, position = dim.strip(), 0
    while position < len(text):
        match = _TERM.match(text, position)
        if match is None or match.end() == position or (position and not match.group(1)):
            raise DimError(f"cannot read the size expression '{dim}' (write sizes like 4*H, H + 1, 2*H - 1)")
        sign = -1 if match.group(1) == "-" else 1
        coefficient = int(match.group(2) or 1) * sign
        atom = match.group(3)
        key, value = ("", coefficient * int(atom)) if atom.isdigit() else (atom, coefficient)
        if atom.isdigit() and match.group(2):
            raise DimError(f"cannot read the size expression '{dim}': write a number once (8, not 2*4)")
        form[key] = form.get(key, 0) + value
        position = match.end()
    if not text:
        raise DimError("an empty size expression")
    return {k: v for k, v in form.items() if v}


def canonical(form: Linear) -> str | int:
    """The one text of a linear form: an int when it is constant, the size name when it is one size."""
    names = sorted((k for k in form if k), key=lambda k: (form[k] < 0, k))  # T-K+1: positive terms first
    if not names:
        return form.get("", 0)
    parts = []
    for name in names:
        k = form[name]
        term = name if abs(k) == 1 else f"{abs(k)}*{name}"
        parts.append(("-" if k < 0 else "+") + term)
    constant = form.get("", 0)
    if constant:
        parts.append(f"{'-' if constant < 0 else '+'}{abs(constant)}")
    text = "".join(parts)
    return text[1:] if text.startswith("+") else text


def combine(a: str | int, b: str | int, sign: int = 1) -> str | int:
    """a + sign·b as a canonical dimension."""
    form = linear(a)
    for key, value in linear(b).items():
        form[key] = form.get(key, 0) + sign * value
    return canonical({k: v for k, v in form.items() if v})


def scale(dim: str | int, k: int) -> str | int:
    """k·dim as a canonical dimension."""
    return canonical({key: k * v for key, v in linear(dim).items() if k * v})


def read_dim(text: str, sizes: Mapping[str, int]) -> str | int:
    """A declared dimension: an integer, a size name, or arithmetic on sizes, checked against `sizes`."""
    form = linear(text)
    unknown = sorted(k for k in form if k and k not in sizes)
    if unknown:
        raise DimError(f"'{unknown[0]}' in '{text.strip()}' is not a declared size")
    return canonical(form)


def value(dim: str | int, sizes: Mapping[str, int]) -> int:
    """A dimension's value at the file's sizes."""
    return sum(v * (sizes[k] if k else 1) for k, v in linear(dim).items())


def is_compound(dim: str | int) -> bool:
    """Whether a dimension is arithmetic on sizes (not one size name or an integer)."""
    return isinstance(dim, str) and not dim.isidentifier()


def nonnegative(dim: str | int) -> bool:
    """Whether a size expression is at least 0 for every choice of sizes >= 1 (every coefficient >= 0 and the
    value at all sizes 1 >= 0: a linear form with nonnegative coefficients is least where every size is 1)."""
    form = linear(dim)
    return all(v >= 0 for k, v in form.items() if k) and sum(form.values()) >= 0


def below_for_every_size(position: int, length: str | int) -> bool:
    """Whether a constant position 0 <= position < length holds for every choice of sizes >= 1."""
    return position >= 0 and nonnegative(combine(length, position + 1, -1))
