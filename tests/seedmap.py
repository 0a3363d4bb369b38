"""The seed documents' formulas, and the map from each one to what settles it (a claim, unchecked, prose).

A formula span is a `$$…$$`, `\\[…\\]`, `\\(…\\)` or `$…$` block, or a line outside those blocks that carries
LaTeX commands or Unicode math (the documents' markup is often broken, so a formula can sit bare on a
line). Display blocks all count; inline blocks and bare lines count when they state something: an
equality (`=`, `+=`) or an update (`\\leftarrow`, `←`). A span is compared by its text with every `$`
removed and whitespace collapsed, the same normalisation the map's entries get, so a re-rendering that
only moves `$` signs (seed 001) maps to the same entries.

The map of a document is the union, over the derivation files whose `source` names it, of the claims'
`source.written`, the `[unchecked]` keys and the `[prose]` keys. Run as `python -m tests.seedmap` to print
the spans of every document with the entries covering them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from derive_check.derive.model.spec import ModelSpec, load_file
from derive_check.verify.results import ClaimResult, FileResult

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "examples" / "seeds"
DOCUMENTS = SEEDS / "documents"
BLOCK = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|\\\((.+?)\\\)|\$(.+?)\$", re.S)
MATH = re.compile(r"\\[A-Za-z]+|[∂∑Σ⊙←∈≤≥≠∇]")
STATES = re.compile(r"=|\\leftarrow|←")
DOC_ID = re.compile(r"(\d{3})_[0-9a-f]{16}")


@dataclass(frozen=True)
class Span:
    """One formula of a document: where it starts, how it is set, and its normalised text."""

    line: int
    kind: str  # "display", "inline" or "bare"
    text: str


@dataclass(frozen=True)
class Entry:
    """One entry of a document's map: a claim (by name), an unchecked statement or a prose formula."""

    kind: str  # "claim", "unchecked" or "prose"
    name: str  # the claim's name; for unchecked and prose, the formula as written
    why: str  # the claim's reading; for unchecked and prose, the reason
    file: str  # the derivation file that declares it


def normal(text: str) -> str:
    """A formula's text with every `$` removed and runs of whitespace made one space."""
    return " ".join(text.replace("$", "").split())


def spans(text: str) -> list[Span]:
    """Every formula span of a document, in document order."""
    found: list[Span] = []
    taken: list[tuple[int, int]] = []
    pos = 0
    while match := BLOCK.search(text, pos):
        group = next(k for k in range(1, 5) if match.group(k) is not None)
        body, end = match.group(group), match.end()
        if group == 3 and "\\(" in body:  # a \( closed by a bare ")": the span ends there, the next \( is its own
            inner = body.index("\\(")
            close = body.rfind(")", 0, inner)
            body, end = body[: close if close >= 0 else inner], match.start(group) + inner
        kind = "display" if group in (1, 2) else "inline"
        line = text.count("\n", 0, match.start()) + 1
        if kind == "display" or STATES.search(body):
            found.append(Span(line, kind, normal(body)))
        taken.append((match.start(), end))
        pos = end
    outside = "".join(
        re.sub(r"[^\n]", " ", text[a:b]) if k % 2 else text[a:b] for k, (a, b) in enumerate(_cuts(text, taken))
    )
    for number, line_text in enumerate(outside.splitlines(), start=1):
        if MATH.search(line_text) and STATES.search(line_text):
            found.append(Span(number, "bare", normal(line_text)))
    return sorted(found, key=lambda s: s.line)


