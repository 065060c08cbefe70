"""gradwire.engine: a numpy autograd engine with PyTorch's semantics.

Programs written against torch run unchanged with `import gradwire.engine as torch`: the same numbers,
dtypes and kinds of error. Only numpy is imported.
"""

from __future__ import annotations

import types as _types

from gradwire.rules import dtypes, errors  # noqa: F401  (torch.dtypes, torch.errors)
from gradwire.rules.dtypes import DType, bool_, float16, float32, float64, int8, int16, int32, int64, uint8
from gradwire.rules.printing import Size

from . import ops, registry  # noqa: F401  (ops: registers the op table)
from . import autograd as _autograd_module
from .compiled import compile  # noqa: A004  (torch.compile)
from .dispatch import apply
from .device import (accelerator, cuda, device, get_default_device, get_default_dtype, set_default_device,
                     set_default_dtype)
from .factories import (arange, empty, empty_like, eye, from_numpy, full, full_like, linspace, logspace, manual_seed,
                        ones, ones_like, tensor, zeros, zeros_like)
from .random_factories import (bernoulli, multinomial, normal, rand, rand_like, randint, randint_like, randn,
                               randn_like, randperm)
from .methods import ValuesIndices, install as _install_methods
from .modes import enable_grad, is_grad_enabled, memory_budget, no_grad, set_grad_enabled
from .tensor import Tensor

bool = bool_  # noqa: A001  (torch.bool)
half, float, double, long, int, short = float16, float32, float64, int64, int32, int16  # noqa: A001


def is_tensor(obj: object) -> bool:  # noqa: D103  (torch.is_tensor)
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:  # noqa: A002  (torch.numel)
    return input.numel()


# torch.autograd as a namespace: autograd.grad, autograd.backward, autograd.Variable
autograd = _types.SimpleNamespace(
    grad=_autograd_module.grad, backward=_autograd_module.backward, Variable=_autograd_module.Variable,
)
Variable = _autograd_module.Variable

_functions = _install_methods()
globals().update(_functions)

# torch.nn.functional, torch.linalg, torch.special: filled from the registry's dotted function names.
from . import linalg, nn, optim, special  # noqa: E402

__all__ = [
    "accelerator", "bernoulli", "compile", "cuda", "device", "empty", "empty_like", "full_like", "get_default_device",
    "get_default_dtype", "int8", "int16", "is_tensor", "linspace", "logspace", "multinomial", "normal", "numel",
    "rand_like", "randint", "randint_like", "randn_like", "randperm", "set_default_device", "set_default_dtype", "uint8",
    "DType", "Tensor", "Variable", "ValuesIndices", "apply", "arange", "autograd", "bool_", "dtypes",
    "enable_grad", "errors", "eye", "float16", "float32", "float64", "from_numpy", "full", "int32",
    "int64", "is_grad_enabled", "linalg", "manual_seed", "memory_budget", "nn", "no_grad", "optim", "ones", "ones_like", "rand",
    "randn", "registry", "set_grad_enabled", "special", "tensor", "zeros", "zeros_like", *sorted(_functions),
]
