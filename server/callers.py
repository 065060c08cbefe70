"""Who a call comes from, for per-caller caps (sessions, streams).

The authenticated principal when the server checks tokens or client certificates (principal.py), else the
network peer without its port, so callers that share a principal share its caps.
"""

from __future__ import annotations

import grpc

from .principal import ANONYMOUS, principal_of


def caller_of(context: grpc.ServicerContext) -> str:
    """The caller of a call: "principal:alice", or the peer's address without the port ("ipv4:10.0.0.7")."""
    principal = principal_of(context)
    if principal != ANONYMOUS:
        return f"principal:{principal}"
    peer = context.peer() or ""
    kind, _, address = peer.partition(":")
    if kind in ("ipv4", "ipv6"):
        host = address.rsplit(":", 1)[0]  # "[::1]:5000" -> "[::1]"
        return f"{kind}:{host}"
    return peer
