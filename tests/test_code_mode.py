"""Code mode: forward/backward pairs read from Python with `ast` and proved as vector-Jacobian products.

The verdicts are checked against an oracle that shares nothing with the engine: the example files are *run* here
(they are ours, and only the tests run them; derive-check never does) and their backward passes compared with
central differences of their forward passes at random points, labels included.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from derive_check.derive.code.lower import load_code
from derive_check.derive.code.spelling import TorchSpelling
from derive_check.derive.errors import InputError
from derive_check.derive.model.spec import ModelSpec

ROOT = Path(__file__).resolve().parent.parent
CODE = ROOT / "examples" / "code"


def check(*paths: Path, extra: tuple[str, ...] = ()) -> dict[str, object]:
    """derive-check's JSON report on the given files (no cache)."""
    cmd = [sys.executable, "-m", "derive_check", *map(str, paths), "--format", "json", "--no-cache", *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode in (0, 1, 2) and "Traceback" not in done.stderr, done.stderr + done.stdout
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def claims(report: dict[str, object]) -> list[tuple[str, dict[str, object]]]:
    """(pair title, claim record) for every claim of the report."""
    return [(f["title"], c) for f in report["files"] for c in f["claims"]]  # type: ignore[index, union-attr]


def slips(path: Path) -> dict[str, int]:
    """The line of the `# slip` comment inside each pair's functions, by the pair's first function name."""
    tree = ast.parse(path.read_text())
    lines = path.read_text().splitlines()
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            marked = [n for n in range(node.lineno, (node.end_lineno or 0) + 1) if "# slip" in lines[n - 1]]
            if (marked and node.name.endswith(("_backward", "_loss"))) or (marked and isinstance(node, ast.ClassDef)):
                found[node.name.removesuffix("_backward")] = marked[0]
    return found


@pytest.fixture(scope="module")
def correct() -> dict[str, object]:
    return check(CODE / "layers.py", CODE / "functions.py")


@pytest.fixture(scope="module")
def buggy() -> dict[str, object]:
    return check(CODE / "layers_buggy.py", CODE / "functions_buggy.py")


def test_every_correct_backward_is_proved_for_all_sizes_unless_it_loops(correct: dict[str, object]) -> None:
    assert correct["summary"]["exit_code"] == 0  # type: ignore[index]
    found = claims(correct)
    assert len(found) == 37  # every gradient every pair returns: 30 numpy, 7 torch
    for title, claim in found:
        assert claim["verdict"] == "PROVED", (title, claim["claim"], claim["message"])
        looped = str(title).startswith("conv1d")  # the only pair with a loop (and writes at positions)
        assert claim["sizes"] == ("stated" if looped else "all"), (title, claim["claim"], claim["general"])
    assert not any(str(c["claim"]).startswith("probe_") for _, c in found)  # probes locate slips, never reported


def test_every_buggy_backward_is_refuted_at_its_slip(buggy: dict[str, object]) -> None:
    marks = {**slips(CODE / "layers_buggy.py"), **slips(CODE / "functions_buggy.py")}
    found = claims(buggy)
    refuted = [(t, c) for t, c in found if c["verdict"] == "REFUTED"]
    by_pair: dict[str, list[dict[str, object]]] = {}
    for title, claim in refuted:
        by_pair.setdefault(str(title).split(" ")[0].removesuffix("_forward"), []).append(claim)
    assert not [f for f in buggy["files"] if f["error"]]  # type: ignore[index, union-attr]
    assert sorted(by_pair) == sorted(marks)  # every pair with a slip has a refuted gradient, and no other pair
    for pair, wrong in by_pair.items():
        for claim in wrong:
            assert claim["counterexample"] is not None
            span = _span(claim)
            assert span[0] <= marks[pair] <= span[1], (pair, claim["claim"], claim["line"], claim["departs"])


def _span(claim: dict[str, object]) -> tuple[int, int]:
    """The lines a refutation names: its departure range, or its own line."""
    words = str(claim["departs"])
    between = re.search(r"between lines (\d+) and (\d+)", words)
    if between:
        return int(between[1]), int(between[2])
    at = re.search(r"at line (\d+)", words)
    line = int(at[1]) if at else int(claim["line"])  # type: ignore[call-overload]
    return line, line


def test_a_slip_at_repeated_labels_only_is_refuted_with_repeated_labels(buggy: dict[str, object]) -> None:
    """`dW[y] += dout` adds a repeated id once (numpy writes each row once): right whenever the ids differ, which
    random labels often are; the counterexample has a repeat."""
    (embedding,) = [c for t, c in claims(buggy) if str(t).startswith("embedding")]
    assert embedding["verdict"] == "REFUTED" and embedding["sizes"] == ""
    labels = embedding["counterexample"]["labels"]  # type: ignore[index]
    classes = [int(k) for k in re.findall(r"\d+", str(labels))]
    assert len(classes) != len(set(classes)), labels


def test_the_departure_is_the_first_wrong_adjoint_not_a_misnamed_one(buggy: dict[str, object]) -> None:
    """The LSTM backward names its gate pre-activation gradients di, df, do, dg (cs231n's naming): read as the
    adjoints of the gates' arguments they hold, so the slip is found where the gates are concatenated."""
    lstm = [c for t, c in claims(buggy) if str(t).startswith("lstm_step") and c["verdict"] == "REFUTED"]
    assert len(lstm) == 5 and all("np.concatenate([df, di, do, dg]" in str(c["departs"]) for c in lstm)


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NUMPY_PAIRS = {  # name: (inputs at random, the indices of the inputs the backward returns gradients for)
    "affine": (lambda r: [r.normal(size=(2, 3)), r.normal(size=(3, 4)), r.normal(size=4)], [0, 1, 2]),
    "relu": (lambda r: [r.normal(size=(2, 3))], [0]),
    "dropout": (lambda r: [r.normal(size=(2, 3)), r.uniform(0, 2, size=(2, 3))], [0]),
    "batchnorm": (lambda r: [r.normal(size=(2, 3)), r.normal(size=3), r.normal(size=3), 0.1], [0, 1, 2]),
    "rnn_step": (
        lambda r: [
            r.normal(size=(2, 3)),
            r.normal(size=(2, 4)),
            r.normal(size=(3, 4)),
            r.normal(size=(4, 4)),
            r.normal(size=4),
        ],
        [0, 1, 2, 3, 4],
    ),
    "conv1d": (lambda r: [r.normal(size=(2, 5)), r.normal(size=3), 0.3], [0, 1, 2]),
    "layernorm": (lambda r: [r.normal(size=(2, 3)), r.normal(size=3), r.normal(size=3), 0.1], [0, 1, 2]),
    "hardtanh": (lambda r: [4 * r.normal(size=(2, 3))], [0]),  # wide enough to reach the clip at 3
    "embedding": (lambda r: [r.integers(0, 3, size=4), r.normal(size=(3, 2))], [1]),  # 4 ids of 3: one repeats
}


def _numeric(f, inputs: list[object], k: int, h: float = 1e-6) -> np.ndarray:  # type: ignore[no-untyped-def]
    x = np.array(inputs[k], dtype=float)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        for sign in (1, -1):
            moved = x.copy()
            moved[idx] += sign * h
            args = list(inputs)
            args[k] = moved if moved.shape else float(moved)
            grad[idx] += sign * f(args) / (2 * h)
    return grad


@pytest.mark.parametrize("name", sorted(NUMPY_PAIRS))
def test_the_oracle_agrees_the_correct_layers_are_right_and_the_buggy_ones_wrong(name: str) -> None:
    """Run both example files' pairs (ours; derive-check itself never runs code) against central differences."""
    make, wrt = NUMPY_PAIRS[name]
    verdicts = []
    for path in (CODE / "layers.py", CODE / "layers_buggy.py"):
        module = _module(path)
        forward, backward = getattr(module, f"{name}_forward"), getattr(module, f"{name}_backward")
        wrong = False
        for seed in range(5):
            rng = np.random.default_rng(seed)
            inputs = make(rng)
            out, cache = forward(*inputs)
            dout = rng.normal(size=np.shape(out))
            grads = backward(dout, cache)
            grads = grads if isinstance(grads, tuple) else (grads,)
            places = range(len(inputs)) if len(grads) == len(inputs) else wrt  # one per input, or per gradient
            for k, grad in ((k, g) for k, g in zip(places, grads, strict=False) if g is not None):
                true = _numeric(lambda a, f=forward, d=dout: float(np.sum(f(*a)[0] * d)), inputs, k)
                wrong |= not np.allclose(grad, true, rtol=1e-5, atol=1e-6)
        verdicts.append(wrong)
    assert verdicts == [False, name in slips(CODE / "layers_buggy.py")]


@pytest.mark.parametrize("name", ["softmax_loss", "svm_loss"])
def test_the_oracle_agrees_on_the_loss_functions(name: str) -> None:
    """The loss functions' gradients against central differences of their losses, over random labels."""
    verdicts = []
    for path in (CODE / "layers.py", CODE / "layers_buggy.py"):
        function = getattr(_module(path), name)
        wrong = False
        for seed in range(8):
            rng = np.random.default_rng(seed)
            x, y = rng.normal(size=(4, 3)), rng.integers(0, 3, size=4)
            _, dx = function(x, y)
            numeric = _numeric(lambda a, f=function, y=y: float(f(a[0], y)[0]), [x], 0)
            wrong |= not np.allclose(dx, numeric, atol=1e-6)
        verdicts.append(wrong)
    assert verdicts == [False, True]


def test_a_loop_makes_the_model_hold_at_the_stated_sizes_only() -> None:
    """A loop is unrolled at the stated sizes: the model is the code only there, so no claim says 'all sizes'."""
    (conv,) = [s for name, s in load_code(CODE / "layers.py", (CODE / "layers.py").read_text()) if name == "conv1d"]
    assert isinstance(conv, ModelSpec) and conv.code is not None and set(conv.code.unrolled) == {"N", "W", "K"}
    assert all(isinstance(d, int) for line in conv.forward for d in conv.shapes[line.name])


def _pair(body: str) -> str:
    return "import numpy as np\n\n# derive-check: x: N x D, w: D x H\n" + body


UPDATES = {  # a backward that writes entries in place, as numpy runs it: (source, proved?)
    "mask_assign": ("dx = dout.copy()\n    dx[x <= 0] = 0", True),
    "mask_times": ("dx = dout.copy()\n    dx[x > 0] *= 1\n    dx[x <= 0] *= 0", True),
    "alias_mutation": ("dx = dout\n    dx[x <= 0] = 0\n    dout = dout * 1", True),
    "wrong_mask": ("dx = dout.copy()\n    dx[x < 1] = 0", False),
    "column_writes": ("dx = dout * (x > 0)\n    dx[:, 0] = dout[:, 0] * (x[:, 0] > 0)", True),
    "row_writes": ("dx = dout * (x > 0)\n    dx[0] = 0 * dx[0]", False),
    "block_writes": (
        "dx = np.zeros_like(x)\n    dx[:, 0:2] += (dout * (x > 0))[:, 0:2]\n    dx[:, 2:3] += (dout * (x > 0))[:, 2:3]",
        True,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(UPDATES))
def test_in_place_writes_are_read_as_numpy_runs_them(case: str, tmp_path: Path) -> None:
    body, proved = UPDATES[case]
    source = (
        "import numpy as np\n\n# derive-check: x: N x D\ndef relu_forward(x):\n    out = np.maximum(0, x)\n"
        "    return out, x\n\n\ndef relu_backward(dout, cache):\n    x = cache\n    " + body + "\n    return dx\n"
    )
    path = tmp_path / "layer.py"
    path.write_text(source)
    verdicts = {c["verdict"] for _, c in claims(check(path))}
    assert verdicts == ({"PROVED"} if proved else {"REFUTED"})
    namespace: dict[str, object] = {}
    exec(compile(source, str(path), "exec"), namespace)  # the oracle runs the test's own code
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3))
    x[0, 0] = 0.5  # inside (0, 1): where `x < 1` and `x <= 0` masks disagree
    dout = rng.normal(size=(2, 3))
    got = namespace["relu_backward"](dout, x)  # type: ignore[operator]
    assert np.allclose(got, dout * (x > 0)) is proved


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("x.mm(w)", "x @ w"),
        ("x.t()", "x.T"),
        ("x.sum(0)", "x.sum(axis=0)"),
        ("x.sum(dim=1, keepdim=True)", "x.sum(axis=1, keepdims=True)"),
        ("x.clamp(min=0)", "np.maximum(x, 0)"),
        ("x.clamp(0, 1)", "np.clip(x, 0, 1)"),
        ("torch.where(x > 0, x, 0 * x)", "np.where(x > 0, x, 0 * x)"),
        ("x.exp()", "np.exp(x)"),
        ("(x > 0).float()", "x > 0"),
        ("x.max(dim=1, keepdim=True).values", "x.max(axis=1, keepdims=True)"),
        ("x.max(dim=1)[0]", "x.max(axis=1)"),
        ("F.relu(x)", "relu(x)"),
        ("x.pow(2)", "x ** 2"),
        ("x.unsqueeze(1)", "x[:, None]"),
    ],
)
def test_torch_spellings_are_read_as_their_numpy_meaning(written: str, read: str) -> None:
    spelling = TorchSpelling("f.py", [written], {"torch": "torch", "F": "F"})
    assert ast.unparse(spelling.visit(ast.parse(written, mode="eval").body)) == read


