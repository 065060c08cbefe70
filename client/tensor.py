"""The SDK's Tensor: a lazy proxy for a value in a server session, shaped like torch.Tensor.

Ops are not written here: methods, operators and module functions are looked up in the server's op
catalogue by their Python spelling. What is here is the non-op API (metadata, values, autograd
state, backward), the few overloads torch resolves by argument (max(dim), casts, indexing), and the
.grad proxy: `x.grad` is a Tensor whose data is the server's accumulated gradient of x.
"""

from __future__ import annotations

import warnings
import weakref
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from . import dtypes, operators
from .formatting import format_tensor
from gradwire.rules.printing import Size

if TYPE_CHECKING:
    from .runtime import Runtime
    from .session import Session, Value


class GradFn:
    """What `tensor.grad_fn` returns: the name of the backward function (`name()`)."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<{self._name.rsplit('::', 1)[-1]} object at {id(self):#x}>"  # as torch prints a grad_fn


class Tensor:
    """A tensor of a gradwire session; each Client has its own subclass (client.Tensor)."""

    __slots__ = ("_value", "_grad_of", "_grad_version", "__weakref__")
    _runtime: Runtime  # set on each Client's subclass

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
    def _wrap(cls, value: Value | None, grad_of: Value | None = None) -> Tensor:
        tensor = object.__new__(cls)
        tensor._value = value  # type: ignore[assignment]
        tensor._grad_of = grad_of
        tensor._grad_version = -1
        return tensor

    def _graph_value(self, session: Session) -> Value:
        """The Value to reference in a node: for a .grad proxy, a leaf holding the grad's current data."""
        if self._grad_of is None:
            return self._value
        owner = self._grad_of
        if self._value is None or self._grad_version != owner.grad.version:
            # A `grad` node reads it on the server (no data moves); without the op, a leaf of its data.
            value = self._runtime.grad_value(owner)
            self._value = value if value is not None else self._runtime.leaf(self._grad_array())._value
            self._grad_version = owner.grad.version
        return self._value

    def _grad_array(self) -> np.ndarray:
        owner = self._grad_of
        assert owner is not None
        owner.session.read_grad(owner)
        if owner.grad.array is None:
            raise RuntimeError("this .grad was set to None since it was read")
        return owner.grad.array

    # ------------------------------------------------------------------ metadata
    def _meta(self, field: str) -> Any:
        if self._grad_of is None:
            return self._runtime.meta_of(self, field)
        # A .grad: the owner's shape and dtype; a leaf that does not require grad.
        if field in ("shape", "dtype"):
            return self._runtime.meta_of(self._runtime.wrap(self._grad_of), field)
        return {"requires_grad": False, "is_leaf": True, "grad_fn": ""}[field]

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
        if self._grad_of is not None or self._meta("is_leaf"):
            return None
        return GradFn(self._meta("grad_fn"))

    # ------------------------------------------------------------------ requires_grad
    @property
    def requires_grad(self) -> bool:
        return bool(self._meta("requires_grad"))

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self._grad_of is not None:
            raise NotImplementedError("requires_grad on a .grad tensor: detach() it into a new tensor first")
        op = self._runtime.catalogue.op("requires_grad_")
        return self._runtime.apply(op, [self], {"requires_grad": bool(requires_grad)})

    # ------------------------------------------------------------------ grad
    @property
    def grad(self) -> Tensor | None:
        if self._grad_of is not None:
            return None
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
        return proxy if proxy is not None else self._new_grad_proxy(value)

    def _new_grad_proxy(self, value: Value) -> Tensor:
        proxy = type(self)._wrap(None, grad_of=value)
        value.grad_proxy = weakref.ref(proxy)
        return proxy

    @grad.setter
    def grad(self, new: Tensor | None) -> None:
        value = self._value
        value.check_usable()
        if new is None:
            if value.sent and not (value.grad.known and value.grad.array is None):
                self._runtime.zero_grad(value, set_to_none=True)
            value.grad_proxy = None
            return
        if not isinstance(new, Tensor):
            raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(new).__name__}")
        self._runtime.update_grads(value, set_to=new._data_copy())
        if new._grad_of is value:
            value.grad_proxy = weakref.ref(new)
        else:
            self._new_grad_proxy(value)

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
        return self._grad_of is None and self._value in self._value.session.retaining_grad

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

    def _array(self) -> np.ndarray:
        return self._grad_array() if self._grad_of is not None else self._runtime.array_of(self)

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
        if self._grad_of is not None:
            return runtime.leaf(np.array(self._grad_array()))
        op = runtime.catalogue.ops.get("detach")
        if op is not None:
            return runtime.apply(op, [self], {})
        with operators.grad_mode(runtime, False):
            return runtime.apply(runtime.catalogue.op("clone"), [self], {})

    # ------------------------------------------------------------------ overloads torch resolves by argument
    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        target = kwargs.pop("dtype", None)
        for arg in args:
            if isinstance(arg, (dtypes.DType, str)) and arg != "cpu":
                target = arg
            elif isinstance(arg, Tensor):
                target = arg.dtype
        if target is None:
            return self
        dtype = dtypes.as_dtype(target)
        if dtype is self.dtype:
            return self
        return self._runtime.apply(self._runtime.catalogue.op("to"), [self], {"dtype": dtype})

    def cpu(self) -> Tensor:
        """Tensors live on the server's CPU: torch code's `.cpu()` is a no-op here."""
        return self

    def contiguous(self) -> Tensor:
        return self

    @property
    def device(self) -> str:
        return "cpu"

    def type(self, dtype: Any = None) -> Any:
        """torch's type string ("torch.FloatTensor"), or a cast to `dtype` (a dtype or such a string)."""
        if dtype is None:
            return dtypes.TYPE_NAMES[self.dtype]
        if isinstance(dtype, str) and dtype.startswith("torch."):
            dtype = {name: d for d, name in dtypes.TYPE_NAMES.items()}[dtype]
        return self.to(dtype)

    def max(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Any:
        return operators.extreme(self._runtime, "max", "maximum", self, dim if axis is None else axis, keepdim)

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Any:
        return operators.extreme(self._runtime, "min", "minimum", self, dim if axis is None else axis, keepdim)

    def t(self) -> Tensor:
        op = self._runtime.catalogue.methods.get("t")
        if op is not None:
            return self._runtime.apply(op, [self], {})
        return self if self.ndim < 2 else self._call_op("transpose", dim0=0, dim1=1)

    @property
    def T(self) -> Tensor:
        return self._call_op("permute", dims=tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> Tensor:
        return self._call_op("transpose", dim0=-2, dim1=-1)

    def zero_(self) -> Tensor:
        if self._grad_of is not None:
            self._runtime.zero_grad(self._grad_of, set_to_none=False)
            return self
        return self._call_op("zero_")

    def __getitem__(self, index: Any) -> Tensor:
        if self._grad_of is not None:
            return self.detach()[index]
        return self._call_op("getitem", index=_as_index(index))

    def __setitem__(self, index: Any, value: Any) -> None:
        if self._grad_of is not None:
            updated = np.array(self._grad_array())
            updated[index] = value._data_copy() if isinstance(value, Tensor) else value
            self._runtime.update_grads(self._grad_of, set_to=updated)
            return
        if not isinstance(value, Tensor) and not np.isscalar(value):
            value = self._runtime.leaf(np.asarray(value, dtype=self.dtype.numpy))
        op = self._runtime.catalogue.op("setitem")
        self._runtime.apply(op, [self, value], {"index": _as_index(index)})

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
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.is_floating_point:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __format__(self, spec: str) -> str:
        return format(self.item(), spec) if spec and self.numel() == 1 else repr(self)

    def __repr__(self) -> str:
        return format_tensor(self)

    __str__ = __repr__


def _warn_non_leaf_grad() -> None:
    warnings.warn(
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
        "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
        "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor.", UserWarning, stacklevel=3)


def _as_index(index: Any) -> tuple:
    return index if isinstance(index, tuple) else (index,)


# Operators, casts and overloads are attached here, from operators.py.
operators.install(Tensor)
