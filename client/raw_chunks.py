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

from gradwire.wireformat import CHUNK_TAG, RawChunk, chunk_message, chunk_parser  # noqa: F401  (re-exported)


def message_or_bytes(serialize: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    """A request serializer that passes through messages already serialized (chunks)."""

    def to_bytes(message: Any) -> bytes:
        return message if type(message) is bytes else serialize(message)

    return to_bytes
