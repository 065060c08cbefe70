"""Responses whose large tensors are serialized with one copy, straight from the arrays.

Through protobuf a tensor in a response is copied three times (the array to bytes, the bytes into the
message, the message to its serialized form). Here the response's other fields are serialized by
protobuf, then each NamedTensor of its repeated tensor fields is appended as its own field: the
NamedTensor without data, then a second `tensor` field holding only `data`. A parser merges the two
occurrences of a singular message field, and keeps the elements of a repeated field in the order they
appear, so the bytes parse to exactly the message protobuf would have built; the one copy is the final
join of the pieces. Small responses (no tensor of RAW_MIN_BYTES or more in them) are filled in as before,
and so is every response of a call whose handler was not built by wire.py (which sends bytes as they
are): wire.py marks its calls with `serialized_allowed`.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from gradwire.v1 import gradwire_pb2 as pb
from gradwire.wireformat import varint

from . import codec
from .responses import TensorPacker

RAW_MIN_BYTES = 1 << 20
_LENGTH_DELIMITED = 2
_TENSOR_FIELD = pb.NamedTensor.DESCRIPTOR.fields_by_name["tensor"].number
_DATA_FIELD = pb.Tensor.DESCRIPTOR.fields_by_name["data"].number


_local = threading.local()


def allow_serialized(allowed: bool) -> None:
    """Whether responses built on this thread, from now on, may be returned serialized (wire.py)."""
    _local.allowed = allowed


def _tag(field_number: int) -> bytes:
    return varint(field_number << 3 | _LENGTH_DELIMITED)


def _flat(array: np.ndarray) -> memoryview:
    """The array's bytes, little-endian C order (a view when it already is)."""
    little = np.ascontiguousarray(array.astype(array.dtype.newbyteorder("<"), copy=False))
    return memoryview(little.reshape(-1).view(np.uint8))


class Spliced:
    """The NamedTensors of a response (fields named as in the proto), packed by a TensorPacker's rules."""

    def __init__(self, response: Any, packer: TensorPacker) -> None:
        self.response = response
        self.packer = packer
        self.entries: list[tuple[str, str, Any]] = []

    def add(self, field: str, value_id: str, tensor: Any) -> None:
        self.entries.append((field, value_id, tensor))

    def result(self) -> Any:
        """The response message, or its serialized bytes when a tensor sent in it is large."""
        arrays = [None if tensor is None else tensor.detach().numpy() for _, _, tensor in self.entries]
        # Each tensor in or deferred, in order: the packer's rules and errors as for a message.
        fits = [array is not None and self.packer.admit(value_id, array)
                for (_, value_id, _), array in zip(self.entries, arrays)]
        if not getattr(_local, "allowed", False) or not any(
                fit and array.nbytes >= RAW_MIN_BYTES for fit, array in zip(fits, arrays)):
            for (field, value_id, _), array, fit in zip(self.entries, arrays, fits):
                into = getattr(self.response, field)
                if array is None:
                    into.add(id=value_id, is_none=True)
                else:
                    codec.encode_into(into.add(id=value_id, deferred=not fit).tensor, array, with_data=fit)
            return self.response
        pieces: list[Any] = [self.response.SerializeToString()]
        fields = self.response.DESCRIPTOR.fields_by_name
        for (field, value_id, _), array, fit in zip(self.entries, arrays, fits):
            item = pb.NamedTensor(id=value_id)
            data: Any = b""
            if array is None:
                item.is_none = True
            else:
                item.deferred = not fit
                codec.encode_into(item.tensor, array, with_data=False)
                if fit and array.size:
                    data = _flat(array)
            element = item.SerializeToString()
            if len(data):
                data_field = _tag(_DATA_FIELD) + varint(len(data))
                tensor_field = _tag(_TENSOR_FIELD) + varint(len(data_field) + len(data))
                element += tensor_field + data_field
            pieces += [_tag(fields[field].number), varint(len(element) + len(data)), element, data]
        return b"".join(pieces)
