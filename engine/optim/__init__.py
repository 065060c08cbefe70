"""torch.optim for the engine: gradwire.torchlike's optimizers bound to the engine."""

from ..nn import _optim

globals().update({name: value for name, value in vars(_optim).items() if name != "lr_scheduler"})

from . import lr_scheduler  # noqa: E402,F401
