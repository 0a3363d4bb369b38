import numpy as np


# derive-check: x: N x D
def scale_forward(x):
    out = 3 * x
    cache = x
    return out, cache


def scale_backward(dout, cache):
    x = cache
    dx = 3 * dout
    v = dx[:]
    v *= 2
    return dx
