"""nn.init: torch's initialisers, in place under no_grad. Each takes the backend first; the binding
hands them out with it filled in (`torch.nn.init.kaiming_uniform_(w, a=math.sqrt(5))`)."""

from __future__ import annotations

import math
from typing import Any


def calculate_gain(nonlinearity: str, param: Any = None) -> float:
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid", "conv_transpose1d", "conv_transpose2d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def uniform_(torch: Any, tensor: Any, a: float = 0.0, b: float = 1.0) -> Any:
    with torch.no_grad():
        return tensor.uniform_(a, b)


def normal_(torch: Any, tensor: Any, mean: float = 0.0, std: float = 1.0) -> Any:
    with torch.no_grad():
        return tensor.normal_(mean, std)


def constant_(torch: Any, tensor: Any, val: float) -> Any:
    with torch.no_grad():
        return tensor.fill_(val)


def ones_(torch: Any, tensor: Any) -> Any:
    return constant_(torch, tensor, 1.0)


def zeros_(torch: Any, tensor: Any) -> Any:
    with torch.no_grad():
        return tensor.zero_()


def xavier_uniform_(torch: Any, tensor: Any, gain: float = 1.0) -> Any:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(torch, tensor, -bound, bound)


def xavier_normal_(torch: Any, tensor: Any, gain: float = 1.0) -> Any:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(torch, tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _fan(tensor: Any, mode: str) -> int:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    return fan_in if mode == "fan_in" else fan_out


def kaiming_uniform_(torch: Any, tensor: Any, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Any:
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(torch, tensor, -bound, bound)


def kaiming_normal_(torch: Any, tensor: Any, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Any:
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(torch, tensor, 0.0, std)


# What the binding hands out with the backend filled in (calculate_gain and the fan helper take none).
IN_PLACE = (uniform_, normal_, constant_, ones_, zeros_, xavier_uniform_, xavier_normal_, kaiming_uniform_,
            kaiming_normal_)
PLAIN = (calculate_gain, _calculate_fan_in_and_fan_out)
