"""Server TLS from PEM files, re-read without a restart when they change (or on SIGHUP).

gRPC asks `fetch()` for the certificate configuration at each new TLS handshake; it compares the
files' modification times and sizes with those last loaded and hands gRPC a new configuration only
when they changed (or `reload()` asked for it). A file caught half-written keeps the previous
certificates in use, logged, until it reads cleanly.
"""

from __future__ import annotations

import logging
import os
import threading

import grpc

log = logging.getLogger("gradwire.server")


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


class ReloadingCertificates:
    def __init__(self, cert: str, key: str, client_ca: str = "") -> None:
        self.paths = tuple(path for path in (cert, key, client_ca) if path)
        self.cert, self.key, self.client_ca = cert, key, client_ca
        self._lock = threading.Lock()
        self._forced = False
        self._stamp = self._stat()
        self.initial = self._configuration()

    def _stat(self) -> tuple:
        """What tells a changed file: modification time and size (stat follows the symlinks Kubernetes
        swaps when it updates a mounted Secret)."""
        stats = [os.stat(path) for path in self.paths]
        return tuple((stat.st_mtime_ns, stat.st_size) for stat in stats)

    def _configuration(self) -> grpc.ServerCertificateConfiguration:
        key, chain = _read(self.key), _read(self.cert)
        if b"PRIVATE KEY" not in key or b"CERTIFICATE" not in chain:
            raise ValueError(f"{self.cert} / {self.key}: not a PEM certificate chain and private key")
        roots = _read(self.client_ca) if self.client_ca else None
        return grpc.ssl_server_certificate_configuration([(key, chain)], root_certificates=roots)

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.dynamic_ssl_server_credentials(
            self.initial, self.fetch, require_client_authentication=bool(self.client_ca))

    def reload(self) -> None:
        """Makes the next handshake re-read the files (SIGHUP)."""
        with self._lock:
            self._forced = True

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        with self._lock:
            try:
                stamp = self._stat()
                if stamp == self._stamp and not self._forced:
                    return None
                configuration = self._configuration()
            except (OSError, ValueError) as error:
                log.error("TLS certificates not reloaded, the previous ones stay in use: %s", error)
                return None
            self._stamp, self._forced = stamp, False
        log.info("TLS certificates reloaded from %s", ", ".join(self.paths))
        return configuration
