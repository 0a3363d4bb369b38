"""The command line in a repository: [tool.derive-check], directory scanning, -k, -q, the cache folder, exit codes,
`init`, and the new user's first session from `init` to a cached re-check and pytest under xdist."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from derive_check.cli import main
from tests.conftest import EXAMPLES, ROOT

GOLDEN = Path(__file__).parent / "golden"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args, "--no-timings", "--color", "never"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository: a pyproject.toml, another tool's TOML, a right and a wrong derivation file in derivations/."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n[tool.ruff]\nline-length = 100\n')
    (tmp_path / "derivations").mkdir()
    shutil.copy(EXAMPLES / "two_layer.toml", tmp_path / "derivations" / "right.toml")
    shutil.copy(EXAMPLES / "two_layer_wrong.toml", tmp_path / "derivations" / "wrong.toml")
    (tmp_path / "derivations" / "settings.toml").write_text('[tool]\nname = "not a derivation"\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _claims(out: str) -> dict[str, list[str]]:
    return {Path(f["file"]).name: [c["claim"] for c in f["claims"]] for f in json.loads(out)["files"]}


def test_a_folder_scan_checks_derivation_files_only(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`derive-check .` passes over pyproject.toml and another tool's TOML (it used to exit 2 on them)."""
    code, out, err = run(capsys, ".", "--format", "json")
    assert sorted(_claims(out)) == ["right.toml", "wrong.toml"]
    assert code == 1 and "passed" in err  # the summary goes to stderr when stdout is JSON


def test_settings_come_from_pyproject_and_flags_win(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """paths and exclude from [tool.derive-check]: no PATH needed; a flag given still wins over the file."""
    with (project / "pyproject.toml").open("a") as f:
        f.write('[tool.derive-check]\npaths = ["derivations"]\nexclude = ["wrong*"]\nformat = "json"\n')
    code, out, _ = run(capsys)
    assert list(_claims(out)) == ["right.toml"] and code == 0
    code, out, _ = run(capsys, "--format", "annotations", "derivations/wrong.toml")
    assert code == 1 and out.startswith("derivations/wrong.toml:30:")


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("budjet = 3", "pyproject.toml:2: unknown key 'budjet' in [tool.derive-check]; did you mean 'budget'?"),
        ('budget = "ten"', "pyproject.toml:2: 'budget' must be a number of seconds; got str 'ten'"),
        ('format = "xml"', "'format' must be one of text, json, annotations, sarif; got str 'xml'"),
        ('exclude = "drafts"', "'exclude' must be a list of strings; got str 'drafts'"),
    ],
)
def test_a_bad_setting_is_an_input_error_with_line_and_suggestion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], setting: str, message: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.derive-check]\n{setting}\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, str(EXAMPLES / "two_layer.toml"))
    assert code == 2 and message in err, err


def test_k_selects_claims_with_the_earlier_claims_they_use(capsys: pytest.CaptureFixture[str]) -> None:
    """-k dW1 checks dW1 and dh1 (dW1 is written with dh1), and nothing else; -k 'not d' matches nothing."""
    code, out, _ = run(capsys, str(EXAMPLES / "two_layer.toml"), "-k", "dW1", "--format", "json")
    assert _claims(out) == {"two_layer.toml": ["dh1", "dW1"]} and code == 0
    code, out, _ = run(capsys, str(EXAMPLES / "two_layer.toml"), "-k", "db2 or (dW2 and not dW1)", "--format", "json")
    assert _claims(out) == {"two_layer.toml": ["dW2", "db2"]}
    code, _, err = run(capsys, str(EXAMPLES / "two_layer.toml"), "-k", "not d")
    assert code == 2 and "no claim matches -k 'not d'" in err
    code, _, err = run(capsys, str(EXAMPLES / "two_layer.toml"), "-k", "dW1 and")
    assert code == 2 and "ends too early" in err


def test_quiet_prints_only_what_is_not_proved(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(EXAMPLES / "two_layer_wrong.toml"), "-q")
    lines = out.splitlines()
    assert code == 1 and lines[-1] == "1 passed, 8 failed"
    assert len(lines) == 9 and all(": error: " in ln for ln in lines[:-1])
    assert not any("PROVED" in ln for ln in lines)


