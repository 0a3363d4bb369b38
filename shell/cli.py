"""`derive-check`: the command line, and the one place that wires verify to reports.

SymPy takes most of a second to import, so everything heavy is imported
inside `main` after the arguments parse: `--help` and usage errors are
instant. Progress goes to stderr, results to stdout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from derive_check.verify.run.workers import Settings

if TYPE_CHECKING:
    from rich.console import Console

    from derive_check.verify.results import FileResult
    from derive_check.verify.run.cache import ProofCache

EXIT_PROVED, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (kept separate so docs and tests can inspect it)."""
    parser = argparse.ArgumentParser(
        prog="derive-check",
        description="Prove or refute claimed backprop gradient formulas, entry by entry, exactly.",
        epilog="Every pass is re-checked by an independent numeric witness (60-digit central differences at random "
        "points; for a proof for all sizes, at other sizes too). Exit codes: 0 all proved; 1 some claim refuted, "
        "undecided or of the wrong shape; 2 usage or input error; 3 INCONSISTENT: the proof engine and the "
        "witness disagree, a bug in derive-check (as pytest uses 3 for internal errors).",
    )
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="derivation files (.toml) or directories to search for them"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="time budget per claim; when it runs out the claim is UNDECIDED (default 10)",
    )
    parser.add_argument(
        "--randomized",
        action="store_true",
        help="for sizes where normal forms are too costly: evaluate at independent random points mod 2^61-1 "
        "instead; a claim that passes is PROBABLE (never PROVED) with its Schwartz-Zippel error bound",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="files checked at once, one worker process each (default: the number of cores)",
    )
    parser.add_argument("--no-timings", action="store_true", help="omit timings (stable output for diffs)")
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also print each counterexample's exact entry residual (always in --format json)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "annotations"),
        default="text",
        help="stdout as a rich report (text), the full JSON record, or `file:line: error:` lines "
        "(GitHub `::error` commands when GITHUB_ACTIONS is set)",
    )
    parser.add_argument("--junit", type=Path, metavar="OUT.xml", help="also write JUnit XML (one testcase per claim)")
    parser.add_argument("--latex", type=Path, metavar="OUT.tex", help="also write the LaTeX proof report")
    parser.add_argument("--pdf", type=Path, metavar="OUT.pdf", help="also compile the report with pdflatex")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="check every claim afresh (the cache is .derive-check-cache/ or $DERIVE_CHECK_CACHE)",
    )
    parser.add_argument("--json-schema", action="store_true", help="print the JSON schema of --format json and exit")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("derive-check")
    except PackageNotFoundError:
        return "unknown"


