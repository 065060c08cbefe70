"""Tensor methods, operators and module functions, generated from the op registry.

Nothing here knows an op's maths: each generated callable splits its Python arguments into operands
and attributes (OpDef.parse_call) and hands them to the dispatcher. The few overloads torch resolves by
argument (max(dim) vs max(), casts by method name, indexing) are spelled out at the end.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any, Callable

from gradwire.rules import arguments, dtypes
from gradwire.rules.inplace import inplace_call
from gradwire.rules.ops.searching import tuple_form
from gradwire.rules.errors import ArgumentError, InvalidArgumentRuntimeError, InvalidValueError, ShapeError
from gradwire.rules.indexing import normalise_index, resolve_ellipses

from .device import CPU, check_device, device
from .dispatch import apply, apply_op, apply_pieces
from .inplace import derive_all as derive_inplace_variants
from .registry import OPS, OpDef
from .tensor import Tensor, is_scalar

# torch.return_types.max / min
ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


_RETURN_TYPES: dict[str, type] = {}


def named_outputs(op: OpDef, result: Any) -> Any:
    """A multi-output op's tuple as torch's named tuple (torch.return_types.sort: values, indices)."""
    if not op.output_names:
        return result
    if op.name not in _RETURN_TYPES:
        _RETURN_TYPES[op.name] = namedtuple(op.name.removesuffix("_dim"), op.output_names)  # type: ignore[misc]
    return _RETURN_TYPES[op.name](*result)


def _cast_first(op: OpDef, operands: list, attrs: dict) -> None:
    """softmax(x, dim, dtype=...): x.to(dtype) first, as torch records it; add(a, b, alpha=...): b * alpha."""
    dtype = arguments.take_cast_first(op.name, attrs)
    if dtype is not None and operands and isinstance(operands[0], Tensor):
        operands[0] = _to(operands[0], dtype)
    if "alpha" in attrs and len(operands) == 2:
        alpha = arguments.take_alpha(op.name, [x.dtype if isinstance(x, Tensor) else None for x in operands], attrs)
        if alpha is not None:
            operands[1] = operands[1] * alpha


def _tuple_form(op: OpDef, operands: list, attrs: dict) -> OpDef:
    """where(condition) and nonzero(x, as_tuple=True) run nonzero_tuple (rules.ops.searching.tuple_form)."""
    routed = tuple_form(op.name, operands, attrs)
    return op if routed is None else OPS[routed]


def _method(op: OpDef) -> Callable[..., Any]:
    # x.op() with no arguments: for these ops parse_call gives ([x], {}), and there is nothing to cast first
    bare_call = op.parse is None and not op.signature and op.max_inputs >= 1 and not op.operand_attrs

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        if bare_call and not args and not kwargs:
            return named_outputs(op, apply_pieces(op, [self], {}))
        operands, attrs = op.parse_call((self, *args), kwargs)
        _cast_first(op, operands, attrs)
        return named_outputs(op, apply_pieces(_tuple_form(op, operands, attrs), operands, attrs))

    method.__name__ = op.name
    method.__doc__ = op.summary
    return method


def _function(op: OpDef, spelling: str) -> Callable[..., Any]:
    def function(*args: Any, **kwargs: Any) -> Any:
        operands, attrs = op.parse_call(args, kwargs)
        arguments.fill_implicit_dim(spelling, operands, attrs)  # F.softmax(x): torch's legacy dim
        _cast_first(op, operands, attrs)
        if attrs.get("return_indices") and op.name + "_with_indices" in OPS:  # max_pool2d(..., return_indices=True)
            return apply_op(OPS[op.name + "_with_indices"], operands, attrs)
        inplace = inplace_call(op, attrs)  # F.elu(x, inplace=True) is elu_
        if inplace == "" and operands and isinstance(operands[0], Tensor):
            return operands[0]
        if inplace:
            return apply_op(OPS[inplace], operands, attrs)
        return named_outputs(op, apply_pieces(_tuple_form(op, operands, attrs), operands, attrs))

    function.__name__ = op.name
    function.__doc__ = op.summary
    return function


def _operator(op: OpDef, reflected: bool) -> Callable[..., Any]:
    def operator(self: Tensor, other: Any) -> Any:
        if not isinstance(other, Tensor) and not is_scalar(other):
            return NotImplemented
        return apply_op(op, [other, self] if reflected else [self, other], {})

    return operator


def _unary_operator(op: OpDef) -> Callable[..., Any]:
    return lambda self: apply_op(op, [self], {})


# Every module function by its full spelling ("exp", "nn.functional.relu6"), filled by install().
FUNCTIONS: dict[str, Callable[..., Any]] = {}


def namespace_functions(namespace: str) -> dict[str, Callable[..., Any]]:
    """The functions of one namespace ("nn.functional", "linalg"), by their short names."""
    prefix = namespace + "."
    return {name[len(prefix):]: function for name, function in FUNCTIONS.items()
            if name.startswith(prefix) and "." not in name[len(prefix):]}


def install() -> dict[str, Callable[..., Any]]:
    """Attach every op's methods and operators to Tensor; return the top-level module functions.

    Dotted function names ("linalg.inv") are kept in FUNCTIONS for their namespace modules.
    """
    derive_inplace_variants()
    functions: dict[str, Callable[..., Any]] = {}
    for op in OPS.values():
        for name in op.methods:
            setattr(Tensor, name, _method(op))
        for name in op.functions:
            functions[name] = _function(op, name)
        for name in op.operators:
            setattr(Tensor, name, _operator(op, False) if op.max_inputs == 2 else _unary_operator(op))
        for name in op.reflected_operators:
            setattr(Tensor, name, _operator(op, True))
    for name, overload in _OVERLOADED_METHODS.items():
        setattr(Tensor, name, overload)
    for name, prop in _PROPERTIES.items():
        setattr(Tensor, name, prop)
    functions.update(max=_max, min=_min, abs=functions["abs"], median=_median, allclose=_allclose)
    functions["equal"] = _equal
    FUNCTIONS.clear()
    FUNCTIONS.update(functions)
    return {name: function for name, function in functions.items() if "." not in name}


# ---------------------------------------------------------------- overloads resolved by argument
def _extreme(name: str, pairwise: str) -> Callable[..., Any]:
    def extreme(self: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Any:
        dim = _dim_or_axis(name, dim, axis)
        if isinstance(dim, Tensor):
            return apply(pairwise, [self, dim])
        if dim is None:
            return apply(name, [self])
        values, indices = apply(f"{name}_dim", [self], {"dim": dim, "keepdim": keepdim})
        return ValuesIndices(values, indices)

    extreme.__name__ = name
    return extreme


def _allclose(self: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """torch.allclose: a Python bool (isclose everywhere)."""
    close = apply("isclose", [self, other], {"rtol": rtol, "atol": atol, "equal_nan": equal_nan})
    return bool(close.all())  # (through Tensor.__bool__: a function being compiled reads a value here)


def _equal(self: Tensor, other: Tensor) -> bool:
    """torch.equal: a Python bool, True for the same shape and equal values (no broadcasting)."""
    if not isinstance(other, Tensor):
        raise ArgumentError(f"equal(): argument 'other' must be a Tensor, not {type(other).__name__}")
    return tuple(self.shape) == tuple(other.shape) and bool(apply("eq", [self, other])._data.all())


_max = _extreme("max", "maximum")
_min = _extreme("min", "minimum")


def _dim_or_axis(name: str, dim: Any, axis: Any) -> Any:
    """torch takes numpy's `axis` for `dim`."""
    if axis is not None and dim is not None:
        raise ArgumentError(f"{name}() got multiple values for argument 'dim' (dim and axis)")
    return dim if axis is None else axis


