"""Op-table rows for reductions and scans, shape and indexing ops, and linear algebra (ops_table.py
includes them). Each row runs in gradwire and in torch; see ops_table.py for what is checked."""

from __future__ import annotations

import numpy as np

from ops_table import ROWS, fixed, inputs, normal, row, small_ints

_FIRST = len(ROWS)


def distinct(shape):
    """A random permutation of distinct, well-separated values (no ties for sorts and medians)."""
    return lambda rng: (rng.permutation(int(np.prod(shape))).reshape(shape) * 0.37 - 1.0).astype(np.float64)


# ---------------------------------------------------------------- logsumexp, std, norms
row("logsumexp", "dim1", inputs(normal((3, 4))), lambda m, a: a.logsumexp(1))
row("logsumexp", "dims_keepdim", inputs(normal((2, 3, 4))), lambda m, a: m.logsumexp(a, dim=(0, 2), keepdim=True))
row("logsumexp", "axis_alias", inputs(normal((3, 4))), lambda m, a: m.logsumexp(a, axis=0))
row("logsumexp", "large", inputs(fixed([[1000.0, 0.0, -1000.0], [3.0, 2.0, 1.0]])), lambda m, a: a.logsumexp(-1))
row("logsumexp", "0d", inputs(normal(())), lambda m, a: a.logsumexp(0))
for label, call in {"all": lambda m, a: a.std(), "dim1": lambda m, a: a.std(1),
                    "keepdim": lambda m, a: a.std(0, keepdim=True), "correction0": lambda m, a: a.std(dim=1, correction=0),
                    "unbiased_false": lambda m, a: m.std(a, 1, unbiased=False),
                    "axis_tuple": lambda m, a: a.std(axis=(0, 1)), "correction2": lambda m, a: a.std(correction=2)}.items():
    row("std", label, inputs(normal((3, 4))), call)
for label, call in {"default": lambda m, a: a.norm(), "p1_dim": lambda m, a: a.norm(1, dim=1),
                    "p3_keepdim": lambda m, a: a.norm(p=3, dim=0, keepdim=True),
                    "inf": lambda m, a: a.norm(float("inf")), "fro_dims": lambda m, a: m.norm(a, "fro", dim=(0, 1)),
                    "function_dim": lambda m, a: m.norm(a, dim=1), "p0": lambda m, a: a.norm(0),
                    "neg_inf_dim": lambda m, a: a.norm(float("-inf"), 1)}.items():
    row("norm", label, inputs(normal((3, 4))), call, finite_differences=label != "p0")
row("norm", "inf_ties", inputs(fixed([[2.0, -2.0, 1.0], [0.5, 2.0, -1.0]])), lambda m, a: a.norm(float("inf")),
    finite_differences=False)
row("norm", "at_zero", inputs(fixed([[0.0, 0.0], [3.0, 4.0]])), lambda m, a: a.norm(dim=1), finite_differences=False,
    second_order=False)
row("norm", "nuc", inputs(normal((3, 4))), lambda m, a: a.norm(p="nuc"), second_order=False)
for label, call in {"default": lambda m, a: m.linalg.vector_norm(a),
                    "ord3_dim": lambda m, a: m.linalg.vector_norm(a, ord=3, dim=1),
                    "ord_half": lambda m, a: m.linalg.vector_norm(a, 0.5, dim=(0, 1), keepdim=True),
                    "inf_dim": lambda m, a: m.linalg.vector_norm(a, float("inf"), dim=0),
                    "ord1": lambda m, a: m.linalg.vector_norm(a, 1)}.items():
    row("linalg_vector_norm", label, inputs(normal((3, 4))), call)
row("linalg_vector_norm", "0d", inputs(normal(())), lambda m, a: m.linalg.vector_norm(a))
row("linalg_matrix_norm", "fro", inputs(normal((2, 3, 4))), lambda m, a: m.linalg.matrix_norm(a))
row("linalg_matrix_norm", "fro_dims_keepdim", inputs(normal((2, 3, 4))),
    lambda m, a: m.linalg.matrix_norm(a, "fro", dim=(0, 2), keepdim=True))
for order in (1, -1, float("inf"), float("-inf")):
    row("linalg_matrix_norm", f"ord_{order}", inputs(normal((2, 3, 4))),
        lambda m, a, order=order: m.linalg.matrix_norm(a, order))
row("linalg_matrix_norm", "ord1_dims_keepdim", inputs(normal((3, 4))),
    lambda m, a: m.linalg.matrix_norm(a, 1, dim=(1, 0), keepdim=True))
row("linalg_matrix_norm", "ord_inf_ties", inputs(fixed([[1.0, -2.0], [2.0, 1.0]])),
    lambda m, a: m.linalg.matrix_norm(a, float("inf")), finite_differences=False)
for order in (2, -2):
    row("linalg_matrix_norm", f"ord_{order}", inputs(normal((2, 3, 4))),
        lambda m, a, order=order: m.linalg.matrix_norm(a, order), second_order=False)
