import torch
from torch.autograd import Function


# derive-check: x: N x D
class StdFunction(Function):
    @staticmethod
    def forward(ctx, x):
        s = x.std(dim=1, keepdim=True)
        ctx.save_for_backward(x, s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        x, s = ctx.saved_tensors
        D = x.size(1)
        xc = x - x.mean(dim=1, keepdim=True)
        grad_x = grad_output * xc / (D * s)
        return grad_x
