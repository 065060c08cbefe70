"""gradwire.wireformat: the few protobuf wire-format pieces the server and the SDK write and read by hand,
where going through protobuf would copy large tensors (chunks of UploadTensor / DownloadTensor, tensors
viewed in a request's bytes or spliced into a response's).

A chunk message is one bytes field (`chunk`, field 2) and nothing else: the tag byte 0x12, the length as
a varint, then the bytes. Standard library only.
"""

from __future__ import annotations

from typing import Any, Callable

CHUNK_TAG = 0x12  # field 2, wire type 2 (length-delimited)


def varint(value: int) -> bytes:
    """A non-negative integer as a protobuf varint."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if not value:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def read_varint(data: Any, position: int) -> tuple[int, int]:
    """The varint at `position` and the position after it; ValueError when it is truncated or too long."""
    value = shift = 0
    end = min(len(data), position + 10)
    while position < end:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
    raise ValueError("truncated varint")


class RawChunk:
    """A received chunk message, its bytes viewed in place (reads like the parsed message)."""

    __slots__ = ("chunk",)

    def __init__(self, chunk: memoryview) -> None:
        self.chunk = chunk

    @staticmethod
    def WhichOneof(name: str) -> str:  # noqa: N802 - protobuf's spelling
        return "chunk"


def chunk_parser(parse: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    """`parse`, except that a message that is exactly one chunk field becomes a RawChunk (no copy)."""

    def parse_chunk(data: bytes) -> Any:
        if data and data[0] == CHUNK_TAG:
            try:
                length, start = read_varint(data, 1)
            except ValueError:
                return parse(data)
            if start + length == len(data):
                return RawChunk(memoryview(data)[start:])
        return parse(data)

    return parse_chunk


def chunk_message(piece: memoryview) -> bytes:
    """The serialized {chunk} message of some raw bytes, built with one copy."""
    return b"".join((bytes((CHUNK_TAG,)), varint(len(piece)), piece))
