"""Round trips: what each step of the tutorial costs, counted by the SDK's client interceptor, and the
local metadata inference that makes most steps free (checked against the server's own ValueInfo)."""

from __future__ import annotations

import collections
import dataclasses
import math

import pytest

from client_expressions import GRAD_FN_EXPRESSIONS


def rpcs_during(client, action):
    """The RPCs (by method) that `action()` made, and its result."""
    before = collections.Counter(client.rpc_counts)
    result = action()
    after = collections.Counter(client.rpc_counts)
    return dict(after - before), result


def test_tutorial_round_trips(client):
    recorded, out = rpcs_during(client, lambda: tutorial_graph(client))
    a, out = out
    assert recorded == {"ListOps": 1}  # the catalogue, once per Client; building the graph is local
    # Metadata is inferred locally: no round trip.
    recorded, _ = rpcs_during(client, lambda: (out.shape, out.dtype, out.requires_grad, out.is_leaf,
                                                out.grad_fn.name(), a.grad))
    assert recorded == {}
    # The budget: backward(retain_graph=True) then print(a.grad) in at most 2 RPCs.
    recorded, text = rpcs_during(client, lambda: (out.backward(retain_graph=True), str(a.grad))[1])
    assert recorded == {"CreateSession": 1, "Backward": 1}
    assert text == "tensor([15., 18.])"
    # Once the graph is on the server, another backward and print is one call.
    recorded, text = rpcs_during(client, lambda: (out.backward(), str(a.grad))[1])
    assert recorded == {"Backward": 1}
    assert text == "tensor([30., 36.])"
    # The loss came back with the flush before the first backward.
    recorded, value = rpcs_during(client, lambda: (out.item(), out.item())[0])
    assert recorded == {}
    assert value == pytest.approx(((2 + 3) ** 2 * 3 + (3 + 3) ** 2 * 3) / 2)
    # A value nobody asked for yet is one Read, then cached.
    b = a * 2
    b.tolist()
    recorded, values = rpcs_during(client, lambda: (b.tolist(), (a + 3).tolist()))
    assert recorded == {"Extend": 1}  # (a + 3) was pending: its value rode on the flush
    assert values == ([4.0, 6.0], [5.0, 6.0])


def test_a_training_step_costs_two_calls(client):
    """loss.backward(), print(loss), an update under no_grad and zero_grad: Extend, Backward (the update
    and zero_grad travel with the next step's Extend)."""
    x = client.tensor([[1., 2.], [3., 4.]])
    y = client.tensor([1., 2.])
    w = client.tensor([0.1, -0.2], requires_grad=True)
    client.ops()

    def step():
        nonlocal w
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        loss_value = loss.item()
        with client.no_grad():
            w -= 0.01 * w.grad
        w.grad.zero_()
        return loss_value

    first_loss = step()
    parameter = w
    recorded, second_loss = rpcs_during(client, step)
    assert recorded == {"Extend": 1, "Backward": 1}
    assert w is parameter and w.is_leaf and w.requires_grad  # updated in place, as in torch
    assert second_loss < first_loss


def tutorial_graph(client):
    a = client.tensor([2., 3.], requires_grad=True)
    b = a + 3
    c = b * b * 3
    return a, c.mean()


def test_extending_a_live_session_and_backward_cost_two(client):
    a, out = tutorial_graph(client)
    out.backward(retain_graph=True)
    recorded, _ = rpcs_during(client, lambda: (a * a).sum().backward())
    assert recorded == {"Extend": 1, "Backward": 1}


def test_reading_a_pending_value_rides_on_the_flush(client):
    a = client.tensor([1., 2.])
    b = (a * 2).exp()
    client.ops()
    recorded, values = rpcs_during(client, lambda: b.tolist())
    assert recorded == {"CreateSession": 1}  # the graph went up and the value came back in one call
    assert values == pytest.approx([math.exp(2), math.exp(4)], rel=1e-6)
    recorded, _ = rpcs_during(client, lambda: client.zeros(3).tolist())
    assert recorded == {}  # a leaf's value is local


def test_zeroing_and_clearing_grads_travel_with_the_next_batch(client):
    a, out = tutorial_graph(client)
    out.backward(retain_graph=True)
    recorded, _ = rpcs_during(client, lambda: a.grad.zero_())
    assert recorded == {}
    assert a.grad.tolist() == [0.0, 0.0]
    recorded, _ = rpcs_during(client, lambda: setattr(a, "grad", None))
    assert recorded == {}
    assert a.grad is None
    # The server saw both: the next backward starts from None, not from accumulated grads.
    recorded, _ = rpcs_during(client, lambda: out.backward(retain_graph=True))
    assert recorded == {"Extend": 1, "Backward": 1}
    assert a.grad.tolist() == [15.0, 18.0]
    a.grad.zero_()
    out.backward()
    assert a.grad.tolist() == [15.0, 18.0]


@pytest.mark.parametrize("expression", GRAD_FN_EXPRESSIONS)
def test_local_metadata_agrees_with_the_server(expression, client):
    """Whatever the SDK infers locally must be what the server then reports."""
    t = client
    x = t.tensor([1., 2.], requires_grad=True)
    y = t.tensor([3., 4.], requires_grad=True)
    m = t.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    b = t.ones(2, 2, 2, requires_grad=True)
    with t.no_grad():
        plain_result = eval(expression, {"t": t, "x": x, "y": y, "m": m, "b": b})  # noqa: S307
    result = eval(expression, {"t": t, "x": x, "y": y, "m": m, "b": b})  # noqa: S307
    local = [dataclasses.replace(r._value.meta) for r in (plain_result, result)]
    client._runtime.session.flush()
    for inferred, tensor in zip(local, (plain_result, result)):
        server = tensor._value.meta
        for field in ("shape", "dtype", "requires_grad", "is_leaf", "grad_fn"):
            if getattr(inferred, field) is not None:
                assert getattr(inferred, field) == getattr(server, field), f"{field} of {expression}"


def test_common_ops_are_fully_inferred(client):
    t = client
    x = t.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    results = [x + 1, x * x, (x - 2).exp(), x.sum(), x.mean(1), x @ x, x.view(4), x[0], x.T, t.cat([x, x]),
               t.mm(x, x), x.t(), x[:, 1:], x.unsqueeze(0), t.where(x > 1, x, 0.), x.max(), x.softmax(0)]
    assert all(r._value.meta.complete for r in results)


def test_the_sdk_keeps_no_trace_of_dropped_tensors(client):
    """Per-step temporaries and in-place node ids are forgotten locally (and queued for release)."""
    x = client.tensor([[1., 2.], [3., 4.]])
    w = client.tensor([0.1, -0.2], requires_grad=True)
    session = client._runtime.session
    sizes = []
    for _ in range(20):
        ((x @ w) ** 2).mean().backward()
        w.data -= 0.01 * w.grad
        w.grad = None
        sizes.append(len(session.values))
    assert sizes[-1] <= sizes[2] and len(w._value.names) == 1


def test_a_long_loop_keeps_the_session_bounded(server, client):
    """Tensors the program dropped are released with the next Extend: the session does not grow."""
    x = client.tensor([[1., 2.], [3., 4.]])
    w = client.tensor([0.1, -0.2], requires_grad=True)

    def step():
        loss = ((x @ w) ** 2).mean()
        loss.backward()
        with client.no_grad():
            w.data -= 0.01 * w.grad
        w.grad = None

    def session_size():
        with server.sessions.use(client.session_id) as session:
            return len(session.values)

    for _ in range(3):
        step()
    size_after_warmup = session_size()
    for _ in range(30):
        step()
    assert session_size() <= size_after_warmup
