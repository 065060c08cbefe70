"""The access log: one line per call on the "gradwire.access" logger, refused calls included.

Fields: method, code, duration_ms, request_bytes, response_bytes, principal, peer, session_id, and
node_id and error (the status details) on error. Never tensor data, never a token (the authorization metadata is not read
here at all). The line's format, text or JSON, is the server's log format (server/logs.py). The
server adds it when the "gradwire.access" logger is enabled for INFO as it starts (`--log-level`) and
`--access-log` is on (the default).
"""

from __future__ import annotations

import logging

import grpc

from ..principal import principal_of
from .observe import Call, Observer

log = logging.getLogger("gradwire.access")
SESSION_ID_KEY = "gradwire-session-id"
NODE_ID_KEY = "gradwire-node-id"


def _session_id(call: Call) -> str:
    for message in (call.message, call.response):
        session_id = getattr(message, "session_id", "")
        if isinstance(session_id, str) and session_id:
            return session_id
    return call.metadata.get(SESSION_ID_KEY, "")


def access_log_enabled() -> bool:
    """Whether access lines would be written (the server adds the access log only then)."""
    return log.isEnabledFor(logging.INFO)


class _Line:
    """The text form of an access line, made only when a handler formats it (in the writer thread)."""

    __slots__ = ("fields",)

    def __init__(self, fields: dict) -> None:
        self.fields = fields

    def __str__(self) -> str:
        return " ".join(f"{key}={value}" for key, value in self.fields.items() if key != "event" and value != "")


class AccessLog(Observer):
    def end(self, call: Call) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        fields = {
            "event": "access", "method": call.method.lstrip("/"), "code": call.code.name,
            "duration_ms": round(call.seconds * 1000, 3), "request_bytes": call.request_bytes,
            "response_bytes": call.response_bytes, "principal": principal_of(call.context),
            "peer": call.context.peer(), "session_id": _session_id(call),
        }
        if call.code != grpc.StatusCode.OK:
            trailers = dict(call.context.trailing_metadata() or ())
            details = call.context.details()
            fields["node_id"] = trailers.get(NODE_ID_KEY, "")
            fields["error"] = details.decode("utf-8", "replace") if isinstance(details, bytes) else details or ""
        log.info("%s", _Line(fields), extra={"fields": fields})