def _median(self: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Any:
    dim = _dim_or_axis("median", dim, axis)
    if dim is None:
        return apply("median", [self])
    return named_outputs(OPS["median_dim"], apply("median_dim", [self], {"dim": dim, "keepdim": keepdim}))


def _to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """to(dtype), to(device), to(device, dtype), to(tensor), to(dtype=..., device=...) (rules.arguments)."""
    check_device(kwargs.get("device"))
    for arg in args:
        if isinstance(arg, device) or (isinstance(arg, str) and arg.partition(":")[0] == "cpu"):
            check_device(arg)
    target = arguments.cast_target(args, kwargs, is_tensor=lambda x: isinstance(x, Tensor),
                                   dtype_of=lambda x: x.dtype, is_device=lambda x: isinstance(x, device))
    return self if target is None or target is self.dtype else apply("to", [self], {"dtype": target})


def _cast_to(dtype: dtypes.DType) -> Callable[[Tensor], Tensor]:
    return lambda self: _to(self, dtype)


def _type(self: Tensor, dtype: Any = None) -> Any:
    """x.type() is torch's type string ("torch.FloatTensor"); x.type(dtype or such a string) casts."""
    if dtype is None:
        return dtypes.type_string(self.dtype)
    if not isinstance(dtype, dtypes.DType):
        found = dtypes.by_type_string(dtype) if isinstance(dtype, str) else None
        if found is None:
            name = f"{dtype.__module__}.{dtype.__name__}" if isinstance(dtype, type) else str(dtype)
            raise InvalidValueError(f"invalid type: {name!r}; use a torch dtype or a name like 'torch.FloatTensor'")
        dtype = found
    return _to(self, dtype)


def _random(name: str) -> Callable[..., Any]:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        from . import random_factories

        return getattr(random_factories, name)(self, *args, **kwargs)

    method.__name__ = name
    return method


def _new(kind: str) -> Callable[..., Any]:
    """x.new_zeros(size), new_ones, new_empty, new_full(size, value), new_tensor(data): a new leaf of x's
    dtype (unless dtype= says otherwise)."""
    def method(self: Tensor, *args: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
               **options: Any) -> Tensor:
        from . import factories

        make = getattr(factories, kind)
        return make(*args, dtype=self.dtype if dtype is None else dtype, device=device, requires_grad=requires_grad,
                    **options)

    method.__name__ = f"new_{kind}"
    return method


def _getitem(self: Tensor, index: Any) -> Tensor:
    if type(index) is int:  # x[i]: (i,) is what normalise_index and normalise_attrs would make of it
        return apply_op(OPS["getitem"], [self], {"index": (index,)}, normalised=True)
    return apply("getitem", [self], {"index": resolve_ellipses(normalise_index(index), self.ndim)})


def _setitem(self: Tensor, index: Any, value: Any) -> None:
    if type(index) is int:  # x[i] = v (as _getitem)
        apply_op(OPS["setitem"], [self, value], {"index": (index,)}, normalised=True)
        return
    apply("setitem", [self, value], {"index": resolve_ellipses(normalise_index(index), self.ndim)})


def _transpose_last(self: Tensor) -> Tensor:
    if self.ndim < 2:
        raise ShapeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self.ndim}-D tensor.")
    return apply("transpose", [self], {"dim0": -2, "dim1": -1})


