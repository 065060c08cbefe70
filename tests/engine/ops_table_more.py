"""Op-table rows of the ops added for common torch idioms: addcmul / addcdiv, fmax / fmin, logit, sinc,
logaddexp2, heaviside, nansum / nanmean, var_mean / std_mean, linalg.norm, dist, cdist, diff, the
stacking helpers, bucketize / searchsorted, nonzero / argwhere (ops_table.py includes them; see it for
what is checked)."""

from __future__ import annotations

import numpy as np

from ops_table import INPLACE_NOT_SMOOTH, INPLACE_VALUES_ONLY, ROWS, away_from_zero, fixed, inputs, normal, positive, row

_FIRST = len(ROWS)


def unit_interval(shape):
    return lambda rng: rng.uniform(0.1, 0.9, shape)


# ---------------------------------------------------------------- addcmul, addcdiv (optimizers' in-place steps)
row("addcmul", "broadcast", inputs(normal((3, 4)), normal((3, 4)), normal((1, 4))),
    lambda m, a, b, c: m.addcmul(a, b, c))
row("addcmul", "value_kw", inputs(normal((3, 1)), normal((1, 4)), normal(())),
    lambda m, a, b, c: m.addcmul(a, b, c, value=-0.5))
row("addcmul", "method", inputs(normal((3, 4)), normal((3, 4)), normal((3, 4))), lambda m, a, b, c: a.addcmul(b, c, value=2))
row("addcmul_", "adam_moment", inputs(normal((3, 4)), normal((3, 4))),
    lambda m, v, g: (v * 0.999).addcmul_(g, g, value=0.001))
row("addcdiv", "broadcast", inputs(normal((3, 4)), normal((1, 4)), away_from_zero((3, 1))),
    lambda m, a, b, c: m.addcdiv(a, b, c))
row("addcdiv", "value_method", inputs(normal((3, 4)), normal((3, 4)), away_from_zero((3, 4))),
    lambda m, a, b, c: a.addcdiv(b, c, value=-0.01))
row("addcdiv_", "adam_step", inputs(normal((3, 4)), normal((3, 4)), positive((3, 4))),
    lambda m, p, e, v: (p * 1).addcdiv_(e, v.sqrt() + 1e-8, value=-0.1))

# ---------------------------------------------------------------- fmax, fmin, logaddexp2, heaviside
row("fmax", "broadcast", inputs(normal((3, 4)), normal((1, 4))), lambda m, a, b: m.fmax(a, b))
row("fmax", "nan", inputs(fixed([1.0, np.nan, np.nan, -2.0]), fixed([np.nan, 3.0, np.nan, 0.5])),
    lambda m, a, b: m.fmax(a, b), finite_differences=False)
row("fmax", "ties_method", inputs(fixed([1.0, 2.0, -1.0]), fixed([1.0, 0.0, -1.0])), lambda m, a, b: a.fmax(b),
    finite_differences=False)
row("fmin", "broadcast", inputs(normal((3, 1)), normal((3, 4))), lambda m, a, b: m.fmin(a, b))
row("fmin", "nan", inputs(fixed([1.0, np.nan, np.nan, -2.0]), fixed([np.nan, 3.0, np.nan, 0.5])),
    lambda m, a, b: a.fmin(b), finite_differences=False)
row("logaddexp2", "broadcast", inputs(normal((3, 4)), normal((1, 4))), lambda m, a, b: m.logaddexp2(a, b))
row("logaddexp2", "large", inputs(fixed([1000.0, -1000.0, 3.0])), lambda m, a: a.logaddexp2(a * 0.5))
row("heaviside", "values", inputs(fixed([-1.5, 0.0, 2.0, 0.0]), fixed([0.5, 0.25, 0.5, 1.0])),
    lambda m, a, v: m.heaviside(a.detach(), v.detach()))
row("heaviside", "method_broadcast", inputs(normal((3, 4)), fixed([0.5])), lambda m, a, v: a.detach().heaviside(v.detach()))
INPLACE_VALUES_ONLY.add("heaviside")  # the in-place row detaches its inputs too (torch has no derivative)
INPLACE_NOT_SMOOTH.add("heaviside")

# ---------------------------------------------------------------- logit, sinc
row("logit", "plain", inputs(unit_interval((3, 4))), lambda m, a: m.logit(a))
row("logit", "eps", inputs(fixed([0.01, 0.3, 0.95, 0.5])), lambda m, a: a.logit(eps=0.05), finite_differences=False)
row("logit", "special", inputs(unit_interval((4,))), lambda m, a: m.special.logit(a, 0.2), finite_differences=False)
row("logit", "outside", inputs(fixed([-0.5, 1.5, 0.5])), lambda m, a: m.logit(a), finite_differences=False,
    second_order=False)
