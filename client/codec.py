"""Python values <-> wire messages on the SDK side: tensors, operands, attributes and indexes.

Tensor data is raw little-endian row-major bytes; decoding checks the byte count before viewing the
bytes with numpy.frombuffer (read-only, no copy).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from gradwire.v1 import gradwire_pb2 as pb

from . import dtypes


def encode_array(array: np.ndarray, *, with_data: bool = True) -> pb.Tensor:
    """The Tensor message of an array (its dtype must be one the wire knows)."""
    dtype = dtypes.from_numpy(array.dtype)
    message = pb.Tensor(dtype=dtypes.to_wire(dtype), shape=array.shape)
    if with_data:
        message.data = array_bytes(array)
    return message


def array_bytes(array: np.ndarray) -> bytes:
    little = array.astype(array.dtype.newbyteorder("<"), copy=False)
    return np.ascontiguousarray(little).tobytes()


def decode_array(message: pb.Tensor, data: bytes | bytearray | None = None) -> np.ndarray:
    """The array of a Tensor message (or of its header plus separately streamed `data`)."""
    dtype = dtypes.from_wire(message.dtype)
    shape = tuple(message.shape)
    raw = message.data if data is None else data
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"the server sent {len(raw)} bytes for a {dtype.name} tensor of shape {list(shape)} "
                         f"({expected} expected)")
    return np.frombuffer(raw, dtype=dtype.numpy.newbyteorder("<")).astype(dtype.numpy, copy=False).reshape(shape)


def is_python_scalar(value: Any) -> bool:
    return isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating))


def encode_scalar_operand(value: Any) -> pb.Operand:
    if isinstance(value, (bool, np.bool_)):
        return pb.Operand(boolean=bool(value))
    if isinstance(value, (int, np.integer)):
        return pb.Operand(integer=int(value))
    return pb.Operand(real=float(value))


# ---------------------------------------------------------------- attributes

def encode_attr(name: str, kind: str, value: Any, ref_of: Callable[[Any], str | None]) -> pb.AttrValue | None:
    """The AttrValue of one attribute of the catalogue's `kind`; None for an omitted optional value.

    `ref_of(x)` returns the graph id of an SDK tensor (used inside indexes) or None for anything else.
    """
    if value is None:
        return None
    kinds = kind.split("|")
    if "index" in kinds:
        return pb.AttrValue(index=encode_index(value, ref_of))
    if "dtype" in kinds:
        return pb.AttrValue(dtype=dtypes.to_wire(dtypes.as_dtype(value)))
    if "text" in kinds and isinstance(value, str):
        return pb.AttrValue(text=value)
    if isinstance(value, (bool, np.bool_)) and "boolean" in kinds:
        return pb.AttrValue(boolean=bool(value))
    if isinstance(value, (list, tuple)) and "ints" in kinds:
        return pb.AttrValue(ints=pb.Ints(values=[_as_int(name, item) for item in value]))
    if "integer" in kinds and not isinstance(value, (float, np.floating)):
        return pb.AttrValue(integer=_as_int(name, value))
    if "real" in kinds and isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return pb.AttrValue(integer=int(value))  # an int bound keeps an int tensor int (clamp), as in torch
    if "real" in kinds and is_python_scalar(value):
        return pb.AttrValue(real=float(value))
    if "ints" in kinds and not isinstance(value, str):
        return pb.AttrValue(ints=pb.Ints(values=[_as_int(name, value)]))
    raise TypeError(f"argument '{name}' must be {kind.replace('|', ' or ')}, not {type(value).__name__}")


def _as_int(name: str, value: Any) -> int:
    """An int from an int, a numpy integer or a one-element integer tensor (as torch accepts)."""
    if hasattr(value, "shape") and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"argument '{name}' must be an integer, not {type(value).__name__}")
    return int(value)


# ---------------------------------------------------------------- indexes

def normalise_index(index: Any) -> tuple:
    """A Python index expression as a tuple of its components (x[0] -> (0,), x[0, 1:] -> (0, slice(1, None)))."""
    return index if isinstance(index, tuple) else (index,)


def encode_index(index: Any, ref_of: Callable[[Any], str | None]) -> pb.Index:
    return pb.Index(items=[_encode_index_item(item, ref_of) for item in normalise_index(index)])


def _encode_index_item(item: Any, ref_of: Callable[[Any], str | None]) -> pb.IndexItem:
    ref = ref_of(item)
    if ref is not None:
        return pb.IndexItem(ref=ref)
    if item is None:
        return pb.IndexItem(new_axis=True)
    if item is Ellipsis:
        return pb.IndexItem(ellipsis=True)
    if isinstance(item, slice):
        return pb.IndexItem(slice=pb.Slice(**{
            field: _as_int(f"slice {field}", value)
            for field, value in (("start", item.start), ("stop", item.stop), ("step", item.step))
            if value is not None
        }))
    if isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_)):
        return pb.IndexItem(integer=int(item))
    if isinstance(item, (list, np.ndarray, bool, np.bool_)):
        array = np.asarray(item)
        if array.dtype.kind not in "bi" and array.size:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        array = array.astype(np.bool_ if array.dtype.kind == "b" else np.int64)
        return pb.IndexItem(tensor=encode_array(array))
    raise IndexError(
        "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices "
        f"(got {type(item).__name__})"
    )
