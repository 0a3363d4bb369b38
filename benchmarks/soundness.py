"""Measured soundness: mutants must never be PROVED; equivalent rewrites should always be.

    python benchmarks/soundness.py            # the full run (prints both rates and a table)
    python benchmarks/soundness.py --sample 40  # what CI runs on every submission (tests/test_soundness.py)

Sources are the correct formulas of the bundled files (every PROVED claim of the examples and the seed
suite, and the corrected formulas the seeds' diagnoses proved). Whether a mutant is really wrong is decided
by an independent oracle, never by the engine: the mutant is evaluated with numpy at several random points
away from ReLU kinks and compared with central finite differences of the loss.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.mutations import EQUIVALENCES, MUTATIONS, apply_everywhere, pre_activation_rule  # noqa: E402
from derive_check.derive.exact.network import build_network  # noqa: E402
from derive_check.derive.lang.formula import parse_formula  # noqa: E402
from derive_check.derive.model.claims import ClaimSpec  # noqa: E402
from derive_check.derive.model.spec import ModelSpec, load_file  # noqa: E402
from derive_check.derive.printing.text import to_text  # noqa: E402
from derive_check.derive.tree import Apply, Node  # noqa: E402
from derive_check.verify.check.session import Session  # noqa: E402
from derive_check.verify.decide.equality import Equality  # noqa: E402
from derive_check.verify.diagnose.rewrites import moved_factors, vocabulary_of  # noqa: E402
from derive_check.verify.results import Verdict  # noqa: E402
from derive_check.verify.run.engine import check_claim  # noqa: E402

FILES = [
    "examples/two_layer.toml",
    "examples/deep_relu.toml",
    "examples/smooth_mse.toml",
    "examples/seeds/002a_softmax_single_sample.toml",
    "examples/seeds/002b_batch_relu_l2.toml",
    "examples/seeds/003_single_layer_column_vectors.toml",
    "examples/seeds/000_two_layer_linear_algebra.toml",
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples" / "zoo").glob("*.toml")),
]
ORACLE_POINTS = 3


@dataclass(frozen=True)
class Case:
    """One formula to check: where it comes from, how it was made, and what the oracle says it is."""

    file: str
    claim: str
    rule: str
    formula: str
    equal: bool | None  # the oracle: True equal to the gradient, False not, None cannot tell
    general: bool = False  # the index-notation engine, run on every formula: proved for all sizes


@dataclass
class Source:
    """A file with its network and one correct claim to mutate."""

    spec: ModelSpec
    session: Session
    claim: ClaimSpec
    tree: Node


def sources() -> list[Source]:
    """Every correct formula of the bundled files whose claims the numeric oracle can check."""
    out = []
    for name in FILES:
        spec = load_file(ROOT / name)
        net = build_network(spec)
        session = Session(net, Equality(net), dict(net.values))
        for claim in spec.claims:
            result = check_claim(session, claim, 30.0)
            plain = claim.of is None and not claim.index_vars and not claim.labels and claim.layout == "denominator"
            if not plain or claim.expr is None:
                continue
            if result.verdict is Verdict.PROVED:
                out.append(Source(spec, session, claim, claim.expr))
            elif result.corrected:
                out.append(Source(spec, session, claim, parse_formula(result.corrected, claim.where)))
    return out


def oracle(source: Source, tree: Node, rng: random.Random) -> bool | None:
    """Whether `tree` equals the gradient: the independent witness (mpmath, 60 digits, central differences).

    It shares no evaluation code with the engine (the float64 oracle this replaced re-used the engine's
    evaluator and op table). A formula whose symbolic shape is not the gradient's is not equal to it.
    """
    from derive_check.derive.model.shapes import SymbolicShapeError, infer
    from derive_check.verify.witness.check import witness_claim
    from derive_check.verify.witness.crosscheck import claim_trees

    spec, claim = source.spec, source.claim
    trees = claim_trees(spec)
    names = [c.name for c in spec.claims]
    earlier = {n: trees[n] for n in names[: names.index(claim.name)] if n in trees}
    shapes = dict(spec.shapes)
    try:
        for name, formula in earlier.items():
            shapes[name] = infer(formula, shapes)
        if infer(tree, shapes) != spec.shapes.get(claim.target, ()):
            return False
    except SymbolicShapeError:
        return False
    report = witness_claim(spec, claim, tree, earlier, points=ORACLE_POINTS, seed=rng.randrange(2**31))
    return report.agrees


def generate(kind: str, sample: int | None, seed: int) -> list[tuple[Source, str, Node]]:
    """Mutants ('mutation') or equivalent rewrites ('equivalence') of every source, deduplicated."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for source in sources():
        rules = MUTATIONS if kind == "mutation" else {**EQUIVALENCES, **pre_activation_rule(_pre(source.spec))}
        made = list(apply_everywhere(source.tree, rules))
        if kind == "mutation":
            made += [
                ("move the mask to another layer", t) for _, t in moved_factors(source.tree, vocabulary_of(source.spec))
            ]
        for rule, tree in made:
            key = (source.spec.file, source.claim.name, to_text(tree))
            if key not in seen and to_text(tree) != to_text(source.tree):
                seen.add(key)
                out.append((source, rule, tree))
    random.Random(seed).shuffle(out)
    return out[:sample] if sample else out


