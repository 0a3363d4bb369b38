"""Differential fuzzing of whole models: generated derivation files checked by the engine, judged by the witness.

    python benchmarks/fuzz_models.py --count 300 --seed 1 --jobs 2 [--randomized] [--out /tmp/fuzz_lies]

Each model comes from `tests/modelgen/` (random layers, activations, losses, identity lines, lines after the
loss, written-out copies, extends, LaTeX, entry claims, true claims from a reference backprop emitter and
mutants). The engine checks it in-process (`verify.run.engine.check_path`, no cache). Truth is decided ONLY by the
independent witness (`verify.witness.check.judge_file` at the stated sizes, `judge_all_sizes` at other sizes), never
by the engine. A lie is a verdict that passes a claim the witness says is false: PROVED (or PROBABLE with
--randomized) while the claim is false at the stated sizes, or "proved for all sizes" while it is false at some
other size. Every lie's files are saved under --out. INCONSISTENT verdicts (the engine's own witness caught a
disagreement) are counted and saved too. Files that break the naming rules on purpose (kind "naming") must be
rejected: a file error or an ERROR for the offending claim.

The generator's own belief about each claim is reported beside the witness's, as "suspects" for review: the
witness parses the file with the engine's own loader, so a misreading there would fool both.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import re
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.modelgen import FULL, LIGHT, Generated, generate  # noqa: E402

Judge = dict[str, bool | None]


@dataclass
class Row:
    """One (model, claim) pair: what the engine said, what the witness and the generator believe."""

    seed: int
    kind: str
    key: str
    verdict: str  # Verdict name, or "MISSING" (no result for a claim in the file), "FILE_ERROR"
    scope: str
    message: str
    judge: bool | None
    judge_all: bool | None
    believed: bool | None
    believed_all: bool | None
    mutation: str
    form: str


@dataclass
class ModelRun:
    """Everything one model produced, sent back from a worker."""

    seed: int
    kind: str
    features: set[str]
    rows: list[Row]
    seconds: float
    witness_seconds: float
    file_error: str = ""
    violation: str = ""
    violation_rejected: bool | None = None
    lies: list[str] = field(default_factory=list)  # one line per lie
    inconsistent: list[str] = field(default_factory=list)
    saved: str = ""
    crash: str = ""


def _seed(base: int, k: int) -> int:
    return base * 1_000_003 + k


def _write(generated: Generated, folder: Path) -> Path:
    for name, body in generated.files.items():
        (folder / name).write_text(body, encoding="utf-8")
    return folder / generated.main


def _save(generated: Generated, out: Path, why: list[str]) -> str:
    folder = out / f"seed_{generated.seed}_{generated.kind}"
    folder.mkdir(parents=True, exist_ok=True)
    _write(generated, folder)
    (folder / "WHY.txt").write_text("\n".join(why) + "\n", encoding="utf-8")
    return str(folder / generated.main)


def _judge(path: Path, all_sizes: bool) -> tuple[Judge, str]:
    try:
        from derive_check.verify.witness.sizes import judge_all_sizes, judge_file

        return (judge_all_sizes(path) if all_sizes else judge_file(path, points=3)), ""
    except Exception as exc:  # the witness could not read the file: nothing is judged
        return {}, f"{type(exc).__name__}: {exc}"[:200]


def check_model(task: tuple[int, bool, float, str, bool]) -> ModelRun:
    """Generate, check and judge one model (runs in a pool worker)."""
    seed, randomized, budget, out, light = task
    try:
        return _check_model(seed, randomized, budget, Path(out), light)
    except Exception as exc:  # a crash of the generator or the engine is reported, never hidden
        return ModelRun(seed, "crash", set(), [], 0.0, 0.0, crash=f"{type(exc).__name__}: {exc}"[:300])


def _check_model(seed: int, randomized: bool, budget: float, out: Path, light: bool = False) -> ModelRun:
    from derive_check.verify.run.engine import check_path

    generated = generate(seed, LIGHT if light else FULL)
    with tempfile.TemporaryDirectory(prefix=f"fuzz_{seed}_", dir=_scratch()) as tmp:
        path = _write(generated, Path(tmp))
        started = time.perf_counter()
        result = check_path(path, budget=budget, cache=None, randomized=randomized)
        seconds = time.perf_counter() - started
        verdicts = {c.name: c for c in result.claims}
        run = ModelRun(seed, generated.kind, generated.features, [], seconds, 0.0, file_error=result.error)
        if generated.kind == "naming":
            run.violation = generated.violation
            bad = verdicts.get(generated.violation_claim)
            run.violation_rejected = bool(result.error) or (bad is not None and bad.verdict.name == "ERROR")
            if not run.violation_rejected:
                run.saved = _save(generated, out, [f"naming violation accepted: {generated.violation}"])
            return run
        started = time.perf_counter()
        judge, judge_error = _judge(path, all_sizes=False)
        wants_all = any(c.scope == "all" for c in result.claims)
        judge_all, _ = _judge(path, all_sizes=True) if wants_all else ({}, "")
        run.witness_seconds = time.perf_counter() - started
        for claim in generated.claims:
            got = verdicts.get(claim.key)
            if result.error:
                verdict, scope, message = "FILE_ERROR", "", result.error
            elif got is None:
                verdict, scope, message = "MISSING", "", "no verdict for a claim of the file"
            else:
                verdict, scope, message = got.verdict.name, got.scope, got.message
            row = Row(
                seed,
                generated.kind,
                claim.key,
                verdict,
                scope,
                _one_line(message),
                judge.get(claim.key),
                judge_all.get(claim.key),
                claim.believed,
                claim.believed_all,
                claim.mutation,
                claim.form,
            )
            run.rows.append(row)
            formula = " ; ".join(claim.latex) if claim.latex else claim.formula
            if row.judge is False and verdict == "PROVED":
                run.lies.append(f"false PROVED: {claim.key} = {formula} ({claim.mutation or 'emitted as true'})")
            if row.judge is False and verdict == "PROBABLE":
                run.lies.append(f"false PROBABLE: {claim.key} = {formula} ({claim.mutation or 'emitted as true'})")
            if scope == "all" and row.judge_all is False:
                run.lies.append(f"false all sizes: {claim.key} = {formula} ({claim.mutation or 'emitted as true'})")
            if verdict == "INCONSISTENT":
                run.inconsistent.append(f"INCONSISTENT: {claim.key} = {formula}: {row.message}")
        if judge_error:
            run.rows.append(
                Row(seed, generated.kind, "(witness)", "WITNESS_ERROR", "", judge_error, None, None, None, None, "", "")
            )
        if run.lies or run.inconsistent:
            run.saved = _save(generated, out, run.lies + run.inconsistent)
        return run


def _scratch() -> str:
    folder = Path("/tmp/fuzz_scratch")
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder)


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _cause(row: Row) -> str:
    """A true claim that did not pass, grouped by verdict and the first ~60 characters of its message."""
    words = re.sub(r"\d+(\.\d+)?", "#", row.message)
    return f"{row.verdict}: {words[:60]}"


@dataclass
class Tally:
    """Counts for one generator kind."""

    models: int = 0
    pairs: int = 0
    true: int = 0
    false: int = 0
    unjudged: int = 0
    proved_true: int = 0
    caught_false: int = 0
    false_proved: int = 0
    false_all: int = 0
    false_probable: int = 0
    inconsistent: int = 0
    file_errors: int = 0
    missing: int = 0
    true_not_passed: int = 0
    suspects: int = 0  # PROVED while the generator built the claim as a mutant (witness said true or nothing)
    seconds: float = 0.0


def tally(runs: list[ModelRun]) -> tuple[dict[str, Tally], Counter[str], Counter[str], list[str]]:
    """Per-kind counts, causes of true claims not passed, generator/witness disagreements, suspects."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    causes: Counter[str] = Counter()
    disagreements: Counter[str] = Counter()
    suspects: list[str] = []
    for run in runs:
        t = tallies[run.kind]
        t.models += 1
        t.seconds += run.seconds
        t.file_errors += bool(run.file_error)
        for row in run.rows:
            if row.verdict == "WITNESS_ERROR":
                causes[f"witness could not read the file: {row.message[:60]}"] += 1
                continue
            t.pairs += 1
            t.missing += row.verdict == "MISSING"
            t.inconsistent += row.verdict == "INCONSISTENT"
            if row.judge is True:
                t.true += 1
                if row.verdict in ("PROVED", "PROBABLE"):
                    t.proved_true += 1
                else:
                    t.true_not_passed += 1
                    causes[_cause(row)] += 1
            elif row.judge is False:
                t.false += 1
                t.false_proved += row.verdict == "PROVED"
                t.false_probable += row.verdict == "PROBABLE"
                t.caught_false += row.verdict in ("REFUTED", "SHAPE_ERROR")
            else:
                t.unjudged += 1
            t.false_all += row.scope == "all" and row.judge_all is False
            if row.believed is not None and row.judge is not None and row.believed != row.judge:
                disagreements[f"generator {row.believed}, witness {row.judge}: {row.mutation or 'true claim'}"] += 1
            if row.believed is False and row.verdict in ("PROVED", "PROBABLE") and row.judge is not False:
                t.suspects += 1
                suspects.append(f"seed {row.seed} {row.key}: {row.verdict} (witness {row.judge}), {row.mutation}")
    return dict(tallies), causes, disagreements, suspects


