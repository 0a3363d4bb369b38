import numpy as np


# derive-check: x: N x D, w: D x M
def mm_forward(x, w):
    out = x.mm(w)
    cache = (x, w)
    return out, cache


def mm_backward(dout, cache):
    x, w = cache
    dx = dout.mm(w.t())
    dw = x.t().mm(dout)
    return dx, dw
