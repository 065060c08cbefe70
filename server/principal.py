"""Who is calling: the principal the auth interceptor established for a call, for the servicer to read.

    principal_of(context) -> "alice"      # a token's or a client certificate's principal
                                          # "anonymous" when the server requires no authentication

Sessions belong to the principal that created them; per-principal quotas are keyed by it.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

ANONYMOUS = "anonymous"

_principals: "weakref.WeakKeyDictionary[Any, str]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def remember(context: Any, principal: str) -> None:
    """Records the principal of the call `context` belongs to (done once, by the auth interceptor)."""
    with _lock:
        _principals[context] = principal


def principal_of(context: Any) -> str:
    """The principal of a call; ANONYMOUS when no authentication is configured."""
    with _lock:
        return _principals.get(context, ANONYMOUS)