row("sinc", "normal", inputs(normal((3, 4))), lambda m, a: m.sinc(a))
row("sinc", "at_zero", inputs(fixed([0.0, 1.0, -0.5])), lambda m, a: a.sinc(), finite_differences=False,
    second_order=False)
row("sinc", "special", inputs(normal((5,))), lambda m, a: m.special.sinc(a))

# ---------------------------------------------------------------- nansum, nanmean
def with_nans(shape):
    return lambda rng: np.where(rng.random(shape) < 0.3, np.nan, rng.standard_normal(shape))


row("nansum", "all", inputs(with_nans((3, 4))), lambda m, a: m.nansum(a))
row("nansum", "dim_keepdim", inputs(with_nans((3, 4))), lambda m, a: a.nansum(1, keepdim=True))
row("nansum", "no_nans_dims", inputs(normal((2, 3, 4))), lambda m, a: m.nansum(a, dim=(0, 2)))
row("nansum", "ints", inputs(fixed([[1, 2], [3, 4]])), lambda m, k: m.nansum(k, 0))
row("nanmean", "all", inputs(with_nans((3, 4))), lambda m, a: m.nanmean(a))
row("nanmean", "dim", inputs(with_nans((3, 4))), lambda m, a: a.nanmean(dim=0))
row("nanmean", "all_nan_row", inputs(fixed([[np.nan, np.nan], [1.0, 2.0]])), lambda m, a: m.nanmean(a, 1, keepdim=True),
    finite_differences=False)  # its gradient is nan, as torch's

# ---------------------------------------------------------------- var_mean, std_mean
row("var_mean", "all", inputs(normal((3, 4))), lambda m, a: m.var_mean(a))
row("var_mean", "dim", inputs(normal((3, 4))), lambda m, a: m.var_mean(a, 1))
row("var_mean", "correction_keepdim", inputs(normal((2, 3, 4))),
    lambda m, a: m.var_mean(a, dim=(0, 2), correction=0, keepdim=True))
row("var_mean", "unbiased_false", inputs(normal((3, 4))), lambda m, a: m.var_mean(a, 0, False))
row("std_mean", "all", inputs(normal((3, 4))), lambda m, a: m.std_mean(a))
row("std_mean", "dim_correction", inputs(normal((3, 4))), lambda m, a: m.std_mean(a, dim=0, correction=2))
row("std_mean", "mean_only", inputs(normal((3, 4))), lambda m, a: m.std_mean(a, 1)[1] * 2)

# ---------------------------------------------------------------- linalg.norm
for _label, _call in {"default": lambda m, a: m.linalg.norm(a), "vector_dim": lambda m, a: m.linalg.norm(a, dim=1),
                      "p1_dim": lambda m, a: m.linalg.norm(a, 1, dim=0), "p3_keepdim": lambda m, a: m.linalg.norm(
                          a, 3.0, -1, keepdim=True), "inf_dim": lambda m, a: m.linalg.norm(a, float("inf"), 1),
                      "neg_inf_dim": lambda m, a: m.linalg.norm(a, ord=float("-inf"), dim=1),
                      "p0_dim": lambda m, a: m.linalg.norm(a, 0, 1), "half_dim": lambda m, a: m.linalg.norm(a.abs() + 0.5, 0.5, 1),
                      "matrix_fro": lambda m, a: m.linalg.norm(a, "fro"), "matrix_inf": lambda m, a: m.linalg.norm(a, float("inf")),
                      "matrix_1_dims": lambda m, a: m.linalg.norm(a, 1, dim=(1, 0)),
                      "matrix_dims_default_ord": lambda m, a: m.linalg.norm(a, dim=(0, 1))}.items():
    row("linalg_norm", _label, inputs(normal((3, 4))), _call, finite_differences=_label != "p0_dim")
row("linalg_norm", "vector_ord", inputs(normal((5,))), lambda m, a: m.linalg.norm(a, 1))
row("linalg_norm", "vector_inf", inputs(normal((5,))), lambda m, a: m.linalg.norm(a, float("inf")))
row("linalg_norm", "batched_flat", inputs(normal((2, 3, 4))), lambda m, a: m.linalg.norm(a))

