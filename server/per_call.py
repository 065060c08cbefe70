"""Values kept per gRPC call, keyed weakly by the call's context (gone when the call is).

The auth interceptor records each call's principal here, wire.py each unary call's parsed request (the
interceptors around it see its bytes), and the servicer and the observers read them back.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any


class PerCall:
    """One kind of value per call."""

    def __init__(self) -> None:
        self._values: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def remember(self, context: Any, value: Any) -> None:
        with self._lock:
            self._values[context] = value

    def get(self, context: Any, default: Any = None) -> Any:
        with self._lock:
            return self._values.get(context, default)


# The parsed request of a unary call (read by the access log and traces).
requests = PerCall()