def table(tallies: dict[str, Tally]) -> str:
    """The markdown table of the tallies, with a totals row."""
    cols = [
        ("models", "models"),
        ("pairs", "pairs"),
        ("true", "true"),
        ("false", "false"),
        ("unjudged", "unjudged"),
        ("true PROVED", "proved_true"),
        ("false caught", "caught_false"),
        ("**false PROVED**", "false_proved"),
        ("**false all sizes**", "false_all"),
        ("**false PROBABLE**", "false_probable"),
        ("INCONSISTENT", "inconsistent"),
        ("true not passed", "true_not_passed"),
        ("missing", "missing"),
        ("file errors", "file_errors"),
        ("suspects", "suspects"),
        ("s/model", "seconds"),
    ]
    lines = ["| kind | " + " | ".join(c for c, _ in cols) + " |", "|---" + "|---:" * len(cols) + "|"]
    total = Tally()
    for kind in sorted(tallies):
        t = tallies[kind]
        for _, attr in cols:
            setattr(total, attr, getattr(total, attr) + getattr(t, attr))
        lines.append(f"| {kind} | " + " | ".join(_cell(t, attr) for _, attr in cols) + " |")
    lines.append("| **total** | " + " | ".join(_cell(total, attr) for _, attr in cols) + " |")
    return "\n".join(lines)


