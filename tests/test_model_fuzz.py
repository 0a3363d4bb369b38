"""Differential fuzzing of whole models, a fixed-seed CI sample (the full run: python benchmarks/fuzz_models.py).

Models come from `tests/modelgen/`; truth comes only from the independent witness (`verify.witness.check`), never
from the engine. The sample must contain no lie (false PROVED, false "all sizes"), no INCONSISTENT verdict, and
must really exercise what the generator is for, so that it cannot pass vacuously.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from benchmarks.fuzz_models import ModelRun, run_models, tally
from tests.modelgen import build, generate, numeric_check

CI_SEED = 20240
CI_COUNT = 40
CI_BUDGET = 3.0  # per claim; the light profile (depth <= 2, at most 80 entries) keeps the sample near a minute
FEATURES = (
    "identity_line",
    "after_loss",
    "written_copy",
    "extends",
    "latex",
    "entry_claims",
    "uses_earlier",
    "column",
    "labels",  # the numpy language of the zoo: integer labels, slices and concatenation, sqrt, max over an axis
    "sliced_gates",
    "sqrt",
    "max",
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> list[ModelRun]:
    """The CI sample, checked by the engine and judged by the witness."""
    pytest.importorskip("derive_check.verify.witness.check")
    out = tmp_path_factory.mktemp("fuzz_lies")
    return run_models(
        CI_COUNT, CI_SEED, jobs=2, randomized=False, out=out, budget=CI_BUDGET, progress=False, light=True
    )


@pytest.mark.slow
def test_no_generated_model_crashes_the_engine(sample: list[ModelRun]) -> None:
    assert [r.crash for r in sample if r.crash] == []


@pytest.mark.slow
def test_no_false_claim_is_proved(sample: list[ModelRun]) -> None:
    tallies, _, _, _ = tally(sample)
    lies = [line for r in sample for line in r.lies if line.startswith("false PROVED")]
    assert sum(t.false_proved for t in tallies.values()) == 0, lies


@pytest.mark.slow
def test_no_claim_false_at_other_sizes_is_proved_for_all_sizes(sample: list[ModelRun]) -> None:
    tallies, _, _, _ = tally(sample)
    lies = [line for r in sample for line in r.lies if line.startswith("false all sizes")]
    assert sum(t.false_all for t in tallies.values()) == 0, lies


@pytest.mark.slow
def test_the_engine_and_its_witness_never_disagree(sample: list[ModelRun]) -> None:
    assert [line for r in sample for line in r.inconsistent] == []


@pytest.mark.slow
def test_files_breaking_the_naming_rules_are_rejected(sample: list[ModelRun]) -> None:
    accepted = [(r.seed, r.violation) for r in sample if r.kind == "naming" and not r.violation_rejected]
    assert accepted == []


@pytest.mark.slow
def test_the_sample_exercises_every_generator_feature(sample: list[ModelRun]) -> None:
    seen = set().union(*(r.features for r in sample))
    assert set(FEATURES) <= seen, sorted(set(FEATURES) - seen)


@pytest.mark.slow
def test_the_sample_is_not_vacuous(sample: list[ModelRun]) -> None:
    tallies, _, _, _ = tally(sample)
    assert sum(t.proved_true for t in tallies.values()) >= 100  # true claims really were proved
    assert sum(t.caught_false for t in tallies.values()) >= 20  # and mutants really were refuted
    assert {"batch", "column", "extends"} <= set(tallies)


def test_generated_files_are_valid_toml_with_the_claims_the_metadata_lists(tmp_path: Path) -> None:
    import tomllib

    for seed in range(60):
        generated = generate(seed)
        data = {name: tomllib.loads(body) for name, body in generated.files.items()}
        main = data[generated.main]
        keys = set(main.get("claims", {}))
        if "extends" in main:
            keys |= set(data[main["extends"]].get("claims", {}))
        assert {c.key for c in generated.claims} == keys, seed


def test_the_reference_emitter_agrees_with_finite_differences() -> None:
    """The generator's own check (numpy over its IR, not the engine, not the witness): true claims are true."""
    checked = wrong = 0
    for seed in range(80):
        model, claims = build(seed)
        verdicts = numeric_check(model, claims, random.Random(seed))
        for claim in claims:
            if claim.key in verdicts and claim.believed and not claim.mutation:
                checked += 1
                wrong += not verdicts[claim.key]
    assert checked > 300
    assert wrong == 0


def test_the_generator_writes_the_zoo_spellings_the_engines_must_meet() -> None:
    """Some models write softmax out with the max shift and sigmoid through exp, as numpy code does; the truth of
    their claims still comes from the emitter's softmax and sigmoid rules, so the engine must see through both."""
    texts = [g.files[g.main] for g in (generate(seed) for seed in range(200))]
    assert sum("np.max(" in t and "keepdims=True" in t for t in texts) >= 3
    assert sum("1 / (1 + np.exp(-(" in t for t in texts) >= 3
