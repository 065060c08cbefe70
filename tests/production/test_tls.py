"""TLS and mTLS on a real server: plaintext is refused, the right CA works, client certificates are
required with mTLS and name the principal, and certificates are re-read without a restart."""

from __future__ import annotations

import shutil

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gradwire.client import Client
from gradwire.client.security import channel_credentials
from gradwire.v1 import gradwire_pb2 as pb
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc
from production_helpers import TOKEN_ALICE, make_pki, write_tokens

TIMEOUT = 10


def _info(target: str, credentials=None, metadata=()) -> pb.GetServerInfoResponse:
    channel = (grpc.secure_channel(target, credentials) if credentials is not None
               else grpc.insecure_channel(target))
    with channel:
        return pb_grpc.GradwireServiceStub(channel).GetServerInfo(pb.GetServerInfoRequest(), metadata=metadata,
                                                                   timeout=TIMEOUT)


def test_plaintext_to_a_tls_server_fails_and_tls_with_the_right_ca_works(start_server, pki):
    server = start_server(tls_cert=str(pki.server_cert), tls_key=str(pki.server_key))
    target = f"127.0.0.1:{server.port}"
    with pytest.raises(grpc.RpcError) as refused:
        _info(target)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    with pytest.raises(grpc.RpcError) as untrusted:
        _info(target, channel_credentials(ca=pki.other_ca))
    assert untrusted.value.code() == grpc.StatusCode.UNAVAILABLE
    info = _info(target, channel_credentials(ca=pki.ca))
    assert "tls" in info.features and "mtls" not in info.features


def test_the_sdk_runs_the_tutorial_over_tls_with_a_token(start_server, pki, tmp_path):
    server = start_server(tls_cert=str(pki.server_cert), tls_key=str(pki.server_key),
                          auth_tokens=str(write_tokens(tmp_path)))
    with Client(f"127.0.0.1:{server.port}", ca=pki.ca, token=TOKEN_ALICE, timeout=TIMEOUT) as torch:
        a = torch.tensor([2.0, 3.0], requires_grad=True)
        out = ((a + 3) * (a + 3) * 3).mean()
        out.backward()
        assert a.grad.tolist() == [15.0, 18.0]
    with Client(f"127.0.0.1:{server.port}", ca=pki.ca, timeout=TIMEOUT) as torch:
        with pytest.raises(RuntimeError, match="UNAUTHENTICATED"):
            torch.ops()


def test_mtls_requires_a_client_certificate_and_names_its_principal(start_server, pki):
    server = start_server(tls_cert=str(pki.server_cert), tls_key=str(pki.server_key),
                          tls_client_ca=str(pki.ca))
    target = f"127.0.0.1:{server.port}"
    with pytest.raises(grpc.RpcError) as refused:
        _info(target, channel_credentials(ca=pki.ca))
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    info = _info(target, channel_credentials(ca=pki.ca, client_cert=pki.client_cert, client_key=pki.client_key))
    assert info.principal == "alice"
    assert {"tls", "mtls"} <= set(info.features)


def test_certificates_are_reread_when_the_files_change(start_server, pki, tmp_path):
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    shutil.copy(pki.server_cert, cert)
    shutil.copy(pki.server_key, key)
    server = start_server(tls_cert=str(cert), tls_key=str(key))
    target = f"127.0.0.1:{server.port}"
    _info(target, channel_credentials(ca=pki.ca))
    renewed = make_pki(tmp_path / "renewed")  # a new CA: the old one no longer verifies the server
    shutil.copy(renewed.server_key, key)
    shutil.copy(renewed.server_cert, cert)
    with pytest.raises(grpc.RpcError):
        _info(target, channel_credentials(ca=pki.ca))
    assert _info(target, channel_credentials(ca=renewed.ca)).name == "gradwire"


def test_a_plaintext_health_port_serves_probes_when_tls_is_on(start_server, pki):
    server = start_server(tls_cert=str(pki.server_cert), tls_key=str(pki.server_key), health_address="127.0.0.1:0")
    with grpc.insecure_channel(f"127.0.0.1:{server.health_port}") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=TIMEOUT)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.RpcError) as only_health:  # the gradwire service is not on this port
            pb_grpc.GradwireServiceStub(channel).ListOps(pb.ListOpsRequest(), timeout=TIMEOUT)
        assert only_health.value.code() == grpc.StatusCode.UNIMPLEMENTED


