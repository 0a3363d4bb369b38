"""Input errors that point at the offending text.

Every problem with a derivation file is raised as `InputError`, which carries the
file, the line, the key and the column span so the message can print the line
with a caret under the culprit. The CLI turns these into exit code 2; nothing
else in the package is allowed to let a traceback reach the user.
"""

from __future__ import annotations

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
            text = w.text.replace("\t", " ")
            lines.append(f"    {text}")
            width = max(1, min(w.col_end, len(text) + 1) - w.col_start)
            lines.append("    " + " " * w.col_start + "^" * width)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


class ShapeError(InputError):
    """An expression whose operand shapes cannot combine (expected vs actual shapes)."""
