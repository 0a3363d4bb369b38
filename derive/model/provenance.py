"""Where a claim comes from: its place in a source document, the formula as written, and which reading it is.

A derivation file that settles a document maps every formula of it to one of three things: a claim (whose
`source` gives the place and the formula as written), an `[unchecked]` entry (a statement that cannot be
checked, with the reason) or a `[prose]` entry (a formula that is not a claim: a definition, a restatement of
the chain rule, a case label, with the reason). The keys of `[unchecked]` and `[prose]` and a claim's
`written` are the document's formulas verbatim, so a coverage test can match them against the document
without any fuzzy rule.

Where a formula admits several readings, each reading is a claim of its own and `intent` says which one
the author most likely meant ("likely") and which are the other reasonable readings ("alternative").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from derive_check.derive.errors import InputError, Location
from derive_check.derive.source import locate

INTENTS = ("likely", "alternative")  # the author's most likely intent; another reasonable reading
SOURCE_KEYS = ("place", "written")


@dataclass(frozen=True, kw_only=True)
class Provenance:
    """A claim's `source`, `intent` and the text shown for its source in reports."""

    source: str = ""  # shown in reports: "place: formula as written"
    place: str = ""  # section of the document, e.g. "§2(1)" or "part ②, line 45"
    written: tuple[str, ...] = ()  # the document's formulas verbatim, one per span the claim settles
    intent: str = ""  # "" (the only reading), "likely" or "alternative"


def read_provenance(entry: dict[str, Any], field: Callable[[str, str | None], Location]) -> Provenance:
    """A claim's (or a forward line's) `source`, a string or a table { place, written }, and its `intent`;
    `field(key, value)` locates a key of the entry for errors."""
    intent = entry.get("intent", "")
    if intent != "" and intent not in INTENTS:
        words = f"intent must be one of {', '.join(INTENTS)}, got {intent!r}"
        raise InputError(words, field("intent", intent if isinstance(intent, str) else None))
    source = entry.get("source", "")
    if isinstance(source, str):
        return Provenance(source=source, intent=intent)
    if not isinstance(source, dict):
        raise InputError(
            "source must be a string or a table { place = ..., written = ... }, got " + type(source).__name__,
            field("source", None),
        )
    unknown = sorted(set(source) - set(SOURCE_KEYS))
    if unknown:
        raise InputError(f"unknown source key '{unknown[0]}' (known: {', '.join(SOURCE_KEYS)})", field("source", None))
    place, written = source.get("place", ""), source.get("written", [])
    spans = [written] if isinstance(written, str) else written
    if not isinstance(place, str) or not place.strip():
        raise InputError(
            'source.place must name the place in the document, e.g. place = "§2(1)"', field("source", None)
        )
    if not isinstance(spans, list) or not spans or not all(isinstance(s, str) and s.strip() for s in spans):
        raise InputError("source.written must be the formula as written, or a list of them", field("source", None))
    shown = f"{place}: {' ; '.join(spans)}"
    return Provenance(source=shown, place=place, written=tuple(spans), intent=intent)


def read_notes(
    data: dict[str, Any], key: str, file: str, text: str, inherited: tuple[tuple[str, str], ...] = ()
) -> tuple[tuple[str, str], ...]:
    """`[unchecked]` or `[prose]`: formula as written -> why it is not checked (or not a claim). An entry for a
    formula the `inherited` entries (of the file this one extends) already have replaces it."""
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise InputError(f"[{key}] must be a table", locate(file, text, "", key))
    for statement, why in value.items():
        if not statement.strip():
            raise InputError(
                f"[{key}] keys are formulas as written: an empty key says nothing", locate(file, text, key, "")
            )
        if isinstance(why, dict):
            raise InputError(
                f'[{key}] entries are formula = "why"; a nested table is not one', locate(file, text, key, statement)
            )
        if not isinstance(why, str) or not why.strip():
            raise InputError(
                f"[{key}] entries say why in words: the value must be a non-empty string, got {why!r}",
                locate(file, text, key, statement),
            )
    return tuple({**dict(inherited), **{str(k): str(v) for k, v in value.items()}}.items())
