"""Bad arguments to the reduction, scan, shape, indexing and linear-algebra ops: the engine raises the
builtin exception class torch raises (as a GradwireError, with a message)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradwire.engine as gw
from gradwire.rules.errors import GradwireError
from ops_harness import builtin_class, outcome
from test_ops_errors import same_kind

M34 = np.arange(12.0).reshape(3, 4)
INDEX = np.array([[0, 5, 1, 0]])
SQUARE = np.array([[1.0, 2.0], [3.0, 4.0]])

ERRORS = {
    "logsumexp_dim_out_of_range": ([M34], lambda m, a: a.logsumexp(2)),
    "std_of_ints": ([np.ones((2, 2), dtype=np.int64)], lambda m, k: k.std()),
    "amax_of_empty": ([np.zeros((0, 3))], lambda m, a: a.amax(0)),
    "argmax_dim_out_of_range": ([M34], lambda m, a: a.argmax(5)),
    "cumsum_dim_out_of_range": ([M34], lambda m, a: a.cumsum(-3)),
    "topk_k_too_large": ([M34], lambda m, a: a.topk(5)),
    "kthvalue_k_zero": ([M34], lambda m, a: a.kthvalue(0)),
    "gather_index_out_of_range": ([M34, INDEX], lambda m, a, i: a.gather(1, i)),
    "gather_float_index": ([M34, np.zeros((1, 4))], lambda m, a, i: a.gather(0, i.detach())),
    "gather_rank_mismatch": ([M34, np.array([0, 1])], lambda m, a, i: a.gather(0, i)),
    "scatter_add_dtype_mismatch": ([M34, np.array([[0, 1, 2, 0]]), np.ones((1, 4), dtype=np.int64)],
                                   lambda m, a, i, s: a.scatter_add(0, i, s)),
    "index_select_2d_index": ([M34, np.array([[0, 1]])], lambda m, a, i: a.index_select(0, i)),
    "masked_fill_float_mask": ([M34], lambda m, a: a.masked_fill(a.detach() * 1.0, 0.0)),
    "masked_select_shapes": ([M34, np.array([True, False])], lambda m, a, k: a.masked_select(k)),
    "take_out_of_range": ([M34, np.array([12])], lambda m, a, i: a.take(i)),
    "split_sizes_do_not_sum": ([M34], lambda m, a: a.split([1, 1], 0)),
    "chunk_zero": ([M34], lambda m, a: a.chunk(0)),
    "narrow_too_long": ([M34], lambda m, a: a.narrow(1, 2, 3)),
    "unflatten_wrong_sizes": ([M34], lambda m, a: a.unflatten(1, (3, 2))),
    "repeat_fewer_dims": ([M34], lambda m, a: a.repeat(2)),
    "roll_shift_dims_mismatch": ([M34], lambda m, a: a.roll((1, 2), (0,))),
    "tril_of_vector": ([np.arange(3.0)], lambda m, a: a.tril()),
    "diagonal_same_dims": ([M34], lambda m, a: a.diagonal(0, 1, 1)),
    "trace_of_3d": ([np.ones((2, 2, 2))], lambda m, a: a.trace()),
    "pad_odd_length": ([M34], lambda m, a: m.nn.functional.pad(a, (1,))),
    "pad_reflect_too_wide": ([M34[None]], lambda m, a: m.nn.functional.pad(a, (4, 0), mode="reflect")),
    "einsum_operand_count": ([M34], lambda m, a: m.einsum("ij,jk->ik", a)),
    "einsum_size_mismatch": ([M34, M34], lambda m, a, b: m.einsum("ij,jk->ik", a, b)),
    "addmm_shapes": ([np.ones((3, 3)), M34, M34], lambda m, c, a, b: m.addmm(c, a, b)),
    "cross_no_size_3": ([M34, M34], lambda m, a, b: m.linalg.cross(a, b)),
    "inv_not_square": ([M34], lambda m, a: m.linalg.inv(a)),
    "inv_singular": ([np.ones((2, 2))], lambda m, a: m.linalg.inv(a)),
    "det_of_vector": ([np.arange(3.0)], lambda m, a: m.linalg.det(a)),
    "cholesky_not_positive_definite": ([-np.eye(2)], lambda m, a: m.linalg.cholesky(a)),
    "solve_shapes": ([SQUARE, np.ones((3, 1))], lambda m, a, b: m.linalg.solve(a, b)),
    "eigh_of_ints": ([np.ones((2, 2), dtype=np.int64)], lambda m, k: m.linalg.eigh(k)),
    "pad_longer_than_rank": ([M34], lambda m, a: m.nn.functional.pad(a, (5, 0, 0, 0, 0, 0))),
    "pad_unknown_mode": ([M34[None]], lambda m, a: m.nn.functional.pad(a, (1, 1), mode="bad")),
    "pad_reflect_with_value": ([M34[None]], lambda m, a: m.nn.functional.pad(a, (1, 1), mode="reflect", value=2.0)),
    "flatten_start_after_end": ([M34], lambda m, a: a.flatten(1, 0)),
    "tensor_split_zero": ([M34], lambda m, a: a.tensor_split(0)),
    "meshgrid_of_matrix": ([M34], lambda m, a: m.meshgrid(a, indexing="ij")),
    "movedim_lengths": ([M34], lambda m, a: a.movedim((0, 1), (0,))),
    "matrix_norm_unknown_order": ([M34], lambda m, a: m.linalg.matrix_norm(a, "bad")),
    "norm_unknown_order": ([M34], lambda m, a: a.norm("bad")),
    "mode_of_empty_dim": ([np.zeros((0, 3))], lambda m, a: a.mode(0)),
    "median_of_empty_dim": ([np.zeros((3, 0))], lambda m, a: a.median(1)),
    "index_fill_out_of_range": ([M34, np.array([5])], lambda m, a, i: a.index_fill(1, i, 1.0)),
    "index_select_out_of_range": ([M34, np.array([5])], lambda m, a, i: a.index_select(1, i)),
    "scatter_out_of_range": ([M34, np.array([[5]])], lambda m, a, i: a.scatter(1, i, 1.0)),
    "masked_fill_vector_value": ([M34, np.ones(4)], lambda m, a, v: a.masked_fill(a.detach() > 3, v)),
    "svd_of_vector": ([np.arange(3.0)], lambda m, a: m.linalg.svd(a)),
}


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
    assert str(our_error)
