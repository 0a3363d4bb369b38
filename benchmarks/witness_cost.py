"""What the independent witness costs: its share of the canonical file's whole-process time.

    python benchmarks/witness_cost.py [FILE] [--runs 5]

Prints a table: the whole `derive-check --no-cache FILE` process (CPU and wall seconds, median of the
runs, each a fresh process), and the witness alone, in-process (`verify.witness.crosscheck.crosscheck` on the
file's results: every passing claim at its points, plus the other size tuples of claims proved for all
sizes), median of the runs. The share is the witness's median over the process's median CPU time.
The target of the soundness issue is a share of at most 15 %.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def whole_process(path: Path) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one fresh `derive-check --no-cache` process on `path`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "derive_check", "--no-cache", "--jobs", "1", str(path)],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def witness_alone(path: Path) -> tuple[float, int]:
    """(seconds, passing claims) of the witness on the file's results, in-process."""
    from derive_check.derive.model.spec import load_file
    from derive_check.verify.run.engine import check_path
    from derive_check.verify.witness.crosscheck import crosscheck

    spec = load_file(path)
    results = list(check_path(path).claims)
    started = time.perf_counter()
    checked = crosscheck(spec, results)
    return time.perf_counter() - started, sum(c.verdict.passed for c in checked)


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=ROOT / "examples" / "two_layer.toml")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    process = [whole_process(args.file) for _ in range(args.runs)]
    witness = [witness_alone(args.file) for _ in range(args.runs)]
    cpu = statistics.median(c for c, _ in process)
    wall = statistics.median(w for _, w in process)
    alone = statistics.median(s for s, _ in witness)
    print(f"| what ({args.file.name}, median of {args.runs}) | seconds |")
    print("|---|---:|")
    print(f"| whole process, CPU | {cpu:.3f} |")
    print(f"| whole process, wall | {wall:.3f} |")
    print(f"| witness alone, in-process ({witness[0][1]} passing claims) | {alone:.3f} |")
    print(f"| witness share of the process's CPU time | {100 * alone / cpu:.1f} % |")


if __name__ == "__main__":
    main()
