"""`derive-check init [FILE]`: a commented starter derivation file for a two-layer net, ready to check.

Every claim in it is PROVED, so a new user's first run is green; the comments say what each table means and how
to write a slip to see a refutation. The file is never written over: an existing FILE is an error.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_NAME = "two_layer.derive.toml"

STARTER = """\
# A derivation file: a model (a forward pass ending in a scalar loss) and claimed gradient formulas.
# derive-check builds the model with SymPy at the sizes below, differentiates the loss entry by entry,
# and proves each claim equal to those derivatives (for every size, where it can), or refutes it.
#   derive-check {name}
title = "Two-layer net: ReLU, softmax cross-entropy, L2"

[sizes]                  # small and distinct: a transposition slip cannot hide behind equal sizes
N = 2                    # batch
D = 3                    # input features
H = 4                    # hidden units
C = 5                    # classes

[inputs]                 # data: not differentiated
X = "N x D"
Y = "N x C, onehot"      # one-hot labels: checked for every label assignment
reg = "scalar"           # L2 strength

[params]                 # what the loss is differentiated with respect to
W1 = "D x H"
b1 = "H"
W2 = "H x C"
b2 = "C"

[forward]                # numpy-like formulas, top to bottom; the last line is the scalar loss
h1 = "relu(X @ W1 + b1)"
scores = "h1 @ W2 + b2"
P = "softmax(scores, axis=1)"
L = "-np.sum(Y * np.log(P)) / N + reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))"

[claims]                 # dNAME is dL/dNAME, shaped like NAME; a claim may use earlier claims (dh1 below)
dscores = "(P - Y) / N"
dW2 = "h1.T @ dscores + 2 * reg * W2"
db2 = "np.sum(dscores, axis=0)"
dh1 = "dscores @ W2.T"
dW1 = "X.T @ (dh1 * (h1 > 0)) + 2 * reg * W1"
db1 = "np.sum(dh1 * (h1 > 0), axis=0)"
# Try a slip: write dW2 = "h1.T @ dscores + reg * W2" and run again; derive-check refutes it with an
# entry, a counterexample, the residual and a proved diagnosis.
# More: wrt = "..." for another name, latex = "..." for a formula in LaTeX, [aliases], extends = "other.toml".
"""


def write_starter(target: Path | None) -> Path:
    """Write the starter file (default: ./two_layer.derive.toml) and return its path; an existing file is kept."""
    path = target or Path(DEFAULT_NAME)
    if path.is_dir():
        path = path / DEFAULT_NAME
    if path.exists():
        raise FileExistsError(f"{path} exists; derive-check init never writes over a file (name another one)")
    text = STARTER.format(name=path.name)
    text.encode("utf-8")
    str(path).encode("utf-8")  # a name the file system cannot take is refused before anything is created
    with path.open("x", encoding="utf-8") as out:  # "x": never over a file made meanwhile
        out.write(text)
    return path
