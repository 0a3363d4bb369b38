"""Shared helpers: building small derivation files and checking one claim."""

from __future__ import annotations

from pathlib import Path

import pytest

from derive_check.derive.exact.network import build_network
from derive_check.derive.model.spec import parse_spec
from derive_check.verify.check.session import Session
from derive_check.verify.decide.equality import Equality
from derive_check.verify.results import ClaimResult, FileResult
from derive_check.verify.run.engine import check_claim, check_path
from derive_check.verify.witness.crosscheck import crosscheck

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def seed_results() -> dict[str, FileResult]:
    """Every seed derivation file, checked once per test process (the seed tests pin its verdicts)."""
    return {path.name: check_path(path) for path in sorted((EXAMPLES / "seeds").glob("*.toml"))}


TWO_LAYER_HEAD = """
[sizes]
N = 2
D = 3
H = 4
C = 5
[inputs]
X = "N x D"
Y = "N x C, onehot"
reg = "scalar"
[params]
W1 = "D x H"
b1 = "H"
W2 = "H x C"
b2 = "C"
[forward]
h1 = "relu(X @ W1 + b1)"
scores = "h1 @ W2 + b2"
P = "softmax(scores, axis=1)"
L = "-sum(Y * log(P)) / N + reg * (sum(W1**2) + sum(W2**2))"
"""


def two_layer(claims: dict[str, str], head: str = TWO_LAYER_HEAD) -> str:
    """A two-layer derivation file with the given claims (name -> formula, or 'target: formula')."""
    lines = ["[claims]"]
    for name, formula in claims.items():
        if ": " in formula:
            target, formula = formula.split(": ", 1)
            lines.append(f'{name} = {{ wrt = "{target}", formula = "{formula}" }}')
        else:
            lines.append(f'{name} = "{formula}"')
    return head + "\n".join(lines) + "\n"


SOFTMAX_HEAD = """
title = "softmax and log of P"
[sizes]
N = 2
C = 3
[inputs]
Y = "N x C, onehot"
[params]
scores = "N x C"
[forward]
P = "softmax(scores, axis=1)"
L = "-sum(Y * log(P)) / N"
"""  # a softmax cross-entropy on free scores: dP, dscores


def check_text(text: str, budget: float = 30.0) -> list[ClaimResult]:
    """Every claim of a derivation file given as text, checked in order."""
    spec = parse_spec("test.toml", text)
    net = build_network(spec)
    session = Session(net, Equality(net), dict(net.values))
    return crosscheck(spec, [check_claim(session, claim, budget) for claim in spec.claims])  # the witness too


@pytest.fixture(autouse=True)
def _private_proof_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read or write the developer's .derive-check-cache/."""
    monkeypatch.setenv("DERIVE_CHECK_CACHE", str(tmp_path_factory.mktemp("proof-cache")))


@pytest.fixture
def examples() -> Path:
    """The bundled examples directory."""
    return EXAMPLES
