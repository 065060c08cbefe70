"""Issue 11, findings 1, 4 and 5: every byte a request allocates is charged before it is allocated, work is
bounded up front, deadlines and cancellation stop a request, and session caps count what is really held.
Each test talks to a real server over loopback."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
import torch
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gradwire.v1 import gradwire_pb2 as pb
from server_helpers import DType, arrays, graph, index, leaf, node, raises_status, root

MiB = 1 << 20
EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED
BIG = [16384, 8192]  # 512 MiB of float32 from a single element


@pytest.fixture
def small(start_server):
    """A server as the issue found it: 64 MiB per request, 128 MiB retained."""
    return start_server(workers=4, max_request_bytes=64 * MiB, max_session_bytes=128 * MiB, max_sessions=64)


def _compute(stub, *items, values=(), **kwargs):
    return stub.Compute(pb.ComputeRequest(graph=graph(*items), return_values=list(values)), **kwargs)


@pytest.mark.parametrize("make", [
    lambda: [node("y", "clone", "e")],
    lambda: [node("y", "to", "e", dtype=DType("float64"))],
    lambda: [node("y", "reshape", "e", shape=[-1])],
    lambda: [node("y", "exp", "e")],
    lambda: [node("y", "neg", "e")],
    lambda: [node("y", "softmax", "e", dim=1)],
    lambda: [node("t", "transpose", "e", dim0=0, dim1=1), node("y", "clone", "t")],
], ids=["clone", "to", "reshape", "exp", "neg", "softmax", "transpose-clone"])
def test_finding_1_ops_on_an_expanded_view_are_charged_their_real_size(small, make):
    _, stub, _ = small
    with raises_status(EXHAUSTED, "budget") as error:
        _compute(stub, leaf("x", [[1.0]]), node("e", "expand", "x", shape=BIG), *make())
    assert error["trailers"]["gradwire-node-id"] in ("y", "t")


def test_finding_1_view_of_base_with_an_expanded_index_is_charged(small):
    _, stub, _ = small
    with raises_status(EXHAUSTED, "budget"):
        _compute(stub, leaf("x", [1.0, 2.0]), leaf("i", [0], np.int64),
                 node("ie", "expand", "i", shape=[1 << 25]), node("y", "view_of_base", "x", index=index("ie")))


def test_finding_1_intermediates_kept_alive_add_up(small):
    _, stub, _ = small
    x = np.ones(4 * MiB // 4 * 4 // 4, np.float32)  # 4 MiB
    chain = [node(f"y{k}", "neg", f"y{k - 1}" if k else "x") for k in range(20)]  # 20 x 4 MiB alive at once
    with raises_status(EXHAUSTED, "budget"):
        _compute(stub, leaf("x", x), *chain)
    # a shorter chain fits, and gives torch's values
    response = _compute(stub, leaf("x", x), *chain[:5], values=["y4"])
    np.testing.assert_array_equal(arrays(response.values)["y4"], -x)


def test_finding_1_views_are_free_and_small_results_of_big_views_fit(small):
    _, stub, _ = small
    # The expanded view costs nothing; its sum allocates one number; the work is 2**27 elements.
    response = _compute(stub, leaf("x", [[2.0]]), node("e", "expand", "x", shape=BIG), node("s", "sum", "e"),
                        node("m", "mean", "e", dim=1), values=["s", "m"])
    expected = torch.tensor([[2.0]]).expand(*BIG)
    np.testing.assert_allclose(arrays(response.values)["s"], expected.sum().numpy(), rtol=1e-6)
    np.testing.assert_allclose(arrays(response.values)["m"], expected.mean(dim=1).numpy())


def test_finding_1_backward_is_charged(start_server):
    _, stub, _ = start_server(max_request_bytes=64 * MiB)
    # The gradient of an expanded leaf is as large as the leaf: 32 MiB per step, many steps alive at once.
    x = np.ones(8 * MiB // 4, np.float32)
    session = stub.CreateSession(pb.CreateSessionRequest(graph=graph(
        leaf("x", x, requires_grad=True), node("a", "mul", "x", "x"), node("s", "sum", "a")))).session_id
    response = stub.Backward(pb.BackwardRequest(session_id=session, roots=[root("s")]))
    np.testing.assert_array_equal(arrays(response.grads)["x"], 2 * x)


def test_finding_4_work_is_bounded_up_front(start_server):
    _, stub, channel = start_server(max_request_work=1 << 28)
    health = health_pb2_grpc.HealthStub(channel)
    # sum(expand(x, [2**40])): refused before a single element is read
    with raises_status(EXHAUSTED, "work bound") as error:
        _compute(stub, leaf("x", [1.0]), node("e", "expand", "x", shape=[1 << 40]), node("s", "sum", "e"))
    assert error["trailers"]["gradwire-node-id"] == "s"
    assert health.Check(health_pb2.HealthCheckRequest(), timeout=5).status == health_pb2.HealthCheckResponse.SERVING
    # within the bound it runs
    response = _compute(stub, leaf("x", [1.0]), node("e", "expand", "x", shape=[1 << 20]), node("s", "sum", "e"),
                        values=["s"])
    assert arrays(response.values)["s"] == 1 << 20


def test_finding_4_a_deadline_stops_the_request_and_commits_nothing(start_server):
    server, stub, channel = start_server(workers=2)
    x = np.ones(1 << 20, np.float32)
    session = stub.CreateSession(pb.CreateSessionRequest(graph=graph(leaf("x", x)))).session_id
    # ~400 nodes of a million elements each: far longer than a 50 ms deadline
    chain = [node(f"y{k}", "exp" if k % 2 else "neg", f"y{k - 1}" if k else "x") for k in range(400)]
    chain.insert(0, node("w", "setitem", "x", 7.0, index=index(0)))
    with pytest.raises(grpc.RpcError) as caught:
        stub.Extend(pb.ExtendRequest(session_id=session, graph=graph(*chain)), timeout=0.05)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    # the server stopped soon after the deadline (a short call gets a worker) and committed nothing
    read = stub.Read(pb.ReadRequest(session_id=session, values=["x"]), timeout=30)
    assert arrays(read.values)["x"][0] == 1.0
    with raises_status(grpc.StatusCode.INVALID_ARGUMENT, "unknown id 'y0'"):
        stub.Read(pb.ReadRequest(session_id=session, values=["y0"]), timeout=30)


def test_finding_4_download_chunks_have_a_minimum_size(start_server):
    _, stub, _ = start_server()
    x = np.arange(1 << 18, dtype=np.float32)  # 1 MiB
    session = stub.CreateSession(pb.CreateSessionRequest(graph=graph(leaf("x", x)))).session_id
    parts = list(stub.DownloadTensor(pb.DownloadTensorRequest(session_id=session, id="x", chunk_bytes=1)))
    assert len(parts) - 1 <= 16  # header + chunks of at least 64 KiB, not a message per byte
    assert b"".join(p.chunk for p in parts[1:]) == x.tobytes()


def test_finding_5_session_caps_count_saved_tensors_released_values_and_nodes(start_server):
    server, stub, _ = start_server(max_session_bytes=64 * MiB)
    x = np.ones(4 * MiB // 4, np.float32)  # 4 MiB
    session = stub.CreateSession(pb.CreateSessionRequest(graph=graph(leaf("x", x, requires_grad=True)))).session_id
    before = server.sessions.retained.used
    # five 4 MiB intermediates saved by the graph, then released by name
    items = [node(f"y{k}", "mul", f"y{k - 1}" if k else "x", f"y{k - 1}" if k else "x") for k in range(5)]
    stub.Extend(pb.ExtendRequest(session_id=session, graph=graph(*items, node("s", "sum", "y4"))))
    stub.Extend(pb.ExtendRequest(session_id=session, graph=graph(), release=[f"y{k}" for k in range(5)]))
    held = server.sessions.retained.used - before
    assert held >= 4 * x.nbytes  # y0..y3 are saved by the next mul; y4 by nothing (sum saves no input)
    # nodes count: a long chain of scalar ops is not free
    many = [node(f"z{k}", "mul", f"z{k - 1}" if k else "v", 1.0) for k in range(2000)]
    before = server.sessions.retained.used
    stub.Extend(pb.ExtendRequest(session_id=session, graph=graph(leaf("v", [1.0], requires_grad=True), *many),
                                 release=[f"z{k}" for k in range(1999)]))
    assert server.sessions.retained.used - before >= 2000 * 512
    # a backward frees the saved tensors, and the count follows
    stub.Backward(pb.BackwardRequest(session_id=session, roots=[root("s")]))
    assert server.sessions.retained.used < before


def test_finding_5_a_session_past_the_cap_by_saved_tensors_is_refused(start_server):
    _, stub, _ = start_server(max_session_bytes=20 * MiB)
    x = np.ones(2 * MiB // 4, np.float32)  # 2 MiB
    session = stub.CreateSession(pb.CreateSessionRequest(graph=graph(leaf("x", x, requires_grad=True)))).session_id
    with raises_status(EXHAUSTED, "GRADWIRE_MAX_SESSION_BYTES"):
        for step in range(20):  # each step saves 2 MiB in the graph, then releases the name
            stub.Extend(pb.ExtendRequest(session_id=session, graph=graph(
                node(f"y{step}", "mul", f"y{step - 1}" if step else "x", 1.5)), release=[f"y{step - 2}"]))


def test_finding_2_health_answers_while_every_worker_is_busy(start_server):
    _, stub, channel = start_server(workers=2, max_request_work=1 << 40)
    health = health_pb2_grpc.HealthStub(channel)
    x = np.ones(1 << 20, np.float32)
    chain = [node(f"y{k}", "exp" if k % 2 else "neg", f"y{k - 1}" if k else "x") for k in range(300)]
    futures = [stub.Compute.future(pb.ComputeRequest(graph=graph(leaf("x", x), *chain)), timeout=3)
               for _ in range(4)]
    try:
        for _ in range(3):
            reply = health.Check(health_pb2.HealthCheckRequest(), timeout=1)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        for future in futures:
            future.cancel()  # the server stops them between nodes


def test_finding_4_a_matrix_product_is_charged_its_multiply_adds(start_server):
    _, stub, _ = start_server(max_request_work=1 << 28)
    # (2**11 x 2**11) @ (2**11 x 2**11) of expanded scalars: 2**33 multiply-adds from one float of input
    with raises_status(EXHAUSTED, "work bound"):
        _compute(stub, leaf("x", [[1.0]]), node("a", "expand", "x", shape=[2048, 2048]),
                 node("p", "matmul", "a", "a"))
    response = _compute(stub, leaf("x", [[1.0]]), node("a", "expand", "x", shape=[256, 256]),
                        node("p", "matmul", "a", "a"), node("s", "sum", "p"), values=["s"])
    assert arrays(response.values)["s"] == 256 ** 3


def _rss() -> int:
    import resource

    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def _release_free_heap() -> None:
    """Hands the allocator's free pages back to the system, so that what the session allocates next shows
    in the RSS: otherwise memory freed by earlier tests in this process is reused without growing it, and
    the comparison depends on which tests ran before."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    libc_name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(libc_name) if libc_name else None
    if libc is not None and hasattr(libc, "malloc_trim"):  # glibc
        libc.malloc_trim(0)


def test_finding_5_what_sessions_are_counted_matches_the_process_memory(start_server):
    server, stub, _ = start_server(max_session_bytes=1 << 30)
    x = np.ones(2 * MiB, np.float32)  # 8 MiB
    _release_free_heap()
    baseline_rss, baseline_count = _rss(), server.sessions.retained.used
    session = stub.CreateSession(pb.CreateSessionRequest(graph=graph(leaf("x", x, requires_grad=True)))).session_id
    for step in range(10):  # each step keeps an 8 MiB tensor saved by the graph, then drops its name
        previous = f"y{step - 1}" if step else "x"
        stub.Extend(pb.ExtendRequest(session_id=session, graph=graph(node(f"y{step}", "mul", previous, previous)),
                                     release=[previous] if step else []))
    counted = server.sessions.retained.used - baseline_count
    grown = _rss() - baseline_rss
    assert counted >= 10 * x.nbytes
    # the stated margin: a quarter, plus 16 MiB of interpreter, gRPC and allocator slack
    assert abs(grown - counted) <= counted // 4 + 16 * MiB, (grown / MiB, counted / MiB)
