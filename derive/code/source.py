"""Input errors at a node of the code: the file, the node's line, and the caret under the node's own text."""

from __future__ import annotations

import ast

from derive_check.derive.errors import InputError, Location


def error_at(file: str, lines: list[str], node: ast.AST, message: str) -> InputError:
    """An input error with the caret under `node` in its source line (to the line's end if it spans lines)."""
    line = getattr(node, "lineno", 1)
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    start = getattr(node, "col_offset", 0)
    same = getattr(node, "end_lineno", line) == line
    end = getattr(node, "end_col_offset", len(text)) if same else len(text)
    return InputError(message, Location(file, line, None, text, start, max(end or 0, start + 1)))
