"""nn.utils: clip_grad_norm_, clip_grad_value_, parameters_to_vector (all lazy: no value is read)."""

from __future__ import annotations

import math
from typing import Any, Iterable


def _with_grads(parameters: Any) -> list[Any]:
    params = [parameters] if hasattr(parameters, "grad") else list(parameters)
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(torch: Any, parameters: Any, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: Any = None) -> Any:
    """Scales the grads in place so that their joint norm is at most max_norm; returns the norm."""
    params = _with_grads(parameters)
    if not params:
        return torch.tensor(0.0)
    norm_type = float(norm_type)
    grads = [p.grad for p in params]
    if math.isinf(norm_type):
        norms = [g.abs().max() for g in grads]
        total = norms[0]
        for norm in norms[1:]:
            total = torch.maximum(total, norm)
    else:
        total = None
        for g in grads:
            part = (g.abs() ** norm_type).sum()
            total = part if total is None else total + part
        total = total ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(float(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                           "so it cannot be clipped.")
    coefficient = (max_norm / (total + 1e-6)).clamp(max=1.0)
    with torch.no_grad():
        for g in grads:
            g.mul_(coefficient)
    return total


def clip_grad_value_(torch: Any, parameters: Any, clip_value: float, foreach: Any = None) -> None:
    with torch.no_grad():
        for p in _with_grads(parameters):
            p.grad.clamp_(-clip_value, clip_value)


def parameters_to_vector(torch: Any, parameters: Iterable[Any]) -> Any:
    return torch.cat([p.reshape(-1) for p in parameters])


PUBLIC = (clip_grad_norm_, clip_grad_value_, parameters_to_vector)
