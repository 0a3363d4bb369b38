import numpy as np


def bump(a):
    a += 1.0
    return a


# derive-check: x: N x D
def f_forward(x):
    s = np.sum(x)
    t = bump(s)
    out = x * s
    cache = (x, s, t)
    return out, cache


def f_backward(dout, cache):
    x, s, t = cache
    dx = dout * t + np.sum(dout * x)
    return dx
