"""Every formula of the five seed documents is settled: by a claim, an `[unchecked]` entry or a `[prose]` entry.

The documents are cut into formula spans by `tests/seedmap.py`; a span no derivation file maps fails here,
so a new or edited seed document cannot go unaccounted. README's seed tables and `docs/seed_map.md` are
generated from the same map (UPDATE_GOLDEN=1 rewrites them).
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from derive_check.derive.errors import InputError
from derive_check.derive.model.spec import ModelSpec, load_file, parse_spec
from derive_check.reports.machine import to_json
from derive_check.verify.results import FileResult
from tests import seedmap
from tests.conftest import ROOT, two_layer

README = ROOT / "README.md"
MAP_DOC = ROOT / "docs" / "seed_map.md"
SHARED = ROOT.parent / "shared" / "seeds"


@pytest.fixture(scope="module")
def specs() -> list[ModelSpec]:
    return [load_file(p) for p in seedmap.seed_files()]


def test_every_formula_span_of_every_seed_document_is_settled(specs: list[ModelSpec]) -> None:
    mapped = seedmap.coverage(specs)
    assert sorted(mapped) == ["000", "001", "002", "003", "004"]
    missing = [f"{seed}:{span.line}: {span.text}" for seed, rows in mapped.items() for span, by in rows if not by]
    assert not missing, "formulas no claim, [unchecked] or [prose] entry settles:\n" + "\n".join(missing)


def test_the_documents_have_the_formulas_counted_when_the_map_was_made(specs: list[ModelSpec]) -> None:
    """The cutter's rules against the documents as they are: a change to either shows here first."""
    counts = {seed: len(rows) for seed, rows in seedmap.coverage(specs).items()}
    assert counts == {"000": 17, "001": 17, "002": 30, "003": 20, "004": 10}


def test_every_map_entry_is_a_formula_of_its_document(specs: list[ModelSpec]) -> None:
    texts = {seed: {s.text for s in seedmap.spans(p.read_text())} for seed, p in seedmap.documents().items()}
    stale = [
        f"{Path(spec.file).name}: {entry.kind} {entry.name}"
        for spec in specs
        for text, entry in seedmap.own_entries(spec)
        if text not in texts[seedmap.document_of(spec)]
    ]
    assert not stale, "entries whose formula is not (or no longer) in the document:\n" + "\n".join(stale)


def test_every_seed_file_maps_a_document(specs: list[ModelSpec]) -> None:
    assert all(seedmap.document_of(spec) for spec in specs)


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared seed folder is not on this machine")
def test_the_bundled_documents_are_the_seeds_as_given() -> None:
    shared = {p.name: p.read_bytes() for p in SHARED.glob("*.txt")}
    bundled = {p.name: p.read_bytes() for p in seedmap.DOCUMENTS.glob("*.txt")}
    assert bundled == shared


def test_the_cutter_finds_each_kind_of_markup() -> None:
    text = "\n".join(
        [
            r"prose $x$ and \( W1 \) name things, they state nothing",
            r"inline \( a = b \) and $c = d$",
            r"$$\frac{\partial L}{\partial W} = X^T$$",
            r"\[ e \cdot f \]",
            r"a bare line: \mathbf{W} \leftarrow \mathbf{W} - \eta \delta",
            r"a bare line that states nothing: \hat{y} 是输出",
            r"\( g =  h ), 维度为 \( N = 2 \)",
        ]
    )
    found = [(s.line, s.kind, s.text) for s in seedmap.spans(text)]
    assert found == [
        (2, "inline", "a = b"),
        (2, "inline", "c = d"),
        (3, "display", r"\frac{\partial L}{\partial W} = X^T"),
        (4, "display", r"e \cdot f"),
        (5, "bare", r"a bare line: \mathbf{W} \leftarrow \mathbf{W} - \eta \delta"),
        (7, "inline", "g = h"),  # a \( closed by a bare ")": the span ends there, and the next \( is its own
        (7, "inline", "N = 2"),
    ]


def test_a_formula_dropped_from_the_map_is_reported(specs: list[ModelSpec]) -> None:
    seed_003 = next(s for s in specs if s.file.endswith("003_single_layer_column_vectors.toml"))
    dropped = replace(seed_003, prose=seed_003.prose[1:])
    rows = seedmap.coverage([dropped if s is seed_003 else s for s in specs])["003"]
    assert [span.text for span, by in rows if not by] == [seedmap.normal(seed_003.prose[0][0])]


def test_a_re_rendering_that_moves_dollar_signs_maps_to_the_same_formula() -> None:
    assert seedmap.normal(r"h1 $\cdot$ W2") == seedmap.normal(r"h1 \cdot   W2") == r"h1 \cdot W2"


