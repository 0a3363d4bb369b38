"""Code mode against what people use today, on the same layers: one table of time and of what each one catches.

    python benchmarks/code_checks.py [--runs 3]

Three checkers, each as a cold process over the four files of examples/code/ (correct and buggy layers, correct
and buggy torch Functions):
- derive-check (`derive-check examples/code --no-cache`): exact, for every value and label assignment;
- a numeric gradient check in the style of cs231n's `eval_numerical_gradient_array` (written here): central
  differences of sum(out * dout) at one random point, relative error over 1e-6 counts as a failure;
- `torch.autograd.gradcheck` at one random point (numpy pairs wrapped in a torch Function that calls them).
A checker "detects" a buggy pair when it fails it, and raises a false alarm when it fails a correct one. The
numeric checkers are run at one point, as they are used; a slip that shows only at some values, patterns or labels
can pass them. Times are medians of `--runs` whole-process runs, alternated between the checkers. Needs torch
(`pip install -e '.[bench]'`). The example files are run here, by the numeric checkers only: derive-check never
imports or runs them.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CODE = ROOT / "examples" / "code"
FILES = ["layers.py", "layers_buggy.py", "functions.py", "functions_buggy.py"]
THRESHOLD = 1e-6
SWEEP = 20  # random points for the numeric check's catch rate


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pairs(path: Path) -> list[tuple[str, Any, dict[str, str], dict[str, int], list[int]]]:
    """(name, pair, declared shapes in argument order, sizes, the arguments differentiated) of every pair of a file,
    from derive-check's own declaration reader and model (which inputs the backward returns gradients for)."""
    from derive_check.derive.code.declare import read
    from derive_check.derive.code.lower import load_code
    from derive_check.derive.code.pairs import read_module

    text = path.read_text()
    module = _module(path)
    models = load_code(path, text)
    found: list[tuple[str, Any, dict[str, str], dict[str, int], list[int]]] = []
    for pair, (_, model) in zip(read_module(str(path), text).pairs, models, strict=True):
        declared = read(str(path), text.splitlines(), pair.declarations)
        names = [a.arg for a in pair.forward.args.args][1 if pair.kind == "torch Function" else 0 :]
        shapes = {n: declared.decls[n].value for n in names}
        if isinstance(model, Exception):  # a pair derive-check refuses to read: its array inputs that are not labels
            wrt = [k for k, n in enumerate(names) if "labels" not in shapes[n] and "scalar" not in shapes[n]]
        else:
            wrt = [k for k, n in enumerate(names) if n in model.params]
        if pair.kind == "torch Function" or pair.kind == "loss function":
            found.append((pair.name, getattr(module, pair.name), shapes, declared.sized(), wrt))
        else:
            functions = (getattr(module, f"{pair.name}_forward"), getattr(module, f"{pair.name}_backward"))
            found.append((pair.name, functions, shapes, declared.sized(), wrt))
    return found


def _inputs(shapes: dict[str, str], sizes: dict[str, int], rng: np.random.Generator) -> list[Any]:
    values = []
    for value in shapes.values():
        shape, _, flags = value.partition(",")
        if "labels" in flags:
            classes = sizes[flags.split("labels")[1].strip()]
            values.append(rng.integers(0, classes, size=[sizes[d.strip()] for d in shape.split(" x ")]))
        elif shape.strip() == "scalar":
            values.append(0.1 if "positive" in flags else float(rng.normal()))
        else:
            dims = [int(eval(d.strip(), {}, dict(sizes))) for d in shape.split(" x ")]
            values.append(rng.normal(size=dims))
    return values


def _numeric(f: Any, inputs: list[Any], k: int, h: float = 1e-5) -> np.ndarray:
    x = np.array(inputs[k], dtype=float)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        for sign in (1, -1):
            moved = x.copy()
            moved[idx] += sign * h
            args = list(inputs)
            args[k] = moved
            grad[idx] += sign * f(args) / (2 * h)
    return grad


