"""What the SDK knows of a value without its data."""

from __future__ import annotations

from dataclasses import dataclass

from .dtypes import DType


@dataclass
class Meta:
    """What is known of one value; None means "not known yet"."""

    shape: tuple[int, ...] | None = None
    dtype: DType | None = None
    requires_grad: bool | None = None
    is_leaf: bool | None = None
    grad_fn: str | None = None  # "" for a leaf; None when the name is not known yet

    @property
    def complete(self) -> bool:
        return None not in (self.shape, self.dtype, self.requires_grad, self.is_leaf, self.grad_fn)

