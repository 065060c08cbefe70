"""W3C trace context for every call, when OpenTelemetry is installed on the caller's side.

With the `otel` extra (pip install 'gradwire[otel]') the SDK sends the current span's `traceparent`
(and `tracestate`) as call metadata, so the server's span for the call joins the caller's trace.
Without OpenTelemetry this adds nothing and imports nothing.
"""

from __future__ import annotations

import functools
import importlib.util
from typing import Any


@functools.lru_cache(maxsize=1)
def _propagate() -> Any:
    if importlib.util.find_spec("opentelemetry") is None:
        return None
    try:
        from opentelemetry import propagate
    except ImportError:
        return None
    return propagate


def trace_metadata() -> tuple[tuple[str, str], ...]:
    """("traceparent", ...) pairs for the current OpenTelemetry context; () when there is none."""
    propagate = _propagate()
    if propagate is None:
        return ()
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return tuple(carrier.items())