row("linalg_matrix_norm", "nuc", inputs(normal((2, 3, 4))), lambda m, a: m.linalg.matrix_norm(a, ord="nuc"),
    second_order=False)

# ---------------------------------------------------------------- amax, amin, aminmax, argmax, argmin
for name in ("amax", "amin"):
    for label, call in {"all": lambda f: f(), "dim1": lambda f: f(1),
                        "dims_keepdim": lambda f: f(dim=(0, 2), keepdim=True),
                        "axis": lambda f: f(axis=-1)}.items():
        row(name, label, inputs(normal((2, 3, 4))), lambda m, a, call=call, name=name: call(getattr(a, name)))
    row(name, "ties", inputs(small_ints((3, 4))), lambda m, a, name=name: getattr(m, name)(a, 1),
        finite_differences=False)
    row(name, "0d", inputs(normal(())), lambda m, a, name=name: getattr(a, name)())
    row(name, "int", inputs(fixed([[1, 5], [7, 2]])), lambda m, k, name=name: getattr(k, name)(0))
row("aminmax", "all", inputs(normal((3, 4))), lambda m, a: tuple(a.aminmax()))
row("aminmax", "dim_keepdim", inputs(normal((3, 4))), lambda m, a: m.aminmax(a, dim=1, keepdim=True))
row("aminmax", "names", inputs(normal((3, 4))), lambda m, a: a.aminmax(dim=0).max * 2 - a.aminmax(dim=0).min)
row("aminmax", "ties", inputs(small_ints((3, 4))), lambda m, a: a.aminmax(dim=0), finite_differences=False)
for name in ("argmax", "argmin"):
    row(name, "all", inputs(normal((3, 4))), lambda m, a, name=name: getattr(a, name)())
    row(name, "dim_keepdim", inputs(normal((3, 4))), lambda m, a, name=name: getattr(m, name)(a, 1, keepdim=True))
    row(name, "ties_first", inputs(small_ints((3, 4))), lambda m, a, name=name: getattr(a, name)(dim=0))
    row(name, "all_keepdim", inputs(normal((3, 4))), lambda m, a, name=name: getattr(a, name)(keepdim=True))

# ---------------------------------------------------------------- all, any, count_nonzero
for name in ("all", "any"):
    row(name, "bool", inputs(lambda r: r.random((3, 4)) > 0.3), lambda m, k, name=name: getattr(k, name)())
    row(name, "dim", inputs(small_ints((3, 4))), lambda m, a, name=name: getattr(m, name)(a, 1))
    row(name, "int_keepdim", inputs(fixed([[0, 1], [2, 3]])), lambda m, k, name=name: getattr(k, name)(0, keepdim=True))
row("count_nonzero", "all", inputs(small_ints((3, 4))), lambda m, a: a.count_nonzero())
row("count_nonzero", "dims", inputs(small_ints((2, 3, 4))), lambda m, a: m.count_nonzero(a, dim=(0, 2)))

# ---------------------------------------------------------------- scans
for name in ("cumsum", "cumprod", "logcumsumexp"):
    for shape, dim in (((3, 4), 0), ((3, 4), 1), ((2, 3, 4), -2), ((), 0), ((5,), 0)):
        row(name, f"{'x'.join(map(str, shape)) or '0d'}_dim{dim}", inputs(normal(shape)),
            lambda m, a, name=name, dim=dim: getattr(a, name)(dim))
    row(name, "function_axis", inputs(normal((3, 4))), lambda m, a, name=name: getattr(m, name)(a, axis=1))
row("cumsum", "int", inputs(fixed([[1, 2], [3, 4]])), lambda m, k: k.cumsum(1))
row("cumsum", "dtype", inputs(fixed([1, 2, 3])), lambda m, k: k.cumsum(0, dtype=m.float64))
row("cumprod", "one_zero", inputs(fixed([[1.5, 0.0, 2.0, -1.0], [0.5, 2.0, 0.0, 3.0]])), lambda m, a: a.cumprod(1))
row("cumprod", "two_zeros", inputs(fixed([2.0, 0.0, 3.0, 0.0, 4.0])), lambda m, a: a.cumprod(0))
row("cumprod", "zero_first_dim0", inputs(fixed([[0.0, 1.0], [2.0, 3.0], [4.0, 0.0]])), lambda m, a: m.cumprod(a, 0))
row("logcumsumexp", "large", inputs(fixed([[1000.0, 0.0, -1000.0], [3.0, 2.0, 1.0]])), lambda m, a: a.logcumsumexp(1))
for name in ("cummax", "cummin"):
    row(name, "dim1", inputs(normal((3, 4))), lambda m, a, name=name: getattr(a, name)(1))
    row(name, "dim0_3d", inputs(normal((3, 2, 2))), lambda m, a, name=name: getattr(m, name)(a, dim=0))
    row(name, "ties", inputs(small_ints((3, 5))), lambda m, a, name=name: getattr(a, name)(1), finite_differences=False)
    row(name, "names", inputs(normal((4,))), lambda m, a, name=name: getattr(a, name)(0).values * 2)
    row(name, "0d", inputs(normal(())), lambda m, a, name=name: getattr(a, name)(0))