# ---------------------------------------------------------------- dist, cdist
row("dist", "default", inputs(normal((3, 4)), normal((3, 4))), lambda m, a, b: m.dist(a, b))
row("dist", "p1_broadcast", inputs(normal((3, 4)), normal((1, 4))), lambda m, a, b: a.dist(b, 1))
row("dist", "p_inf", inputs(normal((3, 4)), normal((3, 4))), lambda m, a, b: m.dist(a, b, p=float("inf")))
row("dist", "p3", inputs(normal((4,)), normal((4,))), lambda m, a, b: m.dist(a, b, 3))
for _p in (2.0, 1.0, 3.0, float("inf"), 0.0):
    row("cdist", f"p{_p}", inputs(normal((3, 4)), normal((5, 4))), lambda m, a, b, p=_p: m.cdist(a, b, p=p),
        finite_differences=_p != 0.0, second_order=False)  # torch has no double backward for cdist
row("cdist", "batched_broadcast", inputs(normal((2, 3, 4)), normal((1, 5, 4))), lambda m, a, b: m.cdist(a, b), second_order=False)
row("cdist", "self", inputs(normal((4, 3))), lambda m, a: m.cdist(a, a * 2, 2.0, "donot_use_mm_for_euclid_dist"),
    second_order=False)

# ---------------------------------------------------------------- diff
row("diff", "default", inputs(normal((3, 4))), lambda m, a: m.diff(a))
row("diff", "n2_dim0", inputs(normal((4, 3))), lambda m, a: a.diff(n=2, dim=0))
row("diff", "prepend_append", inputs(normal((3, 4)), normal((3, 1)), normal((3, 2))),
    lambda m, a, p, q: m.diff(a, prepend=p, append=q))
row("diff", "append_dim0", inputs(normal((3, 4)), normal((2, 4))), lambda m, a, q: m.diff(a, 1, 0, None, q))
row("diff", "1d_n3", inputs(normal((6,))), lambda m, a: m.diff(a, 3))
row("diff", "n_too_large", inputs(normal((3,))), lambda m, a: m.diff(a, n=5))
row("diff", "ints", inputs(fixed([1, 4, 9, 16])), lambda m, k: m.diff(k))

# ---------------------------------------------------------------- hstack, vstack, dstack, column_stack
row("hstack", "matrices", inputs(normal((3, 4)), normal((3, 2))), lambda m, a, b: m.hstack([a, b]))
row("hstack", "vectors_and_0d", inputs(normal((3,)), normal(()), normal((2,))), lambda m, a, b, c: m.hstack((a, b, c)))
row("vstack", "vectors", inputs(normal((4,)), normal((4,))), lambda m, a, b: m.vstack([a, b]))
row("vstack", "mixed", inputs(normal((2, 4)), normal((4,))), lambda m, a, b: m.vstack([a, b]))
row("vstack", "row_stack", inputs(normal((2, 3)), normal((1, 3))), lambda m, a, b: m.row_stack([a, b]))
row("dstack", "matrices", inputs(normal((3, 4)), normal((3, 4))), lambda m, a, b: m.dstack([a, b]))
row("dstack", "vectors_3d", inputs(normal((4,)), normal((1, 4, 2))), lambda m, a, b: m.dstack([a, b]))
row("column_stack", "vectors", inputs(normal((3,)), normal((3,))), lambda m, a, b: m.column_stack([a, b]))
row("column_stack", "mixed", inputs(normal((3,)), normal((3, 2))), lambda m, a, b: m.column_stack((a, b)))
row("hstack", "ints_promote", inputs(normal((2, 2)), fixed([[1], [2]])), lambda m, a, k: m.hstack([a, k]))

# ---------------------------------------------------------------- atleast_1d / 2d / 3d (one tensor)
row("atleast_1d", "0d", inputs(normal(())), lambda m, a: m.atleast_1d(a) * 2)
row("atleast_1d", "already", inputs(normal((3,))), lambda m, a: m.atleast_1d(a) * 2)
row("atleast_2d", "0d", inputs(normal(())), lambda m, a: m.atleast_2d(a) * 2)
row("atleast_2d", "1d", inputs(normal((3,))), lambda m, a: m.atleast_2d(a) * 2)
row("atleast_3d", "1d", inputs(normal((3,))), lambda m, a: m.atleast_3d(a) * 2)
row("atleast_3d", "2d", inputs(normal((3, 4))), lambda m, a: m.atleast_3d(a))
row("atleast_3d", "0d", inputs(normal(())), lambda m, a: m.atleast_3d(a))
# torch returns a tensor with enough dims itself; here it is an alias (AliasBackward0): values and gradients only
row("atleast_2d", "already", inputs(normal((3, 4))), lambda m, a: m.atleast_2d(a), compare_grad_fn=False)

