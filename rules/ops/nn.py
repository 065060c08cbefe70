"""Rules of the torch.nn.functional ops (see rules/spec.py for what an entry holds), one module per family."""

from . import nn_conv, nn_dropout, nn_linear, nn_loss_class, nn_loss_elementwise, nn_misc, nn_norm, nn_pool  # noqa: F401
from . import nn_resample  # noqa: F401  (definition side effects)