# ---------------------------------------------------------------- sorting and selection
for label, call in {"default": lambda m, a: a.sort(), "dim0_desc": lambda m, a: a.sort(0, descending=True),
                    "function": lambda m, a: m.sort(a, dim=1), "values": lambda m, a: a.sort(stable=True).values * 2}.items():
    row("sort", label, inputs(distinct((3, 4))), call)
row("sort", "stable_ties", inputs(small_ints((3, 6))), lambda m, a: a.sort(dim=1, stable=True), finite_differences=False)
row("sort", "stable_ties_descending", inputs(small_ints((3, 6))), lambda m, a: a.sort(dim=1, descending=True, stable=True),
    finite_differences=False)
row("sort", "0d", inputs(normal(())), lambda m, a: a.sort())
row("sort", "int", inputs(fixed([3, 1, 2])), lambda m, k: k.sort())
row("argsort", "default", inputs(distinct((3, 4))), lambda m, a: a.argsort())
row("argsort", "descending_dim0", inputs(distinct((3, 4))), lambda m, a: m.argsort(a, 0, descending=True))
row("argsort", "stable", inputs(small_ints((2, 6))), lambda m, a: a.argsort(stable=True, dim=1))
row("topk", "k2", inputs(distinct((3, 5))), lambda m, a: a.topk(2))
row("topk", "smallest_dim0", inputs(distinct((4, 3))), lambda m, a: m.topk(a, 3, dim=0, largest=False))
row("topk", "k0", inputs(distinct((3, 4))), lambda m, a: a.topk(0)[0].sum() + a.sum())
row("kthvalue", "k2", inputs(distinct((3, 5))), lambda m, a: a.kthvalue(2))
row("kthvalue", "dim0_keepdim", inputs(distinct((4, 3))), lambda m, a: m.kthvalue(a, 4, 0, True))
row("median", "all_odd", inputs(distinct((3, 5))), lambda m, a: a.median())
row("median", "all_even_lower", inputs(distinct((2, 4))), lambda m, a: m.median(a))
row("median", "ties", inputs(fixed([1.0, 2.0, 2.0, 3.0, 2.0])), lambda m, a: a.median(), finite_differences=False)
row("median_dim", "dim1", inputs(distinct((3, 4))), lambda m, a: a.median(1))
row("median_dim", "dim0_keepdim", inputs(distinct((5, 3))), lambda m, a: m.median(a, 0, keepdim=True))
row("median_dim", "names", inputs(distinct((3, 5))), lambda m, a: a.median(dim=-1).values * 3)
row("mode", "dim1", inputs(small_ints((4, 6))), lambda m, a: a.mode(1), finite_differences=False)
row("mode", "default", inputs(fixed([[3.0, 1.0, 1.0, 3.0, 2.0], [0.0, 5.0, 5.0, 0.0, 0.0]])), lambda m, a: m.mode(a),
    finite_differences=False)
row("mode", "int_dim0", inputs(fixed([[1, 2], [1, 3], [2, 3]])), lambda m, k: k.mode(0))

# ---------------------------------------------------------------- gather, scatter_add
GATHER_INDEX = fixed([[0, 2, 1, 0], [2, 2, 0, 1]])
row("gather", "dim0", inputs(normal((3, 4)), GATHER_INDEX), lambda m, a, i: a.gather(0, i))
row("gather", "dim1_smaller", inputs(normal((3, 4)), fixed([[3, 0], [1, 1]])), lambda m, a, i: m.gather(a, 1, i))
row("gather", "keyword_index", inputs(normal((3, 4)), GATHER_INDEX), lambda m, a, i: m.gather(a, dim=0, index=i))
row("scatter_add", "dim0", inputs(normal((3, 4)), GATHER_INDEX, normal((2, 4))), lambda m, a, i, s: a.scatter_add(0, i, s))
row("scatter_add", "index_smaller", inputs(normal((3, 4)), fixed([[3, 0], [1, 1]]), normal((2, 2))),
    lambda m, a, i, s: m.scatter_add(a, 1, i, s))


