"""The claims of a model: true ones from the reference emitter (some written with forward values, through earlier
claims, in LaTeX or numerator layout), with mutants and entry claims interleaved.
"""

from __future__ import annotations

import random

from tests.modelgen.backprop import Backprop, Model
from tests.modelgen.claims import Claim, as_latex, latex_style_for, used_claims, with_values
from tests.modelgen.entries import entry_claims
from tests.modelgen.ir import ZERO, Ex, names_in, transpose, var
from tests.modelgen.layers import Names
from tests.modelgen.mutants import mutants
from tests.modelgen.printing import text


def emit_claims(model: Model, names: Names, rng: random.Random) -> list[Claim]:
    """True claims for every parameter and some intermediates, with mutants interleaved."""
    lines = model.before_loss()
    first_use: dict[str, int] = {}
    for k, (_, e) in enumerate(lines):
        for n in names_in(e):
            first_use.setdefault(n, k)
    style = rng.choice(["inline", "named", "mixed"])
    latex_style = latex_style_for(model, rng) if rng.random() < 0.35 else None
    claims: list[Claim] = []
    claimed_lines: dict[str, str] = {}  # line -> key of its true, plain claim
    order: list[str] = []
    for k in range(len(lines) - 1, -1, -1):
        name = lines[k][0]
        if name != model.loss and rng.random() < 0.4:
            order.append(name)
        order += [p for p in model.params if first_use.get(p) == k]
        order += [x for x, (s, oh) in model.inputs.items() if first_use.get(x) == k and not oh and rng.random() < 0.2]
    adjoints_cache: dict[frozenset[tuple[str, str]], dict[str, Ex]] = {}
    for target in order:
        p_use = {"inline": 0.0, "named": 1.0, "mixed": 0.5}[style]
        use = {ln: key for ln, key in claimed_lines.items() if rng.random() < p_use}
        cache_key = frozenset(use.items())
        if cache_key not in adjoints_cache:
            adjoints_cache[cache_key] = Backprop(model, random.Random(rng.random()), use).run()
        g = adjoints_cache[cache_key].get(target)
        if g is None:
            continue
        expr = with_values(g, model, rng, 0.6)
        key = names.claim_key(target, plain=rng.random() < 0.75)
        claim = Claim(
            key, target, expr, text(expr), True, True, table=key != f"d{target}", uses=used_claims(expr, claims)
        )
        if latex_style is not None and rng.random() < 0.6:
            as_latex(claim, model, latex_style, rng)
        claims.append(claim)
        if target in dict(lines) and claim.form == "formula":
            claimed_lines[target] = key
        if model.kind == "column" and len(model.shape(target)) == 2 and rng.random() < 0.25:
            flipped = transpose(var(key, model.shape(target)) if rng.random() < 0.5 else expr)
            claims.append(
                Claim(
                    names.claim_key(target + "_numerator", False),
                    target,
                    flipped,
                    text(flipped),
                    True,
                    True,
                    extra={"layout": "numerator"},
                    table=True,
                    uses=used_claims(flipped, claims),
                )
            )
            if rng.random() < 0.5:
                claims.append(
                    Claim(
                        names.claim_key(target + "_numerator_wrong", False),
                        target,
                        expr,
                        text(expr),
                        False,
                        False,
                        "layout: numerator but not transposed",
                        extra={"layout": "numerator"},
                        table=True,
                        uses=used_claims(expr, claims),
                    )
                )
            model.features.add("numerator_layout")
        if target in model.closed and rng.random() < 0.7:
            alt = model.closed[target]
            claims.append(Claim(names.claim_key(target, False), target, alt, text(alt), True, True, table=True))
        if rng.random() < 0.45:
            claims += mutants(claim, model, names, rng, claims, latex_style)
    post = [n for n, _ in model.lines[len(lines) :]]
    if post and rng.random() < 0.3:
        target = rng.choice(post)
        zero = Ex("mul", (ZERO, var(target, model.shape(target))))
        claims.append(Claim(names.claim_key(target, True), target, zero, text(zero), True, True))
        model.features.add("claim_after_loss")
    if rng.random() < 0.3:
        claims += entry_claims(model, names, rng, claims)
    if latex_style is not None:
        used = " ".join(s for c in claims if c.latex for s in c.latex)
        model.aliases = {k: v for k, v in latex_style.aliases.items() if k in used}
    if any(c.uses for c in claims):
        model.features.add("uses_earlier")
    if any(c.form == "latex" for c in claims):
        model.features.add("latex")
    return claims
