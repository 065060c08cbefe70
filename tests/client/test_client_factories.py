"""Factories and the module surface through the SDK against a real server, compared with torch:
float64 precision of tensor(...) (issue 10's regression), linspace / logspace / arange, size= and *_like
forms, seeded random factories, int8 / uint8 / int16 on the wire, the CPU-only device functions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradwire.client import Client

torch = pytest.importorskip("torch", reason="torch is the oracle for these comparisons")


def dtype_name(tensor) -> str:
    return str(tensor.dtype).rsplit(".", 1)[-1]


@pytest.mark.parametrize("make", [
    lambda m: m.tensor([0.1], dtype=m.float64),
    lambda m: m.tensor(0.1, dtype=m.float64),
    lambda m: m.tensor(np.float64(0.1)),
    lambda m: m.tensor([np.float64(0.1), 2.0]),
    lambda m: m.tensor(np.float32(0.1)),
    lambda m: m.tensor([1, 2], dtype=m.float64) * 0.1,
    lambda m: m.linspace(-math.pi, math.pi, 2000),
    lambda m: m.linspace(0, 10, 4, dtype=m.int64),
    lambda m: m.logspace(-1, 1, 4, base=2.0, dtype=m.float64),
    lambda m: m.arange(-1.5, 2.25, 0.25),
    lambda m: m.zeros(size=(2, 3)),
    lambda m: m.ones(size=[4], dtype=m.int32, device="cpu"),
    lambda m: m.full_like(m.ones(2, 3), 7.5),
    lambda m: m.empty(2, 3).zero_(),
    lambda m: m.tensor([1, 2], dtype=m.int8) + m.tensor([3], dtype=m.uint8),
    lambda m: m.tensor([200, 100], dtype=m.uint8) + 100,
    lambda m: (m.tensor([1, -8, 6], dtype=m.int16) & 3) << 1,
    lambda m: m.tensor([1, 2], dtype=m.int16).to(m.int8).byte(),
], ids=["list_f64", "scalar_f64", "np_float64", "np_float64_in_list", "np_float32", "f64_times", "linspace_2000",
        "linspace_int", "logspace", "arange_float", "zeros_size", "ones_size_int", "full_like", "empty", "int8_uint8",
        "uint8_wraps", "int16_bitwise", "casts"])
def test_factory_matches_torch(client, make):
    ours, theirs = make(client), make(torch)
    assert dtype_name(ours) == dtype_name(theirs) and tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-7, atol=1e-7)


def test_float64_precision_survives_the_wire(client):
    assert client.tensor(0.1, dtype=client.float64).item() == 0.1
    assert (client.tensor([0.1], dtype=client.float64) * 3).tolist() == [0.1 * 3]


def test_random_factories_are_seeded(address):
    def draw(client):
        client.manual_seed(3)
        return [client.rand(2, 3), client.randn(size=(4,)), client.randint(3, 9, (2, 2)), client.randperm(6),
                client.rand_like(client.ones(2, dtype=client.float64)), client.randn_like(client.ones(3)),
                client.normal(0.0, 2.0, (5,)), client.normal(client.zeros(3), 1.0),
                client.bernoulli(client.full((4,), 0.5)), client.ones(3).bernoulli(0.3),
                client.multinomial(client.tensor([0.2, 0.3, 0.5]), 2),
                client.tensor([[1.0, 2.0]]).multinomial(4, replacement=True)]

    with Client(address) as first, Client(address) as second:
        ours, again = draw(first), draw(second)
    torch.manual_seed(3)
    reference = [torch.rand(2, 3), torch.randn(4), torch.randint(3, 9, (2, 2)), torch.randperm(6),
                 torch.rand(2, dtype=torch.float64), torch.randn(3), torch.normal(0.0, 2.0, (5,)),
                 torch.normal(torch.zeros(3), 1.0), torch.bernoulli(torch.full((4,), 0.5)),
                 torch.ones(3).bernoulli(0.3), torch.multinomial(torch.tensor([0.2, 0.3, 0.5]), 2),
                 torch.tensor([[1.0, 2.0]]).multinomial(4, replacement=True)]
    for mine, repeat, theirs in zip(ours, again, reference):
        np.testing.assert_array_equal(mine.numpy(), repeat.numpy())
        assert dtype_name(mine) == dtype_name(theirs) and tuple(mine.shape) == tuple(theirs.shape)
    assert sorted(ours[3].tolist()) == list(range(6))


def test_module_surface(client):
    x = client.ones(2, 3)
    assert client.cuda.is_available() is False and client.accelerator.is_available() is False
    client.set_default_device("cpu")
    assert client.is_tensor(x) and client.numel(x) == 6
    assert x.cpu().type() == torch.ones(2, 3).type() == "torch.FloatTensor"
    assert dtype_name(x.type(client.float64)) == "float64"
    assert client.allclose(x, x + 1e-9) and not x.allclose(x + 1)
    assert client.get_default_dtype() is client.float32
    with pytest.raises(RuntimeError, match="CPU only"):
        client.ones(2, device="cuda")
