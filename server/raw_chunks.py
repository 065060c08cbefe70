"""Streamed chunks on the wire without protobuf's copies.

A chunk message of UploadTensor / DownloadTensor is one bytes field (`chunk`, field 2) and nothing else:
its encoding is the tag byte 0x12, the length as a varint, then the bytes. Through protobuf a chunk is
copied into the message, again when the field is read and again when the message is serialized; here a
received chunk is a view of the request's bytes, and a sent one is built with one copy from the array.
Any other message (the header, or a chunk with unexpected fields) goes through protobuf as before.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from gradwire.wireformat import CHUNK_TAG, RawChunk, chunk_message, chunk_parser  # noqa: F401  (re-exported)


def chunk_messages(array: np.ndarray, chunk_bytes: int) -> Iterator[bytes]:
    """The serialized DownloadTensorResponse{chunk} messages of an array's bytes (little-endian C order)."""
    little = np.ascontiguousarray(array.astype(array.dtype.newbyteorder("<"), copy=False))
    flat = memoryview(little.reshape(-1).view(np.uint8)) if little.size else memoryview(b"")
    for start in range(0, len(flat), chunk_bytes):
        piece = flat[start:start + chunk_bytes]
        yield chunk_message(piece)
