"""Factories and the module surface against torch: dtype inference (issue 10's float64 regressions),
linspace / logspace / arange with float steps, the *_like and size= forms, the seeded random factories,
devices, default dtypes and int8 / uint8 / int16 tensors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import gradwire.engine as gw


def dtype_name(tensor) -> str:
    return str(tensor.dtype).rsplit(".", 1)[-1]


def same(ours, theirs, exact=True) -> None:
    assert dtype_name(ours) == dtype_name(theirs)
    assert tuple(ours.shape) == tuple(theirs.shape)
    if exact:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    else:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("make", [
    lambda m: m.tensor([0.1], dtype=m.float64),
    lambda m: m.tensor(0.1, dtype=m.float64),
    lambda m: m.tensor([[0.1, 1e-300]], dtype=m.float64),
    lambda m: m.tensor(np.float64(0.1)),
    lambda m: m.tensor([np.float64(0.1), 2.0]),
    lambda m: m.tensor(np.float32(0.1)),
    lambda m: m.tensor(np.int32(7)),
    lambda m: m.tensor([1, 2], dtype=m.float64),
    lambda m: m.tensor(0.1),
    lambda m: m.tensor([True, 2]),
    lambda m: m.tensor([]),
], ids=["list_f64", "scalar_f64", "tiny_f64", "np_float64", "np_float64_in_list", "np_float32", "np_int32",
        "ints_as_f64", "float_default", "bool_int", "empty"])
def test_tensor_dtype_and_precision_match_torch(make):
    same(make(gw), make(torch))


def test_float64_tensor_keeps_full_precision():
    assert gw.tensor(0.1, dtype=gw.float64).item() == 0.1
    assert gw.tensor([0.1], dtype=gw.float64).tolist() == [0.1]


@pytest.mark.parametrize("make", [
    lambda m: m.linspace(-math.pi, math.pi, 2000),
    lambda m: m.linspace(0, 1, 7, dtype=m.float64),
    lambda m: m.linspace(3, -2, 1),
    lambda m: m.linspace(0, 10, 4, dtype=m.int64),
    lambda m: m.logspace(0, 2, 5),
    lambda m: m.logspace(-1, 1, 4, base=2.0, dtype=m.float64),
    lambda m: m.arange(0, 1, 0.1),
    lambda m: m.arange(-1.5, 2.25, 0.25, dtype=m.float64),
    lambda m: m.arange(5, 0, -1),
    lambda m: m.arange(0.0, 3),
    lambda m: m.zeros(size=(2, 3)),
    lambda m: m.ones(size=[4], dtype=m.int32),
    lambda m: m.full_like(m.ones(2, 3), 7.5),
    lambda m: m.full_like(m.ones(2, dtype=m.int64), 3),
    lambda m: m.empty(2, 3).zero_(),
    lambda m: m.empty_like(m.ones(3, dtype=m.float64)).zero_(),
    lambda m: m.ones(3, device="cpu"),
    lambda m: m.tensor([1, 2], dtype=m.int8) + m.tensor([3], dtype=m.uint8),
    lambda m: m.tensor([200, 100], dtype=m.uint8) + 100,
    lambda m: m.tensor([1, 2], dtype=m.int16) * 2.5,
    lambda m: m.tensor([1, 2], dtype=m.int16).short().to(m.int8),
    lambda m: m.from_numpy(np.array([1, 2], dtype=np.uint8)),
], ids=["linspace_2000", "linspace_f64", "linspace_1", "linspace_int", "logspace", "logspace_base2", "arange_float",
        "arange_f64", "arange_down", "arange_float_start", "zeros_size", "ones_size_int", "full_like", "full_like_int",
        "empty", "empty_like", "device_cpu", "int8_uint8", "uint8_wraps", "int16_float", "short_char", "from_numpy_uint8"])
def test_factories_match_torch(make):
    same(make(gw), make(torch), exact=False)


def test_random_factories_are_seeded_and_shaped_like_torch():
    def draw(m):
        return [m.rand(2, 3), m.randn(size=(4,)), m.randint(3, 9, (2, 2)), m.randint(5, size=(3,)), m.randperm(6),
                m.rand_like(m.ones(2, dtype=m.float64)), m.randn_like(m.ones(3)), m.normal(0.0, 2.0, (5,)),
                m.normal(m.zeros(3), m.ones(3)), m.bernoulli(m.full((4,), 0.5)),
                m.multinomial(m.tensor([0.2, 0.3, 0.5]), 2), m.multinomial(m.tensor([[1.0, 2.0]]), 4, replacement=True)]

    gw.manual_seed(7)
    first = draw(gw)
    gw.manual_seed(7)
    second = draw(gw)
    torch.manual_seed(7)
    reference = draw(torch)
    for ours, again, theirs in zip(first, second, reference):
        np.testing.assert_array_equal(ours.numpy(), again.numpy())
        assert dtype_name(ours) == dtype_name(theirs) and tuple(ours.shape) == tuple(theirs.shape)
    assert 3 <= first[2].min().item() and first[2].max().item() < 9
    assert sorted(first[4].tolist()) == list(range(6))
    assert set(first[9].tolist()) <= {0.0, 1.0}
    assert len(set(first[10].tolist())) == 2  # without replacement: distinct


def test_module_surface_matches_torch():
    for m in (gw, torch):
        x = m.ones(2, 3)
        assert m.cuda.is_available() is False
        assert m.is_tensor(x) and not m.is_tensor(3)
        assert m.numel(x) == 6
        assert x.cpu().tolist() == [[1.0] * 3] * 2
        assert x.type() == "torch.FloatTensor" and m.ones(2, dtype=m.int64).type() == "torch.LongTensor"
        assert dtype_name(x.type(m.float64)) == "float64"
        assert str(x.device) == "cpu"
        assert m.get_default_dtype() is m.float32
        m.set_default_device("cpu")
    try:
        gw.set_default_dtype(gw.float64)
        torch.set_default_dtype(torch.float64)
        same(gw.tensor([0.1]), torch.tensor([0.1]))
        same(gw.ones(2), torch.ones(2))
        same(gw.arange(0, 1, 0.5), torch.arange(0, 1, 0.5))
    finally:
        gw.set_default_dtype(gw.float32)
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("call, error", [
    (lambda m: m.randint(5, 2, (3,)), RuntimeError),
    (lambda m: m.multinomial(m.tensor([0.5, 0.5]), 3), RuntimeError),
    (lambda m: m.bernoulli(m.tensor([1.5])), RuntimeError),
    (lambda m: m.randn(2, dtype=m.int64), RuntimeError),
    (lambda m: m.arange(0, 5, -1), RuntimeError),
    (lambda m: m.set_default_dtype(m.int64), TypeError),
], ids=["randint_bounds", "multinomial_too_many", "bernoulli_p", "randn_int", "arange_sign", "default_int"])
def test_factory_errors_are_torchs(call, error):
    for m in (gw, torch):
        with pytest.raises(error):
            call(m)


def test_cuda_device_is_refused_with_a_clear_error():
    # torch without CUDA raises an AssertionError; a RuntimeError naming the fix is clearer.
    with pytest.raises(RuntimeError, match="CPU only"):
        gw.ones(2, device="cuda")
