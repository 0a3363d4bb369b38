"""derive-check, its fixed-size engines, naive SymPy and a cold torch gradcheck, on one size ladder, in one run.

    python benchmarks/ladder.py [--limit 120] [--plot benchmarks/ladder.png]

For each size (N, D, H, C) of the canonical two-layer file it times, each as a fresh
process: `derive-check` (the all-sizes proof first, the stated sizes as its cross-check),
`derive-check --stated-only` (the fixed-size exact normal form alone: the path of claims
not proved for all sizes), `derive-check --stated-only --randomized`, the naive
`sympy.simplify(diff(L) - claim)` on every parameter entry, and, when torch is
installed, a cold process that builds the network in torch, runs
`torch.autograd.gradcheck` on the loss and compares the claimed formulas with
autograd. A method that exceeds the limit at one size is not run at larger ones.
Peak memory is the process tree's maximum resident set (wait4). Prints a table, the
growth exponent of each method (least-squares slope of log time against log entries)
and saves a log-log plot of time against checked entries (matplotlib, if installed).
This is a benchmark: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LADDER = [(2, 3, 4, 5), (4, 6, 8, 10), (8, 16, 16, 10), (16, 32, 32, 10), (32, 64, 64, 10)]
METHODS = ("exact", "stated", "randomized", "naive", "torch")
DERIVE_CHECK = ("exact", "stated", "randomized")  # the methods whose output is derive-check's JSON
NAMES = {
    "exact": "derive-check",
    "stated": "fixed-size exact (--stated-only)",
    "randomized": "fixed-size randomized",
    "naive": "naive SymPy",
    "torch": "torch gradcheck",
}


@dataclass
class Run:
    """One timed process: wall seconds, peak RSS in MB, whether it finished, and what it said."""

    seconds: float
    peak_mb: float
    finished: bool
    output: str


def timed(command: list[str], limit: float) -> Run:
    """Run `command` as a fresh process tree, killed after `limit` seconds."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        child = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        finished = True
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > limit:
                os.killpg(child.pid, 9)
                _, status, usage = os.wait4(child.pid, 0)
                finished = False
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return Run(seconds, usage.ru_maxrss / 1024, finished, out.read())


def model_file(sizes: tuple[int, int, int, int], folder: Path) -> Path:
    """The canonical two-layer file at these sizes."""
    text = (ROOT / "examples" / "two_layer.toml").read_text()
    for name, value in zip("NDHC", sizes, strict=True):
        text = re.sub(rf"^{name} = \d+", f"{name} = {value}", text, flags=re.M)
    path = folder / f"two_layer_{'_'.join(map(str, sizes))}.toml"
    path.write_text(text)
    return path


def commands(path: Path, limit: float) -> dict[str, list[str]]:
    """The command line of each method on one file."""
    cli = [sys.executable, "-m", "derive_check", str(path), "--no-cache", "--budget", str(limit), "--format", "json"]
    return {
        "exact": cli,
        "stated": [*cli, "--stated-only"],
        "randomized": [*cli, "--stated-only", "--randomized"],
        "naive": [sys.executable, str(ROOT / "benchmarks" / "naive_run.py"), str(path)],
        "torch": [sys.executable, str(ROOT / "benchmarks" / "torch_check.py"), str(path)],
    }


def summary(method: str, run: Run) -> tuple[int, str]:
    """(checked entries, verdict words) from a run's output."""
    if method in DERIVE_CHECK:
        try:
            record = json.JSONDecoder().raw_decode(run.output[run.output.index("{") :])[0]
        except ValueError:
            return 0, "no output"
        claims = [c for f in record["files"] for c in f["claims"]]
        counts: dict[str, int] = {}
        for c in claims:
            counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
        return sum(c["entries"] for c in claims), ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    last = run.output.strip().splitlines()[-1] if run.output.strip() else ""
    return 0, last[:60]


