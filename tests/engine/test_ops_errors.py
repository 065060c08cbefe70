"""Bad shapes, dtypes, indices and arguments: the engine raises the builtin exception class torch raises,
as one of its own GradwireError types, with a message."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradwire.engine as gw
from gradwire.rules.errors import GradwireError
from ops_harness import builtin_class, outcome

M34 = np.arange(12.0).reshape(3, 4)
INTS = np.array([1, 2, 3])
BOOLS = np.array([True, False])


def _assign(index, value):
    def program(m, a):
        target = a * 1
        target[index] = value if not isinstance(value, np.ndarray) else m.tensor(value)
        return target

    return program


def _into_leaf(m, a):
    leaf = a.detach().requires_grad_()
    leaf[0] = 1.0


def _into_view_of_leaf(m, a):
    leaf = a.detach().requires_grad_()
    leaf[0][1] = 1.0


ERRORS = {
    # shapes
    "add_no_broadcast": ([M34, np.ones((2, 4))], lambda m, a, b: a + b),
    "mul_no_broadcast_trailing": ([M34, np.ones(5)], lambda m, a, b: a * b),
    "where_no_broadcast": ([M34, np.ones(3)], lambda m, a, b: m.where(a > 1, a, b)),
    "compare_no_broadcast": ([M34, np.ones(2)], lambda m, a, b: a < b),
    "matmul_inner_mismatch": ([M34, M34], lambda m, a, b: a @ b),
    "matmul_0d": ([np.array(2.0), M34], lambda m, a, b: a @ b),
    "matmul_batch_mismatch": ([np.ones((2, 3, 4)), np.ones((3, 4, 5))], lambda m, a, b: a @ b),
    "matmul_mixed_dtypes": ([M34, np.ones((4, 2), dtype=np.float32)], lambda m, a, b: a @ b),
    "matmul_python_scalar": ([M34], lambda m, a: a @ 2),
    "mm_of_vector": ([np.ones(3), np.ones((3, 2))], lambda m, a, b: m.mm(a, b)),
    "mm_mismatch": ([M34, M34], lambda m, a, b: m.mm(a, b)),
    "bmm_of_matrices": ([M34, M34.T.copy()], lambda m, a, b: m.bmm(a, b)),
    "bmm_batch_mismatch": ([np.ones((2, 3, 2)), np.ones((3, 2, 2))], lambda m, a, b: m.bmm(a, b)),
    "dot_of_matrices": ([M34, M34], lambda m, a, b: m.dot(a, b)),
    "dot_length_mismatch": ([np.ones(3), np.ones(4)], lambda m, a, b: m.dot(a, b)),
    "mv_mismatch": ([np.ones((3, 2)), np.ones(3)], lambda m, a, b: m.mv(a, b)),
    "reshape_wrong_size": ([M34], lambda m, a: a.reshape(5)),
    "reshape_two_inferred": ([M34], lambda m, a: a.reshape(-1, -1)),
    "view_wrong_size": ([M34], lambda m, a: a.view(2, 5)),
    "view_needing_a_copy": ([M34], lambda m, a: a.t().view(12)),
    "expand_non_singleton": ([M34], lambda m, a: a.expand(2, 4)),
    "expand_fewer_dims": ([M34], lambda m, a: a.expand(4)),
    "permute_repeated_dim": ([M34], lambda m, a: a.permute(0, 0)),
    "permute_wrong_count": ([M34], lambda m, a: a.permute(1, 0, 2)),
    "t_of_3d": ([np.ones((2, 3, 4))], lambda m, a: a.t()),
    "mT_of_vector": ([np.ones(3)], lambda m, a: a.mT),
    "cat_shape_mismatch": ([M34, np.ones((3, 2))], lambda m, a, b: m.cat([a, b])),
    "cat_rank_mismatch": ([M34, np.ones(4)], lambda m, a, b: m.cat([a, b])),
    "stack_shape_mismatch": ([M34, np.ones((4, 3))], lambda m, a, b: m.stack([a, b])),
    "setitem_shape_mismatch": ([M34], _assign(0, np.ones(3))),
    # dims out of range
    "sum_dim": ([M34], lambda m, a: a.sum(dim=2)),
    "mean_negative_dim": ([M34], lambda m, a: a.mean(-3)),
    "sum_repeated_dim": ([M34], lambda m, a: a.sum(dim=(1, -1))),
    "max_dim": ([M34], lambda m, a: a.max(dim=2)),
    "softmax_dim": ([M34], lambda m, a: a.softmax(2)),
    "transpose_dim": ([M34], lambda m, a: a.transpose(0, 2)),
    "unsqueeze_dim": ([M34], lambda m, a: a.unsqueeze(3)),
    "squeeze_dim": ([M34], lambda m, a: a.squeeze(5)),
    "cat_dim": ([M34, M34], lambda m, a, b: m.cat([a, b], 2)),
    "stack_dim": ([M34, M34], lambda m, a, b: m.stack([a, b], 3)),
    # dtypes
    "mean_of_ints": ([INTS], lambda m, k: k.mean()),
    "var_of_ints": ([INTS], lambda m, k: k.var()),
    "softmax_of_ints": ([INTS], lambda m, k: k.softmax(0)),
    "log_softmax_of_ints": ([INTS], lambda m, k: k.log_softmax(0)),
    "requires_grad_on_ints": ([INTS], lambda m, k: k.requires_grad_()),
    "tensor_int_requires_grad": ([], lambda m: m.tensor([2, 3], requires_grad=True)),
    "where_float_condition": ([M34], lambda m, a: m.where(a, a, a)),
    "neg_of_bool": ([BOOLS], lambda m, b: -b),
    "sub_of_bools": ([BOOLS, BOOLS], lambda m, a, b: a - b),
    "abs_of_bool": ([BOOLS], lambda m, b: b.abs()),
    "relu_of_bool": ([BOOLS], lambda m, b: b.relu()),
    "int_to_negative_power": ([INTS], lambda m, k: k ** -1),
    # empty reductions
    "max_of_empty": ([np.zeros((0, 3))], lambda m, a: a.max()),
    "min_dim_of_empty": ([np.zeros((0, 3))], lambda m, a: a.min(0)),
    # indices
    "index_past_end": ([M34], lambda m, a: a[5]),
    "negative_index_past_start": ([M34], lambda m, a: a[:, -5]),
    "too_many_indices": ([M34], lambda m, a: a[0, 0, 0]),
    "list_index_past_end": ([M34], lambda m, a: a[[0, 5]]),
    "float_index": ([M34], lambda m, a: a[1.5]),
    "float_tensor_index": ([M34, np.array([1.0])], lambda m, a, i: a[i.detach()]),
    "string_index": ([M34], lambda m, a: a["x"]),
    "negative_step": ([M34], lambda m, a: a[::-1]),
    "zero_step": ([M34], lambda m, a: a[::0]),
    "mask_wrong_shape": ([M34, BOOLS], lambda m, a, mask: a[mask]),
    "index_lists_do_not_broadcast": ([M34], lambda m, a: a[(m.tensor([0, 1]), m.tensor([0, 1, 2]))]),
    "setitem_index_past_end": ([M34], _assign(7, 1.0)),
    "setitem_negative_step": ([M34], _assign(slice(None, None, -1), 1.0)),
    # arguments
    "maximum_with_number": ([M34], lambda m, a: m.maximum(a, 2.0)),
    "minimum_with_number": ([M34], lambda m, a: m.minimum(1, a)),
    "cat_of_a_tensor": ([M34], lambda m, a: m.cat(a)),
    "clamp_tensor_and_number": ([M34, np.zeros(4)], lambda m, a, low: a.clamp(low, 0.5)),
    "clamp_bounds_do_not_broadcast": ([M34, np.zeros(3)], lambda m, a, low: a.clamp(min=low)),
    "exp_of_a_number": ([], lambda m: m.exp(2)),
    "sum_of_a_number": ([], lambda m: m.sum(1.5)),
    "cat_of_numbers": ([], lambda m: m.cat([1.5, 2.5])),
    "softmax_of_a_number": ([], lambda m: m.softmax(2.0, 0)),
    "int_pow_shapes_do_not_broadcast": ([np.ones((3, 4), dtype=np.int64), -np.ones(3, dtype=np.int64)],
                                        lambda m, a, b: a ** b),
    "setitem_mask_value_shape": ([M34], _assign([True, False, True], np.ones((4, 3)))),
    "clamp_without_bounds": ([M34], lambda m, a: a.clamp()),
    "prod_of_two_dims": ([M34], lambda m, a: a.prod(dim=(0, 1))),
    "sum_float_dim": ([M34], lambda m, a: a.sum(dim=1.5)),
    "var_unbiased_and_correction": ([M34], lambda m, a: a.var(0, unbiased=False, correction=1)),
    "cat_of_nothing": ([], lambda m: m.cat([])),
    "stack_of_nothing": ([], lambda m: m.stack([])),
    # in place
    "setitem_into_leaf": ([M34], _into_leaf),
    "setitem_into_view_of_leaf": ([M34], _into_view_of_leaf),
}


def same_kind(ours: type, theirs: type) -> bool:
    """The same builtin class; torch's "kernel not implemented for dtype" NotImplementedError (a
    RuntimeError) is matched by the engine's RuntimeError for the same dtype."""
    return ours is theirs or (theirs is NotImplementedError and ours is RuntimeError)


