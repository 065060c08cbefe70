"""How failures leave the server: one status code, one message naming what was wrong, two trailers.

- RequestError: a mistake the server itself detects (unknown id, malformed tensor, over a cap).
- An engine error (gradwire.rules.errors.GradwireError) carries its own `.status` and `.torch_type`,
  so this module needs no table of its own; `with_node` attaches the node id it concerns.
- Anything else is a bug: INTERNAL with no details sent, and the stack trace logged here.

Trailing metadata: "gradwire-error-type" is the builtin exception PyTorch raises for the same mistake,
"gradwire-node-id" the node concerned, when there is one.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from typing import Any, Callable, Iterator

import grpc

from gradwire.rules.errors import GradwireError

from .echo import bounded_message, trailer_value

log = logging.getLogger("gradwire.server")

ERROR_TYPE_KEY = "gradwire-error-type"
NODE_ID_KEY = "gradwire-node-id"


class RequestError(Exception):
    """A request the server refuses; `code` is the gRPC status it answers with."""

    def __init__(self, code: grpc.StatusCode, message: str, *, node_id: str = "", error_type: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.node_id = node_id
        self.error_type = error_type


def invalid(message: str, *, node_id: str = "", error_type: str = "ValueError") -> RequestError:
    return RequestError(grpc.StatusCode.INVALID_ARGUMENT, message, node_id=node_id, error_type=error_type)


def exhausted(message: str, *, node_id: str = "") -> RequestError:
    return RequestError(grpc.StatusCode.RESOURCE_EXHAUSTED, message, node_id=node_id, error_type="RuntimeError")


def not_found(message: str) -> RequestError:
    return RequestError(grpc.StatusCode.NOT_FOUND, message, error_type="KeyError")


def from_engine(error: GradwireError, *, node_id: str = "", context: str = "") -> RequestError:
    """The RequestError for an engine error: its status, its torch type, prefixed with where it happened."""
    code = getattr(grpc.StatusCode, error.status, grpc.StatusCode.INVALID_ARGUMENT)
    message = f"{context}: {error}" if context else str(error)
    return RequestError(code, message, node_id=node_id, error_type=error.torch_type)


@contextlib.contextmanager
def with_node(node_id: str, context: str) -> Iterator[None]:
    """Re-raises an engine error inside the block as a RequestError naming `node_id`."""
    try:
        yield
    except GradwireError as error:
        raise from_engine(error, node_id=node_id, context=context) from error
    except NUMPY_VALUE_ERRORS as error:
        raise from_numpy_error(error, node_id=node_id, context=context) from error


def from_numpy_error(error: Exception, *, node_id: str = "", context: str = "") -> RequestError:
    """A caller's value numpy cannot represent (a Python number out of an integer dtype's range, a shape
    numpy cannot hold): torch's RuntimeError, INVALID_ARGUMENT."""
    if isinstance(error, OverflowError):
        detail = f"value cannot be converted to the tensor's dtype without overflow ({error})"
    else:
        detail = str(error)
    error_type = "IndexError" if isinstance(error, IndexError) else "RuntimeError"
    return invalid(f"{context}: {detail}" if context else detail, node_id=node_id, error_type=error_type)


# Errors numpy raises for caller values (not server bugs: a number out of a dtype's range, a result of
# rank 65, a shape numpy cannot hold): they come back INVALID_ARGUMENT.
NUMPY_VALUE_ERRORS = (OverflowError, ValueError, IndexError)


def _abort(context: grpc.ServicerContext, error: RequestError) -> None:
    trailers = []
    if error.error_type:
        trailers.append((ERROR_TYPE_KEY, trailer_value(error.error_type)))
    if error.node_id:
        trailers.append((NODE_ID_KEY, trailer_value(error.node_id)))
    context.set_trailing_metadata(tuple(trailers))
    context.abort(error.code, bounded_message(error.message))


def _as_request_error(error: Exception, method: str) -> RequestError:
    if isinstance(error, RequestError):
        return error
    if isinstance(error, GradwireError):
        return from_engine(error)
    if isinstance(error, MemoryError):
        log.error("%s: out of memory", method)
        return exhausted("the server ran out of memory for this request")
    log.exception("%s: unexpected error", method)
    return RequestError(grpc.StatusCode.INTERNAL, f"internal error in {method} (logged on the server)")


def rpc_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    """Decorates a unary or stream-request servicer method: failures become status codes."""

    @functools.wraps(method)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return method(self, request, context)
        except Exception as error:  # noqa: BLE001 - every failure leaves as a status code
            failure = _as_request_error(error, method.__name__)
        _abort(context, failure)

    return wrapper


def rpc_stream_errors(method: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """Like rpc_errors, for a servicer method that yields a response stream."""

    @functools.wraps(method)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            yield from method(self, request, context)
            return
        except Exception as error:  # noqa: BLE001
            failure = _as_request_error(error, method.__name__)
        _abort(context, failure)

    return wrapper