def main() -> None:
    """Run the ladder and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=120.0, help="seconds before a method is stopped")
    parser.add_argument("--plot", type=Path, default=ROOT / "benchmarks" / "ladder.png")
    parser.add_argument("--rungs", type=int, default=len(LADDER))
    parser.add_argument("--methods", default=",".join(METHODS), help=f"a comma-separated subset of {METHODS}")
    args = parser.parse_args()
    has_torch = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in ln),
        platform.processor(),
    )
    print(f"machine: {os.cpu_count()} cores, {cpu}; Python {platform.python_version()}; limit {args.limit:g} s")
    stopped: set[str] = (set() if has_torch else {"torch"}) | (set(METHODS) - set(args.methods.split(",")))
    rows, points = [], {m: [] for m in METHODS}
    cut: dict[str, tuple[int, float]] = {}  # where a method was stopped: drawn as a lower bound
    with tempfile.TemporaryDirectory() as folder:
        for sizes in LADDER[: args.rungs]:
            path = model_file(sizes, Path(folder))
            row: dict[str, Run | None] = {}
            n, d, h, c = sizes
            entries = n * c + h * c + c + n * h + d * h + h  # dscores, dW2, db2, dh1, dW1, db1
            for method, command in commands(path, args.limit).items():
                if method in stopped:
                    row[method] = None
                    continue
                run = timed(command, args.limit)
                row[method] = run
                words = summary(method, run)[1]
                print(f"  {sizes} {method}: {run.seconds:.1f} s, {run.peak_mb:.0f} MB, {words}", file=sys.stderr)
                if not run.finished:
                    stopped.add(method)
                    cut[method] = (entries, args.limit)
                else:
                    points[method].append((entries, run.seconds))
            rows.append((sizes, entries, row))
    print_table(rows, args.limit)
    growth(points)
    if not has_torch:
        print("torch is not installed: the gradcheck column is empty (pip install torch==2.13.0)")
    plot(points, cut, args.plot)


def cell(run: Run | None, limit: float) -> str:
    """A time cell: seconds, or '> limit' for a stopped run, or '-' when not run."""
    if run is None:
        return "-"
    return f"{run.seconds:.2f}" if run.finished else f">{limit:g}"


def crosschecks(run: Run) -> str:
    """How many claims each cross-check confirmed, from derive-check's JSON ("6 normal form", "4 modular, 2 ...")."""
    try:
        record = json.JSONDecoder().raw_decode(run.output[run.output.index("{") :])[0]
    except ValueError:
        return "-"
    counts: dict[str, int] = {}
    for claim in (c for f in record["files"] for c in f["claims"]):
        kind = claim.get("crosscheck") or "none"
        counts[kind] = counts.get(kind, 0) + 1
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))


def print_table(rows: list[tuple[tuple[int, ...], int, dict[str, Run | None]]], limit: float) -> None:
    """The ladder as a Markdown table."""
    print(
        "\n| N, D, H, C | entries | derive-check s | verdicts | cross-check | peak MB | fixed-size exact s | "
        "fixed-size peak MB | randomized s | naive s | torch gradcheck s | fixed-size / derive-check | "
        "torch / derive-check |"
    )
    print("|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for sizes, entries, row in rows:
        exact, stated = row["exact"], row["stated"]
        verdicts = summary("exact", exact)[1] if exact else "-"
        ratios = []
        for other in ("stated", "torch"):
            run = row[other]
            if exact is None or run is None or not exact.finished:
                ratios.append("-")
            else:
                ratios.append(f"{run.seconds / exact.seconds:.1f}x" + ("" if run.finished else " (at least)"))
        print(
            f"| {', '.join(map(str, sizes))} | {entries} | {cell(exact, limit)} | {verdicts} | "
            f"{crosschecks(exact) if exact and exact.finished else '-'} | {peak(exact)} | {cell(stated, limit)} | "
            f"{peak(stated)} | {cell(row['randomized'], limit)} | {cell(row['naive'], limit)} | "
            f"{cell(row['torch'], limit)} | {ratios[0]} | {ratios[1]} |"
        )


def peak(run: Run | None) -> str:
    """Peak memory in MB of a finished run, else '-'."""
    return f"{run.peak_mb:.0f}" if run and run.finished else "-"


def growth(points: dict[str, list[tuple[int, float]]]) -> None:
    """The least-squares slope of log(seconds) against log(entries) for each method with three or more sizes."""
    for method, values in points.items():
        if len(values) >= 3:
            xs = [math.log(e) for e, _ in values]
            ys = [math.log(t) for _, t in values]
            mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
            print(f"growth exponent, {method}: time ~ entries^{slope:.2f} over {len(values)} sizes")


def plot(points: dict[str, list[tuple[int, float]]], cut: dict[str, tuple[int, float]], target: Path) -> None:
    """Time against checked entries, log-log, one line per method; a triangle where a method hit the limit."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)")
        return
    figure, axes = plt.subplots(figsize=(6, 4))
    for method, values in points.items():
        line = axes.loglog(*zip(*values, strict=True), marker="o", label=NAMES[method]) if values else None
        if method in cut:
            color = line[0].get_color() if line else None
            axes.loglog(
                *cut[method],
                marker="^",
                markersize=10,
                color=color,
                linestyle="none",
                label=None if line else f"{NAMES[method]} (stopped)",
            )
    axes.set_xlabel("checked entries")
    axes.set_ylabel("seconds (fresh process)")
    axes.set_title("derive-check on the two-layer ladder")
    axes.legend()
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(target, dpi=120)
    print(f"plot: {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")


if __name__ == "__main__":
    main()
