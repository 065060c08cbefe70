"""Failures through the SDK: server statuses become the builtin classes torch raises (with the server's
message), an unreachable server a ConnectionError naming the address, a lost session a clear
SessionLostError after which new tensors work again, a deadline a TimeoutError."""

from __future__ import annotations

import socket
import time

import grpc
import pytest

from gradwire.client import Client, ServerUnavailableError, SessionLostError
from gradwire.v1 import gradwire_pb2 as pb


def test_statuses_become_torch_classes_with_the_servers_message(client):
    x = client.tensor([1., 2.])
    with pytest.raises(RuntimeError, match="size") as shape_error:
        x + client.tensor([1., 2., 3.])
    assert type(shape_error.value) is RuntimeError
    with pytest.raises(IndexError) as index_error:
        x[5]
    assert type(index_error.value) is IndexError and "5" in str(index_error.value)
    a = client.tensor([2.], requires_grad=True)
    out = (a * a).sum()
    out.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True") as freed:
        out.backward()
    assert freed.value.status == grpc.StatusCode.FAILED_PRECONDITION


def test_raw_requests_map_type_and_value_errors(client):
    """Errors the SDK never provokes itself, sent as raw requests through the same transport."""
    transport = client._runtime.transport
    three_operand_add = pb.ComputeRequest(graph=pb.Graph(
        leaves=[pb.Leaf(id="a", value=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[1], data=b"\0\0\x80?"))],
        nodes=[pb.Node(id="b", op="add", inputs=[pb.Operand(ref="a")] * 3)]))
    with pytest.raises(TypeError, match="'b'") as type_error:
        transport.call("Compute", three_operand_add)
    assert type_error.value.node_id == "b"
    short_data = pb.ComputeRequest(graph=pb.Graph(
        leaves=[pb.Leaf(id="a", value=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[2], data=b"\0\0"))]))
    with pytest.raises(ValueError, match="bytes"):
        transport.call("Compute", short_data)


def test_the_failed_statement_does_not_poison_the_rest(client):
    x = client.tensor([1., 2.], requires_grad=True)
    good = x * 3
    with pytest.raises(RuntimeError):
        x.view(3)  # fails at once, as in torch
    good.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_an_unexpected_server_error_surfaces_at_the_next_flush_and_only_its_dependents_fail(client):
    """An error the SDK cannot predict (a value-dependent index here) comes back at the next flush;
    the good work recorded in the same batch still reaches the server."""
    x = client.tensor([1., 2.], requires_grad=True)
    index = client.tensor([0, 7])
    bad = x[index]  # out of range, but only the index's values say so
    bad_child = bad * 2
    good = (x * 5).sum()
    with pytest.raises(IndexError):
        good.backward()
    good.backward()
    assert x.grad.tolist() == [5.0, 5.0]
    with pytest.raises(IndexError, match="could not be computed"):
        bad_child.tolist()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_server_is_a_connection_error_naming_the_address():
    address = f"127.0.0.1:{free_port()}"
    with Client(address, timeout=10) as client:
        with pytest.raises(ConnectionError, match=address) as error:
            client.tensor([1.]) + 1
    assert isinstance(error.value, ServerUnavailableError)


def test_deadline_passes_through_and_is_a_timeout():
    """A listener that accepts connections and never answers: only the deadline can end the call."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        with Client(address, timeout=0.3) as client:
            with pytest.raises(TimeoutError, match="deadline"):
                client.ops()


def test_closed_session_is_reported_as_lost_and_new_tensors_work(address):
    client = Client(address, journal_bytes=0)  # no journal: a lost session stays lost (test_client_journal)
    a = client.tensor([2., 3.], requires_grad=True)
    out = (a * a).sum()
    out.backward(retain_graph=True)
    lost_id = client.session_id
    client._runtime.transport.call("CloseSession", pb.CloseSessionRequest(session_id=lost_id))
    with pytest.raises(SessionLostError, match="lost \\(expired or server restarted\\)") as lost:
        out.backward()
    assert lost.value.session_id == lost_id and isinstance(lost.value, RuntimeError)
    with pytest.raises(SessionLostError):
        (a * 2).tolist()  # everything of that session says so, not some unknown-id error
    b = client.tensor([1., 2.], requires_grad=True)
    (b * b).sum().backward()
    assert b.grad.tolist() == [2.0, 4.0]
    assert client.session_id != lost_id
    client.close()


def test_server_restart_loses_the_session(start_server):
    server, address = start_server()
    port = server.port
    with Client(address, journal_bytes=0) as client:
        a = client.tensor([2.], requires_grad=True)
        out = (a * a).sum()
        out.backward(retain_graph=True)
        server.stop(None).wait()
        start_server(address=f"127.0.0.1:{port}")
        with pytest.raises(SessionLostError):
            out.backward()


def test_idle_session_expires_and_says_so(start_server):
    _, address = start_server(session_ttl=0.2)
    with Client(address, journal_bytes=0) as client:
        a = client.tensor([2.], requires_grad=True)
        out = (a * a).sum()
        out.backward(retain_graph=True)
        time.sleep(1.0)  # several TTLs: the reaper or the next call drops it
        with pytest.raises(SessionLostError, match="expired"):
            out.backward()


def test_closing_the_client_closes_its_sessions(server, address):
    with Client(address) as client:
        a = client.tensor([1.], requires_grad=True)
        (a * 2).sum().backward()
        session_id = client.session_id
        assert len(server.sessions) >= 1
    with Client(address) as other:
        with pytest.raises(grpc.RpcError) as error:
            other._runtime.transport.stub.Read(pb.ReadRequest(session_id=session_id, values=["v0"]))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


def test_work_recorded_while_the_server_is_down_goes_through_once_it_is_up(start_server):
    address = f"127.0.0.1:{free_port()}"
    with Client(address, timeout=10) as client:
        a = client.tensor([2., 3.], requires_grad=True)
        with pytest.raises(ConnectionError):
            out = ((a + 3) * (a + 3) * 3).mean()  # the catalogue is needed for the first op
        start_server(address=address)
        out = ((a + 3) * (a + 3) * 3).mean()
        out.backward()
        assert a.grad.tolist() == [15.0, 18.0]
