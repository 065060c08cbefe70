"""Streamed chunks on the wire without protobuf's copies.

A chunk message of UploadTensor / DownloadTensor is one bytes field (`chunk`, field 2) and nothing else:
its encoding is the tag byte 0x12, the length as a varint, then the bytes. Through protobuf a chunk is
copied into the message, again when the field is read and again when the message is serialized; here a
received chunk is a view of the request's bytes, and a sent one is built with one copy from the array.
Any other message (the header, or a chunk with unexpected fields) goes through protobuf as before.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

CHUNK_TAG = 0x12  # field 2, wire type 2 (length-delimited)


class RawChunk:
    """A received chunk message, its bytes viewed in place (reads like the parsed message)."""

    __slots__ = ("chunk",)

    def __init__(self, chunk: memoryview) -> None:
        self.chunk = chunk

    @staticmethod
    def WhichOneof(name: str) -> str:  # noqa: N802 - protobuf's spelling
        return "chunk"


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, start: int) -> tuple[int, int]:
    value = shift = 0
    for position in range(start, min(len(data), start + 10)):
        byte = data[position]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position + 1
        shift += 7
    return -1, start


def chunk_parser(parse: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    """`parse`, except that a message that is exactly one chunk field becomes a RawChunk (no copy)."""

    def parse_chunk(data: bytes) -> Any:
        if data and data[0] == CHUNK_TAG:
            length, start = _read_varint(data, 1)
            if length >= 0 and start + length == len(data):
                return RawChunk(memoryview(data)[start:])
        return parse(data)

    return parse_chunk


def chunk_messages(array: np.ndarray, chunk_bytes: int) -> Iterator[bytes]:
    """The serialized DownloadTensorResponse{chunk} messages of an array's bytes (little-endian C order)."""
    little = np.ascontiguousarray(array.astype(array.dtype.newbyteorder("<"), copy=False))
    flat = memoryview(little.reshape(-1).view(np.uint8)) if little.size else memoryview(b"")
    for start in range(0, len(flat), chunk_bytes):
        piece = flat[start:start + chunk_bytes]
        yield b"".join((bytes((CHUNK_TAG,)), _varint(len(piece)), piece))
