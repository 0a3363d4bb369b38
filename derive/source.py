"""Finding where a TOML key sits in the raw file text.

`tomllib` returns values without positions, so errors would lose their line
and caret. This module re-scans the raw text for `[section]` headers and
`key = ...` lines; it only has to be right for files that already parsed.
"""

from __future__ import annotations

import re

from derive_check.derive.errors import Location

_HEADER = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$")


def locate(file: str, text: str, section: str, key: str, value: str | None = None) -> Location:
    """The location of `key` inside `[section]`, with the caret span over `value` if given."""
    current = ""
    pattern = re.compile(r"^\s*(?:" + re.escape(key) + r'|"' + re.escape(key) + r'")\s*=')
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            current = header.group(1).replace('"', "").replace(" ", "")
            continue
        if current == section and pattern.match(line):
            col = line.find(value) if value else -1
            if col < 0:
                col = line.index("=") + 1
                return Location(file, number, _label(section, key), line, col, len(line))
            return Location(file, number, _label(section, key), line, col, col + len(value or ""))
    if "." in section:  # `[claims] name = { formula = "..." }`: an inline table inside the parent section
        parent, _, name = section.rpartition(".")
        found = locate(file, text, parent, name, value)
        if found.line is not None:
            return Location(found.file, found.line, _label(section, key), found.text, found.col_start, found.col_end)
    return Location(file, None, _label(section, key), value, 0, len(value or ""))


def formula_location(where: Location, formula: str) -> Location:
    """A location whose columns index into `formula` itself, offset within its source line."""
    if where.text is not None and where.line is not None:
        col = where.text.find(formula)
        if col >= 0:
            return Location(where.file, where.line, where.key, where.text, col, col)
    return Location(where.file, where.line, where.key, formula, 0, 0)


def _label(section: str, key: str) -> str:
    return f"{section}.{key}" if section else key
