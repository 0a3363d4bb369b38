"""Finding where a TOML key sits in the raw file text.

`tomllib` returns values without positions, so errors would lose their line
and caret. This module re-scans the raw text for `[section]` headers and
`key = ...` lines; it only has to be right for files that already parsed.
A value is found as the TOML string literal that spells it verbatim ('...' or
"..." without escapes), so columns inside it are columns of the line; a value
written with escapes ("\\\\frac") is shown on its own, with columns of its own.
"""

from __future__ import annotations

import re

from derive_check.derive.errors import Location

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def literal_column(line: str, value: str) -> int:
    """The column where the content of a string literal spelling `value` verbatim starts in `line`, or -1."""
    quotes = ["'''", '"""', "'"] if "\\" in value or '"' in value else ["'''", '"""', "'", '"']
    best = -1
    for quote in quotes:
        at = line.find(quote + value + quote)
        if at >= 0 and (best < 0 or at + len(quote) < best):
            best = at + len(quote)
    return best


def locate(file: str, text: str, section: str, key: str, value: str | None = None) -> Location:
    """The location of `key` inside `[section]`, with the caret span over `value` if given."""
    current = ""
    pattern = re.compile(r"^\s*(?:" + re.escape(key) + r"|\"" + re.escape(key) + r"\"|'" + re.escape(key) + r"')\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            current = _normal(header.group(1))
            continue
        if current == section and pattern.match(line):
            col = literal_column(line, value) if value else -1
            if col < 0:
                col = line.index("=") + 1
                return Location(file, number, _label(section, key), line, col, len(line))
            return Location(file, number, _label(section, key), line, col, col + len(value or ""))
    if "." in section:  # `[claims] name = { formula = "..." }`: an inline table inside the parent section
        parent, _, name = section.rpartition(".")
        found = locate(file, text, parent, name)
        if found.line is not None and found.text is not None:
            line, start, end = found.text, found.col_start, found.col_end
            inner = re.search(r"[{,]\s*(" + re.escape(key) + r")\s*=\s*", line)
            if inner:  # the key's own columns, or its value's
                start, end = inner.start(1), inner.end(1)
            col = literal_column(line[inner.end() :], value) + inner.end() if inner and value else -1
            col = col if col >= 0 or not value or inner else literal_column(line, value)
            if value and col >= 0:
                start, end = col, col + len(value)
            return Location(found.file, found.line, _label(section, key), line, start, end)
    if not section:  # a top-level table: [parameters]
        table = locate_table(file, text, key)
        if table.line is not None:
            return table
    return Location(file, None, _label(section, key), value, 0, len(value or ""))


def locate_table(file: str, text: str, name: str) -> Location:
    """The header line of table `name` (`[name]`, `[name.x]` or `[[name]]`), with the caret under the name."""
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header and _normal(header.group(1)).split(".")[0] == name:
            col = line.find(name)
            return Location(file, number, name, line, max(col, 0), max(col, 0) + len(name))
    return Location(file, None, name)


def key_location(file: str, text: str, section: str, key: str) -> Location:
    """The columns of the key itself: `key = ...` inside [section], a header [section.key], or an inline table."""
    where = locate(file, text, section, key)
    if where.line is not None and where.text is not None:
        col = where.text.find(key)
        if col >= 0 and where.text[:col].strip() in ("", '"', "'"):
            return where.shifted(col, col + len(key))
    dotted = f"{section}.{key}" if section else key
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header and _normal(header.group(1)) == dotted:
            col = line.rfind(key)
            return Location(file, number, dotted, line, col, col + len(key))
    return where


def string_location(file: str, text: str, start_line: int, value: str, key: str) -> Location:
    """The first string literal spelling `value` at or after `start_line`, with columns into `value` itself."""
    lines = text.splitlines()
    for number in range(max(start_line, 1), len(lines) + 1):
        col = literal_column(lines[number - 1], value)
        if col >= 0:
            return Location(file, number, key, lines[number - 1], col, col)
    return Location(file, start_line, key, value, 0, 0)


def formula_location(where: Location, formula: str) -> Location:
    """A location whose columns index into `formula` itself, offset within its source line."""
    if where.text is not None and where.line is not None:
        here = where.col_start  # `where` may already point at this very literal (a key's value found by `locate`)
        quoted = here > 0 and where.text[here - 1] in "'\"" and where.text[here : here + len(formula) + 1]
        if quoted and quoted[:-1] == formula and quoted[-1:] == where.text[here - 1]:
            return Location(where.file, where.line, where.key, where.text, here, here)
        col = literal_column(where.text, formula)
        if col >= 0:
            return Location(where.file, where.line, where.key, where.text, col, col)
    return Location(where.file, where.line, where.key, formula, 0, 0)


def span_location(where: Location, formula: str, span: tuple[int, int]) -> Location:
    """The location of columns `span` of `formula` (a node's span), inside the formula's source line."""
    at = formula_location(where, formula)
    return at.shifted(at.col_start + span[0], at.col_start + span[1])


def _normal(header: str) -> str:
    return header.replace('"', "").replace("'", "").replace(" ", "")


def _label(section: str, key: str) -> str:
    return f"{section}.{key}" if section else key
