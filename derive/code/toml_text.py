"""The model read from code, written as a derivation file and validated by the one loader every file goes through.

Writing the pair as derivation text (sizes, inputs, parameters, forward lines, claims) and handing it to
`derive.model.spec.parse_spec` means the code is held to exactly the rules of a derivation file: every name
declared once, every formula parsed through the whitelist, every line shape-checked at symbolic sizes, labels
reached only through their one-hot rows. An error there is reported at the statement of the code it came from.
Afterwards every line and claim points at its source line, and the model carries its `CodeInfo`.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from derive_check.derive.code.pairs import Pair
from derive_check.derive.code.values import Obj, closure, names_in, substitute
from derive_check.derive.errors import InputError, Location
from derive_check.derive.model.code_info import CodeInfo, Probe
from derive_check.derive.model.spec import ModelSpec, parse_spec

if TYPE_CHECKING:
    from derive_check.derive.code.declare import Declared
    from derive_check.derive.code.interpret import Reader
    from derive_check.derive.code.shapes import Shapes

MAX_INLINED_CHARS = 900  # a backward line whose inlined formula would be longer stays a model line by name


@dataclass
class Model:
    """What is known of a pair once its code has been read."""

    file: str
    lines: list[str]
    pair: Pair
    sizes: dict[str, int]
    declared: dict[str, Declared]
    shapes: Shapes
    upstream: list[tuple[str, tuple[str | int, ...]]] = field(default_factory=list)
    loss: str = ""
    params: list[str] = field(default_factory=list)
    concrete: bool = False  # read at the stated sizes (a loop, or entries written at positions)

    def labels(self) -> list[str]:
        """The declared label vectors (never differentiated)."""
        return [n for n, d in self.declared.items() if "labels" in d.value.partition(",")[2]]


def spec_of(
    model: Model, reader: Reader, claims: list[tuple[str, str, Obj]], probes: list[tuple[str, list[str], Obj]]
) -> ModelSpec:
    """The pair's model: forward lines, the loss, the returned gradients as claims and the probes."""
    pair, file = model.pair, model.file
    where: dict[str, Location] = {}
    forward = [e for e in reader.emitted if e.part == "forward"]
    inlined = _inline(reader)
    readings = [(n, t, o) for n, targets, o in probes for t in targets]
    formulas = [(n, t, substitute(o.expr, inlined), o) for n, t, o in claims + readings]
    kept = closure(set().union(*(names_in(f) for _, _, f, _ in formulas)), reader.emitted)
    backward = [e for e in reader.emitted if e.part == "backward" and e.name in kept]
    in_use = set(model.sizes) | set(model.declared) | {u for u, _ in model.upstream} | {"L"}
    in_use |= {e.name for e in forward + backward}
    claim_rows: list[tuple[str, str, str, Obj, str]] = []
    probe_rows: list[tuple[str, str, str, Obj, str]] = []
    chains = []
    for k, (name, target, formula, obj) in enumerate(formulas):
        probe = k >= len(claims)
        wanted = [f"probe_{name}"] if probe else [name, f"d{target}"]
        claim = next((w for w in wanted if w not in in_use), None) or _numbered(wanted[0], in_use)
        in_use.add(claim)
        (probe_rows if probe else claim_rows).append((claim, target, ast.unparse(formula), obj, name))
        where[f"claims.{claim}"] = _line(file, model.lines, obj.line or pair.line)
        if not probe:
            chains.append((claim, _chain(reader, obj.expr)))
    out: list[str] = [f"title = {json.dumps(_title(pair))}", f"source = {json.dumps(f'{file}:{pair.line}')}", "[sizes]"]
    out += [f"{k} = {v}" for k, v in model.sizes.items()]
    out.append("[inputs]")
    for name, decl in model.declared.items():
        if name not in model.params:
            out.append(f"{name} = {json.dumps(decl.value)}")
            where[f"inputs.{name}"] = decl.where
    for name, shape in model.upstream:
        out.append(f"{name} = {json.dumps(' x '.join(map(str, shape)) or 'scalar')}")
        where[f"inputs.{name}"] = _line(file, model.lines, (pair.backward or pair.forward).lineno)
    out.append("[params]")
    for name in model.params:
        out.append(f"{name} = {json.dumps(model.declared[name].value)}")
        where[f"params.{name}"] = model.declared[name].where
    out.append("[forward]")
    for line in forward + backward:
        out.append(f"{line.name} = {json.dumps(ast.unparse(line.expr))}")
        where[f"forward.{line.name}"] = _line(file, model.lines, line.line)
    out.append(f"L = {json.dumps(model.loss)}")
    where["forward.L"] = _line(file, model.lines, pair.line)
    out.append("[claims]")
    for claim, target, written, _, _ in claim_rows + probe_rows:
        out.append(f"{claim} = {{ wrt = {json.dumps(target)}, formula = {json.dumps(written)} }}")
    text = "\n".join(out) + "\n"
    try:
        spec = parse_spec(file, text)
    except InputError as exc:
        raise _moved(exc, where, file, model.lines, pair) from None
    statements = {e.line for e in reader.emitted if e.part == "backward"}
    info = CodeInfo(
        kind=pair.kind,
        forward=pair.forward.name if pair.kind != "torch Function" else f"{pair.name}.forward",
        backward=""
        if pair.backward is None
        else pair.backward.name
        if pair.kind != "torch Function"
        else f"{pair.name}.backward",
        probes=_grouped(probe_rows),
        chains=tuple(chains),
        statements=tuple((n, model.lines[n - 1]) for n in sorted(statements) if 0 < n <= len(model.lines)),
        unrolled=tuple(model.sizes) if model.concrete else tuple(sorted(reader.unrolled)),
    )
    lines = tuple(replace(line, where=where.get(f"forward.{line.name}", line.where)) for line in spec.forward)
    located = tuple(replace(c, where=where.get(f"claims.{c.name}", c.where), source=_title(pair)) for c in spec.claims)
    return replace(spec, forward=lines, claims=located, code=info)


