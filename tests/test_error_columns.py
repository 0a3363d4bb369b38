"""The column in an input error's header, `file:line:col: error [key]: message`, as ruff and mypy write it.

A column is printed only where the caret's text is the file's line (then the caret's column is a column of the
file); a formula shown on its own (a string with escapes, a multi-line string) has columns of its own, and its
header stays `file:line:`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from derive_check.cli import main
from derive_check.derive.errors import InputError, Location, file_column

HEAD = """[sizes]
N = 2
D = 3

[inputs]
X = "N x D"

[params]
W = "D x N"

[forward]
h = "tanh(X @ W)"
L = "sum(h**2)"

[claims]
dW = "X.T @ (2 * h * (1 - h**2))"
"""
HEADER = re.compile(r"^(?P<file>[^\s:]+):(?P<line>\d+)(?::(?P<col>\d+))?: error\b", re.MULTILINE)


def rendered(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """The CLI's output on `text` (it must be an input error, exit code 2), and the file's name as printed."""
    path = tmp_path / "input.toml"
    path.write_text(text, encoding="utf-8")
    code = main([str(path), "--no-cache", "--no-timings", "--color", "never"])
    out = capsys.readouterr().out
    assert code in (1, 2), out
    return out, str(path)


@pytest.mark.parametrize(
    ("old", "new", "header"),
    [
        # an unknown name in a [forward] formula: 'Wq' starts at column 15 of `h = "tanh(X @ Wq)"`
        ('h = "tanh(X @ W)"', 'h = "tanh(X @ Wq)"', "12:15: error [forward.h]: unknown name 'Wq'"),
        # the same line indented by a tab: a tab is one column, as in ruff and mypy
        ('h = "tanh(X @ W)"', '\th = "tanh(X @ Wq)"', "12:16: error [forward.h]: unknown name 'Wq'"),
        # a bad shape in [inputs]: the undeclared size 'Q' of `X = "N x Q"`, and a numpy tuple
        ('X = "N x D"', 'X = "N x Q"', "6:10: error [inputs.X]: 'Q' in shape 'N x Q' is not a declared size"),
        ('X = "N x D"', 'X = "(N, D)"', '6:6: error [inputs.X]: a shape is written "N x D"'),
        # a TOML syntax error, at tomllib's own column (the second '=')
        ("N = 2", "N = = 2", "2:5: error: malformed TOML: Invalid value"),
        # an unknown name in a claim, plain and inside an inline table
        ('dW = "X.T @ (2 * h * (1 - h**2))"', 'dW = "X.T @ Z"', "16:13: error [claims.dW]: unknown name 'Z'"),
        ('dW = "X.T @ (2 * h * (1 - h**2))"', 'dW = { formula = "X.T @ Z" }', "16:25: error [claims.dW.formula]"),
    ],
)
def test_the_header_gives_the_column_of_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, header: str
) -> None:
    text = HEAD.replace(old, new)
    out, file = rendered(tmp_path, text, capsys)
    assert f"{file}:{header}" in out
    _caret_is_at_the_column(out, file, text)


@pytest.mark.parametrize(
    ("claim", "header"),
    [  # shown on their own: a string with an escape, a multi-line string
        ('dW = "X.T @ (2 * hh * (1 - h**2))\\u0020"', "16: error [claims.dW]: unknown name 'hh'"),
        ("dW = '''\nX.T @ (2 * hh * (1 - h**2))'''", "16: error [claims.dW]: unknown name 'hh'"),
    ],
)
def test_a_formula_shown_on_its_own_has_no_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], claim: str, header: str
) -> None:
    text = HEAD.replace('dW = "X.T @ (2 * h * (1 - h**2))"', claim)
    out, file = rendered(tmp_path, text, capsys)
    assert f"{file}:{header}" in out
    assert [m["col"] for m in HEADER.finditer(out)] == [None]


def _caret_is_at_the_column(out: str, file: str, text: str) -> None:
    """Every header with a column: the quoted text is that line of the file, and the caret sits at that column."""
    lines, found = out.splitlines(), 0
    for k, line in enumerate(lines):
        head = HEADER.match(line)
        if head is None or head["file"] != file or head["col"] is None:
            continue
        found += 1
        number, col = int(head["line"]), int(head["col"])
        assert lines[k + 1] == "    " + text.splitlines()[number - 1].replace("\t", " ")
        assert lines[k + 2].index("^") - 4 == col - 1
    assert found == 1


def test_the_column_is_known_only_while_the_text_is_the_files_line(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[forward]\nh = "tanh(X @ Wq)"\n', encoding="utf-8")
    at_line = Location(str(path), 2, "forward.h", 'h = "tanh(X @ Wq)"', 14, 16)
    assert file_column(at_line) == 15
    assert InputError("unknown name 'Wq'", at_line).render().startswith(f"{path}:2:15: error [forward.h]: ")
    own = Location(str(path), 2, "forward.h", "tanh(X @ Wq)", 9, 11)  # the formula on its own: not the file's columns
    assert file_column(own) is None
    assert InputError("unknown name 'Wq'", own).render().startswith(f"{path}:2: error [forward.h]: ")
    assert file_column(Location(str(path), 1, None, "[forward]", 1, 2)) == 2
    assert file_column(Location(str(path), 3, None, 'h = "tanh(X @ Wq)"', 14, 16)) is None  # another line
    assert file_column(Location(str(tmp_path / "gone.toml"), 2, None, 'h = "tanh(X @ Wq)"', 14, 16)) is None
    assert file_column(Location(str(path), None, None, 'h = "tanh(X @ Wq)"', 14, 16)) is None  # no line
    path.write_text('[forward]\nh = "tanh(X @ W)"\n', encoding="utf-8")  # changed since: no column
    assert file_column(at_line) is None
    assert InputError("unknown name 'Wq'", Location(str(path))).render() == f"{path}: error: unknown name 'Wq'"