def _pre(spec: ModelSpec) -> dict[str, Node]:
    return {
        line.name: line.expr.args[0] for line in spec.forward if isinstance(line.expr, Apply) and line.expr.op == "relu"
    }


def run(kind: str, sample: int | None = None, seed: int = 1) -> list[tuple[Case, Verdict]]:
    """Check every generated formula with the engine (no diagnosis) and with the oracle."""
    rng = random.Random(seed)
    results = []
    for source, rule, tree in generate(kind, sample, seed):
        claim = replace(source.claim, name=f"{source.claim.name}~", expr=tree, text=to_text(tree))
        verdict = check_claim(source.session, claim, 20.0, explain=False).verdict
        general = _general(source, claim, tree)  # run whatever the verdict, to test it on wrong formulas too
        name = Path(source.spec.file).name
        case = Case(name, source.claim.name, rule, to_text(tree), oracle(source, tree, rng), general)
        results.append((case, verdict))
    return results


def _general(source: Source, claim: ClaimSpec, tree: Node) -> bool:
    from derive_check.derive.model.shapes import SymbolicShapeError, resolve_products
    from derive_check.verify.decide.claim_proof import general_proof

    try:
        resolved = resolve_products(tree, dict(source.spec.shapes))
    except SymbolicShapeError:
        return False
    earlier = {k: v for k, v in source.session.trees.items() if k != source.claim.name}
    return general_proof(source.spec, claim, resolved, earlier).proved


def report(kind: str, results: list[tuple[Case, Verdict]]) -> dict[str, int]:
    """Print the table for one suite and return its counts."""
    counts: Counter[str] = Counter()
    for case, verdict in results:
        if kind == "mutation":
            if case.equal is False:
                counts["not equivalent"] += 1
                counts["false proof for all sizes"] += case.general
                counts["false PROVED" if verdict is Verdict.PROVED else f"not proved ({verdict.label})"] += 1
            elif case.equal is True:
                counts["equivalent after all"] += 1
                counts[
                    "equivalent, engine PROVED" if verdict is Verdict.PROVED else "equivalent, engine did not prove"
                ] += 1
            else:
                counts["oracle could not tell"] += 1
        else:
            counts["rewrites"] += 1
            if case.equal is True:
                counts["PROVED" if verdict is Verdict.PROVED else f"false {verdict.label}"] += 1
                counts["proved for all sizes too"] += case.general
            else:
                counts["not equal per the oracle (discarded)"] += 1
    print(f"\n{kind} suite: {len(results)} formulas")
    for key, value in sorted(counts.items()):
        print(f"  {key:<36} {value}")
    return dict(counts)


def main() -> None:
    """Run both suites and print their rates."""
    parser = argparse.ArgumentParser(description="mutation and equivalence suites")
    parser.add_argument("--sample", type=int, default=None, help="check only this many of each (CI)")
    args = parser.parse_args()
    started = time.perf_counter()
    mutation = report("mutation", run("mutation", args.sample))
    equivalence = report("equivalence", run("equivalence", args.sample))
    caught = mutation.get("not proved (REFUTED)", 0) + mutation.get("not proved (SHAPE ERROR)", 0)
    print(
        f"\nfalse PROVED: {mutation.get('false PROVED', 0)} of {mutation.get('not equivalent', 0)} wrong mutants "
        f"({caught} REFUTED or SHAPE ERROR, {mutation.get('not proved (UNDECIDED)', 0)} UNDECIDED)"
    )
    proved = equivalence.get("PROVED", 0)
    total = proved + sum(v for k, v in equivalence.items() if k.startswith("false"))
    print(f"false REFUTED/UNDECIDED on equivalent rewrites: {total - proved} of {total}")
    print(
        f"proofs for all sizes: {mutation.get('false proof for all sizes', 0)} false among the wrong mutants; "
        f"{equivalence.get('proved for all sizes too', 0)} of the {proved} proved rewrites also proved for all sizes"
    )
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
