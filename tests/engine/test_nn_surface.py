"""The torch.nn.functional ops' spellings: every name they claim exists in torch (module functions in
torch, namespace ones in torch.nn.functional), and the importable module gives the same functions."""

from __future__ import annotations

import torch

import gradwire.engine as gw
from gradwire.engine.registry import OPS

NN_MODULES = ("nn_linear", "nn_loss_class", "nn_loss_elementwise", "nn_conv", "nn_norm", "nn_dropout", "nn_pool",
              "nn_adaptive_pool", "nn_misc", "nn_resample", "nn_composite")


def _nn_ops():
    return [op for op in OPS.values() if op.forward.__module__.rsplit(".", 1)[-1] in NN_MODULES]


def test_every_spelling_exists_in_torch():
    missing = []
    for op in _nn_ops():
        for name in op.functions:
            owner, _, short = name.rpartition(".")
            module = torch.nn.functional if owner == "nn.functional" else torch if not owner else None
            if module is None or not hasattr(module, short):
                missing.append(name)
    assert not missing, f"spellings torch does not have: {missing}"


def test_nn_ops_are_found():
    names = {op.name for op in _nn_ops()}
    assert {"linear", "conv2d", "cross_entropy", "batch_norm", "max_pool2d"} <= names


def test_importable_functional_module():
    import gradwire.engine.nn.functional as F

    assert F.conv2d is not None and gw.nn.functional.cross_entropy is not None
    public = [op for op in _nn_ops() if op.functions]
    for op in public:
        for name in op.functions:
            if name.startswith("nn.functional."):
                assert hasattr(F, name.rpartition(".")[2]), name


