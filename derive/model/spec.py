"""The derivation file: TOML in, one resolved `ModelSpec` out.

Validation happens here, before any SymPy work: sizes are bounded, every name is declared once
(`derive.model.names`), every declared shape uses declared sizes, every formula parses, every name a
formula uses is declared before it is used, and every forward line type-checks at symbolic sizes
(so `X @ W + b` with b of size D is an error even where D happens to equal H). One place decides
which line is the loss. Every engine, the cache key, the witness and the reports read this model.

A file may `extends = "other.toml"` (in the same folder or below it): it takes the other file's
model and claims, may override size values, and may add claims, aliases and unchecked notes; a
claim of the same name replaces the inherited one, and the report says so. A file that extends
another cannot redefine the model itself: that is an input error, never silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from derive_check.derive.errors import InputError, Location, ShapeError, did_you_mean
from derive_check.derive.lang.formula import parse_formula
from derive_check.derive.model.claims import ClaimSpec, check_names, parse_claims
from derive_check.derive.model.code_info import CodeInfo
from derive_check.derive.model.declarations import (
    Decl,
    parse_decl,
    read_aliases,
    read_decls,
    read_functions,
    read_sizes,
    read_toml,
    table,
    unknown_key,
)
from derive_check.derive.model.labels import may_be_undefined, resolve_labels
from derive_check.derive.model.names import Namespace
from derive_check.derive.model.provenance import Provenance, read_notes, read_provenance
from derive_check.derive.model.shapes import infer
from derive_check.derive.ops.dims import value as dim_value
from derive_check.derive.ops.spec import Shape, SymbolicShapeError
from derive_check.derive.source import formula_location, key_location, locate, span_location
from derive_check.derive.tree import Apply, Node, refs

MAX_FILE_BYTES = 256_000
MAX_EXTENDS = 3
LOSS_NAMES = ("loss", "L")
TOP_KEYS = {
    "title", "source", "sizes", "inputs", "params", "forward", "claims", "functions", "layout",
    "extends", "unchecked", "prose", "note", "aliases",
}  # fmt: skip
CHILD_KEYS = {"title", "source", "sizes", "claims", "extends", "unchecked", "prose", "note", "aliases", "layout"}


@dataclass(frozen=True)
class Line:
    """One forward-pass assignment `name = formula`, with the shape the source declares for it, if any."""

    name: str
    expr: Node
    text: str
    where: Location
    declared: Decl | None = None
    provenance: Provenance = field(default_factory=Provenance)  # where the source states it (and its shape)


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """A whole derivation file, validated and resolved but not yet built."""

    file: str
    title: str
    source: str
    sizes: dict[str, int]
    inputs: dict[str, Decl]
    params: dict[str, Decl]
    forward: tuple[Line, ...]
    loss: str  # the one place that decides which forward line is the loss
    claims: tuple[ClaimSpec, ...]
    functions: dict[str, str]  # declared generic function -> "elementwise" | "scalar"
    gradients: dict[str, str]  # gradient name -> the scalar function whose partials it holds
    shapes: dict[str, Shape] = field(default_factory=dict)  # symbolic shape of every declared and forward name
    names: Namespace = field(default_factory=Namespace, compare=False)
    aliases: dict[str, Node] = field(default_factory=dict)
    layout: str = "denominator"
    unchecked: tuple[tuple[str, str], ...] = ()  # (statement, why it cannot be checked)
    prose: tuple[tuple[str, str], ...] = ()  # (formula of the source document, why it is not a claim)
    note: str = ""
    notes: tuple[str, ...] = ()  # what `extends` changed: overridden sizes and claims
    base: str = ""  # the file this one extends (its path as read), if any
    code: CodeInfo | None = None  # set when the model was read from a forward/backward pair of code

    def dims(self, decl: Decl) -> tuple[int, ...]:
        """The concrete shape of a declaration at this file's sizes."""
        return tuple(dim_value(d, self.sizes) for d in decl.dims)


def load_file(path: Path, depth: int = 0) -> ModelSpec:
    """Read and validate a derivation file (and the files it extends), raising InputError on any problem."""
    text = read_source(path, str(path))
    return load_text(path, text, read_toml(str(path), text), depth)


