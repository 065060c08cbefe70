"""Issue 11, findings 2, 3, 6, 7, 8 and 9: streams that cannot starve the workers, no leaked reservation
when a session closes under a call, refused requests that change nothing, caller mistakes answered
INVALID_ARGUMENT (never INTERNAL), bounded echo, squatting limits, and a busy port refused.
Each test talks to a real server over loopback (or runs the real server process)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gradwire.v1 import gradwire_pb2 as pb
from server_helpers import arrays, graph, index, leaf, node, raises_status, root

INVALID = grpc.StatusCode.INVALID_ARGUMENT
EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED
SERVING = health_pb2.HealthCheckResponse.SERVING


def _session(stub, *items, **kwargs) -> str:
    return stub.CreateSession(pb.CreateSessionRequest(graph=graph(*items), **kwargs)).session_id


def _read(stub, session: str, *ids: str) -> dict:
    return arrays(stub.Read(pb.ReadRequest(session_id=session, values=list(ids))).values)


# ------------------------------------------------------------------ 2: worker starvation

def _stalled_upload(stub, nbytes: int = 1 << 20):
    """An upload that sends its header and one chunk, then nothing until `release` is set."""
    release = threading.Event()

    def parts():
        yield pb.UploadTensorRequest(header=pb.Tensor(dtype=pb.DTYPE_BOOL, shape=[nbytes]))
        yield pb.UploadTensorRequest(chunk=bytes(10))
        release.wait(60)

    return stub.UploadTensor.future(parts(), timeout=60), release


def test_finding_2_stalled_uploads_are_ended_and_capped(start_server):
    server, stub, channel = start_server(workers=4, stream_idle_seconds=0.5, max_streams=2,
                                         max_streams_per_caller=2)
    health = health_pb2_grpc.HealthStub(channel)
    stalled = [_stalled_upload(stub) for _ in range(2)]
    time.sleep(0.2)
    # a third stream is refused at once, while the workers stay free for unary calls and health
    third, release_third = _stalled_upload(stub)
    with pytest.raises(grpc.RpcError) as caught:
        third.result(timeout=30)
    release_third.set()
    assert caught.value.code() == EXHAUSTED and "GRADWIRE_MAX_STREAMS" in caught.value.details()
    assert health.Check(health_pb2.HealthCheckRequest(), timeout=1).status == SERVING
    response = stub.Compute(pb.ComputeRequest(graph=graph(leaf("x", [1.0, 2.0]), node("y", "mul", "x", 3.0)),
                                              return_values=["y"]), timeout=5)
    np.testing.assert_array_equal(arrays(response.values)["y"], [3.0, 6.0])
    # the stalled ones are ended after the idle time, releasing their reservation
    for future, release in stalled:
        with pytest.raises(grpc.RpcError) as caught:
            future.result(timeout=30)
        release.set()
        assert caught.value.code() == grpc.StatusCode.CANCELLED
    deadline = time.monotonic() + 10
    while server.sessions.retained.used and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.sessions.retained.used == 0


def test_finding_2_an_upload_that_dribbles_is_ended_like_a_stalled_one(start_server):
    server, stub, _ = start_server(stream_idle_seconds=0.5)
    stop = threading.Event()

    def parts():  # a few bytes every 100 ms: never silent, never really sending
        yield pb.UploadTensorRequest(header=pb.Tensor(dtype=pb.DTYPE_BOOL, shape=[1 << 20]))
        while not stop.wait(0.1):
            yield pb.UploadTensorRequest(chunk=bytes(4))

    with pytest.raises(grpc.RpcError) as caught:
        stub.UploadTensor(parts(), timeout=60)
    stop.set()
    assert caught.value.code() == grpc.StatusCode.CANCELLED


def test_finding_2_streams_per_caller_are_capped(start_server):
    _, stub, _ = start_server(workers=8, stream_idle_seconds=5.0, max_streams=4, max_streams_per_caller=1)
    first, release_first = _stalled_upload(stub)
    time.sleep(0.2)
    second, release_second = _stalled_upload(stub)
    with pytest.raises(grpc.RpcError) as caught:
        second.result(timeout=30)
    release_second.set()
    assert caught.value.code() == EXHAUSTED and "GRADWIRE_MAX_STREAMS_PER_CALLER" in caught.value.details()
    release_first.set()  # the first one ends (incomplete), freeing the caller's slot
    with pytest.raises(grpc.RpcError):
        first.result(timeout=30)


def test_finding_2_a_download_nobody_reads_is_ended_and_frees_the_session(start_server):
    _, stub, _ = start_server(stream_idle_seconds=0.5, max_message_bytes=1 << 20)
    x = np.ones(8 << 20, np.float32)  # 32 MiB: far more than the flow-control windows hold
    upload = stub.UploadTensor(iter([pb.UploadTensorRequest(header=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=x.shape))]
                                    + [pb.UploadTensorRequest(chunk=part.tobytes()) for part in np.split(x, 64)]))
    session = stub.CreateSession(pb.CreateSessionRequest(graph=pb.Graph(
        leaves=[pb.Leaf(id="x", upload_id=upload.upload_id)]))).session_id
    stream = stub.DownloadTensor(pb.DownloadTensorRequest(session_id=session, id="x"), timeout=60)
    next(stream)  # the header; then stop reading
    time.sleep(2.0)
    # the session lock was freed: a call on the session goes through
    stub.Extend(pb.ExtendRequest(session_id=session, graph=graph(node("y", "sum", "x"))), timeout=10)
    with pytest.raises(grpc.RpcError) as caught:
        for _ in stream:
            pass
    assert caught.value.code() == grpc.StatusCode.CANCELLED


# ------------------------------------------------------------------ 3: leaked reservations

def test_finding_3_close_during_extend_leaks_nothing_and_never_answers_ok(start_server):
    server, stub, _ = start_server(workers=4)
    for _ in range(3):
        data = np.ones(1 << 20, np.float32)
        upload_id = stub.UploadTensor(iter([
            pb.UploadTensorRequest(header=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=data.shape)),
            pb.UploadTensorRequest(chunk=data.tobytes())])).upload_id
        session = _session(stub, leaf("x", np.ones(1 << 20, np.float32)))
        chain = [node(f"y{k}", "exp" if k % 2 else "neg", f"y{k - 1}" if k else "x") for k in range(60)]
        extend = stub.Extend.future(pb.ExtendRequest(session_id=session, graph=pb.Graph(
            leaves=[pb.Leaf(id="u", upload_id=upload_id)], nodes=chain)))
        time.sleep(0.05)
        stub.CloseSession(pb.CloseSessionRequest(session_id=session))
        try:
            extend.result(timeout=60)
            ok = True  # the Extend finished before the close: it committed, then the close freed it
        except grpc.RpcError as error:
            ok = False
            assert error.code() == grpc.StatusCode.NOT_FOUND, error.details()
        with raises_status(grpc.StatusCode.NOT_FOUND):
            _read(stub, session, "x")
        # whatever the order, nothing stays counted but the upload an unfinished Extend gave back
        expected = 0 if ok else data.nbytes
        assert server.sessions.retained.used == expected
        if not ok:
            server.uploads.consume([upload_id])
        assert server.sessions.retained.used == 0


# ------------------------------------------------------------------ 6: all or nothing

@pytest.fixture
def pair(start_server):
    server, stub, _ = start_server(max_session_bytes=1 << 20)
    session = _session(stub, leaf("a", [1.0, 2.0]), leaf("w", [1.0, 2.0], requires_grad=True),
                       node("v", "getitem", "a", index=index(slice(0, 1))))
    return server, stub, session


def _unchanged(stub, session):
    values = _read(stub, session, "a", "v")
    np.testing.assert_array_equal(values["a"], [1.0, 2.0])
    np.testing.assert_array_equal(values["v"], [1.0])


def test_finding_6_unknown_return_value_undoes_setitem(pair):
    _, stub, session = pair
    with raises_status(INVALID, "nope"):
        stub.Extend(pb.ExtendRequest(session_id=session, graph=graph(node("s", "setitem", "a", 9.0, index=index(0))),
                                     return_values=["nope"]))
    _unchanged(stub, session)


def test_finding_6_refused_commit_undoes_setitem(pair):
    _, stub, session = pair
    with raises_status(EXHAUSTED, "GRADWIRE_MAX_SESSION_BYTES"):
        stub.Extend(pb.ExtendRequest(session_id=session, graph=graph(
            node("s", "setitem", "a", 9.0, index=index(0)), leaf("big", np.zeros(1 << 18, np.float32)))))
    _unchanged(stub, session)


def test_finding_6_zero_on_a_view_then_failure_is_undone(pair):
    _, stub, session = pair
    with raises_status(INVALID, "'bad'"):
        stub.Extend(pb.ExtendRequest(session_id=session, graph=graph(
            node("z", "zero_", "v"), leaf("k", [1.0, 2.0, 3.0]), node("bad", "add", "a", "k"))))
    _unchanged(stub, session)
    # the version counters were restored too: the session still works as torch would
    stub.Extend(pb.ExtendRequest(session_id=session, graph=graph(node("z", "zero_", "v"))))
    np.testing.assert_array_equal(_read(stub, session, "a")["a"], [0.0, 2.0])


def test_finding_6_a_refused_extend_keeps_the_autograd_state(pair):
    _, stub, session = pair
    stub.Extend(pb.ExtendRequest(session_id=session, graph=graph(node("p", "mul", "w", "a"))))
    with raises_status(INVALID, "nope"):  # under no_grad, as an optimizer step
        stub.Extend(pb.ExtendRequest(session_id=session, graph=graph(
            node("s", "setitem", "a", 5.0, index=index(1), no_grad=True)), return_values=["nope"]))
    stub.Extend(pb.ExtendRequest(session_id=session, graph=graph(node("l", "sum", "p"))))
    response = stub.Backward(pb.BackwardRequest(session_id=session, roots=[root("l")]))  # a was not bumped
    np.testing.assert_array_equal(arrays(response.grads)["w"], [1.0, 2.0])


def test_finding_6_a_refused_extend_keeps_the_grads_it_zeroed(pair):
    """zero_grad_ (optimizer.zero_grad in a batch) then a refused node: w.grad is as it was."""
    _, stub, session = pair
    stub.Extend(pb.ExtendRequest(session_id=session, graph=graph(node("p", "mul", "w", "a"), node("l", "sum", "p"))))
    stub.Backward(pb.BackwardRequest(session_id=session, roots=[root("l")]))
    for set_to_none in (False, True):
        zero = node("z", "zero_grad_", "w")
        zero.attrs["set_to_none"].boolean = set_to_none
        with raises_status(INVALID, "nope"):
            stub.Extend(pb.ExtendRequest(session_id=session, graph=graph(zero), return_values=["nope"]))
        grads = arrays(stub.Read(pb.ReadRequest(session_id=session, grads=["w"])).grads)
        np.testing.assert_array_equal(grads["w"], [1.0, 2.0])


# ------------------------------------------------------------------ 7: caller mistakes are INVALID_ARGUMENT

def _no_internal(call):
    with pytest.raises(grpc.RpcError) as caught:
        call()
    assert caught.value.code() == INVALID, (caught.value.code(), caught.value.details())
    return caught.value


@pytest.mark.parametrize("bad_id", ["é", "a\x01b", "tab\tbed", "x" * 20_000])
def test_finding_7_ids_with_odd_characters(stub, bad_id):
    error = _no_internal(lambda: stub.Compute(pb.ComputeRequest(graph=graph(leaf(bad_id, [1.0])))))
    assert len(error.details()) < 3000
    node_id = dict(error.trailing_metadata())["gradwire-node-id"]
    assert node_id.isascii() and node_id.isprintable() and len(node_id) <= 300


INT_CASES = {
    "int32 + 2**40": [leaf("i", [1, 2], np.int32), node("y", "add", "i", 1 << 40)],
    "clamp int32": [leaf("i", [1, 2], np.int32), node("y", "clamp", "i", min=float(1 << 40))],
    "setitem 1e308": [leaf("i", [1, 2], np.int64), node("y", "setitem", "i", 1e308, index=index(0))],
    "setitem -inf": [leaf("i", [1, 2], np.int64), node("y", "setitem", "i", float("-inf"), index=index(0))],
    "copy_slices 2**40": [leaf("i", [1, 2], np.int32), node("y", "copy_slices", "i", 1 << 40, index=index(0))],
    "mul int64 by 2**70": [leaf("i", [1, 2], np.int64), node("y", "mul", "i", 1 << 62), node("z", "mul", "y", 1 << 62)],
}


@pytest.mark.parametrize("items", INT_CASES.values(), ids=INT_CASES.keys())
def test_finding_7_python_numbers_out_of_an_int_tensors_range(stub, items):
    try:
        stub.Compute(pb.ComputeRequest(graph=graph(*items)))
    except grpc.RpcError as error:  # torch refuses these with a RuntimeError; some it wraps silently
        assert error.code() == INVALID, (error.code(), error.details())


def test_finding_7_empty_tensors_with_huge_dims(stub):
    huge = [0, 1 << 62, 1 << 62]
    _no_internal(lambda: stub.Compute(pb.ComputeRequest(graph=pb.Graph(
        leaves=[pb.Leaf(id="x", value=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=huge))]))))
    _no_internal(lambda: stub.UploadTensor(iter([pb.UploadTensorRequest(
        header=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=huge))])))
    _no_internal(lambda: stub.Compute(pb.ComputeRequest(graph=graph(
        leaf("x", np.zeros(0, np.float32)), node("y", "index_backward", "x", shape=huge, index=index(0))))))


def test_finding_7_results_of_rank_65(stub):
    x = leaf("x", np.zeros([1] * 64, np.float32))
    _no_internal(lambda: stub.Compute(pb.ComputeRequest(graph=graph(x, node("y", "unsqueeze", "x", dim=0)))))
    _no_internal(lambda: stub.Compute(pb.ComputeRequest(graph=graph(x, node("y", "stack", "x", "x", dim=0)))))
    _no_internal(lambda: stub.Compute(pb.ComputeRequest(graph=graph(
        leaf("v", [1.0]), node("y", "index_backward", "v", shape=[1] * 65, index=index(0))))))


@pytest.mark.parametrize("seed", [np.float32(1.0), np.zeros((0, 2), np.float32)], ids=["0-d", "empty"])
def test_finding_7_batched_grad_seed_without_a_batch(stub, seed):
    session = _session(stub, leaf("x", [1.0, 2.0], requires_grad=True), node("y", "mul", "x", "x"))
    seed_root = root("y", seed)
    _no_internal(lambda: stub.Grad(pb.GradRequest(session_id=session, outputs=[seed_root], inputs=["x"],
                                                  is_grads_batched=True)))


def test_finding_7_request_bytes_that_do_not_parse(channel):
    call = channel.unary_unary("/gradwire.v1.GradwireService/Compute")
    error = _no_internal(lambda: call(b"\xff\xff\xff\xff"))
    assert "ComputeRequest" in error.details()
    upload = channel.stream_unary("/gradwire.v1.GradwireService/UploadTensor")
    _no_internal(lambda: upload(iter([b"\x0a\xff\xff"])))


# ------------------------------------------------------------------ 8: squatting and echo

def test_finding_8_per_caller_session_cap(start_server):
    _, stub, _ = start_server(max_sessions_per_caller=2)
    first = _session(stub, leaf("x", [1.0]))
    _session(stub, leaf("x", [1.0]))
    with raises_status(EXHAUSTED, "GRADWIRE_MAX_SESSIONS_PER_CALLER"):
        _session(stub, leaf("x", [1.0]))
    stub.CloseSession(pb.CloseSessionRequest(session_id=first))
    _session(stub, leaf("x", [1.0]))


def test_finding_8_ttl_is_clamped(start_server):
    server, stub, _ = start_server(max_session_ttl=60.0)
    session = _session(stub, leaf("x", [1.0]), ttl_seconds=2**32 - 1)
    assert server.sessions._sessions[session].ttl == 60.0


def test_finding_8_a_locked_session_still_expires(start_server):
    server, stub, _ = start_server(session_ttl=0.3)
    session = _session(stub, leaf("x", [1.0]))
    with server.sessions._sessions[session].lock:  # held, as by a call that never ends
        time.sleep(0.8)
        assert server.sessions.expire() >= 0
        deadline = time.monotonic() + 5
        while session in server.sessions._sessions and time.monotonic() < deadline:
            time.sleep(0.05)
    assert session not in server.sessions._sessions
    assert server.sessions.retained.used == 0
    with raises_status(grpc.StatusCode.NOT_FOUND, "expired"):
        _read(stub, session, "x")


def test_finding_8_echo_is_bounded(stub):
    long_ref = "r" * 20_000
    with raises_status(INVALID, "unknown id") as error:
        stub.Compute(pb.ComputeRequest(graph=graph(leaf("x", [1.0]), node("y", "neg", long_ref))))
    assert len(error["details"]) < 3000
    with raises_status(grpc.StatusCode.NOT_FOUND):
        stub.Read(pb.ReadRequest(session_id="f" * 20_000, values=["x"]))


# ------------------------------------------------------------------ 9: a busy port

def test_finding_9_a_second_server_on_a_busy_port_exits_non_zero(server):
    process = subprocess.run([sys.executable, "-m", "gradwire.server", "--address", f"127.0.0.1:{server.port}"],
                             capture_output=True, text=True, timeout=60)
    assert process.returncode != 0
    assert "cannot listen on" in process.stderr and str(server.port) in process.stderr
