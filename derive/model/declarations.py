"""The declaration tables of a derivation file: TOML, sizes, inputs and parameters, functions, aliases.

Each reader validates one table and records its names in the file's `Namespace`, so a name
declared twice is an error at the second declaration, with its line and a caret.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any

from derive_check.derive.errors import InputError, Location, did_you_mean
from derive_check.derive.lang.formula import parse_formula
from derive_check.derive.model.names import Namespace
from derive_check.derive.ops.dims import DimError, read_dim
from derive_check.derive.ops.dims import value as dim_value
from derive_check.derive.source import formula_location, locate
from derive_check.derive.tree import Node

MAX_SIZE = 64
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
        if "Unescaped '\\'" in message:  # LaTeX in a "..." string: \sum is not a TOML escape
            back = source.rfind("\\", 0, col + 1)
            col = back if 0 <= col - back <= 3 else col
            message += (
                ': in a "..." string a backslash starts an escape; write LaTeX in single quotes '
                "(latex = '\\frac{1}{N} X^T dz') or double the backslash"
            )
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
    _numpy_shape(value, sizes, where)
    shape, _, flags = value.partition(",")
    flag_set = {f.strip() for f in flags.split(",") if f.strip()}
    classes: str | int = ""
    for flag in sorted(flag_set):
        if flag.startswith("labels"):
            classes = _dim(flag.removeprefix("labels").strip() or "?", sizes, _part(where, value, flag), flag)
            flag_set.discard(flag)
    for flag in sorted(flag_set - {"onehot", "positive"}):
        if flag in sizes or flag.isdigit():  # "D, H": numpy's shape tuple without its parentheses
            written = " x ".join(p.strip() for p in value.split(","))
            raise InputError(f'a shape is written "{written}", not "{value}" (a comma starts the flags)', where)
        label = re.fullmatch(r"label\s+(\w+)", flag)
        hint = f"; did you mean 'labels {label.group(1)}'?" if label else did_you_mean(flag, ["onehot", "positive"])
        raise InputError(
            f"unknown flag '{flag}'{hint} (known: onehot, positive, labels C; the shape comes first: \"N x C, "
            f'onehot")',
            _part(where, value, flag),
        )
    shape = shape.strip()
    parts = re.split(r"\s+x\s+|\s*×\s*", shape) if shape != "scalar" else []
    dims = [_dim(part, sizes, _part(where, value, part), shape) for part in parts]
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


def _numpy_shape(value: str, sizes: dict[str, int], where: Location) -> None:
    """numpy's tuple "(D, H)", "D*H"-less "DxH" or "D X H": the declaration to write instead, "D x H"."""
    shape = value.split(",", 1)[0].strip() if not value.lstrip().startswith(("(", "[")) else value.strip()
    tuple_like = re.fullmatch(r"[(\[]\s*([^()\[\]]*?)\s*,?\s*[)\]]", value.strip())
    if tuple_like:
        parts = [p.strip() for p in tuple_like.group(1).split(",") if p.strip()]
        written = " x ".join(parts) if parts else "scalar"
        raise InputError(f'a shape is written "{written}", not numpy\'s tuple "{value.strip()}"', where)
    glued = re.fullmatch(r"([A-Za-z]\w*?|\d+)\s*[xX]\s*([A-Za-z]\w*|\d+)", shape)
    spaced = re.search(r"\s+x\s+|×", shape) or shape in sizes or shape.isdigit()
    if glued and not spaced and all(p in sizes or p.isdigit() for p in glued.groups()) and "*" not in shape:
        written = f"{glued.group(1)} x {glued.group(2)}{value.strip()[len(shape) :]}"
        raise InputError(f'write "{written}" (x between spaces), not "{value}"', where)


def _part(where: Location, value: str, part: str) -> Location:
    """The location narrowed to `part` of the declaration's value (where.col_start is the value's column)."""
    at = value.find(part) if part else -1
    if at < 0 or where.text is None or where.col_end - where.col_start != len(value):
        return where
    return where.shifted(where.col_start + at, where.col_start + at + len(part))


def _dim(part: str, sizes: dict[str, int], where: Location, shape: str) -> str | int:
    """One dimension: an integer from 1 to MAX_SIZE, a declared size, or arithmetic on sizes (4*H, H + 1)."""
    if part.isdigit() and 1 <= int(part) <= MAX_SIZE:
        return int(part)
    if part in sizes:
        return part
    if part.isidentifier() or not part:
        declared = ", ".join(sizes) or "none"
        hint = did_you_mean(part, sizes) if part else ""
        raise InputError(f"'{part}' in shape '{shape}' is not a declared size{hint} (declared: {declared})", where)
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


def unknown_key(file: str, text: str, unknown: list[str], allowed: set[str]) -> InputError:
    """An unknown top-level key or table, at its line, with the closest known one: [parameters] -> [params]."""
    where = locate(file, text, "", unknown[0])
    table = isinstance(where.text, str) and where.text.lstrip().startswith("[")
    if where.line is not None and where.text is not None and not table:
        col = where.text.find(unknown[0])
        where = where.shifted(max(col, 0), max(col, 0) + len(unknown[0]))
    hint = did_you_mean(unknown[0], allowed, "[{}]" if table else "'{}'")
    spelled = f"[{unknown[0]}]" if table else f"'{unknown[0]}'"
    others = f" (and {', '.join(unknown[1:])})" if unknown[1:] else ""
    known = ", ".join(sorted(allowed))
    return InputError(
        f"unknown top-level {'table' if table else 'key'} {spelled}{others}{hint} (known: {known})", where
    )
