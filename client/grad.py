"""`x.grad`: the property, and the kind of tensor it returns.

`x.grad` is a GradTensor whose data and metadata are the owner's grad state on the server: the
owner's shape and dtype, a leaf that does not require grad. Used in an op it becomes a `grad` node
(the server reads the grad, no data moves); writes to it (`x.grad.zero_()`, `x.grad[i] = v`,
`x.grad *= 0.5`) change the owner's grad. Each Client has its own subclass under its Tensor class, so
isinstance(x.grad, client.Tensor) holds, as in torch.
"""

from __future__ import annotations

import warnings
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from . import derive
from .tensor import Tensor

if TYPE_CHECKING:
    from .session import Value


class GradTensor(Tensor):
    """The .grad of a value (its owner); `_value` is the `grad` node that last read it, if any."""

    __slots__ = ("_owner", "_grad_version")

    @classmethod
    def _of(cls, owner: Value) -> GradTensor:
        tensor = object.__new__(cls)
        tensor._value = None  # type: ignore[assignment]
        tensor._owner = owner
        tensor._grad_version = -1
        return tensor

    def _graph_value(self) -> Value:
        """A `grad` node reading the owner's current grad (a new one after the grad changed); without the
        op on the server, a leaf holding its data."""
        owner = self._owner
        if self._value is None or self._grad_version != owner.grad.version:
            value = self._runtime.grad_value(owner)
            self._value = value if value is not None else self._runtime.leaf(self._array())._value
            self._grad_version = owner.grad.version
        return self._value

    def _meta(self, field: str) -> Any:
        if field in ("shape", "dtype"):
            return self._runtime.meta_of(self._owner, field)
        return {"requires_grad": False, "is_leaf": True, "grad_fn": ""}[field]

    def _array(self) -> np.ndarray:
        owner = self._owner
        owner.session.read_grad(owner)
        if owner.grad.array is None:
            raise RuntimeError("this .grad was set to None since it was read")
        return owner.grad.array

    def _copy_for_update(self) -> Tensor:
        return self.detach()

    def _after_inplace(self) -> None:
        # Still a grad (x.grad is not None), whose data is now the server's to tell: fetched on read.
        state = self._owner.grad
        state.known, state.deferred, state.array, state.version = True, True, None, state.version + 1

    def _is_grad_of(self, value: Value) -> bool:
        return self._owner is value

    @property
    def grad(self) -> None:
        return None

    @property
    def retains_grad(self) -> bool:
        return False

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        raise NotImplementedError("requires_grad on a .grad tensor: detach() it into a new tensor first")

    def detach(self) -> Tensor:
        return self._runtime.leaf(np.array(self._array()))

    def zero_(self) -> Tensor:
        self._runtime.zero_grad(self._owner, set_to_none=False)
        return self

    def __getitem__(self, index: Any) -> Tensor:
        return self.detach()[index]

    def __setitem__(self, index: Any, value: Any) -> None:
        updated = np.array(self._array())
        updated[index] = value._data_copy() if isinstance(value, Tensor) else value
        self._runtime.update_grads(self._owner, set_to=updated)


# ---------------------------------------------------------------- the .grad property (methods.py attaches it)
def get_grad(self: Tensor) -> Tensor | None:
    value = self._value
    value.check_usable()
    if value.sent and not value.grad.known:  # unsent: no backward has reached it; deferred data waits for a read
        value.session.read_grad(value)
    if value.grad.array is None and not value.grad.deferred:
        if self._meta("is_leaf") is False and not self.retains_grad:
            _warn_non_leaf_grad()
        value.grad_proxy = None
        return None
    proxy = value.grad_proxy() if value.grad_proxy is not None else None
    return proxy if proxy is not None else _new_grad_proxy(self, value)


def set_grad(self: Tensor, new: Tensor | None) -> None:
    value = self._value
    value.check_usable()
    if new is None:
        if value.sent and not (value.grad.known and value.grad.array is None):
            self._runtime.zero_grad(value, set_to_none=True)
        value.grad_proxy = None
        return
    if not isinstance(new, Tensor):
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(new).__name__}")
    if new._value is not None:  # its metadata as far as it is known here (nothing is fetched to check)
        derive.check_grad_assignment(value.meta, new._value.meta)
    self._runtime.update_grads(value, set_to=new._data_copy())
    if new._is_grad_of(value):
        value.grad_proxy = weakref.ref(new)
    else:
        _new_grad_proxy(self, value)


def _new_grad_proxy(tensor: Tensor, value: Value) -> Tensor:
    proxy = type(tensor)._grad_class._of(value)
    value.grad_proxy = weakref.ref(proxy)
    return proxy


def _warn_non_leaf_grad() -> None:
    warnings.warn(
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
        "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
        "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor.", UserWarning, stacklevel=3)
