"""Reading a derivation file once into its resolved model, before any SymPy work.

This is all the command line needs to answer a file from the proof cache (`verify.run.replay`), to count its
claims for the workers' deadlines, and to hand the model to a worker, which never reads the file again. It
imports only the parsers and numpy: a run answered from the cache never imports SymPy.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from derive_check.derive.errors import InputError, Location
from derive_check.derive.model.declarations import read_toml
from derive_check.derive.model.spec import ModelSpec, load_text, read_source
from derive_check.derive.ops.dims import value
from derive_check.verify.results import FileResult

MAX_ENTRIES = 12_000


def load(path: Path) -> ModelSpec | FileResult:
    """The file parsed once into its resolved model (within the work limit), or the file's error result."""
    found = load_all(path)
    return found[0] if isinstance(found, list) else found  # a derivation file: one model


def load_all(path: Path) -> list[ModelSpec | FileResult] | FileResult:
    """Every model of a file: one for a derivation file, one per declared pair for a Python file (code mode); a
    pair that cannot be read is its own error result, beside the other pairs."""
    started = time.perf_counter()
    try:
        if path.suffix == ".py":
            from derive_check.derive.code.lower import load_code

            specs = load_code(path, read_source(path, str(path)))
        else:
            text = read_source(path, str(path))
            data = read_toml(str(path), text)
            if "code" in data:  # a pair of a Python file named by this derivation file
                from derive_check.derive.code.named import load_named

                specs = [(path.stem, load_named(path, text, data))]
            else:
                specs = [(path.stem, load_text(path, text, data))]
    except InputError as exc:
        return failed_result(path, exc.render(), started)
    except RecursionError:
        return failed_result(path, f"{path}:1:1: error: the code is nested too deeply to read", started)
    found: list[ModelSpec | FileResult] = []
    for name, spec in specs:
        try:
            if isinstance(spec, InputError):
                raise spec
            check_work(spec)
            found.append(spec)
        except InputError as exc:
            found.append(failed_result(path, exc.render(), started, name))
    return found


def check_work(spec: ModelSpec) -> None:
    """Refuse, before any SymPy work, a model whose quantities hold more than MAX_ENTRIES entries in all."""
    shapes = dict(spec.shapes)
    total = sum(int(np.prod([value(d, spec.sizes) for d in shape])) for shape in shapes.values())
    if total > MAX_ENTRIES:
        raise InputError(
            f"the model has {total} entries in its inputs, parameters and forward quantities at these "
            f"sizes; the limit is {MAX_ENTRIES} (choose smaller sizes: small sizes already expose "
            f"transposition slips)",
            Location(spec.file),
        )


def failed_result(path: Path, message: str, started: float, title: str = "") -> FileResult:
    """A file's result that is only an error (it could not be read, built or checked)."""
    return FileResult(file=str(path), title=title or path.stem, error=message, seconds=time.perf_counter() - started)
