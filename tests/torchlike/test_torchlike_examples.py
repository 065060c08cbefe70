"""The examples_nn-style programs run unchanged on gradwire (engine and SDK) and on torch from the
same initial weights: the losses and final weights agree to float32 tolerance."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from training_programs import PROGRAMS, initial_weights


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__)
def test_program_matches_torch(program, backend):
    weights = initial_weights(program)
    ours, our_state = program(backend, weights)
    theirs, their_state = program(torch, {key: torch.from_numpy(value) for key, value in weights.items()})
    np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=1e-5)
    assert ours[-1] < ours[0]  # it trains
    assert list(our_state) == list(their_state)
    for key, value in our_state.items():
        np.testing.assert_allclose(np.asarray(value), their_state[key].numpy(), rtol=2e-4, atol=1e-5,
                                   err_msg=key)
