"""Tensors on the wire: proto Tensor <-> numpy array, raw little-endian row-major bytes.

Decoding checks the dtype, the shape and len(data) == prod(shape) * itemsize before touching the data,
then views the bytes with numpy.frombuffer: no copy beyond the one protobuf makes when a bytes field is
read (none for a large request's leaves and seeds, lifted.py), and the array is read-only. Encoding fills a message in place: protobuf copies a submessage
passed to a constructor, which for a large tensor is a copy per level of nesting.
"""

from __future__ import annotations

import math

import numpy as np

from gradwire.v1 import gradwire_pb2 as pb

from . import lifted
from .errors import invalid

# proto enum value <-> engine/numpy dtype name (the engine's names are PyTorch's).
DTYPE_NAMES: dict[int, str] = {
    pb.DTYPE_FLOAT16: "float16",
    pb.DTYPE_FLOAT32: "float32",
    pb.DTYPE_FLOAT64: "float64",
    pb.DTYPE_INT32: "int32",
    pb.DTYPE_INT64: "int64",
    pb.DTYPE_BOOL: "bool",
    pb.DTYPE_INT8: "int8",
    pb.DTYPE_UINT8: "uint8",
    pb.DTYPE_INT16: "int16",
}
DTYPE_ENUMS: dict[str, int] = {name: value for value, name in DTYPE_NAMES.items()}
# Explicitly little-endian, whatever the host.
NUMPY_DTYPES: dict[int, np.dtype] = {value: np.dtype(name).newbyteorder("<") for value, name in DTYPE_NAMES.items()}
# By numpy dtype (native byte order), for encoding: a dtype's .name is computed in Python at each read.
_ENUM_OF_NATIVE: dict[np.dtype, int] = {np.dtype(name): value for value, name in DTYPE_NAMES.items()}

MAX_RANK = 64
MAX_ELEMENTS = 1 << 60


def dtype_name(dtype_enum: int, what: str) -> str:
    """The engine's name of a proto DType; INVALID_ARGUMENT for UNSPECIFIED or unknown values."""
    name = DTYPE_NAMES.get(dtype_enum)
    if name is None:
        known = ", ".join(pb.DType.Name(value) for value in DTYPE_NAMES)
        raise invalid(f"{what}: dtype {_enum_name(dtype_enum)} is not supported; use one of {known}")
    return name


def _enum_name(dtype_enum: int) -> str:
    try:
        return pb.DType.Name(dtype_enum)
    except ValueError:
        return str(dtype_enum)


def checked_shape(shape: "list[int] | tuple[int, ...]", what: str) -> tuple[int, ...]:
    if len(shape) > MAX_RANK:
        raise invalid(f"{what}: rank {len(shape)} exceeds {MAX_RANK}")
    if any(size < 0 for size in shape):
        raise invalid(f"{what}: shape {list(shape)} has a negative size")
    # numpy cannot even describe an empty array whose other sizes multiply past its index range (a
    # non-empty one is refused by its byte count).
    if 0 in shape and math.prod(size for size in shape if size) > MAX_ELEMENTS:
        raise invalid(f"{what}: shape {list(shape)} is too large (its non-zero sizes multiply past 2**60)")
    return tuple(int(size) for size in shape)


def expected_nbytes(header: pb.Tensor, what: str) -> int:
    """prod(shape) * itemsize of a tensor header, validated (Python ints: no overflow)."""
    shape = checked_shape(header.shape, what)
    dtype_name(header.dtype, what)  # validates the dtype
    return math.prod(shape) * NUMPY_DTYPES[header.dtype].itemsize


def decode(message: pb.Tensor, what: str) -> np.ndarray:
    """The array a Tensor message holds, sharing its bytes (read-only). `what` names it in errors."""
    nbytes = expected_nbytes(message, what)
    data: "bytes | memoryview" = message.data  # protobuf (upb) makes a new bytes object on every read: read it once
    in_place = lifted.view(data) if len(data) != nbytes else None
    if in_place is not None:  # a large request's data, viewed where it arrived (lifted.py)
        data = in_place
    if len(data) != nbytes:
        raise invalid(
            f"{what}: data has {len(data)} bytes but shape {list(message.shape)} of "
            f"{dtype_name(message.dtype, what)} needs {nbytes}"
        )
    return from_bytes(data, message.dtype, tuple(message.shape), what)


def from_bytes(data: "bytes | bytearray | memoryview | np.ndarray", dtype_enum: int, shape: tuple[int, ...],
               what: str) -> np.ndarray:
    """View raw bytes (already of the right length) as an array of the given dtype and shape."""
    dtype = NUMPY_DTYPES[dtype_enum]
    array = np.frombuffer(data, dtype=dtype).reshape(shape)
    if dtype_enum == pb.DTYPE_BOOL and array.size and array.view(np.uint8).max() > 1:
        raise invalid(f"{what}: a bool tensor's bytes must be 0 or 1")
    if not dtype.isnative:
        array = array.astype(dtype.newbyteorder("="))
    return array


def encode(array: np.ndarray, *, with_data: bool = True) -> pb.Tensor:
    """The Tensor message of an array (C order, little-endian); only dtype and shape if not with_data."""
    message = pb.Tensor()
    encode_into(message, array, with_data=with_data)
    return message


def encode_into(message: pb.Tensor, array: np.ndarray, *, with_data: bool = True) -> None:
    """Fills a Tensor message (e.g. one inside a response) from an array."""
    dtype_enum = _ENUM_OF_NATIVE.get(array.dtype)
    if dtype_enum is None:
        dtype_enum = DTYPE_ENUMS.get(array.dtype.name)  # another byte order
    if dtype_enum is None:
        raise TypeError(f"no wire dtype for numpy {array.dtype}")
    message.dtype = dtype_enum
    message.shape[:] = array.shape
    if with_data:
        message.data = to_bytes(array)


def to_bytes(array: np.ndarray) -> bytes:
    little = array.astype(array.dtype.newbyteorder("<"), copy=False)
    return np.ascontiguousarray(little).tobytes()


def iter_chunks(array: np.ndarray, chunk_bytes: int):
    """The bytes of an array, little-endian C order, in slices of at most chunk_bytes."""
    little = np.ascontiguousarray(array.astype(array.dtype.newbyteorder("<"), copy=False))
    flat = memoryview(little.reshape(-1).view(np.uint8)) if little.size else memoryview(b"")
    for start in range(0, len(flat), chunk_bytes):
        yield bytes(flat[start:start + chunk_bytes])
