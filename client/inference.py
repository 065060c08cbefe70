"""What the SDK can know of an op's result without asking the server: shape, dtype, requires_grad,
is_leaf and grad_fn name, following torch's rules.

`infer` returns one Meta per output, with None in the fields it cannot tell (the next flush fills them
from the server's ValueInfo), or raises WillFail when the op is bound to fail: the SDK then sends it at
once, so the server's own error surfaces at the statement that caused it, as in torch.
Ops without a rule here simply come back unknown: this module is an optimisation, never the authority.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np

from . import dtypes
from .catalogue import OpSpec
from .codec import is_python_scalar
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


def leaf_meta(shape: tuple[int, ...], dtype: DType, requires_grad: bool) -> Meta:
    return Meta(shape, dtype, requires_grad, True, "")


class WillFail(Exception):
    """The op cannot succeed (the server will say why)."""


Operand = Any  # a Meta (a tensor's) or a Python scalar


# ---------------------------------------------------------------- shapes

def broadcast(shapes: Sequence[tuple[int, ...]]) -> tuple[int, ...]:
    try:
        return tuple(int(n) for n in np.broadcast_shapes(*shapes))
    except ValueError:
        raise WillFail from None


def _dims(dim: Any, rank: int) -> tuple[int, ...]:
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    normal = []
    for d in dims:
        if not -max(rank, 1) <= d < max(rank, 1):
            raise WillFail
        normal.append(d % max(rank, 1))
    if len(set(normal)) != len(normal):
        raise WillFail
    return tuple(normal)


def _reduced(shape: tuple[int, ...], dim: Any, keepdim: bool) -> tuple[int, ...]:
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        return tuple(1 for _ in shape) if keepdim else ()
    axes = _dims(dim, len(shape))
    if not shape:
        return ()
    if keepdim:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _shape_rule_broadcast(tensors: list[Meta], attrs: dict) -> tuple[int, ...]:
    return broadcast([t.shape for t in tensors])  # type: ignore[misc]


def _shape_rule_same(tensors: list[Meta], attrs: dict) -> tuple[int, ...]:
    return tensors[0].shape  # type: ignore[return-value]


def _shape_rule_reduce(tensors: list[Meta], attrs: dict) -> tuple[int, ...]:
    return _reduced(tensors[0].shape, attrs.get("dim"), bool(attrs.get("keepdim", False)))  # type: ignore[arg-type]


def _shape_rule_full_reduce(tensors: list[Meta], attrs: dict) -> tuple[int, ...]:
    if 0 in tensors[0].shape:  # type: ignore[operator]
        raise WillFail  # max() of an empty tensor
    return ()


def _shape_rule_softmax(tensors: list[Meta], attrs: dict) -> tuple[int, ...]:
    _dims(attrs["dim"], len(tensors[0].shape))  # type: ignore[arg-type]
    return tensors[0].shape  # type: ignore[return-value]


def _shape_rule_matmul(tensors: list[Meta], attrs: dict) -> tuple[int, ...]:
    a, b = (t.shape for t in tensors)
    assert a is not None and b is not None
    if not a or not b:
        raise WillFail
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise WillFail
    batch = broadcast([a2[:-2], b2[:-2]])
    out = batch + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def _shape_rule_view(tensors: list[Meta], attrs: dict) -> tuple[int, ...]:
    shape = tensors[0].shape
    assert shape is not None
    wanted = attrs.get("shape")
    if wanted is None:
        raise LookupError
    wanted = (wanted,) if isinstance(wanted, int) else tuple(wanted)
    total = math.prod(shape)
    if wanted.count(-1) > 1 or any(n < -1 for n in wanted):
        raise WillFail
    if -1 in wanted:
        known = math.prod(n for n in wanted if n != -1)
        if known == 0 or total % known:
            raise WillFail
        wanted = tuple(total // known if n == -1 else n for n in wanted)
    if math.prod(wanted) != total:
        raise WillFail
    return wanted


def _shape_rule_transpose(tensors: list[Meta], attrs: dict) -> tuple[int, ...]:
    shape = list(tensors[0].shape)  # type: ignore[arg-type]
    if not shape:
        return ()
    i, j = _dims((attrs["dim0"], attrs["dim1"]), len(shape)) if attrs["dim0"] != attrs["dim1"] else (0, 0)
    shape[i], shape[j] = shape[j], shape[i]
    return tuple(shape)


def _shape_rule_permute(tensors: list[Meta], attrs: dict) -> tuple[int, ...]:
    shape = tensors[0].shape
    assert shape is not None
    order = _dims(attrs["dims"], len(shape))
    if len(order) != len(shape):
        raise WillFail
    return tuple(shape[i] for i in order)


def _shape_rule_unsqueeze(tensors: list[Meta], attrs: dict) -> tuple[int, ...]:
    shape = list(tensors[0].shape)  # type: ignore[arg-type]
    dim = attrs["dim"]
    if not -len(shape) - 1 <= dim <= len(shape):
        raise WillFail
    shape.insert(dim % (len(shape) + 1), 1)
    return tuple(shape)


def _shape_rule_squeeze(tensors: list[Meta], attrs: dict) -> tuple[int, ...]:
    shape = tensors[0].shape
    assert shape is not None
    dim = attrs.get("dim")
    if dim is None:
        return tuple(n for n in shape if n != 1)
    axes = _dims(dim, len(shape))
    return tuple(n for i, n in enumerate(shape) if not (i in axes and n == 1))


def _stack_like(tensors: list[Meta], attrs: dict, *, new_axis: bool) -> tuple[int, ...]:
    shapes = [t.shape for t in tensors]
    if not shapes:
        raise WillFail
    first = shapes[0]
    assert first is not None
    rank = len(first) + (1 if new_axis else 0)
    if rank == 0:
        raise WillFail
    dim = _dims(attrs.get("dim", 0) or 0, rank)[0]
    if new_axis:
        if any(s != first for s in shapes):
            raise WillFail
        return first[:dim] + (len(shapes),) + first[dim:]
    if any(len(s) != len(first) or s[:dim] + s[dim + 1:] != first[:dim] + first[dim + 1:] for s in shapes):  # type: ignore[arg-type]
        raise WillFail
    return first[:dim] + (sum(s[dim] for s in shapes),) + first[dim + 1:]  # type: ignore[index]


def _shape_rule_expand(tensors: list[Meta], attrs: dict) -> tuple[int, ...]:
    shape = tensors[0].shape
    assert shape is not None
    sizes = list(attrs["shape"])
    lead = len(sizes) - len(shape)
    if lead < 0 or any(n == -1 for n in sizes[:lead]):
        raise WillFail
    for i, n in enumerate(shape):
        if sizes[lead + i] == -1:
            sizes[lead + i] = n
        elif n != 1 and sizes[lead + i] != n:
            raise WillFail
    return tuple(sizes)


def _shape_rule_getitem(tensors: list[Meta], attrs: dict) -> tuple[int, ...]:
    """numpy's indexing rules are torch's for these items: index a zero-strided stand-in array."""
    index = attrs["index"]
    items = index if isinstance(index, tuple) else (index,)
    if any(isinstance(item, Meta) or hasattr(item, "_value") for item in items):
        raise LookupError  # a tensor of the graph: its values decide the shape
    stand_in = np.broadcast_to(np.zeros((), np.int8), tensors[0].shape)  # type: ignore[arg-type]
    items = tuple(np.asarray(item) if isinstance(item, list) else item for item in items)
    try:
        return tuple(stand_in[items].shape)
    except (IndexError, ValueError, TypeError):
        raise WillFail from None


def getitem_grad_fn(index: Any) -> str:
    """torch names the backward of an indexing expression after the last step it applied."""
    items = index if isinstance(index, tuple) else (index,)
    if any(isinstance(item, (list, np.ndarray)) for item in items):
        return "IndexBackward0"
    for item in reversed(items):
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            return "SelectBackward0"
        if item is None:
            return "UnsqueezeBackward0"
        if isinstance(item, slice) and item != slice(None):
            return "SliceBackward0"
    return "AliasBackward0"


# ---------------------------------------------------------------- dtypes

def _result_type(operands: Sequence[Operand], extra_scalars: Sequence[Any] = ()) -> DType:
    dimensioned = [m.dtype for m in operands if isinstance(m, Meta) and m.shape]
    zero_dim = [m.dtype for m in operands if isinstance(m, Meta) and not m.shape]
    scalars = [dtypes.scalar_dtype(s) for s in list(operands) + list(extra_scalars) if not isinstance(s, Meta)]
    return dtypes.result_type(dimensioned, zero_dim, scalars)


def _dtype_promote(operands: Sequence[Operand], attrs: dict) -> DType:
    return _result_type(operands, [attrs[k] for k in ("min", "max") if attrs.get(k) is not None])


def _dtype_promote_to_float(operands: Sequence[Operand], attrs: dict) -> DType:
    dtype = _result_type(operands)
    return dtype if dtype.is_floating_point else dtypes.DEFAULT_FLOAT


def _dtype_compare(operands: Sequence[Operand], attrs: dict) -> DType:
    return dtypes.bool_


def _dtype_unary_float(operands: Sequence[Operand], attrs: dict) -> DType:
    dtype = operands[0].dtype
    return dtype if dtype.is_floating_point else dtypes.DEFAULT_FLOAT


def _dtype_same(operands: Sequence[Operand], attrs: dict) -> DType:
    return operands[0].dtype


def _dtype_sum_like(operands: Sequence[Operand], attrs: dict) -> DType:
    dtype = operands[0].dtype
    return dtype if dtype.is_floating_point else dtypes.int64


def _dtype_floating_only(operands: Sequence[Operand], attrs: dict) -> DType:
    if not operands[0].dtype.is_floating_point:
        raise WillFail
    return operands[0].dtype


def _dtype_cast(operands: Sequence[Operand], attrs: dict) -> DType:
    return dtypes.as_dtype(attrs["dtype"])


def _dtype_where(operands: Sequence[Operand], attrs: dict) -> DType:
    condition = operands[0]
    if not isinstance(condition, Meta) or condition.dtype is not dtypes.bool_:
        raise WillFail
    return _result_type(operands[1:])


def _dtype_tensors(operands: Sequence[Operand], attrs: dict) -> DType:
    return dtypes.promote(*[m.dtype for m in operands if isinstance(m, Meta)])


def _dtype_matmul(operands: Sequence[Operand], attrs: dict) -> DType:
    a, b = operands
    if a.dtype is not b.dtype:
        raise WillFail  # torch's matmul does not promote
    return a.dtype


# ---------------------------------------------------------------- the table

ShapeRule = Callable[[list[Meta], dict], tuple[int, ...]]
DTypeRule = Callable[[Sequence[Operand], dict], DType]

_ELEMENTWISE_UNARY_FLOAT = ("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid")
_ELEMENTWISE_UNARY_SAME = ("neg", "abs", "sign", "relu", "clone", "detach")

RULES: dict[str, tuple[ShapeRule, DTypeRule]] = {
    **{name: (_shape_rule_broadcast, _dtype_promote) for name in ("add", "sub", "mul", "pow", "maximum", "minimum")},
    "div": (_shape_rule_broadcast, _dtype_promote_to_float),
    **{name: (_shape_rule_broadcast, _dtype_compare) for name in ("eq", "ne", "lt", "le", "gt", "ge", "logical_and")},
    "where": (_shape_rule_broadcast, _dtype_where),
    **{name: (_shape_rule_same, _dtype_unary_float) for name in _ELEMENTWISE_UNARY_FLOAT},
    **{name: (_shape_rule_same, _dtype_same) for name in _ELEMENTWISE_UNARY_SAME},
    "clamp": (_shape_rule_same, _dtype_promote),
    "to": (_shape_rule_same, _dtype_cast),
    "sum": (_shape_rule_reduce, _dtype_sum_like),
    "prod": (_shape_rule_reduce, _dtype_sum_like),
    "mean": (_shape_rule_reduce, _dtype_floating_only),
    "var": (_shape_rule_reduce, _dtype_floating_only),
    "softmax": (_shape_rule_softmax, _dtype_floating_only),
    "log_softmax": (_shape_rule_softmax, _dtype_floating_only),
    "max": (_shape_rule_full_reduce, _dtype_same),
    "min": (_shape_rule_full_reduce, _dtype_same),
    "matmul": (_shape_rule_matmul, _dtype_matmul),
    "reshape": (_shape_rule_view, _dtype_same),
    "expand": (_shape_rule_expand, _dtype_same),
    "getitem": (_shape_rule_getitem, _dtype_same),
    "transpose": (_shape_rule_transpose, _dtype_same),
    "permute": (_shape_rule_permute, _dtype_same),
    "unsqueeze": (_shape_rule_unsqueeze, _dtype_same),
    "squeeze": (_shape_rule_squeeze, _dtype_same),
    "cat": (lambda tensors, attrs: _stack_like(tensors, attrs, new_axis=False), _dtype_tensors),
    "stack": (lambda tensors, attrs: _stack_like(tensors, attrs, new_axis=True), _dtype_tensors),
}


def _variant_grad_fn(op: OpSpec, operands: Sequence[Operand], attrs: dict) -> str | None:
    """grad_fn names that depend on the call (the catalogue leaves them empty)."""
    scalar_first = not isinstance(operands[0], Meta)
    scalar_second = len(operands) > 1 and not isinstance(operands[1], Meta)
    if op.name == "sub":
        return "RsubBackward1" if scalar_first else "SubBackward0"
    if op.name == "div":
        return "MulBackward0" if scalar_first else "DivBackward0"
    if op.name == "pow":
        return "PowBackward2" if scalar_first else "PowBackward0" if scalar_second else "PowBackward1"
    if op.name in ("sum", "mean", "prod"):
        return f"{op.name.capitalize()}Backward{0 if attrs.get('dim') is None else 1}"
    if op.name == "getitem":
        return getitem_grad_fn(attrs["index"])
    if op.name == "matmul":
        a, b = (len(m.shape) for m in operands)
        return "DotBackward0" if a == b == 1 else "MmBackward0" if a == b == 2 else None
    return None


def infer(op: OpSpec, operands: Sequence[Operand], attrs: dict, grad_enabled: bool) -> list[Meta]:
    """The metadata of each output of a (non in-place) op; unknown fields stay None."""
    unknown = [Meta() for _ in range(op.outputs)]
    tensors = [m for m in operands if isinstance(m, Meta)]
    if any(m.shape is None or m.dtype is None for m in tensors):
        return unknown
    rule = RULES.get(op.name)
    if rule is None or op.outputs != 1:
        return unknown
    shape_rule, dtype_rule = rule
    try:
        shape = shape_rule(tensors, attrs)
        dtype = dtype_rule(operands, attrs)
    except (LookupError, TypeError):
        return unknown  # an attribute spelled differently than this table expects
    if any(m.requires_grad is None for m in tensors):
        return [Meta(shape, dtype)]
    requires_grad = (grad_enabled and op.differentiable and dtype.is_floating_point
                     and any(m.requires_grad for m in tensors))
    if not requires_grad:
        return [Meta(shape, dtype, False, True, "")]
    grad_fn = op.grad_fn or _variant_grad_fn(op, operands, attrs)
    return [Meta(shape, dtype, True, False, grad_fn)]


def infer_inplace(op: OpSpec, target: Meta, operands: Sequence[Operand], attrs: dict, grad_enabled: bool,
                  target_is_view_of_leaf: bool) -> Meta:
    """The target's metadata after an in-place op (setitem, zero_, requires_grad_)."""
    if op.name == "requires_grad_":
        flag = bool(attrs.get("requires_grad", True))
        if target.is_leaf is False or (flag and target.dtype is not None and not target.dtype.is_floating_point):
            raise WillFail
        return replace(target, requires_grad=flag if target.is_leaf else target.requires_grad)
    leaf_needing_grad = target.requires_grad and (target.is_leaf or target_is_view_of_leaf)
    if grad_enabled and leaf_needing_grad:
        raise WillFail  # a leaf that requires grad (or a view of one) used in an in-place op
    if op.name == "setitem" and len(operands) > 1:
        value = operands[1]
        value_requires_grad = isinstance(value, Meta) and value.requires_grad
        if isinstance(value, Meta) and value.requires_grad is None:
            return replace(target, requires_grad=None, is_leaf=None, grad_fn=None)
        if grad_enabled and (target.requires_grad or value_requires_grad):
            if target.dtype is not None and not target.dtype.is_floating_point:
                return target
            return replace(target, requires_grad=True, is_leaf=False, grad_fn=op.grad_fn or None)
        return target
    if grad_enabled and target.requires_grad:
        return replace(target, grad_fn=None)  # e.g. ZeroBackward0: the next flush tells
    return target


def operand_meta(value: Any, meta_of: Callable[[Any], Meta | None]) -> Operand:
    """A tensor operand's Meta, or the Python scalar itself."""
    meta = meta_of(value)
    if meta is not None:
        return meta
    if is_python_scalar(value):
        return value
    raise TypeError(f"expected a Tensor or a Python number, got {type(value).__name__}")