def _grouped(rows: list[tuple[str, str, str, Obj, str]]) -> tuple[Probe, ...]:
    """One probe per backward variable, with the claim of each of its readings."""
    claims: dict[str, list[str]] = {}
    lines: dict[str, int] = {}
    for claim, _, _, obj, variable in rows:
        claims.setdefault(variable, []).append(claim)
        lines[variable] = obj.line
    return tuple(Probe(claims=tuple(c), variable=v, line=lines[v]) for v, c in claims.items())


def _numbered(name: str, in_use: set[str]) -> str:
    return next(f"{name}_{k}" for k in range(2, 10_000) if f"{name}_{k}" not in in_use)


def _title(pair: Pair) -> str:
    if pair.kind == "loss function":
        return f"{pair.name} (loss function)"
    if pair.kind == "torch Function":
        return f"{pair.name} (torch.autograd.Function)"
    return f"{pair.name}_forward / {pair.name}_backward"


def _inline(reader: Reader) -> dict[str, ast.expr]:
    """Each backward line's formula with earlier backward lines inlined, while it stays short."""
    done: dict[str, ast.expr] = {}
    for line in reader.emitted:
        if line.part != "backward":
            continue
        expanded = substitute(line.expr, done)
        if len(ast.unparse(expanded)) <= MAX_INLINED_CHARS:
            done[line.name] = expanded
    return done


def _chain(reader: Reader, expr: ast.expr) -> tuple[int, ...]:
    """The source lines of the backward statements a returned value reads (before inlining), in order."""
    by_name = {e.name: e for e in reader.emitted if e.part == "backward"}
    return tuple(sorted({by_name[n].line for n in closure(names_in(expr), reader.emitted) if n in by_name}))


def _line(file: str, lines: list[str], number: int) -> Location:
    text = lines[number - 1] if 0 < number <= len(lines) else ""
    start = len(text) - len(text.lstrip())
    return Location(file, number, None, text, start, max(len(text.rstrip()), start + 1))


def _moved(exc: InputError, where: dict[str, Location], file: str, lines: list[str], pair: Pair) -> InputError:
    """The loader's error, at the statement of the code the offending line or claim came from."""
    spot = where.get(exc.where.key or "") or _line(file, lines, pair.line)
    return type(exc)(exc.message, spot)
