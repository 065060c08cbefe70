"""Assembling a server: the gradwire service, grpc.health.v1, reflection, and the expiry reaper; TLS,
the interceptors (auth, metrics, access log, tracing) and the plaintext health-only port when configured.

`create_server(address) -> (server, port)` binds (port 0 picks a free one), starts and returns a
GradwireServer; `stop(grace)` turns health to NOT_SERVING, refuses new calls and gives in-flight ones
`grace` seconds to finish.
"""

from __future__ import annotations

import logging
import threading
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.reflection import SERVICE_NAME as REFLECTION_SERVICE

from gradwire.v1 import gradwire_pb2 as pb

from . import wire
from .budget import RetainedBytes
from .config import MiB, ServerConfig
from .interceptors.access_log import AccessLog, access_log_enabled
from .interceptors.auth import Authenticator
from .interceptors.metrics import Metrics
from .interceptors.observe import Observer, Observers, ObservingInterceptor
from .quotas import PrincipalQuotas
from .draining import DrainInterceptor
from .replica import ReplicaHeaderInterceptor, default_replica_id
from .service import GradwireServicer
from .sessions import SessionStore
from .streams import StreamGate
from .tls import ReloadingCertificates
from .tokens import TokenTable
from .uploads import UploadStore

log = logging.getLogger("gradwire.server")

class AddressInUseError(OSError):
    """The server could not bind its address (most often: another process listens there)."""


SERVICE_NAME = pb.DESCRIPTOR.services_by_name["GradwireService"].full_name