# ---------------------------------------------------------------- shape ops
row("flatten", "all", inputs(normal((2, 3, 4))), lambda m, a: a.flatten())
row("flatten", "middle", inputs(normal((2, 3, 4))), lambda m, a: m.flatten(a, 1))
row("flatten", "range", inputs(normal((2, 3, 4, 1))), lambda m, a: a.flatten(start_dim=0, end_dim=-2))
row("flatten", "0d", inputs(normal(())), lambda m, a: a.flatten())
row("unflatten", "dim1", inputs(normal((3, 4))), lambda m, a: a.unflatten(1, (2, 2)))
row("unflatten", "infer", inputs(normal((6, 2))), lambda m, a: m.unflatten(a, 0, (3, -1)))
row("flip", "dim0", inputs(normal((3, 4))), lambda m, a: a.flip(0))
row("flip", "dims", inputs(normal((2, 3, 4))), lambda m, a: m.flip(a, (0, 2)))
row("flip", "varargs", inputs(normal((3, 4))), lambda m, a: a.flip(1, 0))
row("fliplr", "2d", inputs(normal((3, 4))), lambda m, a: a.fliplr())
row("flipud", "1d", inputs(normal((5,))), lambda m, a: m.flipud(a))
row("roll", "flat", inputs(normal((3, 4))), lambda m, a: a.roll(1))
row("roll", "dim", inputs(normal((3, 4))), lambda m, a: a.roll(-2, 1))
row("roll", "dims", inputs(normal((3, 4))), lambda m, a: m.roll(a, shifts=(1, 5), dims=(0, 1)))
row("repeat", "2d", inputs(normal((3, 4))), lambda m, a: a.repeat(2, 1))
row("repeat", "new_dims", inputs(normal((3,))), lambda m, a: a.repeat((2, 1, 2)))
row("tile", "short", inputs(normal((3, 4))), lambda m, a: a.tile(2))
row("tile", "function", inputs(normal((3,))), lambda m, a: m.tile(a, (2, 2)))
row("repeat_interleave", "flat", inputs(normal((3, 2))), lambda m, a: a.repeat_interleave(2))
row("repeat_interleave", "dim", inputs(normal((3, 2))), lambda m, a: m.repeat_interleave(a, 3, dim=0))
row("repeat_interleave", "tensor_counts", inputs(normal((3, 2)), fixed([1, 0, 2])),
    lambda m, a, k: a.repeat_interleave(k, dim=0))
row("repeat_interleave", "tensor_counts_flat", inputs(normal((3, 2)), fixed([1, 2, 0, 1, 1, 3])),
    lambda m, a, k: m.repeat_interleave(a, k))
row("repeat_interleave", "one_count_keyword", inputs(normal((3, 2)), fixed([2])),
    lambda m, a, k: a.repeat_interleave(repeats=k, dim=1))
row("narrow", "dim1", inputs(normal((3, 4))), lambda m, a: a.narrow(1, 1, 2))
row("narrow", "negative_start", inputs(normal((3, 4))), lambda m, a: m.narrow(a, 0, -2, 2))
row("split", "size", inputs(normal((5, 4))), lambda m, a: a.split(2))
row("split", "sizes_dim1", inputs(normal((3, 4))), lambda m, a: m.split(a, [1, 3], dim=1))
row("split", "one_used", inputs(normal((5, 4))), lambda m, a: a.split(2)[1] * 3)
row("chunk", "3", inputs(normal((5, 4))), lambda m, a: a.chunk(3))
row("chunk", "dim1", inputs(normal((3, 4))), lambda m, a: m.chunk(a, 2, dim=1))
row("unbind", "dim0", inputs(normal((3, 4))), lambda m, a: a.unbind())
row("unbind", "dim1", inputs(normal((3, 2))), lambda m, a: m.unbind(a, 1))
row("tensor_split", "sections", inputs(normal((5, 4))), lambda m, a: a.tensor_split(3))
row("tensor_split", "indices_dim1", inputs(normal((3, 4))), lambda m, a: m.tensor_split(a, [1, 3], dim=1))
row("movedim", "one", inputs(normal((2, 3, 4))), lambda m, a: a.movedim(0, -1))
row("movedim", "many", inputs(normal((2, 3, 4))), lambda m, a: m.movedim(a, (0, 1), (2, 0)))
row("movedim", "moveaxis", inputs(normal((2, 3, 4))), lambda m, a: a.moveaxis(2, 0))
row("transpose", "swapaxes", inputs(normal((2, 3, 4))), lambda m, a: a.swapaxes(0, 2))
row("transpose", "swapdims", inputs(normal((2, 3, 4))), lambda m, a: m.swapdims(a, 1, 2))
row("expand", "broadcast_to", inputs(normal((3, 1))), lambda m, a: a.broadcast_to((2, 3, 4)))
row("expand", "broadcast_to_function", inputs(normal((4,))), lambda m, a: m.broadcast_to(a, (3, 4)))
row("expand_as", "3d", inputs(normal((3, 1)), normal((2, 3, 4))), lambda m, a, b: a.expand_as(b) * b)
row("view_as", "4x3", inputs(normal((3, 4)), normal((4, 3))), lambda m, a, b: a.view_as(b))
row("reshape_as", "t", inputs(normal((3, 4)), normal((2, 6))), lambda m, a, b: a.t().reshape_as(b) + b,
    compare_grad_fn=False)
row("squeeze", "dims_tuple_keyword", inputs(normal((1, 3, 1, 2))), lambda m, a: m.squeeze(a, dim=(0, 2)))

