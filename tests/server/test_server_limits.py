"""Caps: number of sessions, bytes retained by sessions and uploads, bytes per request, message size.
At a cap new work is refused with RESOURCE_EXHAUSTED; live sessions are never evicted."""

from __future__ import annotations

import time

import grpc
import numpy as np

from gradwire.server.footprint import TENSOR_BYTES
from gradwire.v1 import gradwire_pb2 as pb
from server_helpers import arrays, graph, leaf, node, raises_status, root

EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED
KiB = 1 << 10


def _create(stub, *items) -> str:
    return stub.CreateSession(pb.CreateSessionRequest(graph=graph(*items))).session_id


def _still_works(stub, session_id: str, value_id: str = "x") -> None:
    read = stub.Read(pb.ReadRequest(session_id=session_id, values=[value_id]))
    assert arrays(read.values)[value_id] is not None


def test_session_count_cap(start_server):
    _, stub, _ = start_server(max_sessions=2)
    first, second = _create(stub, leaf("x", [1.0])), _create(stub, leaf("x", [2.0]))
    with raises_status(EXHAUSTED, "maximum of 2 sessions"):
        _create(stub, leaf("x", [3.0]))
    _still_works(stub, first)
    _still_works(stub, second)
    stub.CloseSession(pb.CloseSessionRequest(session_id=first))
    _still_works(stub, _create(stub, leaf("x", [3.0])))