def test_torch_max_over_a_dimension_without_values_is_refused() -> None:
    spelling = TorchSpelling("f.py", ["x.max(dim=1)"], {"torch": "torch"})
    with pytest.raises(InputError, match=r"returns \(values, indices\)"):
        spelling.visit(ast.parse("x.max(dim=1)", mode="eval").body)


BAD = {
    "import os\n": ("import of 'os'", 2),
    "    print(x)\n": ("a call whose value is not used", 6),
    "    while True:\n        pass\n": ("a While statement is not read", 6),
    "    out = eval('x')\n": ("unknown name 'eval'", 6),
    "    out = open('/etc/passwd').read()\n": ("unknown name 'open'", 6),
    "    out = x.__class__\n": ("attribute '.__class__' is not supported", 6),
    "    if x > 0:\n        out = x\n": ("an if is not read", 6),
}


@pytest.mark.parametrize("inserted", sorted(BAD))
def test_code_outside_the_read_subset_is_an_input_error_with_a_caret(inserted: str, tmp_path: Path) -> None:
    head = inserted if inserted.startswith("import") else ""
    body = "" if head else inserted
    source = (
        f"import numpy as np\n{head}\n# derive-check: x: N x D\ndef f_forward(x):\n    out = x * 2\n{body}"
        "    return out, x\n\n\ndef f_backward(dout, cache):\n    return 2 * dout\n"
    )
    path = tmp_path / "layer.py"
    path.write_text(source)
    done = subprocess.run(
        [sys.executable, "-m", "derive_check", str(path), "--no-cache"], capture_output=True, text=True, timeout=120
    )
    message, line = BAD[inserted]
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert message in done.stdout
    assert re.search(rf"layer\.py:{line}:\d+: error", done.stdout), done.stdout
    assert "^" in done.stdout  # the caret under the offending text


