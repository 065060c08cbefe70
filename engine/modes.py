"""Thread-local modes: grad mode (no_grad / enable_grad) and the memory budget.

Both are per thread, like torch's grad mode, so a server thread's request never sees another's.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Callable, Iterator

from .errors import BudgetExceededError


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.grad_enabled = True
        self.budget_left: int | None = None
        self.budget_total: int | None = None


_state = _ThreadState()


def is_grad_enabled() -> bool:
    return _state.grad_enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager (and decorator) that sets grad mode, restoring the previous mode on exit."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(_state.grad_enabled)
        _state.grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled = self._previous.pop()


class no_grad(set_grad_enabled):
    """Results computed inside do not require grad and record no graph."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    def __init__(self) -> None:
        super().__init__(True)


@contextlib.contextmanager
def memory_budget(max_bytes: int) -> Iterator[None]:
    """Refuse any op inside whose results would push the bytes allocated past `max_bytes`.

    Ops check before they allocate (their output shape is inferred first), so an oversized request
    fails fast instead of exhausting the machine.
    """
    previous = (_state.budget_left, _state.budget_total)
    _state.budget_left, _state.budget_total = int(max_bytes), int(max_bytes)
    try:
        yield
    finally:
        _state.budget_left, _state.budget_total = previous


def charge(nbytes: int, what: str | Callable[[], str]) -> None:
    """Account for an allocation of `nbytes` made for `what` (a label, or a function making one only
    when needed); raise if over the budget in force."""
    left = _state.budget_left
    if left is None:
        return
    if nbytes > left:
        label = what() if callable(what) else what
        raise BudgetExceededError(
            f"{label} would allocate {nbytes:,} bytes, but only {left:,} of this request's memory "
            f"budget of {_state.budget_total:,} bytes are left; send smaller tensors or raise the "
            "server's budget"
        )
    _state.budget_left = left - nbytes
