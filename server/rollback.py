"""Undoing in-place nodes of a refused request, so that a refused request changes nothing.

Before an in-place node writes to memory the request did not create (a session value, or a view of
one), the buffer it writes (the base's) is copied once, with the version counter and the autograd state
(grad_fn, requires_grad, view version) of the base, the target and the session's other views of that
base. `restore()` puts all of it back. The copies are charged to the request's memory budget.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

import gradwire.engine as ge
from gradwire.engine import views


class Undo:
    def __init__(self) -> None:
        self._saved: dict[int, tuple[Any, np.ndarray, np.ndarray, int, list[tuple[Any, tuple]]]] = {}
        # target -> its .grad and that grad's values (zero_grad_ and writes through `grad` change them)
        self._grads: dict[int, tuple[Any, Any, np.ndarray | None, int]] = {}

    def __bool__(self) -> bool:
        return bool(self._saved) or bool(self._grads)

    def before_inplace(self, target: Any, fresh: set[int], others: Callable[[], Iterable[Any]]) -> None:
        """Saves what an in-place write to `target` may change, unless the request made that memory."""
        if not hasattr(target, "_data"):
            return
        self._save_grad(target, fresh)
        base = views.storage_of(target)
        if id(base) in fresh or id(base) in self._saved:
            return
        ge.modes.charge(base._data.nbytes, "saving a session value before an in-place node")
        sharing = {id(t): t for t in (base, target, *(t for t in others() if views.storage_of(t) is base))}
        states = [(t, views.autograd_state(t)) for t in sharing.values()]
        self._saved[id(base)] = (base, base._data, base._data.copy(), views.version(base), states)

    def _save_grad(self, target: Any, fresh: set[int]) -> None:
        grad = getattr(target, "_grad", None)
        if id(target) in fresh or id(target) in self._grads:
            return
        if grad is None:
            self._grads[id(target)] = (target, None, None, 0)
            return
        ge.modes.charge(grad._data.nbytes, "saving a session value's grad before an in-place node")
        self._grads[id(target)] = (target, grad, grad._data.copy(), views.version(grad))

    def restore(self) -> None:
        for target, grad, values, version in self._grads.values():
            target._grad = grad
            if grad is not None:
                np.copyto(grad._data, values)
                views.set_version(grad, version)
        self._grads.clear()
        for base, buffer, copy, version, states in self._saved.values():
            base._data = buffer
            np.copyto(buffer, copy)
            views.set_version(base, version)
            for tensor, state in states:
                views.restore_autograd_state(tensor, state)
        self._saved.clear()
