"""The SDK's Tensor: a lazy proxy for a value in a server session, shaped like torch.Tensor.

Ops are not written here: methods are looked up in the server's op catalogue by their Python
spelling, and operators, casts, torch's overloads resolved by argument and the `.grad` property are
attached from one table (methods.py). What is here is the non-op API: metadata, values, autograd
state and backward. `x.grad` is another kind of tensor (grad.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from gradwire.rules import arguments
from gradwire.rules.printing import Size, tensor_repr

from . import dtypes, operators
from .errors import checked

if TYPE_CHECKING:
    from .runtime import Runtime
    from .session import Value


class GradFn:
    """What `tensor.grad_fn` returns: the name of the backward function (`name()`)."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<{self._name.rsplit('::', 1)[-1]} object at {id(self):#x}>"  # as torch prints a grad_fn


class _TensorClass(type):
    """Catalogue methods read from the class too (`Tensor.sum(x)`, `hasattr(torch.Tensor, "add_")`)."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        op = cls._runtime.catalogue.methods.get(name)
        if op is None:
            raise AttributeError(f"type object 'Tensor' has no attribute {name!r} (not in the server's op catalogue)")

        def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
            return operators.bound_method(self, op)(*args, **kwargs)

        method.__name__ = name
        method.__doc__ = op.summary
        return method


class Tensor(metaclass=_TensorClass):
    """A tensor of a gradwire session; each Client has its own subclass (client.Tensor).

    The methods here read a value of the session; the .grad proxy (grad.py) overrides the hooks
    `_graph_value`, `_meta`, `_array`, `_copy_for_update` and `_after_inplace` to read its owner's grad.
    """

    __slots__ = ("_value", "__weakref__")
    _runtime: Runtime  # set on each Client's subclass
    _grad_class: type  # the Client's .grad proxy class (grad.GradTensor under its Tensor)

    def __new__(cls, *args: Any) -> Tensor:
        """torch.Tensor(data) is float32; torch.Tensor(2, 3) is a 2x3 tensor (of zeros here)."""
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            source = args[0]
            data = source._data_copy() if isinstance(source, Tensor) else source
            array = np.array(data, dtype=np.float32)
        else:
            array = np.zeros(tuple(int(n) for n in args), dtype=np.float32)
        return cls._runtime.leaf(array)

    @classmethod
    def _wrap(cls, value: Value) -> Tensor:
        tensor = object.__new__(cls)
        tensor._value = value
        return tensor

    # ------------------------------------------------------------------ hooks a .grad proxy overrides
    def _graph_value(self) -> Value:
        """The Value to reference in a node."""
        return self._value

    def _meta(self, field: str) -> Any:
        return self._runtime.meta_of(self._value, field)

    def _array(self) -> np.ndarray:
        return self._runtime.array_of(self._value)

    def _copy_for_update(self) -> Tensor:
        """What `x op= y` computes on when the server has no in-place op: a copy, so the op's saved
        values do not see the assignment's version bump."""
        runtime = self._runtime
        return runtime.apply(runtime.catalogue.op("clone"), [self], {})

    def _after_inplace(self) -> None:
        """Called after an in-place op on this tensor was recorded."""

    def _is_grad_of(self, value: Value) -> bool:
        return False

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> Size:
        return Size(self._meta("shape"))

    def size(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self.shape[dim]

    @property
    def dtype(self) -> dtypes.DType:
        return self._meta("dtype")

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.numel() * self.dtype.itemsize

    def element_size(self) -> int:
        return self.dtype.itemsize

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    @property
    def is_leaf(self) -> bool:
        return bool(self._meta("is_leaf"))

    @property
    def grad_fn(self) -> GradFn | None:
        if self._meta("is_leaf"):
            return None
        return GradFn(self._meta("grad_fn"))

    # ------------------------------------------------------------------ autograd state
    @property
    def requires_grad(self) -> bool:
        return bool(self._meta("requires_grad"))

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        op = self._runtime.catalogue.op("requires_grad_")
        return self._runtime.apply(op, [self], {"requires_grad": bool(requires_grad)})

    def retain_grad(self) -> None:
        """Backward will fill this non-leaf's .grad too (a no-op on a leaf that requires grad)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.is_leaf:
            return
        op = self._runtime.catalogue.ops.get("retain_grad")
        if op is not None:
            self._runtime.apply(op, [self], {})
        self._value.session.retaining_grad.add(self._value)

    @property
    def retains_grad(self) -> bool:
        return self._value in self._value.session.retaining_grad

    def backward(self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
                 inputs: Any = None) -> None:
        self._runtime.backward([self], None if gradient is None else [gradient], retain_graph, create_graph,
                               inputs)

    # ------------------------------------------------------------------ data
    def numpy(self) -> np.ndarray:
        """A copy of the data (a remote tensor cannot share memory with a local array)."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return np.array(self._array())

    def _data_copy(self) -> np.ndarray:
        """The data, whether or not it requires grad (what torch reads through .detach())."""
        return np.array(self._array())

    def tolist(self) -> Any:
        return self._array().tolist()

    def item(self) -> Any:
        array = self._array()
        if array.size != 1:
            raise RuntimeError(f"a Tensor with {array.size} elements cannot be converted to Scalar")
        return array.reshape(()).item()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = np.array(self._array())
        return array if dtype is None else array.astype(dtype)

    @property
    def data(self) -> Tensor:
        return self.detach()

    @data.setter
    def data(self, new: Any) -> None:
        """x.data = y: x keeps its identity and autograd state and takes y's values (w.data -= lr * w.grad)."""
        runtime = self._runtime
        with operators.grad_mode(runtime, False):
            self[...] = new

    def detach(self) -> Tensor:
        """The same values without autograd history (a copy on the server unless it has a 'detach' op)."""
        runtime = self._runtime
        op = runtime.catalogue.ops.get("detach")
        if op is not None:
            return runtime.apply(op, [self], {})
        with operators.grad_mode(runtime, False):
            return runtime.apply(runtime.catalogue.op("clone"), [self], {})

    def _call_op(self, name: str, *operands: Any, **attrs: Any) -> Any:
        runtime = self._runtime
        return runtime.apply(runtime.catalogue.op(name), [self, *operands], attrs)

    # ------------------------------------------------------------------ catalogue methods
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        op = type(self)._runtime.catalogue.methods.get(name)
        if op is None:
            raise AttributeError(f"'Tensor' object has no attribute {name!r} (not in the server's op catalogue)")
        return operators.bound_method(self, op)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(type(self)._runtime.catalogue.methods))

    # ------------------------------------------------------------------ Python protocols
    def __hash__(self) -> int:
        return id(self)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __float__(self) -> float:
        checked(arguments.check_python_number, self.numel())
        return float(self.item())

    def __int__(self) -> int:
        checked(arguments.check_python_number, self.numel())
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.is_floating_point:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __format__(self, spec: str) -> str:
        return format(self.item(), spec) if spec and self.numel() == 1 else repr(self)

    def __repr__(self) -> str:
        grad_fn = self.grad_fn
        return tensor_repr(self._array(), self.dtype, grad_fn.name() if grad_fn is not None else None,
                           self.requires_grad)

    __str__ = __repr__
