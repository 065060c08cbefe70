"""The rules table: importing this package defines every op's rules (one module per family).

The engine implements each entry (engine/ops/), the SDK reads them directly.
"""

from . import elementwise, indexing, linalg, nn, reductions, shape  # noqa: F401  (definition side effects)
from . import pointwise_more  # noqa: F401,E402  (addcmul, addcdiv, fmax, fmin, logit, sinc ...)
from . import reductions_more  # noqa: F401,E402  (nansum, nanmean, var_mean, linalg.norm, cdist, diff ...)
from . import nn_loss_more  # noqa: F401,E402  (gaussian_nll_loss, multilabel_soft_margin_loss, multi_margin_loss)
from . import searching  # noqa: F401,E402  (bucketize, searchsorted, nonzero, argwhere)
from . import stacking  # noqa: F401,E402  (hstack, vstack, atleast_1d, broadcast_tensors, block_diag, rot90 ...)
from .. import inplace as _inplace  # noqa: E402

_inplace.derive_all()  # the in-place variants of the ops above
