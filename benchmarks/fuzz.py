"""Fuzz derive-check with thousands of hostile inputs and count what happens.

    python benchmarks/fuzz.py [--count N] [--seed S]

Four generators: token soup (parser), well-formed formulas over the model's names (evaluator and engine),
random bytes (loader), and real files with random characters replaced (TOML and everything after).
Every input must end in a verdict or an input error; "internal" counts the engine's last-resort guard
firing (a bug), and the script exits 1 if it ever does.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from derive_check.verify.run.engine import INTERNAL, check_path  # noqa: E402
from tests.conftest import TWO_LAYER_HEAD  # noqa: E402
from tests.test_fuzz import NAMES, TOKENS, _toml_string  # noqa: E402

REAL = (ROOT / "examples" / "two_layer.toml").read_text()


def token_soup(rng: random.Random) -> str:
    return (
        TWO_LAYER_HEAD + "[claims]\ndW2 = " + _toml_string(" ".join(rng.choices(TOKENS, k=rng.randint(1, 14)))) + "\n"
    )


def structured(rng: random.Random, depth: int = 0) -> str:
    if depth > 3 or rng.random() < 0.3:
        return rng.choice(NAMES)
    kind = rng.randrange(6)
    if kind == 0:
        return f"({structured(rng, depth + 1)} {rng.choice('+-*/@')} {structured(rng, depth + 1)})"
    if kind == 1:
        return f"{rng.choice(['exp', 'log', 'relu', 'sigmoid', 'tanh', 'sum', 'mean'])}({structured(rng, depth + 1)})"
    if kind == 2:
        return f"{rng.choice(['sum', 'mean', 'softmax'])}({structured(rng, depth + 1)}, axis={rng.randint(-2, 2)})"
    if kind == 3:
        return f"{structured(rng, depth + 1)}.T"
    if kind == 4:
        return f"({structured(rng, depth + 1)} > 0)"
    return f"{structured(rng, depth + 1)} ** {rng.randint(-3, 3)}"


def structured_file(rng: random.Random) -> str:
    return TWO_LAYER_HEAD + "[claims]\ndW2 = " + _toml_string(structured(rng)) + "\n"


def random_bytes(rng: random.Random) -> bytes:
    return bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))


def mutated_file(rng: random.Random) -> str:
    text = list(REAL)
    for _ in range(rng.randint(1, 6)):
        text[rng.randrange(len(text))] = rng.choice('"=[]{}x,.#\n0123456789 -_ab')
    return "".join(text)


GENERATORS = {
    "token soup": token_soup,
    "well-formed formula": structured_file,
    "random bytes": random_bytes,
    "mutated real file": mutated_file,
}


def main() -> int:
    """Run the fuzzer and print a table of outcomes per generator."""
    parser = argparse.ArgumentParser(description="fuzz derive-check")
    parser.add_argument("--count", type=int, default=500, help="inputs per generator")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.perf_counter()
    crashes = 0
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.toml"
        for name, generate in GENERATORS.items():
            outcomes: Counter[str] = Counter()
            for _ in range(args.count):
                data = generate(rng)
                path.write_bytes(data if isinstance(data, bytes) else data.encode())
                try:
                    result = check_path(path, budget=2.0, build_budget=10.0)
                except BaseException as exc:
                    outcomes[f"CRASH {type(exc).__name__}"] += 1
                    crashes += 1
                    continue
                messages = [result.error] + [c.message for c in result.claims]
                if any(INTERNAL in m for m in messages):
                    outcomes["internal"] += 1
                    crashes += 1
                    print("internal:", data if isinstance(data, str) else data[:60], messages, file=sys.stderr)
                elif result.error:
                    outcomes["input error (exit 2)"] += 1
                else:
                    for claim in result.claims:
                        outcomes[claim.verdict.label] += 1
            print(f"{name:<22} {args.count:>5} inputs: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    total = args.count * len(GENERATORS)
    print(f"\n{total} inputs in {time.perf_counter() - started:.0f} s; crashes and internal errors: {crashes}")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
