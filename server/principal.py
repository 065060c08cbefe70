"""Who is calling: the principal the auth interceptor established for a call, for the servicer to read.

    principal_of(context) -> "alice"      # a token's or a client certificate's principal
                                          # "anonymous" when the server requires no authentication

Sessions belong to the principal that created them; per-principal quotas are keyed by it.
"""

from __future__ import annotations

from typing import Any

from .per_call import PerCall

ANONYMOUS = "anonymous"

_principals = PerCall()


def remember(context: Any, principal: str) -> None:
    """Records the principal of the call `context` belongs to (done once, by the auth interceptor)."""
    _principals.remember(context, principal)


def principal_of(context: Any) -> str:
    """The principal of a call; ANONYMOUS when no authentication is configured."""
    return _principals.get(context, ANONYMOUS)
