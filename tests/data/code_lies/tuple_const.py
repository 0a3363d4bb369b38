import numpy as np

ALPHA = 0.5
ALPHA, BETA = 2.0, 1.0


# derive-check: x: N x D
def scale_forward(x):
    out = ALPHA * x
    cache = x
    return out, cache


def scale_backward(dout, cache):
    dx = 0.5 * dout
    return dx
