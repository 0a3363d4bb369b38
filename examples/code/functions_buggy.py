"""Three custom torch.autograd.Function classes whose backward passes are wrong on the lines marked `# slip`.

derive-check reads them with `ast` (torch is never imported) and proves each backward exactly.
"""

import torch
from torch.autograd import Function


# derive-check: input: N x D, weight: M x D, bias: M
class LinearFunction(Function):
    """y = x W^T + b, as in the PyTorch "Extending torch.autograd" guide."""

    @staticmethod
    def forward(ctx, input, weight, bias):
        ctx.save_for_backward(input, weight, bias)
        output = input.mm(weight.t()) + bias
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.t().mm(input)
        if ctx.needs_input_grad[2]:
            grad_bias = grad_output.mean(0)  # slip
        return grad_input, grad_weight, grad_bias


# derive-check: logits: N x C, target: N, labels C
class SoftmaxCrossEntropy(Function):
    """The mean cross-entropy of softmax(logits) against integer class targets."""

    @staticmethod
    def forward(ctx, logits, target):
        shifted = logits - logits.max(dim=1, keepdim=True).values
        log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
        N = logits.size(0)
        loss = -log_probs[torch.arange(N), target].sum() / N
        ctx.save_for_backward(log_probs, target)
        return loss

    @staticmethod
    def backward(ctx, grad_output):
        log_probs, target = ctx.saved_tensors
        N = log_probs.size(0)
        grad = log_probs.exp()
        grad[torch.arange(N), target] -= 1
        grad_logits = grad * grad_output  # slip
        return grad_logits, None


# derive-check: x: N x D, gamma: D, beta: D, eps: scalar, positive
class LayerNormFunction(Function):
    """Layer normalization over the last axis, with the usual fused backward."""

    @staticmethod
    def forward(ctx, x, gamma, beta, eps):
        mu = x.mean(dim=1, keepdim=True)
        var = ((x - mu) ** 2).mean(dim=1, keepdim=True)
        rstd = 1 / torch.sqrt(var + eps)
        xhat = (x - mu) * rstd
        ctx.save_for_backward(xhat, gamma, rstd)
        return xhat * gamma + beta

    @staticmethod
    def backward(ctx, grad_out):
        xhat, gamma, rstd = ctx.saved_tensors
        g = grad_out * gamma
        grad_x = rstd * (g - xhat * (g * xhat).mean(dim=1, keepdim=True))  # slip
        grad_gamma = (grad_out * xhat).sum(0)
        grad_beta = grad_out.sum(0)
        return grad_x, grad_gamma, grad_beta, None
