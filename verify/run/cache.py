"""The proof cache: an SQLite file of claim results keyed by what they depend on.

A claim's key hashes the engine version, every field of the resolved model (sizes, declarations, functions,
forward trees, the loss, symbolic shapes, aliases), every field of the resolved claim (its tree after aliases
and LaTeX are read, what it differentiates, layout, index variables, condition, labels, errors), the keys of
the earlier claims it uses, and the options (budget, typesetting, randomized). Editing one claim re-checks it
and the claims that use it; editing the title or a comment re-checks nothing. Line numbers, sources and
readings are refreshed from the current file on every hit. What a claim binds for later claims is recomputed
on every run (`verify.check.binding`), and the witness re-checks every cached pass (`verify.witness.crosscheck`), so a
cached run goes through the same steps as a fresh one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import sys
from dataclasses import asdict, dataclass, fields, is_dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from derive_check.derive.errors import InputError
from derive_check.derive.model.claims import ClaimSpec
from derive_check.derive.model.spec import ModelSpec
from derive_check.derive.tree import refs
from derive_check.verify.results import ClaimResult, Counterexample, GeneralProof, Verdict, WorkedEntry


def engine_sources() -> dict[str, Path]:
    """Every module of the layers that decide verdicts (derive and verify, every sub-package), by its name."""
    import derive_check.derive
    import derive_check.verify

    found = {}
    for package in (derive_check.derive, derive_check.verify):
        root = Path(package.__file__ or "").parent
        for source in root.rglob("*.py"):
            found[f"{package.__name__}/{source.relative_to(root).as_posix()}"] = source
    return dict(sorted(found.items()))


def _engine_version() -> str:
    """A digest of the engine's own source: any change to derive/ or verify/ invalidates every cached proof."""
    digest = hashlib.sha256()
    for name, source in engine_sources().items():
        digest.update(name.encode() + source.read_bytes())
    return digest.hexdigest()[:16]


ENGINE_VERSION = _engine_version()


PRESENTATION = {
    "where", "span", "source", "place", "written", "intent", "reading", "latex_note", "names", "title", "note",
    "notes", "file", "base", "unchecked", "prose", "provenance",
}  # fmt: skip


def canonical(value: Any) -> Any:
    """A JSON-able rendering of a resolved value, field by field: every field counts unless it is presentation.

    Generic on purpose: a field added to the model or to a claim later is part of the key without anyone
    remembering to add it (an alias edit changes the claim's tree, so it changes the key).
    """
    if is_dataclass(value) and not isinstance(value, type):
        return {
            "__type__": type(value).__name__,
            **{f.name: canonical(getattr(value, f.name)) for f in fields(value) if f.name not in PRESENTATION},
        }
    if isinstance(value, dict):
        return [[canonical(k), canonical(v)] for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))]
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, InputError):
        return ["error", value.message]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def model_key(spec: ModelSpec) -> str:
    """A digest of the engine version and everything in the resolved model that claims are checked against."""
    return _digest([ENGINE_VERSION, canonical(replace(spec, claims=()))])


@dataclass(frozen=True)
class Keys:
    """A file's cache keys, computed once per run: its declared-shape findings' and each claim's."""

    shapes: str
    claims: dict[str, str]


def file_keys(
    spec: ModelSpec, budget: float, typeset: bool, randomized: bool = False, stated_only: bool = False
) -> Keys:
    """The cache key of every claim, in order: the model, the whole resolved claim, the keys of the claims it
    uses (so an edit of dz re-checks dW1 = X.T @ dz), and the options that change a verdict."""
    base = model_key(spec)
    keys: dict[str, str] = {}
    for claim in spec.claims:
        used = set()
        for tree in (claim.expr, claim.of, *claim.wrt_index):
            if tree is not None:
                used |= refs(tree) & keys.keys()
        fields_ = [base, canonical(claim), [keys[u] for u in sorted(used)], budget, typeset, randomized, stated_only]
        keys[claim.name] = _digest(fields_)
    # a declared-shape finding is reported at its forward line, with that line's source: where the lines are is
    # part of the findings' key, so a finding is never replayed at another file's line numbers
    lines = [[line.where.file, line.where.line, line.provenance.source] for line in spec.forward]
    return Keys(shapes="shapes:" + _digest([base, lines]), claims=keys)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


