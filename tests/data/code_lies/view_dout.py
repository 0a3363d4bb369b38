import numpy as np


# derive-check: x: N x D
def relu_forward(x):
    out = np.maximum(0, x)
    cache = x
    return out, cache


# a relu backward that reuses dout's memory, then (wrongly) scales another view of it
def relu_backward(dout, cache):
    x = cache
    dx = dout[:, :]
    dx[x <= 0] = 0
    return dout * 1.0
