import numpy as np


# derive-check: x: N x D
def f_forward(x):
    out = np.sigmoid(x)
    cache = x
    return out, cache


def f_backward(dout, cache):
    x = cache
    dx = dout * np.sigmoid(x) * (1 - np.sigmoid(x))
    return dx
