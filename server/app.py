"""Assembling a server: the gradwire service, grpc.health.v1, reflection, and the expiry reaper.

`create_server(address) -> (server, port)` binds (port 0 picks a free one), starts and returns a
GradwireServer; `stop(grace)` turns health to NOT_SERVING, refuses new calls and gives in-flight ones
`grace` seconds to finish.
"""

from __future__ import annotations

import logging
import threading
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2
from grpc_reflection.v1alpha.reflection import SERVICE_NAME as REFLECTION_SERVICE

from gradwire.v1 import gradwire_pb2 as pb

from . import wire
from .budget import RetainedBytes
from .config import MiB, ServerConfig
from .service import GradwireServicer
from .sessions import SessionStore
from .streams import StreamGate
from .uploads import UploadStore

log = logging.getLogger("gradwire.server")

class AddressInUseError(OSError):
    """The server could not bind its address (most often: another process listens there)."""


SERVICE_NAME = pb.DESCRIPTOR.services_by_name["GradwireService"].full_name


class GradwireServer:
    """A running gradwire server: the grpc.Server plus its stores, health and reaper."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        retained = RetainedBytes(config.max_session_bytes)
        self.sessions = SessionStore(config.session_ttl, config.max_sessions, retained,
                                     max_ttl=config.max_session_ttl, max_per_caller=config.max_sessions_per_caller)
        # Streams never take more than half the workers, so unary calls always find one.
        self.streams = StreamGate(min(config.max_streams, max(1, config.workers // 2)),
                                  config.max_streams_per_caller, config.stream_idle_seconds)
        self.uploads = UploadStore(config.session_ttl, config.max_request_bytes, retained)
        options = [
            ("grpc.max_send_message_length", config.max_message_bytes),
            # A request cannot use more than its budget (plus framing): refuse larger ones at the
            # transport, before their bytes are read (a huge message holds up gRPC for everyone).
            ("grpc.max_receive_message_length", min(config.max_message_bytes, config.max_request_bytes + MiB)),
            ("grpc.so_reuseport", 0),  # a second server on a busy port must fail, not share it
        ]
        self.grpc_server = grpc.server(futures.ThreadPoolExecutor(max_workers=config.workers,
                                                                  thread_name_prefix="gradwire"),
                                       options=options)
        self._health_pool = futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="gradwire-health")
        self.servicer = GradwireServicer(config, self.sessions, self.uploads, self.streams)
        self.grpc_server.add_generic_rpc_handlers((wire.gradwire_handler(self.servicer),))
        self.health = health.HealthServicer()
        self.grpc_server.add_generic_rpc_handlers((
            wire.health_handler(self.health, self._health_pool, self.streams),
            wire.reflection_handler((SERVICE_NAME, health.SERVICE_NAME, REFLECTION_SERVICE), self.streams),
        ))
        try:
            self.port = self.grpc_server.add_insecure_port(config.address)
        except RuntimeError as error:  # grpcio raises when the address cannot be bound
            raise AddressInUseError(f"cannot listen on {config.address}: {error}; is another server "
                                    "already using this port?") from None
        if self.port == 0:
            raise AddressInUseError(f"cannot listen on {config.address}; is another server already using "
                                    "this port?")
        self._stopping = threading.Event()
        self._reaper = threading.Thread(target=self._reap, name="gradwire-reaper", daemon=True)
        self._started = False

    def start(self) -> "GradwireServer":
        """Starts serving (a second call does nothing)."""
        if not self._started:
            self._started = True
            self.grpc_server.start()
            self._reaper.start()
            for service in ("", SERVICE_NAME):
                self.health.set(service, health_pb2.HealthCheckResponse.SERVING)
        return self

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


def create_server(address: str | None = None, config: ServerConfig | None = None) -> tuple[GradwireServer, int]:
    """A started server on `address` (default: config's); returns it and the port it bound."""
    config = config or ServerConfig()
    if address is not None:
        import dataclasses

        config = dataclasses.replace(config, address=address)
    server = GradwireServer(config)
    server.start()
    return server, server.port
