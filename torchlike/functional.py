"""The nn.functional calls the layers make, on one backend: its own function when it has one, else a
composition of basic ops with torch's maths (so the layers run on a backend that lacks a function,
with the same values; only grad_fn names differ).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

_MISSING = object()


class Functional:
    """`Functional(torch).linear(x, w, b)`: torch.nn.functional.linear of that backend, or a fallback."""

    def __init__(self, torch: Any) -> None:
        self.torch = torch
        self._found: dict[str, Any] = {}

    def native(self, name: str) -> Callable[..., Any] | None:
        """The backend's own torch.nn.functional.<name>, or None."""
        found = self._found.get(name, _MISSING)
        if found is _MISSING:
            try:
                found = getattr(self.torch.nn.functional, name)
            except AttributeError:
                found = None
            self._found[name] = found
        return found

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        own = self.native(name)
        if own is not None:
            return own
        fallback = _FALLBACKS.get(name)
        if fallback is None:
            raise NotImplementedError(f"torch.nn.functional.{name} is not available on this backend "
                                      "(not in its op catalogue)")
        return lambda *args, **kwargs: fallback(self.torch, *args, **kwargs)


# ---------------------------------------------------------------- fallbacks: fn(torch, *args, **kwargs)
def _reduce(loss: Any, reduction: str) -> Any:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def linear(torch: Any, x: Any, weight: Any, bias: Any = None) -> Any:
    out = x @ weight.t()
    return out if bias is None else out + bias


def bilinear(torch: Any, x1: Any, x2: Any, weight: Any, bias: Any = None) -> Any:
    # out[n, o] = sum_ij x1[n, i] weight[o, i, j] x2[n, j]
    out = ((x1.unsqueeze(1).unsqueeze(-1) * weight.unsqueeze(0)) * x2.unsqueeze(1).unsqueeze(2)).sum(-1).sum(-1)
    return out if bias is None else out + bias


def mse_loss(torch: Any, input: Any, target: Any, reduction: str = "mean") -> Any:  # noqa: A002
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(torch: Any, input: Any, target: Any, reduction: str = "mean") -> Any:  # noqa: A002
    return _reduce((input - target).abs(), reduction)