def load_text(path: Path, text: str, data: dict[str, Any], depth: int = 0) -> ModelSpec:
    """Validate a derivation file already read and parsed as TOML (and the files it extends)."""
    name = str(path)
    base = data.get("extends")
    if base is None:
        return parse_spec(name, text, data)
    where = locate(name, text, "", "extends", base if isinstance(base, str) else None)
    if not isinstance(base, str) or depth >= MAX_EXTENDS:
        raise InputError(f"'extends' must name one other derivation file (at most {MAX_EXTENDS} deep)", where)
    parent_path = inside(path, base, where)
    return extend(load_file(parent_path, depth + 1), name, text, data)


def read_source(path: Path, name: str) -> str:
    """The text of a derivation or code file: a regular file, at most MAX_FILE_BYTES, UTF-8."""
    try:
        regular = path.is_file()
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte, a symlink loop
        raise InputError(f"cannot open this path: {exc}", Location(name[:300])) from None
    if not regular:
        raise InputError("not a regular file (derivation files are .toml or .py text files)", Location(name[:300]))
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", Location(name)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(f"file is larger than {MAX_FILE_BYTES} bytes", Location(name))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"file is not UTF-8 text (byte {exc.start})", Location(name)) from None


def inside(path: Path, base: str, where: Location, key: str = "extends", suffix: str = ".toml") -> Path:
    """The file another file names (`extends`, [code] `file`): a `suffix` file in its folder or below it."""
    rule = f"'{key}' must name a {suffix} file in this file's folder or below it"
    if "\x00" in base or len(base) > 255:
        raise InputError(rule, where)
    try:
        folder = path.parent.resolve()
        target = (folder / base).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, a name too long
        raise InputError(f"'{key}' names a path that cannot be resolved: {exc}", where) from None
    if Path(base).is_absolute() or not target.is_relative_to(folder) or target.suffix != suffix:
        raise InputError(f"{rule}, got {base!r}", where)
    if target == path.resolve():
        raise InputError("a file cannot extend itself", where)
    return path.parent / base


def extend(parent: ModelSpec, file: str, text: str, data: dict[str, Any]) -> ModelSpec:
    """The parent's model with this file's sizes, claims, aliases and notes merged in (child wins)."""
    foreign = sorted(set(data) - CHILD_KEYS)
    if foreign:
        key = foreign[0]
        raise InputError(
            f"[{key}] cannot be given in a file that extends {Path(parent.file).name}: the model comes from "
            f"there (allowed here: {', '.join(sorted(CHILD_KEYS - {'extends'}))})",
            locate(file, text, "", key),
        )
    sizes = dict(parent.sizes)
    notes = list(parent.notes)
    for size, value in read_sizes(file, text, table(data, "sizes", file, text), None).items():
        if size not in sizes:
            raise InputError(
                f"size '{size}' is not a size of {Path(parent.file).name} (sizes: {', '.join(sizes)})",
                locate(file, text, "sizes", size),
            )
        if sizes[size] != value:
            notes.append(f"{size} = {value} here ({Path(parent.file).name} has {sizes[size]})")
        sizes[size] = value
    names = parent.names.copy()
    inherited = {c.name: c for c in parent.claims}
    own_table = table(data, "claims", file, text)
    for claim_name in own_table:
        if claim_name not in inherited:
            continue
        users = [c.name for c in parent.claims if c.expr is not None and claim_name in refs(c.expr)]
        if users:
            raise InputError(
                f"claim {claim_name} replaces the one in {Path(parent.file).name}, which {', '.join(users)} "
                f"use(s) there; give the new claim another name",
                locate(file, text, "claims", claim_name),
            )
        del names.kinds[claim_name]  # the child's claim replaces the inherited one
        notes.append(f"claim {claim_name} replaces the one in {Path(parent.file).name}")
    aliases = {**parent.aliases, **read_aliases(file, text, table(data, "aliases", file, text), parent.functions)}
    layout = str(data.get("layout", parent.layout))
    own = parse_claims(file, text, own_table, names, sizes, parent.functions, layout, aliases, parent.loss)
    claims = tuple(c for c in parent.claims if c.name not in own_table) + tuple(own)
    unchecked = read_notes(data, "unchecked", file, text, parent.unchecked)
    prose = read_notes(data, "prose", file, text, parent.prose)
    return replace(
        parent,
        file=file,
        title=str(data.get("title", parent.title)),
        source=str(data.get("source", parent.source)),
        note=str(data.get("note", "")),
        sizes=sizes,
        claims=claims,
        names=names,
        aliases=aliases,
        layout=layout,
        unchecked=unchecked,
        prose=prose,
        notes=tuple(notes),
        base=parent.file,
    )


