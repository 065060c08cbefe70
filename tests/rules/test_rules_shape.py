"""The rules of the shape and indexing families (rules/ops/shape.py, rules/ops/indexing.py and their
sub-modules) against torch, without the engine's forward: every op is defined in gradwire.rules with a
shape and a dtype rule; for every op-table row whose result the op makes, the shape, dtype and grad_fn the
rules predict from the call's shapes and attributes are torch's; getitem's shape rule is torch's for
index expressions built from shapes and dtypes alone; mistakes raise torch's class (and, for the shape
mistakes users make most, torch's message) from the rules themselves."""

from __future__ import annotations

import random
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

import gradwire.engine as gw  # noqa: E402
from gradwire.rules import RULES, dtypes, rules_of  # noqa: E402
from gradwire.rules.attrs import normalise_attrs  # noqa: E402
from gradwire.rules.indexing import getitem_shape, grad_fn_name, normalise_index  # noqa: E402
from gradwire.rules.spec import Bound  # noqa: E402
from ops_harness import as_outputs, builtin_class, dtype_name, make_tensors  # noqa: E402
from ops_table import ROWS  # noqa: E402

FAMILY = (
    # rules/ops/shape.py, reshaping.py, splitting.py
    "reshape", "view", "transpose", "t", "permute", "squeeze", "unsqueeze", "expand", "cat", "stack",
    "flatten", "unflatten", "flip", "fliplr", "flipud", "roll", "repeat", "tile", "repeat_interleave", "movedim",
    "expand_as", "view_as", "reshape_as", "split", "chunk", "unbind", "tensor_split", "narrow", "meshgrid",
    # rules/ops/indexing.py, selecting.py, gathering.py, diagonals.py, padding.py
    "getitem", "view_of_base", "index_backward", "index_zero", "setitem", "copy_slices", "zero_", "requires_grad_",
    "index_select", "index_add", "index_fill", "index_copy", "scatter", "scatter_reduce", "masked_fill",
    "masked_select", "masked_scatter", "take", "take_along_dim", "gather", "scatter_add",
    "tril", "triu", "diagonal", "diag_embed", "diag", "trace", "pad",
)


class Meta:
    """What the SDK knows of a tensor: a shape and a dtype, no values."""

    def __init__(self, shape, dtype) -> None:
        self.shape, self.dtype = tuple(shape), dtype


class Call:
    """A recorded call, as the rules' grad_fn functions read it."""

    def __init__(self, node) -> None:
        self.attrs, self.input_shapes, self.input_dtypes = node.attrs, node.input_shapes, node.input_dtypes
        self.scalar_mask, self.grad_mask = node.scalar_mask, node.grad_mask


@pytest.mark.parametrize("name", FAMILY)
def test_op_is_defined_in_the_rules_with_shape_and_dtype_rules(name):
    assert name in RULES
    op = rules_of(name)
    assert op.out_shape is not None and op.dtype_rule is not None


# ---------------------------------------------------------------- op-table rows against torch
FAMILY_ROWS = [row for row in ROWS if row.op in FAMILY]


def _predicted(node) -> tuple:
    """(shape, dtype name, grad_fn name) the rules give for a recorded call, from shapes, dtypes and attrs."""
    op = rules_of(node.op.name)
    operands = [1 if dtype is None else Meta(shape, dtype) for shape, dtype in zip(node.input_shapes, node.input_dtypes)]
    shape = op.out_shape([tuple(s) for s in node.input_shapes], node.attrs)
    _, result = op.dtype_rule(list(node.input_dtypes), operands, node.attrs)
    return shape, result.name, op.grad_fn_name(Call(node))


