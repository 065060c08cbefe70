"""gRPC failures -> the exceptions PyTorch raises for the same mistakes.

The server names the builtin class in the trailing metadata "gradwire-error-type" (RuntimeError,
TypeError, ValueError, IndexError) and the node concerned in "gradwire-node-id"; the SDK raises that
class with the server's message, so `except RuntimeError` works as it does with torch. Transport
problems get classes of their own: an unreachable server is a ConnectionError naming the address, an
expired or unknown session a SessionLostError, a deadline a TimeoutError.
"""

from __future__ import annotations

from typing import Any

import grpc

from gradwire.rules.errors import GradwireError

ERROR_TYPE_KEY = "gradwire-error-type"
NODE_ID_KEY = "gradwire-node-id"

# The only classes the SDK will raise by name: nothing the server sends is looked up or imported.
TORCH_ERROR_TYPES: dict[str, type[Exception]] = {
    "RuntimeError": RuntimeError,
    "TypeError": TypeError,
    "ValueError": ValueError,
    "IndexError": IndexError,
    "NotImplementedError": NotImplementedError,
}

# When a (non-gradwire) server sends no error type, the status code decides.
_DEFAULT_TYPES: dict[grpc.StatusCode, type[Exception]] = {
    grpc.StatusCode.INVALID_ARGUMENT: ValueError,
    grpc.StatusCode.FAILED_PRECONDITION: RuntimeError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: RuntimeError,
    grpc.StatusCode.OUT_OF_RANGE: IndexError,
}


class ServerUnavailableError(ConnectionError):
    """The server at `address` could not be reached (down, wrong address, or shutting down)."""

    def __init__(self, address: str, details: str) -> None:
        super().__init__(f"gradwire server at {address} is unavailable: {details}")
        self.address = address


class SessionLostError(RuntimeError):
    """The server no longer has the session that held these tensors (expired or server restarted)."""

    def __init__(self, session_id: str, address: str, details: str = "") -> None:
        message = (
            f"gradwire session {session_id} on {address} was lost (expired or server restarted); "
            "the tensors made in it are gone. Tensors created from now on go to a new session."
        )
        super().__init__(f"{message} Server said: {details}" if details else message)
        self.session_id = session_id
        self.address = address


class GradwireRpcError(RuntimeError):
    """A failure with no torch equivalent (UNAUTHENTICATED, INTERNAL, ...), with its status code."""


def torch_error(error: Exception) -> Exception:
    """A rules error raised in the SDK (a GradwireError) as the exact builtin class torch raises, with
    the status the server would have answered with, as errors from the server come."""
    result = TORCH_ERROR_TYPES.get(getattr(error, "torch_type", ""), RuntimeError)(str(error))
    result.status = getattr(grpc.StatusCode, getattr(error, "status", ""), None)  # type: ignore[attr-defined]
    result.node_id = ""  # type: ignore[attr-defined]
    return result


def checked(rule: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a rule of gradwire.rules here, its error raised as torch's builtin class (torch_error)."""
    try:
        return rule(*args, **kwargs)
    except GradwireError as error:
        raise torch_error(error) from None


def status_of(error: grpc.RpcError) -> grpc.StatusCode | None:
    code = getattr(error, "code", None)
    return code() if callable(code) else None


def _details(error: grpc.RpcError) -> str:
    details = getattr(error, "details", None)
    return (details() if callable(details) else None) or str(error)


def _trailers(error: grpc.RpcError) -> dict[str, str]:
    trailing = getattr(error, "trailing_metadata", None)
    pairs = (trailing() if callable(trailing) else None) or ()
    return {key: value for key, value in pairs if isinstance(value, str)}


def node_id_of(error: BaseException) -> str:
    """The graph id an error concerns, when the server named one."""
    return getattr(error, "node_id", "") or ""


def translate(error: grpc.RpcError, *, address: str, session_id: str | None = None,
              timeout: float | None = None) -> Exception:
    """The exception to raise for a failed call (the caller raises it `from error`)."""
    code = status_of(error)
    details = _details(error)
    trailers = _trailers(error)
    if code == grpc.StatusCode.UNAVAILABLE:
        return ServerUnavailableError(address, details)
    if code == grpc.StatusCode.NOT_FOUND and session_id:
        return SessionLostError(session_id, address, details)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return TimeoutError(f"gradwire call to {address} exceeded its deadline ({timeout} s): {details}")
    error_class = TORCH_ERROR_TYPES.get(trailers.get(ERROR_TYPE_KEY, "")) or _DEFAULT_TYPES.get(code)  # type: ignore[arg-type]
    if error_class is None:
        result: Exception = GradwireRpcError(f"{code.name if code else 'UNKNOWN'}: {details}")
    else:
        result = error_class(details)
    # Extra facts ride on the instance so the class stays exactly torch's.
    result.status = code  # type: ignore[attr-defined]
    result.node_id = trailers.get(NODE_ID_KEY, "")  # type: ignore[attr-defined]
    return result
