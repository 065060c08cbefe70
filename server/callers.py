"""Who a call comes from, for per-caller caps (sessions, streams).

One function so that keying by an authenticated principal instead of the network peer is a one-line change.
"""

from __future__ import annotations

import grpc


def caller_of(context: grpc.ServicerContext) -> str:
    """The caller of a call: today its peer's address without the port ("ipv4:10.0.0.7", "unix:")."""
    peer = context.peer() or ""
    kind, _, address = peer.partition(":")
    if kind in ("ipv4", "ipv6"):
        host = address.rsplit(":", 1)[0]  # "[::1]:5000" -> "[::1]"
        return f"{kind}:{host}"
    return peer