def _cuts(text: str, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The text cut into alternating pieces: outside a block, inside one, outside, ..."""
    pieces, at = [], 0
    for start, end in taken:
        pieces += [(at, start), (start, end)]
        at = end
    return [*pieces, (at, len(text))]


def document_of(spec: ModelSpec) -> str:
    """The seed number ("000") of the document a derivation file's `source` names, or ""."""
    match = DOC_ID.search(spec.source)
    return match.group(1) if match else ""


def entries(spec: ModelSpec) -> list[tuple[str, Entry]]:
    """(normalised formula, entry) for every formula a derivation file maps."""
    out = [(normal(w), Entry("claim", c.name, c.reading, spec.file)) for c in spec.claims for w in c.written]
    for line in spec.forward:  # a forward line the document states: its declared shape is a claim
        for w in line.provenance.written:
            why = f"definition: [forward] {line.name}"
            out.append((normal(w), Entry("claim", f"shape of {line.name}", why, spec.file)))
    out += [(normal(k), Entry("unchecked", k, why, spec.file)) for k, why in spec.unchecked]
    out += [(normal(k), Entry("prose", k, why, spec.file)) for k, why in spec.prose]
    return out


def own_entries(spec: ModelSpec) -> list[tuple[str, Entry]]:
    """The entries a file declares itself (not those it inherits through `extends`)."""
    inherited = {(text, e.kind, e.name) for text, e in entries(load_file(Path(spec.base)))} if spec.base else set()
    return [(text, e) for text, e in entries(spec) if (text, e.kind, e.name) not in inherited]


def seed_files() -> list[Path]:
    """The seed derivation files, in order."""
    return sorted(SEEDS.glob("*.toml"))


def documents() -> dict[str, Path]:
    """Seed number -> the document's path."""
    return {p.name[:3]: p for p in sorted(DOCUMENTS.glob("*.txt"))}


def coverage(specs: Iterable[ModelSpec]) -> dict[str, list[tuple[Span, list[Entry]]]]:
    """For every document: each span with the entries that cover it (an empty list: not covered)."""
    mapped: dict[str, dict[str, list[Entry]]] = {}
    for spec in specs:
        for text, entry in entries(spec):
            mapped.setdefault(document_of(spec), {}).setdefault(text, []).append(entry)
    return {
        seed: [(span, mapped.get(seed, {}).get(span.text, [])) for span in spans(path.read_text(encoding="utf-8"))]
        for seed, path in documents().items()
    }


BEGIN, END = "<!-- seed map: generated by tests/test_seed_map.py -->", "<!-- end of seed map -->"
INTENT = {"likely": " *(the author's most likely intent)*", "alternative": " *(another reading)*"}


def cell(text: str) -> str:
    """Text for a markdown table cell (pipes escaped, one line)."""
    return " ".join(text.replace("|", "\\|").split())


def code(text: str) -> str:
    """A formula as a markdown code span."""
    return f"`{cell(text)}`" if text else ""


def counts(rows: list[tuple[Span, list[Entry]]]) -> dict[str, int]:
    """How many entries of each kind settle a document's spans (a span may carry a claim and an unchecked entry;
    one claim may settle several spans)."""
    out: dict[str, set[tuple[str, str]]] = {"claim": set(), "unchecked": set(), "prose": set()}
    for _, covering in rows:
        for e in covering:
            out[e.kind].add((e.file, e.name))
    return {kind: len(found) for kind, found in out.items()}


def first_lines(rows: list[tuple[Span, list[Entry]]]) -> dict[tuple[str, str, str], int]:
    """(file, kind, name) of each entry -> the line of the first span it covers."""
    first: dict[tuple[str, str, str], int] = {}
    for span, covering in rows:
        for e in covering:
            first.setdefault((e.file, e.kind, e.name), span.line)
    return first


def verdict_rows(
    specs: list[ModelSpec], results: dict[str, FileResult], seed: str, rows: list[tuple[Span, list[Entry]]]
) -> list[tuple[int, str]]:
    """README rows for one document: each claim and unchecked entry, in document order."""
    first = first_lines(rows)
    out: list[tuple[int, str]] = []
    for spec in (s for s in specs if document_of(s) == seed):
        name = Path(spec.file).name
        label = name.split("_")[0]  # 002a, 002b: one document, several derivation files
        if spec.base:
            base = Path(spec.base).name
            words = f"(a re-rendering of {base[:3]}) | `extends` {base} | as {base[:3]}"
            out.append(
                (0, f"| {label} | whole document | {words} | the same formulas, so the same claims and verdicts |")
            )
        own = {(e.kind, e.name) for _, e in own_entries(spec)}
        claims = {c.name: (c.place, c.written) for c in spec.claims}
        claims |= {f"shape of {f.name}": (f.provenance.place, f.provenance.written) for f in spec.forward}
        for claim in results[name].claims:
            place, spans = claims.get(claim.name, ("", ()))
            if spec.base and ("claim", claim.name) not in own:
                continue
            line = first.get((spec.file, "claim", claim.name), 10**6)
            place = place or claim.source or "—"
            spans = spans or (claim.formula,)
            written = " ; ".join(code(w) for w in spans)
            out.append((line, _claim_row(label, place, f"`{claim.name}`: {written}", claim)))
        for statement, why in spec.unchecked:
            if ("unchecked", statement) in own:
                line = first.get((spec.file, "unchecked", statement), 10**6)
                out.append((line, f"| {label} | line {line} | {code(statement)} | — | not checked | {cell(why)} |"))
    return out


def _claim_row(label: str, place: str, claim_text: str, claim: ClaimResult) -> str:
    reading = cell(claim.reading) + INTENT.get(claim.intent, "")
    why = cell(claim.diagnosis or ("" if claim.verdict.passed else claim.message))
    if claim.corrected:
        why += f"; {code(claim.corrected)} is proved"
    return f"| {label} | {cell(place)} | {claim_text} | {reading} | {claim.verdict.label} | {why} |"


def readme_section(specs: list[ModelSpec], results: dict[str, FileResult]) -> str:
    """The README's seed tables: formulas per document and how each is settled, then every verdict."""
    mapped = coverage(specs)
    out = [
        BEGIN,
        "",
        "| seed | formula spans | claims settling them | unchecked entries | prose entries | claims in all |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for seed, rows in mapped.items():
        n = counts(rows)
        claims = sum(len(results[Path(s.file).name].claims) for s in specs if document_of(s) == seed)
        out.append(f"| {seed} | {len(rows)} | {n['claim']} | {n['unchecked']} | {n['prose']} | {claims} |")
    out += ["", "| file | place | claim: as written | reading | verdict | diagnosis |", "|---|---|---|---|---|---|"]
    for seed, rows in mapped.items():
        out += [row for _, row in sorted(verdict_rows(specs, results, seed, rows), key=lambda r: r[0])]
    return "\n".join([*out, "", END])


def map_document(specs: list[ModelSpec], results: dict[str, FileResult]) -> str:
    """docs/seed_map.md: every formula span of every document, with what settles it."""
    verdicts = {(s.file, c.name): c.verdict.label for s in specs for c in results[Path(s.file).name].claims}
    out = [
        "# The seed documents, formula by formula",
        "",
        "Generated by `tests/test_seed_map.py` (`UPDATE_GOLDEN=1` rewrites it); the rules that cut a document into",
        "formula spans are in `tests/seedmap.py`. Every span is settled by a claim (with its verdict), an",
        "`[unchecked]` entry or a `[prose]` entry of the derivation files in `examples/seeds/`.",
    ]
    for seed, rows in coverage(specs).items():
        out += [
            "",
            f"## Seed {seed} (`{documents()[seed].relative_to(ROOT).as_posix()}`)",
            "",
            "| line | as written | settled by | verdict or why |",
            "|---:|---|---|---|",
        ]
        for span, covering in rows:
            by = "; ".join(f"claim `{e.name}` ({Path(e.file).name})" if e.kind == "claim" else e.kind for e in covering)
            why = "; ".join(verdicts.get((e.file, e.name), "") if e.kind == "claim" else cell(e.why) for e in covering)
            out.append(f"| {span.line} | {code(span.text)} | {by} | {why} |")
    return "\n".join(out) + "\n"


def main() -> None:
    """Print each document's spans and what covers them (a worksheet for editing the map)."""
    for seed, rows in coverage(load_file(p) for p in seed_files()).items():
        print(f"== {seed}")
        for span, covering in rows:
            names = ", ".join(f"{e.kind}:{e.name[:30]}" for e in covering) or "NOT COVERED"
            print(f"{span.line:>3} {span.kind:<7} {names}\n    {span.text}")


if __name__ == "__main__":
    main()
