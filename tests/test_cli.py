"""The command line: exit codes, golden output, and bad input ending in a clear error (exit 2)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from derive_check.cli import main
from tests.conftest import EXAMPLES, ROOT, two_layer

GOLDEN = Path(__file__).parent / "golden"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args, "--no-timings", "--color", "never"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("columns", [120, 80])
@pytest.mark.parametrize(
    ("example", "code"), [("two_layer.toml", 0), ("two_layer_wrong.toml", 1), ("seeds", 1), ("zoo", 1)]
)
def test_example_output_matches_its_golden_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, example: str, code: int, columns: int
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))  # piped output follows COLUMNS (120 when it is not set)
    got_code, out, _ = run(capsys, str(EXAMPLES.relative_to(ROOT) / example))
    golden = GOLDEN / f"{example.removesuffix('.toml')}{'' if columns == 120 else f'.{columns}'}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(out)
    assert got_code == code
    assert out == golden.read_text()


@pytest.mark.parametrize("example", ["two_layer_wrong.toml", "seeds", "zoo"])
def test_the_latex_report_matches_its_golden_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, example: str
) -> None:
    """The whole LaTeX report (theorems for every size, matrix residuals, diagnoses), dated by SOURCE_DATE_EPOCH."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795305600")  # 2026-11-22
    report = tmp_path / "report.tex"
    run(capsys, str(EXAMPLES.relative_to(ROOT) / example), "--latex", str(report))
    golden = GOLDEN / f"{example.removesuffix('.toml')}.tex"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(report.read_text())
    assert report.read_text() == golden.read_text()


def test_at_80_columns_only_arrays_and_caret_lines_are_longer(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # headers, notes, tables and panels wrap; a numpy array to paste and a line with its caret must stay whole
    monkeypatch.setenv("COLUMNS", "80")
    _, out, _ = run(capsys, str(EXAMPLES / "seeds"), str(EXAMPLES / "two_layer_wrong.toml"))
    lines = out.splitlines()
    long = [ln for ln in lines if len(ln) > 80]
    assert all(re.match(r"^  \w+ = np\.array\(|^\S+\.toml:\d+: error|^    \S", ln) for ln in long), long[:3]
    assert sum(len(ln) > 80 for ln in lines) < len(lines) // 10


def test_no_color_and_force_color_are_followed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    main([str(EXAMPLES / "two_layer_wrong.toml"), "--no-timings"])
    assert "\x1b[1;31m" in capsys.readouterr().out  # REFUTED in bold red
    monkeypatch.setenv("NO_COLOR", "1")
    main([str(EXAMPLES / "two_layer_wrong.toml"), "--no-timings"])
    assert "\x1b[1;31m" not in capsys.readouterr().out


def test_a_stream_that_only_takes_ascii_gets_an_ascii_report() -> None:
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "COLUMNS": "100"}
    for extra in ([], ["--format", "json"]):
        done = subprocess.run(
            [sys.executable, "-m", "derive_check", str(EXAMPLES / "two_layer_wrong.toml"), "--no-cache", *extra],
            capture_output=True,
            env=env,
            check=False,
        )
        assert done.returncode == 1, done.stderr.decode(errors="replace")[-500:]
        text = done.stdout.decode("ascii")  # raises if a byte is not ASCII
        assert ("+- dscores: REFUTED" in text) if not extra else ('"claim": "dscores"' in text)


def test_the_last_line_is_the_plain_summary(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, str(EXAMPLES / "two_layer_wrong.toml"))
    assert out.splitlines()[-1] == "1 passed, 8 failed"


def test_a_directory_is_searched_for_derivation_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(two_layer({"dscores": "(P - Y) / N"}))
    (tmp_path / "b.toml").write_text(two_layer({"db2": "sum(P - Y, axis=0) / N"}))
    code, out, _ = run(capsys, str(tmp_path))
    assert code == 0 and out.splitlines()[-1] == "2 passed, 0 failed"


def write(tmp_path: Path, content: str | bytes) -> str:
    path = tmp_path / "input.toml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return str(path)


