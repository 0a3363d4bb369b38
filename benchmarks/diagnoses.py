"""Diagnosis coverage: how many wrong claims get a proved reading, on the corpus of realistic slips.

    python benchmarks/diagnoses.py

The corpus is the zoo's typical slips, the seeds' wrong claims and `examples/two_layer_wrong.toml`: every claim
whose verdict is REFUTED or SHAPE ERROR. A diagnosis is only ever reported when the exact engine PROVES its
corrected formula (or, for "fix dz first", the claim itself once the earlier claim is replaced by its truth),
so coverage is the only figure here; a wrong diagnosis cannot be reported. The run is the command a user types,
with the cache off.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ("examples/zoo", "examples/seeds", "examples/two_layer_wrong.toml")


def main() -> None:
    """Print the coverage table."""
    done = subprocess.run(
        [sys.executable, "-m", "derive_check", *CORPUS, "--no-cache", "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    files = json.loads(done.stdout)["files"]
    rows: Counter[str] = Counter()
    covered: Counter[str] = Counter()
    missing: list[str] = []
    for f in files:
        group = Path(f["file"]).parent.name
        for c in f["claims"]:
            if c["verdict"] not in ("REFUTED", "SHAPE ERROR"):
                continue
            rows[group] += 1
            if c["diagnosis"]:
                covered[group] += 1
            else:
                missing.append(f"{Path(f['file']).name}: {c['claim']}")
    print("| corpus | wrong claims | with a proved diagnosis |")
    print("|---|---:|---:|")
    for group in sorted(rows):
        print(f"| {group} | {rows[group]} | {covered[group]} |")
    total, hit = sum(rows.values()), sum(covered.values())
    print(f"| **all** | {total} | {hit} ({100 * hit / total:.0f} %) |")
    print("\nwithout a diagnosis:", ", ".join(missing))


if __name__ == "__main__":
    main()