def _by_input(grads: list[Any], wrt: list[int], count: int) -> dict[int, Any]:
    """Returned gradients by the input they are for: one per input when there are as many, else one per input
    differentiated, in order (as derive-check reads them); None gradients left out."""
    places = range(count) if len(grads) == count else wrt
    return {k: g for k, g in zip(places, grads, strict=False) if g is not None and k in wrt}


def _rel_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numeric_check(path: Path, seed: int = 0) -> dict[str, bool]:
    """cs231n's check at one point: does any returned gradient differ from central differences?"""
    failed = {}
    for name, pair, shapes, sizes, wrt in _pairs(path):
        rng = np.random.default_rng(seed)
        inputs = _inputs(shapes, sizes, rng)
        if isinstance(pair, tuple):
            forward, backward = pair
            out = forward(*inputs)
            outputs, cache = list(out[:-1]), out[-1]
            douts = [rng.normal(size=np.shape(o)) for o in outputs]
            grads = backward(*douts, cache)
            grads = grads if isinstance(grads, tuple) else (grads,)

            def scalar(args: list[Any], douts: list[Any] = douts, forward: Any = forward) -> float:
                return float(sum(np.sum(o * d) for o, d in zip(forward(*args)[:-1], douts, strict=True)))
        elif isinstance(pair, type):
            failed[name] = _torch_numeric(pair, inputs, wrt)
            continue
        else:
            _, *grads = pair(*inputs)

            def scalar(args: list[Any], pair: Any = pair) -> float:
                return float(pair(*args)[0])

        failed[name] = any(
            _rel_error(np.asarray(g), _numeric(scalar, inputs, k)) > THRESHOLD
            for k, g in _by_input(list(grads), wrt, len(inputs)).items()
        )
    return failed


