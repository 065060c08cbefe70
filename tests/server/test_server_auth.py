"""Tokens, owned sessions and per-principal quotas, against a real server on loopback."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from gradwire.v1 import gradwire_pb2 as pb
from server_helpers import arrays, graph, leaf, node, raises_status, root

ALICE = (("authorization", "Bearer alice-token-0123456789"),)
BOB = (("authorization", "Bearer bob-token-9876543210"),)
TOKENS = """# principal:token, one per line
alice:alice-token-0123456789

bob: bob-token-9876543210
"""


@pytest.fixture
def tokens_file(tmp_path):
    path = tmp_path / "tokens"
    path.write_text(TOKENS)
    return path


@pytest.fixture
def secured(start_server, tokens_file):
    """A server that requires tokens, with a raw stub (no metadata of its own)."""
    def start(**settings):
        return start_server(auth_tokens=str(tokens_file), **settings)
    return start


def _tutorial(stub, metadata, **fields) -> str:
    request = pb.CreateSessionRequest(graph=graph(
        leaf("a", [2, 3], requires_grad=True), node("b", "add", "a", 3.0), node("c", "mul", "b", "b"),
        node("out", "mean", "c")), **fields)
    return stub.CreateSession(request, metadata=metadata).session_id


@pytest.mark.parametrize("metadata, message", [
    ((), "requires a token"),
    ((("authorization", "Bearer not-a-token"),), "not valid"),
    ((("authorization", "alice-token-0123456789"),), "Bearer <token>"),
])
def test_calls_without_a_valid_token_are_unauthenticated(secured, metadata, message):
    _, stub, _ = secured()
    for call in (lambda: stub.ListOps(pb.ListOpsRequest(), metadata=metadata),
                 lambda: _tutorial(stub, metadata),
                 lambda: stub.GetServerInfo(pb.GetServerInfoRequest(), metadata=metadata)):
        with raises_status(grpc.StatusCode.UNAUTHENTICATED, message) as found:
            call()
        assert "0123456789" not in found["details"] and "not-a-token" not in found["details"]


def test_health_and_reflection_stay_open(secured):
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    _, _, channel = secured()
    status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert status.status == health_pb2.HealthCheckResponse.SERVING
    replies = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = {service.name for reply in replies for service in reply.list_services_response.service}
    assert "gradwire.v1.GradwireService" in names


def test_a_valid_token_names_the_principal(secured):
    _, stub, _ = secured()
    assert stub.GetServerInfo(pb.GetServerInfoRequest(), metadata=ALICE).principal == "alice"
    assert stub.GetServerInfo(pb.GetServerInfoRequest(), metadata=BOB).principal == "bob"
    assert len(stub.ListOps(pb.ListOpsRequest(), metadata=(("authorization", "bearer alice-token-0123456789"),)).ops)


def test_another_principals_session_is_not_found_exactly_like_an_unknown_id(secured):
    _, stub, _ = secured()
    session_id = _tutorial(stub, ALICE)
    unknown = "f" * 32
    calls = {
        "Read": lambda sid: stub.Read(pb.ReadRequest(session_id=sid, values=["a"]), metadata=BOB),
        "Extend": lambda sid: stub.Extend(pb.ExtendRequest(session_id=sid, graph=graph(node("d", "neg", "a"))),
                                          metadata=BOB),
        "Backward": lambda sid: stub.Backward(pb.BackwardRequest(session_id=sid, roots=[root("out")]),
                                              metadata=BOB),
        "Grad": lambda sid: stub.Grad(pb.GradRequest(session_id=sid, outputs=[root("out")], inputs=["a"]), metadata=BOB),
        "UpdateGrads": lambda sid: stub.UpdateGrads(pb.UpdateGradsRequest(session_id=sid, zero=["a"]), metadata=BOB),
        "Download": lambda sid: list(stub.DownloadTensor(pb.DownloadTensorRequest(session_id=sid, id="a"),
                                                         metadata=BOB)),
        "CloseSession": lambda sid: stub.CloseSession(pb.CloseSessionRequest(session_id=sid), metadata=BOB),
    }
    for name, call in calls.items():
        with raises_status(grpc.StatusCode.NOT_FOUND) as theirs:
            call(session_id)
        with raises_status(grpc.StatusCode.NOT_FOUND) as never:
            call(unknown)
        assert theirs["details"].replace(session_id, "<id>") == never["details"].replace(unknown, "<id>"), name
        assert theirs["trailers"] == never["trailers"], name
    # Nothing Bob tried touched Alice's session: her backward gives torch's [2*(a+3)/2] = [5, 6].
    grads = stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("out")]), metadata=ALICE).grads
    np.testing.assert_allclose(arrays(grads)["a"], [5, 6])
    # Once Alice closes it, Bob still sees "unknown" while Alice sees "closed".
    stub.CloseSession(pb.CloseSessionRequest(session_id=session_id), metadata=ALICE)
    with raises_status(grpc.StatusCode.NOT_FOUND, "(closed)"):
        stub.Read(pb.ReadRequest(session_id=session_id, values=["a"]), metadata=ALICE)
    with raises_status(grpc.StatusCode.NOT_FOUND, "(unknown, or expired"):
        calls["Read"](session_id)


def test_sessions_per_principal_are_capped(secured):
    _, stub, _ = secured(max_sessions_per_principal=2)
    first = _tutorial(stub, ALICE)
    _tutorial(stub, ALICE)
    with raises_status(grpc.StatusCode.RESOURCE_EXHAUSTED, "'alice'", "maximum of 2 sessions",
                       "GRADWIRE_MAX_SESSIONS_PER_PRINCIPAL"):
        _tutorial(stub, ALICE)
    _tutorial(stub, BOB)  # Bob has his own allowance
    stub.CloseSession(pb.CloseSessionRequest(session_id=first), metadata=ALICE)
    _tutorial(stub, ALICE)  # closing one makes room


def test_bytes_per_principal_are_capped(secured):
    _, stub, _ = secured(max_bytes_per_principal=4096)
    big = np.zeros(600, np.float32)  # 2400 bytes
    session_id = stub.CreateSession(pb.CreateSessionRequest(graph=graph(leaf("x", big))), metadata=ALICE).session_id
    with raises_status(grpc.StatusCode.RESOURCE_EXHAUSTED, "'alice'", "GRADWIRE_MAX_BYTES_PER_PRINCIPAL"):
        stub.CreateSession(pb.CreateSessionRequest(graph=graph(leaf("x", big))), metadata=ALICE)
    with raises_status(grpc.StatusCode.RESOURCE_EXHAUSTED, "GRADWIRE_MAX_BYTES_PER_PRINCIPAL"):
        stub.Extend(pb.ExtendRequest(session_id=session_id, graph=graph(leaf("y", big))), metadata=ALICE)
    # The refused Extend changed nothing, and Bob is not charged for Alice's bytes.
    assert "y" not in {info.id for info in stub.Read(pb.ReadRequest(session_id=session_id, values=["x"]),
                                                       metadata=ALICE).values}
    stub.CreateSession(pb.CreateSessionRequest(graph=graph(leaf("x", big))), metadata=BOB)
    stub.CloseSession(pb.CloseSessionRequest(session_id=session_id), metadata=ALICE)
    stub.CreateSession(pb.CreateSessionRequest(graph=graph(leaf("x", big))), metadata=ALICE)


def test_tokens_are_reread_on_reload(secured, tokens_file):
    server, stub, _ = secured()
    tokens_file.write_text("carol:carol-token-abcdefabcdef\n")
    assert stub.GetServerInfo(pb.GetServerInfoRequest(), metadata=ALICE).principal == "alice"  # not yet
    server.reload()  # what SIGHUP does
    carol = (("authorization", "Bearer carol-token-abcdefabcdef"),)
    assert stub.GetServerInfo(pb.GetServerInfoRequest(), metadata=carol).principal == "carol"
    with raises_status(grpc.StatusCode.UNAUTHENTICATED, "not valid"):
        stub.GetServerInfo(pb.GetServerInfoRequest(), metadata=ALICE)
    tokens_file.write_text("no colon here\n")  # a broken file keeps the previous tokens
    server.reload()
    assert stub.GetServerInfo(pb.GetServerInfoRequest(), metadata=carol).principal == "carol"


def test_a_malformed_tokens_file_is_refused_at_start_naming_the_line(tmp_path):
    from gradwire.server import ServerConfig, create_server

    path = tmp_path / "tokens"
    path.write_text("alice:secret-one\n\nbob\n")
    with pytest.raises(ValueError, match="line 3: expected 'principal:token'") as caught:
        create_server("127.0.0.1:0", ServerConfig(auth_tokens=str(path)))
    assert "secret-one" not in str(caught.value)


def test_server_info_reports_version_limits_and_features(start_server):
    from importlib.metadata import version

    _, stub, _ = start_server(max_sessions=9, max_sessions_per_principal=3)
    info = stub.GetServerInfo(pb.GetServerInfoRequest())
    assert (info.name, info.server_version, info.contract_version) == ("gradwire", version("gradwire"), "gradwire.v1")
    assert (info.limits.max_sessions, info.limits.max_sessions_per_principal) == (9, 3)
    assert info.principal == "anonymous"
    assert list(info.features) == ["sessions", "streaming"]
    assert info.op_count == len(stub.ListOps(pb.ListOpsRequest()).ops)


def test_another_principals_upload_is_unknown(secured):
    _, stub, _ = secured()
    parts = [pb.UploadTensorRequest(header=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[2])),
             pb.UploadTensorRequest(chunk=np.array([2, 3], np.float32).tobytes())]
    upload_id = stub.UploadTensor(iter(parts), metadata=ALICE).upload_id

    def compute(metadata, name):
        request = pb.ComputeRequest(graph=pb.Graph(
            leaves=[pb.Leaf(id="a", upload_id=name, requires_grad=True)], nodes=[node("s", "sum", "a")]),
            roots=[root("s")])
        return stub.Compute(request, metadata=metadata)

    with raises_status(grpc.StatusCode.NOT_FOUND) as theirs:
        compute(BOB, upload_id)
    with raises_status(grpc.StatusCode.NOT_FOUND) as never:
        compute(BOB, "0" * 32)
    assert theirs["details"].replace(upload_id, "<id>") == never["details"].replace("0" * 32, "<id>")
    np.testing.assert_allclose(arrays(compute(ALICE, upload_id).grads)["a"], [1, 1])  # Bob's tries used nothing
