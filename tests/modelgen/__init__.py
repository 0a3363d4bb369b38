"""Random, well-typed derivation files (whole models) with true and mutated gradient claims, from a seed.

Coverage. Each call of `generate(seed)` builds one model and its claims (`random.Random(seed)`):

- batch models (rows are samples: `X @ W + b`, b = "H" broadcast over the batch) and column-vector single-sample
  models (`W @ x + b`, b = "H x 1"), 1-4 layers, sizes small and distinct (sometimes 1);
- every activation: relu, leaky_relu(x, alpha=...), sigmoid, tanh, identity, a declared element-wise f with its df;
- every loss: softmax cross-entropy with one-hot labels (sum / N or mean of row sums), MSE (sum / N, sum / (2 N),
  mean), sigmoid + binary cross-entropy written out, sums of exp/log terms (softplus), L2 regularisation
  `reg * sum(W**2)`, a declared scalar loss with its gradient name (column models);
- identity lines whose argument is used again later, lines after the loss (also used as helper values by claims),
  written-out copies of a line's expression (`sigmoid(z)` written again in the loss), residual connections, shape
  annotations on forward lines, unusual names (`h_1`, `Z0`, `act2`, `probsA`, the loss named `L`, `loss` or not);
- claims: dL/d(every parameter), dL/d(some intermediates, inputs, the scalar reg, a line after the loss), inline or
  through earlier claims by name, as tables with `wrt`, in LaTeX with `[aliases]` and `+=` lines, numerator layout,
  entry claims with `for` / `when` / `label` / `of`; `extends` children that override size values and add or
  override claims; a small set of files that break the naming rules on purpose (kind "naming").
- wrong claims: mutations of true ones (drop a factor, drop a transpose, swap @ operands, wrong axis, drop a term,
  flip a sign, change a constant, mask on the wrong layer, 1/N dropped, an earlier claim replaced by the forward
  quantity of the same name, a size written as its value: true at the stated sizes only), and models with one
  forward line changed while the claims are kept (kind "model_mutant": truth unknown to the generator).
- two profiles: FULL (depth up to 4, at most 400 entries) for benchmarks/fuzz_models.py, LIGHT (depth up to 2,
  at most 80 entries) for the CI sample in tests/test_model_fuzz.py.

Why the reference is independent. True claims are emitted by a reverse-mode pass over this package's own tiny
expression IR, with one matrix-calculus VJP rule per op in the style of HIPS/autograd's defvjp table (matmul,
broadcast add -> sum over axis 0, mul, div, pow, neg, transpose, sum/mean with axis, exp, log, relu, leaky_relu,
sigmoid, tanh, identity, declared f, softmax + cross-entropy fused to `(P - Y) * k`), adjoints summed over every
use. It imports nothing from `derive/` or `verify/`: it only writes formula TEXT. `numeric_check` re-evaluates the
IR with numpy and finite differences to test the emitter itself; the fuzz runner never uses that either, it asks
the separate witness (`verify.witness.check`) which claims are true.

Modules, one concern each: `ir` (the expression IR and its builders), `printing` (formula text and LaTeX),
`backprop` (Model and the reference emitter), `layers` (names, sizes, profiles, dense layers), `models` (batch and
column models), `claims` (claims, the generated derivation, LaTeX claims), `emit` (a model's true claims with
mutants and entry claims interleaved), `mutants`, `entries` (entry claims), `toml` (writing the files), `kinds`
(generate, extends pairs, model mutants, naming violations), `numeric` (the numpy self-check).
"""

from __future__ import annotations

from tests.modelgen.backprop import Backprop, Model
from tests.modelgen.claims import Claim, Generated
from tests.modelgen.emit import emit_claims
from tests.modelgen.entries import entry_claims
from tests.modelgen.ir import Dim, Ex, Shape, Unsupported
from tests.modelgen.kinds import (
    MODEL_MUTATIONS,
    VIOLATIONS,
    extends_pair,
    generate,
    model_mutant,
    model_with_claims,
    naming_violation,
)
from tests.modelgen.layers import FULL, LIGHT, MAX_ENTRIES, Names, Profile
from tests.modelgen.models import batch_model, column_model
from tests.modelgen.mutants import mutants, mutations
from tests.modelgen.numeric import build, numeric_check
from tests.modelgen.printing import LatexStyle, NoLatex, latex, text
from tests.modelgen.toml import claims_toml, model_toml

__all__ = [
    "FULL",
    "LIGHT",
    "MAX_ENTRIES",
    "MODEL_MUTATIONS",
    "VIOLATIONS",
    "Backprop",
    "Claim",
    "Dim",
    "Ex",
    "Generated",
    "LatexStyle",
    "Model",
    "Names",
    "NoLatex",
    "Profile",
    "Shape",
    "Unsupported",
    "batch_model",
    "build",
    "claims_toml",
    "column_model",
    "emit_claims",
    "entry_claims",
    "extends_pair",
    "generate",
    "latex",
    "model_mutant",
    "model_toml",
    "model_with_claims",
    "mutants",
    "mutations",
    "naming_violation",
    "numeric_check",
    "text",
]
