"""Indexing in formulas: entries, numpy's slicing, `x.shape[k]`, label vectors' one-hot rows, and the arrays built
from sizes or parts (`np.concatenate`, `np.hstack`, `np.ones`, `np.zeros`, `np.eye`).

A mixin of the formula walker (`derive.lang.formula`), which supplies `walk`, `fail`, `span`, `name` and
`callee`. Nothing here evaluates anything: slice bounds are walked as formulas (sizes, integers, + - *), and
`np.eye(C)[y]` and `x[np.arange(N), y]` become trees over `onehot(y)`, which the model checks names a label
vector (`derive.model.labels`).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from derive_check.derive.errors import InputError
from derive_check.derive.tree import Apply, Node


class Indexing:
    """Subscripts of the formula language."""

    if TYPE_CHECKING:  # supplied by the walker

        def walk(self, node: ast.AST, depth: int) -> Node: ...
        def fail(self, message: str, node: ast.AST) -> InputError: ...
        def span(self, node: ast.AST) -> tuple[int, int]: ...
        def name(self, node: ast.Name, depth: int) -> Node: ...
        def callee(self, func: ast.expr) -> tuple[str, Any]: ...
        def options(self, node: ast.Call, allowed: tuple[str, ...], name: str) -> list[tuple[str, Any]]: ...

    def built(self, node: ast.Call, name: str, depth: int) -> Node:
        """np.concatenate([a, b], axis=k), np.hstack([a, b]); np.ones((N, D)), np.zeros(D), np.eye(C)."""
        if name in ("concatenate", "hstack"):
            if len(node.args) != 1 or not isinstance(node.args[0], ast.List | ast.Tuple) or not node.args[0].elts:
                raise self.fail(f"write np.{name}([a, b, ...]{', axis=1' if name == 'concatenate' else ''})", node)
            options = self.options(node, ("axis",) if name == "concatenate" else (), name)
            axis = dict(options).get("axis", 0 if name == "concatenate" else -1)
            parts = tuple(self.walk(a, depth) for a in node.args[0].elts)
            return Apply("concatenate", parts, (("axis", axis),), span=self.span(node))
        given = node.args[0] if len(node.args) == 1 and not node.keywords else None
        lengths = given.elts if isinstance(given, ast.Tuple) else [given] if given is not None else []
        if name == "eye":
            if len(lengths) != 1 or isinstance(given, ast.Tuple):
                raise self.fail("write np.eye(C) with one length (np.eye(C)[y] for the one-hot rows of labels)", node)
            return Apply("eye", (self.walk(lengths[0], depth),), span=self.span(node))
        if not lengths or len(lengths) > 4:
            raise self.fail(f"write np.{name}((N, D)) or np.{name}(D): a shape of sizes, with no dtype", node)
        value = 1 if name == "ones" else 0
        dims = tuple(self.walk(d, depth) for d in lengths)
        return Apply("filled", dims, (("value", value),), span=self.span(node))

    def subscript(self, node: ast.Subscript, depth: int) -> Node:
        """x[i, j] (an entry), numpy's slicing x[:, H:2*H], x[:, None], x.shape[k], np.eye(C)[y], x[np.arange(N), y]."""
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        base = node.value
        if isinstance(base, ast.Attribute) and base.attr == "shape":
            return self.shape_of(base, parts, depth)
        if isinstance(base, ast.Call) and self.callee(base.func)[0] == "eye":
            return self.eye_rows(base, parts, depth)
        if len(parts) == 2 and isinstance(parts[0], ast.Call) and self.callee(parts[0].func)[0] == "arange":
            rows = self.size_argument(parts[0], "np.arange(N)")
            if not isinstance(parts[1], ast.Name):
                raise self.fail("x[np.arange(N), y] picks each row's entry at the labels y: y must be a name", parts[1])
            labels = Apply("onehot", (self.name(parts[1], depth),), (("rows", rows),), span=self.span(parts[1]))
            product = Apply("mul", (self.walk(base, depth), labels), span=self.span(node))
            return Apply("sum", (product,), (("axis", 1),), span=self.span(node))
        if all(_is_index(p) for p in parts):
            indices = [self.walk(p, depth) for p in parts]
            return Apply("entry", (self.walk(base, depth), *indices), span=self.span(node))
        return self.slicing(node, parts, depth)

    def slicing(self, node: ast.Subscript, parts: list[ast.expr], depth: int) -> Node:
        """numpy's basic slicing: per axis ':', 'a:b' with sizes as bounds, one position, or None."""
        spec: list[str] = []
        bounds: list[Node] = []
        for part in parts:
            if isinstance(part, ast.Constant) and part.value is None:
                spec.append("new")
            elif isinstance(part, ast.Slice):
                if part.step is not None:
                    raise self.fail("slices with a step (x[::2]) are not supported", part)
                given = [b for b in (part.lower, part.upper) if b is not None]
                spec.append(
                    {(False, False): "all", (True, False): "lo", (False, True): "hi"}.get(
                        (part.lower is not None, part.upper is not None), "lohi"
                    )
                )
                bounds.extend(self.walk(b, depth) for b in given)
            elif isinstance(part, ast.Constant | ast.Name | ast.BinOp | ast.UnaryOp):
                spec.append("at")
                bounds.append(self.walk(part, depth))
            else:
                raise self.fail("an index is a position, a slice a:b, ':' or None", part)
        args = (self.walk(node.value, depth), *bounds)
        return Apply("slice", args, (("spec", ",".join(spec)),), span=self.span(node))

    def shape_of(self, base: ast.Attribute, parts: list[ast.expr], depth: int) -> Node:
        """x.shape[k]: the size of axis k, a constant."""
        if len(parts) != 1 or not (isinstance(parts[0], ast.Constant) and type(parts[0].value) is int):
            negative = len(parts) == 1 and isinstance(parts[0], ast.UnaryOp) and isinstance(parts[0].op, ast.USub)
            hint = " (negative axes are not read: the last axis of a matrix is x.shape[1])" if negative else ""
            raise self.fail(f"write x.shape[k] with an integer k{hint}", parts[0] if len(parts) == 1 else base)
        return Apply("dim", (self.walk(base.value, depth),), (("axis", parts[0].value),), span=self.span(base))

    def eye_rows(self, base: ast.Call, parts: list[ast.expr], depth: int) -> Node:
        """np.eye(C)[y]: the one-hot rows of the label vector y."""
        classes = self.size_argument(base, "np.eye(C)")
        if len(parts) != 1 or not isinstance(parts[0], ast.Name):
            raise self.fail("np.eye(C)[y] takes the rows of a label vector y", base)
        return Apply("onehot", (self.name(parts[0], depth),), (("classes", classes),), span=self.span(base))

    def size_argument(self, call: ast.Call, spelling: str) -> str:
        """The one size name of np.eye(C) or np.arange(N)."""
        if len(call.args) != 1 or call.keywords or not isinstance(call.args[0], ast.Name):
            raise self.fail(f"write {spelling} with a size name", call)
        return call.args[0].id


SPELLED = {  # numpy functions the language spells another way
    "vstack": "np.concatenate([a, b], axis=0) (of matrices)",
    "stack": "np.concatenate([a[None, :], b[None, :]], axis=0)",
    "full": "c * np.ones((N, D))",
    "tile": "broadcasting: x[None, :] * np.ones((N, 1))",
    "repeat": "broadcasting: x[None, :] * np.ones((N, 1))",
}


def _is_index(part: ast.expr) -> bool:
    """An entry's index: an index variable or a non-negative integer literal."""
    if isinstance(part, ast.Name):
        return True
    return isinstance(part, ast.Constant) and type(part.value) is int and 0 <= part.value < 10**6
