"""Large leaf values and seed gradients read in place from a request's bytes, without protobuf's copies.

Parsing a request copies each bytes field into the message, and every read of the field copies it
again, so a 1 GiB leaf costs 2 GiB more before the graph runs. For a large request, the tensor data of
every Leaf.value and Root.gradient of at least MIN_FIELD_BYTES is lifted out of the bytes before
parsing: the message is parsed with a short token in its place, and codec.decode, finding the token,
views the request's own bytes instead (read-only, as before). Tokens carry a random per-call nonce, so
a caller cannot forge one, and are known only to the thread handling that call, only while it runs.
Anything the walk does not expect (a malformed or unusual encoding) is left to protobuf as before.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from gradwire.v1 import gradwire_pb2 as pb
from gradwire.wireformat import read_varint, varint

MIN_REQUEST_BYTES = 1 << 20
MIN_FIELD_BYTES = 64 << 10
_TOKEN_PREFIX = b"\x00gradwire-lifted:"

_LENGTH_DELIMITED, _VARINT, _FIXED64, _FIXED32 = 2, 0, 1, 5
_DATA_FIELD = pb.Tensor.DESCRIPTOR.fields_by_name["data"].number
# (message type, field number) -> the message type to walk into; a Tensor reached from here is liftable.
_TENSOR = pb.Tensor.DESCRIPTOR
_TENSOR_NAME = _TENSOR.full_name


def _walk_map() -> dict[tuple[str, int], Any]:
    """Which fields can lead to a Leaf.value or a Root.gradient, from every request message."""
    targets = {(pb.Leaf.DESCRIPTOR.full_name, "value"), (pb.Root.DESCRIPTOR.full_name, "gradient")}
    steps: dict[tuple[str, int], Any] = {}
    reaches: dict[str, bool] = {}

    def can_reach(descriptor: Any, seen: frozenset) -> bool:
        if descriptor.full_name in reaches:
            return reaches[descriptor.full_name]
        found = False
        for field in descriptor.fields:
            if field.message_type is None or field.message_type.full_name in seen:
                continue
            if (descriptor.full_name, field.name) in targets:
                steps[(descriptor.full_name, field.number)] = _TENSOR
                found = True
            elif can_reach(field.message_type, seen | {descriptor.full_name}):
                steps[(descriptor.full_name, field.number)] = field.message_type
                found = True
        reaches[descriptor.full_name] = found
        return found

    for service in pb.DESCRIPTOR.services_by_name.values():
        for method in service.methods:
            can_reach(method.input_type, frozenset())
    return steps


_STEPS = _walk_map()
_local = threading.local()


class _Lifter:
    def __init__(self) -> None:
        self.nonce = os.urandom(12)
        self.views: dict[bytes, memoryview] = {}

    def walk(self, data: memoryview, descriptor: Any) -> list[Any] | None:
        """The pieces of `data` re-encoded with large tensor data lifted; None if nothing was lifted."""
        pieces: list[Any] = []
        copied_from = position = 0
        changed = False
        name = descriptor.full_name
        while position < len(data):
            start = position
            key, position = read_varint(data, position)
            number, wire_type = key >> 3, key & 7
            if wire_type == _VARINT:
                position = read_varint(data, position)[1]
            elif wire_type == _FIXED64:
                position += 8
            elif wire_type == _FIXED32:
                position += 4
            elif wire_type == _LENGTH_DELIMITED:
                length, body = read_varint(data, position)
                position = body + length
                if position > len(data):
                    raise ValueError("truncated field")
                inner_type = _STEPS.get((name, number))
                if name == _TENSOR_NAME and number == _DATA_FIELD and length >= MIN_FIELD_BYTES:
                    replacement = [self._token(data[body:position])]
                elif inner_type is not None:
                    inner = self.walk(data[body:position], inner_type)
                    replacement = None if inner is None else inner
                else:
                    replacement = None
                if replacement is not None:
                    size = sum(len(piece) for piece in replacement)
                    pieces += [data[copied_from:start], data[start:_key_end(data, start)], varint(size),
                               *replacement]
                    copied_from = position
                    changed = True
            else:
                raise ValueError(f"unexpected wire type {wire_type}")
            if position > len(data):
                raise ValueError("truncated field")
        if not changed:
            return None
        pieces.append(data[copied_from:])
        return pieces

    def _token(self, view: memoryview) -> bytes:
        token = _TOKEN_PREFIX + self.nonce + varint(len(self.views))
        self.views[token] = view
        return token


def _key_end(data: memoryview, start: int) -> int:
    return read_varint(data, start)[1]


def parse(message_class: Any, data: bytes) -> Any:
    """The parsed request, with large tensor data lifted (visible to `view` until `forget`)."""
    _local.views = {}
    if len(data) < MIN_REQUEST_BYTES or not any(key[0] == message_class.DESCRIPTOR.full_name for key in _STEPS):
        return message_class.FromString(data)
    lifter = _Lifter()
    try:
        pieces = lifter.walk(memoryview(data), message_class.DESCRIPTOR)
    except (ValueError, IndexError):
        pieces = None  # protobuf reports what is wrong with it
    if pieces is None:
        return message_class.FromString(data)
    message = message_class.FromString(b"".join(pieces))
    _local.views = lifter.views
    return message


def view(data: bytes) -> memoryview | None:
    """The request bytes a token stands for, in the call this thread is handling; else None."""
    views = getattr(_local, "views", None)
    return views.get(data) if views and data.startswith(_TOKEN_PREFIX) else None


def is_lifted(array: Any) -> bool:
    """Whether an array views a request's bytes in place (it then keeps the whole request alive)."""
    while getattr(array, "base", None) is not None and not isinstance(array, memoryview):
        array = array.base
    return isinstance(array, memoryview)


def forget() -> None:
    """Ends the call's lifted views (the arrays made from them keep their bytes alive)."""
    _local.views = {}
