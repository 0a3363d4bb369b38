"""Finding the forward/backward pairs of a Python file, by convention, without importing it.

- numpy pairs: module-level `X_forward(inputs...) -> (out..., cache)` and `X_backward(dout..., cache) -> grads`
  (the cs231n layout);
- torch: a class deriving from `Function` (`torch.autograd.Function`) with `forward(ctx, ...)` and
  `backward(ctx, grad_output...)`;
- loss functions: a module-level `X_loss(inputs...) -> (loss, dx, ...)` that returns the loss and its gradients.
A pair is checked when a `derive-check:` line declares its shapes (`derive.code.declare`): above its first
function or class (the comment block right before it), or inside it. Every other module-level function is a
helper the pairs may call; it is read (inlined) only where called. Imports other than numpy and torch are refused:
the code is never run, but a file that needs other modules may mean something the reader cannot see.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field

from derive_check.derive.code.declare import comments, docstring_lines
from derive_check.derive.code.source import error_at
from derive_check.derive.code.values import RESERVED
from derive_check.derive.errors import InputError, Location

ALLOWED_MODULES = {"numpy": "np", "torch": "torch", "torch.nn.functional": "F"}
SHADOWED = {*dir(builtins), "np", "torch", "F"}  # names a module-level def or constant may not take
HOOKS = ("__init_subclass__", "__set_name__", "__class_getitem__", "__prepare__")  # run by a later class statement
QUIET_MODULES = ("__future__", "typing", "torch.autograd", "collections.abc", "dataclasses")


@dataclass(frozen=True)
class Pair:
    """A forward with its backward (or a loss function, whose backward is its own tail)."""

    name: str  # "affine", "LinearFunction", "softmax_loss"
    kind: str  # "numpy pair", "torch Function" or "loss function"
    forward: ast.FunctionDef
    backward: ast.FunctionDef | None
    declarations: list[tuple[int, int, str]] = field(default_factory=list)
    line: int = 1


@dataclass(frozen=True)
class CodeFile:
    """A parsed Python file: its pairs, helpers, import aliases and module-level number constants."""

    pairs: list[Pair]
    helpers: dict[str, ast.FunctionDef]
    modules: dict[str, str]
    constants: dict[str, ast.Constant]


def read_module(file: str, text: str) -> CodeFile:
    """The pairs and helpers of a module's source text (parsed with ast, never run)."""
    text = text.removeprefix("\ufeff")  # a UTF-8 byte order mark, which Python skips too
    try:
        tree = ast.parse(text, filename=file)
    except SyntaxError as exc:
        line = exc.lineno or 1
        source = text.splitlines()[line - 1] if 0 < line <= len(text.splitlines()) else ""
        start = max((exc.offset or 1) - 1, 0)
        raise InputError(f"not valid Python: {exc.msg}", Location(file, line, None, source, start, start + 1)) from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise InputError(f"cannot parse this file: {type(exc).__name__}", Location(file)) from None
    lines = text.splitlines()
    modules = _imports(file, lines, tree)
    _module_level(file, lines, tree)
    marks = comments(file, text)
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    constants = {
        n.targets[0].id: n.value
        for n in tree.body
        if isinstance(n, ast.Assign)
        and len(n.targets) == 1
        and isinstance(n.targets[0], ast.Name)
        and isinstance(n.value, ast.Constant)
        and isinstance(n.value.value, int | float)
        and not isinstance(n.value.value, bool)
    }  # fmt: skip  (the only bindings of these names: `_module_level` refuses a second one)
    pairs = []
    for k, node in enumerate(tree.body):
        found = _pair(node, functions)
        if found is None:
            continue
        previous_end = tree.body[k - 1].end_lineno or 0 if k else 0
        back = found.backward
        own = [m for m in marks if previous_end < m[0] <= (node.end_lineno or 0)]
        own += [m for m in marks if back is not None and back.lineno <= m[0] <= (back.end_lineno or 0) and m not in own]
        places = list({id(fn): fn for fn in (node, found.forward, found.backward) if fn is not None}.values())
        docs = [d for fn in places for d in _docs(file, fn)]
        if own or docs:
            pairs.append(Pair(found.name, found.kind, found.forward, found.backward, own + docs, _first_line(node)))
    return CodeFile(pairs, functions, modules, constants)


def _module_level(file: str, lines: list[str], tree: ast.Module) -> None:
    """Refuse module-level code that could change what the functions mean when the file is imported: anything but
    imports, plain functions and classes, number or string constants each bound once, docstrings and an
    `if __name__ == "__main__":` block (which does not run on import); decorators other than staticmethod; a name
    bound twice; a function or constant named like a builtin or a module (`len`, `range`, `np`)."""
    seen: dict[str, int] = {}

    def bound(name: str, node: ast.AST) -> None:
        if name in seen:
            raise error_at(file, lines, node, f"'{name}' is bound twice at module level (first at line {seen[name]})")
        if name in SHADOWED or name in ALLOWED_MODULES.values():
            raise error_at(file, lines, node, f"a module-level '{name}' shadows the builtin or module of that name")
        seen[name] = getattr(node, "lineno", 0)

    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:  # an imported name is bound too: a class named Function would replace it
                name = (alias.asname or alias.name).split(".")[0]
                if alias.asname is None and "." in alias.name and seen.get(name) is not None:
                    continue  # `import torch.nn.functional` binds torch again, to the same module
                if name in seen:
                    raise error_at(file, lines, node, f"'{name}' is bound twice at module level")
                seen[name] = node.lineno
            continue
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound(node.name, node)
            _inert(file, lines, node)
            for inner in node.body if isinstance(node, ast.ClassDef) else []:
                if isinstance(inner, ast.FunctionDef) and inner.name not in HOOKS:
                    _inert(file, lines, inner)
                elif not _docstring(inner) and not isinstance(inner, ast.Pass):
                    raise error_at(file, lines, inner, "this class body statement is not read (it runs on import)")
            continue
        if _docstring(node) or _main_block(node):
            continue
        constant = isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
        if constant and isinstance(node, ast.Assign) and _literal(node.value):
            bound(node.targets[0].id, node)  # type: ignore[attr-defined]
            continue
        raise error_at(
            file,
            lines,
            node,
            "this module-level statement is not read (it could change what the functions mean on import)",
        )


