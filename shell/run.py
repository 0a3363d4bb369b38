"""One run over the collected files: parse each once, answer from the cache, check the rest in workers.

This is where `-k` selects claims and where a file without claims is judged: it is an input error, unless
another file of the run extends it (then it holds shared definitions, and has nothing of its own to check). Which
files are extended is read from the loaded models (`ModelSpec.base`): no file is read twice.
Progress goes to stderr, per claim, and only on a terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from derive_check.derive.model.spec import ModelSpec
    from derive_check.verify.results import FileResult
    from derive_check.verify.run.cache import ProofCache
    from derive_check.verify.run.workers import Settings


def run_files(
    files: Sequence[Path],
    settings: Settings,
    err: Console,
    jobs: int,
    cache: ProofCache | None = None,
    keep: Callable[[str], bool] | None = None,
) -> list[FileResult]:
    """Every file's result, in order (files where `-k` chose no claim are left out)."""
    from derive_check.scan import select_claims
    from derive_check.verify.results import FileResult
    from derive_check.verify.run.cache import Keys, file_keys
    from derive_check.verify.run.load import failed_result, load
    from derive_check.verify.run.replay import cached_result

    loaded = {f: load(f) for f in files}  # each file is parsed once; the model goes on to the cache and a worker
    bases = {Path(m.base).resolve() for m in loaded.values() if not isinstance(m, FileResult) and m.base}
    models: dict[Path, ModelSpec | FileResult] = {}
    for f, model in loaded.items():
        if not isinstance(model, FileResult) and not model.claims:
            if f.resolve() in bases:
                continue  # shared definitions for `extends`: nothing of its own to check
            model = failed_result(f, f"{f}:1:1: error: no claims to check: add a [claims] table", 0.0)
        if keep is not None and not isinstance(model, FileResult):
            chosen = select_claims(model, keep)
            if chosen is None:
                continue
            model = chosen
        models[f] = model
    known: dict[Path, FileResult | None] = {f: m for f, m in models.items() if isinstance(m, FileResult)}
    keys: dict[Path, Keys] = {}
    if cache:
        for f, spec in models.items():
            if not isinstance(spec, FileResult):
                keys[f] = file_keys(spec, settings.budget, settings.typeset, settings.randomized)
                known[f] = cached_result(spec, f, keys[f], settings.typeset, cache)
    if all(known.get(f) for f in models):  # everything answered from the cache: SymPy is never imported
        return [r for r in (known[f] for f in models) if r is not None]

    import derive_check.verify.run.engine  # noqa: F401 - imported before forking: workers start without importing
    from derive_check.verify.run.workers import check_in_workers

    todo = [(f, m, keys.get(f)) for f, m in models.items() if not known.get(f) and not isinstance(m, FileResult)]
    if not err.is_terminal:
        checked = check_in_workers(todo, settings, jobs)
    else:
        from rich.markup import escape
        from rich.progress import Progress

        claims = sum(len(m.claims) for _, m, _ in todo)
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task(f"checking {claims} claim(s) of {len(todo)} file(s)", total=claims)

            def started(path: Path, name: str) -> None:
                bar.update(task, description=escape(f"{path.name}: {name}"))
                bar.advance(task)

            checked = check_in_workers(todo, settings, jobs, claim=started)
    fresh = dict(zip([f for f, _, _ in todo], checked, strict=True))
    return [r for r in (known.get(f) or fresh[f] for f in models) if r is not None]
