"""A fast sample of the mutation and equivalence suites (the full run: python benchmarks/soundness.py).

The oracle that decides whether a mutant is wrong is the independent witness (verify/witness:  its own mpmath
interpreter, 60-digit central differences), never the engine under test. Zero false PROVED is the bar; an
equivalent rewrite must be PROVED.
"""

from __future__ import annotations

import pytest

from benchmarks.soundness import generate, report, run

pytestmark = pytest.mark.slow

SAMPLE = 70


@pytest.fixture(scope="module")
def mutation() -> dict[str, int]:
    return report("mutation", run("mutation", SAMPLE, seed=7))


@pytest.fixture(scope="module")
def equivalence() -> dict[str, int]:
    return report("equivalence", run("equivalence", SAMPLE // 2, seed=7))


def test_the_suites_are_big_enough_to_mean_something() -> None:
    assert len(generate("mutation", None, 1)) >= 500
    assert len(generate("equivalence", None, 1)) >= 100


def test_no_wrong_mutant_is_proved(mutation: dict[str, int]) -> None:
    assert mutation.get("not equivalent", 0) >= SAMPLE // 2  # the sample really contains wrong formulas
    assert mutation.get("false PROVED", 0) == 0
    assert mutation.get("false proof for all sizes", 0) == 0  # the index engine runs on every mutant


def test_equivalent_rewrites_are_mostly_proved_for_all_sizes_too(equivalence: dict[str, int]) -> None:
    assert equivalence.get("proved for all sizes too", 0) >= equivalence.get("PROVED", 0) // 2


def test_wrong_mutants_are_refuted_or_shape_errors_not_left_undecided(mutation: dict[str, int]) -> None:
    caught = mutation.get("not proved (REFUTED)", 0) + mutation.get("not proved (SHAPE ERROR)", 0)
    assert caught == mutation.get("not equivalent", 0)


def test_every_equivalent_rewrite_is_proved(equivalence: dict[str, int]) -> None:
    assert equivalence.get("PROVED", 0) >= 20  # the rest of the sample is not equal per the oracle
    assert not [k for k in equivalence if k.startswith("false")]


def test_the_oracle_alone_tells_a_correct_formula_from_a_sign_flip() -> None:
    import random

    from benchmarks.soundness import oracle, sources
    from derive_check.derive.tree import Apply

    source = next(s for s in sources() if s.claim.name == "dW2" and s.spec.file.endswith("two_layer.toml"))
    assert oracle(source, source.tree, random.Random(1)) is True
    assert oracle(source, Apply("neg", (source.tree,)), random.Random(1)) is False
