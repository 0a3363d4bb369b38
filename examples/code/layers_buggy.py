"""The usual slips in hand-written backward passes: each backward here is wrong on the line marked `# slip`.

`derive-check examples/code/layers_buggy.py` refutes every one with a counterexample and names the line where the
backward's value first departs from the true adjoint. Some slips pass a numeric gradient check at most points: the
ReLU mask on `out >= 0` (right wherever every input is positive), the clip that forgets its upper bound (right
below 3), the embedding that adds a repeated id once (right wherever the ids differ) and the SVM's correct-class
count (right wherever one margin per row is positive).
"""

import numpy as np


# derive-check: x: N x D, w: D x M, b: M
def affine_forward(x, w, b):
    out = x.dot(w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T)
    dw = x.T.dot(dout) / x.shape[0]  # slip
    db = np.sum(dout, axis=0)
    return dx, dw, db


# derive-check: x: N x D
def relu_forward(x):
    out = np.maximum(0, x)
    cache = out
    return out, cache


def relu_backward(dout, cache):
    out = cache
    dx = dout * (out >= 0)  # slip
    return dx


# derive-check: x: N x D, mask: N x D
def dropout_forward(x, mask):
    out = x * mask
    cache = mask
    return out, cache


def dropout_backward(dout, cache):
    mask = cache
    dx = dout  # slip
    return dx


# derive-check: x: N x D, gamma: D, beta: D, eps: scalar, positive
def batchnorm_forward(x, gamma, beta, eps):
    mu = np.mean(x, axis=0)
    xmu = x - mu
    sq = xmu**2
    var = np.mean(sq, axis=0)
    sqrtvar = np.sqrt(var + eps)
    ivar = 1.0 / sqrtvar
    xhat = xmu * ivar
    out = gamma * xhat + beta
    cache = (xhat, gamma, xmu, ivar, sqrtvar, var, eps)
    return out, cache


def batchnorm_backward(dout, cache):
    xhat, gamma, xmu, ivar, sqrtvar, var, eps = cache
    N, D = dout.shape[0], dout.shape[1]
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    divar = np.sum(dxhat * xmu, axis=0)
    dxmu1 = dxhat * ivar
    dsqrtvar = -1.0 / (sqrtvar**2) * divar
    dvar = 0.5 * 1.0 / np.sqrt(var + eps) * dsqrtvar
    dsq = np.ones((N, D)) * dvar  # slip
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -1 * np.sum(dx1, axis=0)
    dx2 = 1.0 / N * np.ones((N, D)) * dmu
    dx = dx1 + dx2
    return dx, dgamma, dbeta


# derive-check: x: N x D, gamma: D, beta: D, eps: scalar, positive
def layernorm_forward(x, gamma, beta, eps):
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    std = np.sqrt(var + eps)
    xhat = (x - mu) / std
    out = gamma * xhat + beta
    cache = (xhat, gamma, std)
    return out, cache


def layernorm_backward(dout, cache):
    xhat, gamma, std = cache
    dgamma = np.sum(dout * xhat, axis=0)
    dbeta = np.sum(dout, axis=0)
    dxhat = dout * gamma
    dx = (dxhat - dxhat.mean(axis=1, keepdims=True)) / std  # slip
    return dx, dgamma, dbeta


# derive-check: x: N x C, y: N, labels C
def softmax_loss(x, y):
    shifted = x - np.max(x, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted), axis=1, keepdims=True)
    log_probs = shifted - np.log(Z)
    probs = np.exp(log_probs)
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1  # slip
    return loss, dx


# derive-check: x: N x C, y: N, labels C
def svm_loss(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y]
    margins = np.maximum(0, x - correct[:, None] + 1.0)
    margins[np.arange(N), y] = 0
    loss = np.sum(margins) / N
    dx = np.zeros_like(x)
    dx[margins > 0] = 1
    dx[np.arange(N), y] -= 1  # slip
    dx /= N
    return loss, dx


# derive-check: x: N x D, prev_h: N x H, Wx: D x H, Wh: H x H, b: H
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x.dot(Wx) + prev_h.dot(Wh) + b)
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    dtanh = dnext_h * (1 - next_h)  # slip
    dx = dtanh.dot(Wx.T)
    dprev_h = dtanh.dot(Wh.T)
    dWx = x.T.dot(dtanh)
    dWh = prev_h.T.dot(dtanh)
    db = np.sum(dtanh, axis=0)
    return dx, dprev_h, dWx, dWh, db


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# derive-check: x: N x D, prev_h: N x H, prev_c: N x H, Wx: D x 4*H, Wh: H x 4*H, b: 4*H; N = 1, D = 2, H = 2
def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H : 2 * H])
    o = sigmoid(a[:, 2 * H : 3 * H])
    g = np.tanh(a[:, 3 * H :])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    dnext_c = dnext_c + dnext_h * o * (1 - np.tanh(next_c) ** 2)
    dprev_c = dnext_c * f
    di = dnext_c * g * i * (1 - i)
    df = dnext_c * prev_c * f * (1 - f)
    do = dnext_h * np.tanh(next_c) * o * (1 - o)
    dg = dnext_c * i * (1 - g**2)
    da = np.concatenate([df, di, do, dg], axis=1)  # slip
    dx = da.dot(Wx.T)
    dprev_h = da.dot(Wh.T)
    dWx = x.T.dot(da)
    dWh = prev_h.T.dot(da)
    db = np.sum(da, axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


# derive-check: x: N x W, w: K, b: scalar; N = 2, W = 5, K = 3
def conv1d_forward(x, w, b):
    K = w.shape[0]
    S = x.shape[1] - K + 1
    out = b + 0 * x[:, 0:S]
    for k in range(K):
        out = out + w[k] * x[:, k : k + S]
    cache = (x, w)
    return out, cache


def conv1d_backward(dout, cache):
    x, w = cache
    K = w.shape[0]
    S = dout.shape[1]
    dx = np.zeros_like(x)
    dw = np.zeros_like(w)
    for k in range(K):
        dx[:, k : k + S] += w[k] * dout
        dw[k] = np.sum(dout * x[:, K - 1 - k : K - 1 - k + S])  # slip
    db = np.sum(dout)
    return dx, dw, db


# derive-check: x: N x D
def hardtanh_forward(x):
    out = np.clip(x, -3.0, 3.0)
    cache = x
    return out, cache


def hardtanh_backward(dout, cache):
    x = cache
    dx = dout * (x > -3.0)  # slip
    return dx


# derive-check: y: N, labels V, W: V x D
def embedding_forward(y, W):
    out = W[y]
    cache = (y, W)
    return out, cache


def embedding_backward(dout, cache):
    y, W = cache
    dW = np.zeros_like(W)
    dW[y] += dout  # slip
    return None, dW
