"""Thread-local modes: grad mode (no_grad / enable_grad), the memory and work budgets, the interrupt check.

Both are per thread, like torch's grad mode, so a server thread's request never sees another's.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable, Iterator

from gradwire.rules.errors import BudgetExceededError, WorkExceededError


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.grad_enabled = True
        self.budget_left: int | None = None
        self.budget_total: int | None = None
        self.budget_low: int | None = None  # the least budget_left reached (the peak charge)
        self.work_left: int | None = None
        self.work_total: int | None = None
        # Called between ops and between backward nodes; raises to stop the request (deadline, cancel).
        self.interrupt: Callable[[], None] | None = None
        # The tracer of a function being compiled (engine/compiled.py): every op call goes through it.
        self.tracer: Any = None


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
    previous = (_state.budget_left, _state.budget_total, _state.budget_low)
    _state.budget_left = _state.budget_total = _state.budget_low = int(max_bytes)
    try:
        yield
    finally:
        _state.budget_left, _state.budget_total, _state.budget_low = previous


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
    _state.budget_left = left = left - nbytes
    if left < _state.budget_low:  # type: ignore[operator]
        _state.budget_low = left


@contextlib.contextmanager
def work_budget(max_elements: int | None, interrupt: Callable[[], None] | None = None) -> Iterator[None]:
    """Refuse any op (or backward step) inside that would touch more than `max_elements` elements in
    total, before it runs; call `interrupt` between ops and backward nodes (it raises to stop)."""
    previous = (_state.work_left, _state.work_total, _state.interrupt)
    _state.work_left = _state.work_total = None if max_elements is None else int(max_elements)
    _state.interrupt = interrupt
    try:
        yield
    finally:
        _state.work_left, _state.work_total, _state.interrupt = previous


def charge_work(elements: int, what: str | Callable[[], str]) -> None:
    """Account for `elements` elements read or written by one step; raise if past the work bound."""
    if _state.interrupt is not None:
        _state.interrupt()
    left = _state.work_left
    if left is None:
        return
    if elements > left:
        label = what() if callable(what) else what
        raise WorkExceededError(
            f"{label} would touch {elements:,} elements, but only {left:,} of this request's work bound "
            f"of {_state.work_total:,} elements are left; send smaller tensors or split the request"
        )
    _state.work_left = left - elements


def charged_so_far() -> tuple[int | None, int | None]:
    """(peak bytes charged, elements of work charged) in the budgets in force; None where there is none."""
    peak = None if _state.budget_total is None else _state.budget_total - _state.budget_low  # type: ignore[operator]
    work = None if _state.work_total is None else _state.work_total - _state.work_left  # type: ignore[operator]
    return peak, work


def refund(nbytes: int) -> None:
    """Give back part of a charge (an upper bound charged before an op ran that turned out smaller)."""
    if _state.budget_left is not None and nbytes > 0:
        _state.budget_left += nbytes