def test_a_directory_scan_picks_python_files_that_declare_pairs_only(tmp_path: Path) -> None:
    (tmp_path / "layers.py").write_text((CODE / "layers.py").read_text())
    (tmp_path / "util.py").write_text("import os\nprint(os.listdir('.'))\n")  # no declaration: never read
    report = check(tmp_path, extra=("-k", "dW"))
    assert {f["file"] for f in report["files"]} == {str(tmp_path / "layers.py")}  # type: ignore[index, union-attr]


LIES = {  # files an adversarial review made derive-check pass although numpy runs them wrong: now each is refused
    "view1.py": "shares memory",  # v = dx[:]; v *= 2 changes dx (a view)
    "view_T.py": "shares memory",  # dxT = dx.T; dxT *= 2
    "fwd_view.py": "shares memory",  # a view updated in the forward
    "view_dout.py": "shares memory",  # a correct backward through a view: refused, not refuted
    "alias2.py": "is also held by acc",  # dx = acc = np.zeros_like(dout): one array, two names
    "chain3.py": "is also held by dw_rows",
    "sum_scalar.py": "is also held by s",  # a helper's `a += 1.0` on the caller's np.float64
    "helper_scalar.py": "is also held by alpha",
    "deco.py": "a decorator is not read",
    "rebind.py": "'from numpy import tanh' is not read",
    "const.py": "module-level statement is not read",  # SCALE *= 2 at module level
    "tuple_const.py": "module-level statement is not read",
    "monkey.py": "module-level statement is not read",  # np.tanh = np.sin
    "lenshadow.py": "shadows the builtin",
    "rangeshadow.py": "shadows the builtin",
    "assert_walrus.py": "an assert that calls a function or assigns",
    "assert_fill.py": "an assert that calls a function or assigns",  # assert np.copyto(dx, dout) is None
    "arange1.py": "is read with N the array's row count",  # dx[np.arange(1), y] -= 1
    "rowmask.py": "a mask must have the shape",  # a 1-D mask selects rows in numpy
    "maskassign.py": "for one number v",  # dx[x > 0] = dout raises in numpy
    "t_std.py": "torch's std divides by n - 1",
    "t_swap.py": "returns grad_b in place 1",  # torch assigns gradients by position
    "swapped.py": "returns dw in place 1",
    "np_mm.py": "only calls of the language's functions",  # x.mm(w) in a numpy file does not run
    "np_size.py": "only calls of the language's functions",  # numpy's x.size is not a method
    "manysizes2.py": "at most 16 size names",  # was a StopIteration crash (exit 3)
    # a second round
    "npsig.py": "numpy has no np.sigmoid",  # the language's sigmoid under numpy's name: AttributeError when run
    "ctxscalar.py": "is also held by ctx",  # ctx.alpha = alpha; alpha += 1.0 (a Python float: ctx keeps 1 less)
    "bool1.py": "holds bool values",  # g = x > 0; g[x > 0] = 0.5 stores True
    "int1.py": "holds int values",  # g = (x > 0) * 1; g[...] = 0.5 stores 0
    "defarg.py": "a default value or annotation that runs code on import",
    "annot.py": "a default value or annotation that runs code on import",
    "hookbase.py": "class bases are read only as names",
    "hookcls.py": "this class body statement is not read",  # __init_subclass__ run by a later class
    "thook.py": "this class body statement is not read",
    "inbc.py": "numpy refuses this in-place update",  # db += dout with db smaller than dout
    "viewN.py": "shares memory",  # dx[N - 1], dx[x.shape[0] - 1], dx[k], dx[np.newaxis] are views too
    "viewshape.py": "shares memory",
    "viewk.py": "shares memory",
    "viewnewax.py": "shares memory",
    "tcontig.py": "shares memory",  # torch's .contiguous() and .detach() return the same memory
    "tdetach.py": "shares memory",
}


