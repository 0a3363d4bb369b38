"""Time derive-check on the canonical file beside the naive SymPy baseline, in one run.

    python benchmarks/bench_engine.py [FILE] [--baseline-entries K]

Prints a table: the whole derive-check process (best of 3, CPU and wall), the
engine on the parameter claims alone, and `sympy.simplify(diff(L) - claim)` on
exactly those entries (real exp/log; same masks and one-hot information), and
the ratio. It is a benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def cli_process(path: Path, runs: int = 3) -> tuple[float, float]:
    """Best (CPU seconds, wall seconds) of `derive-check FILE` as a fresh process."""
    best = (float("inf"), float("inf"))
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "derive_check", str(path), "--no-cache"], cwd=ROOT, capture_output=True, check=False
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = min(best, (cpu, wall))
    return best


def engine_on_parameters(path: Path) -> tuple[int, float, list[str]]:
    """(entries, CPU seconds, verdicts) of the engine on the claims about parameters (shared setup included)."""
    from derive_check.derive.exact.network import build_network
    from derive_check.derive.model.spec import load_file
    from derive_check.verify.check.session import Session
    from derive_check.verify.decide.equality import Equality
    from derive_check.verify.run.engine import check_claim

    started = time.process_time()
    spec = load_file(path)
    net = build_network(spec)
    session = Session(net, Equality(net), dict(net.values))
    entries, verdicts = 0, []
    for claim in spec.claims:
        result = check_claim(session, claim, 60.0)
        if claim.target in net.symbols:
            entries += result.entries
            verdicts.append(f"{claim.name}:{result.verdict.label}")
    return entries, time.process_time() - started, verdicts


def baseline(path: Path, limit: int | None) -> tuple[int, float, int]:
    """(entries, CPU seconds, entries simplify proved) for the naive method."""
    import sympy as sp

    from benchmarks.naive import naive_pairs
    from derive_check.derive.model.spec import load_file

    pairs = naive_pairs(load_file(path))[:limit]
    started = time.process_time()
    proved = 0
    for k, (name, truth, claim) in enumerate(pairs, 1):
        proved += sp.simplify(truth - claim) == 0
        print(f"  baseline {k}/{len(pairs)} {name}: {time.process_time() - started:.1f} s", file=sys.stderr, flush=True)
    return len(pairs), time.process_time() - started, proved


def main() -> None:
    """Run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=ROOT / "examples" / "two_layer.toml")
    parser.add_argument("--baseline-entries", type=int, default=None, help="only the first K entries (faster)")
    args = parser.parse_args()
    import sympy

    cpu_model = (
        next(
            (
                ln.split(":", 1)[1].strip()
                for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else ""
    )
    print(
        f"machine: {os.cpu_count()} cores, {cpu_model}; Python {platform.python_version()}, SymPy {sympy.__version__}"
    )
    print(f"file: {args.file.relative_to(ROOT) if args.file.is_relative_to(ROOT) else args.file}\n")
    proc_cpu, proc_wall = cli_process(args.file)
    entries, engine_cpu, verdicts = engine_on_parameters(args.file)
    base_entries, base_cpu, base_proved = baseline(args.file, args.baseline_entries)
    per_entry = engine_cpu / entries
    engine_same = per_entry * base_entries  # the engine's cost on the baseline's entries
    rows = [
        ("derive-check, whole process (best of 3)", "all claims", f"{proc_cpu:.2f}", f"{proc_wall:.2f}"),
        ("derive-check engine in-process, all claims", f"{entries} (params)", f"{engine_cpu:.2f}", ""),
        ("naive simplify(diff - claim), same entries", str(base_entries), f"{base_cpu:.1f}", ""),
    ]
    print(f"| {'what':<44} | {'entries':>10} | {'CPU s':>7} | {'wall s':>6} |")
    print(f"|{'-' * 46}|{'-' * 12}|{'-' * 9}|{'-' * 8}|")
    for row in rows:
        print(f"| {row[0]:<44} | {row[1]:>10} | {row[2]:>7} | {row[3]:>6} |")
    print(f"\nengine verdicts: {', '.join(verdicts)}")
    print(f"baseline proved {base_proved}/{base_entries} entries")
    print(
        f"ratio, engine (all claims, setup included) vs baseline on its {base_entries} entries: "
        f"{base_cpu / engine_same:.0f}x"
    )
    print(f"ratio, whole derive-check process vs baseline: {base_cpu / proc_cpu:.0f}x")


if __name__ == "__main__":
    main()
