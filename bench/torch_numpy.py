"""NumPy's names, as the benchmark's workloads use them, on PyTorch tensors.

The workloads are written once, with `np.`; `workloads.for_module` rebinds `np`
to this namespace to run them under PyTorch's eager autograd. Only what the
workloads call is here; `axis`/`keepdims` become `dim`/`keepdim`.
"""
from __future__ import annotations

import torch

DTYPE = torch.float64


def _reduce(op):
    def reduced(x, axis=None, keepdims=False):
        x = as_tensor(x)
        return op(x) if axis is None else op(x, dim=axis, keepdim=keepdims)
    return reduced


def as_tensor(x):
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(x, dtype=DTYPE)


def _elementwise(op):
    return lambda x: op(as_tensor(x))


sum = _reduce(torch.sum)                       # noqa: A001 - numpy's name
mean = _reduce(torch.mean)
sqrt, tanh, sin, exp, log, abs = (_elementwise(f) for f in  # noqa: A001
                                  (torch.sqrt, torch.tanh, torch.sin, torch.exp, torch.log, torch.abs))


def matmul(a, b):
    return torch.matmul(as_tensor(a), as_tensor(b))


def where(condition, x, y):
    return torch.where(as_tensor(condition).bool(), as_tensor(x), as_tensor(y))


def zeros(shape):
    return torch.zeros(shape, dtype=DTYPE)


def stack(items, axis=0):
    return torch.stack([as_tensor(i) for i in items], dim=axis)


def array(items):
    return stack(items) if isinstance(items, (list, tuple)) and any(isinstance(i, torch.Tensor) for i in items) \
        else torch.as_tensor(items, dtype=DTYPE)
