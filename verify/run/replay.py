"""The cache's fast path: a file whose every claim is cached is answered without SymPy.

The model was read once by the caller (only the TOML parser and the formula parser), so a CI re-run of
unchanged files never imports SymPy, builds a network or differentiates anything. Anything missing sends
the file to the engine (`verify.run.engine.check_path`), which fills the cache. Twins, files whose checks are
one check, are found here too (`twins`): all but the first of them are answered this way.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from derive_check.derive.model.spec import ModelSpec
from derive_check.verify.results import ClaimResult, FileResult
from derive_check.verify.run.cache import Keys, ProofCache
from derive_check.verify.witness.crosscheck import Said, crosscheck

if TYPE_CHECKING:
    from derive_check.verify.check.session import Session


def cached_result(
    spec: ModelSpec,
    path: Path,
    keys: Keys,
    typeset: bool,
    cache: ProofCache,
    said: Mapping[str, Said] | None = None,
) -> FileResult | None:
    """The file's result from the cache alone, or None if anything has to be checked (`said`: the witness's
    reports on this file's claims worked out ahead, if any)."""
    started = time.perf_counter()
    hits = [cache.get(keys.claims[c.name], c) for c in spec.claims]
    shapes = cache.get_all(keys.shapes)  # written only after the model built: evidence it does
    if shapes is None or any(hit is None for hit in hits):
        return None
    return assemble(spec, path, [*shapes, *(h for h in hits if h is not None)], started, typeset, None, said)


def assemble(
    spec: ModelSpec,
    path: Path,
    results: list[ClaimResult],
    started: float,
    typeset: bool,
    session: Session | None,
    said: Mapping[str, Said] | None = None,
) -> FileResult:
    """A file's result from its claims' results: notes, timing, and (if asked) the typeset model (`said`: the
    witness's reports worked out ahead, if any)."""
    notes = tuple(f"not checked: {what}: {why}" for what, why in spec.unchecked)
    result = FileResult(
        file=str(path),
        title=spec.title,
        sizes=tuple(spec.sizes.items()),
        claims=tuple(crosscheck(spec, results, said)),  # the witness re-checks every pass, cached or fresh
        seconds=time.perf_counter() - started,
        notes=((spec.note,) if spec.note else ()) + spec.notes + notes,
        source=spec.source,
    )
    if typeset:
        from derive_check.verify.run.typeset import typeset as typeset_result

        result = typeset_result(result, session, spec)
    return result


def twins(files: Sequence[tuple[Path, ModelSpec, Keys]]) -> list[list[int]]:
    """The files grouped by twins, in order of first appearance: files whose checks are one check.

    Two files are twins when their cache keys agree: the keys hash everything of the resolved model and of each
    claim that a verdict depends on (`verify.run.cache.file_keys`), and the proof cache already answers a claim by
    them. The declared-shape findings' key also holds where the forward lines are, so a twin's findings are at its
    own lines. A twin is then answered the way a cached run answers it (`verify.run.replay.cached_result`): the
    claim's own line, source and reading, and the witness run again on every pass. Seed 001 re-renders seed 000;
    without this a run over both checked every claim twice.
    """
    groups: dict[tuple[str, ...], list[int]] = {}
    for k, (_, _, keys) in enumerate(files):
        groups.setdefault((keys.shapes, *sorted(keys.claims.values())), []).append(k)
    return list(groups.values())