class GradwireServer:
    """A running gradwire server: the grpc.Server plus its stores, health and reaper."""

    def __init__(self, config: ServerConfig, *, tracer_provider: object = None) -> None:
        self.config = config
        self.tracer_provider = tracer_provider
        retained = RetainedBytes(config.max_session_bytes)
        self.sessions = SessionStore(config.session_ttl, config.max_sessions, retained,
                                     max_ttl=config.max_session_ttl, max_per_caller=config.max_sessions_per_caller,
                                     quotas=PrincipalQuotas(config.max_sessions_per_principal,
                                                            config.max_bytes_per_principal))
        self.tokens = TokenTable(config.auth_tokens) if config.auth_tokens else None
        self.certificates = (ReloadingCertificates(config.tls_cert, config.tls_key, config.tls_client_ca)
                             if config.tls_cert else None)
        # Streams never take more than half the workers, so unary calls always find one.
        self.streams = StreamGate(min(config.max_streams, max(1, config.workers // 2)),
                                  config.max_streams_per_caller, config.stream_idle_seconds)
        self.uploads = UploadStore(config.session_ttl, config.max_request_bytes, retained)
        self.metrics = Metrics(lambda: len(self.sessions), lambda: retained.used)
        options = [
            ("grpc.max_send_message_length", config.max_message_bytes),
            # A request cannot use more than its budget (plus framing): refuse larger ones at the
            # transport, before their bytes are read (a huge message holds up gRPC for everyone).
            ("grpc.max_receive_message_length", min(config.max_message_bytes, config.max_request_bytes + MiB)),
            ("grpc.so_reuseport", 0),  # a second server on a busy port must fail, not share it
        ]
        self.replica_header = ReplicaHeaderInterceptor(config.replica_id)
        self.drain_guard = DrainInterceptor()
        self.grpc_server = grpc.server(futures.ThreadPoolExecutor(max_workers=config.workers,
                                                                  thread_name_prefix="gradwire"),
                                       options=options,
                                       interceptors=[self.replica_header, self.drain_guard, *self._interceptors()])
        self._health_pool = futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="gradwire-health")
        self.servicer = GradwireServicer(config, self.sessions, self.uploads, self.streams,
                                         features=self.features())
        self.grpc_server.add_generic_rpc_handlers((wire.gradwire_handler(self.servicer),))
        self.health = health.HealthServicer()
        self.grpc_server.add_generic_rpc_handlers((
            wire.health_handler(self.health, self._health_pool, self.streams),
            wire.reflection_handler((SERVICE_NAME, health.SERVICE_NAME, REFLECTION_SERVICE), self.streams),
        ))
        try:
            if self.certificates is not None:
                self.port = self.grpc_server.add_secure_port(config.address, self.certificates.credentials())
            else:
                self.port = self.grpc_server.add_insecure_port(config.address)
        except RuntimeError as error:  # grpcio raises when the address cannot be bound
            raise AddressInUseError(f"cannot listen on {config.address}: {error}; is another server "
                                    "already using this port?") from None
        if self.port == 0:
            raise AddressInUseError(f"cannot listen on {config.address}; is another server already using "
                                    "this port?")
        self.health_server, self.health_port = self._health_only_server()
        self.metrics_server, self.metrics_port = (self.metrics.serve(config.metrics_address)
                                                  if config.metrics_address else (None, 0))
        self.replica_header.replica_id = config.replica_id or default_replica_id(self.port)
        self._stopping = threading.Event()
        self._reaper = threading.Thread(target=self._reap, name="gradwire-reaper", daemon=True)
        self._started = False

    def _interceptors(self) -> list[grpc.ServerInterceptor]:
        """One interceptor running the configured observers, outermost first: what observes calls
        (traces, metrics, the access log) wraps what may refuse them (auth). Only what is switched on
        runs: the access log when on and its logger is enabled for INFO at start, auth with tokens or mTLS."""
        config = self.config
        observers: list[Observer] = []
        if config.tracing != "off":
            from .interceptors.tracing import Tracing, console_provider

            provider = self.tracer_provider or (console_provider() if config.tracing == "console" else None)
            observers.append(Tracing(provider))
        if config.metrics_address:
            observers.append(self.metrics)
        if config.access_log == "on" and access_log_enabled():
            observers.append(AccessLog())
        if self.tokens is not None or config.tls_client_ca:
            observers.append(Authenticator(self.tokens, bool(config.tls_client_ca)))
        return [ObservingInterceptor(Observers(observers))] if observers else []

    def features(self) -> list[str]:
        """What GetServerInfo reports as enabled."""
        config = self.config
        enabled = {"sessions": True, "streaming": True, "tls": bool(config.tls_cert),
                   "mtls": bool(config.tls_client_ca), "auth_tokens": bool(config.auth_tokens),
                   "metrics": bool(config.metrics_address), "tracing": config.tracing != "off",
                   "health_port": bool(config.health_address)}
        return sorted(name for name, on in enabled.items() if on)

    def _health_only_server(self) -> tuple[grpc.Server | None, int]:
        """A plaintext grpc.health.v1-only port for probes that cannot speak TLS (Kubernetes' grpc probe)."""
        if not self.config.health_address:
            return None, 0
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="gradwire-health"))
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        port = server.add_insecure_port(self.config.health_address)
        if port == 0:
            raise OSError(f"cannot listen on {self.config.health_address}")
        return server, port

    def reload(self) -> None:
        """SIGHUP: re-read the tokens file now and the TLS files at the next handshake."""
        if self.tokens is not None:
            self.tokens.reload()
        if self.certificates is not None:
            self.certificates.reload()

    def start(self) -> "GradwireServer":
        """Starts serving (a second call does nothing)."""
        if not self._started:
            self._started = True
            self.grpc_server.start()
            if self.health_server is not None:
                self.health_server.start()
            self._reaper.start()
            for service in ("", SERVICE_NAME):
                self.health.set(service, health_pb2.HealthCheckResponse.SERVING)
        return self

    def drain(self, seconds: float) -> None:
        """Health NOT_SERVING and no new sessions for `seconds` (calls of held sessions still served),
        so a health-checking proxy takes this replica out of its ring before the stop."""
        self.health.enter_graceful_shutdown()
        self.drain_guard.draining.set()
        self._stopping.wait(seconds)

    def stop(self, grace: float | None = None) -> threading.Event:
        """Health NOT_SERVING, no new calls, in-flight calls get `grace` seconds; returns a done event."""
        # Refuse new calls first, so a client that sees NOT_SERVING on a Watch stream is never let in.
        done = self.grpc_server.stop(grace)
        self.health.enter_graceful_shutdown()
        self._stopping.set()

        def release_when_done() -> None:
            done.wait()
            self.streams.close()
            self._health_pool.shutdown(wait=False)
            if self.health_server is not None:
                self.health_server.stop(0)
            if self.metrics_server is not None:
                self.metrics_server.shutdown()
            self.sessions.close_all()
            self.uploads.clear()
            self.servicer.prepared.clear()

        threading.Thread(target=release_when_done, name="gradwire-release", daemon=True).start()
        return done

    def wait_for_termination(self, timeout: float | None = None) -> bool:
        return self.grpc_server.wait_for_termination(timeout)

    def _reap(self) -> None:
        interval = max(0.05, min(self.config.session_ttl / 4, 5.0))
        while not self._stopping.wait(interval):
            expired = self.sessions.expire()
            stale = self.uploads.expire()
            self.servicer.prepared.expire()
            if expired or stale:
                log.info("expired %d idle session(s) and %d unused upload(s)", expired, stale)


def create_server(address: str | None = None, config: ServerConfig | None = None, *,
                  tracer_provider: object = None) -> tuple[GradwireServer, int]:
    """A started server on `address` (default: config's); returns it and the port it bound.

    tracer_provider: an OpenTelemetry TracerProvider for --tracing on (default: the global one)."""
    config = config or ServerConfig()
    if address is not None:
        import dataclasses

        config = dataclasses.replace(config, address=address)
    server = GradwireServer(config, tracer_provider=tracer_provider)
    server.start()
    return server, server.port
