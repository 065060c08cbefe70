"""The rest of torch's module surface on a Client: more factories (linspace, logspace, empty, *_like,
randint, randperm, rand, normal, bernoulli, multinomial), numel / allclose, and the CPU-only device
and default-dtype functions (cuda.is_available() is False; set_default_device accepts "cpu").

Random values are drawn locally from the Client's seeded generator (manual_seed) and sent as leaves:
reproducible, but not torch's generator's values.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

from gradwire.rules import arguments

from . import dtypes, factories
from .errors import checked


def _check_device(spec: Any) -> None:
    if spec is not None and str(getattr(spec, "type", spec)).partition(":")[0] != "cpu":
        raise RuntimeError(f"device {spec!r} is not available: gradwire computes on the CPU only; use 'cpu'")


def _floating(dtype: Any) -> dtypes.DType:
    target = dtypes.as_dtype(dtype) if dtype is not None else dtypes.DEFAULT_FLOAT
    if not target.is_floating_point:
        raise RuntimeError(f'"normal_kernel_cpu" not implemented for \'{target.name}\'; ask for a floating dtype')
    return target


class TorchSurface:
    """Mixed into Client: everything here works on `self._runtime`."""

    _runtime: Any
    cuda = types.SimpleNamespace(is_available=lambda: False, device_count=lambda: 0)
    accelerator = types.SimpleNamespace(is_available=lambda: False, current_accelerator=lambda: None,
                                        device_count=lambda: 0)

    # ------------------------------------------------------------ devices and default dtype
    @staticmethod
    def device(spec: Any = "cpu") -> str:
        _check_device(spec)
        return "cpu"

    @staticmethod
    def set_default_device(spec: Any) -> None:
        _check_device(spec)

    @staticmethod
    def set_default_dtype(dtype: Any) -> None:
        """The dtype of Python floats in factories made by this process's Clients (float32 or float64)."""
        target = dtypes.as_dtype(dtype)
        if target not in (dtypes.float32, dtypes.float64):
            raise TypeError(f"only floating-point types (float32, float64) are supported as the default type, got {target}")
        dtypes.DEFAULT_FLOAT = target

    @staticmethod
    def get_default_dtype() -> dtypes.DType:
        return dtypes.DEFAULT_FLOAT

    @staticmethod
    def numel(tensor: Any) -> int:
        return tensor.numel()

    def allclose(self, a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
        isclose = self._runtime.catalogue.functions["isclose"]
        close = self._runtime.apply(isclose, [a, b], {"rtol": rtol, "atol": atol, "equal_nan": equal_nan})
        return bool(np.all(close.numpy()))

    def equal(self, a: Any, b: Any) -> bool:
        """torch.equal: a Python bool, True for the same shape and equal values (no broadcasting)."""
        if not hasattr(b, "shape"):
            raise TypeError(f"equal(): argument 'other' must be a Tensor, not {type(b).__name__}")
        if tuple(a.shape) != tuple(b.shape):
            return False
        same = self._runtime.apply(self._runtime.catalogue.functions["eq"], [a, b], {})
        return bool(np.all(same.numpy()))

    # ------------------------------------------------------------ deterministic factories
    def _leaf(self, array: np.ndarray, dtype: dtypes.DType, requires_grad: bool, device: Any) -> Any:
        _check_device(device)
        return self._runtime.leaf(np.asarray(array).astype(dtype.numpy), requires_grad)

    def empty(self, *size: Any, dtype: Any = None, requires_grad: bool = False, **options: Any) -> Any:
        """torch.empty: zeros here (any values are allowed)."""
        return factories.filled(self._runtime, factories.size_option(size, options), 0, dtype, requires_grad,
                                dtypes.DEFAULT_FLOAT)

    def empty_like(self, other: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Any:
        return self.full_like(other, 0, dtype=dtype, device=device, requires_grad=requires_grad)

    def full_like(self, other: Any, fill_value: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Any:
        _check_device(device)
        return factories.filled(self._runtime, (other.shape,), fill_value, dtype or other.dtype, requires_grad)

    def linspace(self, start: Any, end: Any, steps: int, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Any:
        target = dtypes.as_dtype(dtype) if dtype is not None else dtypes.DEFAULT_FLOAT
        values = checked(arguments.linspace_values, float(start), float(end), int(steps))
        return self._leaf(np.trunc(values) if not target.is_floating_point else values, target, requires_grad, device)

    def logspace(self, start: Any, end: Any, steps: int, base: float = 10.0, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Any:
        target = dtypes.as_dtype(dtype) if dtype is not None else dtypes.DEFAULT_FLOAT
        exponents = checked(arguments.linspace_values, float(start), float(end), int(steps))
        return self._leaf(np.power(float(base), exponents), target, requires_grad, device)

    # ------------------------------------------------------------ random factories
    def rand(self, *size: Any, dtype: Any = None, requires_grad: bool = False, **options: Any) -> Any:
        shape = factories._shape(factories.size_option(size, options))
        return self._leaf(self._runtime.random.random(shape), _floating(dtype), requires_grad, None)

    def rand_like(self, other: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Any:
        return self.rand(other.shape, dtype=dtype or other.dtype, device=device, requires_grad=requires_grad)

    def randn_like(self, other: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Any:
        _check_device(device)
        return factories.randn(self._runtime, (other.shape,), dtype or other.dtype, requires_grad)

    def randint(self, *args: Any, size: Any = None, dtype: Any = None, device: Any = None,
                requires_grad: bool = False) -> Any:
        """randint(high, size) or randint(low, high, size): integers in [low, high), int64 by default."""
        args = list(args)
        if size is None and args and isinstance(args[-1], (tuple, list)):
            size = args.pop()
        if size is None or not 1 <= len(args) <= 2:
            raise TypeError("randint() takes (high, size) or (low, high, size), with size a tuple of ints")
        low, high = (0, args[0]) if len(args) == 1 else args
        if int(low) >= int(high):
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
        values = self._runtime.random.integers(int(low), int(high), factories._shape((size,)))
        return self._leaf(values, dtypes.as_dtype(dtype) if dtype is not None else dtypes.int64, requires_grad, device)

    def randperm(self, n: int, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Any:
        if int(n) < 0:
            raise RuntimeError(f"n must be non-negative, got {n}")
        values = self._runtime.random.permutation(int(n))
        return self._leaf(values, dtypes.as_dtype(dtype) if dtype is not None else dtypes.int64, requires_grad, device)

    def normal(self, mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, generator: Any = None) -> Any:
        """normal(mean, std) with tensors (broadcast) or numbers, or normal(mean, std, size) with numbers;
        a new leaf (no gradient flows to mean or std, as in torch)."""
        tensor_class = self._runtime.tensor_class
        tensors = [v for v in (mean, std) if isinstance(v, tensor_class)]
        values = [v._data_copy() if isinstance(v, tensor_class) else float(v) for v in (mean, std)]
        if tensors:
            if size is not None:
                raise TypeError("normal(): size is only allowed with number mean and std")
            target = dtypes.promote(*[t.dtype for t in tensors])
            shape = np.broadcast_shapes(*[t.shape for t in tensors])
        else:
            if size is None:
                raise TypeError("normal() with number mean and std needs a size")
            target, shape = _floating(dtype), factories._shape((size,))
        if not target.is_floating_point:
            raise RuntimeError(f'"normal_kernel_cpu" not implemented for \'{target.name}\'')
        if np.any(np.asarray(values[1]) < 0):
            raise RuntimeError("normal expects std >= 0.0, but found std < 0")
        draw = values[0] + values[1] * self._runtime.random.standard_normal(shape)
        return self._leaf(draw, target, requires_grad, device)

    def bernoulli(self, input: Any, p: float | None = None, *, generator: Any = None) -> Any:  # noqa: A002
        if not input.dtype.is_floating_point:
            raise RuntimeError(f'"bernoulli_tensor_cpu_p_" not implemented for \'{input.dtype.name}\'')
        probabilities = input._data_copy() if p is None else np.full(input.shape, float(p))
        if np.any((probabilities < 0) | (probabilities > 1)):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
        draw = self._runtime.random.random(input.shape) < probabilities
        return self._leaf(draw, input.dtype, False, None)

    def multinomial(self, input: Any, num_samples: int, replacement: bool = False, *,  # noqa: A002
                    generator: Any = None) -> Any:
        weights = input._data_copy().astype(np.float64)
        if weights.ndim not in (1, 2):
            raise RuntimeError("prob_dist must be 1 or 2 dim")
        if np.any(weights < 0) or not np.all(np.isfinite(weights)):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        rows = weights.reshape(-1, weights.shape[-1])
        totals = rows.sum(axis=1, keepdims=True)
        if np.any(totals <= 0):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if not replacement and int(num_samples) > rows.shape[1]:
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
        rng = self._runtime.random
        if replacement:
            cumulative = np.cumsum(rows / totals, axis=1)
            draws = rng.random((rows.shape[0], int(num_samples)))
            picks = np.minimum((draws[:, :, None] > cumulative[:, None, :]).sum(axis=2), rows.shape[1] - 1)
        else:  # Gumbel-top-k: sampling without replacement in one draw
            with np.errstate(divide="ignore"):
                keys = np.log(rows / totals) - np.log(-np.log(rng.random(rows.shape)))
            picks = np.argsort(-keys, axis=1)[:, : int(num_samples)]
        return self._leaf(picks.reshape(*weights.shape[:-1], int(num_samples)), dtypes.int64, False, None)


class Surface(TorchSurface):
    """The module functions on a runtime, for the Tensor methods that call them (methods.py)."""

    def __init__(self, runtime: Any) -> None:
        self._runtime = runtime

