import numpy as np


# derive-check: x: N x D
def scale_forward(x):
    out = 3 * x
    cache = x
    return out, cache


def scale_backward(dout, cache):
    x = cache
    N = x.shape[0]
    dx = 3 * dout
    v = dx[x.shape[0] - 1]
    v *= 2
    return dx
