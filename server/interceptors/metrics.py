"""Prometheus metrics of a server, in its own registry, served as text at /metrics on --metrics-address.

Per call (labels `service`, `method`, and `code` where it applies):
  gradwire_rpc_started_total, gradwire_rpc_handled_total{code}, gradwire_rpc_duration_seconds (histogram),
  gradwire_rpc_in_flight, gradwire_rpc_received_bytes_total, gradwire_rpc_sent_bytes_total,
  gradwire_budget_refusals_total (calls answered RESOURCE_EXHAUSTED)
Server-wide: gradwire_uploads_total (completed UploadTensor streams), gradwire_sessions_open,
  gradwire_retained_bytes (sessions and pending uploads), gradwire_build_info{version, contract, python}.
Labels never carry a principal, a token, a session id or tensor data.
"""

from __future__ import annotations

import platform
from typing import Callable

import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, start_http_server

from ..version import CONTRACT_VERSION, server_version
from .observe import Call, Observer

# From sub-millisecond unary calls to long streams of large tensors.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
CALL_LABELS = ("service", "method")


class Metrics(Observer):
    def __init__(self, sessions_open: Callable[[], int], retained_bytes: Callable[[], int]) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self._by_method: dict[tuple[str, str], tuple] = {}
        self.started = Counter("gradwire_rpc_started", "Calls started", CALL_LABELS, registry=registry)
        self.handled = Counter("gradwire_rpc_handled", "Calls finished, by status code",
                               (*CALL_LABELS, "code"), registry=registry)
        self.duration = Histogram("gradwire_rpc_duration_seconds", "Call duration, first message to status",
                                  CALL_LABELS, buckets=LATENCY_BUCKETS, registry=registry)
        self.in_flight = Gauge("gradwire_rpc_in_flight", "Calls in progress", CALL_LABELS, registry=registry)
        self.received = Counter("gradwire_rpc_received_bytes", "Serialized request message bytes",
                                CALL_LABELS, registry=registry)
        self.sent = Counter("gradwire_rpc_sent_bytes", "Serialized response message bytes",
                            CALL_LABELS, registry=registry)
        self.refusals = Counter("gradwire_budget_refusals", "Calls refused over a budget or cap (RESOURCE_EXHAUSTED)",
                                CALL_LABELS, registry=registry)
        self.uploads = Counter("gradwire_uploads", "Completed UploadTensor streams", registry=registry)
        Gauge("gradwire_sessions_open", "Live sessions", registry=registry).set_function(sessions_open)
        Gauge("gradwire_retained_bytes", "Bytes retained by sessions and pending uploads",
              registry=registry).set_function(retained_bytes)
        Info("gradwire_build", "The server's version", registry=registry).info(
            {"version": server_version(), "contract": CONTRACT_VERSION, "python": platform.python_version()})

    def _children(self, call: Call) -> tuple:
        """The per-method metric children, looked up once per method (labels() takes a lock each time)."""
        key = (call.service, call.name)
        children = self._by_method.get(key)
        if children is None:
            children = self._by_method[key] = tuple(
                metric.labels(*key) for metric in (self.started, self.in_flight, self.duration, self.received,
                                                   self.sent, self.refusals))
        return children

    def begin(self, call: Call) -> None:
        started, in_flight, *_ = self._children(call)
        started.inc()
        in_flight.inc()

    def end(self, call: Call) -> None:
        _, in_flight, duration, received, sent, refusals = self._children(call)
        in_flight.dec()
        self.handled.labels(call.service, call.name, call.code.name).inc()
        duration.observe(call.seconds)
        received.inc(call.request_bytes)
        sent.inc(call.response_bytes)
        if call.code == grpc.StatusCode.RESOURCE_EXHAUSTED:
            refusals.inc()
        if call.name == "UploadTensor" and call.code == grpc.StatusCode.OK:
            self.uploads.inc()

    def serve(self, address: str) -> tuple[object, int]:
        """Starts the /metrics HTTP endpoint on host:port; returns (http server, bound port)."""
        host, _, port = address.rpartition(":")
        if not port.isdigit():
            raise ValueError(f"metrics address {address!r} is not host:port")
        httpd, _thread = start_http_server(int(port), addr=host.strip("[]") or "0.0.0.0", registry=self.registry)
        return httpd, httpd.server_port
