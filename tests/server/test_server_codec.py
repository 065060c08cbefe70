"""The tensor codec: raw little-endian bytes <-> numpy, validated before decoding, no copy."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from gradwire.server import codec
from gradwire.server.errors import RequestError
from gradwire.v1 import gradwire_pb2 as pb
from server_helpers import tensor

ALL_DTYPES = [np.float16, np.float32, np.float64, np.int32, np.int64, np.bool_]


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3), (2, 1, 4)])
def test_round_trip(dtype, shape):
    rng = np.random.default_rng(0)
    original = (rng.standard_normal(shape) * 10).astype(dtype)
    decoded = codec.decode(codec.encode(original), "x")
    assert decoded.dtype == original.dtype and decoded.shape == original.shape
    np.testing.assert_array_equal(decoded, original)


def test_decoding_shares_the_message_bytes():
    message = tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    decoded = codec.decode(message, "x")
    assert not decoded.flags.writeable and not decoded.flags.owndata


def test_wire_bytes_are_little_endian_whatever_the_array():
    big_endian = np.arange(3, dtype=">f8")
    assert codec.encode(big_endian).data == np.arange(3, dtype="<f8").tobytes()


def test_non_contiguous_arrays_are_sent_in_row_major_order():
    transposed = np.arange(6, dtype=np.int64).reshape(2, 3).T
    np.testing.assert_array_equal(codec.decode(codec.encode(transposed), "x"), transposed)


def _error(message: pb.Tensor) -> RequestError:
    with pytest.raises(RequestError) as caught:
        codec.decode(message, "leaf 'w'")
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "leaf 'w'" in caught.value.message
    return caught.value


def test_data_length_must_match_shape_times_itemsize():
    error = _error(pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[2, 3], data=b"\0" * 20))
    assert "20 bytes" in error.message and "needs 24" in error.message


def test_unspecified_dtype_is_refused():
    assert "DTYPE_UNSPECIFIED" in _error(pb.Tensor(shape=[1], data=b"\0" * 4)).message


def test_negative_sizes_are_refused():
    assert "negative" in _error(pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[-1, 4], data=b"")).message


def test_a_huge_shape_is_refused_without_allocating():
    # 2**40 * 2**40 elements: checked with Python ints, never allocated.
    error = _error(pb.Tensor(dtype=pb.DTYPE_FLOAT64, shape=[1 << 40, 1 << 40], data=b""))
    assert "needs" in error.message


def test_bool_bytes_must_be_zero_or_one():
    assert "0 or 1" in _error(pb.Tensor(dtype=pb.DTYPE_BOOL, shape=[2], data=b"\x01\x02")).message


def test_chunks_cover_the_bytes_in_order():
    array = np.arange(1000, dtype=np.float64)
    chunks = list(codec.iter_chunks(array, 3000))
    assert [len(c) for c in chunks] == [3000, 3000, 2000]
    assert b"".join(chunks) == array.tobytes()
