import numpy as np

SCALE = 1.0
SCALE *= 2


# derive-check: x: N x D
def scale_forward(x):
    out = SCALE * x
    cache = x
    return out, cache


def scale_backward(dout, cache):
    dx = 1.0 * dout
    return dx
