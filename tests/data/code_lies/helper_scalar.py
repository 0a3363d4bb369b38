import numpy as np


def halved(a):
    a /= 2
    return a


# derive-check: x: N x D, alpha: scalar
def f_forward(x, alpha):
    h = halved(alpha)
    out = x * alpha
    cache = (x, h)
    return out, cache


def f_backward(dout, cache):
    x, h = cache
    dx = dout * h
    return dx, None
