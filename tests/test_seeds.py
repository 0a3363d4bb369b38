"""Every claim of the five seed documents, with the verdict and the explanation derive-check gives.

This table is the project's reason to exist: a change that alters any seed verdict must change it
here, on purpose. Diagnoses must come with a corrected formula the engine PROVED in the same run.
"""

from __future__ import annotations

import pytest

from derive_check.verify.results import FileResult, Verdict
from tests.conftest import EXAMPLES

SEEDS = EXAMPLES / "seeds"
P, R, S = Verdict.PROVED, Verdict.REFUTED, Verdict.SHAPE_ERROR
MISSING_N = "times 2 (= N: a missing 1/N?)"
TIMES_2 = "times 2"  # a per-sample sum with masks is outside the index calculus: "= N" is not settled for all N

EXPECTED: dict[str, dict[str, tuple[Verdict, str]]] = {
    "000_two_layer_linear_algebra.toml": {
        "dscores": (R, MISSING_N),
        "dW2": (R, "a term is missing its 1/N"),
        "db2": (R, MISSING_N),
        "dh1": (R, MISSING_N),
        "dW1": (R, "a term is missing its 1/N"),
        "db1": (R, TIMES_2),
        "dscores_dW2": (P, ""),
    },
    "002a_softmax_single_sample.toml": {
        "dL_dyhat_t": (P, ""),
        "dyhat_t_dz_t": (P, ""),
        "dL_dz_t": (P, ""),
        "dyhat_t_dz_j": (P, ""),
        "dL_dz_j": (P, ""),
        "dz": (P, ""),
        "dW2": (P, ""),
        "dz_literal": (R, "an extra term y"),  # the vector [ŷ_1, …, ŷ_{t−1}, …, ŷ_K] read literally: ŷ
        "dW2_row": (P, ""),
    },
    "002b_batch_relu_l2.toml": {
        "dW2": (P, ""),
        "dW2_middle_step": (R, "a term is missing its 1/m"),
        "db2": (S, "not summed over the batch"),
        "dW1": (R, "the ReLU mask of X1 on the wrong quantity"),
        "db1": (S, "not summed over the batch (axis 0); divided by n instead of m"),
        "dZ": (R, "times 2 (= m: a missing 1/m?)"),  # part ②'s ∂L/∂z = Ŷ − Y for the loss with 1/m
        "dX1_dH": (P, ""),
        "dZ_dX1": (P, ""),
        "dH_dW1": (P, ""),
    },
    "003_single_layer_column_vectors.toml": {
        "shape of h": (S, ""),
        "dTheta": (P, ""),
        "dz": (P, ""),
        "dz_relu_prime": (P, ""),
    },
    "004_generic_activations.toml": {
        "dy_da1": (P, ""),
        "da1": (P, ""),
        "dW1": (P, ""),
        "db1": (R, "missing the factor f'(z1) of a1"),
        "dW2_what_delta3_must_be": (P, ""),
        "dW2_delta3_as_named": (S, ""),  # δ3 read as the text names it: δ2, the gradient of a1
        "db2_delta4_as_named": (S, ""),  # δ4 read as the text names it: δ1, the gradient of W1
        "da1_dW1": (P, ""),
    },
    "004b_softmax_output.toml": {  # g = softmax: g′ entry by entry (the likely intent) or as the Jacobian
        "dy_da1_jacobian": (P, ""),
        "dy_da1_elementwise": (R, "softmax's derivative taken element-wise"),
        "da1_jacobian": (P, ""),
        "da1_elementwise": (R, "softmax's derivative taken element-wise"),
    },
}


EXPECTED["001_two_layer_rerendered.toml"] = EXPECTED["000_two_layer_linear_algebra.toml"]  # 001 re-renders 000


@pytest.fixture(scope="module")
def results(seed_results: dict[str, FileResult]) -> dict[str, FileResult]:
    return seed_results


def test_every_seed_file_is_pinned(results: dict[str, FileResult]) -> None:
    assert sorted(results) == sorted(EXPECTED)


@pytest.mark.parametrize(("file", "claim"), [(f, c) for f, claims in EXPECTED.items() for c in claims])
def test_seed_claim_verdict_and_explanation(results: dict[str, FileResult], file: str, claim: str) -> None:
    found = {c.name: c for c in results[file].claims}
    verdict, words = EXPECTED[file][claim]
    assert found[claim].verdict is verdict, found[claim].message
    assert words.lower() in found[claim].diagnosis.lower()
    if found[claim].diagnosis:
        assert found[claim].corrected, "a diagnosis must come with the corrected formula it proved"


def test_no_seed_claim_is_left_unpinned(results: dict[str, FileResult]) -> None:
    for file, result in results.items():
        assert [c.name for c in result.claims] == list(EXPECTED[file])


def test_every_refuted_seed_claim_has_a_counterexample(results: dict[str, FileResult]) -> None:
    for result in results.values():
        for claim in result.claims:
            if claim.verdict is Verdict.REFUTED:
                assert claim.counterexample is not None


def test_seed_001_shares_the_claims_of_seed_000(results: dict[str, FileResult]) -> None:
    a, b = results["000_two_layer_linear_algebra.toml"], results["001_two_layer_rerendered.toml"]
    assert [(c.name, c.formula) for c in a.claims] == [(c.name, c.formula) for c in b.claims]
    assert "re-rendering" in b.title and any("seed 000" in n for n in b.notes)


def test_what_cannot_be_checked_is_reported(results: dict[str, FileResult]) -> None:
    notes = " ".join(results["004_generic_activations.toml"].notes)
    assert "δ3 and δ4 are never defined" in notes


def test_seed_claims_carry_where_they_are_stated(results: dict[str, FileResult]) -> None:
    for result in results.values():
        for claim in result.claims:
            assert claim.source or claim.name.startswith("shape of"), (result.file, claim.name)


def test_every_seed_file_names_its_source_document() -> None:
    seeds = {p.name.split("_")[0] for p in (SEEDS / "documents").glob("*.txt")}
    text = " ".join(p.read_text() for p in SEEDS.glob("*.toml"))
    assert seeds == {"000", "001", "002", "003", "004"}
    for number in (
        "000_7bae4a8c2386e030",
        "001_e2ebbb1dc4d9723c",
        "002_ab2f760878ff9db4",
        "003_cbaa676c4edab9fd",
        "004_fc31854057c7e4a1",
    ):
        assert number in text