def _made_by_the_op(row) -> list:
    """(gradwire output, torch output) pairs of the row whose result the row's op makes."""
    rng = np.random.default_rng(zlib.crc32(row.id.encode()))
    inputs = row.inputs(rng)
    ours = as_outputs(row.program_for(gw)(gw, *make_tensors(gw, inputs, np.float64)))
    theirs = as_outputs(row.program_for(torch)(torch, *make_tensors(torch, inputs, np.float64)))
    return [(o, t) for o, t in zip(ours, theirs) if getattr(o.grad_fn, "op", None) is not None
            and o.grad_fn.op.name == row.op]


# Ops whose result's length along a dim is a sum of tensor values no shape bounds: their Bound has the
# result's rank and the input's length there (repeat_interleave's counts).
VALUE_SIZED = {"repeat_interleave"}


@pytest.mark.parametrize("row", FAMILY_ROWS, ids=lambda r: r.id)
def test_rules_predict_torchs_shape_dtype_and_grad_fn(row):
    for ours, theirs in _made_by_the_op(row):
        shape, dtype, grad_fn = _predicted(ours.grad_fn)
        if type(shape) is Bound:  # a boolean mask's count: an upper bound of the same rank
            assert len(shape) == theirs.dim(), row.id
            assert row.op in VALUE_SIZED or all(b >= n for b, n in zip(shape, theirs.shape)), row.id
        else:
            assert tuple(shape) == tuple(theirs.shape), row.id
        assert dtype == dtype_name(theirs), row.id
        if row.compare_grad_fn and theirs.grad_fn is not None:
            assert grad_fn == theirs.grad_fn.name(), row.id


def test_most_of_the_family_is_checked_by_its_rows():
    covered = {row.op for row in FAMILY_ROWS if _made_by_the_op(row)}
    # rows that end with another op (expand_as, reshape_as) or make no graph (requires_grad_)
    unchecked = set(FAMILY) - covered
    assert unchecked <= {"expand_as", "reshape_as", "requires_grad_"}, sorted(unchecked)


# ---------------------------------------------------------------- getitem from shapes and dtypes alone
def _random_index(rng: random.Random, shape: tuple) -> tuple:
    items, dim, ellipsis = [], 0, False
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice("isnEam")
        if kind == "i" and dim < len(shape):
            items.append(rng.randrange(-shape[dim], shape[dim]))
        elif kind == "s" and dim < len(shape):
            items.append(slice(rng.choice([None, 0, 1]), rng.choice([None, 2, -1]), rng.choice([None, 1, 2])))
        elif kind == "n":
            items.append(None)
            continue
        elif kind == "E" and not ellipsis:
            items.append(Ellipsis)
            ellipsis = True
            continue
        elif kind == "a" and dim < len(shape):
            items.append(np.array(rng.choice([[0], [0, 1, 0], [[0], [0]], [[0, 0, 0]]])))
        elif kind == "m" and dim < len(shape):
            width = rng.randint(1, min(2, len(shape) - dim))
            items.append(np.array([rng.random() > 0.5 for _ in range(int(np.prod(shape[dim:dim + width])))])
                         .reshape(shape[dim:dim + width]))
            dim += width - 1
        else:
            continue
        dim += 1
    return tuple(items)


INDEX_CASES = []
_rng = random.Random(9)
for _ in range(400):
    _shape = tuple(_rng.randint(1, 4) for _ in range(_rng.randint(0, 4)))
    INDEX_CASES.append((_shape, _random_index(_rng, _shape)))


def _as_meta(item):
    return Meta(item.shape, dtypes.from_numpy(item.dtype)) if isinstance(item, np.ndarray) else item


