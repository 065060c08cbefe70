"""What reaches the server: credentials, metadata and the session id on every call, released ids.

The gradwire servicer is assembled here into a grpc.Server with a TLS port and a server interceptor
that records each call's metadata and unary request, so the tests see exactly what the server got.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from concurrent import futures

import grpc
import pytest

from gradwire.client import Client
from gradwire.server import ServerConfig
from gradwire.server.budget import RetainedBytes
from gradwire.server.service import GradwireServicer
from gradwire.server.sessions import SessionStore
from gradwire.server.uploads import UploadStore
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc


class CallRecorder(grpc.ServerInterceptor):
    """Remembers (method, metadata) of every call and (method, request) of every unary one."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.requests: list[tuple[str, object]] = []
        self._lock = threading.Lock()

    def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method.rsplit("/", 1)[-1]
        with self._lock:
            self.calls.append((method, dict(handler_call_details.invocation_metadata)))
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler

        def recording(request, context):
            with self._lock:
                self.requests.append((method, request))
            return handler.unary_unary(request, context)

        return grpc.unary_unary_rpc_method_handler(recording, request_deserializer=handler.request_deserializer,
                                                   response_serializer=handler.response_serializer)


@pytest.fixture
def tls_files(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (needed to make a throwaway certificate)")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    return key.read_bytes(), cert.read_bytes()


@pytest.fixture
def recorded_tls_server(tls_files):
    key, cert = tls_files
    config = ServerConfig()
    retained = RetainedBytes(config.max_session_bytes)
    servicer = GradwireServicer(config, SessionStore(config.session_ttl, config.max_sessions, retained),
                                UploadStore(config.session_ttl, config.max_request_bytes, retained))
    recorder = CallRecorder()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), interceptors=[recorder])
    pb_grpc.add_GradwireServiceServicer_to_server(servicer, server)
    port = server.add_secure_port("localhost:0", grpc.ssl_server_credentials([(key, cert)]))
    server.start()
    yield f"localhost:{port}", cert, recorder
    server.stop(None).wait()


def test_tls_metadata_and_session_id_reach_the_server_on_every_call(recorded_tls_server):
    address, cert, recorder = recorded_tls_server
    token = {"authorization": "Bearer test-token", "x-team": "autograd"}
    with Client(address, credentials=grpc.ssl_channel_credentials(root_certificates=cert),
                metadata=token, timeout=30) as torch:
        a = torch.tensor([2., 3.], requires_grad=True)
        big = torch.ones(1 << 20, requires_grad=True)  # 4 MiB: streamed up
        out = ((a + 3) * (a + 3) * 3).mean() + big.sum() * 0
        doubled = a * 2
        out.backward(retain_graph=True)
        assert a.grad.tolist() == [15.0, 18.0]
        assert out.item() == pytest.approx(91.5)  # came back with the graph
        assert big.grad.shape == (1 << 20,)
        assert doubled.tolist() == [4.0, 6.0]
        a.grad = None  # recorded: it would travel with the next batch
        session_id = torch.session_id
    methods = [method for method, _ in recorder.calls]
    assert methods == ["ListOps", "UploadTensor", "CreateSession", "Backward", "Read", "CloseSession"]
    for method, metadata in recorder.calls:
        assert metadata.get("authorization") == "Bearer test-token", method
        assert metadata.get("x-team") == "autograd", method
        if method not in ("ListOps", "UploadTensor"):  # the calls that belong to no session
            assert metadata.get("gradwire-session-id") == session_id, method


def test_plaintext_client_cannot_talk_to_a_tls_server(recorded_tls_server):
    address, _, _ = recorded_tls_server
    with Client(address, timeout=5) as torch:
        with pytest.raises(ConnectionError, match=address):
            torch.ops()


def test_dropped_tensors_are_released_with_the_next_extend(recorded_tls_server):
    address, cert, recorder = recorded_tls_server
    with Client(address, credentials=grpc.ssl_channel_credentials(root_certificates=cert)) as torch:
        a = torch.tensor([1., 2.], requires_grad=True)
        doubled = a * 2
        total = doubled.sum()
        dropped = {doubled._value.id, total._value.id}
        total.backward()
        del doubled, total
        kept = a * 3
        assert kept.tolist() == [3.0, 6.0]
        live = {a._value.id, kept._value.id}
    (extend,) = [request for method, request in recorder.requests if method == "Extend"]
    assert set(extend.release) == dropped and not live & set(extend.release)
