"""How the `gradwire` command reports a failure: the gRPC status, and an exit code per class of failure.

| exit | class | statuses |
|---|---|---|
| 0 | success | OK |
| 1 | not serving (`gradwire health`) | health answered, but not SERVING |
| 2 | usage | bad flags (argparse) |
| 3 | unreachable | UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED |
| 4 | not authenticated | UNAUTHENTICATED, PERMISSION_DENIED |
| 5 | request refused | INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND, ALREADY_EXISTS, OUT_OF_RANGE |
| 6 | over a budget | RESOURCE_EXHAUSTED |
| 7 | server error | INTERNAL, UNKNOWN, UNIMPLEMENTED, DATA_LOSS, ABORTED |
| 8 | local input | an unreadable or malformed request file, CA or key (nothing was sent) |
"""

from __future__ import annotations

import grpc

OK, NOT_SERVING, USAGE, UNREACHABLE, UNAUTHENTICATED, REFUSED, EXHAUSTED, SERVER_ERROR, LOCAL_INPUT = range(9)

_BY_STATUS = {
    **dict.fromkeys(("UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED"), UNREACHABLE),
    **dict.fromkeys(("UNAUTHENTICATED", "PERMISSION_DENIED"), UNAUTHENTICATED),
    **dict.fromkeys(("INVALID_ARGUMENT", "FAILED_PRECONDITION", "NOT_FOUND", "ALREADY_EXISTS", "OUT_OF_RANGE"),
                    REFUSED),
    "RESOURCE_EXHAUSTED": EXHAUSTED,
}


def status_name(error: BaseException) -> str:
    """The gRPC status behind an SDK exception ("" when the failure was local)."""
    for candidate in (error, error.__cause__):
        status = getattr(candidate, "status", None)
        if isinstance(status, grpc.StatusCode):
            return status.name
        code = getattr(candidate, "code", None)
        if isinstance(candidate, grpc.RpcError) and callable(code):
            return code().name
    return ""


def exit_code(error: BaseException) -> int:
    name = status_name(error)
    if not name:
        return UNREACHABLE if isinstance(error, (ConnectionError, TimeoutError)) else LOCAL_INPUT
    return _BY_STATUS.get(name, SERVER_ERROR)


def describe(error: BaseException) -> str:
    """'FAILED_PRECONDITION RuntimeError: message' (the status first, when there is one)."""
    name = status_name(error)
    message = str(error)
    if name and message.startswith(f"{name}: "):  # GradwireRpcError already leads with it
        message = message[len(name) + 2:]
    return f"{name + ' ' if name else ''}{type(error).__name__}: {message}"
