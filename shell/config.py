"""`[tool.derive-check]` in pyproject.toml: defaults for the flags, under the flags' own names.

The nearest pyproject.toml at or above the working directory is read, as ruff and mypy find theirs. A key is a
flag's long name without its dashes (`budget = 30`, `no-cache = true`, `exclude = ["drafts/*"]`, `paths =
["derivations"]`); a flag given on the command line wins over the file. An unknown key, or a value of the wrong
type, is an input error that names the file, the line, what was expected and what was found, and the closest
known key: a misspelt setting never silently does nothing.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

SECTION = "tool.derive-check"


@dataclass(frozen=True)
class Setting:
    """One key of the section: the flag it stands for, and the type its value must have."""

    dest: str  # argparse's name for the flag
    kind: str  # "number", "integer", "boolean", "string", "strings" or "choice:a|b|c"


SETTINGS: dict[str, Setting] = {
    "paths": Setting("paths", "strings"),
    "exclude": Setting("exclude", "strings"),
    "budget": Setting("budget", "number"),
    "jobs": Setting("jobs", "integer"),
    "randomized": Setting("randomized", "boolean"),
    "stated-only": Setting("stated_only", "boolean"),
    "format": Setting("format", "choice:text|json|annotations|sarif"),
    "no-timings": Setting("no_timings", "boolean"),
    "verbose": Setting("verbose", "boolean"),
    "quiet": Setting("quiet", "boolean"),
    "no-cache": Setting("no_cache", "boolean"),
    "cache-dir": Setting("cache_dir", "string"),
    "color": Setting("color", "choice:auto|always|never"),
}


class ConfigError(ValueError):
    """A setting that cannot be used; the message names file, line, expected and actual."""


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start`."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def read_config(start: Path) -> tuple[Path | None, dict[str, Any]]:
    """The settings of the nearest pyproject.toml's [tool.derive-check], as argparse defaults (dest -> value)."""
    path = find_pyproject(start)
    if path is None:
        return None, {}
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it as TOML ({exc})") from None
    except (RecursionError, MemoryError):
        raise ConfigError(f"{path}: cannot read it as TOML (nested too deeply)") from None
    tool = data.get("tool")
    section = tool.get("derive-check") if isinstance(tool, dict) else None
    if section is None:
        return path, {}
    if not isinstance(section, dict):
        raise ConfigError(f"{path}:{_line(text, None)}: [{SECTION}] must be a table")
    defaults: dict[str, Any] = {}
    for key, value in section.items():
        setting = SETTINGS.get(key)
        where = f"{path}:{_line(text, key)}"
        if setting is None:
            close = difflib.get_close_matches(key, SETTINGS, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f" (known keys: {', '.join(SETTINGS)})"
            raise ConfigError(f"{where}: unknown key '{key}' in [{SECTION}]{hint}")
        defaults[setting.dest] = _checked(key, value, setting.kind, where)
        for folder in (value if isinstance(value, list) else [value]) if key in ("paths", "cache-dir") else ():
            _inside(path.parent, folder, key, where)
    return path, defaults


def _inside(root: Path, folder: str, key: str, where: str) -> None:
    """A path a setting names must lie inside the project (the pyproject's folder): a repository's settings never
    make a run read or write elsewhere (a flag on the command line may)."""
    try:
        target = (root / folder).resolve()
    except (OSError, RuntimeError, ValueError):
        target = None
    if target is None or Path(folder).is_absolute() or not target.is_relative_to(root.resolve()):
        raise ConfigError(f"{where}: '{key}' must name a folder inside the project ({root}), got {folder!r}")


def _checked(key: str, value: Any, kind: str, where: str) -> Any:
    """The value if it has the setting's type, else a ConfigError saying expected and actual."""
    actual = f"got {type(value).__name__} {value!r}"
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "strings" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    if kind.startswith("choice:"):
        choices = kind.removeprefix("choice:").split("|")
        if value in choices:
            return value
        raise ConfigError(f"{where}: '{key}' must be one of {', '.join(choices)}; {actual}")
    expected = {"strings": "a list of strings", "number": "a number of seconds"}.get(kind, f"a {kind}")
    raise ConfigError(f"{where}: '{key}' must be {expected}; {actual}")


def _line(text: str, key: str | None) -> int:
    """The line of `key` inside the [tool.derive-check] table (or of the table itself), 1-based."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.strip().replace(" ", "") == f"[{SECTION}]"), None)
    if start is None or key is None:
        return (start or 0) + 1
    for i in range(start + 1, len(lines)):
        stripped = lines[i].strip()
        if stripped.startswith("["):
            break
        if stripped.split("=", 1)[0].strip().strip('"') == key:
            return i + 1
    return start + 1


class Version(argparse.Action):
    """`--version`: the installed version from `lookup`, called only when asked for (`importlib.metadata` takes
    ~15 ms, which every run paid when the version was formatted into the parser)."""

    def __init__(self, option_strings: list[str], dest: str, lookup: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, **kwargs)
        self.lookup = lookup

    def __call__(self, parser: argparse.ArgumentParser, *_: object, **__: object) -> NoReturn:
        print(f"{parser.prog} {self.lookup()}", file=sys.stdout)
        parser.exit()
