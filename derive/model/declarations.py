"""The declaration tables of a derivation file: TOML, sizes, inputs and parameters, functions, aliases.

Each reader validates one table and records its names in the file's `Namespace`, so a name
declared twice is an error at the second declaration, with its line and a caret.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any

from derive_check.derive.errors import InputError, Location
from derive_check.derive.lang.formula import parse_formula
from derive_check.derive.model.names import Namespace
from derive_check.derive.ops.dims import DimError, read_dim
from derive_check.derive.ops.dims import value as dim_value
from derive_check.derive.source import formula_location, locate
from derive_check.derive.tree import Node

MAX_SIZE = 32
MAX_DIM = 4 * MAX_SIZE  # a dimension with arithmetic (4*H of an LSTM's stacked gates) may exceed one size
FUNCTION_KINDS = ("elementwise", "scalar")


@dataclass(frozen=True)
class Decl:
    """A declared input or parameter: name, dimensions (size names, integers or size arithmetic), flags.

    A label vector `y = "N, labels C"` (N class indices in 0..C-1) is held as its one-hot rows: `dims` is
    `("N", "C")`, `onehot` is set and `classes` is `"C"`, so every engine covers every label assignment by the
    one-hot facts it already knows; formulas reach it only through `np.eye(C)[y]`, `x[np.arange(N), y]`, `W[y]`.
    """

    name: str
    dims: tuple[str | int, ...]
    onehot: bool
    where: Location
    classes: str | int = ""  # a label vector's number of classes ("" for any other declaration)
    positive: bool = False  # "scalar, positive": drawn and reasoned about as > 0

    def written(self) -> str:
        """The declaration as a file writes it: 'N x D', 'N, labels C', 'scalar, positive'."""
        dims = self.dims[:-1] if self.classes != "" else self.dims
        text = " x ".join(map(str, dims)) or "scalar"
        flags = [f"labels {self.classes}"] if self.classes != "" else ["onehot"] if self.onehot else []
        return ", ".join([text, *flags, *(["positive"] if self.positive else [])])


def read_toml(file: str, text: str) -> dict[str, Any]:
    """The TOML document, or an InputError pointing at the malformed spot."""
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise InputError("malformed TOML: nested too deeply", Location(file)) from None
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc))
        if not match:
            raise InputError(f"malformed TOML: {message}", Location(file)) from None
        line, col = int(match.group(1)), int(match.group(2)) - 1
        lines = text.splitlines()
        source = lines[line - 1] if 0 < line <= len(lines) else ""
        raise InputError(f"malformed TOML: {message}", Location(file, line, None, source, col, col + 1)) from None


def table(data: dict[str, Any], key: str, file: str, text: str = "") -> dict[str, Any]:
    """The sub-table `key` (empty if absent), or an InputError if it is not a table."""
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise InputError(f"[{key}] must be a table", locate(file, text, "", key))
    return value


def read_sizes(file: str, text: str, entries: dict[str, Any], names: Namespace | None) -> dict[str, int]:
    """The [sizes] table: integers from 1 to MAX_SIZE (names recorded unless `names` is None)."""
    sizes: dict[str, int] = {}
    for name, value in entries.items():
        where = locate(file, text, "sizes", name)
        if names is not None:
            names.declare(name, "size", where)
        elif not name.isidentifier():
            raise InputError(f"size name '{name}' is not an identifier", where)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SIZE:
            raise InputError(f"size must be an integer from 1 to {MAX_SIZE}, got {value!r}", where)
        sizes[name] = value
    return sizes


def read_decls(
    file: str, text: str, section: str, entries: dict[str, Any], sizes: dict[str, int], names: Namespace
) -> dict[str, Decl]:
    """The [inputs] or [params] table as Decl values."""
    decls: dict[str, Decl] = {}
    for name, value in entries.items():
        where = locate(file, text, section, name, value if isinstance(value, str) else None)
        if not isinstance(value, str):
            raise InputError(f'declaration must be a string like "N x D", got {value!r}', where)
        names.declare(name, "input" if section == "inputs" else "param", where)
        decls[name] = parse_decl(name, value, sizes, where)
        if decls[name].classes != "":
            if section != "inputs":
                raise InputError("labels are data: declare them under [inputs]", where)
            names.labels[name] = decls[name].classes
        elif decls[name].onehot:
            names.onehot.add(name)
    return decls


def parse_decl(name: str, value: str, sizes: dict[str, int], where: Location) -> Decl:
    """A shape declaration: 'scalar', 'H', 'N x D', 'D x 4*H', optionally ', onehot', ', labels C', ', positive'."""
    shape, _, flags = value.partition(",")
    flag_set = {f.strip() for f in flags.split(",") if f.strip()}
    classes: str | int = ""
    for flag in sorted(flag_set):
        if flag.startswith("labels"):
            classes = _dim(flag.removeprefix("labels").strip() or "?", sizes, where, flag)
            flag_set.discard(flag)
    if flag_set - {"onehot", "positive"}:
        raise InputError(
            f"unknown flag(s) {sorted(flag_set - {'onehot', 'positive'})}; known: onehot, positive, labels C", where
        )
    shape = shape.strip()
    dims = (
        [_dim(part, sizes, where, shape) for part in re.split(r"\s+x\s+|\s*×\s*", shape)] if shape != "scalar" else []
    )
    if len(dims) > 2:
        raise InputError(f"shape '{shape}' has {len(dims)} dimensions; at most 2 are supported", where)
    if "onehot" in flag_set and not dims:
        raise InputError("onehot labels need a vector or an 'N x C' matrix (one row per sample)", where)
    if classes != "" and (len(dims) > 1 or flag_set):
        raise InputError(
            f"labels are a vector of class indices ('N, labels C') or one index ('scalar, labels C'), got '{value}'",
            where,
        )
    if "positive" in flag_set and dims:
        raise InputError("only scalars can be declared positive ('eps = \"scalar, positive\"')", where)
    if classes != "":
        dims.append(classes)
    return Decl(name, tuple(dims), "onehot" in flag_set or classes != "", where, classes, "positive" in flag_set)


def _dim(part: str, sizes: dict[str, int], where: Location, shape: str) -> str | int:
    """One dimension: an integer from 1 to MAX_SIZE, a declared size, or arithmetic on sizes (4*H, H + 1)."""
    if part.isdigit() and 1 <= int(part) <= MAX_SIZE:
        return int(part)
    if part in sizes:
        return part
    if part.isidentifier() or not part:
        declared = ", ".join(sizes) or "none"
        raise InputError(f"'{part}' in shape '{shape}' is not a declared size (declared: {declared})", where)
    try:
        dim = read_dim(part, sizes)
        size = dim_value(dim, sizes)
    except DimError as exc:
        raise InputError(f"{exc} (in shape '{shape}')", where) from None
    if not 1 <= size <= MAX_DIM:
        raise InputError(f"'{part}' is {size} at these sizes; a dimension is from 1 to {MAX_DIM}", where)
    return dim


def read_functions(
    file: str, text: str, entries: dict[str, Any], names: Namespace
) -> tuple[dict[str, str], dict[str, str]]:
    """[functions]: f = "elementwise" (names f, df, ddf) or F = "scalar, gradient G" (names F, G)."""
    functions, gradients = {}, {}
    for name, value in entries.items():
        where = locate(file, text, "functions", name)
        kind, _, rest = str(value).partition(",")
        kind = kind.strip()
        if not name.isidentifier() or name.startswith("_") or kind not in FUNCTION_KINDS:
            raise InputError(f'declare a function as "elementwise" or "scalar, gradient NAME", got {value!r}', where)
        names.declare(name, "function", where)
        functions[name] = kind
        if kind == "elementwise":
            for order in (1, 2):
                names.declare("d" * order + name, "function", where)
        gradient = rest.strip().removeprefix("gradient").strip()
        if kind == "scalar":
            gradient = gradient or f"d{name}"
            names.declare(gradient, "gradient", where)
            gradients[gradient] = name
    return functions, gradients


def read_aliases(file: str, text: str, entries: dict[str, Any], functions: dict[str, str]) -> dict[str, Node]:
    """LaTeX snippets (prose, other notation) -> formulas of the model, for claims written in LaTeX."""
    aliases = {}
    for snippet, formula in entries.items():
        where = locate(file, text, "aliases", snippet, formula if isinstance(formula, str) else None)
        if not isinstance(formula, str):
            raise InputError("an alias maps LaTeX to a formula string", where)
        aliases[snippet] = parse_formula(formula, formula_location(where, formula), functions)
    return aliases  # names are checked where an alias is used: it may name an earlier claim (δ1 = dTheta)
