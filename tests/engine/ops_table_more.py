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

MORE_ROWS = ROWS[_FIRST:]
