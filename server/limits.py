"""Per-request limits: the memory budget, the work bound, and the client's deadline and cancellation.

`metered(config, context, leaf_bytes)` wraps everything a request runs in the engine: every op (and every
backward step) is charged to the memory budget and the work bound before it runs, and between them the
call's deadline and cancellation are checked, stopping with DEADLINE_EXCEEDED or CANCELLED. The caller
then commits nothing (graph.py rolls back in-place nodes).
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import grpc

import gradwire.engine as ge

from .budget import request_budget
from .config import ServerConfig
from .errors import RequestError


def interrupt_for(context: grpc.ServicerContext | None,
                  on_progress: Callable[[], None] | None = None) -> Callable[[], None] | None:
    """A check that raises once the call's deadline passed or the client cancelled it (and otherwise
    reports progress, which keeps the session the call holds from expiring)."""
    if context is None:
        return on_progress

    def check() -> None:
        if on_progress is not None:
            on_progress()
        if context.is_active():
            return
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            raise RequestError(grpc.StatusCode.DEADLINE_EXCEEDED,
                               "the call's deadline passed while it ran; nothing was committed",
                               error_type="RuntimeError")
        raise RequestError(grpc.StatusCode.CANCELLED, "the call was cancelled while it ran; nothing was committed",
                           error_type="RuntimeError")

    return check


@contextlib.contextmanager
def metered(config: ServerConfig, context: grpc.ServicerContext | None, leaf_bytes: int = 0,
            on_progress: Callable[[], None] | None = None) -> Iterator[None]:
    """The engine's budgets for one request (what its leaves leave of the memory budget); on_progress is
    called between ops."""
    interrupt = interrupt_for(context, on_progress)
    if interrupt is not None:
        interrupt()
    with request_budget(config.max_request_bytes, leaf_bytes), \
            ge.modes.work_budget(config.max_request_work, interrupt):
        yield
