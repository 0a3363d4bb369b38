"""The derivation file: TOML in, a validated `ModelSpec` out.

Validation happens here, before any SymPy work: sizes are bounded, every
declared shape uses declared sizes, every formula parses, and every name a
formula uses is declared before it is used. Errors carry the key's line.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from derive.errors import InputError, Location
from derive.lang import parse_formula
from derive.source import formula_location, locate
from derive.tree import Node, refs

MAX_SIZE = 32
MAX_FILE_BYTES = 256_000
LOSS_NAMES = ("loss", "L")


@dataclass(frozen=True)
class Decl:
    """A declared input or parameter: name, dimensions (size names or integers), flags."""

    name: str
    dims: tuple[str | int, ...]
    onehot: bool
    where: Location


@dataclass(frozen=True)
class Line:
    """One forward-pass assignment `name = formula`."""

    name: str
    expr: Node
    text: str
    where: Location


@dataclass(frozen=True)
class ClaimSpec:
    """A claimed gradient: `name` (e.g. dW1) is dL/d`target`, written as `expr`."""

    name: str
    target: str
    expr: Node | None  # None when the formula did not parse; `error` says why
    text: str
    where: Location
    source: str = ""
    error: InputError | None = None


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

    def dims(self, decl: Decl) -> tuple[int, ...]:
        """The concrete shape of a declaration at this file's sizes."""
        return tuple(d if isinstance(d, int) else self.sizes[d] for d in decl.dims)


def load_file(path: Path) -> ModelSpec:
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
    return parse_spec(name, text)


def parse_spec(file: str, text: str) -> ModelSpec:
    """Validate TOML text as a derivation file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(file, text, exc) from None
    unknown = set(data) - {"title", "source", "sizes", "inputs", "params", "forward", "claims"}
    if unknown:
        raise InputError(f"unknown top-level key(s): {', '.join(sorted(unknown))}", Location(file))
    sizes = _sizes(file, text, _table(data, "sizes", file))
    inputs = _decls(file, text, "inputs", _table(data, "inputs", file), sizes)
    params = _decls(file, text, "params", _table(data, "params", file), sizes)
    _no_clash(file, inputs, params)
    forward = _forward(file, text, _table(data, "forward", file), set(sizes) | set(inputs) | set(params))
    if not forward:
        raise InputError("[forward] is empty: it must end with the scalar loss", Location(file))
    loss = next((n for n in LOSS_NAMES if any(line.name == n for line in forward)), forward[-1].name)
    known = set(sizes) | set(inputs) | set(params) | {line.name for line in forward}
    claims = _claims(file, text, _table(data, "claims", file), known)
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
    )


def _toml_error(file: str, text: str, exc: tomllib.TOMLDecodeError) -> InputError:
    match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
    message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc))
    if not match:
        return InputError(f"malformed TOML: {message}", Location(file))
    line, col = int(match.group(1)), int(match.group(2)) - 1
    lines = text.splitlines()
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    return InputError(f"malformed TOML: {message}", Location(file, line, None, source, col, col + 1))


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
        decls[name] = _decl(name, value, sizes, where)
    return decls


def _decl(name: str, value: str, sizes: dict[str, int], where: Location) -> Decl:
    shape, _, flags = value.partition(",")
    flag_set = {f.strip() for f in flags.split(",") if f.strip()}
    if flag_set - {"onehot"}:
        raise InputError(f"unknown flag(s) {sorted(flag_set - {'onehot'})}; known: onehot", where)
    shape = shape.strip()
    dims: list[str | int] = []
    if shape != "scalar":
        for part in re.split(r"\s*[x×*]\s*", shape):
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
    if "onehot" in flag_set and len(dims) != 2:
        raise InputError("onehot labels must be declared as a matrix 'N x C' (one row per sample)", where)
    return Decl(name, tuple(dims), "onehot" in flag_set, where)


def _no_clash(file: str, inputs: dict[str, Decl], params: dict[str, Decl]) -> None:
    for name in set(inputs) & set(params):
        raise InputError(f"'{name}' is declared both as an input and as a parameter", params[name].where)


def _forward(file: str, text: str, table: dict[str, Any], known: set[str]) -> list[Line]:
    lines = []
    for name, value in table.items():
        where = locate(file, text, "forward", name, value if isinstance(value, str) else None)
        if not isinstance(value, str):
            raise InputError(f"forward line must be a formula string, got {value!r}", where)
        if name in known or not name.isidentifier() or name.startswith("_"):
            raise InputError(f"'{name}' is already declared or not a valid name; forward names must be new", where)
        expr = parse_formula(value, formula_location(where, value))
        _check_names(expr, known, where, value)
        lines.append(Line(name, expr, value, where))
        known = known | {name}
    return lines


def _claims(file: str, text: str, table: dict[str, Any], known: set[str]) -> list[ClaimSpec]:
    claims: list[ClaimSpec] = []
    for key, value in table.items():
        section, field = ("claims", key) if isinstance(value, str) else (f"claims.{key}", "formula")
        if isinstance(value, dict):
            formula, target, source = value.get("formula"), value.get("wrt"), str(value.get("source", ""))
        else:
            formula, target, source = value, None, ""
        where = locate(file, text, section, field, formula if isinstance(formula, str) else None)
        if not isinstance(formula, str):
            raise InputError("a claim must be a formula string or a table with 'formula'", where)
        target = target or (key[1:] if key.startswith("d") else None)
        if target not in known:
            raise InputError(
                f"claim '{key}' must be named d<quantity> (or give wrt=...); '{target}' is not declared", where
            )
        try:  # a broken claim is reported as ERROR without stopping the other claims
            expr: Node | None = parse_formula(formula, formula_location(where, formula))
            _check_names(expr, known | {c.name for c in claims}, where, formula)  # type: ignore[arg-type]
            error = None
        except InputError as exc:
            expr, error = None, exc
        claims.append(ClaimSpec(key, str(target), expr, formula, where, source, error))
    return claims


def _check_names(expr: Node, known: set[str], where: Location, formula: str) -> None:
    for name in sorted(refs(expr) - known):
        col = formula_location(where, formula)
        start = col.col_start + _find_name(formula, name)
        raise InputError(
            f"unknown name '{name}' (known here: {', '.join(sorted(known))})", col.shifted(start, start + len(name))
        )


def _find_name(formula: str, name: str) -> int:
    match = re.search(r"\b" + re.escape(name) + r"\b", formula)
    return match.start() if match else 0
