"""Which files and which claims a run checks: directory scanning, `exclude`, and `-k`.

A directory is searched for derivation files only: a `*.derive.toml`, a `.toml` whose top level has a
`[forward]` table or an `extends` key (what every derivation file has), or a `.py` file with a
`# derive-check:` shape declaration (code mode, `derive.code`). `pyproject.toml`, lock files and other
tools' TOML are passed over, so `derive-check .` works in a repository. A file named on the command line is
always checked, whatever its name. A `.toml` in a scanned folder that is not valid TOML is checked (so its
syntax error is reported) when its text has a `[forward]` table or an `extends =` line, and passed over
otherwise.

`-k` takes pytest's small expression language over claim names: words, `and`, `or`, `not`, parentheses; a word
matches a claim whose name contains it (case-insensitively). It is parsed here by recursive descent, never
evaluated as Python.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from derive_check.derive.model.spec import ModelSpec
from derive_check.derive.tree import refs

MAX_EXPRESSION, MAX_NESTING = 1000, 50  # -k: a few names and operators, never a recursion limit
MAX_SCAN_BYTES = 256_000  # a larger .toml in a scanned folder is no derivation file (the loader's own limit)


def collect(paths: Sequence[Path], exclude: Sequence[str] = (), project: Path | None = None) -> list[Path]:
    """The derivation files named by `paths`, directories searched recursively in sorted order. An `exclude` glob
    matches a path relative to the folder searched or to the project (the pyproject's folder): `drafts/*` and
    `examples/drafts` both leave out examples/drafts/ whichever folder is named."""
    files: list[Path] = []
    top = project.resolve() if project else None
    for path in paths:
        try:
            if path.is_dir():  # only files inside the folder: a symlink out of it is not part of the project
                root = path.resolve()

                def left_out(p: Path, path: Path = path) -> bool:
                    if excluded(p.relative_to(path), exclude):
                        return True
                    whole = p.resolve()
                    return top is not None and whole.is_relative_to(top) and excluded(whole.relative_to(top), exclude)

                found = sorted(
                    p
                    for p in (*path.rglob("*.toml"), *path.rglob("*.py"))
                    if p.is_file() and p.resolve().is_relative_to(root) and not left_out(p) and is_derivation(p)
                )
                if not found:
                    raise FileNotFoundError(f"{path}: no derivation files in this directory")
                files.extend(found)
            elif path.exists():
                files.append(path)
            else:
                raise FileNotFoundError(f"{path}: no such file or directory")
        except (OSError, RuntimeError, ValueError) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise FileNotFoundError(f"{str(path)[:200]}: cannot use this path ({type(exc).__name__})") from None
    return files


def excluded(relative: Path, patterns: Sequence[str]) -> bool:
    """Whether a path (relative to the scanned folder) matches an `exclude` glob, or lies in a folder that does."""
    text = relative.as_posix()
    parts = relative.parts
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if fnmatch.fnmatch(text, pattern) or fnmatch.fnmatch(relative.name, pattern):
            return True
        if any(fnmatch.fnmatch("/".join(parts[: k + 1]), pattern) for k in range(len(parts) - 1)):
            return True
    return False


def is_derivation(path: Path) -> bool:
    """Whether a .toml or .py file found in a folder is a derivation file (see the module)."""
    if path.name == "pyproject.toml":
        return False
    if path.name.endswith(".derive.toml"):
        return True
    text = _small_text(path)
    if text is None:
        return False
    if path.suffix == ".py":  # code mode: a `# derive-check:` shape declaration; other Python files are passed over
        return bool(re.search(r"^\s*(#\s*)?derive-check:", text, re.MULTILINE))
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError, MemoryError):
        return bool(re.search(r"^\s*(\[forward\]|\[code\]|extends\s*=)", text, re.MULTILINE))
    return "forward" in data or "extends" in data or "code" in data


def _small_text(path: Path) -> str | None:
    """A file's UTF-8 text, or None when it is larger than MAX_SCAN_BYTES or cannot be read."""
    try:
        if path.stat().st_size > MAX_SCAN_BYTES:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


class SelectionError(ValueError):
    """A `-k` expression that does not parse; the message says where."""


def claim_filter(expression: str) -> Callable[[str], bool]:
    """A predicate on claim names for a `-k` expression (see the module)."""
    if len(expression) > MAX_EXPRESSION or expression.count("(") > MAX_NESTING:
        raise SelectionError(f"-k takes at most {MAX_EXPRESSION} characters and {MAX_NESTING} parentheses")
    tokens = re.findall(r"\(|\)|[^\s()]+", expression)
    if tokens.count("not") > MAX_NESTING:
        raise SelectionError(f"-k takes at most {MAX_NESTING} 'not's")
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        token = peek()
        if token is None:
            raise SelectionError(f"-k {expression!r}: the expression ends too early")
        position += 1
        return token

    def disjunction() -> Callable[[str], bool]:
        left = conjunction()
        while peek() == "or":
            take()
            left = _either(left, conjunction())
        return left

    def conjunction() -> Callable[[str], bool]:
        left = negation()
        while peek() == "and":
            take()
            left = _both(left, negation())
        return left

    def negation() -> Callable[[str], bool]:
        if peek() == "not":
            take()
            inner = negation()
            return lambda n: not inner(n)
        token = take()
        if token == "(":
            inner = disjunction()
            if take() != ")":
                raise SelectionError(f"-k {expression!r}: a '(' is not closed")
            return inner
        if token in (")", "and", "or"):
            raise SelectionError(f"-k {expression!r}: unexpected '{token}'")
        word = token.lower()
        return lambda n: word in n.lower()

    if not tokens:
        raise SelectionError("-k needs an expression, such as 'dW1 or db1'")
    chosen = disjunction()
    if peek() is not None:
        raise SelectionError(f"-k {expression!r}: unexpected '{peek()}'")
    return chosen


def _either(a: Callable[[str], bool], b: Callable[[str], bool]) -> Callable[[str], bool]:
    return lambda name: a(name) or b(name)


def _both(a: Callable[[str], bool], b: Callable[[str], bool]) -> Callable[[str], bool]:
    return lambda name: a(name) and b(name)


def select_claims(spec: ModelSpec, keep: Callable[[str], bool]) -> ModelSpec | None:
    """The model with only the claims `keep` accepts, and the earlier claims they use (a claim built on dz needs
    dz checked first); None when no claim is chosen."""
    by_name = {c.name: c for c in spec.claims}
    probes = {c for p in spec.code.probes for c in p.claims} if spec.code is not None else set()
    chosen = {c.name for c in spec.claims if keep(c.name) and c.name not in probes}  # probes are never chosen
    if not chosen:
        return None
    chosen |= probes  # a chosen gradient keeps the probes that locate its slip
    todo = list(chosen)
    while todo:
        claim = by_name[todo.pop()]
        for used in refs(claim.expr) if claim.expr is not None else ():
            if used in by_name and used not in chosen:
                chosen.add(used)
                todo.append(used)
    return replace(spec, claims=tuple(c for c in spec.claims if c.name in chosen))
