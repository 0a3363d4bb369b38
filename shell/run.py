"""One run over the collected files: parse each once, answer from the cache, check the rest in workers.

This is where `-k` selects claims and where a file without claims is judged: it is an input error, unless
another file of the run extends it (then it holds shared definitions, and has nothing of its own to check). Which
files are extended is read from the loaded models (`ModelSpec.base`): no file is read twice.
Progress goes to stderr, per claim and per entry proved inside it, and only on a terminal.
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
    from derive_check.verify.run.load import failed_result
    from derive_check.verify.run.replay import cached_result

    loaded = [(_where(f, m), m) for f in files for m in _models(f)]  # each file parsed once; a .py: one per pair
    bases = {Path(m.base).resolve() for _, m in loaded if not isinstance(m, FileResult) and m.base}
    models: list[tuple[Path, ModelSpec | FileResult]] = []
    for f, model in loaded:
        if not isinstance(model, FileResult) and not model.claims:
            if f.resolve() in bases:
                continue  # shared definitions for `extends`: nothing of its own to check
            model = failed_result(f, f"{f}:1:1: error: no claims to check: add a [claims] table", 0.0)
        if keep is not None and not isinstance(model, FileResult):
            chosen = select_claims(model, keep)
            if chosen is None:
                continue
            model = chosen
        models.append((f, model))
    known: dict[int, FileResult | None] = {k: m for k, (_, m) in enumerate(models) if isinstance(m, FileResult)}
    keys: dict[int, Keys] = {}  # with or without a cache: they also tell which files are twins (one check)
    for k, (f, spec) in enumerate(models):
        if not isinstance(spec, FileResult):
            keys[k] = file_keys(spec, settings.budget, settings.typeset, settings.randomized, settings.stated_only)
            if cache:
                known[k] = cached_result(spec, f, keys[k], settings.typeset, cache)
    if all(known.get(k) for k in range(len(models))):  # everything answered from the cache: SymPy is never imported
        return _located(models, known)

    from derive_check.verify.run.ahead import Ahead

    todo = [(f, m, keys[k]) for k, (f, m) in enumerate(models) if not known.get(k) and not isinstance(m, FileResult)]
    numbers = [k for k, (_, m) in enumerate(models) if not known.get(k) and not isinstance(m, FileResult)]
    ahead = Ahead.start([m for _, m, _ in todo]) if jobs > 1 else None  # the witness, while the engine loads
    try:
        import derive_check.verify.run.engine  # noqa: F401 - imported before forking: workers start without it
    finally:
        said = ahead.collect() if ahead else {}
    from derive_check.verify.run.workers import check_in_workers

    if not err.is_terminal:
        checked = check_in_workers(todo, settings, jobs, said=said)
    else:
        from rich.markup import escape
        from rich.progress import Progress

        claims = sum(len(m.claims) for _, m, _ in todo)
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task(f"checking {claims} claim(s) of {len(todo)} file(s)", total=claims)

            def started(path: Path, name: str) -> None:
                bar.update(task, description=escape(f"{path.name}: {name}"))
                bar.advance(task)

            def proving(path: Path, name: str, proved: int, total: int) -> None:  # a worker sends ~10 a second
                bar.update(task, description=escape(f"{path.name}: {name} (entry {proved}/{total})"), refresh=True)

            checked = check_in_workers(todo, settings, jobs, claim=started, entries=proving, said=said)
    known.update(zip(numbers, checked, strict=True))
    return _located(models, known)


def _models(path: Path) -> list[ModelSpec | FileResult]:
    """The models of one file (one per declared pair for a Python file; a pair that cannot be read is its own
    error result), or its error result."""
    from derive_check.verify.run.load import load_all

    found = load_all(path)
    return found if isinstance(found, list) else [found]


def _where(path: Path, model: ModelSpec | FileResult) -> Path:
    """The file a model's lines are in: the Python file for a pair a derivation file names with [code]."""
    from derive_check.verify.results import FileResult

    return Path(model.file) if not isinstance(model, FileResult) and model.code is not None else path


def _located(
    models: list[tuple[Path, ModelSpec | FileResult]], known: dict[int, FileResult | None]
) -> list[FileResult]:
    """The results in order; a model read from code has its probes taken out and its slips located."""
    from derive_check.verify.results import FileResult
    from derive_check.verify.run.code import located

    out = []
    for k, (_, model) in enumerate(models):
        result = known.get(k)
        if result is not None:
            out.append(located(result, model) if not isinstance(model, FileResult) else result)
    return out
