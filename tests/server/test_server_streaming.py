"""Tensors too large for one message: chunked upload, deferred results and chunked download."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from gradwire.v1 import gradwire_pb2 as pb
from server_helpers import arrays, node, raises_status, root, tensor, to_array

MiB = 1 << 20


def _parts(array: np.ndarray, chunk_bytes: int, header: pb.Tensor | None = None):
    yield pb.UploadTensorRequest(header=header or pb.Tensor(dtype=tensor(array[:0], array.dtype).dtype,
                                                             shape=array.shape))
    raw = memoryview(np.ascontiguousarray(array).view(np.uint8).reshape(-1))
    for start in range(0, len(raw), chunk_bytes):
        yield pb.UploadTensorRequest(chunk=bytes(raw[start:start + chunk_bytes]))


def upload(stub, array: np.ndarray, chunk_bytes: int = 1000) -> str:
    response = stub.UploadTensor(_parts(array, chunk_bytes))
    assert response.received_bytes == array.nbytes
    return response.upload_id


def download(stub, session_id: str, value_id: str, grad: bool = False, chunk_bytes: int = 0) -> tuple[np.ndarray, int]:
    """The tensor and the number of chunks it came in."""
    parts = iter(stub.DownloadTensor(pb.DownloadTensorRequest(session_id=session_id, id=value_id, grad=grad,
                                                              chunk_bytes=chunk_bytes)))
    header = next(parts).header
    data = bytearray()
    count = 0
    for part in parts:
        data += part.chunk
        count += 1
    header.data = bytes(data)
    return to_array(header), count


def _upload_leaf(value_id: str, upload_id: str, requires_grad: bool = True) -> pb.Leaf:
    return pb.Leaf(id=value_id, upload_id=upload_id, requires_grad=requires_grad)


@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
def test_upload_use_and_download_in_chunks(stub):
    x = np.arange(100_000, dtype=np.float64).reshape(100, 1000)
    upload_id = upload(stub, x, chunk_bytes=77_777)
    session_id = stub.CreateSession(pb.CreateSessionRequest(graph=pb.Graph(
        leaves=[_upload_leaf("x", upload_id)], nodes=[node("y", "mul", "x", "x"), node("s", "sum", "y")]))).session_id
    stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("s")]))
    value, chunks = download(stub, session_id, "x", chunk_bytes=100_000)
    np.testing.assert_array_equal(value, x)
    assert chunks == 8
    grad, _ = download(stub, session_id, "x", grad=True)
    np.testing.assert_array_equal(grad, 2 * x)
    with raises_status(grpc.StatusCode.INVALID_ARGUMENT, "'y' has no grad"):
        download(stub, session_id, "y", grad=True)


def test_an_upload_is_consumed_once_but_survives_a_rejected_request(stub):
    upload_id = upload(stub, np.ones(3, np.float32))
    with raises_status(grpc.StatusCode.INVALID_ARGUMENT, "unknown op"):
        stub.Compute(pb.ComputeRequest(graph=pb.Graph(leaves=[_upload_leaf("x", upload_id)],
                                                      nodes=[node("y", "nope", "x")])))
    response = stub.Compute(pb.ComputeRequest(graph=pb.Graph(leaves=[_upload_leaf("x", upload_id)],
                                                             nodes=[node("s", "sum", "x")]), roots=[root("s")]))
    np.testing.assert_array_equal(arrays(response.grads)["x"], [1, 1, 1])
    with raises_status(grpc.StatusCode.NOT_FOUND, upload_id, "already used"):
        stub.Compute(pb.ComputeRequest(graph=pb.Graph(leaves=[_upload_leaf("x", upload_id)])))


HEADER = pb.UploadTensorRequest(header=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[4]))
CHUNK = pb.UploadTensorRequest(chunk=b"\0" * 8)


@pytest.mark.parametrize("parts, code, fragment", [
    ([], grpc.StatusCode.INVALID_ARGUMENT, "starts with a header"),
    ([CHUNK], grpc.StatusCode.INVALID_ARGUMENT, "starts with a header"),
    ([HEADER, CHUNK, HEADER], grpc.StatusCode.INVALID_ARGUMENT, "one header"),
    ([HEADER, CHUNK, CHUNK, CHUNK], grpc.StatusCode.INVALID_ARGUMENT, "overflows"),
    ([HEADER, CHUNK], grpc.StatusCode.INVALID_ARGUMENT, "after 8 of 16 bytes"),
    ([pb.UploadTensorRequest(header=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[1], data=b"\0" * 4))],
     grpc.StatusCode.INVALID_ARGUMENT, "chunks"),
    ([pb.UploadTensorRequest(header=pb.Tensor(shape=[4]))], grpc.StatusCode.INVALID_ARGUMENT, "dtype"),
    # 8 TiB: refused from the header alone, nothing allocated
    ([pb.UploadTensorRequest(header=pb.Tensor(dtype=pb.DTYPE_FLOAT64, shape=[1 << 40]))],
     grpc.StatusCode.RESOURCE_EXHAUSTED, "per-request budget"),
])
def test_malformed_uploads_are_refused(stub, parts, code, fragment):
    with raises_status(code, fragment):
        stub.UploadTensor(iter(parts))


def test_results_over_the_message_limit_are_deferred_to_download(start_server):
    _, stub, _ = start_server(max_message_bytes=2 * MiB)
    x = np.random.default_rng(0).standard_normal(3 * MiB // 8)  # 3 MiB of float64: more than one message
    session = stub.CreateSession(pb.CreateSessionRequest(graph=pb.Graph(
        leaves=[_upload_leaf("x", upload(stub, x, chunk_bytes=MiB))], nodes=[node("s", "sum", "x")]),
        return_values=["s", "x"]))
    values = {item.id: item for item in session.values}
    assert not values["s"].deferred and values["x"].deferred
    assert list(values["x"].tensor.shape) == [x.size] and not values["x"].tensor.data
    backward = stub.Backward(pb.BackwardRequest(session_id=session.session_id, roots=[root("s")]))
    assert backward.grads[0].deferred
    grad, chunks = download(stub, session.session_id, "x", grad=True)
    np.testing.assert_array_equal(grad, np.ones_like(x))
    assert chunks > 1  # the default chunk is capped below the message limit
    with raises_status(grpc.StatusCode.RESOURCE_EXHAUSTED, "message limit", "DownloadTensor"):
        stub.Compute(pb.ComputeRequest(graph=pb.Graph(
            leaves=[_upload_leaf("x", upload(stub, x, chunk_bytes=MiB))], nodes=[node("s", "sum", "x")]),
            roots=[root("s")]))


def test_a_256_mib_tensor_streams_up_and_its_grad_down(stub):
    x = np.random.default_rng(1).standard_normal(256 * MiB // 4, dtype=np.float32)
    upload_id = upload(stub, x, chunk_bytes=8 * MiB)
    session_id = stub.CreateSession(pb.CreateSessionRequest(graph=pb.Graph(
        leaves=[_upload_leaf("x", upload_id)], nodes=[node("sq", "mul", "x", "x"), node("s", "sum", "sq")]))).session_id
    response = stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("s")]))
    assert response.grads[0].deferred  # 256 MiB does not fit the default 256 MiB message limit
    grad, _ = download(stub, session_id, "x", grad=True, chunk_bytes=8 * MiB)
    np.testing.assert_array_equal(grad, 2 * x)
    stub.CloseSession(pb.CloseSessionRequest(session_id=session_id))


def test_download_works_under_a_message_limit_of_one_mib(start_server):
    _, stub, _ = start_server(max_message_bytes=MiB)
    x = np.arange(MiB // 8, dtype=np.float64)  # 1 MiB: over the limit with its envelope
    session = stub.CreateSession(pb.CreateSessionRequest(graph=pb.Graph(
        leaves=[_upload_leaf("x", upload(stub, x, chunk_bytes=MiB // 4))])))
    value, chunks = download(stub, session.session_id, "x", chunk_bytes=MiB)
    np.testing.assert_array_equal(value, x)
    assert chunks > 1


def test_inline_bytes_metadata_defers_larger_tensors_of_session_calls(stub):
    x = np.arange(3000, dtype=np.float32)  # 12,000 bytes
    small = np.arange(4, dtype=np.float32)
    inline = (("gradwire-inline-bytes", "4000"),)
    response, call = stub.CreateSession.with_call(pb.CreateSessionRequest(
        graph=pb.Graph(leaves=[pb.Leaf(id="x", value=tensor(x), requires_grad=True),
                               pb.Leaf(id="w", value=tensor(small), requires_grad=True)],
                       nodes=[node("y", "mul", "x", "x"), node("s", "sum", "y"), node("t", "sum", "w")]),
        return_values=["x", "w"]), metadata=inline)
    session_id = response.session_id
    big, little = response.values
    assert big.deferred and not big.tensor.data and list(big.tensor.shape) == [3000]
    assert not little.deferred and np.array_equal(to_array(little.tensor), small)
    backward = stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("s"), root("t")],
                                                return_grads=["x", "w"]), metadata=inline)
    assert [named.deferred for named in backward.grads] == [True, False]
    grad, _ = download(stub, session_id, "x", grad=True)
    np.testing.assert_array_equal(grad, 2 * x)
    # Without the metadata both fit in the response, as before.
    read = stub.Read(pb.ReadRequest(session_id=session_id, grads=["x", "w"]))
    assert [named.deferred for named in read.grads] == [False, False]
    np.testing.assert_array_equal(to_array(read.grads[0].tensor), 2 * x)


def test_inline_bytes_metadata_leaves_one_shot_compute_inline(stub):
    x = np.arange(3000, dtype=np.float32)
    response = stub.Compute(pb.ComputeRequest(
        graph=pb.Graph(leaves=[pb.Leaf(id="x", value=tensor(x), requires_grad=True)], nodes=[node("s", "sum", "x")]),
        roots=[root("s")], return_grads=["x"]), metadata=(("gradwire-inline-bytes", "10"),))
    assert not response.grads[0].deferred
    np.testing.assert_array_equal(to_array(response.grads[0].tensor), np.ones_like(x))


@pytest.mark.parametrize("value", ["-1", "lots", "1e6", "9" * 30])
def test_inline_bytes_metadata_must_be_a_byte_count(stub, value):
    with raises_status(grpc.StatusCode.INVALID_ARGUMENT, "gradwire-inline-bytes metadata must be a number"):
        stub.CreateSession(pb.CreateSessionRequest(graph=pb.Graph(
            leaves=[pb.Leaf(id="x", value=tensor(np.ones(2, np.float32)))]), return_values=["x"]),
            metadata=(("gradwire-inline-bytes", value),))