def test_the_cache_folder_ignores_itself_and_can_be_cleared(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "cache"
    run(capsys, str(EXAMPLES / "two_layer.toml"), "--cache-dir", str(folder))
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (folder / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert (folder / "proofs.sqlite").stat().st_size > 0
    code, _, err = run(capsys, "--clear-cache", "--cache-dir", str(folder))
    assert code == 0 and not (folder / "proofs.sqlite").exists() and "cleared" in err


def test_a_cache_folder_that_cannot_be_made_means_no_cache_and_one_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cache path under a regular file cannot be made, even by root (a read-only folder can be, by root): the run
    goes on uncached with one warning, and the verdicts are those of a cached run."""
    (tmp_path / "file").write_text("not a folder")
    code, out, err = run(capsys, str(EXAMPLES / "two_layer.toml"), "--cache-dir", str(tmp_path / "file" / "cache"))
    assert code == 0 and err.count("warning: proof cache not used") == 1 and out.endswith("6 passed, 0 failed\n")
    assert "Traceback" not in err


def test_an_existing_read_only_cache_is_used_without_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A cache database that cannot be written (a read-only mount, another user's file) answers what it holds;
    nothing is written and the run does not fail (it once ended in 'this is a bug', exit 2)."""
    folder = tmp_path / "cache"
    run(capsys, str(EXAMPLES / "two_layer.toml"), "--cache-dir", str(folder))
    database = folder / "proofs.sqlite"
    database.chmod(stat.S_IRUSR)
    code, out, err = run(capsys, str(EXAMPLES / "two_layer_wrong.toml"), "--cache-dir", str(folder))
    assert code == 1 and "Traceback" not in err and "1 passed, 8 failed" in out


def test_a_file_without_claims_is_an_input_error_unless_another_extends_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = (EXAMPLES / "two_layer.toml").read_text().split("[claims]")[0]
    (tmp_path / "base.toml").write_text(base)
    code, out, _ = run(capsys, str(tmp_path / "base.toml"))
    assert code == 2 and "base.toml:1:1: error: no claims to check: add a [claims] table" in out
    (tmp_path / "child.toml").write_text('extends = "base.toml"\n[claims]\ndscores = "(P - Y) / N"\n')
    code, out, _ = run(capsys, str(tmp_path))
    assert code == 0 and "1 passed, 0 failed" in out and "no claims" not in out


def test_a_crash_exits_3_not_1(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """1 means REFUTED: a bug in derive-check must never look like a refutation."""
    import derive_check.cli as cli

    def broken(argv: object = None) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "main", broken)
    with pytest.raises(SystemExit) as stop:
        cli.entry()
    assert stop.value.code == 3 and "internal error" in capsys.readouterr().err


def test_an_exhausted_budget_says_which_and_how_to_raise_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(EXAMPLES / "two_layer.toml"), "--budget", "0.001", "--no-cache", "-k", "dW1")
    assert code == 1 and "time budget of 0.001 s ran out" in out and "--budget 0.004" in out


class Transcript:
    """A session's commands with their output and exit codes, as a user sees them (tmp paths and timings
    normalised; for pytest only what does not depend on how xdist interleaves: the failures and the counts)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.lines = folder, []

    def run(self, *args: str, pytest_run: bool = False) -> subprocess.CompletedProcess[str]:
        """Run `derive-check args` (or `pytest args`) in the folder and record it."""
        env = {**os.environ, "COLUMNS": "100", "DERIVE_CHECK_CACHE": str(self.folder / ".cache")}
        tool = ["-m", "pytest"] if pytest_run else ["-m", "derive_check"]
        done = subprocess.run(
            [sys.executable, *tool, *args], cwd=self.folder, capture_output=True, text=True, env=env, check=False
        )
        shown = done.stdout + done.stderr
        if pytest_run:
            kept = [ln for ln in shown.splitlines() if ln.startswith("FAILED") or " passed" in ln or " failed" in ln]
            shown = "\n".join(re.sub(r" in [0-9.]+s", " in #s", ln) for ln in kept) + "\n"
        self.lines.append(f"$ {'pytest' if pytest_run else 'derive-check'} {' '.join(args)}")
        self.lines.append(shown.replace(str(self.folder), "<project>").rstrip("\n"))
        self.lines.append(f"[exit {done.returncode}]")
        return done

    def note(self, text: str) -> None:
        """A step the user takes by hand."""
        self.lines.append(f"# {text}")


def test_a_new_users_first_session(tmp_path: Path) -> None:
    """init, check (green), write a slip, check (refuted, diagnosed), re-check from the cache (same report), then
    pytest with the plugin switched on over two workers, and the pre-commit hook's own command: the transcript is
    a golden file (UPDATE_GOLDEN=1 rewrites it), and the steps' exit codes are asserted too."""
    session = Transcript(tmp_path)
    assert session.run("init").returncode == 0 and (tmp_path / "two_layer.derive.toml").exists()
    assert session.run("init").returncode == 2  # never written over
    first = session.run("two_layer.derive.toml", "--no-timings")
    assert first.returncode == 0 and first.stdout.endswith("6 passed, 0 failed\n")
    path = tmp_path / "two_layer.derive.toml"
    right, slipped = 'dW2 = "h1.T @ dscores + 2 * reg * W2"', 'dW2 = "h1.T @ dscores + reg * W2"'
    path.write_text(path.read_text().replace(right, slipped))
    session.note(f"edit two_layer.derive.toml: {slipped}")
    slip = session.run("two_layer.derive.toml", "--no-timings")
    assert slip.returncode == 1 and "diagnosis: reg factor 1 instead of 2 on the reg·W2 term" in slip.stdout
    session.note("again: answered from the cache")
    again = session.run("two_layer.derive.toml", "--no-timings")
    assert again.stdout == slip.stdout and again.returncode == 1
    tested = session.run("-p", "xdist", "-n", "2", "--derive-check", "-q", "-p", "no:cacheprovider", pytest_run=True)
    assert tested.returncode == 1 and "two_layer.derive.toml::dW2" in tested.stdout
    hook = (ROOT / ".pre-commit-hooks.yaml").read_text()
    entry = next(ln.split(":", 1)[1].split() for ln in hook.splitlines() if ln.strip().startswith("entry:"))
    assert entry[0] == "derive-check"
    session.note("the pre-commit hook's command, on the staged file")
    committed = session.run(*entry[1:], "two_layer.derive.toml")
    assert committed.returncode == 1 and committed.stdout.startswith("two_layer.derive.toml:")
    transcript = "\n".join(session.lines) + "\n"
    golden = GOLDEN / "new_user.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(transcript)
    assert transcript == golden.read_text()


def _readme_block(starts: str) -> str:
    """The README code block whose first line starts with `starts`."""
    text = (ROOT / "README.md").read_text()
    for block in text.split("```")[1::2]:
        body = block.split("\n", 1)[1]
        if body.lstrip().startswith(starts):
            return body
    raise AssertionError(f"README has no block starting with {starts!r}")


def test_the_readme_settings_and_workflow_snippets_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """README's [tool.derive-check] block, in a project with examples/ and a draft to exclude, and the derive-check
    steps of its GitHub Actions snippet: each runs, checks what it says, and writes SARIF that parses."""
    (tmp_path / "pyproject.toml").write_text(_readme_block("[tool.derive-check]"))
    (tmp_path / "examples" / "drafts").mkdir(parents=True)
    shutil.copy(EXAMPLES / "two_layer.toml", tmp_path / "examples" / "right.toml")
    shutil.copy(EXAMPLES / "two_layer_wrong.toml", tmp_path / "examples" / "drafts" / "wrong.toml")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys)
    assert code == 0 and out.endswith("6 passed, 0 failed\n")  # paths from the file, drafts/ excluded
    steps = [
        ln.split("run:", 1)[1].split("#")[0].strip() for ln in _readme_block("- run:").splitlines() if "run:" in ln
    ]
    commands = [step.split() for step in steps if step.startswith("derive-check")]
    assert [c[:3] for c in commands] == [
        ["derive-check", "--format", "annotations"],
        ["derive-check", "--format", "sarif"],
    ]
    code, out, _ = run(capsys, *commands[1][1:3])
    assert code == 0 and json.loads(out)["version"] == "2.1.0"


