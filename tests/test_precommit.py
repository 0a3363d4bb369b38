"""The pre-commit hook as a user meets it: real pre-commit in a scratch git repository, with this repository as the
hook repository (a snapshot of the working tree, committed, since pre-commit clones a rev and would not see
uncommitted edits). pre-commit builds its own virtualenv and pip-installs derive-check into it from the package index,
then passes a right derivation file and fails a slip with an annotation on the claim's line, both run by hand and as
the git commit hook. The configuration is README's pre-commit snippet, with only `repo:` and `rev:` filled in."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git, which is not installed"),
]

# The hook's own settings, from .pre-commit-hooks.yaml (one hook: `key: value` lines)
HOOK = dict(
    ln.strip().removeprefix("- ").split(": ", 1)
    for ln in (ROOT / ".pre-commit-hooks.yaml").read_text().splitlines()
    if ": " in ln and not ln.lstrip().startswith("#")
)
RIGHT = 'dW2 = "h1.T @ (P - Y) / N + 2 * reg * W2"'
SLIP = 'dW2 = "h1.T @ (P - Y) + 2 * reg * W2"'  # the 1/N dropped


def _env(pre_commit_home: Path) -> dict[str, str]:
    """The environment for git and pre-commit: none of the caller's GIT_* (a test run inside a git hook must not
    reach the outer repository), no global or system git config, a fixed identity, and a private PRE_COMMIT_HOME.
    Everything else (the PIP_* settings, a pip cache, DERIVE_CHECK_CACHE) passes through to pre-commit's pip and
    to the hook."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    return env | {
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "derive-check tests",
        "GIT_AUTHOR_EMAIL": "tests@example.invalid",
        "GIT_COMMITTER_NAME": "derive-check tests",
        "GIT_COMMITTER_EMAIL": "tests@example.invalid",
        "PRE_COMMIT_HOME": str(pre_commit_home),
        "PRE_COMMIT_COLOR": "never",
    }


