"""Batch models (rows are samples: `X @ W + b`) and column-vector single-sample models (`W @ x + b`): their heads,
losses and the extras added to a loss.
"""

from __future__ import annotations

import random

from tests.modelgen.backprop import Model
from tests.modelgen.ir import ONE, TWO, Dim, Ex, add, call, const, div, mul, neg, power, reduce, size, sub, var
from tests.modelgen.layers import FULL, Layers, Names, Profile, dense_layers, pick_sizes, shrink


def batch_model(rng: random.Random, profile: Profile = FULL) -> Model:
    """A batch model (rows are samples) with a random depth, activations and loss."""
    names = Names(rng)
    depth = min(rng.choice([1, 1, 1, 2, 2, 2, 2, 3, 3, 4]), profile.max_depth)
    batch = names.pick("N", "m", "B")
    head = rng.choice(["ce", "ce", "ce_mean", "mse", "mse_mean", "mse_half", "bce", "softplus", "exp"])
    hidden = [names.pick("H", "G", "M", "F", "E") for _ in range(rng.choice([1, 1, 2]))]
    d_in, d_out = names.pick("D", "R"), names.pick("C", "K")
    size_names = [batch, d_in, d_out, *hidden]
    sizes = pick_sizes(rng, size_names, allow_one=True)
    if head.startswith("ce") and sizes[d_out] == 1:
        sizes[d_out] = 7
    dims: list[Dim] = [d_in, *(rng.choice(hidden) for _ in range(depth - 1)), d_out]
    model = Model("batch", sizes, {}, {}, {}, [], "", batch)
    model.dims = dims
    x = names.pick("X", "X0", "inputs", "A0")
    model.inputs[x] = ((batch, d_in), False)
    if rng.random() < 0.2:
        model.functions[names.pick("f", "g", "phi")] = "elementwise"
    layers = dense_layers(model, names, rng, depth, column=False, normalise=profile.layernorm)
    _batch_head(model, names, rng, head, layers)
    shrink(model, profile.max_entries)
    return model


def _loss_extras(model: Model, names: Names, rng: random.Random, layers: Layers, loss: Ex) -> Ex:
    """L2 terms, written-out copies of a line, an identity line's argument used again."""
    params = [n for n, s in model.params.items() if len(s) == 2]
    if params and rng.random() < 0.45:
        chosen = rng.sample(params, rng.randint(1, len(params)))
        reg_sum = reduce("sum", power(var(chosen[0], model.params[chosen[0]]), 2))
        for p in chosen[1:]:
            reg_sum = add(reg_sum, reduce("sum", power(var(p, model.params[p]), 2)))
        if rng.random() < 0.6:
            reg = names.pick("reg", "lam", "wd")
            model.inputs[reg] = ((), False)
            loss = add(loss, Ex("mul", (var(reg, ()), reg_sum)))
        else:
            loss = add(loss, Ex("mul", (const(rng.choice(["0.5", "0.01", "2"])), reg_sum)))
        model.features.add("l2")
    lines = dict(model.lines)
    if layers.copyable and rng.random() < 0.35:
        h = rng.choice(layers.copyable)
        c = const(rng.choice(["0.5", "0.25", "2"]))
        loss = add(loss, Ex("mul", (c, reduce("sum", power(lines[h], 2)))))
        model.features.add("written_copy")
    smooth = [h for h in layers.copyable if lines[h].op not in ("relu", "leaky")]  # a ReLU's zeros tie in a max
    if smooth and rng.random() < 0.25:  # the largest entry of each row (or column), a.e. differentiable
        h = var(smooth[-1], lines[smooth[-1]].shape)
        peak = reduce("max", h, 1, keep=True) if rng.random() < 0.5 else reduce("max", h, 0)
        loss = add(loss, Ex("mul", (const(rng.choice(["0.5", "0.1"])), reduce("sum", peak))))
        model.features.add("max")
    for _, z in layers.reusable:
        if rng.random() < 0.8:
            c = const(rng.choice(["0.5", "0.1", "3"]))
            loss = add(loss, Ex("mul", (c, reduce("mean" if rng.random() < 0.5 else "sum", power(z, 2)))))
            model.features.add("identity_reused")
    return loss


