"""Streamed chunks on the SDK side without protobuf's copies.

A chunk message of UploadTensor / DownloadTensor is one bytes field (`chunk`, field 2) and nothing else:
the tag byte 0x12, the length as a varint, then the bytes. Through protobuf an uploaded chunk is copied
into the message and again when it is serialized, and a downloaded one when it is parsed and again when
the field is read. Here an uploaded chunk is serialized with one copy from the array, and a downloaded
one is viewed in place and written once into the array being received. Any other message (a header)
goes through protobuf.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

CHUNK_TAG = 0x12  # field 2, wire type 2 (length-delimited)


class RawChunk:
    """A received chunk message, its bytes viewed in place (reads like the parsed message)."""

    __slots__ = ("chunk",)

    def __init__(self, chunk: memoryview) -> None:
        self.chunk = chunk

    @staticmethod
    def WhichOneof(name: str) -> str:  # noqa: N802 - protobuf's spelling
        return "chunk"


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if not value:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


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


def message_or_bytes(serialize: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    """A request serializer that passes through messages already serialized (chunks)."""

    def to_bytes(message: Any) -> bytes:
        return message if type(message) is bytes else serialize(message)

    return to_bytes


def chunk_message(piece: memoryview) -> bytes:
    """The serialized {chunk} message of some raw bytes, built with one copy."""
    return b"".join((bytes((CHUNK_TAG,)), varint(len(piece)), piece))