@pytest.mark.parametrize("name", sorted(LIES))
def test_code_numpy_runs_otherwise_is_refused_not_proved(name: str) -> None:
    path = ROOT / "tests" / "data" / "code_lies" / name
    done = subprocess.run(
        [sys.executable, "-m", "derive_check", str(path), "--no-cache", "-q"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert LIES[name] in done.stdout and "Traceback" not in done.stderr


def test_the_backward_reads_the_module_constant_not_the_forwards_local_and_torch_sums_broadcast_gradients() -> None:
    """A forward's local `SCALE = 3.0` is not the backward's SCALE (the module's 2.0): refuted, as running it shows;
    torch sums a gradient returned at the broadcast shape (grad_output for a bias) to the input's shape: proved."""
    found = claims(check(ROOT / "tests" / "data" / "code_lies" / "constrebind.py"))
    assert {c["verdict"] for _, c in found} == {"REFUTED"}
    summed = {
        str(c["claim"]): c["verdict"] for _, c in claims(check(ROOT / "tests" / "data" / "code_lies" / "tsumto.py"))
    }
    assert set(summed.values()) == {"PROVED"} and len(summed) == 2


def test_numpy_indexing_of_a_reduction_is_not_read_as_torch_values() -> None:
    """numpy's x.max(1, keepdims=True)[0] is row 0's maximum (not torch's values): the backward that assumes the
    per-row maximum is refuted, as running it shows."""
    done = check(ROOT / "tests" / "data" / "code_lies" / "max10.py")
    assert {c["verdict"] for _, c in claims(done)} == {"REFUTED"}


def test_k_that_matches_only_probes_selects_nothing() -> None:
    """Probes locate slips; they are never claims of their own, so `-k probe_...` chooses nothing (exit 2)."""
    done = subprocess.run(
        [sys.executable, "-m", "derive_check", str(CODE / "layers.py"), "-k", "probe_dxhat", "--no-cache"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "no claim matches -k 'probe_dxhat'" in done.stderr


def test_a_derivation_file_can_name_the_pair_and_hold_its_shapes(tmp_path: Path) -> None:
    """[code] names the file and the functions; [inputs] the shapes: the same proof, the lines of the code file."""
    layers = (CODE / "layers.py").read_text().replace("# derive-check:", "# shapes:")
    (tmp_path / "layers.py").write_text(layers)
    (tmp_path / "functions.py").write_text((CODE / "functions_buggy.py").read_text().replace("# derive-check:", "#"))
    (tmp_path / "affine.toml").write_text(
        'title = "affine, named"\n[code]\nfile = "layers.py"\nforward = "affine_forward"\n'
        'backward = "affine_backward"\n[sizes]\nN = 3\n[inputs]\nx = "N x D"\nw = "D x M"\nb = "M"\n'
    )
    (tmp_path / "linear.toml").write_text(
        '[code]\nfile = "functions.py"\nforward = "LinearFunction"\n[inputs]\ninput = "N x D"\nweight = "M x D"\n'
        'bias = "M"\n'
    )
    report = check(tmp_path / "affine.toml", tmp_path / "linear.toml")
    found = {(str(t), str(c["claim"])): (c["verdict"], c["sizes"], c["line"]) for t, c in claims(report)}
    assert found[("affine, named", "dw")] == ("PROVED", "all", 20)
    assert found[("LinearFunction (torch.autograd.Function)", "grad_bias")][0] == "REFUTED"
    files = {Path(str(f["file"])).name for f in report["files"]}  # type: ignore[index, union-attr]
    assert files == {"layers.py", "functions.py"}  # findings point into the code, at its lines
    bad = tmp_path / "outside.toml"
    bad.write_text('[code]\nfile = "../layers.py"\nforward = "affine_forward"\n')
    done = subprocess.run(
        [sys.executable, "-m", "derive_check", str(bad), "--no-cache"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "'file' must name a .py file in this file's folder or below it" in done.stdout


def test_a_docstring_line_declares_the_shapes(tmp_path: Path) -> None:
    path = tmp_path / "scale.py"
    path.write_text(
        'import numpy as np\n\n\ndef scale_forward(x, w):\n    """Scale columns.\n\n    derive-check: x: N x D, w: D\n'
        '    """\n    out = x * w\n    return out, (x, w)\n\n\ndef scale_backward(dout, cache):\n    x, w = cache\n'
        "    return dout * w, np.sum(dout * x, axis=0)\n"
    )
    found = {str(c["claim"]): (c["verdict"], c["sizes"]) for _, c in claims(check(path))}
    assert found == {"dx": ("PROVED", "all"), "dw": ("PROVED", "all")}
