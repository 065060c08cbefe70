"""The session journal: a lost session is rebuilt from what the SDK sent (journal.py), so the program
goes on with the values and grads it would have had; with the journal capped or off, SessionLostError.

Losses are made for real: the session is closed behind the SDK's back, or the server is restarted on
the same port. Results are compared with torch running the same program."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradwire.client import Client, SessionLostError
from gradwire.v1 import gradwire_pb2 as pb


def close_behind_the_sdks_back(client: Client) -> None:
    client._runtime.transport.call("CloseSession", pb.CloseSessionRequest(session_id=client.session_id))


def training_steps(lib, steps: int, lose_at: int | None = None, client: Client | None = None):
    """A few steps of a tiny regression with retain_graph, grad edits and autograd.grad, in torch or
    through a Client (which loses its session before step `lose_at`)."""
    w = lib.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    x = lib.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
    target = lib.tensor([1.0, -2.0, 0.5])
    losses = []
    for step in range(steps):
        if step == lose_at:
            close_behind_the_sdks_back(client)
        loss = ((x @ w).sum(1) - target).pow(2).mean()
        loss.backward(retain_graph=True)
        if step % 2:
            loss.backward()  # accumulates a second time
        (g,) = (lib.autograd.grad(loss, [w]) if step % 2 == 0 else (None,))
        losses.append(float(loss.item()) + (float(g.sum()) if g is not None else 0.0))
        if step == 2:
            w.grad.zero_()
    return losses, w.grad.tolist()


def test_a_lost_session_is_replayed_and_the_program_goes_on(address):
    expected = training_steps(torch, 5)
    with Client(address) as client:
        got = training_steps(client, 5, lose_at=3, client=client)
        assert client.session_replays == 1
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-5)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-5)


def test_a_restarted_server_gets_the_session_back(start_server):
    server, address = start_server()
    port = server.port
    with Client(address) as client:
        a = client.tensor([2., 3.], requires_grad=True)
        out = ((a + 3) * (a + 3) * 3).mean()
        out.backward(retain_graph=True)
        assert a.grad.tolist() == [15., 18.]
        server.stop(None).wait()
        start_server(address=f"127.0.0.1:{port}")
        out.backward(retain_graph=True)  # NOT_FOUND on the new server: replayed, then retried
        assert a.grad.tolist() == [30., 36.]
        out.backward()
        with pytest.raises(RuntimeError, match="second time"):
            out.backward()  # the freed graph is freed in the rebuilt session too
        assert client.session_replays == 1


def test_uploaded_leaves_are_uploaded_again(start_server):
    _, address = start_server(max_message_bytes=1 << 20)
    big = np.linspace(-1, 1, 300_000, dtype=np.float32)  # 1.2 MB, over the 1 MiB message limit
    with Client(address, max_message_bytes=1 << 20) as client:
        a = client.tensor(big, requires_grad=True)
        out = (a * a).sum()
        out.backward(retain_graph=True)
        close_behind_the_sdks_back(client)
        out.backward()
        assert client.session_replays == 1
        np.testing.assert_allclose(a.grad.numpy(), 4 * big, rtol=1e-6)


def test_a_journal_over_its_cap_gives_session_lost(address):
    with Client(address, journal_bytes=2000) as client:
        a = client.tensor(np.ones(1000, dtype=np.float32), requires_grad=True)  # 4 kB: over the cap
        out = (a * 2).sum()
        out.backward(retain_graph=True)
        close_behind_the_sdks_back(client)
        with pytest.raises(SessionLostError, match="journal_bytes=2000"):
            out.backward()
        assert client.session_replays == 0


def test_journal_bytes_must_not_be_negative(address):
    with pytest.raises(ValueError, match="journal_bytes"):
        Client(address, journal_bytes=-1)
