"""torch.nn for the engine: `gradwire.engine.nn.functional` holds the registry's nn.functional ops."""

from . import functional  # noqa: F401
