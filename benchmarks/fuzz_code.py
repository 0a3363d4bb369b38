"""Differential fuzzing of code mode: random numpy layer pairs, read by derive-check, judged by running them.

    python benchmarks/fuzz_code.py --count 200 --seed 1 [--out /tmp/fuzz_code_lies]

Each generated file holds one forward (a random stack of affine, ReLU, tanh, sigmoid and scaling layers) and
several backward passes for it: correct ones written in random styles (masks by copy-and-assign, by aliasing, by
np.where or by multiplication; `.dot`, `@` or `np.dot`; augmented assignments), and mutants with one slip each
(a wrong mask threshold, a derivative that forgets a factor, a lost transpose, a missing scale, a gradient of the
wrong layer). derive-check reads the file (`--format json`, no cache). Truth is decided ONLY by running the code:
the backward's gradients against central differences of sum(forward(x) * dout) at three random points at the
stated sizes, and at two other sizes for the "all sizes" claim (the generated code never loops, so it runs at any
size). A lie is PROVED for a backward the run says is wrong, or "all" sizes for one wrong at another size.
derive-check never runs the code; this benchmark does, because it wrote it.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SIZES = ("N", "D", "H", "K")


@dataclass
class Layer:
    kind: str  # affine, relu, tanh, sigmoid, scale
    out: str  # the forward variable it defines
    inp: str  # the forward variable it reads
    params: tuple[str, ...] = ()


@dataclass
class Program:
    layers: list[Layer]
    args: list[str]  # forward arguments: x first, then parameters
    decls: list[str]
    sizes: dict[str, int]
    final: str
    width: dict[str, str] = field(default_factory=dict)  # variable -> its column size name


def generate(rng: random.Random) -> Program:
    """A random forward: x -> up to four layers."""
    sizes = dict(zip(SIZES, rng.sample([2, 3, 4, 5], 4), strict=True))
    layers: list[Layer] = []
    cur, width, k = "x", "D", 0
    args, decls = ["x"], ["x: N x D"]
    widths = {"x": "D"}
    for step in range(rng.randint(1, 4)):
        kind = rng.choice(["affine", "affine", "relu", "tanh", "sigmoid", "scale"])
        out = f"h{step}"
        if kind == "affine":
            k += 1
            new = rng.choice(["H", "K", "D"])
            w, b = f"W{k}", f"b{k}"
            args += [w, b]
            decls += [f"{w}: {width} x {new}", f"{b}: {new}"]
            layers.append(Layer(kind, out, cur, (w, b)))
            width = new
        else:
            layers.append(Layer(kind, out, cur))
        widths[out] = width
        cur = out
    return Program(layers, args, decls, sizes, cur, widths)


def forward_source(p: Program) -> list[str]:
    lines = []
    for layer in p.layers:
        a, o = layer.inp, layer.out
        body = {
            "affine": f"{a} @ {layer.params[0]} + {layer.params[1]}" if layer.params else "",
            "relu": f"np.maximum(0, {a})",
            "tanh": f"np.tanh({a})",
            "sigmoid": f"1 / (1 + np.exp(-{a}))",
            "scale": f"{a} * 2.0",
        }[layer.kind]
        lines.append(f"    {o} = {body}")
    cache = ", ".join(dict.fromkeys(["x", *[lay.out for lay in p.layers], *p.args]))
    lines += [f"    cache = ({cache},)", f"    return {p.final}, cache"]
    return lines


SLIPS = ("threshold", "factor", "transpose", "scale", "wrong_input", "sum_axis")


def backward_source(p: Program, rng: random.Random, slip: str | None) -> tuple[list[str], bool]:
    """A backward in a random style; with `slip`, one statement wrong. Returns the lines and whether a slip was
    actually placed (a stack without the layer a slip needs gets none)."""
    names = list(dict.fromkeys(["x", *[lay.out for lay in p.layers], *p.args]))
    lines = [f"    {', '.join(names)}, = cache"]
    up = "dout"
    placed = False
    candidates = [k for k, lay in enumerate(p.layers) if _slip_fits(lay, slip)] if slip else []
    target = rng.choice(candidates) if candidates else -1
    grads: dict[str, str] = {}
    for k in range(len(p.layers) - 1, -1, -1):
        layer = p.layers[k]
        wrong = k == target
        placed |= wrong
        a, o, d_in = layer.inp, layer.out, f"d{layer.inp}"
        if layer.kind == "affine":
            w, b = layer.params
            mm = rng.choice(["{l} @ {r}", "{l}.dot({r})", "np.dot({l}, {r})"])
            lhs = f"{a}" if wrong and slip == "transpose" else f"{a}.T"
            lines.append(f"    d{w} = " + mm.format(l=lhs, r=up))
            axis = "" if wrong and slip == "sum_axis" else ", axis=0"
            lines.append(f"    d{b} = np.sum({up}{axis})")
            if wrong and slip == "wrong_input":
                lines[-2] = f"    d{w} = " + mm.format(l=f"{o}.T", r=up) if o != a else lines[-2]
            lines.append(f"    {d_in} = " + mm.format(l=up, r=f"{w}.T"))
            grads[w], grads[b] = f"d{w}", f"d{b}"
        elif layer.kind == "relu":
            cut = "1" if wrong and slip == "threshold" else "0"
            style = rng.choice(["copy", "alias", "where", "mul"])
            if style == "copy":
                lines += [f"    {d_in} = {up}.copy()", f"    {d_in}[{a} <= {cut}] = 0"]
            elif style == "alias":
                lines += [f"    {d_in} = {up}", f"    {d_in}[{a} <= {cut}] = 0"]
            elif style == "where":
                lines.append(f"    {d_in} = np.where({a} > {cut}, {up}, 0)")
            else:
                lines.append(f"    {d_in} = {up} * ({a} > {cut})")
        elif layer.kind == "tanh":
            square = "" if wrong and slip == "factor" else " ** 2"
            lines.append(f"    {d_in} = {up} * (1 - {o}{square})")
        elif layer.kind == "sigmoid":
            factor = "" if wrong and slip == "factor" else f" * (1 - {o})"
            lines.append(f"    {d_in} = {up} * {o}{factor}")
        else:
            if wrong and slip == "scale":
                lines.append(f"    {d_in} = {up}.copy()")
            elif rng.random() < 0.5:
                lines += [f"    {d_in} = {up}.copy()", f"    {d_in} *= 2.0"]
            else:
                lines.append(f"    {d_in} = {up} * 2.0")
        up = d_in
    grads["x"] = up
    lines.append("    return " + ", ".join(grads.get(n, "None") for n in p.args))
    return lines, placed


def _slip_fits(layer: Layer, slip: str | None) -> bool:
    needs = {
        "threshold": "relu", "factor": ("tanh", "sigmoid"), "transpose": "affine", "scale": "scale",
        "wrong_input": "affine", "sum_axis": "affine",
    }  # fmt: skip
    want = needs.get(slip or "", ())
    return layer.kind in (want if isinstance(want, tuple) else (want,))


def source(p: Program, rng: random.Random, count: int) -> tuple[str, dict[str, str | None]]:
    """The file: the forward repeated for each backward (pairs are named f{k}), and what each backward is."""
    sizes = ", ".join(f"{k} = {v}" for k, v in p.sizes.items())
    out = ["import numpy as np", ""]
    kinds: dict[str, str | None] = {}
    for k in range(count):
        slip = None if k == 0 or rng.random() < 0.4 else rng.choice(SLIPS)
        back, placed = backward_source(p, rng, slip)
        kinds[f"f{k}"] = slip if placed else None
        out += ["", f"# derive-check: {', '.join(p.decls)}; {sizes}", f"def f{k}_forward({', '.join(p.args)}):"]
        out += forward_source(p)
        out += ["", "", f"def f{k}_backward(dout, cache):", *back, ""]
    return "\n".join(out) + "\n", kinds


def truth(text: str, p: Program, pairs: list[str], sizes: dict[str, int], seeds: int = 3) -> dict[str, bool]:
    """Whether each pair's backward equals central differences at random points (running the code)."""
    namespace: dict[str, object] = {}
    exec(compile(text, "<fuzz>", "exec"), namespace)  # our own generated code, run here only
    found = {}
    for pair in pairs:
        forward, backward = namespace[f"{pair}_forward"], namespace[f"{pair}_backward"]
        ok = True
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            shapes = [tuple(sizes[d.strip()] for d in decl.split(":")[1].split(" x ")) for decl in p.decls]
            args = [rng.normal(size=s) for s in shapes]
            out, cache = forward(*[a.copy() for a in args])  # type: ignore[operator]
            dout = rng.normal(size=np.shape(out))
            try:
                grads = backward(dout.copy(), cache)  # the backward may update dout in place (aliasing styles)
            except ValueError:  # shapes that do not fit: numpy refuses the backward
                ok = False
                break
            for k, g in enumerate(grads if isinstance(grads, tuple) else (grads,)):
                if g is None:
                    continue
                num = np.zeros_like(args[k])
                for idx in np.ndindex(args[k].shape):
                    for sign in (1, -1):
                        moved = [a.copy() for a in args]
                        moved[k][idx] += sign * 1e-6
                        num[idx] += sign * float(np.sum(forward(*moved)[0] * dout)) / 2e-6  # type: ignore[operator]
                ok &= np.shape(g) == num.shape and bool(np.allclose(g, num, rtol=1e-4, atol=1e-6))
        found[pair] = ok
    return found


