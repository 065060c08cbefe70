"""torch.nn for the engine: `gradwire.engine.nn.functional` holds the registry's nn.functional ops, and
the module classes (Linear, Sequential, MSELoss, init, utils ...) are gradwire.torchlike's, bound to
the engine (the same classes serve the SDK)."""

import sys as _sys

from gradwire.torchlike import bind as _bind

from . import functional  # noqa: F401

_nn, _optim = _bind(_sys.modules["gradwire.engine"])
globals().update(vars(_nn))
