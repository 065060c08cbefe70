"""Binding the one implementation to a backend: a subclass per class with `_torch` set.

For each backend (the engine module, or a Client), every class of torchlike gets a subclass whose bases
are the bound versions of its own bases, so the hierarchy is kept (a bound Linear is a bound Module, and
a user's `class Net(torch.nn.Module)` finds `_torch` on it). Parameter also derives from the backend's
Tensor class, so parameters are ordinary tensors of that backend.
"""

from __future__ import annotations

import functools
import types
from typing import Any

from . import activations, containers, functional, init, layers, losses, lr_scheduler, module, optim, utils

_NN_MODULES = (module, containers, layers, activations, losses)


def _classes(source: types.ModuleType) -> dict[str, type]:
    return {name: value for name, value in vars(source).items()
            if isinstance(value, type) and value.__module__ == source.__name__ and not name.startswith("_")}


def _bind_class(cls: type, backend: Any, bound: dict[type, type], functions: functional.Functional) -> type:
    if cls in bound:
        return bound[cls]
    bases = tuple(_bind_class(base, backend, bound, functions) for base in cls.__bases__ if base.__module__.startswith(__package__))
    extra = (backend.Tensor,) if cls is module.Parameter else ()
    namespace = {"_torch": backend, "_functional": functions, "__module__": cls.__module__, "__qualname__": cls.__qualname__}
    if cls is module.Parameter:
        namespace["__slots__"] = ()
    bound[cls] = type(cls.__name__, (cls, *bases, *extra), namespace)
    return bound[cls]


def bind(backend: Any) -> tuple[types.SimpleNamespace, types.SimpleNamespace]:
    """(nn, optim) namespaces of classes bound to `backend`; the backend keeps them (call once)."""
    bound: dict[type, type] = {}
    functions = functional.Functional(backend)
    nn_names: dict[str, Any] = {}
    for source in _NN_MODULES:
        for name, cls in _classes(source).items():
            nn_names[name] = _bind_class(cls, backend, bound, functions)
    nn_names["init"] = types.SimpleNamespace(
        **{fn.__name__: functools.partial(fn, backend) for fn in init.IN_PLACE},
        **{fn.__name__: fn for fn in init.PLAIN})
    nn_names["utils"] = types.SimpleNamespace(**{fn.__name__: functools.partial(fn, backend) for fn in utils.PUBLIC})
    nn = types.SimpleNamespace(**nn_names)
    schedulers = types.SimpleNamespace(**{name: _bind_class(cls, backend, bound, functions)
                                          for name, cls in _classes(lr_scheduler).items()})
    optimizers = {name: _bind_class(cls, backend, bound, functions) for name, cls in _classes(optim).items()}
    optim_ns = types.SimpleNamespace(lr_scheduler=schedulers, **optimizers)
    return nn, optim_ns
