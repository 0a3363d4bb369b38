"""The symbolic shapes of the code's arrays while it is read, from the declarations and the formula language.

The reader needs a shape in three places: `x.shape[k]`, an update of selected entries (which identity matrix
scatters it) and the upstream gradient's declaration (shaped like the forward's output). Each is inferred by the
same parser and shape rules the model is later validated with (`derive.model.shapes.infer`), so the reader and
the model never disagree about a shape; a shape that cannot be inferred is None, and the caller refuses.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

from derive_check.derive.code.values import Emitted
from derive_check.derive.errors import InputError, Location
from derive_check.derive.lang.formula import parse_formula
from derive_check.derive.model.declarations import Decl, parse_decl
from derive_check.derive.model.labels import resolve_labels
from derive_check.derive.model.names import Namespace
from derive_check.derive.model.shapes import infer
from derive_check.derive.ops.spec import Shape, SymbolicShapeError


class Shapes:
    """Shapes of the declared inputs and of every model line emitted so far."""

    def __init__(self, file: str, sizes: dict[str, int], declared: dict[str, tuple[str, Location]]) -> None:
        self.file, self.sizes = file, sizes
        self.decls: dict[str, Decl] = {n: parse_decl(n, v, sizes, where) for n, (v, where) in declared.items()}
        self.known: dict[str, Shape] = {n: d.dims for n, d in self.decls.items()}
        self.names = Namespace()
        for name, decl in self.decls.items():
            self.names.kinds[name] = "input"
            if decl.classes != "":
                self.names.labels[name] = decl.classes
        self.emitted: Sequence[Emitted] = ()
        self._seen = 0

    def declare(self, name: str, shape: Shape) -> None:
        """Record the shape of a name added to the model (an upstream gradient)."""
        self.known[name] = shape
        self.names.kinds[name] = "input"

    def classes(self, expr: ast.expr) -> str | int | None:
        """The number of classes of a label vector, or None if `expr` is not one."""
        if isinstance(expr, ast.Name) and expr.id in self.names.labels:
            return self.names.labels[expr.id]
        return None

    def of(self, expr: ast.expr) -> Shape | None:
        """The symbolic shape of a formula over model names, or None where it cannot be inferred."""
        if isinstance(expr, ast.Name) and expr.id in self.names.labels:
            return self.known[expr.id][:-1]  # the code's label vector holds class indices: one per row
        self._catch_up()
        try:
            return self._infer(expr)
        except (InputError, SymbolicShapeError, KeyError, ValueError, TypeError):
            return None

    def _catch_up(self) -> None:
        while self._seen < len(self.emitted):
            line = self.emitted[self._seen]
            self._seen += 1
            try:
                self.known[line.name] = self._infer(line.expr)
                self.names.kinds[line.name] = "forward"
            except (InputError, SymbolicShapeError, KeyError, ValueError, TypeError):
                continue  # the model's own validation reports it, at the statement

    def _infer(self, expr: ast.expr) -> Shape:
        text = ast.unparse(expr)
        where = Location(self.file, None, None, text, 0, len(text))
        tree = resolve_labels(parse_formula(text, where), self.names, where, text)
        return infer(tree, {**self.known, **dict.fromkeys(self.sizes, ())})
