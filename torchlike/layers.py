"""Layers with parameters or shape logic: Linear, Bilinear, Conv1d/2d, norms, Dropout, Embedding,
Flatten, Unflatten, Identity, pools. Default initialisations are torch's."""

from __future__ import annotations

import math
from typing import Any

from . import init
from .module import Module


def _tuple(value: Any, n: int) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


class Identity(Module):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


class Linear(Module):
    """y = x W^T + b, W of shape (out_features, in_features), initialised as torch does."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        torch = self._torch
        self.in_features, self.out_features = in_features, out_features
        self.weight = self._param(torch.zeros(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = self._param(torch.zeros(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self._torch, self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self._torch, self.bias, -bound, bound)

    def forward(self, x: Any) -> Any:
        return self._F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """y = x1^T A x2 + b, A of shape (out_features, in1_features, in2_features)."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        torch = self._torch
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = self._param(torch.zeros(out_features, in1_features, in2_features, dtype=dtype))
        if bias:
            self.bias = self._param(torch.zeros(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        bound = 1 / math.sqrt(in1_features)
        init.uniform_(torch, self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(torch, self.bias, -bound, bound)

    def forward(self, x1: Any, x2: Any) -> Any:
        return self._F.bilinear(x1, x2, self.weight, self.bias)


class _ConvNd(Module):
    dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        torch = self._torch
        if in_channels % groups or out_channels % groups:
            raise ValueError("in_channels and out_channels must be divisible by groups")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _tuple(kernel_size, self.dims)
        self.stride = _tuple(stride, self.dims)
        self.padding = padding if isinstance(padding, str) else _tuple(padding, self.dims)
        self.dilation = _tuple(dilation, self.dims)
        self.weight = self._param(torch.zeros(out_channels, in_channels // groups, *self.kernel_size, dtype=dtype))
        if bias:
            self.bias = self._param(torch.zeros(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        init.kaiming_uniform_(torch, self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = (in_channels // groups) * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(torch, self.bias, -bound, bound)

    def forward(self, x: Any) -> Any:
        conv = self._F.conv2d if self.dims == 2 else self._F.conv1d
        return conv(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_ConvNd):
    dims = 1


class Conv2d(_ConvNd):
    dims = 2


class _BatchNorm(Module):
    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        torch = self._torch
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = self._param(torch.ones(num_features, dtype=dtype))
            self.bias = self._param(torch.zeros(num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", torch.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", torch.tensor(0))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, x: Any) -> Any:
        use_batch = self.training or not self.track_running_stats
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with self._torch.no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked)
        return self._F.batch_norm(x, self.running_mean if self.track_running_stats else None,
                                  self.running_var if self.track_running_stats else None,
                                  self.weight, self.bias, use_batch, momentum, self.eps)


class BatchNorm1d(_BatchNorm):
    pass


class BatchNorm2d(_BatchNorm):
    pass


class LayerNorm(Module):
    def __init__(self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        torch = self._torch
        self.normalized_shape = _tuple(normalized_shape, 1)
        self.eps = eps
        if elementwise_affine:
            self.weight = self._param(torch.ones(*self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = self._param(torch.zeros(*self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Any) -> Any:
        return self._F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)


class GroupNorm(Module):
    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        torch = self._torch
        if num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels, self.eps = num_groups, num_channels, eps
        if affine:
            self.weight = self._param(torch.ones(num_channels, dtype=dtype))
            self.bias = self._param(torch.zeros(num_channels, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Any) -> Any:
        return self._F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)


class Dropout(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    function = "dropout"

    def forward(self, x: Any) -> Any:
        return getattr(self._F, self.function)(x, self.p, self.training, inplace=self.inplace)


class Dropout1d(Dropout):
    function = "dropout1d"


class Dropout2d(Dropout):
    function = "dropout2d"


class Dropout3d(Dropout):
    function = "dropout3d"


class AlphaDropout(Dropout):
    function = "alpha_dropout"


class FeatureAlphaDropout(Dropout):
    function = "feature_alpha_dropout"


class Embedding(Module):
    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: Any = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: Any = None, _freeze: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        torch = self._torch
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        if _weight is None:
            self.weight = self._param(torch.zeros(num_embeddings, embedding_dim, dtype=dtype))
            init.normal_(torch, self.weight)
            if padding_idx is not None:
                with torch.no_grad():
                    self.weight[padding_idx].fill_(0)
        else:
            self.weight = self._param(_weight)
        if _freeze:
            self.weight.requires_grad_(False)

    def forward(self, indices: Any) -> Any:
        native = self._F.native("embedding")
        if native is not None:
            return native(indices, self.weight, self.padding_idx)
        return self._F.embedding(indices, self.weight)


class Flatten(Module):
    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Any) -> Any:
        shape = tuple(x.shape)
        if not shape:
            return x.reshape(1)
        start = self.start_dim % len(shape)
        end = self.end_dim % len(shape)
        return x.reshape(*shape[:start], math.prod(shape[start:end + 1]), *shape[end + 1:])


class Unflatten(Module):
    def __init__(self, dim: int, unflattened_size: Any) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x: Any) -> Any:
        shape = tuple(x.shape)
        dim = self.dim % len(shape)
        return x.reshape(*shape[:dim], *self.unflattened_size, *shape[dim + 1:])


class MaxPool2d(Module):
    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride if stride is not None else kernel_size, padding
        self.dilation, self.ceil_mode = dilation, ceil_mode

    def forward(self, x: Any) -> Any:
        return self._F.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(Module):
    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: Any = None) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride if stride is not None else kernel_size, padding

    def forward(self, x: Any) -> Any:
        return self._F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class AdaptiveAvgPool2d(Module):
    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Any) -> Any:
        return self._F.adaptive_avg_pool2d(x, self.output_size)
