"""gRPC server interceptors, one concern per module, all built on `observe`:

- auth: bearer tokens and client certificates -> the call's principal (UNAUTHENTICATED otherwise)
- metrics: Prometheus counters, histograms and gauges
- access_log: one log line per call
- tracing: an OpenTelemetry span per call (needs the `otel` extra)

`interceptors_for(config, ...)` returns them in the order they wrap a call: tracing outermost, then
metrics and the access log (so they see calls that auth refuses), auth innermost.
"""
