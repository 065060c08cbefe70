"""Through the SDK a training step costs two round trips (Extend, Backward) and constant state: the
server's session and the SDK's own tables stay the same size from step 10 to step 60, whatever the
pattern (in-place update, rebinding, new minibatch tensors, nn + optim)."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from gradwire.client import Client
from gradwire.server import create_server


@pytest.fixture(scope="module")
def served():
    server, port = create_server("127.0.0.1:0")
    yield server, f"127.0.0.1:{port}"
    server.stop(None).wait()


def _session_values(server, session_id):
    with server.sessions.use(session_id) as session:
        return len(session.values), session.retained


def _loop(torch, pattern):
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((32, 4)).astype(np.float32))
    y = torch.tensor(rng.standard_normal((32, 1)).astype(np.float32))
    state = {"w": torch.tensor(rng.standard_normal((4, 1)).astype(np.float32), requires_grad=True)}
    if pattern.startswith("nn_optim"):
        model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        loss_fn = torch.nn.MSELoss()

    def step():
        w = state["w"]
        if pattern == "manual":
            loss = ((x @ w - y) ** 2).mean()
            loss.backward()
            with torch.no_grad():
                w -= 0.05 * w.grad
                w.grad.zero_()
        elif pattern == "rebinding":
            loss = ((x @ w - y) ** 2).mean()
            loss.backward()
            state["w"] = (w - 0.05 * w.grad).detach()
            state["w"].requires_grad_(True)
        elif pattern == "minibatch":
            xb = torch.tensor(rng.standard_normal((32, 4)).astype(np.float32))
            yb = torch.tensor(rng.standard_normal((32, 1)).astype(np.float32))
            loss = ((xb @ w - yb) ** 2).mean()
            loss.backward()
            with torch.no_grad():
                w -= 0.05 * w.grad
            w.grad = None
        else:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            if pattern == "nn_optim_clipped":  # in-place ops on the grads, on the server
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
            optimizer.step()
        return loss.item()

    return step


@pytest.mark.parametrize("pattern", ["manual", "rebinding", "minibatch", "nn_optim", "nn_optim_clipped"])
def test_step_is_two_round_trips_at_constant_state(served, pattern):
    server, address = served
    with Client(address) as torch:
        step = _loop(torch, pattern)
        losses = [step() for _ in range(10)]
        sizes_at_10 = _session_values(server, torch.session_id)
        sdk_at_10 = len(torch._runtime.session.values)
        before = collections.Counter(torch.rpc_counts)
        for _ in range(50):
            losses.append(step())
        per_step = {method: count / 50 for method, count in (collections.Counter(torch.rpc_counts) - before).items()}
        assert per_step == {"Extend": 1.0, "Backward": 1.0}
        assert _session_values(server, torch.session_id) == sizes_at_10
        assert len(torch._runtime.session.values) == sdk_at_10
        if pattern != "minibatch":
            assert losses[-1] < losses[0]


def test_backward_returns_only_the_grads_the_program_holds(served):
    server, address = served
    with Client(address) as torch:
        kept = torch.tensor([1.0, 2.0], requires_grad=True)
        for _ in range(20):  # leaves made and dropped each step
            scratch = torch.tensor([3.0], requires_grad=True)
            (kept * scratch).sum().backward()
        del scratch
        seen = []
        original = torch._runtime.transport.call

        def recording(method, request, **kwargs):
            response = original(method, request, **kwargs)
            if method == "Backward":
                seen.append([named.id for named in response.grads])
            return response

        torch._runtime.transport.call = recording
        (kept * 2).sum().backward()
        assert seen == [[kept._value.id]]
        assert kept.grad.tolist() == [62.0, 62.0]  # 20 * 3 + 2