def collect(paths: Sequence[Path]) -> list[Path]:
    """The derivation files named by `paths`, directories searched recursively in sorted order."""
    files: list[Path] = []
    for path in paths:
        try:
            if path.is_dir():  # only files inside the folder: a symlink out of it is not part of the project
                root = path.resolve()
                found = sorted(p for p in path.rglob("*.toml") if p.is_file() and p.resolve().is_relative_to(root))
                if not found:
                    raise FileNotFoundError(f"{path}: no .toml files in this directory")
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run derive-check; returns the exit code."""
    if (argv is not None and "--json-schema" in argv) or (argv is None and "--json-schema" in sys.argv[1:]):
        import json

        from derive_check.reports.machine import SCHEMA

        print(json.dumps(SCHEMA, indent=2))
        return EXIT_PROVED
    args = build_parser().parse_args(argv)
    try:
        files = collect(args.paths)
    except FileNotFoundError as exc:
        print(f"derive-check: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not args.budget > 0:
        print("derive-check: error: --budget must be positive", file=sys.stderr)
        return EXIT_USAGE
    if not 1 <= args.jobs <= 64:
        print(f"derive-check: error: --jobs must be between 1 and 64, not {args.jobs}", file=sys.stderr)
        return EXIT_USAGE

    from rich.console import Console
    from rich.text import Text

    from derive_check.reports.machine import annotation_lines, exit_code, to_json, to_junit
    from derive_check.reports.terminal import ascii_text, render_files, summary_line

    color = {"always": True, "never": False}.get(args.color)  # auto: rich follows NO_COLOR and FORCE_COLOR
    plain = not _encodes(sys.stdout)
    if plain:  # PYTHONIOENCODING=ascii: the report is transliterated (`ascii_text`), nothing else may fail
        sys.stdout.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    out = Console(force_terminal=color, no_color=True if color is False else None, highlight=False, soft_wrap=False)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out.width = 120  # piped output: 120 columns unless COLUMNS says otherwise
    out.width = min(max(out.width, MIN_COLUMNS), MAX_COLUMNS)  # COLUMNS=0 printed nothing, 10**8 ran out of memory
    typeset = bool(args.latex or args.pdf)
    if args.pdf and shutil.which("pdflatex") is None:
        print("derive-check: error: --pdf needs pdflatex (Debian: apt-get install texlive-latex-base)", file=sys.stderr)
        return EXIT_USAGE
    cache = None
    if not args.no_cache:
        from derive_check.verify.run.cache import ProofCache

        cache = ProofCache.open(Path(os.environ.get("DERIVE_CHECK_CACHE", ".derive-check-cache")) / "proofs.sqlite")
    settings = Settings(args.budget, typeset, cache.path if cache else None, args.randomized)
    results = _run(files, settings, Console(stderr=True), args.jobs, cache)
    if args.junit:
        _write(args.junit, to_junit(results))
    if typeset:
        from derive_check.reports.latex import to_latex_document

        document = to_latex_document(results)
        if args.latex:
            _write(args.latex, document)
        if args.pdf and not _compile(document, args.pdf):
            return EXIT_USAGE
    if args.format == "json":
        print(to_json(results, ascii_only=plain))
    elif args.format == "annotations":
        sys.stdout.write(annotation_lines(results, github=os.environ.get("GITHUB_ACTIONS") == "true"))
        print(summary_line(results), flush=True)
    else:
        with out.capture() as captured:
            for renderable in render_files(results, timings=not args.no_timings, verbose=args.verbose):
                kept = isinstance(renderable, Text) and renderable.no_wrap  # error lines and arrays never wrap
                out.print(renderable, soft_wrap=kept)
        sys.stdout.write(ascii_text(captured.get()) if plain else captured.get())
        print(summary_line(results), flush=True)
    return exit_code(results)


MIN_COLUMNS, MAX_COLUMNS = 40, 400


def _encodes(stream: object) -> bool:
    """Whether a stream can take the report's characters (box lines, Σ, δ)."""
    try:
        "╭─│Σδ∂·".encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _compile(document: str, target: Path) -> bool:
    """pdflatex twice (tables settle on the second pass) in a scratch folder; the PDF is copied to `target`."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "report.tex"
        source.write_text(document, encoding="utf-8")
        for _ in range(2):
            done = subprocess.run(
                ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", source.name],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if done.returncode != 0:
                errors = [ln for ln in done.stdout.splitlines() if ln.startswith("!")][:3]
                print(f"derive-check: error: pdflatex failed: {' '.join(errors)}", file=sys.stderr)
                return False
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(folder) / "report.pdf", target)
    return True


def _write(path: Path, text: str) -> None:
    """The one place files are written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _run(
    files: Sequence[Path], settings: Settings, err: Console, jobs: int, cache: ProofCache | None = None
) -> list[FileResult]:
    from rich.progress import Progress

    from derive_check.verify.results import FileResult
    from derive_check.verify.run.cache import Keys, file_keys
    from derive_check.verify.run.load import load
    from derive_check.verify.run.replay import cached_result

    models = {f: load(f) for f in files}  # each file is parsed once; the model goes on to the cache and a worker
    known: dict[Path, FileResult | None] = {f: m for f, m in models.items() if isinstance(m, FileResult)}
    keys: dict[Path, Keys] = {}
    if cache:
        for f, spec in models.items():
            if not isinstance(spec, FileResult):
                keys[f] = file_keys(spec, settings.budget, settings.typeset, settings.randomized)
                known[f] = cached_result(spec, f, keys[f], settings.typeset, cache)
    if all(known.get(f) for f in files):  # everything answered from the cache: SymPy is never imported
        return [r for r in (known[f] for f in files) if r is not None]

    import derive_check.verify.run.engine  # noqa: F401 - imported before forking: workers start without importing
    from derive_check.verify.run.workers import check_in_workers

    todo = [(f, m, keys.get(f)) for f, m in models.items() if not known.get(f) and not isinstance(m, FileResult)]
    if not err.is_terminal:
        checked = check_in_workers(todo, settings, jobs)
    else:
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task(f"checking {len(todo)} file(s) on {min(jobs, len(todo))} worker(s)", total=len(todo))
            checked = check_in_workers(todo, settings, jobs, done=lambda _: bar.advance(task))
    fresh = dict(zip([f for f, _, _ in todo], checked, strict=True))
    return [known.get(f) or fresh[f] for f in files]


def entry() -> None:
    """Console-script entry point (a reader closing the pipe, as `| head` does, is not an error to report)."""
    try:
        sys.exit(main())
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_FAILED)