def test_getitem_shape_rule_is_torchs_for_index_expressions():
    """Exact for ints, slices, None, Ellipsis and integer tensors; a Bound of the right rank with masks;
    the same answer from index tensors' metadata (the SDK) as from their values (the engine)."""
    checked = 0
    for shape, index in INDEX_CASES:
        try:
            expected = tuple(torch.zeros(shape)[tuple(torch.tensor(i) if isinstance(i, np.ndarray) else i
                                                      for i in index)].shape)
        except IndexError:
            continue  # an integer tensor's values out of range: only running the op can tell
        from_values = getitem_shape(shape, normalise_index(index))
        from_metadata = getitem_shape(shape, normalise_index(tuple(_as_meta(i) for i in index)))
        assert from_values == from_metadata and type(from_values) is type(from_metadata), (shape, index)
        masked = any(isinstance(i, np.ndarray) and i.dtype == np.bool_ for i in index)
        if masked:
            assert type(from_values) is Bound and len(from_values) == len(expected), (shape, index)
            assert all(b >= n for b, n in zip(from_values, expected)), (shape, index)
        else:
            assert type(from_values) is tuple and from_values == expected, (shape, index)
            checked += 1
    assert checked > 200


@pytest.mark.parametrize("shape, index, torch_index", [
    ((3, 4), (Meta((2,), dtypes.int64),), lambda: (torch.tensor([0, 1]),)),
    ((3, 4, 5), (slice(None), Meta((2, 1), dtypes.int64), Meta((3,), dtypes.int32)),
     lambda: (slice(None), torch.tensor([[0], [1]]), torch.tensor([0, 1, 2], dtype=torch.int32))),
    ((3, 4, 5), (Meta((), dtypes.int64), slice(None), Meta((2,), dtypes.int64)),
     lambda: (torch.tensor(1), slice(None), torch.tensor([0, 1]))),
])
def test_getitem_from_metadata_is_exact_and_names_its_grad_fn(shape, index, torch_index):
    x = torch.zeros(shape, requires_grad=True)
    result = x[torch_index()]
    normal = normalise_index(index)
    assert getitem_shape(shape, normal) == tuple(result.shape)
    assert grad_fn_name(normal) == result.grad_fn.name()


def test_getitem_with_a_mask_from_metadata_is_a_bound():
    bound = getitem_shape((3, 4), normalise_index((Meta((3, 4), dtypes.bool_),)))
    assert type(bound) is Bound and bound == (12,)
    assert getitem_shape((3, 4), normalise_index((slice(1, None), Meta((4,), dtypes.bool_)))) == (2, 4)


def test_a_float_index_tensor_from_metadata_is_refused_as_torch():
    with pytest.raises(IndexError):
        torch.zeros(3)[torch.tensor([0.0])]
    with pytest.raises(IndexError):
        normalise_index((Meta((1,), dtypes.float32),))


# ---------------------------------------------------------------- mistakes, from the rules alone
def _float(*shape):
    return Meta(shape, dtypes.float32)


def _long(*shape):
    return Meta(shape, dtypes.int64)


def _bool(*shape):
    return Meta(shape, dtypes.bool_)


def _torch(meta):
    return torch.zeros(meta.shape, dtype=getattr(torch, meta.dtype.name)) if isinstance(meta, Meta) else meta


