"""Writing TOML: the derivation file of a model, and the [claims] table (strings, inline tables, sections)."""

from __future__ import annotations

import random

from tests.modelgen.backprop import Model
from tests.modelgen.claims import Claim
from tests.modelgen.ir import Shape
from tests.modelgen.printing import text


def _shape_text(shape: Shape) -> str:
    return " x ".join(str(d) for d in shape) if shape else "scalar"


def _literal(s: str) -> str:
    """A TOML literal string (no escapes: LaTeX backslashes stay as they are)."""
    return f"'''{s}'''" if "'" in s else f"'{s}'"


def _claim_toml(c: Claim) -> str:
    if not c.table and c.latex is None and not c.extra:
        return f'{c.key} = "{c.formula}"'
    parts = []
    if "wrt" not in c.extra and not (c.key == f"d{c.target}" and c.implicit):
        parts.append(f'wrt = "{c.target}"')
    for k, v in c.extra.items():
        parts.append(f"{k} = {v}" if v.startswith("{") else f'{k} = "{v}"')
    if c.latex is not None:
        parts.append(
            "latex = "
            + (_literal(c.latex[0]) if len(c.latex) == 1 else "[" + ", ".join(_literal(s) for s in c.latex) + "]")
        )
        if c.twin:
            parts.append(f'formula = "{c.formula}"')
    else:
        parts.append(f'formula = "{c.formula}"')
    return f"{c.key} = {{ {', '.join(parts)} }}"


def model_toml(model: Model, claims: list[Claim], rng: random.Random, header: str) -> str:
    """The derivation file of a model and its claims."""
    out = [f"# {header}", f'title = "{model.title or model.kind + " model"}"', "", "[sizes]"]
    out += [f"{k} = {v}" for k, v in model.sizes.items()]
    out += ["", "[inputs]"]
    for k, (s, oh) in model.inputs.items():
        if k in model.labels:  # integer labels: y = "N, labels C"
            label, classes = model.labels[k]
            out.append(f'{label} = "{s[0]}, labels {classes}"')
        else:
            out.append(f'{k} = "{_shape_text(s)}{", onehot" if oh else ""}"')
    out += ["", "[params]"]
    out += [f'{k} = "{_shape_text(s)}"' for k, s in model.params.items()]
    if model.functions:
        out += ["", "[functions]"]
        out += [f'{k} = "{v}"' for k, v in model.functions.items()]
    out += ["", "[forward]"]
    for name, e in model.lines:
        if rng.random() < 0.12 and e.shape:
            out.append(f'{name} = {{ formula = "{text(e)}", shape = "{_shape_text(e.shape)}" }}')
            model.features.add("declared_shape")
        else:
            out.append(f'{name} = "{text(e)}"')
    if model.aliases:
        out += ["", "[aliases]"]
        out += [f'{_literal(k)} = "{v}"' for k, v in model.aliases.items()]
    out += claims_toml(claims, rng)
    return "\n".join(out) + "\n"


def claims_toml(claims: list[Claim], rng: random.Random) -> list[str]:
    """The [claims] table: strings and inline tables in order, trailing table claims sometimes as sections."""
    for c in claims:
        c.implicit = c.key == f"d{c.target}" and rng.random() < 0.5
        c.twin = c.latex is not None and c.believed is True and c.mutation == "" and rng.random() < 0.3
    out = ["", "[claims]"]
    tail = len(claims)
    if rng.random() < 0.5:
        while tail > 0 and claims[tail - 1].latex is not None:
            tail -= 1
    out += [_claim_toml(c) for c in claims[:tail]]
    for c in claims[tail:]:
        inline = _claim_toml(c)
        body = inline.split(" = { ", 1)[1].rsplit(" }", 1)[0]
        out += ["", f"[claims.{c.key}]"]
        out += _split_inline(body)
    return out


def _split_inline(body: str) -> list[str]:
    """key = value pairs of an inline table body (values contain no top-level ', ' inside quotes or braces)."""
    pairs, depth, quote, start = [], 0, "", 0
    k = 0
    while k < len(body):
        ch = body[k]
        if quote:
            if body.startswith(quote, k):
                k += len(quote) - 1
                quote = ""
        elif body.startswith("'''", k):
            quote = "'''"
            k += 2
        elif ch in "\"'":
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        elif ch == "," and depth == 0:
            pairs.append(body[start:k].strip())
            start = k + 1
        k += 1
    pairs.append(body[start:].strip())
    return pairs
