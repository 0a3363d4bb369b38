"""In-place updates of entries as formulas for the whole array: `dx[mask] = 0`, `dx[np.arange(N), y] -= 1`,
`dw[k] += v`, `dx[:, i:j] += v`.

Each form is an exact identity at every value, so the proof is about the code as numpy runs it:
- a label pick: `a[np.arange(N), y] op= v` changes row n's entry y[n]; with E = np.eye(C)[y] (row n is the one-hot
  vector of y[n]), `=` is a·(1 − E) + E·v, `+=` is a + E·v and `-=` is a − E·v (v a number, or one per row: v[:, None]);
- a mask: `a[c] = v` is np.where(c, v, a) and `a[c] op= v` is np.where(c, a op v, a), for a comparison c and a number v;
- positions known at the stated sizes (a loop's index is a number there, and the pair is read with every
  dimension a number): the change d of the selected entries (v − a[index] for `=`, v for `+=`, −v for `-=`,
  shaped as the selection by adding a[index]·0) is put in place between blocks of zeros,
  a + np.concatenate([np.zeros(before), d, np.zeros(after)], axis), along the rows or the columns: every other
  entry gains 0;
- `np.add.at(a, y, v)` for a label vector y is a + onehot(y).T @ v: repeated labels add up, as numpy's add.at does.
Checks come first: a mask must have the array's shape and v must be one number (numpy needs v shaped like the
selection); `np.arange(N)` must count the array's rows and y hold one label per row. `a[y] op= v` with a label
vector y is read as numpy runs it: a repeated label's row is written once, the last write winning
(`_label_rows`).
Any other index is an input error: an update the reader cannot state exactly is never approximated.
"""

from __future__ import annotations

import ast

from derive_check.derive.code.values import Reading


def _parse(text: str) -> ast.expr:
    return ast.parse(text, mode="eval").body


def _sub(template: str, **parts: ast.expr) -> ast.expr:
    """The template with each {name} replaced by a formula (parenthesised), as a tree."""
    return _parse(template.format(**{k: f"({ast.unparse(v)})" for k, v in parts.items()}))