# ---------------------------------------------------------------- triangles and diagonals
for name in ("tril", "triu"):
    row(name, "default", inputs(normal((3, 4))), lambda m, a, name=name: getattr(a, name)())
    row(name, "diagonal", inputs(normal((2, 4, 3))), lambda m, a, name=name: getattr(m, name)(a, diagonal=-1))
    row(name, "positional", inputs(normal((4, 4))), lambda m, a, name=name: getattr(a, name)(2))
row("diagonal", "default", inputs(normal((3, 4))), lambda m, a: a.diagonal())
row("diagonal", "offset", inputs(normal((3, 4))), lambda m, a: a.diagonal(1))
row("diagonal", "below", inputs(normal((3, 4))), lambda m, a: m.diagonal(a, -1))
row("diagonal", "dims", inputs(normal((2, 3, 4))), lambda m, a: a.diagonal(offset=0, dim1=2, dim2=0))
row("diag_embed", "default", inputs(normal((2, 3))), lambda m, a: a.diag_embed())
row("diag_embed", "offset_dims", inputs(normal((2, 3))), lambda m, a: m.diag_embed(a, offset=-1, dim1=0, dim2=2))
row("diag", "vector", inputs(normal((3,))), lambda m, a: a.diag())
row("diag", "vector_offset", inputs(normal((3,))), lambda m, a: m.diag(a, 1))
row("diag", "matrix", inputs(normal((3, 4))), lambda m, a: a.diag())
row("diag", "matrix_below", inputs(normal((4, 3))), lambda m, a: m.diag(a, -2))
row("trace", "square", inputs(normal((3, 3))), lambda m, a: a.trace())
row("trace", "wide", inputs(normal((2, 4))), lambda m, a: m.trace(a))
row("meshgrid", "ij", inputs(normal((3,)), normal((4,))), lambda m, a, b: m.meshgrid(a, b, indexing="ij"))
row("meshgrid", "xy_three", inputs(normal((3,)), normal((2,)), normal((4,))),
    lambda m, a, b, c: m.meshgrid(a, b, c, indexing="xy"))
row("meshgrid", "list", inputs(normal((3,)), normal((2,))), lambda m, a, b: m.meshgrid([a, b], indexing="ij")[1] * 2)

# ---------------------------------------------------------------- pad
PAD_CASES = {
    "constant": ((3, 4), (1, 2), {}), "constant_value_2d": ((2, 3, 4), (1, 1, 2, 0), {"value": 1.5}),
    "constant_negative": ((3, 4), (-1, 2), {}),
    "reflect": ((2, 3, 4), (2, 1), {"mode": "reflect"}), "reflect_2d": ((1, 2, 3, 4), (1, 2, 2, 1), {"mode": "reflect"}),
    "replicate": ((2, 3, 4), (2, 3), {"mode": "replicate"}),
    "replicate_2d": ((1, 2, 3, 4), (3, 1, 0, 2), {"mode": "replicate"}),
    "circular": ((2, 3, 4), (2, 1), {"mode": "circular"}),
}
for label, (shape, pad, options) in PAD_CASES.items():
    row("pad", label, inputs(normal(shape)), lambda m, a, pad=pad, options=options: m.nn.functional.pad(a, pad, **options),
        compare_grad_fn=label != "circular")

# ---------------------------------------------------------------- index_*, scatter, masks, take
ROWS_INDEX = fixed([2, 0, 2])
row("index_select", "dim0", inputs(normal((3, 4)), ROWS_INDEX), lambda m, a, i: a.index_select(0, i))
row("index_select", "dim1", inputs(normal((3, 4)), fixed([3, 1])), lambda m, a, i: m.index_select(a, 1, i))
row("index_select", "keyword", inputs(normal((3, 4)), fixed([1])), lambda m, a, i: m.index_select(a, dim=-1, index=i))
row("index_add", "dim0_repeated", inputs(normal((3, 4)), ROWS_INDEX, normal((3, 4))),
    lambda m, a, i, s: a.index_add(0, i, s))
row("index_add", "alpha_dim1", inputs(normal((3, 4)), fixed([3, 1]), normal((3, 2))),
    lambda m, a, i, s: m.index_add(a, 1, i, s, alpha=2.5))
row("index_fill", "dim1", inputs(normal((3, 4)), fixed([0, 2])), lambda m, a, i: a.index_fill(1, i, 1.5))
row("index_fill", "function", inputs(normal((3, 4)), fixed([1])), lambda m, a, i: m.index_fill(a, 0, i, -2.0))
row("index_fill", "tensor_value", inputs(normal((3, 4)), fixed([0, 3]), normal(())), lambda m, a, i, v: a.index_fill(1, i, v))
row("index_copy", "dim0", inputs(normal((3, 4)), fixed([2, 0]), normal((2, 4))), lambda m, a, i, s: a.index_copy(0, i, s))
row("index_copy", "dim1", inputs(normal((3, 4)), fixed([3]), normal((3, 1))), lambda m, a, i, s: m.index_copy(a, 1, i, s))
row("scatter", "src", inputs(normal((3, 4)), fixed([[0, 1, 2, 0]]), normal((1, 4))), lambda m, a, i, s: a.scatter(0, i, s))
row("scatter", "index_smaller", inputs(normal((3, 4)), fixed([[3, 0], [1, 2]]), normal((2, 2))),
    lambda m, a, i, s: m.scatter(a, 1, i, s))
