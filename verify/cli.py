"""`derive-check`: the command line, and the one place that wires verify to reports.

SymPy takes most of a second to import, so everything heavy is imported
inside `main` after the arguments parse: `--help` and usage errors are
instant. Progress goes to stderr, results to stdout.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from verify.results import FileResult

EXIT_PROVED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (kept separate so docs and tests can inspect it)."""
    parser = argparse.ArgumentParser(
        prog="derive-check",
        description="Prove or refute claimed backprop gradient formulas, entry by entry, exactly.",
        epilog="Exit codes: 0 all proved; 1 some claim refuted, undecided or of the wrong shape; "
        "2 usage or input error.",
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
    parser.add_argument("--no-timings", action="store_true", help="omit timings (stable output for diffs)")
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
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.toml") if p.is_file())
            if not found:
                raise FileNotFoundError(f"{path}: no .toml files in this directory")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    return files


def main(argv: Sequence[str] | None = None) -> int:
    """Run derive-check; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        files = collect(args.paths)
    except FileNotFoundError as exc:
        print(f"derive-check: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not args.budget > 0:
        print("derive-check: error: --budget must be positive", file=sys.stderr)
        return EXIT_USAGE

    from rich.console import Console
    from rich.text import Text

    from reports.terminal import render_files, summary_line
    from verify.results import Verdict

    color = {"always": True, "never": False}.get(args.color)
    out = Console(force_terminal=color, no_color=color is False, highlight=False, soft_wrap=False)
    if not out.is_terminal:
        out.width = 120
    results = _run(files, args.budget, Console(stderr=True))
    for renderable in render_files(results, timings=not args.no_timings):
        out.print(renderable, soft_wrap=isinstance(renderable, Text))  # error lines must never wrap
    print(summary_line(results), flush=True)
    worst = max((r.worst for r in results), default=Verdict.PROVED)
    return {Verdict.PROVED: EXIT_PROVED, Verdict.ERROR: EXIT_USAGE}.get(worst, EXIT_FAILED)


def _run(files: Sequence[Path], budget: float, err: Console) -> list[FileResult]:
    from rich.progress import Progress

    from verify.engine import check_path

    if not err.is_terminal:
        return [check_path(f, budget) for f in files]
    results = []
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("checking", total=len(files))
        for f in files:

            def show(name: str, f: Path = f) -> None:
                bar.update(task, description=f"{f.name}: {name}")

            results.append(check_path(f, budget, show))
            bar.advance(task)
    return results


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
