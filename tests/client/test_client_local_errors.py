"""Mistakes the op rules can tell from metadata raise at the statement that makes them, as the builtin
class torch raises, before any RPC (the SDK derives them from gradwire.rules, as the engine does); and an
op whose rules this SDK does not hold (version skew) still works, its metadata coming from the server."""

from __future__ import annotations

import collections
import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is the oracle for the exception classes")

# (label, statement): run with f (float [2], requires grad), g (float [2, 2]), i (int32 [3]), m (float [2, 2]).
MISTAKES = [
    ("negative int power", "i ** -2"),
    ("clip without bounds", "g.clip(None, None)"),
    ("shapes that do not broadcast", "g + t.ones(3)"),
    ("view to another size", "g.view(3)"),
    ("reshape to another size", "g.reshape(3, 3)"),
    ("cat of different ranks", "t.cat([f, g])"),
    ("where on a float condition", "t.where(g, g, g)"),
    ("in place on a leaf that requires grad", "f.add_(1)"),
    ("in-place result of a wider dtype", "i.add_(1.5)"),
    ("in-place result of another shape", "m.add_(t.ones(3, 2, 2))"),
    ("an int tensor that requires grad", "t.tensor([1, 2], requires_grad=True)"),
    ("a number where a tensor goes", "t.exp(2)"),
    ("to a numpy type", "g.to(np.float64)"),
    ("expand to fewer dims", "g.expand(2)"),
    ("transpose past the last dim", "g.transpose(0, 5)"),
]


def _run(module, statement):
    f = module.tensor([1., 2.], requires_grad=True)
    g = module.tensor([[1., 2.], [3., 4.]])
    i = module.tensor([-2, 0, 2], dtype=module.int32)
    m = module.tensor([[1., 2.], [3., 4.]])
    scope = {"t": module, "np": np, "f": f, "g": g, "i": i, "m": m}
    return lambda: eval(statement, scope)  # noqa: S307


def _builtin_class(error):
    return next(c for c in type(error).__mro__ if c.__module__ == "builtins")


@pytest.mark.parametrize("label, statement", MISTAKES, ids=[label for label, _ in MISTAKES])
def test_a_mistake_raises_at_the_statement_before_any_rpc(client, label, statement):
    with pytest.raises(Exception) as theirs:
        _run(torch, statement)()
    client.ops()  # the catalogue, once per Client
    statement_call = _run(client, statement)
    before = collections.Counter(client.rpc_counts)
    with pytest.raises(Exception) as ours:
        statement_call()
    assert collections.Counter(client.rpc_counts) == before, "the SDK made an RPC for the mistake"
    assert type(ours.value) is _builtin_class(theirs.value), f"{ours.value!r} vs torch's {theirs.value!r}"
    assert str(ours.value)


def test_the_statement_after_a_mistake_works(client):
    x = client.tensor([1., 2.], requires_grad=True)
    with pytest.raises(RuntimeError):
        x + client.ones(3)
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_an_op_without_local_rules_gets_its_metadata_from_the_server(client):
    """Version skew: the catalogue names rules this SDK does not hold (simulated by dropping its copy)."""
    catalogue = client._runtime.catalogue
    spec = catalogue.ops["logaddexp"]
    assert spec.rules is not None
    catalogue.ops["logaddexp"] = catalogue.functions["logaddexp"] = dataclasses.replace(spec, rules=None)
    a = client.tensor([1., 2.], requires_grad=True)
    b = client.tensor([[0.5], [3.]])
    out = client.logaddexp(a, b)
    assert out._value.meta.shape is None  # nothing derived locally
    reference = torch.logaddexp(torch.tensor([1., 2.], requires_grad=True), torch.tensor([[0.5], [3.]]))
    before = client.rpc_total
    assert (tuple(out.shape), str(out.dtype).split(".")[-1], out.requires_grad, out.grad_fn.name()) == (
        tuple(reference.shape), "float32", True, reference.grad_fn.name())
    assert client.rpc_total == before + 1  # one flush brought the server's metadata
    np.testing.assert_allclose(out.detach().numpy(), reference.detach().numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError):  # a mistake in it surfaces at the next flush, from the server
        bad = client.logaddexp(a, client.ones(3))
        bad.tolist()
