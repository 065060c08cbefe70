"""The Tensor: a numpy array plus what autograd needs (requires_grad, grad, grad_fn, version counter).

Ops are not defined here: methods and operators are attached from the op registry (methods.py), so
this class holds only state and the non-op API (backward, grad, requires_grad, conversion). What views
share and how versions move is views.py's business.
"""

from __future__ import annotations

import warnings
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from gradwire.rules import arguments, autograd_checks, dtypes
from gradwire.rules.errors import ArgumentError, AutogradError, DTypeRuntimeError, InvalidArgumentRuntimeError, InvalidValueError
from gradwire.rules.printing import Size, tensor_repr

from . import modes
from .views import share_version, sync_view

if TYPE_CHECKING:
    from .graph import AccumulateGrad


from gradwire.rules.results import is_scalar  # noqa: E402,F401  (the engine's op modules import it from here)

_DTYPE_OF_NUMPY = {dtype.numpy: dtype for dtype in dtypes.ALL}


class Tensor:
    """A multi-dimensional array that can take part in autograd, shaped like torch.Tensor."""

    __slots__ = (
        "_data", "_dtype", "_requires_grad", "grad_fn", "_grad", "_version_box", "_base", "_view_version", "_view_origin",
        "_retains_grad",
        "_accumulator", "__weakref__",
    )

    def __init__(self, *args: Any) -> None:
        """torch.Tensor(data) is always float32; torch.Tensor(2, 3) is an (uninitialised) 2x3 tensor."""
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            data = args[0]
            array = np.array(data._data if isinstance(data, Tensor) else data, dtype=np.float32)
        else:
            array = np.zeros(tuple(int(n) for n in args), dtype=np.float32)
        self._init(array)
        _traced_make(self, "Tensor(...)")

    @classmethod
    def _from_array(cls, array: np.ndarray) -> Tensor:
        tensor = cls.__new__(cls)
        tensor._init(array)
        return tensor

    def _init(self, array: np.ndarray) -> None:
        # refuses unsupported dtypes early (from_numpy names them; the lookup first is its fast path)
        self._dtype = _DTYPE_OF_NUMPY.get(array.dtype) or dtypes.from_numpy(array.dtype)
        self._data = array
        self._requires_grad = False
        self.grad_fn = None
        self._grad: Tensor | None = None
        # A fresh version counter (made when first used: see _version) and no base; views.py shares them
        # between views of the same memory.
        self._version_box = None
        self._base: Tensor | None = None
        self._view_version = 0
        self._view_origin: str | None = None
        self._retains_grad = False
        self._accumulator: weakref.ref[AccumulateGrad] | None = None

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self.shape[dim]

    @property
    def dtype(self) -> dtypes.DType:
        return self._dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def _version(self) -> list:
        """The version counter, a one-item list shared by the tensors of one memory (views.py). It is made
        on first use: most tensors are never written in place nor shared, and a list each would be one
        more long-lived object per graph node for Python's cycle collector to walk (a missing counter
        reads as version 0)."""
        box = self._version_box
        if box is None:
            box = self._version_box = [0]
        return box

    @_version.setter
    def _version(self, box: list) -> None:
        self._version_box = box

    @property
    def _version_number(self) -> int:
        return self._version[0]

    # ------------------------------------------------------------------ requires_grad
    @property
    def requires_grad(self) -> bool:
        sync_view(self)
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        flag = bool(requires_grad)
        tracer = modes._state.tracer
        if tracer is not None and tracer.knows(self):
            tracer.break_trace("it changes requires_grad of a tensor it uses")
        autograd_checks.check_requires_grad(flag, is_leaf=self.grad_fn is None, dtype=self._dtype)
        self._requires_grad = flag
        return self

    # ------------------------------------------------------------------ grad
    @property
    def grad(self) -> Tensor | None:
        _traced_read("it reads a tensor's .grad")  # (a later call may find another grad there)
        if self.grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
                "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
                "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor.",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise autograd_checks.not_a_tensor_grad(value)
            autograd_checks.check_grad_assignment(shape=self._data.shape, dtype=self._dtype,
                                                  grad_shape=value._data.shape, grad_dtype=value._dtype)
        self._grad = value

    def retain_grad(self) -> None:
        _traced_read("it calls retain_grad()")
        if self.grad_fn is None:
            if not self._requires_grad:
                raise AutogradError("can't retain_grad on Tensor that has requires_grad=False")
            return  # leaves always keep their grad
        if self._retains_grad:
            return
        self._retains_grad = True
        retained = self.grad_fn.retained_tensors
        if retained is None:
            retained = self.grad_fn.retained_tensors = []
        retained.append(weakref.ref(self))

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        from .autograd import backward

        backward(self, None if gradient is None else [gradient], retain_graph, create_graph, inputs)

    # ------------------------------------------------------------------ data access
    @property
    def data(self) -> Tensor:
        """The same values, detached from the graph (shares memory, as in torch)."""
        return self.detach()

    @data.setter
    def data(self, value: Tensor) -> None:
        _traced_read("it assigns a tensor's .data")
        self._data, self._dtype = value._data, value._dtype

    def detach(self) -> Tensor:
        out = Tensor._from_array(self._data)
        share_version(out, self)
        _traced_make(out, "detach() or .data")
        return out

    def numpy(self) -> np.ndarray:
        _traced_read("numpy()")
        if self._requires_grad:
            raise AutogradError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._data

    def tolist(self) -> Any:
        _traced_read("tolist()")
        return self._data.tolist()

    def item(self) -> Any:
        _traced_read("item()")
        arguments.check_item(self._data.size)
        return self._data.reshape(()).item()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        _traced_read("np.asarray()")
        return self._data if dtype is None else self._data.astype(dtype)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        _traced_read("bool()")
        if self._data.size != 1:
            raise AutogradError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()))

    def __float__(self) -> float:
        _traced_read("float()")
        return float(self._scalar())

    def __int__(self) -> int:
        _traced_read("int()")
        return int(self._scalar())

    def _scalar(self) -> Any:
        """float(t) and int(t): torch's ValueError for many elements (item() says RuntimeError)."""
        arguments.check_python_number(self._data.size)
        return self.item()

    def __index__(self) -> int:
        _traced_read("__index__")
        if self.dtype.is_floating_point or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        _traced_read("printing")
        return tensor_repr(self._data, self._dtype, self.grad_fn.name() if self.grad_fn is not None else None,
                           self._requires_grad)


def _traced_read(what: str) -> None:
    """A function being compiled (compiled.py) that reads values or changes a tensor cannot be replayed."""
    tracer = modes._state.tracer
    if tracer is not None:
        tracer.break_trace(what if " " in what else f"it reads a tensor's values ({what})")


def _traced_make(tensor: Tensor, how: str) -> None:
    """A tensor made outside the op table while a function is being compiled cannot be replayed."""
    tracer = modes._state.tracer
    if tracer is not None:
        tracer.unusable_tensor(tensor, how)