def _torch_numeric(function: Any, inputs: list[Any], wrt: list[int]) -> bool:
    import torch

    tensors = [
        torch.tensor(v, dtype=torch.float64 if k in wrt else None, requires_grad=k in wrt) for k, v in enumerate(inputs)
    ]
    out = function.apply(*tensors)
    dout = torch.randn(out.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    grads = torch.autograd.grad(out, [tensors[k] for k in wrt], dout)

    def scalar(args: list[Any]) -> float:
        with torch.no_grad():
            moved = [torch.as_tensor(a, dtype=t.dtype) for a, t in zip(args, tensors, strict=True)]
            return float((function.apply(*moved) * dout).sum())

    return any(_rel_error(g.numpy(), _numeric(scalar, inputs, k)) > THRESHOLD for k, g in zip(wrt, grads, strict=True))


def gradcheck(path: Path) -> dict[str, bool]:
    """torch.autograd.gradcheck at one point; numpy pairs wrapped in a Function that calls them."""
    import torch

    failed = {}
    for name, pair, shapes, sizes, wrt in _pairs(path):
        inputs = _inputs(shapes, sizes, np.random.default_rng(0))
        tensors = [
            torch.tensor(v, dtype=torch.float64 if k in wrt else None, requires_grad=k in wrt)
            for k, v in enumerate(inputs)
        ]
        function = pair if isinstance(pair, type) else _wrapped(pair, wrt, len(inputs))
        try:
            ok = torch.autograd.gradcheck(function.apply, tensors, raise_exception=False, nondet_tol=0.0)
        except (RuntimeError, TypeError, ValueError):
            ok = False
        failed[name] = not ok
    return failed


def _wrapped(pair: Any, wrt: list[int], count: int) -> Any:
    import torch

    loss_function = not isinstance(pair, tuple)

    class Wrapped(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, *args: Any) -> Any:
            values = [a.numpy() for a in args]
            values = [float(v) if v.shape == () and v.dtype.kind == "f" else v for v in values]
            if loss_function:
                loss, *grads = pair(*values)
                ctx.grads = grads
                return torch.tensor(loss, dtype=torch.float64)
            out = pair[0](*values)
            ctx.cache, ctx.count = out[-1], len(out) - 1
            return torch.tensor(out[0]) if ctx.count == 1 else tuple(torch.tensor(o) for o in out[:-1])

        @staticmethod
        def backward(ctx: Any, *douts: Any) -> Any:
            if loss_function:
                grads = [float(douts[0]) * g for g in ctx.grads]
            else:
                grads = pair[1](*[d.numpy() for d in douts], ctx.cache)
                grads = list(grads) if isinstance(grads, tuple) else [grads]
            result: list[Any] = [None] * count
            for k, g in _by_input(grads, wrt, count).items():
                result[k] = torch.as_tensor(np.asarray(g, dtype=float))
            return tuple(result)

    return Wrapped


def worker(checker: str) -> None:
    """One cold process: run a checker over every file and print which pairs it failed, as JSON."""
    if checker == "sweep":  # the numeric check at SWEEP points: how often it catches each buggy pair
        caught: dict[str, int] = {}
        for seed in range(SWEEP):
            for f in FILES[1::2]:
                for name, bad in numeric_check(CODE / f, seed).items():
                    caught[name] = caught.get(name, 0) + int(bad)
        print(json.dumps(caught))
        return
    run = numeric_check if checker == "numeric" else gradcheck
    print(json.dumps({f: run(CODE / f) for f in FILES}))


def derive_check() -> dict[str, dict[str, bool]]:
    done = subprocess.run(
        [sys.executable, "-m", "derive_check", *[str(CODE / f) for f in FILES], "--no-cache", "--format", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    found: dict[str, dict[str, bool]] = {f: {} for f in FILES}
    for result in json.loads(done.stdout)["files"]:
        name = result["title"].split(" ")[0].removesuffix("_forward")
        found[Path(result["file"]).name][name] = any(c["verdict"] != "PROVED" for c in result["claims"])
    return found


def main() -> None:
    """Time the three checkers and print what each caught."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--worker", choices=["numeric", "gradcheck", "sweep"])
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    commands = {
        "derive-check": [sys.executable, "-m", "derive_check", str(CODE), "--no-cache", "-q"],
        "numeric check (cs231n style)": [sys.executable, __file__, "--worker", "numeric"],
        "torch gradcheck": [sys.executable, __file__, "--worker", "gradcheck"],
    }
    times: dict[str, list[float]] = {k: [] for k in commands}
    outputs: dict[str, str] = {}
    for _ in range(args.runs):
        for label, command in commands.items():
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            times[label].append(time.perf_counter() - started)
            outputs[label] = done.stdout
    verdicts = {
        "derive-check": derive_check(),
        "numeric check (cs231n style)": json.loads(outputs["numeric check (cs231n style)"]),
        "torch gradcheck": json.loads(outputs["torch gradcheck"]),
    }
    buggy = {
        **dict.fromkeys(verdicts["derive-check"]["layers_buggy.py"]),
        **dict.fromkeys(verdicts["derive-check"]["functions_buggy.py"]),
    }
    print("| checker | whole process, median | buggy pairs caught | false alarms on correct pairs | missed |")
    print("|---|---|---|---|---|")
    correct = sum(len(verdicts["derive-check"][f]) for f in ("layers.py", "functions.py"))
    for label, found in verdicts.items():
        caught = [n for f in FILES[1::2] for n, bad in found[f].items() if bad]
        alarms = [n for f in FILES[::2] for n, bad in found[f].items() if bad]
        missed = ", ".join(sorted(set(buggy) - set(caught))) or "-"
        median = statistics.median(times[label])
        print(f"| {label} | {median:.2f} s | {len(caught)}/{len(buggy)} | {len(alarms)}/{correct} | {missed} |")
    sweeping = [*commands["numeric check (cs231n style)"][:-1], "sweep"]
    sweep = json.loads(subprocess.run(sweeping, capture_output=True, text=True, check=False).stdout)
    rare = {n: k for n, k in sweep.items() if k < SWEEP}
    print(f"\n{args.runs} alternating cold runs of each over examples/code/ ({len(buggy)} buggy, {correct} correct "
          f"pairs); numeric checks at one random point (seed 0), relative error threshold {THRESHOLD}.")  # fmt: skip
    print(f"Numeric check at {SWEEP} random points, buggy pairs it does not always catch: "
          + (", ".join(f"{n} {k}/{SWEEP}" for n, k in sorted(rare.items())) or "none"))  # fmt: skip


if __name__ == "__main__":
    main()
