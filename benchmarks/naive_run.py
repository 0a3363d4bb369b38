"""The naive baseline as its own process: simplify(diff(L) - claim) on every parameter entry of FILE.

    python benchmarks/naive_run.py FILE

Prints one line per entry as it goes (so a stopped run shows how far it got) and a last line
`naive: K/N entries proved in S s`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    """Run the baseline on the file named on the command line."""
    import sympy as sp

    from benchmarks.naive import naive_pairs
    from derive_check.derive.model.spec import load_file

    started = time.perf_counter()
    pairs = naive_pairs(load_file(Path(sys.argv[1])))
    proved = 0
    for k, (name, truth, claim) in enumerate(pairs, 1):
        proved += sp.simplify(truth - claim) == 0
        print(f"{k}/{len(pairs)} {name}: {time.perf_counter() - started:.1f} s", flush=True)
    print(f"naive: {proved}/{len(pairs)} entries proved in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