row("scatter", "value", inputs(normal((3, 4)), fixed([[0, 1, 2, 0]])), lambda m, a, i: a.scatter(0, i, 1.5))
row("scatter", "value_keyword", inputs(normal((3, 4)), fixed([[0, 1, 2, 0]])),
    lambda m, a, i: m.scatter(a, 0, i, value=-2.0))
row("scatter", "reduce_add_forward", inputs(fixed(np.ones((3, 4), dtype=np.int64)), fixed([[0, 0, 2, 0]]),
                                             fixed([[5, 6, 7, 8]])),
    lambda m, a, i, s: a.scatter(0, i, s, reduce="add"))
SCATTER_INDEX = fixed([[0, 1, 0, 2], [0, 1, 1, 2]])
for reduce in ("sum", "prod", "mean", "amax", "amin"):
    for include_self in (True, False):
        row("scatter_reduce", f"{reduce}_{'self' if include_self else 'no_self'}",
            inputs(normal((3, 4)) if reduce != "prod" else lambda r: r.uniform(0.5, 2.0, (3, 4)), SCATTER_INDEX,
                   normal((2, 4)) if reduce != "prod" else lambda r: r.uniform(0.5, 2.0, (2, 4))),
            lambda m, a, i, s, reduce=reduce, include_self=include_self: a.scatter_reduce(0, i, s, reduce,
                                                                                         include_self=include_self),
            second_order=reduce in ("sum", "mean"))
row("scatter_reduce", "amax_ties", inputs(fixed([[1.0, 2.0], [0.0, 3.0]]), fixed([[0, 0], [0, 1]]),
                                          fixed([[1.0, 0.5], [1.0, 3.0]])),
    lambda m, a, i, s: m.scatter_reduce(a, 0, i, s, "amax"), finite_differences=False, second_order=False)
MASK = lambda r: r.random((3, 4)) > 0.5  # noqa: E731
row("masked_fill", "full", inputs(normal((3, 4)), MASK), lambda m, a, k: a.masked_fill(k, 2.5))
row("masked_fill", "tensor_value", inputs(normal((3, 4)), MASK, normal(())), lambda m, a, k, v: a.masked_fill(k, v))
row("masked_fill", "value_keyword", inputs(normal((3, 4)), MASK), lambda m, a, k: m.masked_fill(a, k, value=-1.0))
row("masked_fill", "broadcast_mask", inputs(normal((3, 4)), fixed([True, False, True, False])),
    lambda m, a, k: m.masked_fill(a, k, -1.0))
row("masked_fill", "broadcast_input", inputs(normal((1, 4)), MASK), lambda m, a, k: a.masked_fill(k, 0.0))
row("masked_select", "full", inputs(normal((3, 4)), MASK), lambda m, a, k: a.masked_select(k))
row("masked_select", "broadcast", inputs(normal((3, 1)), fixed([True, False, True, True])),
    lambda m, a, k: m.masked_select(a, k))
row("masked_scatter", "full", inputs(normal((3, 4)), MASK, normal((3, 4))), lambda m, a, k, s: a.masked_scatter(k, s))
row("masked_scatter", "broadcast_mask", inputs(normal((3, 4)), fixed([False, True, True, False]), normal((7,))),
    lambda m, a, k, s: a.masked_scatter(k, s))
row("take", "flat", inputs(normal((3, 4)), fixed([[0, 5], [11, 5]])), lambda m, a, i: a.take(i))
row("take", "negative", inputs(normal((3, 4)), fixed([-1, 0])), lambda m, a, i: m.take(a, i))
row("take_along_dim", "dim1", inputs(normal((3, 4)), fixed([[0, 3], [1, 1], [2, 0]])),
    lambda m, a, i: a.take_along_dim(i, 1))
row("take_along_dim", "broadcast", inputs(normal((3, 1)), fixed([[0, 0, 0, 0]])),
    lambda m, a, i: m.take_along_dim(a, i, dim=0))
row("take_along_dim", "flat", inputs(normal((3, 4)), fixed([0, 7, 11])), lambda m, a, i: a.take_along_dim(i))
row("take_along_dim", "argsort", inputs(distinct((3, 4))), lambda m, a: m.take_along_dim(a, a.argsort(1), dim=1))