# ---------------------------------------------------------------- broadcast_tensors, block_diag, rot90
row("broadcast_tensors", "both_expand", inputs(normal((3, 1)), normal((1, 4))), lambda m, a, b: m.broadcast_tensors(a, b))
row("broadcast_tensors", "three", inputs(normal((2, 1, 4)), normal((3, 1)), normal(())),
    lambda m, a, b, c: m.broadcast_tensors(a, b, c)[1] * m.broadcast_tensors(a, b, c)[2])
# torch returns an input already of the broadcast shape itself (no node): values and gradients only
row("broadcast_tensors", "one_unchanged", inputs(normal((3, 4)), normal((4,))),
    lambda m, a, b: m.broadcast_tensors(a, b), compare_grad_fn=False)
row("block_diag", "matrices", inputs(normal((2, 3)), normal((3, 2))), lambda m, a, b: m.block_diag(a, b))
row("block_diag", "mixed", inputs(normal((2, 2)), normal((3,)), normal(())), lambda m, a, b, c: m.block_diag(a, b, c))
row("rot90", "default", inputs(normal((3, 4))), lambda m, a: m.rot90(a))
row("rot90", "k2_dims", inputs(normal((2, 3, 4))), lambda m, a: a.rot90(2, [1, 2]))
row("rot90", "negative_k", inputs(normal((2, 3, 4))), lambda m, a: m.rot90(a, -1, (2, 0)))
row("rot90", "k3", inputs(normal((3, 4))), lambda m, a: m.rot90(a, k=3, dims=[1, 0]))

# ---------------------------------------------------------------- bucketize, searchsorted, nonzero, argwhere
_BOUNDARIES = fixed([-1.0, -0.25, 0.0, 0.5, 1.0])
row("bucketize", "default", inputs(normal((3, 4)), _BOUNDARIES), lambda m, a, b: m.bucketize(a.detach(), b.detach()))
row("bucketize", "right_ties", inputs(fixed([-1.0, 0.0, 0.3, 1.0, 2.0]), _BOUNDARIES),
    lambda m, a, b: m.bucketize(a.detach(), b.detach(), right=True))
row("bucketize", "int32_number", inputs(_BOUNDARIES), lambda m, b: m.bucketize(0.5, b.detach(), out_int32=True))
row("searchsorted", "1d", inputs(_BOUNDARIES, normal((3, 4))), lambda m, b, a: m.searchsorted(b.detach(), a.detach()))
row("searchsorted", "side_right_ties", inputs(_BOUNDARIES, fixed([-1.0, 0.0, 0.5, 3.0])),
    lambda m, b, a: m.searchsorted(b.detach(), a.detach(), side="right"))
row("searchsorted", "batched_right", inputs(fixed([[0.0, 1.0, 2.0], [-3.0, -2.0, 5.0]]), fixed([[1.0, 4.0], [-2.0, 6.0]])),
    lambda m, b, a: m.searchsorted(b.detach(), a.detach(), right=True, out_int32=True))
row("searchsorted", "sorter_keywords", inputs(fixed([2.0, -1.0, 0.5, 0.0]), normal((5,)), fixed([1, 3, 2, 0])),
    lambda m, b, a, s: m.searchsorted(b.detach(), input=a.detach(), sorter=s))
row("nonzero", "mask", inputs(normal((3, 4))), lambda m, a: m.nonzero(a.detach() > 0))
row("nonzero", "method_floats", inputs(fixed([[0.0, 1.5], [-2.0, 0.0], [0.0, 0.0]])), lambda m, a: a.detach().nonzero())
row("nonzero", "0d", inputs(fixed(2.0)), lambda m, a: m.nonzero(a.detach()))
row("nonzero", "none", inputs(fixed([[0, 0], [0, 0]])), lambda m, k: k.nonzero())
row("argwhere", "ints", inputs(fixed([[0, 3, 0], [1, 0, 2]])), lambda m, k: m.argwhere(k))
row("argwhere", "method_3d", inputs(normal((2, 3, 2))), lambda m, a: (a.detach() > 0.5).argwhere())

# ---------------------------------------------------------------- gaussian_nll_loss, multilabel_soft_margin_loss, multi_margin_loss
def labels(shape):
    return lambda rng: (rng.random(shape) > 0.5).astype(np.float64)


row("gaussian_nll_loss", "mean", inputs(normal((3, 4)), normal((3, 4)), positive((3, 4))),
    lambda m, x, t, v: m.nn.functional.gaussian_nll_loss(x, t, v))
row("gaussian_nll_loss", "homoscedastic_full_none", inputs(normal((3, 4)), normal((3, 4)), positive((3,))),
    lambda m, x, t, v: m.nn.functional.gaussian_nll_loss(x, t, v, full=True, reduction="none"))
