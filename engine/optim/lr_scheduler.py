"""torch.optim.lr_scheduler for the engine (gradwire.torchlike's schedulers bound to the engine)."""

from ..nn import _optim

globals().update(vars(_optim.lr_scheduler))
