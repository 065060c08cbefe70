"""Indexing and index assignment against torch: every index form on a 3-D tensor (values, grad_fn names,
gradients, repeated indices accumulating), and x[index] = value with the same forms (CopySlices /
IndexPutBackward0, overwritten values getting zero gradient, the assigned value its slots' gradient)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

import gradwire.engine as gw
from ops_harness import compare_with_torch

SHAPE = (3, 4, 5)


def _mask(m, a):
    return m.tensor(np.arange(np.prod(a.shape[: 2])).reshape(a.shape[:2]) % 3 == 0)


GETITEM = {
    "int": lambda m, a: a[1],
    # torch applies ints before tensor indices; numpy would move the mask's dim first
    "int_slice_mask": lambda m, a: a[0, 1:3, m.tensor([True, False, True, True, False])],
    "int_list_int": lambda m, a: a[1, [0, 2], 3],
    "negative_int": lambda m, a: a[-1],
    "two_ints": lambda m, a: a[1, 2],
    "three_ints": lambda m, a: a[1, 2, 3],
    "colon_int": lambda m, a: a[:, 1],
    "ellipsis_int": lambda m, a: a[..., 2],
    "int_ellipsis_int": lambda m, a: a[1, ..., 2],
    "none_front": lambda m, a: a[None],
    "none_back": lambda m, a: a[..., None],
    "none_middle_int": lambda m, a: a[:, None, 1],
    "slice": lambda m, a: a[1:3],
    "slice_negative_start": lambda m, a: a[-2:],
    "slice_negative_stop": lambda m, a: a[:-1],
    "slice_step": lambda m, a: a[::2],
    "slice_steps_two_dims": lambda m, a: a[1::2, ::3],
    "slice_past_end": lambda m, a: a[-3:-1, 1:100],
    "slice_empty": lambda m, a: a[2:1],
    "slice_start_past_end": lambda m, a: a[5:],
    "last_dim_negative": lambda m, a: a[:, :, -1],
    "list": lambda m, a: a[[0, 2]],
    "list_repeated": lambda m, a: a[[0, 0, 2, 0]],
    "list_negative": lambda m, a: a[[-1, 0]],
    "list_second_dim_repeated": lambda m, a: a[:, [1, 1, 3]],
    "two_lists_adjacent": lambda m, a: a[:, [0, 1], [1, 2]],
    "two_lists_split": lambda m, a: a[[0, 1], :, [1, 2]],
    "lists_broadcast": lambda m, a: a[[[0], [2]], [1, 3]],
    "int_and_list": lambda m, a: a[1, [0, 2, 2]],
    "list_and_int": lambda m, a: a[[0, 2], 1],
    "long_tensor": lambda m, a: a[m.tensor([2, 0, 2])],
    "long_tensor_2d": lambda m, a: a[m.tensor([[0, 1], [1, 1]])],
    "int32_tensor": lambda m, a: a[m.tensor([1, 2], dtype=m.int32)],
    "zero_dim_long_tensor": lambda m, a: a[m.tensor(1)],
    "none_and_list": lambda m, a: a[None, [0, 1]],
    "slice_and_list": lambda m, a: a[1:, [0, 0, 3]],
    "ellipsis_and_list": lambda m, a: a[..., [4, 0]],
    "mask_full": lambda m, a: a[a > 0.5],
    "mask_two_dims": lambda m, a: a[_mask(m, a)],
    "mask_first_dim": lambda m, a: a[m.tensor([True, False, True])],
    "mask_list": lambda m, a: a[[True, False, True]],
    "mask_second_dim": lambda m, a: a[:, m.tensor([False, True, True, False])],
    "mask_last_dim_ellipsis": lambda m, a: a[..., m.tensor([True, False, True, False, True])],
    "mask_all_false": lambda m, a: a[m.tensor([False, False, False])],
    "chained": lambda m, a: a[1:][:, ::2][0],
    "getitem_of_expression": lambda m, a: (a * 2)[[0, 0]].sum(0),
}


def rng_for(label: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(label.encode()))


@pytest.mark.parametrize("label", list(GETITEM))
def test_getitem_matches_torch(label):
    inputs = [rng_for(label).standard_normal(SHAPE)]
    compare_with_torch(GETITEM[label], inputs, np.float64, rng_for(label))


def _write(index, value_shape=None, value=None):
    """target = a * 1; target[index] = v (a tensor requiring grad of value_shape, or a constant)."""

    def program(m, a, *v):
        target = a * 1
        target[index(m, a) if callable(index) else index] = v[0] if v else value
        return target

    return program, value_shape


SETITEM = {
    "int": _write(1, (4, 5)),
    "int_broadcast_value": _write(1, (5,)),
    "int_scalar": _write(1, value=2.0),
    "int_python_int_value": _write(1, value=3),
    "ints": _write((-1, -1, -1), ()),
    "slice": _write((slice(None), slice(1, 3)), (3, 2, 5)),
    "slice_steps": _write((slice(None, None, 2), slice(None, None, 2)), (1,)),
    "negative_slice": _write(slice(-2, None), (2, 4, 5)),
    "ellipsis": _write((Ellipsis, 0), (3, 4)),
    "none": _write((None, 1), (4, 5)),
    "list": _write([0, 2], (2, 4, 5)),
    "list_broadcast_value": _write([0, 2], (1, 5)),
    "two_lists": _write(([0, 1], [1, 2]), (2, 5)),
    "colon_and_list": _write((slice(None), [0, 3]), (3, 2, 5)),
    "slice_and_list": _write((slice(1, None), [0, 3]), (2, 2, 5)),
    "long_tensor": _write(lambda m, a: m.tensor([2, 0]), (2, 4, 5)),
    "zero_dim_long_tensor": _write(lambda m, a: m.tensor(2), (4, 5)),
    "mask_full_scalar": _write(lambda m, a: a > 0.3, value=0.0),
    "mask_first_dim": _write(lambda m, a: m.tensor([True, False, True]), (4, 5)),
    "mask_two_dims_scalar": _write(lambda m, a: _mask(m, a), value=-1.0),
    "int_slice_mask": _write(lambda m, a: (0, slice(1, 3), m.tensor([True, False, True, True, False])), (2, 3)),
}


@pytest.mark.parametrize("label", list(SETITEM))
def test_setitem_matches_torch(label):
    program, value_shape = SETITEM[label]
    rng = rng_for(label)
    inputs = [rng.standard_normal(SHAPE)] + ([rng.standard_normal(value_shape)] if value_shape is not None else [])
    compare_with_torch(program, inputs, np.float64, rng)


def _into_row_of_zeros(m, a):
    n = m.zeros(3, 5, dtype=a.dtype)
    n[1][2] = a[0, 0, 0] * 2
    n[2][1:4] = a[1, 1, :3]
    return n


def _into_transpose(m, a, v):
    b = a * 1
    b[0].t()[1] = v
    return b


def _into_view_of_view(m, a, v):
    b = a * 1
    rows = b[1:]
    rows[:, 1][0] = v
    return b * rows.sum()  # rows was made before the write: it must see it


def _zero_a_view(m, a):
    b = a * 1
    b[0].zero_()
    return b


def _into_reshaped(m, a):
    b = a * 2
    b.view(60)[7] = 3.0
    return b


def _view_used_after_write(m, a, v):
    b = a * 1
    row = b[2]
    row[1] = v
    return (row * row).sum() + b.sum()


THROUGH_VIEWS = {
    "row_of_zeros": (_into_row_of_zeros, None),
    "transpose_of_select": (_into_transpose, (4,)),
    "view_of_view": (_into_view_of_view, (5,)),
    "zero_a_view": (_zero_a_view, None),
    "reshaped": (_into_reshaped, None),
    "view_used_after_write": (_view_used_after_write, (5,)),
}


@pytest.mark.parametrize("label", list(THROUGH_VIEWS))
def test_writing_into_a_view_changes_its_base_as_in_torch(label):
    """x[i][j] = v and writes into other views land in the base (CopySlices), gradients included."""
    program, value_shape = THROUGH_VIEWS[label]
    rng = rng_for(label)
    inputs = [rng.standard_normal(SHAPE)] + ([rng.standard_normal(value_shape)] if value_shape else [])
    compare_with_torch(program, inputs, np.float64, rng)


def _target_and_value(m, dtype):
    target = m.zeros(3, 4, dtype=m.float64)
    value = m.tensor([1.0, 2.0, 3.0, 4.0], dtype=dtype, requires_grad=True)
    return target, value


@pytest.mark.parametrize("module", [gw, torch], ids=["gradwire", "torch"])
def test_value_of_another_dtype_is_cast_and_its_grad_keeps_its_dtype(module):
    target, value = _target_and_value(module, module.float32)
    target[1] = value
    assert str(target.dtype).endswith("float64")
    (target * module.arange(12, dtype=module.float64).reshape(3, 4)).sum().backward()
    assert str(value.grad.dtype).endswith("float32")
    np.testing.assert_array_equal(value.grad.numpy(), [4.0, 5.0, 6.0, 7.0])


def test_overwritten_then_assigned_values_follow_torch():
    """A chain of assignments: each one's CopySlices links to the previous; overwritten slots get zero."""
    results = {}
    for module in (gw, torch):
        t = module.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        v = module.tensor(10.0, requires_grad=True)
        a = t * t
        a[0] = 5
        a[1:3] = v
        a[2] = v * 2
        a.sum().backward()
        results[module.__name__] = (t.grad.numpy().copy(), v.grad.numpy().copy(), a.grad_fn.name(),
                                    a.grad_fn.next_functions[0][0].name())
    ours, theirs = results["gradwire.engine"], results["torch"]
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])
    assert ours[2:] == theirs[2:]
