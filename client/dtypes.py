"""Element types in the SDK: the dtype objects and torch's promotion are gradwire.rules' (the engine's
own); what is here is their wire enum, torch's type strings, and the default dtype of the SDK's factories.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules import arguments
from gradwire.rules.dtypes import (  # noqa: F401 - the SDK's dtypes are the rules'
    ALL, CAST_METHODS, DType, bool_, by_name, by_type_string, float16, float32, float64, int8, int16, int32, int64,
    promote, python_scalar_dtype, type_string, uint8,
)
from gradwire.rules.dtypes import from_numpy as _from_numpy
from gradwire.v1 import gradwire_pb2 as pb

_WIRE = {float16: pb.DTYPE_FLOAT16, float32: pb.DTYPE_FLOAT32, float64: pb.DTYPE_FLOAT64, int8: pb.DTYPE_INT8,
         uint8: pb.DTYPE_UINT8, int16: pb.DTYPE_INT16, int32: pb.DTYPE_INT32, int64: pb.DTYPE_INT64,
         bool_: pb.DTYPE_BOOL}
_BY_WIRE = {wire: dtype for dtype, wire in _WIRE.items()}

# The dtype of Python floats in this process's factories (torch.set_default_dtype).
DEFAULT_FLOAT = float32
DEFAULT_INT = int64


def from_numpy(numpy_dtype: np.dtype) -> DType:
    """The dtype of a numpy dtype in either byte order (the rules' error for one torch has no type for)."""
    return _from_numpy(np.dtype(numpy_dtype).newbyteorder("="))


def scalar_dtype(value: object) -> DType:
    """The dtype torch.tensor gives a Python scalar (floats: this process's default float)."""
    dtype = python_scalar_dtype(value)
    return DEFAULT_FLOAT if dtype.is_floating_point else dtype


def to_wire(dtype: DType) -> int:
    return _WIRE[dtype]


def from_wire(wire: int) -> DType:
    found = _BY_WIRE.get(wire)
    if found is None:
        raise ValueError(f"the server sent an unknown dtype enum {wire}")
    return found


def as_dtype(value: object) -> DType:
    """The DType a `dtype=` argument names: a torch dtype only, as torch (rules.arguments; TypeError otherwise)."""
    from .errors import checked

    return checked(arguments.dtype_argument, value, None)