# (op, operands, attrs, torch's call on the same operands, same message as torch?)
MISTAKES = {
    "view_incompatible_size": ("view", [_float(2, 3)], {"shape": (4, 2)}, lambda x: x.view(4, 2), True),
    "reshape_two_inferred": ("reshape", [_float(2, 3)], {"shape": (-1, -1)}, lambda x: x.reshape(-1, -1), True),
    "view_negative_size": ("view", [_float(2, 3)], {"shape": (-2, 3)}, lambda x: x.view(-2, 3), True),
    "view_ambiguous_empty": ("view", [_float(0, 3)], {"shape": (-1, 0)}, lambda x: x.view(-1, 0), True),
    "expand_to_fewer_dims": ("expand", [_float(2, 3)], {"shape": (3,)}, lambda x: x.expand(3), False),
    "expand_non_singleton": ("expand", [_float(2, 3)], {"shape": (4, 3)}, lambda x: x.expand(4, 3), True),
    "expand_leading_minus_one": ("expand", [_float(2, 3)], {"shape": (-1, 2, 3)}, lambda x: x.expand(-1, 2, 3), True),
    "expand_as_smaller": ("expand_as", [_float(2, 3), _float(3)], {}, lambda x, o: x.expand_as(o), False),
    "cat_sizes_differ": ("cat", [_float(2, 3), _float(2, 4)], {"dim": 0},
                         lambda x, y: torch.cat([x, y]), True),
    "cat_ranks_differ": ("cat", [_float(2, 3), _float(3)], {"dim": 0}, lambda x, y: torch.cat([x, y]), True),
    "cat_dim_out_of_range": ("cat", [_float(2, 3), _float(2, 3)], {"dim": 2},
                             lambda x, y: torch.cat([x, y], 2), True),
    "cat_zero_dim": ("cat", [_float(), _float()], {}, lambda x, y: torch.cat([x, y]), True),
    "stack_sizes_differ": ("stack", [_float(2, 3), _float(3, 2)], {}, lambda x, y: torch.stack([x, y]), True),
    "stack_dim_out_of_range": ("stack", [_float(2, 3), _float(2, 3)], {"dim": 4},
                               lambda x, y: torch.stack([x, y], 4), True),
    "squeeze_dim_out_of_range": ("squeeze", [_float(2, 3)], {"dim": 2}, lambda x: x.squeeze(2), True),
    "squeeze_dims_out_of_range": ("squeeze", [_float(2, 3)], {"dim": (0, 5)}, lambda x: x.squeeze((0, 5)), True),
    "unsqueeze_dim_out_of_range": ("unsqueeze", [_float(2, 3)], {"dim": 3}, lambda x: x.unsqueeze(3), True),
    "unsqueeze_negative_out_of_range": ("unsqueeze", [_float(2, 3)], {"dim": -4}, lambda x: x.unsqueeze(-4), True),
    "transpose_dim_out_of_range": ("transpose", [_float(2, 3)], {"dim0": 0, "dim1": 2},
                                   lambda x: x.transpose(0, 2), True),
    "permute_dim_out_of_range": ("permute", [_float(2, 3)], {"dims": (0, 2)}, lambda x: x.permute(0, 2), True),
    "permute_too_few_dims": ("permute", [_float(2, 3)], {"dims": (0,)}, lambda x: x.permute(0), False),
    "permute_repeated_dim": ("permute", [_float(2, 3)], {"dims": (0, 0)}, lambda x: x.permute(0, 0), True),
    "t_of_3d": ("t", [_float(1, 2, 3)], {}, lambda x: x.t(), False),
    "flatten_start_after_end": ("flatten", [_float(2, 3, 4)], {"start_dim": 2, "end_dim": 1},
                                lambda x: x.flatten(2, 1), True),
    "unflatten_wrong_sizes": ("unflatten", [_float(2, 3)], {"dim": 1, "sizes": (2, 2)},
                              lambda x: x.unflatten(1, (2, 2)), True),
    "flip_repeated_dim": ("flip", [_float(2, 3)], {"dims": (0, 0)}, lambda x: x.flip(0, 0), True),
    "fliplr_of_1d": ("fliplr", [_float(3)], {}, lambda x: x.fliplr(), True),
    "roll_shifts_without_dims": ("roll", [_float(2, 3)], {"shifts": (1, 2)}, lambda x: x.roll((1, 2)), True),
    "repeat_fewer_dims": ("repeat", [_float(2, 3)], {"repeats": (2,)}, lambda x: x.repeat(2), True),
    "repeat_negative": ("repeat", [_float(2, 3)], {"repeats": (-1, 1)}, lambda x: x.repeat(-1, 1), True),
    "movedim_lengths_differ": ("movedim", [_float(2, 3)], {"source": (0, 1), "destination": (1,)},
                               lambda x: x.movedim((0, 1), (1,)), True),
    "movedim_repeated": ("movedim", [_float(2, 3)], {"source": (0, 0), "destination": (1, 0)},
                         lambda x: x.movedim((0, 0), (1, 0)), True),
    "repeat_interleave_counts_differ": ("repeat_interleave", [_float(2, 3), _long(2)], {"dim": 1},
                                        lambda x, r: x.repeat_interleave(r, 1), False),
    "split_size_zero": ("split", [_float(2, 3)], {"split_size_or_sections": 0, "output": 0},
                        lambda x: x.split(0), True),
    "split_sizes_do_not_sum": ("split", [_float(2, 3)], {"split_size_or_sections": (1, 1), "dim": 1, "output": 0},
                               lambda x: x.split([1, 1], 1), True),
    "chunk_zero": ("chunk", [_float(2, 3)], {"chunks": 0, "output": 0}, lambda x: x.chunk(0), True),
    "unbind_0d": ("unbind", [_float()], {"output": 0}, lambda x: x.unbind(), True),
    "tensor_split_zero": ("tensor_split", [_float(2, 3)], {"indices_or_sections": 0, "output": 0},
                          lambda x: x.tensor_split(0), True),
    "narrow_too_long": ("narrow", [_float(2, 3)], {"dim": 1, "start": 2, "length": 2},
                        lambda x: x.narrow(1, 2, 2), True),
    "meshgrid_of_2d": ("meshgrid", [_float(2, 2), _float(2, 2)], {"output": 0},
                       lambda x, y: torch.meshgrid(x, y, indexing="ij"), False),
    "getitem_int_out_of_range": ("getitem", [_float(2, 3)], {"index": 5}, lambda x: x[5], True),
    "getitem_too_many_indices": ("getitem", [_float(2, 3)], {"index": (0, 0, 0)}, lambda x: x[0, 0, 0], True),
    "getitem_mask_wrong_shape": ("getitem", [_float(2, 3)], {"index": (_bool(3),)},
                                 lambda x: x[torch.zeros(3, dtype=torch.bool)], True),
    "getitem_tensors_do_not_broadcast": ("getitem", [_float(2, 3)], {"index": (_long(2), _long(3))},
                                         lambda x: x[torch.tensor([0, 1]), torch.tensor([0, 1, 2])], True),
    "setitem_value_too_wide": ("setitem", [_float(2, 3), _float(4)], {"index": 0},
                               lambda x, v: x.__setitem__(0, v), False),
    "gather_ranks_differ": ("gather", [_float(2, 3), _long(3)], {"dim": 1}, lambda x, i: x.gather(1, i), False),
    "gather_index_too_large": ("gather", [_float(2, 3), _long(3, 3)], {"dim": 1}, lambda x, i: x.gather(1, i), False),
    "scatter_ranks_differ": ("scatter", [_float(2, 3), _long(3), 1.0], {"dim": 1},
                             lambda x, i, v: x.scatter(1, i, v), False),
    "scatter_add_src_too_small": ("scatter_add", [_float(2, 3), _long(2, 3), _float(1, 3)], {"dim": 0},
                                  lambda x, i, s: x.scatter_add(0, i, s), False),
    "index_select_2d_index": ("index_select", [_float(2, 3), _long(2, 2)], {"dim": 0},
                              lambda x, i: x.index_select(0, i), False),
    "index_add_source_shape": ("index_add", [_float(2, 3), _long(1), _float(1, 4)], {"dim": 0},
                               lambda x, i, s: x.index_add(0, i, s), True),
    "index_fill_vector_value": ("index_fill", [_float(2, 3), _long(1), _float(2)], {"dim": 0},
                                lambda x, i, v: x.index_fill(0, i, v), False),
    "masked_fill_vector_value": ("masked_fill", [_float(2, 3), _bool(3), _float(3)], {},
                                 lambda x, m, v: x.masked_fill(m, v), True),
    "masked_select_does_not_broadcast": ("masked_select", [_float(3, 4), _bool(2)], {},
                                         lambda x, m: x.masked_select(m), False),
    "take_along_dim_ranks_differ": ("take_along_dim", [_float(2, 3), _long(3)], {"dim": 1},
                                    lambda x, i: torch.take_along_dim(x, i, 1), True),
    "tril_of_1d": ("tril", [_float(3)], {}, lambda x: x.tril(), True),
    "diagonal_same_dims": ("diagonal", [_float(2, 3)], {"dim1": 1, "dim2": 1}, lambda x: x.diagonal(0, 1, 1), True),
    "diagonal_dim_out_of_range": ("diagonal", [_float(2, 3)], {"dim1": 0, "dim2": 3},
                                  lambda x: x.diagonal(0, 0, 3), True),
    "diag_embed_same_dims": ("diag_embed", [_float(2, 3)], {"dim1": 1, "dim2": 1},
                             lambda x: x.diag_embed(0, 1, 1), True),
    "diag_of_3d": ("diag", [_float(1, 2, 3)], {}, lambda x: x.diag(), True),
    "trace_of_1d": ("trace", [_float(3)], {}, lambda x: x.trace(), True),
    "pad_odd_length": ("pad", [_float(2, 3)], {"pad": (1,)}, lambda x: torch.nn.functional.pad(x, (1,)), False),
    "pad_too_long": ("pad", [_float(2, 3)], {"pad": (1,) * 6}, lambda x: torch.nn.functional.pad(x, (1,) * 6), False),
    "pad_reflect_too_wide": ("pad", [_float(1, 2, 3)], {"pad": (3, 3), "mode": "reflect"},
                             lambda x: torch.nn.functional.pad(x, (3, 3), mode="reflect"), False),
    "pad_removes_too_much": ("pad", [_float(2, 3)], {"pad": (-2, -2)},
                             lambda x: torch.nn.functional.pad(x, (-2, -2)), False),
}