def _cell(t: Tally, attr: str) -> str:
    if attr == "seconds":
        return f"{t.seconds / max(t.models, 1):.1f}"
    return str(getattr(t, attr))


def run_models(
    count: int,
    seed: int,
    jobs: int,
    randomized: bool,
    out: Path,
    budget: float = 10.0,
    progress: bool = True,
    light: bool = False,
    deadline: float = 120.0,
) -> list[ModelRun]:
    """Check `count` generated models, `jobs` at a time, each in a forked child killed after `deadline` seconds
    (the engine's budgets are cooperative; one runaway model must not stall the campaign)."""
    tasks = [(_seed(seed, k), randomized, budget, str(out), light) for k in range(count)]
    runs: list[ModelRun] = []
    started = time.perf_counter()
    context = multiprocessing.get_context("fork")
    running: dict[int, tuple[Any, Any, float, int]] = {}
    pending = list(tasks)
    while pending or running:
        while pending and len(running) < max(jobs, 1):
            task = pending.pop(0)
            receive, send = context.Pipe(duplex=False)
            child = context.Process(target=_child, args=(send, task), daemon=False)
            child.start()
            send.close()
            running[task[0]] = (child, receive, time.perf_counter() + deadline, task[0])
        wait([r for _, r, _, _ in running.values()], timeout=1.0)
        for key, (child, receive, due, model_seed) in list(running.items()):
            finished = receive.poll()
            if not finished and time.perf_counter() < due and child.is_alive():
                continue
            run: ModelRun
            try:
                run = receive.recv() if finished else _timeout(model_seed, deadline)
            except EOFError:
                run = ModelRun(model_seed, "crash", set(), [], 0.0, 0.0, crash=f"worker died ({child.exitcode})")
            _kill_group(child.pid)  # the child and any worker processes it started (the engine's parallel pool)
            child.join()
            receive.close()
            del running[key]
            runs.append(run)
            if progress and len(runs) % 50 == 0:
                lies = sum(len(r.lies) for r in runs)
                print(
                    f"[fuzz_models] {len(runs)}/{count} models, {lies} lies, {time.perf_counter() - started:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
    return sorted(runs, key=lambda r: r.seed)


def _child(send: Any, task: tuple[int, bool, float, str, bool]) -> None:
    os.setpgrp()  # a process group of its own, so a stopped model takes its workers with it
    send.send(check_model(task))
    send.close()


def _kill_group(pid: int | None) -> None:
    """SIGKILL to a child's process group (a no-op once it has gone)."""
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _timeout(seed: int, deadline: float) -> ModelRun:
    """A model that ran past the deadline: counted, none of its pairs judged."""
    return ModelRun(seed, "timeout", set(), [], deadline, 0.0, crash=f"stopped after {deadline:.0f} s")


def report(runs: list[ModelRun], wall: float) -> dict[str, Any]:
    """Print the table, causes, lies and naming-rule results; return the totals."""
    tallies, causes, disagreements, suspects = tally(runs)
    print(table(tallies))
    totals = {
        "false PROVED": sum(t.false_proved for t in tallies.values()),
        "false all sizes": sum(t.false_all for t in tallies.values()),
        "false PROBABLE": sum(t.false_probable for t in tallies.values()),
        "INCONSISTENT": sum(t.inconsistent for t in tallies.values()),
        "pairs": sum(t.pairs for t in tallies.values()),
        "true PROVED": sum(t.proved_true for t in tallies.values()),
        "false caught": sum(t.caught_false for t in tallies.values()),
    }
    print("\ntotals: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    if causes:
        print("\ntrue claims not passed, by cause:")
        for cause, n in causes.most_common():
            print(f"  {n:5d}  {cause}")
    if disagreements:
        print("\ngenerator belief vs witness (review: the generator's or the witness's mistake, not the engine's):")
        for what, n in disagreements.most_common():
            print(f"  {n:5d}  {what}")
    if suspects:
        print(f"\nsuspects (a mutant PROVED that the witness did not call false): {len(suspects)}")
        for line in suspects[:30]:
            print(f"  {line}")
    naming = [r for r in runs if r.kind == "naming"]
    if naming:
        accepted = [r for r in naming if not r.violation_rejected]
        rejected = len(naming) - len(accepted)
        print(f"\nnaming violations: {len(naming)} files, {rejected} rejected, {len(accepted)} accepted")
        for r in accepted:
            print(f"  accepted: {r.violation} ({r.saved})")
    crashes = [r for r in runs if r.crash]
    if crashes:
        print(f"\ncrashes: {len(crashes)}")
        for r in crashes[:20]:
            print(f"  seed {r.seed}: {r.crash}")
    file_errors = Counter(_one_line(r.file_error)[:100] for r in runs if r.file_error and r.kind != "naming")
    if file_errors:
        print("\nfile errors on valid files:")
        for what, n in file_errors.most_common(15):
            print(f"  {n:5d}  {what}")
    lies = [r for r in runs if r.lies or r.inconsistent]
    if lies:
        print("\nlies and INCONSISTENT verdicts:")
        for r in lies:
            print(f"  {r.saved}")
            for line in r.lies + r.inconsistent:
                print(f"    {line}")
    seconds = [r.seconds for r in runs if not r.crash]
    witness = [r.witness_seconds for r in runs if not r.crash]
    print(
        f"\n{len(runs)} models in {wall:.0f} s wall; engine {sum(seconds) / max(len(seconds), 1):.2f} s/model "
        f"(max {max(seconds, default=0):.1f} s), witness {sum(witness) / max(len(witness), 1):.2f} s/model"
    )
    return totals


def main() -> None:
    """Command line: generate, check, judge, tabulate."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--randomized", action="store_true", help="check with randomized=True (PROBABLE verdicts)")
    parser.add_argument("--budget", type=float, default=10.0, help="per-claim budget of the engine, seconds")
    parser.add_argument("--out", type=Path, default=Path("/tmp/fuzz_lies"), help="where lies are saved")
    parser.add_argument("--light", action="store_true", help="small models only (depth <= 2): the CI profile")
    parser.add_argument("--rows", type=Path, default=None, help="write every (model, claim) row here as JSON lines")
    parser.add_argument("--deadline", type=float, default=120.0, help="seconds after which a model's check is stopped")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    runs = run_models(
        args.count,
        args.seed,
        args.jobs,
        args.randomized,
        args.out,
        args.budget,
        light=args.light,
        deadline=args.deadline,
    )
    totals = report(runs, time.perf_counter() - started)
    if args.rows:
        with args.rows.open("w", encoding="utf-8") as handle:
            for run in runs:
                for row in run.rows:
                    handle.write(json.dumps({**asdict(row), "seconds": run.seconds}) + "\n")
    sys.exit(1 if totals["false PROVED"] or totals["false all sizes"] or totals["false PROBABLE"] else 0)


if __name__ == "__main__":
    main()