def evaluate(sizes: dict[str, int], node: ast.expr) -> int | None:
    """An integer formula of numbers and sizes at the stated sizes, or None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Name) and node.id in sizes:
        return sizes[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = evaluate(sizes, node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.FloorDiv):
        left, right = evaluate(sizes, node.left), evaluate(sizes, node.right)
        if left is None or right is None or (isinstance(node.op, ast.FloorDiv) and right == 0):
            return None
        ops = {ast.Add: left + right, ast.Sub: left - right, ast.Mult: left * right}
        return ops.get(type(node.op), left // right if right else 0)
    return None


def updated(
    reader: Reading, old: ast.expr, index: ast.expr, op: ast.operator | None, value: ast.expr, node: ast.AST
) -> ast.expr:
    """The whole array after `old[index] op= value` (op None: `=`)."""
    if op is not None and type(op) not in _SYMBOL:
        raise reader.error("this operator does not update entries", node)
    if _is_compare(index):
        _check_mask(reader, old, index, value, node)
    if op is not None and not isinstance(op, ast.Add | ast.Sub):
        if _is_compare(index):
            return _sub("np.where({c}, {a} " + _SYMBOL[type(op)] + " {v}, {a})", c=index, a=old, v=value)
        raise reader.error("only =, += and -= update selected entries (or any op under a mask)", node)
    if isinstance(index, ast.Tuple) and len(index.elts) == 2 and _is_arange(index.elts[0]):
        _check_rows(reader, old, index.elts[0], index.elts[1], value, node)
        return _labels(reader, old, index.elts[1], op, value, node)
    if reader.classes(index) is not None:
        return _label_rows(reader, old, index, op, value, node)
    if _is_compare(index):
        if op is None and _zero(value):
            return _sub("{a} * (1 - {c})", a=old, c=index)
        if op is None and _zeros(old):
            return _sub("{c} * {v}", c=index, v=value)
        if op is None:
            return _sub("np.where({c}, {v}, {a})", c=index, v=value, a=old)
        return _sub("np.where({c}, {a} " + _SYMBOL[type(op)] + " {v}, {a})", c=index, a=old, v=value)
    return _positions(reader, old, index, op, value, node)


def _check_mask(reader: Reading, old: ast.expr, mask: ast.expr, value: ast.expr, node: ast.AST) -> None:
    """numpy's `a[m] = v` with a boolean m: m must have a's shape (a shorter m selects rows), v one number."""
    if reader.shape_of(mask) != reader.shape_of(old) or reader.shape_of(old) is None:
        raise reader.error("a mask must have the shape of the array it selects from (a 1-D mask selects rows)", node)
    if reader.shape_of(value) != ():
        raise reader.error("a[mask] = v is read for one number v (numpy needs v shaped like the selection)", node)


def _check_rows(
    reader: Reading, old: ast.expr, rows: ast.expr, labels: ast.expr, value: ast.expr, node: ast.AST
) -> None:
    """`a[np.arange(R), y]`: R must be a's row count and y's length, v one number or one per row."""
    shape, picked = reader.shape_of(old), reader.shape_of(labels)
    call = rows if isinstance(rows, ast.Call) else None
    counted = ast.unparse(call.args[0]) if call is not None and len(call.args) == 1 and not call.keywords else ""
    if shape is None or len(shape) != 2 or counted != str(shape[0]) or picked != shape[:1]:
        raise reader.error("a[np.arange(N), y] is read with N the array's row count and y one label per row", node)
    if reader.shape_of(value) not in ((), shape[:1]):
        raise reader.error("a[np.arange(N), y] = v is read for v one number or one number per row", node)


def added_at(reader: Reading, old: ast.expr, index: ast.expr, value: ast.expr, node: ast.AST) -> ast.expr:
    """`np.add.at(a, y, v)` for a label vector y: every row v[n] added to row y[n] of a, repeats included, which
    is onehot(y).T @ v (`np.eye(C)[y].T @ v`)."""
    classes = reader.classes(index)
    if classes is None:
        raise reader.error("np.add.at(a, y, v) is read for a label vector y (y: N, labels C)", node)
    return _sub("{a} + np.eye(" + str(classes) + ")[" + ast.unparse(index) + "].T @ {v}", a=old, v=value)


def _label_rows(
    reader: Reading, old: ast.expr, labels: ast.expr, op: ast.operator | None, value: ast.expr, node: ast.AST
) -> ast.expr:
    """numpy's `a[y] op= v` for a label vector y: row y[n] of a gets v[n], the last n winning for a repeated label
    (numpy assigns in order; `+=` reads a[y] first, so a repeat is added once, not twice). With E_n = np.eye(C)[y][n]
    the one-hot row of y[n], the rows last written are L_n = E_n (1 - E_m) for every later m, and the result is
    a (1 - hit) + Σ L_n v[n] for `=` (hit: the classes y holds), a ± Σ L_n v[n] for `+=`/`-=`. The sum runs over
    the stated rows: the pair is then read at the stated sizes only."""
    classes, rows, shape = reader.classes(labels), reader.shape_of(labels), reader.shape_of(old)
    size = str(rows[0]) if rows else ""
    count = evaluate(reader.sizes, _parse(size)) if size else None
    if classes is None or count is None or shape is None or not 1 <= len(shape) <= 2 or str(shape[0]) != str(classes):
        raise reader.error("a[y] updates are read for a label vector y and an array with one row per class", node)
    reader.unrolled.add(size)
    y = ast.unparse(labels)
    one = [f"np.eye({classes})[{y}][{n}]" for n in range(count)]
    per_row = reader.shape_of(value) not in ((), shape[1:])
    wide = len(shape) == 2
    terms = []
    for n in range(count):
        last = " * ".join([one[n], *(f"(1 - {one[m]})" for m in range(n + 1, count))])
        part = f"({ast.unparse(value)})[{n}]" if per_row else f"({ast.unparse(value)})"
        row = f"({ast.unparse(old)}[0] * 0 + {part})[None, :]" if wide else part
        terms.append(f"({last})" + ("[:, None]" if wide else "") + f" * {row}")
    total = " + ".join(terms)
    if op is None:
        missed = " * ".join(f"(1 - {e})" for e in one)
        return _parse(f"({ast.unparse(old)}) * ({missed})" + ("[:, None]" if wide else "") + f" + {total}")
    return _parse(f"({ast.unparse(old)}) {_SYMBOL[type(op)]} ({total})")


def _labels(
    reader: Reading, old: ast.expr, labels: ast.expr, op: ast.operator | None, value: ast.expr, node: ast.AST
) -> ast.expr:
    classes = reader.classes(labels)
    if classes is None:
        raise reader.error("a[np.arange(N), y] updates need y declared as labels (y: N, labels C)", node)
    picks = _parse(f"np.eye({classes})[{ast.unparse(labels)}]")
    shape = reader.shape_of(value)
    column = value if shape == () else _sub("{v}[:, None]", v=value)
    if op is None and _zero(value):
        return _sub("{a} * (1 - {e})", a=old, e=picks)
    if op is None:
        return _sub("{a} * (1 - {e}) + {e} * {v}", a=old, e=picks, v=column)
    return _sub("{a} " + _SYMBOL[type(op)] + " {e} * {v}", a=old, e=picks, v=column)


def _positions(
    reader: Reading, old: ast.expr, index: ast.expr, op: ast.operator | None, value: ast.expr, node: ast.AST
) -> ast.expr:
    shape = reader.shape_of(old)
    parts = list(index.elts) if isinstance(index, ast.Tuple) else [index]
    if (
        shape is None
        or not 1 <= len(shape) <= 2
        or len(parts) > len(shape)
        or not all(isinstance(d, int) for d in shape)
    ):
        raise reader.error(
            "this subscript assignment is not read (labels, a mask, or positions of a 1-D/2-D array)", node
        )
    dims = [int(d) for d in shape]
    picks = [_pick(reader, p, dims[k], node) for k, p in enumerate(parts)]
    picks += [(0, dims[k], False) for k in range(len(picks), len(dims))]
    written = ", ".join(
        f"{lo}" if one else ":" if (lo, hi) == (0, d) else f"{lo}:{hi}"
        for (lo, hi, one), d in zip(picks, dims, strict=True)
    )
    selected = _sub("{a}[" + written + "]", a=old)
    change = "{s} * 0 + {v}" if isinstance(op, ast.Add) else "{s} * 0 - {v}" if isinstance(op, ast.Sub) else "{v} - {s}"
    delta = ast.unparse(_sub(change, v=value, s=selected))
    if len(dims) == 1:
        ((lo, hi, one),) = picks
        block = f"({delta}) * np.ones(1)" if one else f"({delta})"
        return _sub("{a} + " + _placed([block], lo, hi, dims[0], None), a=old)
    (r0, r1, row_one), (c0, c1, col_one) = picks
    if row_one and col_one:
        row = _placed([f"({delta}) * np.ones((1, 1))"], c0, c1, dims[1], (1, "axis=1"))
        return _sub("{a} + " + _placed([row], r0, r1, dims[0], (dims[1], "axis=0")), a=old)
    if row_one:
        return _sub("{a} + " + _placed([f"({delta})[None, :]"], r0, r1, dims[0], (dims[1], "axis=0")), a=old)
    if (r0, r1) == (0, dims[0]):
        block = f"({delta})[:, None]" if col_one else f"({delta})"
        return _sub("{a} + " + _placed([block], c0, c1, dims[1], (dims[0], "axis=1")), a=old)
    if (c0, c1) == (0, dims[1]):
        return _sub("{a} + " + _placed([f"({delta})"], r0, r1, dims[0], (dims[1], "axis=0")), a=old)
    raise reader.error("a block of rows and columns at once is not read: update rows or columns", node)


def _placed(blocks: list[str], lo: int, hi: int, total: int, other: tuple[int, str] | None) -> str:
    """The block put at positions lo:hi of an axis of length `total` by zeros before and after (none of width 0)."""

    def zeros(width: int) -> str:
        if other is None:
            return f"np.zeros({width})"
        size, axis = other
        return f"np.zeros(({size}, {width}))" if axis == "axis=1" else f"np.zeros(({width}, {size}))"

    parts = ([zeros(lo)] if lo else []) + blocks + ([zeros(total - hi)] if total - hi else [])
    if len(parts) == 1:
        return f"({parts[0]})"
    axis = f", {other[1]}" if other else ""
    return f"np.concatenate([{', '.join(parts)}]{axis})"


def _pick(reader: Reading, part: ast.expr, size: int, node: ast.AST) -> tuple[int, int, bool]:
    """One axis of a positional index as (start, stop, a single position?), checked to lie within the axis."""
    if isinstance(part, ast.Slice):
        if part.step is not None:
            raise reader.error("a slice with a step is not read in an assignment", node)
        low = 0 if part.lower is None else evaluate(reader.sizes, part.lower)
        high = size if part.upper is None else evaluate(reader.sizes, part.upper)
        if low is None or high is None or not 0 <= low < high <= size:
            raise reader.error("slice bounds must be numbers within the array at the stated sizes", node)
        return (low, high, False)
    at = evaluate(reader.sizes, part)
    if at is None or not 0 <= at < size:
        raise reader.error("an index must be a number (or a loop index) within the array", node)
    return (at, at + 1, True)


def _zero(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value == 0 and not isinstance(node.value, bool)


def _zeros(node: ast.expr) -> bool:
    """np.zeros_like(x) or np.zeros(shape): every entry 0."""
    func = node.func if isinstance(node, ast.Call) else None
    return isinstance(func, ast.Attribute) and func.attr in ("zeros_like", "zeros")


def _is_arange(node: ast.expr) -> bool:
    func = node.func if isinstance(node, ast.Call) else None
    return isinstance(func, ast.Attribute) and func.attr == "arange"


def _is_compare(node: ast.expr) -> bool:
    return isinstance(node, ast.Compare) and len(node.ops) == 1


_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
