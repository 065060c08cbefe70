"""The parsed request of a call, for the interceptors that describe calls (access log, traces).

wire.py parses request bytes itself (so that bad bytes get INVALID_ARGUMENT), so the interceptors around
it see bytes; the handler records the message here, keyed weakly by the call's context.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

_requests: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def remember(context: Any, request: Any) -> None:
    with _lock:
        _requests[context] = request


def request_of(context: Any, default: Any = None) -> Any:
    """The parsed request of the call `context` belongs to; `default` if none was recorded."""
    with _lock:
        return _requests.get(context, default)
