"""A server interceptor that refuses new sessions while the replica drains (after SIGTERM).

During the drain the replica's health is NOT_SERVING, so a health-checking proxy stops routing to it;
calls that still arrive are served (one-shot Computes, and calls of the sessions it holds), while
CreateSession is refused with UNAVAILABLE, which the client retries and the proxy sends elsewhere.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import grpc

_CREATE_SESSION = "/gradwire.v1.GradwireService/CreateSession"


class DrainInterceptor(grpc.ServerInterceptor):
    """Refuses CreateSession once `draining` is set."""

    def __init__(self) -> None:
        self.draining = threading.Event()

    def intercept_service(self, continuation: Callable[[Any], Any], handler_call_details: Any) -> Any:
        if self.draining.is_set() and handler_call_details.method == _CREATE_SESSION:
            return _REFUSAL
        return continuation(handler_call_details)


def _refuse(_request: Any, context: grpc.ServicerContext) -> Any:
    context.abort(grpc.StatusCode.UNAVAILABLE,
                  "CreateSession: this replica is draining (shutting down); retry, a proxy sends it elsewhere")


_REFUSAL = grpc.unary_unary_rpc_method_handler(_refuse)
