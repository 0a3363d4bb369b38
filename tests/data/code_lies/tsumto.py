import torch
from torch.autograd import Function


# derive-check: x: N x M, b: M
class AddBias(Function):
    @staticmethod
    def forward(ctx, x, b):
        return x + b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output
