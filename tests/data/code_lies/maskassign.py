import numpy as np


# derive-check: x: N x D
def relu_forward(x):
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    x = cache
    dx = np.zeros_like(dout)
    dx[x > 0] = dout
    return dx
