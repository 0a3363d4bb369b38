import torch


class Function(torch.autograd.Function):
    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        f = cls.forward
        cls.forward = staticmethod(lambda ctx, x: 3 * f(ctx, x))


# derive-check: x: N x D
class ScaleFunction(Function):
    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, grad_output):
        return 2 * grad_output
