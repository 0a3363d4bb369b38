"""The shape declarations of a forward/backward pair, read from the comments and docstrings beside it.

A pair states the shapes of its inputs in a comment line (or a docstring line) that starts with `derive-check:`:

    # derive-check: x: N x D, w: D x H, b: H
    # derive-check: y: N, labels C; eps: scalar, positive; N = 3

Items are separated by commas or semicolons; `name: shape` starts a declaration and a following item without a
colon (`labels C`, `positive`, `onehot`) is one of its flags, exactly as in a derivation file's [inputs]. `N = 3`
sets a size. Sizes not set get distinct small values in the order they first appear (2, 3, 4, ...): distinct
sizes are what expose a transposition slip at the stated sizes. The declarations are read with `tokenize`, so a
`#` inside a string is never taken for a comment, and nothing of the file is executed.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass

from derive_check.derive.errors import InputError, Location
from derive_check.derive.model.declarations import MAX_SIZE

MARK = "derive-check:"
_SIZE = re.compile(r"([A-Za-z_]\w*)\s*=\s*(\d+)")
_DECL = re.compile(r"([A-Za-z_]\w*)\s*:\s*(.+)")
_FLAG_WORDS = ("labels", "onehot", "positive")
MAX_SIZE_VALUE = MAX_SIZE  # the derivation file's own limit
MAX_SIZES = 16  # distinct size names of one pair


@dataclass(frozen=True)
class Declared:
    """One `name: shape[, flags]` declaration, with where it was written."""

    name: str
    value: str  # "N x D" or "N, labels C": the derivation-file spelling
    where: Location


@dataclass(frozen=True)
class Declarations:
    """Every declaration and size a pair states, in the order written."""

    decls: dict[str, Declared]
    sizes: dict[str, int]  # explicit `N = 3` items

    def sized(self) -> dict[str, int]:
        """Every size the declarations use: explicit values first, then distinct small values in order of use."""
        found = dict(self.sizes)
        used = sorted(set(found.values()))
        for decl in self.decls.values():
            shape, _, flags = decl.value.partition(",")
            words = re.findall(r"[A-Za-z_]\w*", shape) + re.findall(r"labels\s+([A-Za-z_]\w*)", flags)
            for word in words:
                if word in ("x", "scalar") or word in found:
                    continue
                if len(found) >= MAX_SIZES:
                    raise InputError(f"a pair's shapes use at most {MAX_SIZES} size names", decl.where)
                value = next(v for v in range(2, 1000) if v not in used)
                found[word] = value
                used.append(value)
        return found


def comments(file: str, text: str) -> list[tuple[int, int, str]]:
    """Every `derive-check:` comment of the file as (line, column of its text, text after the mark)."""
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                body = token.string.lstrip("#").strip()
                if body.startswith(MARK):
                    column = token.start[1] + token.string.index(MARK) + len(MARK)
                    found.append((token.start[0], column, body[len(MARK) :]))
    except (tokenize.TokenError, SyntaxError) as exc:  # ast.parse accepted the file: this is unexpected
        raise InputError(f"cannot read the comments of this file: {exc}", Location(file)) from None
    return found


def docstring_lines(file: str, node: ast.FunctionDef | ast.ClassDef) -> list[tuple[int, int, str]]:
    """`derive-check:` lines of a function's or class's docstring, as (line, column, text after the mark)."""
    doc = ast.get_docstring(node, clean=False)
    if not doc or not node.body:
        return []
    first = node.body[0].lineno
    found = []
    for offset, line in enumerate(doc.split("\n")):
        stripped = line.strip()
        if stripped.startswith(MARK):
            found.append((first + offset, line.index(MARK) + len(MARK), stripped[len(MARK) :]))
    return found


def read(file: str, lines: list[str], written: list[tuple[int, int, str]]) -> Declarations:
    """The declarations of the given `derive-check:` lines; a malformed item is an input error with a caret."""
    decls: dict[str, Declared] = {}
    sizes: dict[str, int] = {}
    last: str | None = None
    for number, column, body in written:
        source = lines[number - 1] if 0 < number <= len(lines) else body
        offset = column
        for item in re.split(r"([,;])", body):
            start = offset + len(item) - len(item.lstrip())
            offset += len(item)
            piece = item.strip()
            if piece in (",", ";", ""):
                last = None if piece == ";" else last
                continue
            where = Location(file, number, None, source, start, start + len(piece))
            size = _SIZE.fullmatch(piece)
            decl = _DECL.fullmatch(piece)
            if size:
                if not 1 <= int(size.group(2)) <= MAX_SIZE_VALUE:
                    raise InputError(f"a size is from 1 to {MAX_SIZE_VALUE}, got {size.group(2)}", where)
                sizes[size.group(1)] = int(size.group(2))
                last = None
            elif decl:
                name = decl.group(1)
                if name in decls:
                    raise InputError(f"'{name}' is declared twice (first at line {decls[name].where.line})", where)
                decls[name] = Declared(name, decl.group(2).strip(), where)
                last = name
            elif last is not None and piece.split()[0] in _FLAG_WORDS:
                previous = decls[last]
                decls[last] = Declared(last, f"{previous.value}, {piece}", previous.where)
            else:
                raise InputError(
                    f"cannot read '{piece}' as a declaration: write 'name: shape' (x: N x D), a flag after a "
                    f"declaration (y: N, labels C) or a size (N = 3)",
                    where,
                )
    return Declarations(decls, sizes)
