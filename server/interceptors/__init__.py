"""gRPC server interceptors, one concern per module, each an `observe.Observer`:

- auth: bearer tokens and client certificates -> the call's principal (UNAUTHENTICATED otherwise)
- metrics: Prometheus counters, histograms and gauges
- access_log: one log line per call
- tracing: an OpenTelemetry span per call (needs the `otel` extra)

`observe.ObservingInterceptor` runs the ones a server switches on as one interceptor (app.py picks
them): tracing outermost, then metrics and the access log (so they see calls that auth refuses), auth
innermost.
"""