class ProofCache:
    """Claim results on disk, keyed by `file_keys`."""

    def __init__(self, path: Path | None) -> None:
        """The cache at `path`, or (None) one in memory for this process alone: nothing is written to disk."""
        self.path = path
        if path is not None:
            made = not path.parent.exists()
            path.parent.mkdir(parents=True, exist_ok=True)
            if made or path.parent.name == ".derive-check-cache":  # never a folder of the project (--cache-dir .)
                _mark(path.parent)
        self.db = sqlite3.connect(path if path is not None else ":memory:")
        self.db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    @staticmethod
    def open(path: Path, warn: bool = True) -> ProofCache | None:
        """The cache at `path`, or None (and one warning on stderr) where it cannot be used: a run never fails
        because of its cache, it only gets slower."""
        try:
            return ProofCache(path)
        except (OSError, sqlite3.Error) as exc:
            if warn:
                print(f"derive-check: warning: proof cache not used ({path.parent}: {exc})", file=sys.stderr)
            return None

    def get(self, key: str, claim: ClaimSpec) -> ClaimResult | None:
        """The stored result for `key`, with line, source and reading taken from the current `claim`."""
        try:
            row = self.db.execute("SELECT value FROM results WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        if row is None:
            return None
        try:
            result = _decode(json.loads(row[0]))
        except (TypeError, ValueError, KeyError):
            return None  # written by another version: check again
        return replace(
            result, line=claim.where.line, source=claim.source, reading=claim.reading, intent=claim.intent, seconds=0.0
        )

    def get_all(self, key: str) -> list[ClaimResult] | None:
        """A stored list of results (the declared-shape findings of a model), or None."""
        try:
            row = self.db.execute("SELECT value FROM results WHERE key = ?", ("list:" + key,)).fetchone()
            return [_decode(item) for item in json.loads(row[0])] if row else None
        except (TypeError, ValueError, KeyError, sqlite3.Error):
            return None

    def put_all(self, key: str, results: list[ClaimResult]) -> None:
        """Store a list of results under `key`."""
        value = json.dumps([_encode(r) for r in results])
        with contextlib.suppress(sqlite3.Error):  # a read-only or full disk: the run goes on uncached
            self.db.execute("INSERT OR REPLACE INTO results VALUES (?, ?)", ("list:" + key, value))
            self.db.commit()

    def put(self, key: str, result: ClaimResult) -> None:
        """Store a result. Not stored: UNDECIDED ones (a later run with more time may decide them), and those
        whose detail quotes the file (an error with its caret: file, line, column and the line's text), which is
        where the claim is, and the key leaves that out so that moving a claim re-checks nothing; such a result
        is checked again (at once, for a formula that does not parse) rather than shown at another place."""
        if result.verdict is Verdict.UNDECIDED or result.detail:
            return
        with contextlib.suppress(sqlite3.Error):
            self.db.execute("INSERT OR REPLACE INTO results VALUES (?, ?)", (key, json.dumps(_encode(result))))
            self.db.commit()


CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n# A cache directory of derive-check (https://bford.info/cachedir/).\n"
)


def _mark(folder: Path) -> None:
    """Make the cache folder ignore itself: a `.gitignore` of `*` (so `git status` and pre-commit never show it)
    and a CACHEDIR.TAG (so backup tools skip it). Written once; a folder that cannot take them is used as is."""
    for name, text in (
        (".gitignore", "# created by derive-check: the proof cache\n*\n"),
        ("CACHEDIR.TAG", CACHEDIR_TAG),
    ):
        marker = folder / name
        if not marker.exists():
            with contextlib.suppress(OSError):
                marker.write_text(text, encoding="utf-8")


def _encode(result: ClaimResult) -> dict[str, Any]:
    data = asdict(result)
    data["verdict"] = result.verdict.name
    return data


def _decode(data: dict[str, Any]) -> ClaimResult:
    data["verdict"] = Verdict[data["verdict"]]
    if data.get("counterexample"):
        cx = data["counterexample"]
        cx["point"] = tuple(tuple(p) for p in cx["point"])
        data["counterexample"] = Counterexample(**cx)
    if data.get("worked"):
        worked: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data["worked"].items()}
        data["worked"] = WorkedEntry(**worked)
    if data.get("general"):
        general = data["general"]
        general["steps"] = tuple(tuple(step) for step in general["steps"])
        data["general"] = GeneralProof(**general)
    known = {f.name for f in fields(ClaimResult)}
    return ClaimResult(**{k: v for k, v in data.items() if k in known})
