"""The derivation zoo: every correct formula proved, every slip caught, and what the whole zoo costs.

    python benchmarks/zoo.py              # one cold run of the whole zoo, the table README shows
    python benchmarks/zoo.py --runs 5     # the median of 5 cold runs (process CPU time and wall time)

Each file of `examples/zoo/` lists its correct formulas first and its typical slips after the line
`# typical slips`. A correct formula must be PROVED; a slip must be REFUTED or a SHAPE ERROR. The run is the
command README gives (`derive-check examples/zoo`), with the cache off, as one child process per run; its
CPU time (user + system, the workers included) is read from the operating system's accounting.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ZOO = ROOT / "examples" / "zoo"
MARKER = "# typical slips"
CAUGHT = ("REFUTED", "SHAPE ERROR")


@dataclass(frozen=True)
class Row:
    """One derivation of the zoo and how its claims fared."""

    file: str
    title: str
    sizes: str
    correct: int
    proved: int
    all_sizes: int
    slips: int
    caught: int
    seconds: float
    wrong: tuple[str, ...]  # claims whose verdict is not the expected one


def expected(path: Path) -> dict[str, bool]:
    """claim -> True for a correct formula (listed before the marker), False for a slip (after it)."""
    text = path.read_text()
    body = text.split("[claims]", 1)[1]
    correct, _, slips = body.partition(MARKER)
    names = re.compile(r"^([A-Za-z_]\w*)\s*=", re.MULTILINE)
    return {**dict.fromkeys(names.findall(correct), True), **dict.fromkeys(names.findall(slips), False)}


def run_once(jobs: int) -> tuple[dict[str, object], float, float]:
    """The whole zoo as one cold CLI run: (its JSON record, CPU seconds, wall seconds)."""
    command = [sys.executable, "-m", "derive_check", "--no-cache", "--format", "json", "--jobs", str(jobs), str(ZOO)]
    before = os.times()
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    if done.returncode not in (0, 1):
        raise SystemExit(f"derive-check failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout), cpu, wall


def rows_of(record: dict[str, object]) -> list[Row]:
    """One row per zoo file, with its claims classified against `expected`."""
    rows = []
    for entry in record["files"]:  # type: ignore[attr-defined]
        path = Path(entry["file"])
        want = expected(path if path.is_absolute() else ROOT / path)
        claims = {c["claim"]: c for c in entry["claims"]}
        wrong = []
        for name, good in want.items():
            verdict = claims.get(name, {}).get("verdict", "MISSING")
            if (verdict == "PROVED") != good or (not good and verdict not in CAUGHT):
                wrong.append(f"{name}: {verdict}")
        correct = [claims[n] for n, good in want.items() if good and n in claims]
        sizes = ", ".join(f"{k}={v}" for k, v in entry["sizes"].items())
        rows.append(
            Row(
                file=path.name,
                title=str(entry["title"]),
                sizes=sizes,
                correct=sum(want.values()),
                proved=sum(c["verdict"] == "PROVED" for c in correct),
                all_sizes=sum(c["verdict"] == "PROVED" and c["sizes"] == "all" for c in correct),
                slips=sum(not g for g in want.values()),
                caught=sum(claims.get(n, {}).get("verdict") in CAUGHT for n, g in want.items() if not g),
                seconds=float(entry["seconds"]),
                wrong=tuple(wrong),
            )
        )
    return sorted(rows, key=lambda r: r.file)


def table(rows: list[Row]) -> str:
    """The zoo as a Markdown table (README's)."""
    lines = [
        "| derivation | sizes | correct: proved (all sizes) | slips caught | time |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.file.removesuffix('.toml')} | {r.sizes} | {r.proved}/{r.correct} ({r.all_sizes}) | "
            f"{r.caught}/{r.slips} | {r.seconds:.2f} s |"
        )
    total = (sum(r.proved for r in rows), sum(r.correct for r in rows), sum(r.all_sizes for r in rows))
    caught = (sum(r.caught for r in rows), sum(r.slips for r in rows))
    lines.append(f"| **{len(rows)} derivations** | | {total[0]}/{total[1]} ({total[2]}) | {caught[0]}/{caught[1]} | |")
    return "\n".join(lines)


def main() -> int:
    """Run the zoo `--runs` times cold and print the table and the medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    cpus, walls, rows = [], [], []
    for _ in range(args.runs):
        record, cpu, wall = run_once(args.jobs)
        cpus.append(cpu)
        walls.append(wall)
        rows = rows_of(record)
    print(table(rows))
    print()
    print(
        f"whole zoo, cold cache, --jobs {args.jobs}: process CPU time median {statistics.median(cpus):.1f} s, "
        f"wall median {statistics.median(walls):.1f} s over {args.runs} run(s) "
        f"(CPU: {', '.join(f'{c:.1f}' for c in cpus)})"
    )
    wrong = [f"{r.file}: {w}" for r in rows for w in r.wrong]
    for line in wrong:
        print("NOT AS EXPECTED:", line)
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