def _first_line(error: BaseException) -> str:
    return str(error).split("\n")[0].strip()


@pytest.mark.parametrize("label", MISTAKES)
def test_mistake_raises_torchs_class_from_the_rules(label):
    name, operands, attrs, torch_call, same_message = MISTAKES[label]
    with pytest.raises(Exception) as torch_error:
        torch_call(*[_torch(x) for x in operands])
    op = rules_of(name)
    with pytest.raises(Exception) as rules_error:
        normal = normalise_attrs(op, attrs)
        op.dtype_rule([x.dtype if isinstance(x, Meta) else None for x in operands], operands, normal)
        op.out_shape([x.shape if isinstance(x, Meta) else () for x in operands], normal)
    assert builtin_class(rules_error.value) is builtin_class(torch_error.value), str(rules_error.value)
    if same_message:
        assert _first_line(torch_error.value) in str(rules_error.value)


def test_the_sdks_metadata_of_indexing_comes_from_the_rules():
    """results.infer (what the SDK runs) on tensor metadata, index tensors given as metadata too."""
    from gradwire.rules.results import infer

    x = _float(3, 4, 5)
    x.requires_grad = True
    getitem = rules_of("getitem")
    exact = infer(getitem, [x], {"index": (slice(None), _long(2, 1), _long(3))})[0]
    expected = torch.zeros(3, 4, 5, requires_grad=True)[:, torch.zeros(2, 1, dtype=torch.long),
                                                         torch.zeros(3, dtype=torch.long)]
    assert (exact.shape, exact.dtype.name, exact.grad_fn) == (tuple(expected.shape), "float32", expected.grad_fn.name())
    masked = infer(getitem, [x], {"index": (_bool(3, 4),)})[0]
    assert masked.shape is None and masked.grad_fn == "IndexBackward0"  # the count of True values decides
    with pytest.raises(IndexError):
        infer(getitem, [x], {"index": (0, 0, 0, 0)})
    with pytest.raises(RuntimeError):
        infer(rules_of("setitem"), [x, _float(4)], {"index": (0,)})
