"""What a user would do instead, as one cold process: torch autograd and gradcheck on the two-layer net.

    python benchmarks/torch_check.py FILE

Reads the sizes from FILE, builds the canonical two-layer network in float64 at a random
point, runs `torch.autograd.gradcheck` on the loss (against finite differences) and compares
the six claimed formulas, written by hand in torch, with autograd's gradients. This is
evidence at one point, not a proof; the benchmark times it because it is the usual check.
"""

from __future__ import annotations

import sys
import time
import tomllib
from pathlib import Path


def main() -> None:
    """Check the claims numerically at one random point and print what was found."""
    started = time.perf_counter()
    import torch

    sizes = tomllib.loads(Path(sys.argv[1]).read_text())["sizes"]
    n, d, h, c = (int(sizes[k]) for k in "NDHC")
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = torch.nn.functional.one_hot(torch.randint(0, c, (n,), generator=g), c).double()
    reg = 0.1
    params = [
        torch.randn(*s, generator=g, dtype=torch.float64, requires_grad=True) for s in ((d, h), (h,), (h, c), (c,))
    ]

    def loss(w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor, b2: torch.Tensor) -> torch.Tensor:
        h1 = torch.relu(x @ w1 + b1)
        p = torch.softmax(h1 @ w2 + b2, dim=1)
        return -(y * torch.log(p)).sum() / n + reg * ((w1**2).sum() + (w2**2).sum())

    passed = torch.autograd.gradcheck(loss, params)
    w1, b1, w2, b2 = params
    grads = torch.autograd.grad(loss(*params), params)
    with torch.no_grad():
        h1 = torch.relu(x @ w1 + b1)
        p = torch.softmax(h1 @ w2 + b2, dim=1)
        dh1 = (p - y) @ w2.T / n
        claims = [
            x.T @ (dh1 * (h1 > 0)) + 2 * reg * w1,
            (dh1 * (h1 > 0)).sum(0),
            h1.T @ (p - y) / n + 2 * reg * w2,
            (p - y).sum(0) / n,
        ]
    agree = [torch.allclose(a, b, rtol=1e-9, atol=1e-12) for a, b in zip(claims, grads, strict=True)]
    print(f"gradcheck {passed}; claims agree with autograd: {sum(agree)}/4; {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
