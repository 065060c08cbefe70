"""The public catalogue: every spelling an op claims exists in torch, every op has a summary and every
attribute a description, and the engine's plumbing is marked internal (and claims no spelling)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="torch is the reference for spellings")

from gradwire.engine.registry import OPS  # noqa: E402

INTERNAL = {"copy_slices", "index_backward", "index_zero", "view_of_base",
            # the gradients of convolution, embedding and max pooling, and the N-d convolution behind conv*d
            "convolution_nd", "convolution_input_grad", "convolution_weight_grad", "embedding_dense_backward",
            "max_pool_scatter", "max_pool_gather"}


def _torch_has(dotted: str) -> bool:
    target = torch
    for part in dotted.split("."):
        if not hasattr(target, part):
            return False
        target = getattr(target, part)
    return True


@pytest.mark.parametrize("op", list(OPS.values()), ids=lambda op: op.name)
def test_every_claimed_spelling_exists_in_torch(op):
    missing = [f"torch.{name}" for name in op.functions if not _torch_has(name)]
    missing += [f"Tensor.{name}" for name in op.methods + op.operators + op.reflected_operators
                if not hasattr(torch.Tensor, name)]
    assert not missing, f"{op.name} claims spellings torch does not have: {missing}"


@pytest.mark.parametrize("op", list(OPS.values()), ids=lambda op: op.name)
def test_every_op_has_a_summary_and_every_attribute_a_description(op):
    assert op.summary, f"{op.name} has no summary"
    undescribed = [spec.name for spec in op.attrs if not spec.description]
    assert not undescribed, f"{op.name}: attributes without a description: {undescribed}"


def test_plumbing_is_internal_and_has_no_spelling():
    internal = {op.name for op in OPS.values() if op.internal}
    assert internal == INTERNAL
    for name in internal:
        op = OPS[name]
        assert not (op.methods or op.functions or op.operators or op.reflected_operators), name


def test_torch_view_and_expand_are_not_functions():
    claimed = {name for op in OPS.values() for name in op.functions}
    assert "view" not in claimed and "expand" not in claimed
