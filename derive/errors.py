"""Input errors that point at the offending text.

Every problem with a derivation file is raised as `InputError`, which carries the
file, the line, the key and the column span so the message can print the line
with a caret under the culprit. The CLI turns these into exit code 2; nothing
else in the package is allowed to let a traceback reach the user.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

MAX_SOURCE_CHARS = 4_000_000  # a file read back for a column (derivation files are far smaller)
_ODD_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")  # line breaks to splitlines, not to editors


@dataclass(frozen=True)
class Location:
    """Where a piece of user text sits: file, 1-based line, TOML key, column span."""

    file: str = "<input>"
    line: int | None = None
    key: str | None = None
    text: str | None = None  # the full source line (or formula) the columns refer to
    col_start: int = 0  # 0-based, into `text`
    col_end: int = 0

    def shifted(self, start: int, end: int) -> Location:
        """The same location narrowed to columns [start, end) of `text`."""
        return Location(self.file, self.line, self.key, self.text, start, max(end, start + 1))


class InputError(Exception):
    """A malformed file, formula or declaration; rendered with file, line and caret."""

    def __init__(self, message: str, where: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where or Location()

    def render(self) -> str:
        """The message with a `file:line:col: error [key]:` header (`file:line:` where the column is not known as
        one of the file's line, `file:` without a line) and the quoted text with a caret line under the span."""
        w = self.where
        col = file_column(w)
        head = w.file if w.line is None else f"{w.file}:{w.line}" if col is None else f"{w.file}:{w.line}:{col}"
        key = f" [{w.key}]" if w.key else ""
        lines = [f"{head}: error{key}: {self.message}"]
        if w.text is not None:
            text, start, end = w.text.replace("\t", " "), w.col_start, w.col_end
            if "\n" in text:  # a multi-line string: the line the caret is on
                before = text.rfind("\n", 0, start) + 1
                text, start, end = text[before:].split("\n", 1)[0], start - before, end - before
            lines.append(f"    {text}")
            width = max(1, min(end, len(text) + 1) - start)
            lines.append("    " + " " * start + "^" * width)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


def file_column(where: Location) -> int | None:
    """The 1-based column of the caret in the file, or None where it is not known.

    `text` is either the file's line `line` (then `col_start` is a column of the file) or a formula shown on its
    own (a string written with escapes, a multi-line string, a residual), whose columns are not the file's. Only
    the first case has a column, and it is told by what it is: the text is, character for character, that line
    of the file as it is on disk (a file that cannot be read, or has changed since, gets no column).
    """
    if where.line is None or where.text is None or "\n" in where.text or where.col_start > len(where.text):
        return None
    return where.col_start + 1 if _file_line(where.file, where.line) == where.text else None


def _file_line(file: str, number: int) -> str | None:
    """Line `number` (1-based) of a UTF-8 text file as `str.splitlines` cuts it (as `derive.source` numbers
    lines), or None; None too where splitlines would cut elsewhere than an editor (a form feed, U+2028, ...)."""
    try:
        with open(file, encoding="utf-8", errors="strict") as stream:
            text = stream.read(MAX_SOURCE_CHARS + 1)
    except (OSError, ValueError):
        return None
    lines = text.splitlines()
    if len(text) > MAX_SOURCE_CHARS or not 0 < number <= len(lines) or _ODD_BREAKS.search(text):
        return None
    return lines[number - 1]


def closest(word: str, known: Iterable[str]) -> str | None:
    """The known name a typo most likely meant: same letters in another case, else the nearest by difflib."""
    names = sorted(set(known) - {word})
    folded = [n for n in names if n.lower() == word.lower() or n.replace("_", "") == word.replace("_", "")]
    if folded:
        return folded[0]
    found = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    if not found:
        lowered = {n.lower(): n for n in names}
        found = [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)]
    return found[0] if found else None


def did_you_mean(word: str, known: Iterable[str], template: str = "'{}'") -> str:
    """'; did you mean 'W1'?' for the closest known name, or '' when nothing is close."""
    found = closest(word, known)
    return f"; did you mean {template.format(found)}?" if found else ""


class ShapeError(InputError):
    """An expression whose operand shapes cannot combine (expected vs actual shapes)."""