# ---------------------------------------------------------------- products
EINSUM_CASES = {"matmul": ("ij,jk->ik", [(3, 4), (4, 5)]), "sum_all": ("ij->", [(3, 4)]),
                "batched": ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), "ellipsis": ("...ij,...jk", [(2, 3, 4), (1, 4, 5)]),
                "dot": ("i,i->", [(4,), (4,)]), "column_sums": ("ij->j", [(3, 4)]), "outer4": ("ij,kl->ijkl", [(2, 3), (3, 2)]),
                "permute": ("ijk->ki", [(2, 3, 4)]), "implicit": ("ij,jk", [(3, 4), (4, 5)]),
                "three": ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]), "spaces": ("b i, b j -> b", [(2, 3), (2, 4)])}
for label, (equation, shapes) in EINSUM_CASES.items():
    row("einsum", label, inputs(*[normal(s) for s in shapes]),
        lambda m, *ts, equation=equation: m.einsum(equation, *ts), compare_grad_fn=False)
row("einsum", "list", inputs(normal((3, 4)), normal((4,))), lambda m, a, b: m.einsum("ij,j->i", [a, b]),
    compare_grad_fn=False)
row("tensordot", "int", inputs(normal((2, 3, 4)), normal((3, 4, 5))), lambda m, a, b: m.tensordot(a, b, 2),
    compare_grad_fn=False)
row("tensordot", "lists", inputs(normal((3, 4, 2)), normal((2, 3))), lambda m, a, b: m.tensordot(a, b, ([0, 2], [1, 0])),
    compare_grad_fn=False)
row("tensordot", "dims0", inputs(normal((2,)), normal((3,))), lambda m, a, b: m.tensordot(a, b, dims=0),
    compare_grad_fn=False)
row("outer", "function", inputs(normal((3,)), normal((4,))), lambda m, a, b: m.outer(a, b))
row("outer", "ger", inputs(normal((2,)), normal((3,))), lambda m, a, b: a.ger(b))
row("kron", "2d", inputs(normal((2, 3)), normal((3, 2))), lambda m, a, b: m.kron(a, b), compare_grad_fn=False)
row("kron", "ranks", inputs(normal((2,)), normal((2, 3))), lambda m, a, b: a.kron(b), compare_grad_fn=False)
row("cross", "dim1", inputs(normal((4, 3)), normal((4, 3))), lambda m, a, b: m.cross(a, b, dim=1))
row("cross", "method_broadcast", inputs(normal((2, 3)), normal((1, 3))), lambda m, a, b: a.cross(b, dim=-1))
row("linalg_cross", "default", inputs(normal((2, 4, 3)), normal((2, 4, 3))), lambda m, a, b: m.linalg.cross(a, b))
row("linalg_cross", "dim0", inputs(normal((3, 2)), normal((3, 2))), lambda m, a, b: m.linalg.cross(a, b, dim=0))
row("addmm", "default", inputs(normal((3, 5)), normal((3, 4)), normal((4, 5))), lambda m, c, a, b: m.addmm(c, a, b))
row("addmm", "broadcast_scaled", inputs(normal((5,)), normal((3, 4)), normal((4, 5))),
    lambda m, c, a, b: c.addmm(a, b, beta=0.5, alpha=2.0))
row("addmv", "default", inputs(normal((3,)), normal((3, 4)), normal((4,))), lambda m, c, a, b: m.addmv(c, a, b, alpha=-1.5))
row("baddbmm", "default", inputs(normal((2, 3, 5)), normal((2, 3, 4)), normal((2, 4, 5))),
    lambda m, c, a, b: m.baddbmm(c, a, b, beta=2.0))
row("addbmm", "default", inputs(normal((3, 5)), normal((2, 3, 4)), normal((2, 4, 5))),
    lambda m, c, a, b: c.addbmm(a, b, alpha=0.5))

# ---------------------------------------------------------------- decompositions
def well_conditioned(shape):
    """Random matrices plus a multiple of the identity (invertible, away from singular)."""
    return lambda rng: rng.standard_normal(shape) + 3 * np.eye(shape[-1])


def spd(m, a):
    """A symmetric positive-definite matrix built from a (so grads flow through both triangles)."""
    return a @ a.mT + m.eye(a.shape[-1], dtype=a.dtype)


row("linalg_inv", "2d", inputs(well_conditioned((3, 3))), lambda m, a: m.linalg.inv(a))
row("linalg_inv", "batched_inverse", inputs(well_conditioned((2, 3, 3))), lambda m, a: m.inverse(a))
row("linalg_inv", "method", inputs(well_conditioned((2, 2))), lambda m, a: a.inverse())
row("linalg_det", "2d", inputs(normal((3, 3))), lambda m, a: m.linalg.det(a))
row("linalg_det", "batched_function", inputs(normal((2, 3, 3))), lambda m, a: m.det(a))
# At an exactly singular matrix torch's gradient is 0, not the adjugate (the derivative): so is ours.
row("linalg_det", "singular", inputs(fixed([[1.0, 2.0], [2.0, 4.0]])), lambda m, a: a.det(), second_order=False,
    finite_differences=False)
