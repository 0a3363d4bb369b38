import numpy as np

SCALE = 2.0


# derive-check: x: N x D
def scale_forward(x):
    SCALE = 3.0
    out = x * SCALE
    cache = x
    return out, cache


def scale_backward(dout, cache):
    dx = dout * SCALE
    return dx
