import torch
from torch.autograd import Function


# derive-check: a: N x N, b: N x N
class MulFunction(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a.mm(b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        grad_a = grad_output.mm(b.t())
        grad_b = a.t().mm(grad_output)
        return grad_b, grad_a
