import numpy as np


def doubled(fn):
    def inner(*args):
        return 2 * fn(*args)
    return inner


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# derive-check: x: N x D
def sig_forward(x):
    out = sigmoid(x)
    cache = out
    return out, cache


@doubled
def sig_backward(dout, cache):
    s = cache
    dx = dout * s * (1 - s)
    return dx
