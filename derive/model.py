"""The derivation file: TOML in, a validated `ModelSpec` out.

Validation happens here, before any SymPy work: sizes are bounded, every
declared shape uses declared sizes, every formula parses, and every name a
formula uses is declared before it is used. Errors carry the key's line.
A file may `extends = "other.toml"` to share another file's model and claims
(seed 001 re-renders seed 000), changing only its title and source.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from derive.claims import ClaimSpec, check_names, parse_claims
from derive.errors import InputError, Location
from derive.lang import parse_formula
from derive.source import formula_location, locate
from derive.tree import Node

MAX_SIZE = 32
MAX_FILE_BYTES = 256_000
LOSS_NAMES = ("loss", "L")
TOP_KEYS = {
    "title",
    "source",
    "sizes",
    "inputs",
    "params",
    "forward",
    "claims",
    "functions",
    "layout",
    "extends",
    "unchecked",
    "note",
    "aliases",
}
FUNCTION_KINDS = ("elementwise", "scalar")


@dataclass(frozen=True)
class Decl:
    """A declared input or parameter: name, dimensions (size names or integers), flags."""

    name: str
    dims: tuple[str | int, ...]
    onehot: bool
    where: Location


@dataclass(frozen=True)
class Line:
    """One forward-pass assignment `name = formula`, with the shape the source declares for it, if any."""

    name: str
    expr: Node
    text: str
    where: Location
    declared: Decl | None = None


@dataclass(frozen=True)
class ModelSpec:
    """A whole derivation file, validated but not yet built."""

    file: str
    title: str
    source: str
    sizes: dict[str, int]
    inputs: dict[str, Decl]
    params: dict[str, Decl]
    forward: tuple[Line, ...]
    loss: str
    claims: tuple[ClaimSpec, ...]
    functions: dict[str, str]  # declared generic function -> "elementwise" | "scalar"
    gradients: dict[str, str]  # gradient name -> the scalar function whose partials it holds
    unchecked: tuple[tuple[str, str], ...] = ()  # (statement, why it cannot be checked)
    note: str = ""

    def dims(self, decl: Decl) -> tuple[int, ...]:
        """The concrete shape of a declaration at this file's sizes."""
        return tuple(d if isinstance(d, int) else self.sizes[d] for d in decl.dims)


def load_file(path: Path, depth: int = 0) -> ModelSpec:
    """Read and validate a derivation file, raising InputError on any problem."""
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", Location(name)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(f"file is {len(raw)} bytes; the limit is {MAX_FILE_BYTES}", Location(name))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"file is not UTF-8 text (byte {exc.start})", Location(name)) from None
    data = _toml(name, text)
    base = data.get("extends")
    if base is None:
        return parse_spec(name, text, data)
    if not isinstance(base, str) or depth > 3:
        raise InputError(
            "'extends' must name one other derivation file (at most 3 deep)", locate(name, text, "", "extends")
        )
    parent = load_file(path.parent / base, depth + 1)
    return replace(
        parent,
        file=name,
        title=str(data.get("title", parent.title)),
        source=str(data.get("source", parent.source)),
        note=str(data.get("note", "")),
    )


def parse_spec(file: str, text: str, data: dict[str, Any] | None = None) -> ModelSpec:
    """Validate TOML text as a derivation file."""
    data = _toml(file, text) if data is None else data
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise InputError(f"unknown top-level key(s): {', '.join(sorted(unknown))}", Location(file))
    sizes = _sizes(file, text, _table(data, "sizes", file))
    inputs = _decls(file, text, "inputs", _table(data, "inputs", file), sizes)
    params = _decls(file, text, "params", _table(data, "params", file), sizes)
    for name in set(inputs) & set(params):
        raise InputError(f"'{name}' is declared both as an input and as a parameter", params[name].where)
    functions, gradients = _functions(file, text, _table(data, "functions", file))
    known = set(sizes) | set(inputs) | set(params) | set(gradients)
    forward = _forward(file, text, _table(data, "forward", file), known, sizes, functions)
    if not forward:
        raise InputError("[forward] is empty: it must end with the scalar loss", Location(file))
    loss = next((n for n in LOSS_NAMES if any(line.name == n for line in forward)), forward[-1].name)
    known |= {line.name for line in forward}
    layout = str(data.get("layout", "denominator"))
    aliases = _aliases(file, text, _table(data, "aliases", file), known, functions)
    claims = parse_claims(file, text, _table(data, "claims", file), known, sizes, functions, layout, aliases, loss)
    unchecked = tuple((str(k), str(v)) for k, v in _table(data, "unchecked", file).items())
    return ModelSpec(
        file,
        str(data.get("title", Path(file).stem)),
        str(data.get("source", "")),
        sizes,
        inputs,
        params,
        tuple(forward),
        loss,
        tuple(claims),
        functions,
        gradients,
        unchecked,
        str(data.get("note", "")),
    )


