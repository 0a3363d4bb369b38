"""The proof for all sizes against SymPy's own Indexed/Sum machinery, on the canonical dW2.

    python benchmarks/general_vs_sympy.py

SymPy gets the softmax cross-entropy loss with symbolic N, H, C written with `IndexedBase` and `Sum`,
`diff` with respect to W2[p, q] (it produces the Kronecker deltas itself), and `simplify(diff - claim)` on
the data term of the claim h1ᵀ(P − Y)/N. derive-check's index engine gets the file's dW2 claim. Both are
timed in this process; the table says what each concluded. A benchmark: nothing here asserts a time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def sympy_indexed() -> tuple[float, float, str]:
    """(diff seconds, simplify seconds, what simplify left) for SymPy's Indexed/Sum route."""
    import sympy as sp

    n, h_, c_ = sp.symbols("N H C", positive=True, integer=True)
    i, j, c, k, p, q = sp.symbols("i j c k p q", integer=True)
    h, w, y = sp.IndexedBase("h1"), sp.IndexedBase("W2"), sp.IndexedBase("Y")

    def score(row: sp.Expr, col: sp.Expr) -> sp.Expr:
        return sp.Sum(h[row, j] * w[j, col], (j, 0, h_ - 1))

    normaliser = sp.Sum(sp.exp(score(i, k)), (k, 0, c_ - 1))
    loss = -sp.Sum(sp.Sum(y[i, c] * (score(i, c) - sp.log(normaliser)), (c, 0, c_ - 1)), (i, 0, n - 1)) / n
    started = time.perf_counter()
    derivative = loss.diff(w[p, q])
    diff_seconds = time.perf_counter() - started
    claim = sp.Sum(h[i, p] * (sp.exp(score(i, q)) / normaliser - y[i, q]), (i, 0, n - 1)) / n
    started = time.perf_counter()
    left = sp.simplify(derivative - claim)
    return diff_seconds, time.perf_counter() - started, "0 (proved)" if left == 0 else f"not 0: {str(left)[:90]}..."


def derive_check_general() -> tuple[float, str]:
    """(seconds, summary) for derive-check's index engine on examples/two_layer.toml's dW2."""
    from derive_check.derive.model.shapes import resolve_products
    from derive_check.derive.model.spec import load_file
    from derive_check.verify.decide.claim_proof import general_proof

    spec = load_file(ROOT / "examples" / "two_layer.toml")
    claim = next(c for c in spec.claims if c.name == "dW2")
    assert claim.expr is not None
    tree = resolve_products(claim.expr, dict(spec.shapes))
    started = time.perf_counter()
    proof = general_proof(spec, claim, tree, {})
    return time.perf_counter() - started, proof.summary


def main() -> None:
    """Run both and print the table."""
    diff_s, simplify_s, left = sympy_indexed()
    ours_s, summary = derive_check_general()
    print("| route | seconds | result |")
    print("|---|---:|---|")
    print(f"| SymPy Indexed/Sum: diff | {diff_s:.3f} | a derivative with Kronecker deltas |")
    print(f"| SymPy: simplify(diff - claim) | {simplify_s:.2f} | {left} |")
    print(f"| derive-check index engine (derivative and normal form) | {ours_s:.3f} | {summary} |")


if __name__ == "__main__":
    main()