def _run(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`git ...` or `pre-commit ...` (this interpreter's, installed by the `test` extra), output merged."""
    command = [sys.executable, "-m", "pre_commit", *args[1:]] if args[0] == "pre-commit" else list(args)
    return subprocess.run(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1800
    )


def _git(cwd: Path, env: dict[str, str], *args: str) -> str:
    done = _run(cwd, env, "git", *args)
    assert done.returncode == 0, done.stdout
    return done.stdout


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    """This repository's working tree as a one-commit git repository: its path, the commit, and the PRE_COMMIT_HOME
    the module's tests share (pre-commit builds the hook's virtualenv once per repo and rev)."""
    assert importlib.util.find_spec("pre_commit"), "pre-commit is not installed: pip install -e '.[test]'"
    home = tmp_path_factory.mktemp("pre-commit-home")
    env = _env(home)
    snapshot = tmp_path_factory.mktemp("derive-check-snapshot")
    # What git would commit from the working tree: tracked files and untracked ones not ignored (no .venv, build/,
    # *.egg-info, caches); outside a git checkout (an unpacked sdist), everything but those.
    listed = _run(ROOT, env, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if listed.returncode == 0:
        for name in filter(None, listed.stdout.split("\0")):
            source = ROOT / name
            if source.is_file():  # not a file deleted from the working tree, nor a submodule
                (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, snapshot / name)
    else:
        skipped = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*cache*", ".hypothesis")
        shutil.copytree(ROOT, snapshot, ignore=shutil.ignore_patterns(*skipped), dirs_exist_ok=True)
    assert (snapshot / ".pre-commit-hooks.yaml").is_file()
    _git(snapshot, env, "init", "-q")
    _git(snapshot, env, "add", "-A")
    _git(snapshot, env, "commit", "-q", "--no-verify", "-m", "derive-check, as the working tree has it")
    return snapshot, _git(snapshot, env, "rev-parse", "HEAD").strip(), home


def _readme_config(repo: Path, rev: str) -> str:
    """README's pre-commit snippet, from its section on repositories, with `repo:` and `rev:` filled in."""
    section = (ROOT / "README.md").read_text().split("## In a repository: settings, CI and pre-commit\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    block = next(b.split("\n", 1)[1] for b in section.split("```")[1::2] if b.startswith("yaml") and "repos:" in b)
    block, repos = re.subn(r"(?m)^(\s*- repo:).*$", lambda m: f"{m[1]} {repo}", block)
    block, revs = re.subn(r"(?m)^(\s*rev:).*$", lambda m: f"{m[1]} {rev}", block)
    assert repos == revs == 1 and f"- id: {HOOK['id']}" in block, block
    return block


def _user_repo(folder: Path, env: dict[str, str], config: str, files: dict[str, Path]) -> Path:
    """A git repository with the given files (name -> source) and .pre-commit-config.yaml, all staged."""
    _git(folder, env, "init", "-q")
    (folder / ".pre-commit-config.yaml").write_text(config)
    for name, source in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, folder / name)
    _git(folder, env, "add", "-A")
    return folder


def _errors(output: str) -> list[str]:
    """The hook's annotation lines (`file:line:col: error: ...`) in pre-commit's output."""
    return re.findall(r"(?m)^\S+:\d+:\d+: error: .*$", output)


def _said(output: str, verdict: str) -> bool:
    """pre-commit's `<hook name>.....Passed` (or Failed) line for the hook."""
    return re.search(rf"(?m)^{re.escape(HOOK['name'])}\.+{verdict}$", output) is not None


def test_the_hook_passes_a_right_file_and_refuses_a_slip_under_real_pre_commit(
    hook_repo: tuple[Path, str, Path], tmp_path: Path
) -> None:
    """The hook's default files (`*.derive.toml`): README's snippet without its `files:` override. By hand
    (`pre-commit run`) and by `git commit` through the installed hook: the right file passes and is committed;
    the slip fails, is reported as `two_layer.derive.toml:<its line>:<col>: error: dW2 REFUTED`, and is not."""
    repo, rev, home = hook_repo
    env = _env(home)
    assert HOOK["language"] == "python" and HOOK["entry"].startswith("derive-check ")
    name = "two_layer.derive.toml"
    assert re.search(HOOK["files"], name) and (EXAMPLES / "two_layer.toml").read_text().count(RIGHT) == 1
    config, dropped = re.subn(r"(?m)^\s*files:.*\n", "", _readme_config(repo, rev))
    assert dropped == 1
    user = _user_repo(tmp_path, env, config, {name: EXAMPLES / "two_layer.toml"})

    assert _run(user, env, "pre-commit", "install").returncode == 0
    done = _run(user, env, "pre-commit", "run", "--all-files")  # the first run builds the hook's virtualenv
    assert done.returncode == 0 and _said(done.stdout, "Passed") and not _errors(done.stdout), done.stdout
    done = _run(user, env, "git", "commit", "-m", "a right derivation")
    assert done.returncode == 0 and _said(done.stdout, "Passed"), done.stdout

    path = user / name
    path.write_text(path.read_text().replace(RIGHT, SLIP))
    line = path.read_text().splitlines().index(SLIP) + 1
    _git(user, env, "add", name)
    for command in (["pre-commit", "run"], ["git", "commit", "-m", "a slip"]):  # on the staged file
        done = _run(user, env, *command)
        assert done.returncode == 1 and _said(done.stdout, "Failed"), done.stdout
        assert "- exit code: 1" in done.stdout, done.stdout
        [error] = _errors(done.stdout)
        assert re.fullmatch(rf"{re.escape(name)}:{line}:\d+: error: dW2 REFUTED: .+", error), done.stdout
    assert _git(user, env, "rev-list", "--count", "HEAD").strip() == "1"  # the slip was not committed


def test_the_readme_snippet_with_its_files_override_checks_examples(
    hook_repo: tuple[Path, str, Path], tmp_path: Path
) -> None:
    """README's snippet as written (`files: ^examples/.*\\.toml$`): a right examples/two_layer.toml passes; adding
    the shipped wrong one fails with annotations on that file's lines only."""
    repo, rev, home = hook_repo
    env = _env(home)
    right = {"examples/two_layer.toml": EXAMPLES / "two_layer.toml"}
    user = _user_repo(tmp_path, env, _readme_config(repo, rev), right)
    done = _run(user, env, "pre-commit", "run", "--all-files")
    assert done.returncode == 0 and _said(done.stdout, "Passed") and not _errors(done.stdout), done.stdout

    shutil.copy(EXAMPLES / "two_layer_wrong.toml", user / "examples" / "two_layer_wrong.toml")
    _git(user, env, "add", "-A")
    done = _run(user, env, "pre-commit", "run", "--all-files")
    assert done.returncode == 1 and _said(done.stdout, "Failed"), done.stdout
    errors = _errors(done.stdout)
    assert errors and {e.split(":", 1)[0] for e in errors} == {"examples/two_layer_wrong.toml"}, done.stdout
    assert any(re.match(r"examples/two_layer_wrong\.toml:\d+:\d+: error: dW2 REFUTED", e) for e in errors)