def _container_healthcheck(**env: str) -> int:
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "deploy" / "healthcheck.py"
    clean = {key: value for key, value in os.environ.items() if not key.startswith("GRADWIRE_")}
    return subprocess.run([sys.executable, str(script)], env={**clean, **env}, capture_output=True,
                          timeout=60).returncode


def test_the_container_healthcheck_works_with_tls_on(start_server, pki):
    server = start_server(tls_cert=str(pki.server_cert), tls_key=str(pki.server_key), health_address="127.0.0.1:0")
    tls = {"GRADWIRE_ADDRESS": f"0.0.0.0:{server.port}", "GRADWIRE_TLS_CERT": str(pki.server_cert)}
    assert _container_healthcheck(**tls, GRADWIRE_HEALTH_ADDRESS=f"0.0.0.0:{server.health_port}") == 0
    assert _container_healthcheck(**tls, GRADWIRE_CA=str(pki.ca)) == 0  # TLS to the main port
    assert _container_healthcheck(**tls, GRADWIRE_CA=str(pki.other_ca)) == 1


def test_the_sdk_with_a_client_certificate_and_a_token_over_mtls(start_server, pki, tmp_path):
    server = start_server(tls_cert=str(pki.server_cert), tls_key=str(pki.server_key), tls_client_ca=str(pki.ca),
                          auth_tokens=str(write_tokens(tmp_path)))
    address = f"127.0.0.1:{server.port}"
    certificate = {"ca": pki.ca, "client_cert": pki.client_cert, "client_key": pki.client_key}
    with Client(address, token=TOKEN_ALICE, timeout=TIMEOUT, **certificate) as torch:
        m = torch.tensor([2.0, 3.0], requires_grad=True)
        (m ** 3).sum().backward()
        assert m.grad.tolist() == [12.0, 27.0]
    # The certificate alone authenticates (its CN is the principal); a wrong token still fails.
    assert _info(address, channel_credentials(**certificate)).principal == "alice"
    with pytest.raises(grpc.RpcError) as refused:
        _info(address, channel_credentials(**certificate), metadata=(("authorization", "Bearer nope-nope"),))
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with Client(address, ca=pki.ca, token=TOKEN_ALICE, timeout=TIMEOUT) as torch:  # no client certificate
        with pytest.raises(ConnectionError):
            torch.ops()


def _pad_to(path, size: int) -> None:
    """PEM readers ignore text after the last END line: pad with newlines to an exact size."""
    data = path.read_bytes()
    assert len(data) <= size
    path.write_bytes(data + b"\n" * (size - len(data)))


def test_a_reload_rereads_certificates_whose_files_look_unchanged(start_server, pki, tmp_path):
    import os

    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    shutil.copy(pki.server_cert, cert)
    shutil.copy(pki.server_key, key)
    sizes = {path: path.stat().st_size + 512 for path in (cert, key)}
    for path, size in sizes.items():
        _pad_to(path, size)
    stamps = {path: path.stat().st_mtime_ns for path in (cert, key)}
    server = start_server(tls_cert=str(cert), tls_key=str(key))
    target = f"127.0.0.1:{server.port}"
    _info(target, channel_credentials(ca=pki.ca))
    renewed = make_pki(tmp_path / "renewed")
    shutil.copy(renewed.server_cert, cert)
    shutil.copy(renewed.server_key, key)
    for path, size in sizes.items():  # same size and time: the change cannot be seen on the files
        _pad_to(path, size)
        os.utime(path, ns=(stamps[path], stamps[path]))
    assert _info(target, channel_credentials(ca=pki.ca)).name == "gradwire"  # still the old certificate
    server.reload()  # what SIGHUP does
    with pytest.raises(grpc.RpcError):
        _info(target, channel_credentials(ca=pki.ca))
    assert _info(target, channel_credentials(ca=renewed.ca)).name == "gradwire"
