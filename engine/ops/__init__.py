"""The op table: importing this package registers every op (one module per family)."""

from . import clamp, elementwise, fills, grads, indexing, linalg, reductions, shape  # noqa: F401  (registration side effects)
from . import activations, bitwise, elementwise_binary, elementwise_math  # noqa: F401
from . import decompositions, diagonals, gathering, padding, products, reducing, reshaping, scans, selecting  # noqa: F401
from . import sorting, splitting  # noqa: F401
from . import nn_adaptive_pool, nn_conv, nn_dropout, nn_linear, nn_loss_class, nn_loss_elementwise  # noqa: F401
from . import nn_misc, nn_norm, nn_pool, nn_resample  # noqa: F401
from . import pointwise_more  # noqa: F401
from . import reductions_more  # noqa: F401
from . import stacking  # noqa: F401
from . import searching  # noqa: F401
from . import nn_loss_more  # noqa: F401
