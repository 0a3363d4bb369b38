"""The proof cache: an SQLite file of claim results keyed by what they depend on.

A claim's key hashes the engine version, the model (sizes, declarations, functions, forward formulas, loss,
declared shapes), the claim itself (formula, what it differentiates, layout, index variables, condition,
labels), the keys of the earlier claims its formula uses, and the budget. Editing one claim re-checks it and
the claims that use it; editing the title or a comment re-checks nothing. Line numbers, sources and readings
are refreshed from the current file on every hit.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

from derive.claims import ClaimSpec
from derive.model import Decl, ModelSpec
from derive.tree import refs
from verify.results import ClaimResult, Counterexample, GeneralProof, Verdict, WorkedEntry


def _engine_version() -> str:
    """A digest of the engine's own source: any change to derive/ or verify/ invalidates every cached proof."""
    digest = hashlib.sha256()
    for package in ("derive", "verify"):
        for source in sorted((Path(__file__).resolve().parent.parent / package).glob("*.py")):
            digest.update(source.name.encode() + source.read_bytes())
    return digest.hexdigest()[:16]


ENGINE_VERSION = _engine_version()


def model_key(spec: ModelSpec) -> str:
    """A digest of everything in the file that claims are checked against."""

    def decl(d: Decl) -> list[Any]:
        return [d.name, [str(x) for x in d.dims], d.onehot]

    model = [
        ENGINE_VERSION,
        sorted(spec.sizes.items()),
        [decl(d) for d in spec.inputs.values()],
        [decl(d) for d in spec.params.values()],
        sorted(spec.functions.items()),
        sorted(spec.gradients.items()),
        [[line.name, line.text, decl(line.declared) if line.declared else None] for line in spec.forward],
        spec.loss,
    ]
    return _digest(model)


def claim_keys(spec: ModelSpec, budget: float, typeset: bool, randomized: bool = False) -> dict[str, str]:
    """The cache key of every claim of the file, in order (a claim's key includes those of the claims it uses)."""
    base = model_key(spec)
    keys: dict[str, str] = {}
    for claim in spec.claims:
        used = sorted(refs(claim.expr) & keys.keys()) if claim.expr is not None else []
        fields = [base, _claim_fields(claim), [keys[u] for u in used], budget, typeset]
        keys[claim.name] = _digest([*fields, "randomized"] if randomized else fields)  # exact keys stay as they were
    return keys


def _claim_fields(claim: ClaimSpec) -> list[Any]:
    return [
        claim.name,
        claim.target,
        claim.text,
        claim.of_text,
        [str(i) for i in claim.wrt_index],
        claim.layout,
        list(claim.index_vars),
        list(claim.when.clauses),
        list(claim.labels),
        claim.error.message if claim.error else "",
    ]


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


class ProofCache:
    """Claim results on disk, keyed by `claim_keys`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def get(self, key: str, claim: ClaimSpec) -> ClaimResult | None:
        """The stored result for `key`, with line, source and reading taken from the current `claim`."""
        row = self.db.execute("SELECT value FROM results WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            result = _decode(json.loads(row[0]))
        except (TypeError, ValueError, KeyError):
            return None  # written by another version: check again
        return replace(result, line=claim.where.line, source=claim.source, reading=claim.reading, seconds=0.0)

    def get_all(self, key: str) -> list[ClaimResult] | None:
        """A stored list of results (the declared-shape findings of a model), or None."""
        row = self.db.execute("SELECT value FROM results WHERE key = ?", ("list:" + key,)).fetchone()
        try:
            return [_decode(item) for item in json.loads(row[0])] if row else None
        except (TypeError, ValueError, KeyError):
            return None

    def put_all(self, key: str, results: list[ClaimResult]) -> None:
        """Store a list of results under `key`."""
        value = json.dumps([_encode(r) for r in results])
        self.db.execute("INSERT OR REPLACE INTO results VALUES (?, ?)", ("list:" + key, value))
        self.db.commit()

    def put(self, key: str, result: ClaimResult) -> None:
        """Store a result (UNDECIDED ones are not stored: a later run with more time may decide them)."""
        if result.verdict is Verdict.UNDECIDED:
            return
        self.db.execute("INSERT OR REPLACE INTO results VALUES (?, ?)", (key, json.dumps(_encode(result))))
        self.db.commit()


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