def parse_spec(file: str, text: str, data: dict[str, Any] | None = None) -> ModelSpec:
    """Validate TOML text as a derivation file."""
    data = read_toml(file, text) if data is None else data
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise unknown_key(file, text, unknown, TOP_KEYS)
    names = Namespace()
    sizes = read_sizes(file, text, table(data, "sizes", file, text), names)
    inputs = read_decls(file, text, "inputs", table(data, "inputs", file, text), sizes, names)
    params = read_decls(file, text, "params", table(data, "params", file, text), sizes, names)
    functions, gradients = read_functions(file, text, table(data, "functions", file, text), names)
    shapes: dict[str, Shape] = {d.name: d.dims for d in [*inputs.values(), *params.values()]}
    forward = _forward(file, text, table(data, "forward", file, text), names, sizes, functions, gradients, shapes)
    if not forward:
        raise InputError("[forward] is empty: it must end with the scalar loss", Location(file))
    loss = next((n for n in LOSS_NAMES if any(line.name == n for line in forward)), forward[-1].name)
    loss_line = next(line for line in forward if line.name == loss)
    if shapes[loss] != ():
        raise ShapeError(
            f"the loss '{loss}' must be a scalar, but its formula has shape {' x '.join(map(str, shapes[loss]))}",
            loss_line.where,
        )
    layout = str(data.get("layout", "denominator"))
    aliases = read_aliases(file, text, table(data, "aliases", file, text), functions)
    claims = parse_claims(file, text, table(data, "claims", file, text), names, sizes, functions, layout, aliases, loss)
    unchecked = read_notes(data, "unchecked", file, text)
    return ModelSpec(
        file=file,
        title=str(data.get("title", Path(file).stem)),
        source=str(data.get("source", "")),
        sizes=sizes,
        inputs=inputs,
        params=params,
        forward=tuple(forward),
        loss=loss,
        claims=tuple(claims),
        functions=functions,
        gradients=gradients,
        shapes=shapes,
        names=names,
        aliases=aliases,
        layout=layout,
        unchecked=unchecked,
        prose=read_notes(data, "prose", file, text),
        note=str(data.get("note", "")),
    )


def _forward(
    file: str,
    text: str,
    entries: dict[str, Any],
    names: Namespace,
    sizes: dict[str, int],
    functions: dict[str, str],
    gradients: dict[str, str],
    shapes: dict[str, Shape],
) -> list[Line]:

    lines = []
    for name, value in entries.items():
        entry = value if isinstance(value, dict) else {"formula": value}
        formula = entry.get("formula")
        section, key = ("forward", name) if not isinstance(value, dict) else (f"forward.{name}", "formula")
        where = locate(file, text, section, key, formula if isinstance(formula, str) else None)
        for extra in sorted(set(entry) - {"formula", "shape", "source"}):
            hint = did_you_mean(extra, ["formula", "shape", "source"])
            spot = key_location(file, text, f"forward.{name}", extra)
            raise InputError(f"unknown key '{extra}' of a forward line{hint} (known: formula, shape, source)", spot)
        if not isinstance(formula, str):
            raise InputError(f"forward line must be a formula string, got {value!r}", where)
        names.declare(name, "forward", where)
        expr = parse_formula(formula, formula_location(where, formula), functions)
        known = names.of_kind("size", "input", "param", "gradient", "forward") - {name}
        check_names(expr, known, where, formula)
        expr = resolve_labels(expr, names, where, formula)
        if may_be_undefined(expr, names.partial):
            names.partial.add(name)
        declared = parse_decl(name, str(entry["shape"]), sizes, where) if "shape" in entry else None
        try:
            shapes[name] = infer(expr, {**shapes, **dict.fromkeys(sizes, ())})
        except SymbolicShapeError as exc:
            raise ShapeError(
                f"{exc} (forward line '{name}'; shapes are checked for every size, not only the stated ones)",
                span_location(where, formula, exc.node.span),
            ) from None
        _gradient_shapes(expr, gradients, shapes)
        given = read_provenance(entry, partial(locate, file, text, f"forward.{name}"))
        lines.append(Line(name, expr, formula, where, declared, given))
    return lines


def _gradient_shapes(expr: Node, gradients: dict[str, str], shapes: dict[str, Shape]) -> None:
    """A declared gradient is shaped like the argument of its scalar function."""

    if not isinstance(expr, Apply):
        return
    if expr.op == "scalar_function":
        for gradient, function in gradients.items():
            if expr.option("name") == function:
                shapes[gradient] = infer(expr.args[0], shapes)
    for arg in expr.args:
        _gradient_shapes(arg, gradients, shapes)