def _reverse_dims(self: Tensor) -> Tensor:
    return apply("permute", [self], {"dims": tuple(reversed(range(self.ndim)))})


_OVERLOADED_METHODS: dict[str, Callable[..., Any]] = {
    "max": _max, "min": _min, "median": _median, "to": _to, "__getitem__": _getitem, "__setitem__": _setitem,
    **{name: _cast_to(dtype) for name, dtype in dtypes.CAST_METHODS.items()},
    "__abs__": lambda self: apply("abs", [self]),
    "contiguous": lambda self: self, "type_as": lambda self, other: _to(self, other.dtype),
    "is_contiguous": lambda self, memory_format=None: True, "element_size": lambda self: self.dtype.itemsize,
    "where": lambda self, condition, other: apply("where", [condition, self, other]),  # x.where(cond, y)
    **{f"new_{kind}": _new(kind) for kind in ("zeros", "ones", "empty", "full", "tensor")},
    "allclose": _allclose, "cpu": lambda self: self, "type": _type, "bernoulli": _random("bernoulli"), "multinomial": _random("multinomial"),
}
_OVERLOADED_METHODS["equal"] = _equal
_PROPERTIES = {"T": property(_reverse_dims), "mT": property(_transpose_last), "device": property(lambda self: CPU),
               "is_cuda": property(lambda self: False)}
