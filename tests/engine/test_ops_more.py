"""torch.equal and Tensor.equal (a Python bool, not an op) in the engine, against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradwire.engine as gw

CASES = {
    "same": ([1.0, 2.0], [1.0, 2.0]),
    "different_value": ([1.0, 2.0], [1.0, 2.5]),
    "different_shape": ([1.0, 2.0], [[1.0, 2.0]]),
    "no_broadcast": ([[1.0, 1.0]], [1.0]),
    "nan": ([float("nan")], [float("nan")]),
    "int_and_float": ([1, 2], [1.0, 2.0]),
}


@pytest.mark.parametrize("name", CASES)
def test_equal_matches_torch(name):
    a, b = CASES[name]
    expected = torch.equal(torch.tensor(a), torch.tensor(b))
    ours = gw.equal(gw.tensor(np.array(a)), gw.tensor(np.array(b)))
    assert type(ours) is bool and ours == expected
    assert gw.tensor(np.array(a)).equal(gw.tensor(np.array(b))) == expected


def test_equal_refuses_a_number_as_torch_does():
    with pytest.raises(TypeError):
        torch.equal(torch.ones(2), 1)
    with pytest.raises(TypeError):
        gw.equal(gw.ones(2), 1)
