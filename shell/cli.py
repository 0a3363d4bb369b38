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

from derive_check.config import ConfigError, Version, read_config
from derive_check.run import run_files
from derive_check.scan import SelectionError, claim_filter, collect
from derive_check.verify.run.workers import Settings

EXIT_PROVED, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (kept separate so docs and tests can inspect it)."""
    parser = argparse.ArgumentParser(
        prog="derive-check",
        description="Prove or refute claimed backprop gradient formulas, entry by entry, exactly.",
        epilog="Every pass is re-checked by an independent numeric witness (60-digit central differences at random "
        "points; for a proof for all sizes, at other sizes too). Exit codes: 0 all proved; 1 some claim refuted, "
        "undecided or of the wrong shape; 2 usage or input error; 3 internal error: INCONSISTENT (the proof engine "
        "and the witness disagree) or a crash, a bug in derive-check (as pytest uses 3 for internal errors). "
        "Settings may also be given in pyproject.toml's [tool.derive-check] under the flags' names.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="derivation files or directories to search for them (default: `paths` in [tool.derive-check]); "
        "`derive-check init [FILE]` writes a starter file",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        metavar="GLOB",
        help="skip files and folders matching GLOB when searching directories (repeatable; adds to `exclude` in "
        "[tool.derive-check])",
    )
    parser.add_argument(
        "-k",
        dest="select",
        metavar="EXPR",
        help="check only claims whose names match EXPR "
        "(pytest's -k: words, and, or, not, parentheses), with the earlier claims they use",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print only what is not proved, one line each, and the summary"
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
        "--stated-only",
        action="store_true",
        help="decide at the stated sizes only, by the fixed-size engine: no proof for all sizes is tried "
        "(by default it is tried first, and the stated sizes are its cross-check)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="worker processes (default: the number of cores): files at once, a file's claims shared out when idle",
    )
    parser.add_argument("--no-timings", action="store_true", help="omit timings (stable output for diffs)")
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also print each counterexample's exact entry residual (always in --format json)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "annotations", "sarif"),
        default="text",
        help="stdout as a rich report (text), the full JSON record, `file:line:col: error:` lines "
        "(GitHub `::error` commands when GITHUB_ACTIONS is set), or SARIF 2.1.0 for code-scanning tools; "
        "the summary line goes to stderr for the machine formats",
    )
    parser.add_argument("--junit", type=Path, metavar="OUT.xml", help="also write JUnit XML (one testcase per claim)")
    parser.add_argument("--latex", type=Path, metavar="OUT.tex", help="also write the LaTeX proof report")
    parser.add_argument("--pdf", type=Path, metavar="OUT.pdf", help="also compile the report with pdflatex")
    parser.add_argument("--no-cache", action="store_true", help="check every claim afresh, without the cache")
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="the proof cache folder (default: $DERIVE_CHECK_CACHE, else .derive-check-cache)",
    )
    parser.add_argument("--clear-cache", action="store_true", help="empty the proof cache first (alone: and exit)")
    parser.add_argument("--json-schema", action="store_true", help="print the JSON schema of --format json and exit")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    parser.add_argument("--version", action=Version, lookup=_version, help="show the installed version and exit")
    return parser


def _version() -> str:
    from derive_check.reports.sarif import installed_version  # SARIF states the same version

    return installed_version()


def main(argv: Sequence[str] | None = None) -> int:
    """Run derive-check; returns the exit code."""
    if (argv is not None and "--json-schema" in argv) or (argv is None and "--json-schema" in sys.argv[1:]):
        import json

        from derive_check.reports.machine import SCHEMA

        print(json.dumps(SCHEMA, indent=2))
        return EXIT_PROVED
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["init"]:
        return _init(argv[1:])
    parser = build_parser()
    try:
        pyproject, defaults = read_config(Path.cwd())
    except ConfigError as exc:
        print(f"derive-check: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configured_exclude = defaults.pop("exclude", [])
    configured_paths = [pyproject.parent / p for p in defaults.pop("paths", [])] if pyproject else []
    parser.set_defaults(**defaults)
    args = parser.parse_args(argv)
    cache_dir = Path(args.cache_dir or os.environ.get("DERIVE_CHECK_CACHE") or ".derive-check-cache")
    if args.clear_cache:
        _clear(cache_dir)
        if not args.paths:
            return EXIT_PROVED
    paths = list(args.paths) or configured_paths
    if not paths:
        parser.error("give a derivation file or folder, or set `paths` in [tool.derive-check] of pyproject.toml")
    try:
        files = collect(paths, [*configured_exclude, *(args.exclude or [])], pyproject.parent if pyproject else None)
        keep = claim_filter(args.select) if args.select is not None else None
    except (FileNotFoundError, SelectionError) as exc:
        print(f"derive-check: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not 0 < args.budget <= MAX_BUDGET:
        print(
            f"derive-check: error: --budget must be a number of seconds above 0 and at most {MAX_BUDGET:g}, "
            f"not {args.budget}",
            file=sys.stderr,
        )
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

        cache = ProofCache.open(cache_dir / "proofs.sqlite")
    settings = Settings(args.budget, typeset, cache.path if cache else None, args.randomized, args.stated_only)
    results = run_files(files, settings, Console(stderr=True), args.jobs, cache, keep)
    if not results:
        print(f"derive-check: error: no claim matches -k {args.select!r}", file=sys.stderr)
        return EXIT_USAGE
    if args.junit and not _write(args.junit, to_junit(results)):
        return EXIT_USAGE
    if typeset:
        from derive_check.reports.latex import to_latex_document

        document = to_latex_document(results)
        if args.latex and not _write(args.latex, document):
            return EXIT_USAGE
        if args.pdf and not _compile(document, args.pdf):
            return EXIT_USAGE
    summary = summary_line(results)
    if args.format == "json":
        print(to_json(results, ascii_only=plain))
    elif args.format == "sarif":
        from derive_check.reports.sarif import to_sarif

        print(to_sarif(results, ascii_only=plain))
    elif args.format == "annotations" or args.quiet:
        sys.stdout.write(annotation_lines(results, github=args.format == "annotations" and _github()))
    else:
        with out.capture() as captured:
            for renderable in render_files(results, timings=not args.no_timings, verbose=args.verbose):
                kept = isinstance(renderable, Text) and renderable.no_wrap  # error lines and arrays never wrap
                out.print(renderable, soft_wrap=kept)
        sys.stdout.write(ascii_text(captured.get()) if plain else captured.get())
    sys.stdout.flush()
    print(summary, file=sys.stdout if args.format == "text" else sys.stderr, flush=True)
    return exit_code(results)


MIN_COLUMNS, MAX_COLUMNS = 40, 400
MAX_BUDGET = 86_400.0  # a day per claim: beyond it the deadlines overflow the clock


def _github() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def _init(argv: list[str]) -> int:
    """`derive-check init [FILE]`: write the starter derivation file."""
    from derive_check.init import write_starter

    parser = argparse.ArgumentParser(prog="derive-check init", description="Write a starter derivation file.")
    parser.add_argument("file", nargs="?", type=Path, help="where (default: ./two_layer.derive.toml)")
    args = parser.parse_args(argv)
    try:
        path = write_starter(args.file)
    except (OSError, ValueError) as exc:
        print(f"derive-check: error: cannot write the starter file: {type(exc).__name__}: {exc}"[:300], file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {path}: check it with `derive-check {path}`")
    return EXIT_PROVED


def _clear(cache_dir: Path) -> None:
    """Empty the proof cache (its database; the folder and its .gitignore stay)."""
    for name in ("proofs.sqlite", "proofs.sqlite-journal", "proofs.sqlite-wal", "proofs.sqlite-shm"):
        try:
            (cache_dir / name).unlink(missing_ok=True)
        except OSError as exc:
            print(f"derive-check: warning: cannot clear {cache_dir / name}: {exc}", file=sys.stderr)
    print(f"derive-check: cleared the proof cache in {cache_dir}", file=sys.stderr)


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
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(folder) / "report.pdf", target)
        except (OSError, ValueError) as exc:
            print(f"derive-check: error: cannot write {str(target)[:200]}: {type(exc).__name__}", file=sys.stderr)
            return False
    return True


def _write(path: Path, text: str) -> bool:
    """The one place files are written; False (and the reason on stderr) where the path cannot take a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except (OSError, ValueError) as exc:
        print(f"derive-check: error: cannot write {str(path)[:200]}: {type(exc).__name__}", file=sys.stderr)
        return False
    return True


def entry() -> None:
    """Console-script entry point (a reader closing the pipe, as `| head` does, is not an error to report; a crash
    exits 3, never 1, the code of REFUTED)."""
    try:
        code = main()
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_FAILED)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception:  # a bug: say so, show where, and exit 3 as pytest does for internal errors
        import traceback

        traceback.print_exc()
        print("derive-check: internal error (a bug in derive-check; please report it with the file)", file=sys.stderr)
        sys.exit(EXIT_INTERNAL)
    os._exit(code)  # all written and flushed: skip tearing SymPy's caches down object by object (~0.08 s)
