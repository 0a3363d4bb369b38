"""Entry claims (`for` / `when` / `label` / `of`): a true gradient's entry at every index, softmax's case analysis."""

from __future__ import annotations

import random

from tests.modelgen.backprop import Model
from tests.modelgen.claims import Claim, used_claims
from tests.modelgen.ir import TWO, Ex, entry, names_in, var
from tests.modelgen.layers import Names
from tests.modelgen.printing import text


def entry_claims(model: Model, names: Names, rng: random.Random, claims: list[Claim]) -> list[Claim]:
    """Claims about single entries: a true gradient's entry for every index, and softmax's case analysis."""
    out: list[Claim] = []
    index_names = [v for v in ("i", "j", "p", "q", "t", "k") if v not in model.names()]
    plain = [c for c in claims if c.believed and not c.mutation and c.form == "formula" and not c.extra]
    if plain:
        c = rng.choice(plain)
        shape = model.shape(c.target)
        dims = [d for d in shape if d != 1]
        if dims and all(isinstance(d, str) for d in dims):
            idx = index_names[: len(dims)]
            wrt = f"{c.target}[{', '.join(idx)}]"
            source = var(c.key, shape) if rng.random() < 0.5 else c.expr
            assert source is not None
            value = entry(source, ", ".join(idx))
            extra = {"wrt": wrt, "for": "{ " + ", ".join(f'{v} = "{d}"' for v, d in zip(idx, dims, strict=True)) + " }"}
            if len(idx) == 2 and rng.random() < 0.4:
                extra["when"] = f"{idx[0]} != {idx[1]}"
            out.append(
                Claim(
                    names.claim_key(c.target + "_entry", False),
                    c.target,
                    value,
                    text(value),
                    True,
                    True,
                    extra=extra,
                    table=True,
                    uses=used_claims(value, claims),
                    form="entry",
                )
            )
            wrong = Ex("mul", (TWO, value))
            out.append(
                Claim(
                    names.claim_key(c.target + "_entry_wrong", False),
                    c.target,
                    wrong,
                    text(wrong),
                    False,
                    False,
                    "change a constant",
                    extra=dict(extra),
                    table=True,
                    uses=used_claims(value, claims),
                    form="entry",
                )
            )
    softmax = model.softmax
    if softmax is not None and len(index_names) >= 2:
        z, p, y, k_size = softmax
        t, j = index_names[:2]
        z_only_softmax = sum(1 for _, e in model.before_loss() if z in names_in(e)) == 1
        cases = [
            (
                {"of": f"{p}[{t}]", "wrt": f"{z}[{t}]", "for": f'{{ {t} = "{k_size}" }}'},
                f"{p}[{t}] * (1 - {p}[{t}])",
                f"{p}[{t}] * {p}[{t}]",
            ),
            (
                {
                    "of": f"{p}[{t}]",
                    "wrt": f"{z}[{j}]",
                    "for": f'{{ {t} = "{k_size}", {j} = "{k_size}" }}',
                    "when": f"{j} != {t}",
                },
                f"-{p}[{t}] * {p}[{j}]",
                f"{p}[{t}] * {p}[{j}]",
            ),
        ]
        if z_only_softmax:
            cases += [
                (
                    {"wrt": f"{z}[{t}]", "for": f'{{ {t} = "{k_size}" }}', "label": f'{{ {y} = "{t}" }}'},
                    f"{p}[{t}] - 1",
                    f"{p}[{t}]",
                ),
                (
                    {
                        "wrt": f"{z}[{j}]",
                        "for": f'{{ {t} = "{k_size}", {j} = "{k_size}" }}',
                        "when": f"{j} != {t}",
                        "label": f'{{ {y} = "{t}" }}',
                    },
                    f"{p}[{j}]",
                    f"{p}[{j}] - 1",
                ),
            ]
        for extra, right_text, wrong_text in rng.sample(cases, rng.randint(1, len(cases))):
            out.append(
                Claim(
                    names.claim_key(z + "_case", False),
                    z,
                    None,
                    right_text,
                    True,
                    True,
                    extra=dict(extra),
                    table=True,
                    form="entry",
                )
            )
            if rng.random() < 0.6:
                out.append(
                    Claim(
                        names.claim_key(z + "_case_wrong", False),
                        z,
                        None,
                        wrong_text,
                        False,
                        False,
                        "entry formula of the other case",
                        extra=dict(extra),
                        table=True,
                        form="entry",
                    )
                )
        if rng.random() < 0.3:
            extra = {"wrt": f"{z}[{j}]", "for": f'{{ {t} = "{k_size}", {j} = "{k_size}" }}', "of": f"{p}[{t}]"}
            out.append(
                Claim(
                    names.claim_key(z + "_nowhen", False),
                    z,
                    None,
                    f"-{p}[{t}] * {p}[{j}]",
                    False,
                    False,
                    "condition dropped",
                    extra=extra,
                    table=True,
                    form="entry",
                )
            )
    if out:
        model.features.add("entry_claims")
    return out