DEEP = "x = " + "[" * 500 + "]" * 500 + "\n"  # 1 kB of TOML nested past Python's recursion limit


@pytest.mark.parametrize(
    ("files", "args", "words"),
    [
        ({}, ["--budget", "inf"], "--budget must be a number of seconds above 0 and at most 86400"),
        ({}, ["--budget", "1e15"], "--budget must be"),
        ({}, ["-k", "not " * 3000 + "x"], "-k takes at most"),
        ({}, ["-k", " or ".join(["x"] * 20000)], "-k takes at most"),
        ({}, ["-k", ""], "-k needs an expression"),
        ({"deep.toml": DEEP}, ["deep.toml"], "nested too deeply"),
        ({"pyproject.toml": DEEP}, [], "pyproject.toml: cannot read it as TOML (nested too deeply)"),
        ({"pyproject.toml": '[tool.derive-check]\npaths = ["/etc"]\n'}, [], "'paths' must name a folder inside"),
        ({"pyproject.toml": '[tool.derive-check]\ncache-dir = "../x"\n'}, [], "'cache-dir' must name a folder inside"),
        ({}, ["--junit", "."], "cannot write ."),
    ],
)
def test_hostile_input_is_a_clear_error_with_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    args: list[str],
    words: str,
) -> None:
    """Each once ended in a traceback (exit 3): an overflowing deadline, a recursion limit, a write to a folder."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    shutil.copy(EXAMPLES / "two_layer.toml", tmp_path / "two_layer.toml")
    monkeypatch.chdir(tmp_path)
    paths = [] if "pyproject.toml" in files or any(a.endswith(".toml") for a in args) else ["two_layer.toml"]
    code, out, err = run(capsys, *paths, *args)
    assert code == 2 and words in out + err, out + err
    assert "Traceback" not in err and "root:x:0" not in out + err


def test_a_fifo_named_on_the_command_line_is_refused_without_reading_it(tmp_path: Path) -> None:
    """The run used to block reading a FIFO (and read /dev/zero without limit) before the loader's own checks."""
    os.mkfifo(tmp_path / "pipe.toml")
    done = subprocess.run(
        [sys.executable, "-m", "derive_check", "pipe.toml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_markup_in_a_claim_name_is_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """rich read a claim named "[/x]" as closing markup and crashed the report."""
    text = (EXAMPLES / "two_layer.toml").read_text().replace('db2 = "', '"[/x]" = { wrt = "b2", formula = "', 1)
    text = text.replace(
        '"[/x]" = { wrt = "b2", formula = "sum(P - Y, axis=0) / N"',
        '"[/x]" = { wrt = "b2", formula = "sum(P - Y, axis=0) / N" }',
    )
    (tmp_path / "odd.toml").write_text(text)
    code, out, err = run(capsys, str(tmp_path / "odd.toml"))
    assert "Traceback" not in err and "[/x]" in out and code in (1, 2)


def test_settings_never_mark_a_project_folder_as_a_cache(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--cache-dir . once wrote a .gitignore of `*` into the project: git then saw nothing at all."""
    shutil.copy(EXAMPLES / "two_layer.toml", tmp_path / "two_layer.toml")
    run(capsys, str(tmp_path / "two_layer.toml"), "--cache-dir", str(tmp_path))
    assert not (tmp_path / ".gitignore").exists() and not (tmp_path / "CACHEDIR.TAG").exists()
    assert (tmp_path / "proofs.sqlite").exists()


def test_exclude_globs_match_from_the_project_as_well_as_the_folder_searched(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "derivations" / "drafts").mkdir()
    shutil.move(project / "derivations" / "wrong.toml", project / "derivations" / "drafts" / "wrong.toml")
    for exclude in ("derivations/drafts", "drafts/*"):
        code, out, _ = run(capsys, "derivations", "--exclude", exclude, "--format", "json")
        assert list(_claims(out)) == ["right.toml"] and code == 0, exclude


def test_index_variables_whose_combinations_outgrow_the_limit_are_an_input_error() -> None:
    """12 unused variables over K = 4 made 16 million assignments: a claim ran 52 s under --budget 5, then the
    file was killed. The combinations are counted when the file is read."""
    from derive_check.derive.errors import InputError
    from derive_check.derive.model.spec import parse_spec

    head = (EXAMPLES / "two_layer.toml").read_text().split("[claims]")[0]
    loops = ", ".join(f'v{k} = "C"' for k in range(12))
    spec = parse_spec(
        "t.toml", head + f'[claims]\nx = {{ wrt = "b2[v0]", formula = "0 * b2[v0]", for = {{ {loops} }} }}\n'
    )
    [claim] = spec.claims
    assert isinstance(claim.error, InputError) and "244140625 combinations" in claim.error.message
