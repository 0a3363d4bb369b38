"""Claims as a file writes them (with what the generator believes about each), the generated derivation, forward
values written into claims, and claims written in LaTeX.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from tests.modelgen.backprop import Model
from tests.modelgen.ir import Ex, Unsupported, names_in, substitute, var
from tests.modelgen.printing import LatexStyle, NoLatex, latex


@dataclass
class Claim:
    """One claim as written in the file, with what the generator believes about it."""

    key: str
    target: str
    expr: Ex | None  # the formula IR (None for entry claims written as text)
    formula: str
    believed: bool | None  # True at the stated sizes (None: the generator does not know)
    believed_all: bool | None  # True at every size
    mutation: str = ""  # "" for claims emitted as true
    latex: list[str] | None = None
    extra: dict[str, str] = field(default_factory=dict)  # other keys: for, when, label, of, layout
    table: bool = False  # written as a table with wrt
    uses: set[str] = field(default_factory=set)  # earlier claims it names
    sizes_used: dict[str, int] = field(default_factory=dict)  # size literals a mutant wrote (true only there)
    form: str = "formula"  # formula | latex | entry
    implicit: bool = False  # a table without wrt (the key d<target> says it)
    twin: bool = False  # a LaTeX claim that also gives its numpy formula


@dataclass
class Generated:
    """One generated derivation (with an optional extends base) and its metadata."""

    seed: int
    kind: str
    files: dict[str, str]  # file name -> TOML text
    main: str  # the file to check
    claims: list[Claim]
    features: set[str]
    violation: str = ""  # kind "naming": which rule the file breaks
    violation_claim: str = ""  # the offending claim key, when the violation is a claim's


def _value_table(model: Model) -> dict[Ex, Ex]:
    table: dict[Ex, Ex] = {}
    for name, e in model.lines:
        if e.op != "var" and name != model.loss and e not in table:
            table[e] = var(name, e.shape)
    return table


def with_values(e: Ex, model: Model, rng: random.Random, p: float) -> Ex:
    """e with some subexpressions written as the forward line that has that value."""
    table = {k: v for k, v in _value_table(model).items() if rng.random() < p}
    return substitute(e, table)


def used_claims(e: Ex, claims: list[Claim]) -> set[str]:
    keys = {c.key for c in claims}
    return names_in(e) & keys


# --------------------------------------------------------------------------------------------------------------
# LaTeX claims


def latex_style_for(model: Model, rng: random.Random) -> LatexStyle:
    spell: dict[str, str] = {}
    aliases: dict[str, str] = {}
    for name in [*model.sizes, *model.inputs, *model.params, *(n for n, _ in model.lines)]:
        if name in model.labels:  # np.eye(C)[y] is not written in LaTeX by the generator
            continue
        m = re.fullmatch(r"([A-Za-z]+)(\d+)", name)
        if name in ("yhat", "Yhat") and rng.random() < 0.6:
            spell[name] = "\\hat{" + name[0] + "}"
        elif name == "lam" and rng.random() < 0.6:
            spell[name] = "\\lambda"
        elif m and rng.random() < 0.7:
            spell[name] = rng.choice([f"{m.group(1)}_{m.group(2)}", f"{m.group(1)}_{{{m.group(2)}}}"])
        elif re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name) and (
            name not in ("exp", "log", "sigma", "tanh", "T") and rng.random() < 0.85
        ):
            spell[name] = f"\\text{{{name}}}" if rng.random() < 0.15 and len(name) > 1 else name
        else:
            key = "\\text{" + name.replace("_", "-") + "-q}"
            aliases[key] = name
            spell[name] = key
    onehot = [n for n, (_, oh) in model.inputs.items() if oh and n not in model.labels]
    if onehot and rng.random() < 0.4:
        key = "\\text{one-hot label}"
        aliases[key] = onehot[0]
        spell[onehot[0]] = key
    return LatexStyle(spell, aliases, model.batch, rng)


def as_latex(claim: Claim, model: Model, style: LatexStyle, rng: random.Random) -> None:
    """Write the claim in LaTeX instead of (or beside) the formula, if the generator can spell it."""
    assert claim.expr is not None
    for key in names_in(claim.expr) - set(style.spell):
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", key):
            style.spell[key] = key
    target = style.spell.get(claim.target)
    loss = style.spell.get(model.loss, model.loss) if re.fullmatch(r"[A-Za-z]+", model.loss) else None
    try:
        parts = [claim.expr]
        if claim.expr.op in ("add",) and rng.random() < 0.5:
            parts = [claim.expr.args[0], claim.expr.args[1]]
        bodies = [latex(p, style) for p in parts]
    except (NoLatex, Unsupported):
        return
    lines = []
    for k, body in enumerate(bodies):
        if target is not None and loss is not None and (k > 0 or rng.random() < 0.8):
            lhs = f"\\frac{{\\partial {loss}}}{{\\partial {target}}}"
            lines.append(f"{lhs} {'+=' if k else '='} {body}")
        elif k == 0:
            lines.append(body)
        else:
            return  # a += line needs its left side
    claim.latex = lines
    claim.form = "latex"
    claim.table = True
    model.features.add("latex_aliases" if style.aliases else "latex")
    if len(lines) > 1:
        model.features.add("latex_plus_eq")
