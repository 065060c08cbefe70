"""torch's device and default-dtype surface for a CPU-only engine: `device`, `cuda.is_available()`
(False), `accelerator`, `set_default_device("cpu")`, `set_default_dtype` / `get_default_dtype`."""

from __future__ import annotations

import types
from typing import Any

from gradwire.rules import dtypes
from gradwire.rules.errors import InvalidArgumentRuntimeError, DTypeError


class device:  # noqa: N801  (torch's name)
    """torch.device: only "cpu" (index 0 or none) exists here."""

    __slots__ = ("type", "index")

    def __init__(self, spec: Any = "cpu", index: int | None = None) -> None:
        name = spec.type if isinstance(spec, device) else str(spec)
        kind, _, number = name.partition(":")
        if kind != "cpu":
            raise InvalidArgumentRuntimeError(
                f"device {name!r} is not available: gradwire computes on the CPU only; use 'cpu'")
        self.type = "cpu"
        self.index = int(number) if number else index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, device) and other.type == self.type

    def __hash__(self) -> int:
        return hash(self.type)

    def __repr__(self) -> str:
        return "device(type='cpu')" if self.index is None else f"device(type='cpu', index={self.index})"

    def __str__(self) -> str:
        return "cpu" if self.index is None else f"cpu:{self.index}"


CPU = device("cpu")


def check_device(spec: Any) -> None:
    """Accepts None, "cpu", "cpu:0" or a cpu device; torch's RuntimeError for anything else."""
    if spec is not None:
        device(spec)


def set_default_device(spec: Any) -> None:
    check_device(spec)


def get_default_device() -> device:
    return CPU


def set_default_dtype(dtype: dtypes.DType) -> None:
    """The dtype Python floats and float factories get (float32 or float64, as torch allows)."""
    if dtype not in (dtypes.float32, dtypes.float64):
        raise DTypeError(f"only floating-point types (float32, float64) are supported as the default type, got {dtype}")
    dtypes.DEFAULT_FLOAT = dtype


def get_default_dtype() -> dtypes.DType:
    return dtypes.DEFAULT_FLOAT


cuda = types.SimpleNamespace(is_available=lambda: False, device_count=lambda: 0)
accelerator = types.SimpleNamespace(is_available=lambda: False, current_accelerator=lambda: None,
                                    device_count=lambda: 0)