@pytest.mark.parametrize("label", list(ERRORS))
def test_error_class_matches_torch(label):
    inputs, program = ERRORS[label]
    theirs, their_error = outcome(torch, program, inputs)
    assert theirs == "error", f"torch accepts {label}; the table expects an error"
    ours, our_error = outcome(gw, program, inputs)
    assert ours == "error", f"gradwire accepts {label}, torch raises {builtin_class(their_error).__name__}"
    assert isinstance(our_error, GradwireError), f"{type(our_error).__name__} is not a GradwireError: {our_error}"
    assert same_kind(builtin_class(our_error), builtin_class(their_error)), (
        f"gradwire raised {type(our_error).__name__} ({builtin_class(our_error).__name__}): {our_error}; "
        f"torch raised {builtin_class(their_error).__name__}: {their_error}"
    )
    assert str(our_error), "the message must say what was wrong"


def test_failed_op_leaves_no_trace():
    """A refused op changes nothing: the operand keeps its version, values and (absent) grad."""
    a = gw.tensor(M34, requires_grad=True)
    target = a * 1
    version = target._version_number
    with pytest.raises(RuntimeError):
        target[0] = gw.ones(3)
    assert target._version_number == version
    np.testing.assert_array_equal(target.detach().numpy(), M34)
    assert target.grad_fn.name() == "MulBackward0"
