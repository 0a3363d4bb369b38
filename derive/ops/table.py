"""The op table: every operation of the language, keyed by name, and the indexes parsers read.

Adding an op is adding one `Op` to one of the groups (`arith`, `constants`, `outer`, `reduce`, `select`,
`extrema`, `smooth`, `piecewise`, `declared`) and its tests: the formula parser, the LaTeX reader, the
namespace's reserved words, symbolic shapes, both evaluation
backends, the fixed-size and index engines, the witness and both printers all dispatch on this table.
`tests/test_op_table.py` fails when an op lacks a facet an engine needs, or when two facets of one op disagree.
"""

from __future__ import annotations

from typing import Any

from derive_check.derive.ops.arith import ARITHMETIC
from derive_check.derive.ops.constants import CONSTANTS
from derive_check.derive.ops.declared import DECLARED
from derive_check.derive.ops.extrema import EXTREMA
from derive_check.derive.ops.outer import OUTER
from derive_check.derive.ops.piecewise import PIECEWISE
from derive_check.derive.ops.reduce import REDUCTIONS
from derive_check.derive.ops.select import SELECTIONS
from derive_check.derive.ops.smooth import SMOOTH
from derive_check.derive.ops.spec import ARG, SELF, Op, WitnessRule
from derive_check.derive.ops.spellings import SPELLINGS
from derive_check.derive.tree import Apply, Node, substitute

GROUPS = (ARITHMETIC, CONSTANTS, OUTER, REDUCTIONS, SELECTIONS, EXTREMA, SMOOTH, PIECEWISE, DECLARED)
OPS: dict[str, Op] = {op.name: op for group in GROUPS for op in group}
FUNCTIONS: dict[str, Op] = {op.spelling: op for op in OPS.values() if op.spelling}  # called like f(x) in formulas
INFIX: dict[type[Any], str] = {op.infix[1]: op.name for op in OPS.values() if op.infix}  # ast operator -> op
LATEX_COMMANDS: dict[str, str] = {c: op.name for op in OPS.values() for c in op.latex_commands}  # \exp -> exp
LATEX_WORDS: dict[str, str] = {w: op.name for op in OPS.values() for w in op.latex_words}  # \text{ReLU} -> relu
LATEX_BRACED: dict[str, str] = {c: op.name for op in OPS.values() for c in op.latex_braced}  # \sqrt{x} -> sqrt
METHODS = frozenset(
    {"sum", "mean", "var", "std", "dot", "transpose", "astype", "max", "min", "clip"}
)  # x.sum(axis=0): the function with x first
BUILDERS = frozenset({"concatenate", "hstack", "ones", "zeros", "eye"})  # np.f(...) building arrays (lang.indexing)
# names a file may not declare: they spell functions, or the numpy module prefix
RESERVED = frozenset({*FUNCTIONS, *SPELLINGS, *BUILDERS, "range", "np", "numpy", "arange", "pi"})


def derivative_at(node: Apply, value: Node | None = None) -> Node:
    """d op(u)/du of an application op(u) of a smooth element-wise op: its `derivative` formula with `_u` := u
    and `_self` := `value`, the application's value (the application itself, or the name of the line it is:
    tanh' as 1 - h ** 2)."""
    rule = OPS[node.op].derivative
    if rule is None:
        raise ValueError(f"'{node.op}' has no derivative formula")
    return substitute(rule(node), {ARG: node.args[0], SELF: node if value is None else value})


def witness_rule(name: str) -> WitnessRule | None:
    """The witness's facet of op `name` (its only way into the table: it reads no other facet)."""
    op = OPS.get(name)
    return op.witness if op is not None else None


assert len(OPS) == sum(len(group) for group in GROUPS), "an op name is used twice"