def _aliases(
    file: str, text: str, table: dict[str, Any], known: set[str], functions: dict[str, str]
) -> dict[str, Node]:
    """LaTeX snippets (prose, other notation) -> formulas of the model, for claims written in LaTeX."""
    aliases = {}
    for snippet, formula in table.items():
        where = locate(file, text, "aliases", snippet, formula if isinstance(formula, str) else None)
        if not isinstance(formula, str):
            raise InputError("an alias maps LaTeX to a formula string", where)
        aliases[snippet] = parse_formula(formula, formula_location(where, formula), functions)
    return aliases  # names are checked where an alias is used: it may name an earlier claim (δ1 = dTheta)


def _toml(file: str, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc))
        if not match:
            raise InputError(f"malformed TOML: {message}", Location(file)) from None
        line, col = int(match.group(1)), int(match.group(2)) - 1
        lines = text.splitlines()
        source = lines[line - 1] if 0 < line <= len(lines) else ""
        raise InputError(f"malformed TOML: {message}", Location(file, line, None, source, col, col + 1)) from None


def _table(data: dict[str, Any], key: str, file: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise InputError(f"[{key}] must be a table", Location(file, key=key))
    return value


def _sizes(file: str, text: str, table: dict[str, Any]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for name, value in table.items():
        where = locate(file, text, "sizes", name)
        if not name.isidentifier():
            raise InputError(f"size name '{name}' is not an identifier", where)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SIZE:
            raise InputError(f"size must be an integer from 1 to {MAX_SIZE}, got {value!r}", where)
        sizes[name] = value
    return sizes


def _decls(file: str, text: str, section: str, table: dict[str, Any], sizes: dict[str, int]) -> dict[str, Decl]:
    decls = {}
    for name, value in table.items():
        where = locate(file, text, section, name, value if isinstance(value, str) else None)
        if not isinstance(value, str):
            raise InputError(f'declaration must be a string like "N x D", got {value!r}', where)
        if not name.isidentifier() or name.startswith("_"):
            raise InputError(f"'{name}' is not a valid name", where)
        decls[name] = parse_decl(name, value, sizes, where)
    return decls


def parse_decl(name: str, value: str, sizes: dict[str, int], where: Location) -> Decl:
    """A shape declaration: 'scalar', 'H', 'N x D' or 'K x 1', optionally ', onehot'."""
    shape, _, flags = value.partition(",")
    flag_set = {f.strip() for f in flags.split(",") if f.strip()}
    if flag_set - {"onehot"}:
        raise InputError(f"unknown flag(s) {sorted(flag_set - {'onehot'})}; known: onehot", where)
    shape = shape.strip()
    dims: list[str | int] = []
    if shape != "scalar":
        for part in re.split(r"\s+x\s+|\s*[×*]\s*", shape):
            if part.isdigit() and 1 <= int(part) <= MAX_SIZE:
                dims.append(int(part))
            elif part in sizes:
                dims.append(part)
            else:
                raise InputError(
                    f"'{part}' in shape '{shape}' is not a declared size (declared: {', '.join(sizes) or 'none'})",
                    where,
                )
    if len(dims) > 2:
        raise InputError(f"shape '{shape}' has {len(dims)} dimensions; at most 2 are supported", where)
    if "onehot" in flag_set and not dims:
        raise InputError("onehot labels need a vector or an 'N x C' matrix (one row per sample)", where)
    return Decl(name, tuple(dims), "onehot" in flag_set, where)


def _functions(file: str, text: str, table: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    functions, gradients = {}, {}
    for name, value in table.items():
        where = locate(file, text, "functions", name)
        kind, _, rest = str(value).partition(",")
        kind = kind.strip()
        if not name.isidentifier() or name.startswith("_") or kind not in FUNCTION_KINDS:
            raise InputError(f'declare a function as "elementwise" or "scalar, gradient NAME", got {value!r}', where)
        functions[name] = kind
        gradient = rest.strip().removeprefix("gradient").strip()
        if kind == "scalar":
            gradients[gradient or f"d{name}"] = name
    return functions, gradients


def _forward(
    file: str, text: str, table: dict[str, Any], known: set[str], sizes: dict[str, int], functions: dict[str, str]
) -> list[Line]:
    lines = []
    for name, value in table.items():
        entry = value if isinstance(value, dict) else {"formula": value}
        formula = entry.get("formula")
        section, key = ("forward", name) if not isinstance(value, dict) else (f"forward.{name}", "formula")
        where = locate(file, text, section, key, formula if isinstance(formula, str) else None)
        if not isinstance(formula, str):
            raise InputError(f"forward line must be a formula string, got {value!r}", where)
        if name in known or not name.isidentifier() or name.startswith("_"):
            raise InputError(f"'{name}' is already declared or not a valid name; forward names must be new", where)
        expr = parse_formula(formula, formula_location(where, formula), functions)
        check_names(expr, known, where, formula)
        declared = parse_decl(name, str(entry["shape"]), sizes, where) if "shape" in entry else None
        lines.append(Line(name, expr, formula, where, declared))
        known = known | {name}
    return lines
