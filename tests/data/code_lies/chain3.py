import numpy as np


# derive-check: x: N x D, w: D
def f_forward(x, w):
    out = x * w
    cache = (x, w)
    return out, cache


def f_backward(dout, cache):
    x, w = cache
    dx = dw_rows = np.zeros_like(x)
    dx += dout * w
    dw_rows += dout * x
    dw = np.sum(dw_rows, axis=0)
    return dx, dw
