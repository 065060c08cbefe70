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



# This module's rows, for the SDK test (tests/client/test_client_ops_shape.py).
SHAPE_ROWS = ROWS[_FIRST:]
