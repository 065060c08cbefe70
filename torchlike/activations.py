"""Activation modules: each calls its nn.functional function (or the Tensor method torch uses); those
with torch's `inplace` flag pass it on (the function then changes its input in place)."""

from __future__ import annotations

from typing import Any

from .module import Module


class ReLU(Module):
    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Any) -> Any:
        return self._F.relu(x, inplace=True) if self.inplace else self._F.relu(x)


class Sigmoid(Module):
    def forward(self, x: Any) -> Any:
        return x.sigmoid()


class Tanh(Module):
    def forward(self, x: Any) -> Any:
        return x.tanh()


class Softmax(Module):
    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Any) -> Any:
        return self._F.softmax(x, self.dim)


class LogSoftmax(Module):
    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Any) -> Any:
        return self._F.log_softmax(x, self.dim)


class Softmin(Module):
    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Any) -> Any:
        return self._F.softmin(x, self.dim)


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x: Any) -> Any:
        return self._F.leaky_relu(x, self.negative_slope, inplace=self.inplace)


class ELU(Module):
    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x: Any) -> Any:
        return self._F.elu(x, self.alpha, inplace=self.inplace)


class GELU(Module):
    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, x: Any) -> Any:
        return self._F.gelu(x, approximate=self.approximate)


class SiLU(Module):
    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Any) -> Any:
        return self._F.silu(x, inplace=self.inplace)


class Softplus(Module):
    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Any) -> Any:
        return self._F.softplus(x, self.beta, self.threshold)


class Hardtanh(Module):
    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, x: Any) -> Any:
        return self._F.hardtanh(x, self.min_val, self.max_val, inplace=self.inplace)


class ReLU6(Module):
    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Any) -> Any:
        return self._F.relu6(x, inplace=self.inplace)


class _Flagged(Module):
    """An activation of one tensor with only torch's `inplace` flag (SELU, Hardswish, Mish ...)."""

    function = ""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Any) -> Any:
        return getattr(self._F, self.function)(x, inplace=self.inplace)


class SELU(_Flagged):
    function = "selu"


class Hardsigmoid(_Flagged):
    function = "hardsigmoid"


class Hardswish(_Flagged):
    function = "hardswish"


class Mish(_Flagged):
    function = "mish"


class CELU(Module):
    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x: Any) -> Any:
        return self._F.celu(x, self.alpha, inplace=self.inplace)


class Threshold(Module):
    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, x: Any) -> Any:
        return self._F.threshold(x, self.threshold, self.value, inplace=self.inplace)