def main() -> None:
    """Generate, check, judge; print the tally and every lie."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100, help="generated files (each with several pairs)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pairs", type=int, default=5, help="backward passes per file")
    parser.add_argument("--out", type=Path, default=Path("/tmp/fuzz_code_lies"))
    args = parser.parse_args()
    tally: Counter[str] = Counter()
    lies: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fuzz_code_") as tmp:
        files = []
        for k in range(args.count):
            rng = random.Random(args.seed * 1_000_003 + k)
            program = generate(rng)
            text, kinds = source(program, rng, args.pairs)
            path = Path(tmp) / f"model_{k}.py"
            path.write_text(text)
            files.append((path, program, text, kinds))
        done = subprocess.run(
            [sys.executable, "-m", "derive_check", tmp, "--format", "json", "--no-cache", "--jobs", "2"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode == 3 or not done.stdout:
            print(done.stderr[-3000:])
            raise SystemExit("derive-check crashed")
        report = json.loads(done.stdout)
        by_file: dict[str, list[dict[str, object]]] = {}
        for result in report["files"]:
            by_file.setdefault(Path(result["file"]).name, []).append(result)
        for path, program, text, kinds in files:
            stated = truth(text, program, list(kinds), program.sizes)
            other = {k: v + 1 + (k == "N") for k, v in program.sizes.items()}
            wider = truth(text, program, list(kinds), other, seeds=1)
            for result in by_file.get(path.name, []):
                pair = str(result["title"]).split("_forward")[0]
                if result["error"]:
                    tally["read error (correct)" if stated.get(pair) else "read error (wrong)"] += 1
                    if stated.get(pair):
                        lies.append(f"{path.name} {pair}: a correct backward not read: {str(result['error'])[:200]}")
                    continue
                verdicts = {str(c["verdict"]) for c in result["claims"]}  # type: ignore[union-attr]
                scopes = {str(c["sizes"]) for c in result["claims"]}  # type: ignore[union-attr]
                passed = verdicts == {"PROVED"}
                right = stated[pair]
                tally[f"{'correct' if right else 'wrong'}: {'PROVED' if passed else '/'.join(sorted(verdicts))}"] += 1
                if passed and not right:
                    lies.append(f"{path.name} {pair} ({kinds[pair]}): false PROVED")
                if passed and "all" in scopes and not wider[pair]:
                    lies.append(f"{path.name} {pair} ({kinds[pair]}): false all sizes")
                if not passed and right and "REFUTED" in verdicts:
                    lies.append(f"{path.name} {pair}: a correct backward REFUTED")
        if lies:
            args.out.mkdir(parents=True, exist_ok=True)
            for path, *_ in files:
                if any(line.startswith(path.name + " ") for line in lies):
                    (args.out / path.name).write_text(path.read_text())
    print(f"{args.count} files, {sum(tally.values())} pairs, {time.perf_counter() - started:.0f} s")
    for key, value in sorted(tally.items()):
        print(f"  {key:32} {value}")
    print(f"lies: {len(lies)}")
    for line in lies:
        print("  " + line)


if __name__ == "__main__":
    main()