def smooth_l1_loss(torch: Any, input: Any, target: Any, reduction: str = "mean", beta: float = 1.0) -> Any:  # noqa: A002
    diff = (input - target).abs()
    if beta == 0:
        return _reduce(diff, reduction)
    loss = torch.where(diff < beta, diff * diff * (0.5 / beta), diff - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(torch: Any, input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Any:  # noqa: A002
    diff = (input - target).abs()
    loss = torch.where(diff < delta, diff * diff * 0.5, (diff - 0.5 * delta) * delta)
    return _reduce(loss, reduction)


def _pick(torch: Any, values: Any, target: Any) -> Any:
    """values[n, target[n]] for a (N, C) tensor and (N,) class indices."""
    rows = torch.arange(values.shape[0])
    return values[rows, target]


def nll_loss(torch: Any, input: Any, target: Any, weight: Any = None, ignore_index: int = -100,  # noqa: A002
             reduction: str = "mean") -> Any:
    if input.ndim != 2 or weight is not None:
        raise NotImplementedError("nll_loss fallback: (N, C) input without class weights only")
    picked = -_pick(torch, input, target)
    return _reduce(picked, reduction)


def cross_entropy(torch: Any, input: Any, target: Any, weight: Any = None, ignore_index: int = -100,  # noqa: A002
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Any:
    log_probs = input.log_softmax(1)
    if target.dtype.is_floating_point:  # class probabilities
        return _reduce(-(log_probs * target).sum(1), reduction)
    return nll_loss(torch, log_probs, target, weight, ignore_index, reduction)


def binary_cross_entropy(torch: Any, input: Any, target: Any, weight: Any = None,  # noqa: A002
                         reduction: str = "mean") -> Any:
    # torch clamps each log at -100 so that 0 * log(0) stays finite
    loss = -(target * input.log().clamp(min=-100) + (1 - target) * (1 - input).log().clamp(min=-100))
    return _reduce(loss if weight is None else loss * weight, reduction)


def binary_cross_entropy_with_logits(torch: Any, input: Any, target: Any, weight: Any = None,  # noqa: A002
                                     reduction: str = "mean", pos_weight: Any = None) -> Any:
    log_sigmoid = -softplus(torch, -input)
    log_one_minus = -softplus(torch, input)
    if pos_weight is not None:
        loss = -(pos_weight * target * log_sigmoid + (1 - target) * log_one_minus)
    else:
        loss = -(target * log_sigmoid + (1 - target) * log_one_minus)
    return _reduce(loss if weight is None else loss * weight, reduction)


def kl_div(torch: Any, input: Any, target: Any, reduction: str = "mean", log_target: bool = False) -> Any:  # noqa: A002
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = torch.where(target > 0, target * (target.clamp(min=1e-45).log() - input), target * 0)
    if reduction == "batchmean":
        return loss.sum() / input.shape[0]
    return _reduce(loss, reduction)


def softplus(torch: Any, x: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
    scaled = x * beta
    # log(1 + exp(z)) = max(z, 0) + log(1 + exp(-|z|)), stable for large |z|
    smooth = (scaled.relu() + ((-scaled.abs()).exp() + 1).log()) / beta
    return torch.where(scaled > threshold, x, smooth)


def leaky_relu(torch: Any, x: Any, negative_slope: float = 0.01, inplace: bool = False) -> Any:
    return torch.where(x > 0, x, x * negative_slope)


def elu(torch: Any, x: Any, alpha: float = 1.0, inplace: bool = False) -> Any:
    return torch.where(x > 0, x, (x.clamp(max=0).exp() - 1) * alpha)


def silu(torch: Any, x: Any, inplace: bool = False) -> Any:
    return x * x.sigmoid()


def hardtanh(torch: Any, x: Any, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Any:
    return x.clamp(min_val, max_val)


def relu6(torch: Any, x: Any, inplace: bool = False) -> Any:
    return x.clamp(0, 6)


def gelu(torch: Any, x: Any, approximate: str = "none") -> Any:
    if approximate == "tanh":
        return 0.5 * x * (1 + ((x + 0.044715 * x * x * x) * math.sqrt(2 / math.pi)).tanh())
    erf = getattr(torch, "erf", None)
    if erf is None:
        raise NotImplementedError("gelu fallback needs erf (or use approximate='tanh')")
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


def dropout(torch: Any, x: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    keep = np.random.default_rng().random(tuple(x.shape)) >= p
    return x * torch.tensor((keep / (1 - p)).astype(x.dtype.numpy if hasattr(x.dtype, "numpy") else np.float32))


def embedding(torch: Any, indices: Any, weight: Any, padding_idx: Any = None, *args: Any, **kwargs: Any) -> Any:
    return weight[indices]


def layer_norm(torch: Any, x: Any, normalized_shape: Any, weight: Any = None, bias: Any = None,
               eps: float = 1e-5) -> Any:
    dims = tuple(range(x.ndim - len(tuple(normalized_shape)), x.ndim))
    mean = x
    for dim in dims:
        mean = mean.mean(dim, keepdim=True)
    centred = x - mean
    var = centred * centred
    for dim in dims:
        var = var.mean(dim, keepdim=True)
    out = centred / (var + eps).sqrt()
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


def group_norm(torch: Any, x: Any, num_groups: int, weight: Any = None, bias: Any = None, eps: float = 1e-5) -> Any:
    shape = tuple(x.shape)
    grouped = x.reshape(shape[0], num_groups, -1)
    out = layer_norm(torch, grouped, (grouped.shape[-1],), eps=eps).reshape(shape)
    affine_shape = (1, shape[1]) + (1,) * (len(shape) - 2)
    if weight is not None:
        out = out * weight.reshape(affine_shape)
    return out if bias is None else out + bias.reshape(affine_shape)


def batch_norm(torch: Any, x: Any, running_mean: Any, running_var: Any, weight: Any = None, bias: Any = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Any:
    dims = [0] + list(range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if training:
        mean = x
        for dim in reversed(dims):
            mean = mean.mean(dim, keepdim=True)
        centred = x - mean
        var = centred * centred
        for dim in reversed(dims):
            var = var.mean(dim, keepdim=True)
        count = x.numel() // x.shape[1]
        if running_mean is not None:
            with torch.no_grad():
                running_mean.mul_(1 - momentum).add_(mean.reshape(-1) * momentum)
                running_var.mul_(1 - momentum).add_(var.reshape(-1) * (momentum * count / max(count - 1, 1)))
        out = centred / (var + eps).sqrt()
    else:
        out = (x - running_mean.reshape(shape)) / (running_var.reshape(shape) + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)


def _pool_windows(x: Any, kernel: tuple[int, int]) -> Any:
    n, c, h, w = x.shape
    kh, kw = kernel
    if h % kh or w % kw:
        raise NotImplementedError("pooling fallback: the kernel must tile the input (stride = kernel, no padding)")
    return (x.reshape(n, c, h // kh, kh, w // kw, kw).permute(0, 1, 2, 4, 3, 5)
            .reshape(n, c, h // kh, w // kw, kh * kw))


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def max_pool2d(torch: Any, x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, *args: Any, **kwargs: Any) -> Any:
    if (stride is not None and _pair(stride) != _pair(kernel_size)) or padding:
        raise NotImplementedError("max_pool2d fallback: stride = kernel and no padding only")
    return _pool_windows(x, _pair(kernel_size)).max(-1).values


def avg_pool2d(torch: Any, x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, *args: Any, **kwargs: Any) -> Any:
    if (stride is not None and _pair(stride) != _pair(kernel_size)) or padding:
        raise NotImplementedError("avg_pool2d fallback: stride = kernel and no padding only")
    return _pool_windows(x, _pair(kernel_size)).mean(-1)


def adaptive_avg_pool2d(torch: Any, x: Any, output_size: Any) -> Any:
    out_h, out_w = _pair(output_size)
    return avg_pool2d(torch, x, (x.shape[2] // out_h, x.shape[3] // out_w))


_FALLBACKS: dict[str, Callable[..., Any]] = {
    name: value for name, value in dict(globals()).items()
    if callable(value) and not name.startswith("_") and name not in ("Functional", "Any", "Callable")
    and getattr(value, "__module__", None) == __name__
}
