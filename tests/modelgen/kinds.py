"""Kinds: plain models, extends pairs, model mutants, naming violations; `generate` picks one from a seed."""

from __future__ import annotations

import random
from dataclasses import replace
from fractions import Fraction

from tests.modelgen.backprop import Model
from tests.modelgen.claims import Claim, Generated, used_claims, with_values
from tests.modelgen.emit import emit_claims
from tests.modelgen.ir import TWO, Ex, Unsupported, const, positions, var
from tests.modelgen.layers import FULL, Names, Profile, entry_count
from tests.modelgen.models import batch_model, column_model
from tests.modelgen.mutants import mutations, printable
from tests.modelgen.printing import NUMPY, text
from tests.modelgen.toml import claims_toml, model_toml


def model_with_claims(rng: random.Random, column: bool, profile: Profile = FULL) -> tuple[Model, Names, list[Claim]]:
    for _ in range(50):
        model = column_model(rng, profile) if column else batch_model(rng, profile)
        names = Names(rng)
        names.taken |= model.names()
        try:
            claims = emit_claims(model, names, rng)
        except Unsupported:
            continue
        if claims:
            return model, names, claims
    raise Unsupported("no model")


def generate(seed: int, profile: Profile = FULL) -> Generated:
    """One random derivation (and its metadata) from a seed."""
    rng = random.Random(seed)
    NUMPY["on"] = seed % 3 == 0  # a third of the models in numpy spellings; the seed's draws are unchanged
    roll = rng.random()
    if roll < 0.06:
        return naming_violation(seed, rng, profile)
    if roll < 0.20:
        return extends_pair(seed, rng, profile)
    if roll < 0.30:
        return model_mutant(seed, rng, profile)
    column = roll < 0.48
    model, _, claims = model_with_claims(rng, column, profile)
    kind = "column" if column else "batch"
    text_ = model_toml(model, claims, rng, f"derive-check model fuzz: seed {seed}, kind {kind}")
    return Generated(seed, kind, {"model.toml": text_}, "model.toml", claims, set(model.features))


def extends_pair(seed: int, rng: random.Random, profile: Profile = FULL) -> Generated:
    """A base file and a child that extends it: new size values, added claims, an overridden claim."""
    model, names, claims = model_with_claims(rng, rng.random() < 0.3, profile)
    base = model_toml(model, claims, rng, f"derive-check model fuzz: seed {seed}, extends base")
    child_sizes = dict(model.sizes)
    override = rng.random() < 0.6
    if override:
        for s in rng.sample(list(child_sizes), rng.randint(1, min(2, len(child_sizes)))):
            choices = [v for v in range(2, 7) if v not in child_sizes.values()]
            if choices:
                child_sizes[s] = rng.choice(choices)
        trial = replace(model, sizes=child_sizes)
        if entry_count(trial) > profile.max_entries:
            child_sizes = dict(model.sizes)
            override = False
    effective = list(claims)
    child_claims: list[Claim] = []
    referenced = {u for c in claims for u in c.uses}
    plain_true = [
        c
        for c in claims
        if c.believed and not c.mutation and c.key not in referenced and c.expr is not None and c.form != "entry"
    ]
    if plain_true and rng.random() < 0.7:
        victim = rng.choice(plain_true)
        made = [(op, m, s) for op, m, s in mutations(victim.expr, model, claims) if m != victim.expr]  # type: ignore[arg-type]
        made = [x for x in made if printable(x[1]) and text(x[1]) != victim.formula]
        if made:
            op, m, literal = rng.choice(made)
            wrong = Claim(
                victim.key,
                victim.target,
                m,
                text(m),
                bool(literal),
                False,
                "override: " + op,
                table=True,
                sizes_used=literal,
                extra=dict(victim.extra),
            )
            child_claims.append(wrong)
            effective = [wrong if c.key == victim.key else c for c in effective]
    for c in rng.sample(claims, min(len(claims), rng.randint(1, 3))):
        if c.expr is None or c.form == "entry" or not c.believed or c.mutation:
            continue
        alt = with_values(c.expr, model, rng, 0.5)
        added = Claim(
            names.claim_key(c.target + "_child", False),
            c.target,
            alt,
            text(alt),
            True,
            True,
            table=True,
            uses=used_claims(alt, claims),
            extra=dict(c.extra),
        )
        if rng.random() < 0.5 and c.key not in {w.key for w in child_claims}:
            added = replace(added, expr=var(c.key, model.shape(c.target)), formula=c.key, uses={c.key})
        child_claims.append(added)
        effective.append(added)
    for c in effective:  # size literals written by mutants hold at the child's sizes only if the values are kept
        if c.sizes_used:
            c.believed = all(child_sizes[s] == v for s, v in c.sizes_used.items())
    lines = [
        f"# derive-check model fuzz: seed {seed}, extends child",
        'extends = "base.toml"',
        f'title = "child of seed {seed}"',
        f'source = "tests/modelgen seed {seed}"',
    ]
    if rng.random() < 0.5:
        lines.append('note = "sizes and claims changed by the child"')
    if override:
        lines += ["", "[sizes]"] + [f"{k} = {v}" for k, v in child_sizes.items() if v != model.sizes[k]]
    if child_claims:
        lines += claims_toml(child_claims, rng)
    features = set(model.features) | {"extends"}
    if override:
        features.add("extends_sizes")
    if any(c.mutation.startswith("override") for c in child_claims):
        features.add("extends_override")
    files = {"base.toml": base, "child.toml": "\n".join(lines) + "\n"}
    return Generated(seed, "extends", files, "child.toml", effective, features)


