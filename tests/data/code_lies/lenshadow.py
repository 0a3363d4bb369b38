import numpy as np


def len(a):
    return 1.0


# derive-check: x: N x D
def scale_forward(x):
    out = x * len(x)
    cache = x
    return out, cache


def scale_backward(dout, cache):
    x = cache
    dx = dout * x.shape[0]
    return dx
