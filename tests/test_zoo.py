"""The derivation zoo: each classic derivation's correct formulas PROVED, its typical slips caught.

Each file of `examples/zoo/` lists its correct formulas before the line `# typical slips` and the slips after it
(`benchmarks.zoo.expected` reads that split). A correct formula that is not PROVED, or a slip that is not
REFUTED or a SHAPE ERROR, fails here; so does a proof whose witness disagrees (a PROVED claim is re-checked
numerically by the engine itself, and the witness's verdict is recorded with it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.zoo import CAUGHT, ZOO, expected
from derive_check.verify.results import Verdict
from derive_check.verify.run.engine import check_path

FILES = sorted(ZOO.glob("*.toml"))


def test_the_zoo_has_at_least_25_derivations_each_with_a_slip() -> None:
    """The issue's floor: 25 classic derivations, each a correct form and at least one typical slip."""
    assert len(FILES) >= 25
    for path in FILES:
        want = expected(path)
        assert any(want.values()) and not all(want.values()), path.name


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_correct_formulas_are_proved_and_slips_caught(path: Path) -> None:
    """Every correct formula PROVED (and witnessed) for every size, every slip REFUTED or a SHAPE ERROR."""
    result = check_path(path)
    assert not result.error, result.error
    verdicts = {c.name: c for c in result.claims}
    for name, correct in expected(path).items():
        claim = verdicts[name]
        if correct:
            assert claim.verdict is Verdict.PROVED, f"{name}: {claim.verdict.name} {claim.message}"
            assert claim.general is not None and claim.general.proved, f"{name}: {claim.general}"
        else:
            assert claim.verdict in {Verdict[v.replace(" ", "_")] for v in CAUGHT}, f"{name}: {claim.verdict.name}"
