"""Input errors that point at the offending text.

Every problem with a derivation file is raised as `InputError`, which carries the
file, the line, the key and the column span so the message can print the line
with a caret under the culprit. The CLI turns these into exit code 2; nothing
else in the package is allowed to let a traceback reach the user.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


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
        """The message with `file:line: [key]` header and a caret line under the span."""
        w = self.where
        head = w.file if w.line is None else f"{w.file}:{w.line}"
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
