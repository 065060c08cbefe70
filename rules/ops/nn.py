"""Rules of the torch.nn.functional ops (see rules/spec.py for what an entry holds), one module per family;
importing this module defines them all."""

from . import nn_conv, nn_dropout, nn_linear, nn_loss_class, nn_loss_elementwise  # noqa: F401
from . import nn_misc, nn_norm, nn_pool, nn_resample  # noqa: F401