MODEL_MUTATIONS = ("activation swapped", "loss scale changed", "bias dropped", "sign flipped", "constant changed")


def model_mutant(seed: int, rng: random.Random, profile: Profile = FULL) -> Generated:
    """A model with one forward line changed, checked against the claims derived for the original."""
    model, _, claims = model_with_claims(rng, rng.random() < 0.35, profile)
    lines = model.before_loss()
    options: list[tuple[str, int, Ex]] = []
    for k, (_, e) in enumerate(lines):
        for node, rebuild in positions(e):
            if node.op in ("relu", "sigmoid", "tanh", "identity", "leaky"):
                for other in ("relu", "sigmoid", "tanh", "identity"):
                    if other != node.op:
                        options.append(("activation swapped", k, rebuild(replace(node, op=other, value=Fraction(0)))))
            if node.op == "size":
                options.append(("loss scale changed", k, rebuild(Ex("mul", (TWO, node)))))
            if node.op == "add" and node.args[1].op == "var" and node.args[1].name in model.params:
                options.append(("bias dropped", k, rebuild(node.args[0])))
            if node.op == "neg":
                options.append(("sign flipped", k, rebuild(node.args[0])))
            if node.op == "const" and node.value not in (0, 1):
                options.append(("constant changed", k, rebuild(const(node.value * 3))))
    if not options:  # nothing else to change: the whole loss scaled
        k = len(lines) - 1
        options.append(("loss scale changed", k, Ex("mul", (TWO, lines[k][1]), shape=lines[k][1].shape)))
    what, k, changed = rng.choice(options)
    model.lines[k] = (model.lines[k][0], changed)
    for c in claims:
        c.believed = c.believed_all = None
    header = f"derive-check model fuzz: seed {seed}, model mutant ({what} in line {lines[k][0]})"
    text_ = model_toml(model, claims, rng, header)
    return Generated(
        seed, "model_mutant", {"model.toml": text_}, "model.toml", claims, set(model.features) | {"model_mutant"}
    )


VIOLATIONS = (
    "claim key equals a forward line",
    "claim key equals a parameter",
    "claim key equals a size",
    "index variable equals a model name",
    "wrt names a claim",
    "forward line named like a declared derivative",
    "claim key equals a declared function",
)


def naming_violation(seed: int, rng: random.Random, profile: Profile = FULL) -> Generated:
    """A valid model with one naming rule broken on purpose: the engine must reject it (file or claim ERROR)."""
    model, names, claims = model_with_claims(rng, rng.random() < 0.3, profile)
    what = rng.choice(VIOLATIONS)
    param = next(iter(model.params))
    candidates = [c for c in claims if c.believed and c.expr is not None and c.form != "entry"]
    good = next((c for c in candidates if c.form == "formula"), candidates[0] if candidates else None)
    if good is None:
        what = "forward line named like a declared derivative"
        good = claims[0]
    bad_key = ""
    if what == "claim key equals a forward line":
        bad_key = rng.choice([n for n, _ in model.lines if n != model.loss] or [model.loss])
        claims.append(Claim(bad_key, good.target, good.expr, good.formula, None, None, table=True))
    elif what == "claim key equals a parameter":
        bad_key = param
        claims.append(Claim(bad_key, good.target, good.expr, good.formula, None, None, table=True))
    elif what == "claim key equals a size":
        bad_key = next(iter(model.sizes))
        claims.append(Claim(bad_key, good.target, good.expr, good.formula, None, None, table=True))
    elif what == "index variable equals a model name":
        shape = model.shape(good.target)
        dims = [d for d in shape if isinstance(d, str)]
        if not dims:
            what = "claim key equals a parameter"
            bad_key = param
            claims.append(Claim(bad_key, good.target, good.expr, good.formula, None, None, table=True))
        else:
            clash = param
            bad_key = names.claim_key(good.target + "_clash", False)
            idx = [clash, *["i", "j"][: len(dims) - 1]]
            formula = f"({good.formula})[{', '.join(idx)}]"
            extra = {
                "wrt": f"{good.target}[{', '.join(idx)}]",
                "for": "{ " + ", ".join(f'{v} = "{d}"' for v, d in zip(idx, dims, strict=True)) + " }",
            }
            claims.append(Claim(bad_key, good.target, None, formula, None, None, extra=extra, table=True))
    elif what == "wrt names a claim":
        bad_key = names.claim_key(good.key + "_of_claim", False)
        claims.append(Claim(bad_key, good.key, None, good.key, None, None, table=True))
    elif what == "forward line named like a declared derivative":
        fname = next((f for f, kind in model.functions.items() if kind == "elementwise"), None)
        if fname is None:
            fname = "f"
            model.functions[fname] = "elementwise"
        loss_index = [n for n, _ in model.lines].index(model.loss)
        first = model.lines[0]
        model.lines.insert(
            loss_index, (f"d{fname}", Ex("mul", (TWO, var(first[0], first[1].shape)), shape=first[1].shape))
        )
    else:
        fname = next((f for f, kind in model.functions.items() if kind == "elementwise"), None)
        if fname is None:
            fname = "f"
            model.functions[fname] = "elementwise"
        bad_key = fname
        claims.append(Claim(bad_key, good.target, good.expr, good.formula, None, None, table=True))
    for c in claims:
        c.believed = c.believed_all = None
    text_ = model_toml(model, claims, rng, f"derive-check model fuzz: seed {seed}, naming violation: {what}")
    return Generated(seed, "naming", {"model.toml": text_}, "model.toml", claims, {"naming_violation"}, what, bad_key)