BAD_FILES = {
    "malformed TOML": ("[sizes]\nN = = 2\n", r"input.toml:2:5: error: malformed TOML"),
    "binary junk": (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", r"not UTF-8 text"),
    "unknown forward name": (two_layer({}).replace("relu(X @ W1", "relu(Q @ W1"), r"unknown name 'Q'"),
    "undeclared size": (two_layer({}).replace('"D x H"', '"D x K"'), r"'K' in shape 'D x K' is not a declared size"),
    "huge size": (two_layer({}).replace("N = 2", "N = 100000"), r"size must be an integer from 1 to 64"),
    "non-scalar loss": (two_layer({}).replace('L = "-sum(Y * log(P))', 'L = "-(Y * log(P))'), r"must be a scalar"),
    "forward shape error": (two_layer({}).replace("h1 @ W2", "h1 @ W1"), r"'@' contracts H with D"),
    "claim of nothing": (two_layer({"dfoo": "P"}), r"'foo' is not declared"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_input_is_a_clear_error_with_exit_code_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str
) -> None:
    content, pattern = BAD_FILES[case]
    code, out, err = run(capsys, write(tmp_path, content))
    assert code == 2
    assert re.search(pattern, out), out
    assert "Traceback" not in out + err


def test_a_bad_formula_points_at_its_line_with_a_caret(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = two_layer({"dscores": "(P - Y) / N", "dW2": "h1.T @ (P - Y) / N + 2 * regg * W2"})
    code, out, _ = run(capsys, write(tmp_path, text))
    assert code == 2
    line = text.splitlines().index('dW2 = "h1.T @ (P - Y) / N + 2 * regg * W2"') + 1
    assert f"input.toml:{line}:33: error [claims.dW2]: unknown name 'regg'" in out  # 'regg' is at column 33
    lines = out.splitlines()
    source = next(ln for ln in lines if ln.startswith('    dW2 = "h1.T'))  # the quoted source line
    caret = lines[lines.index(source) + 1]
    assert caret.strip() == "^^^^" and caret.index("^") == source.index("regg")
    assert "dscores" in out and "PROVED" in out  # the good claim was still checked


def test_missing_path_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, str(tmp_path / "nope.toml"))
    assert code == 2 and "no such file" in err


def test_injected_code_in_a_claim_is_an_error_and_runs_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    text = two_layer({"dscores": f"__import__('os').system('touch {marker}')"})
    code, out, _ = run(capsys, write(tmp_path, text))
    assert code == 2 and "ERROR" in out and not marker.exists()


def test_help_is_instant_because_sympy_is_not_imported() -> None:
    probe = (
        "import sys\nfrom derive_check.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit as e:\n"
        "    print('exit', e.code, 'sympy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip().endswith("exit 0 False")


def test_the_module_entry_point_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "derive_check", str(EXAMPLES / "two_layer.toml"), "--no-timings"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "6 passed, 0 failed"


def test_every_bundled_claim_knows_its_line() -> None:
    from derive_check.derive.model.spec import load_file

    for path in sorted(EXAMPLES.rglob("*.toml")):
        spec = load_file(path)
        lines = path.read_text().splitlines() if "extends" not in path.read_text() else None
        for claim in spec.claims:
            assert claim.where.line, (path.name, claim.name)
            if lines is not None:
                line = lines[claim.where.line - 1]
                assert claim.text in line or (claim.twin is not None and ("formula" in line or "latex" in line)), (
                    path.name,
                    claim.name,
                )


def test_a_file_is_read_once_per_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The command line parses each file once; the model goes on to the cache lookup and to the forked worker,
    which never reads the file again (each read appends a line to a log shared across processes)."""
    import derive_check.verify.run.load as loading

    log = tmp_path / "reads.log"
    original = loading.read_source

    def counted(path: Path, name: str) -> str:
        with log.open("a") as out:
            out.write(f"{path}\n")
        return original(path, name)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loading, "read_source", counted)
        code = main([str(EXAMPLES / "two_layer.toml"), str(EXAMPLES / "two_layer_wrong.toml"), "--jobs", "2"])
    capsys.readouterr()
    assert code == 1
    assert sorted(log.read_text().splitlines()) == sorted(
        [str(EXAMPLES / "two_layer.toml"), str(EXAMPLES / "two_layer_wrong.toml")]
    )


def test_results_keep_the_order_of_the_files_when_the_cache_answers_everything(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A file that cannot be read and files answered from the cache are reported in the order they were named."""
    import json

    bad = tmp_path / "bad.toml"
    bad.write_text("[sizes\n")
    files = [str(EXAMPLES / "two_layer.toml"), str(bad), str(EXAMPLES / "two_layer_wrong.toml")]
    for _ in range(2):  # the second run is answered from the cache alone
        main([*files, "--format", "json"])
        reported = [Path(f["file"]).name for f in json.loads(capsys.readouterr().out)["files"]]
        assert reported == ["two_layer.toml", "bad.toml", "two_layer_wrong.toml"]


def test_counterexamples_can_be_checked_by_hand(capsys: pytest.CaptureFixture[str]) -> None:
    """Every refutation of the usual slips shows two values between 0.001 and 1000 that differ in the first digit,
    and the float64 oracle agrees with the exact value (no saturated softmax: seed 000's dscores was 4.7e-10)."""
    main([str(EXAMPLES / "two_layer_wrong.toml"), str(EXAMPLES / "seeds"), "--no-cache", "--format", "json"])
    claims = [c for f in json.loads(capsys.readouterr().out)["files"] for c in f["claims"] if c["counterexample"]]
    assert len(claims) >= 8
    for claim in claims:
        cx = claim["counterexample"]
        true, claimed = float(cx["true_value"]), float(cx["claimed_value"])
        assert all(v == 0 or 1e-3 <= abs(v) <= 1e3 for v in (true, claimed)), (claim["claim"], true, claimed)
        assert abs(true - claimed) >= 0.1 * max(abs(true), abs(claimed)), (claim["claim"], true, claimed)
        if cx["oracle_value"] is not None:
            assert abs(cx["oracle_value"] - true) <= 1e-5 * max(1.0, abs(true)), claim["claim"]


@pytest.mark.parametrize(("columns", "width"), [("0", 40), ("99999999", 400)])
def test_an_extreme_terminal_width_is_clamped(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, columns: str, width: int
) -> None:
    # COLUMNS=0 printed only the summary; COLUMNS=10**8 ran out of memory padding panels
    monkeypatch.setenv("COLUMNS", columns)
    _, out, _ = run(capsys, str(EXAMPLES / "two_layer_wrong.toml"))
    panels = [ln for ln in out.splitlines() if ln.startswith("╭─ dW2: REFUTED")]
    assert len(panels) == 1 and len(panels[0]) == width
