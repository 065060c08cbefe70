"""torch.nn and torch.optim, written once over the torch-shaped surface (numpy only).

Nothing here imports the engine or the client. Every class reads the module it runs on (`import
gradwire.engine as torch`, or `torch = Client(address)`) from its `_torch` class attribute, which
`bind(backend)` sets on a subclass per backend; the layers call `torch.nn.functional`, falling back to
compositions of basic ops where a backend lacks a function (functional.py).

    nn, optim = bind(backend)     # namespaces: nn.Linear, nn.init, nn.utils, optim.SGD, optim.lr_scheduler
"""

from .binding import bind

__all__ = ["bind"]
