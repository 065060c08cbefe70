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


def test_out_shape_predicts_every_forward():
    """Under a memory budget the dispatcher charges out_shape before the forward: for every nn row,
    the predicted shape of output 0 is the shape the forward returns."""
    import numpy as np

    from ops_harness import make_tensors
    from ops_table import ROWS

    predicted, mismatches = {}, []
    ops = _nn_ops()
    for op in ops:
        def out_shape(shapes, attrs, _op=op, _rule=op.out_shape):
            predicted[_op.name] = tuple(_rule(shapes, attrs))
            return predicted[_op.name]

        def forward(arrays, attrs, _op=op, _forward=op.forward):
            result = _forward(arrays, attrs)
            actual = np.shape(result[0] if isinstance(result, tuple) else result)
            if _op.name in predicted and predicted.pop(_op.name) != tuple(actual):
                mismatches.append((_op.name, actual))
            return result

        object.__setattr__(op, "out_shape", out_shape)  # OpDef is frozen; restored below
        object.__setattr__(op, "forward", forward)
    try:
        rows = [r for r in ROWS if r.program.__module__ == "ops_table_nn"]
        with gw.memory_budget(1 << 40):
            for row in rows:
                row.program(gw, *make_tensors(gw, row.inputs(np.random.default_rng(0)), requires_grad=False))
    finally:
        for op in ops:
            object.__setattr__(op, "out_shape", op.out_shape.__defaults__[1])
            object.__setattr__(op, "forward", op.forward.__defaults__[1])
    # one_hot(num_classes=-1) takes its width from the values: out_shape charges a lower bound.
    assert [m for m in mismatches if m[0] != "one_hot"] == [], mismatches