def test_retained_bytes_cap_refuses_new_sessions_and_growth(start_server):
    _, stub, _ = start_server(max_session_bytes=1000 * KiB)
    big = np.zeros(150 * KiB // 4 * 4, np.float32)  # 600 KiB
    first = _create(stub, leaf("x", big, requires_grad=True), node("s", "sum", "x"))
    with raises_status(EXHAUSTED, "GRADWIRE_MAX_SESSION_BYTES"):
        _create(stub, leaf("x", big))
    with raises_status(EXHAUSTED, "GRADWIRE_MAX_SESSION_BYTES"):
        stub.Extend(pb.ExtendRequest(session_id=first, graph=graph(node("y", "mul", "x", 2.0))))
    with raises_status(grpc.StatusCode.INVALID_ARGUMENT, "unknown id 'y'"):
        stub.Read(pb.ReadRequest(session_id=first, values=["y"]))  # the refused Extend added nothing
    # a backward that grows a live session is never refused; new sessions then wait for room
    stub.Backward(pb.BackwardRequest(session_id=first, roots=[root("s")]))
    with raises_status(EXHAUSTED):
        _create(stub, leaf("x", np.zeros(50 * KiB // 4, np.float32)))
    stub.CloseSession(pb.CloseSessionRequest(session_id=first))
    _still_works(stub, _create(stub, leaf("x", big)))


def test_pending_uploads_count_against_the_retained_cap(start_server):
    _, stub, _ = start_server(max_session_bytes=1000 * KiB)
    data = np.zeros(600 * KiB, np.uint8).tobytes()
    header = pb.UploadTensorRequest(header=pb.Tensor(dtype=pb.DTYPE_BOOL, shape=[len(data)]))
    stub.UploadTensor(iter([header, pb.UploadTensorRequest(chunk=data)]))
    with raises_status(EXHAUSTED, "this upload"):
        stub.UploadTensor(iter([header, pb.UploadTensorRequest(chunk=data)]))


def test_per_request_budget(start_server):
    _, stub, _ = start_server(max_request_bytes=100 * KiB)
    with raises_status(EXHAUSTED, "leaves", "GRADWIRE_MAX_REQUEST_BYTES"):
        stub.Compute(pb.ComputeRequest(graph=graph(leaf("x", np.zeros(200 * KiB // 4)))))
    with raises_status(EXHAUSTED, "'outer'") as error:
        stub.Compute(pb.ComputeRequest(graph=graph(
            leaf("col", np.zeros((1000, 1))), leaf("row", np.zeros((1, 1000))), node("outer", "add", "col", "row"))))
    assert error["trailers"]["gradwire-node-id"] == "outer"
    response = stub.Compute(pb.ComputeRequest(graph=graph(leaf("x", [1.0, 2.0], requires_grad=True),
                                                          node("s", "sum", "x")), roots=[root("s")]))
    np.testing.assert_array_equal(arrays(response.grads)["x"], [1, 1])


def test_message_size_limit_is_configurable(start_server):
    _, stub, _ = start_server(max_message_bytes=1 << 20)
    with raises_status(EXHAUSTED):
        stub.Compute(pb.ComputeRequest(graph=graph(leaf("x", np.zeros(1 << 19)))))  # 4 MiB of float64
    _, default_stub, _ = start_server()
    response = default_stub.Compute(pb.ComputeRequest(graph=graph(leaf("x", np.ones(1 << 21))),
                                                      return_values=["x"]))  # 16 MiB: above gRPC's 4 MiB default
    assert arrays(response.values)["x"].sum() == 1 << 21


def _eventually(condition, attempts: int = 200) -> bool:
    for _ in range(attempts):
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_the_reaper_frees_idle_sessions_and_uploads_without_being_asked(start_server):
    server, stub, _ = start_server(session_ttl=1.0)
    _create(stub, leaf("x", np.zeros(1000)))
    stub.UploadTensor(iter([pb.UploadTensorRequest(header=pb.Tensor(dtype=pb.DTYPE_BOOL, shape=[10])),
                            pb.UploadTensorRequest(chunk=bytes(10))]))
    assert server.sessions.retained.used == 4000 + TENSOR_BYTES + 10  # the session's leaf, and the upload
    # no call names the session again: only the background reaper can free it
    assert _eventually(lambda: len(server.sessions) == 0 and server.sessions.retained.used == 0)


def test_an_upload_handed_to_a_session_is_counted_once(start_server):
    server, stub, _ = start_server(max_session_bytes=1000 * KiB)
    data = np.ones(600 * KiB, np.uint8).tobytes()
    upload_id = stub.UploadTensor(iter([
        pb.UploadTensorRequest(header=pb.Tensor(dtype=pb.DTYPE_BOOL, shape=[len(data)])),
        pb.UploadTensorRequest(chunk=data)])).upload_id
    session_id = stub.CreateSession(pb.CreateSessionRequest(graph=pb.Graph(
        leaves=[pb.Leaf(id="x", upload_id=upload_id)]))).session_id  # 600 + 600 would pass the cap
    assert server.sessions.retained.used == len(data) + TENSOR_BYTES
    stub.CloseSession(pb.CloseSessionRequest(session_id=session_id))
    assert server.sessions.retained.used == 0


def test_a_refused_session_leaves_its_upload_usable(start_server):
    server, stub, _ = start_server(max_session_bytes=1000 * KiB)
    x = np.ones(150 * KiB, np.float32)  # 600 KiB
    upload_id = stub.UploadTensor(iter([pb.UploadTensorRequest(header=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=x.shape)),
                                        pb.UploadTensorRequest(chunk=x.tobytes())])).upload_id
    too_big = pb.CreateSessionRequest(graph=pb.Graph(leaves=[pb.Leaf(id="x", upload_id=upload_id),
                                                             leaf("y", x)]))
    with raises_status(EXHAUSTED, "a new session"):  # refused when registering, after the graph was built
        stub.CreateSession(too_big)
    session = stub.CreateSession(pb.CreateSessionRequest(
        graph=pb.Graph(leaves=[pb.Leaf(id="x", upload_id=upload_id)], nodes=[node("s", "sum", "x")]),
        return_values=["s"]))
    assert arrays(session.values)["s"] == x.size
    assert server.sessions.retained.used == x.nbytes + 4 + 2 * TENSOR_BYTES  # x, and s: one float32
