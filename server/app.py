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
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from gradwire.v1 import gradwire_pb2 as pb
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc

from .budget import RetainedBytes
from .config import ServerConfig
from .draining import DrainInterceptor
from .replica import ReplicaHeaderInterceptor, default_replica_id
from .service import GradwireServicer
from .sessions import SessionStore
from .uploads import UploadStore

log = logging.getLogger("gradwire.server")

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["GradwireService"].full_name


class GradwireServer:
    """A running gradwire server: the grpc.Server plus its stores, health and reaper."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        retained = RetainedBytes(config.max_session_bytes)
        self.sessions = SessionStore(config.session_ttl, config.max_sessions, retained)
        self.uploads = UploadStore(config.session_ttl, config.max_request_bytes, retained)
        options = [
            ("grpc.max_send_message_length", config.max_message_bytes),
            ("grpc.max_receive_message_length", config.max_message_bytes),
        ]
        self.replica_header = ReplicaHeaderInterceptor(config.replica_id)
        self.drain_guard = DrainInterceptor()
        self.grpc_server = grpc.server(futures.ThreadPoolExecutor(max_workers=config.workers,
                                                                  thread_name_prefix="gradwire"),
                                       options=options, interceptors=[self.replica_header, self.drain_guard])
        pb_grpc.add_GradwireServiceServicer_to_server(
            GradwireServicer(config, self.sessions, self.uploads), self.grpc_server)
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.grpc_server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), self.grpc_server)
        self.port = self.grpc_server.add_insecure_port(config.address)
        if self.port == 0:
            raise OSError(f"cannot listen on {config.address}")
        self.replica_header.replica_id = config.replica_id or default_replica_id(self.port)
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
            self.sessions.close_all()
            self.uploads.clear()

        threading.Thread(target=release_when_done, name="gradwire-release", daemon=True).start()
        return done

    def wait_for_termination(self, timeout: float | None = None) -> bool:
        return self.grpc_server.wait_for_termination(timeout)

    def _reap(self) -> None:
        interval = max(0.05, min(self.config.session_ttl / 4, 5.0))
        while not self._stopping.wait(interval):
            expired = self.sessions.expire()
            stale = self.uploads.expire()
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
