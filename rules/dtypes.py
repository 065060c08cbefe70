"""Element types named as in PyTorch, and torch's type-promotion rules (torch.result_type).

numpy's promotion differs from torch's (f32 + i64 is f64 in numpy, f32 in torch; a 0-dim f64 tensor
upcasts a f32 array in numpy, not in torch), so every op asks this module for its result dtype and casts
its inputs before calling numpy.
"""

from __future__ import annotations

import numpy as np


class DType:
    """A tensor element type; compares by identity, prints like torch (`gradwire.float32`)."""

    __slots__ = ("name", "numpy", "is_floating_point", "category", "itemsize")

    def __init__(self, name: str, numpy_dtype: type) -> None:
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.is_floating_point = self.numpy.kind == "f"
        # bool < integer < floating: the categories torch promotes across.
        self.category = {"b": 0, "i": 1, "u": 1, "f": 2}[self.numpy.kind]
        self.itemsize = self.numpy.itemsize

    def __repr__(self) -> str:
        return f"gradwire.{self.name}"

    __str__ = __repr__

    def __reduce__(self):  # pickled by name, so identity survives copy/deepcopy
        return (by_name, (self.name,))


float16 = DType("float16", np.float16)
float32 = DType("float32", np.float32)
float64 = DType("float64", np.float64)
int8 = DType("int8", np.int8)
uint8 = DType("uint8", np.uint8)
int16 = DType("int16", np.int16)
int32 = DType("int32", np.int32)
int64 = DType("int64", np.int64)
bool_ = DType("bool", np.bool_)

ALL: tuple[DType, ...] = (float16, float32, float64, int8, uint8, int16, int32, int64, bool_)
_BY_NAME = {d.name: d for d in ALL}
_BY_NUMPY = {d.numpy: d for d in ALL}
_ALIASES = {"half": float16, "float": float32, "double": float64, "short": int16, "int": int32, "long": int64}

# torch's own names of the dtypes: in "not implemented for 'Long'" messages, and Tensor.type() strings
# ("torch.LongTensor"); and the Tensor methods that cast (x.double()).
TORCH_NAMES = {float16: "Half", float32: "Float", float64: "Double", int8: "Char", uint8: "Byte", int16: "Short",
               int32: "Int", int64: "Long", bool_: "Bool"}
CAST_METHODS = {"float": float32, "double": float64, "half": float16, "long": int64, "int": int32, "bool": bool_,
                "short": int16, "char": int8, "byte": uint8}


def type_string(dtype: DType) -> str:
    """Tensor.type() of a tensor of `dtype`: "torch.FloatTensor"."""
    return f"torch.{TORCH_NAMES[dtype]}Tensor"


def by_type_string(name: str) -> DType | None:
    """The dtype of a Tensor.type() string, or None."""
    return next((d for d in TORCH_NAMES if type_string(d) == name), None)


DEFAULT_FLOAT = float32  # torch.set_default_dtype rebinds it (factories.set_default_dtype)
DEFAULT_INT = int64


def by_name(name: str) -> DType:
    """The dtype called `name` ("float32", "int64", "bool", or torch's aliases "float", "long"...)."""
    found = _BY_NAME.get(name) or _ALIASES.get(name)
    if found is None:
        from gradwire.rules.errors import DTypeError

        raise DTypeError(f"unknown dtype {name!r}; expected one of {', '.join(_BY_NAME)}")
    return found


def from_numpy(numpy_dtype: np.dtype) -> DType:
    """The gradwire dtype of a numpy dtype; the ones torch has no tensor type for (uint32...) are refused."""
    found = _BY_NUMPY.get(np.dtype(numpy_dtype))
    if found is None:
        from gradwire.rules.errors import DTypeError

        raise DTypeError(
            f"can't convert np.ndarray of type {np.dtype(numpy_dtype)}; the supported types are: "
            + ", ".join(d.name for d in ALL)
        )
    return found


def _promote_pair(a: DType, b: DType) -> DType:
    # torch keeps the floating type when a float meets an integer (numpy widens: f32 + i64 -> f64).
    if a.category != b.category:
        return a if a.category > b.category else b
    return _BY_NUMPY[np.promote_types(a.numpy, b.numpy)]


def promote(*dtypes: DType) -> DType:
    """torch.promote_types over several dtypes (same as numpy's for the types we support)."""
    result = dtypes[0]
    for other in dtypes[1:]:
        if other is not result:
            result = _promote_pair(result, other)
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


def result_type(dimensioned: list[DType], zero_dim: list[DType], scalars: list[object]) -> DType:
    """torch.result_type: tensors with dims outrank 0-dim tensors, which outrank Python scalars.

    A Python scalar contributes only its category: a float scalar means the default float dtype.
    """
    scalar_dtypes = [
        bool_ if isinstance(s, (bool, np.bool_)) else DEFAULT_INT if isinstance(s, (int, np.integer))
        else DEFAULT_FLOAT
        for s in scalars
    ]
    dim_result = promote(*dimensioned) if dimensioned else None
    zero_result = promote(*zero_dim) if zero_dim else None
    scalar_result = promote(*scalar_dtypes) if scalar_dtypes else None
    result = _combine(dim_result, _combine(zero_result, scalar_result))
    assert result is not None, "result_type needs at least one operand"
    return result


def python_scalar_dtype(value: object) -> DType:
    """The dtype torch.tensor gives a Python scalar: bool, int64 or the default float."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (int, np.integer)):
        return DEFAULT_INT
    return DEFAULT_FLOAT
