import numpy as np


# derive-check: x: N x D
def sq_forward(x):
    out = x**2
    xv = x[:]
    xv *= 2
    cache = x
    return out, cache


def sq_backward(dout, cache):
    x = cache
    dx = 2 * x * dout
    return dx
