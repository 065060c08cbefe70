"""Random factories: rand, randn, randint, randperm, the *_like forms, normal, bernoulli, multinomial.

All draw from one seeded generator (factories.manual_seed): programs are reproducible, but the values
are not those of torch's generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradwire.rules import dtypes
from gradwire.rules.errors import ArgumentError, InvalidArgumentRuntimeError, DTypeRuntimeError

from . import factories
from .device import check_device
from .tensor import Tensor


def _floating(dtype: Any, name: str) -> np.dtype:
    numpy_dtype = factories._numpy_dtype(dtype, dtypes.DEFAULT_FLOAT)
    if numpy_dtype.kind != "f":
        raise DTypeRuntimeError(f'"{name}" not implemented for \'{dtypes.from_numpy(numpy_dtype).name}\'; '
                                "ask for a floating dtype")
    return numpy_dtype


def _drawn(shape: tuple, numpy_dtype: np.dtype, draw: Any, requires_grad: bool, what: str) -> Tensor:
    factories._charge(shape, numpy_dtype, f"{what}{list(shape)}")
    return factories._make(np.asarray(draw(shape)).astype(numpy_dtype), requires_grad)


def randn(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          generator: Any = None) -> Tensor:
    check_device(device)
    return _drawn(factories._shape(sizes, size), _floating(dtype, "normal_kernel_cpu"),
                  factories.generator().standard_normal, requires_grad, "randn")


def rand(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         generator: Any = None) -> Tensor:
    check_device(device)
    return _drawn(factories._shape(sizes, size), _floating(dtype, "check_uniform_bounds"),
                  factories.generator().random, requires_grad, "rand")


def randn_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    return randn(input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def rand_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    return rand(input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def randint(*args: Any, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False,
            generator: Any = None) -> Tensor:
    """randint(high, size) or randint(low, high, size): integers in [low, high), int64 by default."""
    check_device(device)
    args = list(args)
    if size is None and args and isinstance(args[-1], (tuple, list)):
        size = args.pop()
    if size is None or not 1 <= len(args) <= 2:
        raise ArgumentError("randint() takes (high, size) or (low, high, size), with size a tuple of ints")
    low, high = (0, args[0]) if len(args) == 1 else args
    low, high = int(low), int(high)
    if low >= high:
        raise InvalidArgumentRuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    numpy_dtype = factories._numpy_dtype(dtype, dtypes.int64)
    return _drawn(factories._shape((size,)), numpy_dtype,
                  lambda shape: factories.generator().integers(low, high, shape), requires_grad, "randint")


def randint_like(input: Tensor, low: int = 0, high: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype)


def randperm(n: int, dtype: Any = None, device: Any = None, requires_grad: bool = False,
             generator: Any = None) -> Tensor:
    check_device(device)
    if int(n) < 0:
        raise InvalidArgumentRuntimeError(f"n must be non-negative, got {n}")
    numpy_dtype = factories._numpy_dtype(dtype, dtypes.int64)
    return _drawn((int(n),), numpy_dtype, lambda shape: factories.generator().permutation(shape[0]),
                  requires_grad, "randperm")


def _array(value: Any) -> np.ndarray | float:
    return value._data if isinstance(value, Tensor) else float(value)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """normal(mean, std) with tensors (broadcast) or numbers, or normal(mean, std, size) with numbers.
    The result is a new leaf: like torch, no gradient flows back to mean or std."""
    check_device(device)
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if tensors:
        if size is not None:
            raise ArgumentError("normal(): size is only allowed with number mean and std")
        result_dtype = dtypes.promote(*[t.dtype for t in tensors])
        shape = np.broadcast_shapes(*[t.shape for t in tensors])
    else:
        if size is None:
            raise ArgumentError("normal() with number mean and std needs a size")
        result_dtype = factories._dtype(dtype, dtypes.DEFAULT_FLOAT)
        shape = factories._shape((size,))
    if not result_dtype.is_floating_point:
        raise DTypeRuntimeError(f'"normal_kernel_cpu" not implemented for \'{result_dtype.name}\'')
    if np.any(np.asarray(_array(std)) < 0):
        raise InvalidArgumentRuntimeError("normal expects std >= 0.0, but found std < 0")
    draw = lambda shape: _array(mean) + _array(std) * factories.generator().standard_normal(shape)  # noqa: E731
    return _drawn(shape, result_dtype.numpy, draw, requires_grad, "normal")


def bernoulli(input: Tensor, p: float | None = None, *, generator: Any = None) -> Tensor:  # noqa: A002
    """1 with probability `input` (or p), else 0; the input's dtype (floating)."""
    if not input.dtype.is_floating_point:
        raise DTypeRuntimeError(f'"bernoulli_tensor_cpu_p_" not implemented for \'{input.dtype.name}\'')
    probabilities = input._data if p is None else np.full(input.shape, float(p))
    if np.any((probabilities < 0) | (probabilities > 1)):
        raise InvalidArgumentRuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    return _drawn(input.shape, input.dtype.numpy, lambda shape: factories.generator().random(shape) < probabilities,
                  False, "bernoulli")


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator: Any = None) -> Tensor:  # noqa: A002
    """Indices drawn from each row of non-negative weights (1-D or 2-D), int64, as torch.multinomial."""
    weights = input._data.astype(np.float64)
    if weights.ndim not in (1, 2):
        raise InvalidArgumentRuntimeError("prob_dist must be 1 or 2 dim")
    if np.any(weights < 0) or not np.all(np.isfinite(weights)):
        raise InvalidArgumentRuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = weights.reshape(-1, weights.shape[-1])
    totals = rows.sum(axis=1, keepdims=True)
    if np.any(totals <= 0):
        raise InvalidArgumentRuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    num_samples = int(num_samples)
    if not replacement and num_samples > rows.shape[1]:
        raise InvalidArgumentRuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    rng = factories.generator()
    if replacement:
        cumulative = np.cumsum(rows / totals, axis=1)
        draws = rng.random((rows.shape[0], num_samples))
        picks = np.minimum((draws[:, :, None] > cumulative[:, None, :]).sum(axis=2), rows.shape[1] - 1)
    else:
        # Gumbel-top-k: without replacement, in one vectorised draw.
        with np.errstate(divide="ignore"):
            keys = np.log(rows / totals) - np.log(-np.log(rng.random(rows.shape)))
        picks = np.argsort(-keys, axis=1)[:, :num_samples]
    result = picks.reshape(*weights.shape[:-1], num_samples).astype(np.int64)
    return factories._make(result, False)
