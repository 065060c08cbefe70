"""Streamed chunks built and read without protobuf's copies are the same messages protobuf makes and reads."""

from __future__ import annotations

import numpy as np
import pytest

from gradwire.server.raw_chunks import RawChunk, chunk_messages, chunk_parser
from gradwire.v1 import gradwire_pb2 as pb


@pytest.mark.parametrize("nbytes, chunk", [(0, 16), (5, 16), (300, 7), (1 << 16, 1 << 14), (200_000, 150_000)])
def test_chunk_messages_parse_as_protobufs_own(nbytes, chunk):
    array = np.random.default_rng(nbytes).integers(0, 256, nbytes, dtype=np.uint8)
    messages = list(chunk_messages(array, chunk))
    parsed = [pb.DownloadTensorResponse.FromString(message) for message in messages]
    assert all(part.WhichOneof("part") == "chunk" for part in parsed)
    assert b"".join(part.chunk for part in parsed) == array.tobytes()
    assert messages == [pb.DownloadTensorResponse(chunk=part.chunk).SerializeToString() for part in parsed]


def test_big_endian_arrays_go_out_little_endian():
    array = np.arange(5, dtype=">f8")
    (message,) = chunk_messages(array, 1 << 10)
    assert pb.DownloadTensorResponse.FromString(message).chunk == array.astype("<f8").tobytes()


def test_chunk_parser_views_chunks_and_leaves_other_messages_to_protobuf():
    parse = chunk_parser(pb.UploadTensorRequest.FromString)
    for data in (b"", b"abc" * 50_000):
        parsed = parse(pb.UploadTensorRequest(chunk=data).SerializeToString())
        assert isinstance(parsed, RawChunk) and parsed.WhichOneof("part") == "chunk" and bytes(parsed.chunk) == data
    header = parse(pb.UploadTensorRequest(header=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[2])).SerializeToString())
    assert header.WhichOneof("part") == "header" and list(header.header.shape) == [2]
    # A chunk field followed by more bytes (another field): not a bare chunk, so protobuf parses it.
    mixed = pb.UploadTensorRequest(chunk=b"xy").SerializeToString() + \
        pb.UploadTensorRequest(chunk=b"zz").SerializeToString()
    parsed = parse(mixed)
    assert not isinstance(parsed, RawChunk) and parsed.chunk == b"zz"
    truncated = pb.UploadTensorRequest(chunk=b"abcdef").SerializeToString()[:-2]
    with pytest.raises(Exception):
        parse(truncated)
