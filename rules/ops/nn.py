"""Rules of the torch.nn.functional ops (see rules/spec.py for what an entry holds), one module per family."""

from . import nn_linear  # noqa: F401  (definition side effects)