def test_each_formula_with_several_readings_names_the_likely_one(specs: list[ModelSpec]) -> None:
    """One reading per formula is the likely intent: a claim marked so, or (when the document gives no formula
    for it, as δ3 and δ4 in seed 004) an [unchecked] entry for the same formula."""
    groups: dict[tuple[str, str], list[str]] = {}
    for spec in specs:
        for claim in spec.claims:
            if claim.intent:
                for written in claim.written:
                    groups.setdefault((seedmap.document_of(spec), written), []).append(claim.intent)
    unchecked = {(seedmap.document_of(s), statement) for s in specs for statement, _ in s.unchecked}
    assert len(groups) >= 5  # 002 ∂L/∂z; 004 ∂y/∂a1 and δ2 with g = softmax; 004 δ3 and δ4
    for key, intents in groups.items():
        likely = intents.count("likely") + (key in unchecked)
        assert likely == 1 and "alternative" in intents, key


def test_the_reports_say_which_reading_is_the_likely_intent(seed_results: dict[str, FileResult]) -> None:
    result = seed_results["004b_softmax_output.toml"]
    claims = json.loads(to_json([result]))["files"][0]["claims"]
    assert {c["claim"]: c["intent"] for c in claims} == {
        "dy_da1_jacobian": "alternative",
        "dy_da1_elementwise": "likely",
        "da1_jacobian": "alternative",
        "da1_elementwise": "likely",
    }
    likely = next(c for c in result.claims if c.name == "da1_elementwise")
    assert likely.reading_heading == "reading taken (the author's most likely intent)"


def test_readme_seed_tables_are_generated_from_the_map(
    specs: list[ModelSpec], seed_results: dict[str, FileResult]
) -> None:
    text = README.read_text(encoding="utf-8")
    start, end = text.index(seedmap.BEGIN), text.index(seedmap.END) + len(seedmap.END)
    generated = seedmap.readme_section(specs, seed_results)
    if os.environ.get("UPDATE_GOLDEN"):
        README.write_text(text[:start] + generated + text[end:], encoding="utf-8")
        text = README.read_text(encoding="utf-8")
        start, end = text.index(seedmap.BEGIN), text.index(seedmap.END) + len(seedmap.END)
    assert text[start:end] == generated


def test_the_seed_map_document_is_generated_from_the_map(
    specs: list[ModelSpec], seed_results: dict[str, FileResult]
) -> None:
    generated = seedmap.map_document(specs, seed_results)
    if os.environ.get("UPDATE_GOLDEN"):
        MAP_DOC.write_text(generated, encoding="utf-8")
    assert MAP_DOC.read_text(encoding="utf-8") == generated
    assert generated.count("\n| ") >= 94  # a row per formula span, plus the header rows


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ("source = { written = 'a = b' }", "source.place must name the place"),
        ("source = { place = '§1' }", "source.written must be the formula as written"),
        ("source = { place = '§1', written = [] }", "source.written must be the formula as written"),
        ("source = { place = '§1', written = 'a', page = 2 }", "unknown source key 'page'"),
        ("source = 3", "source must be a string or a table"),
        ('intent = "maybe"', "intent must be one of likely, alternative, got 'maybe'"),
    ],
)
def test_a_malformed_source_or_intent_is_an_error_at_its_line(entry: str, words: str) -> None:
    text = two_layer({}) + f'[claims.dW2]\nformula = "h1.T @ (P - Y) / N + 2 * reg * W2"\n{entry}\n'
    claim = parse_spec("m.toml", text).claims[0]
    assert claim.error is not None and words in claim.error.message
    assert claim.error.where.line == text.splitlines().index(entry) + 1


@pytest.mark.parametrize("table", ["prose", "unchecked"])
def test_a_prose_or_unchecked_entry_must_say_why(table: str) -> None:
    text = two_layer({"dW2": "h1.T @ (P - Y) / N + 2 * reg * W2"}) + f"[{table}]\n'a = b' = 3\n"
    with pytest.raises(InputError, match=f"\\[{table}\\] entries say why in words") as caught:
        parse_spec("m.toml", text)
    assert caught.value.where.line == len(text.splitlines())


def test_prose_entries_are_read_and_inherited_and_a_child_entry_replaces_its_parents(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(two_layer({}) + "[prose]\n'a = b' = \"a definition\"\n'e = f' = \"old\"\n")
    (tmp_path / "child.toml").write_text(
        'extends = "base.toml"\n[prose]\n\'c = d\' = "a restatement"\n\'e = f\' = "new"\n'
    )
    prose = load_file(tmp_path / "child.toml").prose
    assert prose == (("a = b", "a definition"), ("e = f", "new"), ("c = d", "a restatement"))


@pytest.mark.parametrize(
    ("entry", "words"),
    [("'' = \"why\"", "an empty key says nothing"), ("'a = b' = { c = \"d\" }", "a nested table is not one")],
)
def test_a_prose_key_is_a_formula_and_its_value_a_reason(entry: str, words: str) -> None:
    text = two_layer({"dW2": "h1.T @ (P - Y) / N + 2 * reg * W2"}) + f"[prose]\n{entry}\n"
    with pytest.raises(InputError, match=words):
        parse_spec("m.toml", text)


def test_a_forward_line_carries_its_source_to_its_shape_claim(seed_results: dict[str, FileResult]) -> None:
    shape = next(c for c in seed_results["003_single_layer_column_vectors.toml"].claims if c.name == "shape of h")
    assert shape.source == r"3.2: h = ReLU(z) \in \mathbb R^{D_x \times 1}"
