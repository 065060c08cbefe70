"""Element types as the SDK sees them: torch's names, the wire enum, and torch's promotion rules.

The SDK cannot import the engine, so it keeps its own small mirror of the engine's dtypes. Promotion
(torch.result_type) is needed to know a result's dtype without asking the server.
"""

from __future__ import annotations

import numpy as np

from gradwire.v1 import gradwire_pb2 as pb


class DType:
    """A tensor element type; compares by identity and prints like torch (`gradwire.float32`)."""

    __slots__ = ("name", "numpy", "wire", "is_floating_point", "category", "itemsize")

    def __init__(self, name: str, numpy_dtype: type, wire: int) -> None:
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.wire = wire
        self.is_floating_point = self.numpy.kind == "f"
        # bool < integer < floating: the categories torch promotes across.
        self.category = {"b": 0, "i": 1, "u": 1, "f": 2}[self.numpy.kind]
        self.itemsize = self.numpy.itemsize

    def __repr__(self) -> str:
        return f"gradwire.{self.name}"

    __str__ = __repr__

    def __reduce__(self):  # copies keep identity
        return (by_name, (self.name,))


float16 = DType("float16", np.float16, pb.DTYPE_FLOAT16)
float32 = DType("float32", np.float32, pb.DTYPE_FLOAT32)
float64 = DType("float64", np.float64, pb.DTYPE_FLOAT64)
int8 = DType("int8", np.int8, pb.DTYPE_INT8)
uint8 = DType("uint8", np.uint8, pb.DTYPE_UINT8)
int16 = DType("int16", np.int16, pb.DTYPE_INT16)
int32 = DType("int32", np.int32, pb.DTYPE_INT32)
int64 = DType("int64", np.int64, pb.DTYPE_INT64)
bool_ = DType("bool", np.bool_, pb.DTYPE_BOOL)

ALL: tuple[DType, ...] = (float16, float32, float64, int8, uint8, int16, int32, int64, bool_)
# torch's other spellings, exposed as attributes of a Client too (torch.float, torch.long, ...).
ALIASES = {"half": float16, "float": float32, "double": float64, "int": int32, "long": int64, "bool": bool_,
           "short": int16}
_BY_NAME = {d.name: d for d in ALL} | ALIASES
_BY_NUMPY = {d.numpy: d for d in ALL}
_BY_WIRE = {d.wire: d for d in ALL}

# Tensor.type() strings, as torch prints them.
TYPE_NAMES = {float32: "torch.FloatTensor", float64: "torch.DoubleTensor", float16: "torch.HalfTensor",
              int64: "torch.LongTensor", int32: "torch.IntTensor", int16: "torch.ShortTensor",
              int8: "torch.CharTensor", uint8: "torch.ByteTensor", bool_: "torch.BoolTensor"}

DEFAULT_FLOAT = float32
DEFAULT_INT = int64


def by_name(name: str) -> DType:
    """The dtype called `name` ("float32", "int64", "bool", or torch's aliases "float", "long"...)."""
    found = _BY_NAME.get(name)
    if found is None:
        raise TypeError(f"unknown dtype {name!r}; expected one of {', '.join(d.name for d in ALL)}")
    return found


def from_numpy(numpy_dtype: np.dtype) -> DType:
    """The dtype of a numpy dtype; the ones torch has no tensor type for are refused like torch does."""
    found = _BY_NUMPY.get(np.dtype(numpy_dtype).newbyteorder("="))
    if found is None:
        raise TypeError(
            f"can't convert np.ndarray of type {np.dtype(numpy_dtype)}. The only supported types are: "
            + ", ".join(d.name for d in ALL)
        )
    return found


def from_wire(wire: int) -> DType:
    found = _BY_WIRE.get(wire)
    if found is None:
        raise ValueError(f"the server sent an unknown dtype enum {wire}")
    return found


def as_dtype(value: object) -> DType:
    """A DType from a DType, a name, or a numpy dtype (what `dtype=` arguments accept)."""
    if isinstance(value, DType):
        return value
    if isinstance(value, str):
        return by_name(value)
    try:
        return from_numpy(np.dtype(value))  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"dtype must be a gradwire dtype, got {value!r}") from None


def scalar_dtype(value: object) -> DType:
    """The dtype torch gives a Python scalar: bool, int64 or the default float."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (int, np.integer)):
        return DEFAULT_INT
    return DEFAULT_FLOAT


def promote(*dtypes: DType) -> DType:
    """torch.promote_types over several dtypes: across categories the higher category's type wins
    (int64 with float32 is float32, where numpy says float64); within one, the wider type."""
    result = dtypes[0]
    for other in dtypes[1:]:
        if other.category > result.category:
            result = other
        elif other.category == result.category and other is not result:
            result = _BY_NUMPY[np.promote_types(result.numpy, other.numpy)]
    return result


def _combine(higher: DType | None, lower: DType | None) -> DType | None:
    # c10's combine_categories: a lower-priority operand only matters when it is of a higher category.
    if higher is None:
        return lower
    if lower is None or higher.is_floating_point:
        return higher
    if higher is bool_ or lower.is_floating_point:
        return promote(higher, lower)
    return higher


def result_type(dimensioned: list[DType], zero_dim: list[DType], scalars: list[DType]) -> DType:
    """torch.result_type: tensors with dims outrank 0-dim tensors, which outrank Python scalars."""
    dim_result = promote(*dimensioned) if dimensioned else None
    zero_result = promote(*zero_dim) if zero_dim else None
    scalar_result = promote(*scalars) if scalars else None
    result = _combine(dim_result, _combine(zero_result, scalar_result))
    if result is None:
        raise ValueError("result_type needs at least one operand")
    return result