row("linalg_slogdet", "2d", inputs(well_conditioned((3, 3))), lambda m, a: tuple(m.linalg.slogdet(a)))
row("linalg_slogdet", "names", inputs(normal((2, 3, 3))), lambda m, a: m.slogdet(a).logabsdet * 2)
row("linalg_solve", "matrix", inputs(well_conditioned((3, 3)), normal((3, 2))), lambda m, a, b: m.linalg.solve(a, b))
row("linalg_solve", "vector", inputs(well_conditioned((3, 3)), normal((3,))), lambda m, a, b: m.linalg.solve(a, b))
row("linalg_solve", "batched", inputs(well_conditioned((2, 3, 3)), normal((2, 3, 1))),
    lambda m, a, b: m.linalg.solve(a, b))
row("linalg_cholesky", "lower", inputs(normal((3, 3))), lambda m, a: m.linalg.cholesky(spd(m, a)))
row("linalg_cholesky", "upper_batched", inputs(normal((2, 3, 3))), lambda m, a: m.linalg.cholesky(spd(m, a), upper=True))
# Q and R are unique up to signs; these programs are sign-invariant (Q diag(sign) and diag(sign) R agree).
row("linalg_qr", "square", inputs(well_conditioned((3, 3))), lambda m, a: m.linalg.qr(a).Q @ m.linalg.qr(a).R,
    compare_grad_fn=False)
row("linalg_qr", "tall", inputs(normal((4, 3))), lambda m, a: tuple(x * x for x in m.linalg.qr(a)))
row("linalg_qr", "tall_batched", inputs(normal((2, 5, 3))), lambda m, a: m.linalg.qr(a).R.abs())
row("linalg_eigh", "values", inputs(normal((3, 3))), lambda m, a: m.linalg.eigh(a + a.mT).eigenvalues)
row("linalg_eigh", "vectors_squared", inputs(normal((3, 3))), lambda m, a: m.linalg.eigh(a + a.mT).eigenvectors ** 2)
row("linalg_eigh", "both_batched", inputs(normal((2, 3, 3))),
    lambda m, a: tuple(x ** 2 for x in m.linalg.eigh(a @ a.mT)))
row("linalg_svd", "values", inputs(normal((3, 4))), lambda m, a: m.linalg.svd(a, full_matrices=False).S)
row("linalg_svd", "tall_products", inputs(normal((4, 3))),
    lambda m, a: tuple(x ** 2 for x in m.linalg.svd(a, full_matrices=False)))
row("linalg_svd", "wide_batched", inputs(normal((2, 3, 4))),
    lambda m, a: m.linalg.svd(a, full_matrices=False).U.abs() + m.linalg.svd(a, full_matrices=False).S[..., None, :])
row("linalg_svd", "square_full", inputs(normal((3, 3))), lambda m, a: m.linalg.svd(a).Vh ** 2)
row("linalg_svdvals", "wide", inputs(normal((3, 5))), lambda m, a: m.linalg.svdvals(a))
row("linalg_svdvals", "batched", inputs(normal((2, 4, 2))), lambda m, a: m.linalg.svdvals(a))


# ---------------------------------------------------------------- axis= wherever torch takes it
row("max_dim", "axis", inputs(distinct((3, 4))), lambda m, a: a.max(axis=1))
row("min_dim", "axis_function", inputs(distinct((3, 4))), lambda m, a: m.min(a, axis=0, keepdim=True))
row("median_dim", "axis", inputs(distinct((3, 5))), lambda m, a: a.median(axis=1))
row("softmax", "axis", inputs(normal((3, 4))), lambda m, a: m.softmax(a, axis=0))
row("log_softmax", "axis", inputs(normal((3, 4))), lambda m, a: a.log_softmax(axis=1))
row("squeeze", "axis", inputs(normal((3, 1))), lambda m, a: a.squeeze(axis=1))
row("unsqueeze", "axis", inputs(normal((3, 4))), lambda m, a: a.unsqueeze(axis=0))
row("cat", "axis", inputs(normal((3, 4)), normal((3, 2))), lambda m, a, b: m.cat([a, b], axis=1))
row("cat", "legacy_empty_1d", inputs(normal((3, 4)), normal((0,)), normal((3, 2))), lambda m, a, e, b: m.cat([a, e, b], 1))
row("stack", "axis", inputs(normal((3,)), normal((3,))), lambda m, a, b: m.stack([a, b], axis=1))
row("narrow", "axis", inputs(normal((3, 4))), lambda m, a: a.narrow(axis=1, start=1, length=2))
row("cross", "axis", inputs(normal((3, 3)), normal((3, 3))), lambda m, a, b: a.cross(b, axis=0))
row("gather", "axis", inputs(normal((3, 4)), GATHER_INDEX), lambda m, a, i: a.gather(axis=0, index=i))

# This module's rows, for the SDK test (tests/client/test_client_ops_shape.py).
SHAPE_ROWS = ROWS[_FIRST:]
