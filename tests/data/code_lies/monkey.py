import numpy as np

np.tanh = np.sin


# derive-check: x: N x D
def act_forward(x):
    out = np.tanh(x)
    cache = out
    return out, cache


def act_backward(dout, cache):
    out = cache
    dx = dout * (1 - out**2)
    return dx
