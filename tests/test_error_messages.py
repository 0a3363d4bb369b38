"""Error messages that teach: the caret under the offending text, a suggestion for the usual slip, exit code 2.

Each case is a derivation file with one mistake; the test pins the exact caret columns (0-based, into the line the
error prints), the text under the caret, and the words of the suggestion.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from derive_check.cli import main
from derive_check.derive.errors import InputError
from derive_check.derive.model.spec import parse_spec

HEAD = """title = "t"
[sizes]
N = 2
D = 3
H = 2
[inputs]
X = "N x D"
y = "N x H, onehot"
[params]
W = "D x H"
b = "H"
[forward]
z = "X @ W + b"
h = "relu(z)"
L = "sum(h * y) / N"
[claims]
"""
CLAIM_LINE = HEAD.count("\n") + 1  # the claim is the first line after the head

# (claim as written in TOML, caret columns [start, end), text under the caret, words the message must hold)
CLAIMS = {
    "call argument": ('dW = "np.dot(X.T, yy)"', 18, 20, "yy", "unknown name 'yy'; did you mean 'y'?"),
    "earlier claim": ('dW = "X.T @ dz"', 12, 14, "dz", "claim dz above this one"),
    "arity": ('dW = "np.dot(X.T, y, z)"', 6, 23, "np.dot(X.T, y, z)", "takes 2 argument(s) (a @ b), got 3"),
    "unclosed paren": ('dW = "X.T @ (y / N"', 12, 13, "(", "'(' was never closed (expected ')'"),
    "unmatched paren": ('dW = "X.T @ (y)) / N"', 15, 16, ")", "unmatched ')' (there is no opening '(' for it)"),
    "xor": ('dW = "X.T @ y ^ 2"', 14, 15, "^", "'^' is XOR in Python; write '**' for a power (x ** 2)"),
    "latex transpose": ('dW = "X^T @ y"', 7, 8, "^", "'^T' is LaTeX for a transpose: write x.T"),
    "latex in formula": ("dW = '\\frac{1}{N} X.T @ y'", 6, 11, "\\frac", "LaTeX goes in a claim's latex = '...' field"),
    "latex escaped": ('dW = "\\\\frac{1}{N} X.T @ y"', 0, 5, "\\frac", "latex = '...' field"),
    "toml form feed": ('dW = "\\frac{1}{N} X.T @ y"', 0, 5, "\\frac", "was read by TOML as an escape ('\\f')"),
    "method T": ('dW = "h.T() @ y"', 7, 11, ".T()", "write x.T (no parentheses)"),
    "math module": ('dW = "X.T @ math.exp(z)"', 12, 20, "math.exp", "write np.exp(x) or exp(x)"),
    "positional axis": ('dW = "X.T @ np.sum(z, 0)"', 22, 23, "0", "write axis=0"),
    "builtin max": ('dW = "X.T @ max(z, 0)"', 12, 21, "max(z, 0)", "write np.maximum(z, 0)"),
    "semicolon": ('dW = "X.T @ y / N;"', 17, 18, ";", "drop the ';'"),
    "assignment": ('dW = "dW = X.T @ y"', 6, 10, "dW =", "drop 'dW ='"),
    "superscript two": ('dW = "X.T @ z²"', 13, 14, "²", "write x ** 2"),
    "matlab transpose": ('dW = "X\' @ y"', 7, 8, "'", "write X.T for a transpose"),
    "matlab times": ('dW = "X.T .* y"', 10, 12, ".*", "MATLAB's '.*' is '*' here"),
    "option typo": ('dW = "X.T @ sum(z, axes=0)"', 19, 25, "axes=0", "did you mean 'axis'?"),
    "function typo": ('dW = "X.T @ np.exxp(z)"', 12, 19, "np.exxp", "did you mean 'exp'?"),
    "attribute typo": ('dW = "X.T @ z.t"', 12, 15, "z.t", "did you mean '.T'?"),
    "len": ('dW = "len(X) * W"', 6, 9, "len", "write x.shape[0]"),
    "shape call": ('dW = "X.shape(0) * W"', 7, 16, ".shape(0)", "write x.shape[0]"),
    "and": ('dW = "(z > 0 and z < 1) * W"', 7, 22, "z > 0 and z < 1", "multiply indicators"),
    "if else": ('dW = "W if N else 0"', 6, 19, "W if N else 0", "write np.where("),
    "name case": ('dW = "w.T"', 6, 7, "w", "unknown name 'w'; did you mean 'W'?"),
    "lowercase true": ('dW = "X.T @ y.mean(axis=0, keepdims=true)"', 36, 40, "true", "write True"),
    "floor division": ('dW = "X.T @ y // 2"', 14, 16, "//", "write '/'"),
    "greek": ('dW = "X.T @ λ * y"', 12, 13, "λ", "Greek letters are written out"),
    "index variable": ('dW = "X.T @ y[i]"', 14, 15, "i", 'for = { i = "N" }'),
    "claim name typo": ('dWW = "X.T @ y / N"', 1, 3, "WW", "'WW' is not declared; did you mean 'dW'?"),
    "wrt typo": ('dz = { formula = "y / N", wrt = "zz" }', 33, 35, "zz", "did you mean wrt = 'z'?"),
    "claim key typo": ('dz = { formual = "y / N" }', 7, 14, "formual", "did you mean 'formula'?"),
    "layout typo": ('dz = { formula = "y / N", layout = "numerater" }', 36, 45, "numerater", "mean 'numerator'?"),
    "condition": ('dz = { formula = "y / N", when = "i = 0", for = { i = "N" } }', 36, 37, "=", "write =="),
    "latex operand": (
        "dW = { latex = '\\frac{\\partial L}{\\partial W} = X^T (y \\odot ) / N' }",
        61,
        62,
        ")",
        "expected a term (a name, a number, '(' or a command such as \\frac) after '\\odot', found ')'",
    ),
    "latex command typo": ("dW = { latex = '\\fracc{1}{N} X^T y' }", 16, 22, "\\fracc", "did you mean '\\frac'?"),
    "latex name typo": ("dW = { latex = 'X^T \\cdot yy' }", 26, 28, "yy", "'yy' in LaTeX; did you mean 'y'?"),
    "latex unclosed": ("dW = { latex = 'X^T \\cdot (y' }", 28, 29, "'", "it ends too early; the '(' is never closed"),
}


def claim_error(claim: str) -> InputError:
    """The error the first claim of a file with `claim` carries (the file itself loads)."""
    spec = parse_spec("f.toml", HEAD + claim + "\n")
    error = spec.claims[0].error
    assert error is not None, claim
    return error


@pytest.mark.parametrize("case", list(CLAIMS))
def test_a_claim_error_puts_its_caret_under_the_offending_text_and_suggests_a_fix(case: str) -> None:
    claim, start, end, under, words = CLAIMS[case]
    error = claim_error(claim)
    assert words in error.message
    assert (error.where.line, error.where.col_start, error.where.col_end) == (CLAIM_LINE, start, end)
    header, source, carets = error.render().splitlines()
    assert header.startswith(f"f.toml:{CLAIM_LINE}: error [claims.")
    assert source[4 + start : 4 + end] == under
    assert carets == " " * (4 + start) + "^" * (end - start)


def test_a_latex_claim_error_names_its_key_once() -> None:
    error = claim_error("dW = { latex = 'X^T \\cdot yy' }")
    assert error.render().startswith(f"f.toml:{CLAIM_LINE}: error [claims.dW.latex]: ")
    assert ".latex.latex" not in error.render()
    spec = parse_spec("f.toml", HEAD + "[claims.dW]\nformula = \"X.T @ y\"\nlatex = 'X^T \\cdot yy'\n")
    assert spec.claims[0].error is not None and spec.claims[0].error.where.key == "claims.dW.latex"
    assert spec.claims[0].error.where.line == CLAIM_LINE + 2


def test_the_caret_of_a_latex_list_is_on_the_line_of_the_bad_item() -> None:
    claim = "[claims.dW]\nlatex = ['X^T \\cdot y',\n         'X^T \\cdot yy']\n"
    error = parse_spec("f.toml", HEAD + claim).claims[0].error
    assert error is not None and error.where.line == CLAIM_LINE + 2
    assert error.where.text is not None and error.where.text[error.where.col_start : error.where.col_end] == "yy"


# (what the file says instead of the head's line, caret columns, text under the caret, words of the suggestion)
FILES = {
    "table typo": ("[params]", "[parameters]", 1, 11, "parameters", "table [parameters]; did you mean [params]?"),
    "key typo": ('title = "t"', 'titel = "t"', 0, 5, "titel", "did you mean 'title'?"),
    "numpy shape": ('W = "D x H"', 'W = "(D, H)"', 5, 11, "(D, H)", 'a shape is written "D x H"'),
    "shape without parentheses": ('W = "D x H"', 'W = "D, H"', 5, 9, "D, H", 'a shape is written "D x H"'),
    "glued shape": ('W = "D x H"', 'W = "DxH"', 5, 8, "DxH", 'write "D x H" (x between spaces)'),
    "size typo": ('W = "D x H"', 'W = "D x HH"', 9, 11, "HH", "did you mean 'H'?"),
    "flag typo": ('y = "N x H, onehot"', 'y = "N x H, one-hot"', 12, 19, "one-hot", "did you mean 'onehot'?"),
    "forward name": ('h = "relu(z)"', 'h = "relu(zz)"', 10, 12, "zz", "unknown name 'zz'; did you mean 'z'?"),
    "forward key": ('h = "relu(z)"', 'h = { formula = "relu(z)", shpae = "N x H" }', 27, 32, "shpae", "mean 'shape'?"),
    "backslash in toml": ('h = "relu(z)"', 'h = "\\sum z"', 5, 6, "\\", "write LaTeX in single quotes"),
}


@pytest.mark.parametrize("case", list(FILES))
def test_a_file_error_has_its_line_a_caret_and_a_suggestion(case: str) -> None:
    old, new, start, end, under, words = FILES[case]
    text = HEAD.replace(old, new) + 'db = "sum(y * (z > 0), axis=0) / N"\n'
    with pytest.raises(InputError) as info:
        parse_spec("f.toml", text)
    error = info.value
    line = text.splitlines().index(new.splitlines()[0]) + 1
    assert words in error.message
    assert (error.where.line, error.where.col_start, error.where.col_end) == (line, start, end)
    header, source, carets = error.render().splitlines()
    assert header.startswith(f"f.toml:{line}: error")
    assert source[4 + start : 4 + end] == under and carets == " " * (4 + start) + "^" * (end - start)


def test_a_bad_claim_leaves_the_other_claims_of_the_file_to_be_checked() -> None:
    spec = parse_spec("f.toml", HEAD + 'dWW = "X.T @ y"\ndb = "sum(y * (z > 0), axis=0) / N"\ndz = "y ^ 2"\n')
    errors = {c.name: c.error for c in spec.claims}
    assert errors["db"] is None and errors["dWW"] is not None and errors["dz"] is not None


def run(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, str]:
    code = main([str(path), "--no-cache", "--no-timings", "--color", "never"])
    return code, capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "header"),
    [
        (HEAD.replace("[params]", "[parameters]"), "input.toml:9:2: error [parameters]: unknown top-level table"),
        (HEAD.replace('"D x H"', '"(D, H)"'), "input.toml:10:6: error [params.W]: a shape is written"),
        (HEAD + 'dW = "X.T @ y ^ 2"\n', f"input.toml:{CLAIM_LINE}:15: error [claims.dW]: '^' is XOR in Python"),
    ],
)
def test_input_errors_exit_with_code_2_and_print_each_error_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, header: str
) -> None:
    path = tmp_path / "input.toml"
    path.write_text(text)
    code, out = run(capsys, path)
    assert code == 2
    assert out.count(header) == 1, out
    assert "Traceback" not in out


def test_a_claim_error_does_not_stop_the_good_claims(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "input.toml"
    path.write_text(HEAD + 'dWW = "X.T @ y"\ndb = "sum(y * (z > 0), axis=0) / N"\n')
    code, out = run(capsys, path)
    assert code == 2
    assert "did you mean 'dW'?" in out and out.splitlines()[-1] == "1 passed, 1 failed"