row("gaussian_nll_loss", "broadcast_var_sum", inputs(normal((3, 4)), normal((3, 4)), positive((3, 1))),
    lambda m, x, t, v: m.nn.functional.gaussian_nll_loss(x, t, v, reduction="sum"))
row("gaussian_nll_loss", "eps_clamps", inputs(normal((4,)), normal((4,)), fixed([1e-4, 0.5, 1e-3, 2.0])),
    lambda m, x, t, v: m.nn.functional.gaussian_nll_loss(x, t, v, eps=1e-2, reduction="none"), finite_differences=False)
row("multilabel_soft_margin_loss", "mean", inputs(normal((3, 4)), labels((3, 4))),
    lambda m, x, t: m.nn.functional.multilabel_soft_margin_loss(x, t))
row("multilabel_soft_margin_loss", "weight_none", inputs(normal((3, 4)), labels((3, 4)), positive((4,))),
    lambda m, x, t, w: m.nn.functional.multilabel_soft_margin_loss(x, t, weight=w, reduction="none"))
row("multilabel_soft_margin_loss", "sum_1d", inputs(normal((5,)), labels((5,))),
    lambda m, x, t: m.nn.functional.multilabel_soft_margin_loss(x, t, reduction="sum"))
# torch has no second derivative for multi_margin_loss (and no gradient for its weight)
row("multi_margin_loss", "mean", inputs(normal((3, 4)), fixed([0, 3, 1])),
    lambda m, x, t: m.nn.functional.multi_margin_loss(x, t), second_order=False)
row("multi_margin_loss", "p2_margin_weight_none", inputs(normal((3, 4)), fixed([2, 0, 2])),
    lambda m, x, t: m.nn.functional.multi_margin_loss(x, t, p=2, margin=0.5, weight=m.tensor(
        [0.5, 1.0, 2.0, 1.5], dtype=x.dtype), reduction="none"), second_order=False)
row("multi_margin_loss", "unbatched_sum", inputs(normal((5,)), fixed(3)),
    lambda m, x, t: m.nn.functional.multi_margin_loss(x, t, reduction="sum"), second_order=False)

# ---------------------------------------------------------------- where(condition), nonzero(as_tuple=True): index tuples
row("nonzero_tuple", "where_condition", inputs(normal((3, 4))), lambda m, a: m.where(a.detach() > 0))
row("nonzero_tuple", "as_tuple_method", inputs(fixed([[0.0, 1.5], [-2.0, 0.0], [0.0, 3.0]])),
    lambda m, a: a.detach().nonzero(as_tuple=True))
row("nonzero_tuple", "as_tuple_0d", inputs(fixed(2.0)), lambda m, a: m.nonzero(a.detach(), as_tuple=True))
row("nonzero_tuple", "index_by_where", inputs(normal((3, 4))), lambda m, a: a[m.where(a.detach() > 0.3)] * 2)
row("nonzero", "as_tuple_false", inputs(normal((2, 3))), lambda m, a: a.detach().nonzero(as_tuple=False))

# ---------------------------------------------------------------- trapezoid, cartesian_prod
row("trapezoid", "default", inputs(normal((3, 4))), lambda m, a: m.trapezoid(a))
row("trapezoid", "dx_dim0", inputs(normal((3, 4))), lambda m, a: m.trapezoid(a, dx=0.5, dim=0))
row("trapezoid", "x_1d", inputs(normal((3, 4)), normal((4,))), lambda m, a, x: m.trapezoid(a, x))
row("trapezoid", "x_full_keyword", inputs(normal((3, 4)), normal((3, 4))), lambda m, a, x: m.trapezoid(a, x=x, dim=1))
row("trapezoid", "trapz_dim0", inputs(normal((3, 4)), normal((3,))), lambda m, a, x: m.trapz(a, x, dim=0))
row("trapezoid", "ints", inputs(fixed([1, 4, 9])), lambda m, k: m.trapezoid(k))
row("cartesian_prod", "two", inputs(normal((3,)), normal((2,))), lambda m, a, b: m.cartesian_prod(a, b))
row("cartesian_prod", "three", inputs(normal((2,)), normal((2,)), normal((3,))),
    lambda m, a, k, b: m.cartesian_prod(a, k, b))
row("cartesian_prod", "ints", inputs(fixed([1, 2]), fixed([3, 4, 5])), lambda m, a, b: m.cartesian_prod(a, b))
# torch returns a single tensor itself (no node): values and gradients only
row("cartesian_prod", "one", inputs(normal((3,))), lambda m, a: m.cartesian_prod(a) * 2, compare_grad_fn=False)

MORE_ROWS = ROWS[_FIRST:]