def _batch_head(model: Model, names: Names, rng: random.Random, head: str, layers: Layers) -> None:
    batch = model.batch
    assert batch is not None
    out = layers.out
    n = size(batch)
    loss_name = rng.choice(["L", "L", "loss", "J", "cost"])
    after: list[tuple[str, Ex]] = []
    scores_name = names.pick("scores", "logits", "S", "o", "Zout", "out")
    if head.startswith("ce") or rng.random() < 0.7:
        model.lines.append((scores_name, out))
        out = var(scores_name, out.shape)
    if head.startswith("ce"):
        y = names.pick("Y", "onehot", "Yl")
        if rng.random() < 0.35:  # integer labels: the one-hot rows are np.eye(C)[y]
            label, classes = names.pick("y", "labels", "targets"), out.shape[1]
            y = f"np.eye({classes})[{label}]"
            model.labels[y] = (label, classes)
            model.features.add("labels")
        model.inputs[y] = (out.shape, True)
        p = names.pick("P", "probs", "probsA", "yhat", "Yhat", "Q")
        model.lines.append((p, call("softmax", out, axis=1)))
        pv, yv = var(p, out.shape), var(y, out.shape)
        terms = mul(yv, call("log", pv))
        mean_of_rows = neg(reduce("mean", reduce("sum", terms, 1)))
        loss = div(neg(reduce("sum", terms)), n) if head == "ce" else mean_of_rows
        after.append((names.pick("delta", "err", "G1"), div(sub(pv, yv), n)))
        after.append((names.pick("acc", "hits"), div(reduce("sum", mul(yv, pv)), n)))
        model.features.add("softmax_ce")
    else:
        t = names.pick("T", "target", "Ytrue")
        model.inputs[t] = (out.shape, False)
        tv = var(t, out.shape)
        if head.startswith("mse"):
            final = rng.choice(["none", "none", "tanh", "sigmoid", "identity"])
            if final != "none":
                yhat = names.pick("yhat", "Yhat", "pred", "outA")
                model.lines.append((yhat, call(final, out)))
                out = var(yhat, out.shape)
            sq = power(sub(out, tv), 2)
            if head == "mse":
                loss = div(reduce("sum", sq), n)
            elif head == "mse_half":
                loss = div(reduce("sum", sq), Ex("mul", (TWO, n)))
            else:
                loss = reduce("mean", sq)
            after.append((names.pick("resid", "err"), sub(out, tv)))
            model.features.add("mse")
        elif head == "bce":
            s = names.pick("s", "sig", "probs", "Pb")
            s_expr = call("sigmoid", out)
            model.lines.append((s, s_expr))
            sv = var(s, out.shape)
            second = s_expr if rng.random() < 0.5 else sv
            if second is s_expr:
                model.features.add("written_copy")
            inner = add(mul(tv, call("log", sv)), mul(sub(ONE, tv), call("log", sub(ONE, second))))
            loss = div(neg(reduce("sum", inner)), n)
            if out.op == "var":
                model.closed[out.name] = div(sub(sv, tv), n)
            model.features.add("bce")
        elif head == "softplus":
            loss = div(reduce("sum", sub(call("log", add(ONE, call("exp", out))), mul(tv, out))), n)
            model.features.add("exp_log")
        else:
            loss = div(reduce("sum", sub(call("exp", out), mul(tv, out))), n)
            model.features.add("exp_log")
    loss = _loss_extras(model, names, rng, layers, loss)
    model.lines.append((loss_name, loss))
    model.loss = loss_name
    masks = [m for m in model.layer_masks if m.args[0].op == "var"]
    if masks and rng.random() < 0.5:
        after.append((names.pick("mask1", "m1", "on1"), rng.choice(masks)))
    if loss_name in ("L", "loss") and rng.random() < 0.5:
        model.lines.extend(rng.sample(after, rng.randint(1, len(after))) if after else [])
        if rng.random() < 0.3:
            model.lines.append((names.pick("twiceL", "Lx2"), Ex("mul", (TWO, var(loss_name, ())))))
        if model.lines[-1][0] != loss_name:
            model.features.add("after_loss")


def column_model(rng: random.Random, profile: Profile = FULL) -> Model:
    """A single-sample model with column vectors (`W @ x + b`)."""
    names = Names(rng)
    depth = min(rng.choice([1, 1, 2, 2, 2, 3]), profile.max_depth)
    head = rng.choice(["ce", "ce", "mse", "mse_half", "generic"])
    d_in = names.pick("n", "D", "Dx")
    hidden = names.pick("h", "H", "Dh")
    d_out = names.pick("K", "Nc", "C")
    sizes = pick_sizes(rng, [d_in, hidden, d_out], allow_one=False)
    dims: list[Dim] = [d_in, *([hidden] * (depth - 1)), d_out]
    model = Model("column", sizes, {}, {}, {}, [], "", None)
    model.dims = dims
    x = names.pick("x", "x0", "a0")
    model.inputs[x] = ((d_in, 1), False)
    if rng.random() < 0.3 or head == "generic":
        model.functions[names.pick("f", "g", "phi")] = "elementwise"
    layers = dense_layers(model, names, rng, depth, column=True)
    out = layers.out
    z = names.pick("z", "Theta", "zout", "logit")
    model.lines.append((z, out))
    zv = var(z, out.shape)
    loss_name = rng.choice(["L", "J", "loss"])
    model.features.add("column")
    if head == "ce":
        y = names.pick("y", "yl", "onehot")
        model.inputs[y] = (out.shape, True)
        p = names.pick("yhat", "p", "probs")
        model.lines.append((p, call("softmax", zv, axis=0)))
        loss = neg(reduce("sum", mul(var(y, out.shape), call("log", var(p, out.shape)))))
        model.features.add("softmax_ce")
        model.softmax = (z, p, y, d_out)
    elif head == "generic":
        lt = names.pick("Lt", "ell")
        gname = names.pick("dL_dy", "gy")
        act = names.pick("y", "outv")
        fname = next(iter(model.functions))
        model.lines.append((act, call("fn", zv, fname, 0)))
        av = var(act, out.shape)
        model.functions[lt] = f"scalar, gradient {gname}"
        model.gradients[gname] = av
        loss = call("sfn", av, lt)
        model.features.add("scalar_loss")
    else:
        tgt = names.pick("target", "tv", "T")
        model.inputs[tgt] = (out.shape, False)
        sq = reduce("sum", power(sub(zv, var(tgt, out.shape)), 2))
        loss = sq if head == "mse" else div(sq, TWO)
        model.features.add("mse")
    loss = _loss_extras(model, names, rng, layers, loss)
    model.lines.append((loss_name, loss))
    model.loss = loss_name
    shrink(model, profile.max_entries)
    return model
