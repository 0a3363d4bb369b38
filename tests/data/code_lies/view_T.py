import numpy as np


# derive-check: x: N x D, w: D x M
def mm_forward(x, w):
    out = x.dot(w)
    cache = (x, w)
    return out, cache


def mm_backward(dout, cache):
    x, w = cache
    dx = dout.dot(w.T)
    dxT = dx.T
    dxT *= 2
    dw = x.T.dot(dout)
    return dx, dw