def _inert(file: str, lines: list[str], node: ast.FunctionDef | ast.ClassDef) -> None:
    """Refuse what a `def` or `class` statement runs when the module is imported: decorators (but staticmethod),
    default values and annotations that are not plain names or literals, class bases that are not names, class
    keywords (a metaclass)."""
    for decorator in node.decorator_list:
        if not (isinstance(decorator, ast.Name) and decorator.id == "staticmethod"):
            raise error_at(file, lines, decorator, "a decorator is not read (it could replace the function)")
    if isinstance(node, ast.ClassDef):
        spots: list[ast.expr] = [*node.bases, *(k.value for k in node.keywords)]
        if node.keywords or any(not _plain(b) for b in node.bases):
            raise error_at(file, lines, spots[0] if spots else node, "class bases are read only as names (Function)")
        return
    args = node.args
    runs = [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
    runs += [a.annotation for a in [*args.posonlyargs, *args.args, *args.kwonlyargs] if a.annotation is not None]
    runs += [node.returns] if node.returns is not None else []
    for spot in runs:
        if not (_plain(spot) or _literal(spot)):
            raise error_at(file, lines, spot, "a default value or annotation that runs code on import is not read")


def _plain(node: ast.expr) -> bool:
    """A name or a dotted name (`Function`, `torch.autograd.Function`, `np.ndarray`)."""
    return isinstance(node, ast.Name) or (isinstance(node, ast.Attribute) and _plain(node.value))


def _docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _main_block(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and ast.unparse(node.test) in ('__name__ == "__main__"', "__name__ == '__main__'")


def _literal(node: ast.expr) -> bool:
    """A number, a string, or a tuple or list of them (`__all__`)."""
    if isinstance(node, ast.Constant):
        return not isinstance(node.value, bytes)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _literal(node.operand)
    return isinstance(node, ast.Tuple | ast.List) and all(_literal(e) for e in node.elts)


def _docs(file: str, node: ast.AST) -> list[tuple[int, int, str]]:
    return docstring_lines(file, node) if isinstance(node, ast.FunctionDef | ast.ClassDef) else []


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return int(min([node.lineno, *(d.lineno for d in decorators)]))


def _pair(node: ast.stmt, functions: dict[str, ast.FunctionDef]) -> Pair | None:
    if isinstance(node, ast.FunctionDef) and node.name.endswith("_forward"):
        stem = node.name.removesuffix("_forward")
        backward = functions.get(f"{stem}_backward")
        return Pair(stem, "numpy pair", node, backward) if backward is not None else None
    if isinstance(node, ast.FunctionDef) and node.name.endswith("_loss"):
        return Pair(node.name, "loss function", node, None)
    if isinstance(node, ast.ClassDef) and any(_is_function_base(b) for b in node.bases):
        methods = {n.name: n for n in node.body if isinstance(n, ast.FunctionDef)}
        if "forward" in methods and "backward" in methods:
            return Pair(node.name, "torch Function", methods["forward"], methods["backward"])
    return None


def _is_function_base(base: ast.expr) -> bool:
    return (isinstance(base, ast.Name) and base.id == "Function") or (
        isinstance(base, ast.Attribute) and base.attr == "Function"
    )


def _imports(file: str, lines: list[str], tree: ast.Module) -> dict[str, str]:
    """Import aliases of numpy and torch; any other import is an input error."""
    modules: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                _allowed(file, lines, node, alias.name)
                if alias.name in ALLOWED_MODULES:
                    modules[alias.asname or alias.name.split(".")[0]] = ALLOWED_MODULES[alias.name]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            _allowed(file, lines, node, module)
            for alias in node.names:
                full = f"{module}.{alias.name}"
                if full in ALLOWED_MODULES:
                    modules[alias.asname or alias.name] = ALLOWED_MODULES[full]
                elif (
                    module not in QUIET_MODULES
                    or (module == "torch.autograd" and alias.name != "Function")
                    or (alias.asname or alias.name) in RESERVED
                ):
                    raise error_at(
                        file, lines, node,
                        f"'from {module} import {alias.name}' is not read: import the module (import numpy as np) "
                        f"and write its name in full, so that every call is one the reader knows",
                    )  # fmt: skip
    return modules


def _allowed(file: str, lines: list[str], node: ast.stmt, module: str) -> None:
    root = module.split(".")[0]
    if module in ALLOWED_MODULES or module in QUIET_MODULES or root in ("numpy", "torch"):
        return
    line = node.lineno
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    raise InputError(
        f"import of '{module}': code mode reads numpy and torch only (the file is never run, and another module "
        f"could change what these names mean)",
        Location(file, line, None, text, node.col_offset, node.end_col_offset or node.col_offset + 1),
    )
