"""Server settings: every command-line flag also reads a GRADWIRE_* environment variable.

Precedence: an explicit flag, then the environment, then the default. Byte sizes accept plain integers
or a binary suffix ("256MiB", "2GiB", "512K").
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
from typing import Callable, Mapping, Sequence

MiB = 1 << 20
GiB = 1 << 30

_SIZE_SUFFIXES = {"": 1, "k": 1 << 10, "kib": 1 << 10, "m": MiB, "mib": MiB, "g": GiB, "gib": GiB}


def parse_bytes(text: str) -> int:
    """'256MiB' -> 268435456; a plain integer is bytes."""
    match = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", text)
    if not match or match.group(2).lower() not in _SIZE_SUFFIXES:
        raise ValueError(f"not a byte size: {text!r} (use e.g. 1048576, 512KiB, 256MiB, 2GiB)")
    return int(match.group(1)) * _SIZE_SUFFIXES[match.group(2).lower()]


def _positive(parse: Callable[[str], int | float]) -> Callable[[str], int | float]:
    def parse_positive(text: str) -> int | float:
        value = parse(text)
        if value <= 0:
            raise ValueError(f"must be positive, got {text!r}")
        return value

    return parse_positive


def _non_negative(parse: Callable[[str], int | float]) -> Callable[[str], int | float]:
    def parse_non_negative(text: str) -> int | float:
        value = parse(text)
        if value < 0:
            raise ValueError(f"must be 0 (no cap) or more, got {text!r}")
        return value

    return parse_non_negative


def _choice(*choices: str) -> Callable[[str], str]:
    def parse_choice(text: str) -> str:
        if text.lower() not in choices:
            raise ValueError(f"{text!r} is not one of {', '.join(choices)}")
        return text.lower()

    return parse_choice


def _log_level(text: str) -> str:
    level = text.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ValueError(f"unknown log level {text!r}")
    return level


@dataclasses.dataclass(frozen=True)
class ServerConfig:
    """What a running server needs to know; defaults suit one machine with a few GiB to spare."""

    address: str = "127.0.0.1:50051"
    workers: int = 16
    # Idle seconds after which a session (and an unused upload) expires.
    session_ttl: float = 600.0
    max_sessions: int = 1024
    # Total bytes retained by all sessions and pending uploads together.
    max_session_bytes: int = 4 * GiB
    # Bytes one request may allocate (its leaves, and what its ops would allocate).
    max_request_bytes: int = 2 * GiB
    # gRPC send/receive limit; protobuf cannot encode 2 GiB or more.
    max_message_bytes: int = 256 * MiB
    # Elements one request may read and write in total (each op's operands and result; a matrix product's
    # multiply-adds count an eighth each, BLAS being that much faster per element), checked up front.
    max_request_work: int = 1 << 34
    # Longest idle TTL a caller may ask for; longer ones are clamped to it.
    max_session_ttl: float = 86400.0
    max_sessions_per_caller: int = 256
    # Seconds a streaming call may wait for its peer (to send the next chunk or read the last) before it ends.
    stream_idle_seconds: float = 30.0
    # Streaming calls (uploads and downloads) at once, in all and per caller; beyond, RESOURCE_EXHAUSTED.
    max_streams: int = 8
    max_streams_per_caller: int = 4
    # Seconds in-flight calls get to finish after SIGTERM/SIGINT.
    grace_seconds: float = 30.0
    log_level: str = "INFO"
    # Compiled plans cached by graph structure (0 entries: no cache), and prepared graphs (PrepareGraph).
    plan_cache_entries: int = 1024
    plan_cache_bytes: int = 64 * MiB
    max_prepared_graphs: int = 1024
    # Production settings (see server/security.py, server/interceptors/): empty or 0 means off.
    tls_cert: str = ""
    tls_key: str = ""
    tls_client_ca: str = ""
    auth_tokens: str = ""
    max_sessions_per_principal: int = 0
    max_bytes_per_principal: int = 0
    metrics_address: str = ""
    health_address: str = ""
    log_format: str = "text"
    access_log: str = "on"
    tracing: str = "off"
    # Sent as the "gradwire-replica" response header; empty: the host name plus the bound port.
    replica_id: str = ""
    # Seconds between health NOT_SERVING (new sessions refused) and the stop, so a proxy drains the replica.
    drain_seconds: float = 0.0

    def __post_init__(self) -> None:
        if not 0 < self.max_message_bytes < 2 * GiB:
            raise ValueError("max_message_bytes must be between 1 and 2 GiB - 1 (protobuf's cap)")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("TLS needs both --tls-cert and --tls-key")
        if self.tls_client_ca and not self.tls_cert:
            raise ValueError("--tls-client-ca (mTLS) needs --tls-cert and --tls-key")


# (field, flag, environment variable, parser, help)
_SETTINGS: tuple[tuple[str, str, str, Callable[[str], object], str], ...] = (
    ("address", "--address", "GRADWIRE_ADDRESS", str, "host:port to listen on (port 0: any free port)"),
    ("workers", "--workers", "GRADWIRE_WORKERS", _positive(int), "threads serving calls"),
    ("session_ttl", "--session-ttl", "GRADWIRE_SESSION_TTL", _positive(float), "idle seconds before a session expires"),
    ("max_sessions", "--max-sessions", "GRADWIRE_MAX_SESSIONS", _positive(int), "most live sessions"),
    ("max_session_bytes", "--max-session-bytes", "GRADWIRE_MAX_SESSION_BYTES", _positive(parse_bytes),
     "bytes all sessions and pending uploads may retain together"),
    ("max_request_bytes", "--max-request-bytes", "GRADWIRE_MAX_REQUEST_BYTES", _positive(parse_bytes),
     "bytes one request may allocate"),
    ("max_message_bytes", "--max-message-bytes", "GRADWIRE_MAX_MESSAGE_BYTES", _positive(parse_bytes),
     "largest gRPC message sent or received"),
    ("max_request_work", "--max-request-work", "GRADWIRE_MAX_REQUEST_WORK", _positive(int),
     "elements one request may read and write in total"),
    ("max_session_ttl", "--max-session-ttl", "GRADWIRE_MAX_SESSION_TTL", _positive(float),
     "longest session TTL a caller may ask for (longer ones are clamped)"),
    ("max_sessions_per_caller", "--max-sessions-per-caller", "GRADWIRE_MAX_SESSIONS_PER_CALLER", _positive(int),
     "most live sessions of one caller"),
    ("stream_idle_seconds", "--stream-idle-seconds", "GRADWIRE_STREAM_IDLE_SECONDS", _positive(float),
     "seconds a stream may wait for its peer before it is ended"),
    ("max_streams", "--max-streams", "GRADWIRE_MAX_STREAMS", _positive(int), "most streaming calls at once"),
    ("max_streams_per_caller", "--max-streams-per-caller", "GRADWIRE_MAX_STREAMS_PER_CALLER", _positive(int),
     "most streaming calls of one caller at once"),
    ("grace_seconds", "--grace-seconds", "GRADWIRE_GRACE_SECONDS", float, "seconds in-flight calls get on stop"),
    ("log_level", "--log-level", "GRADWIRE_LOG_LEVEL", _log_level, "DEBUG, INFO, WARNING or ERROR"),
    ("plan_cache_entries", "--plan-cache-entries", "GRADWIRE_PLAN_CACHE_ENTRIES", _non_negative(int),
     "compiled plans kept, by graph structure (0: none)"),
    ("plan_cache_bytes", "--plan-cache-bytes", "GRADWIRE_PLAN_CACHE_BYTES", _non_negative(parse_bytes),
     "bytes the compiled plans may take"),
    ("max_prepared_graphs", "--max-prepared-graphs", "GRADWIRE_MAX_PREPARED_GRAPHS", _positive(int),
     "most live prepared graphs (PrepareGraph)"),
    ("tls_cert", "--tls-cert", "GRADWIRE_TLS_CERT", str, "PEM certificate chain: serve TLS (re-read when it changes)"),
    ("tls_key", "--tls-key", "GRADWIRE_TLS_KEY", str, "PEM private key of --tls-cert"),
    ("tls_client_ca", "--tls-client-ca", "GRADWIRE_TLS_CLIENT_CA", str,
     "PEM CA bundle: require client certificates signed by it (mTLS)"),
    ("auth_tokens", "--auth-tokens", "GRADWIRE_AUTH_TOKENS", str,
     "file of 'principal:token' lines: require 'authorization: Bearer <token>' (re-read on SIGHUP)"),
    ("max_sessions_per_principal", "--max-sessions-per-principal", "GRADWIRE_MAX_SESSIONS_PER_PRINCIPAL",
     _non_negative(int), "most live sessions one principal may hold (0: no cap)"),
    ("max_bytes_per_principal", "--max-bytes-per-principal", "GRADWIRE_MAX_BYTES_PER_PRINCIPAL",
     _non_negative(parse_bytes), "bytes one principal's sessions may retain (0: no cap)"),
    ("metrics_address", "--metrics-address", "GRADWIRE_METRICS_ADDRESS", str,
     "host:port serving Prometheus metrics at /metrics (off when empty)"),
    ("health_address", "--health-address", "GRADWIRE_HEALTH_ADDRESS", str,
     "host:port of a plaintext port serving grpc.health.v1 only, for probes when TLS is on (off when empty)"),
    ("log_format", "--log-format", "GRADWIRE_LOG_FORMAT", _choice("text", "json"),
     "text or json: the server's log and its access log (one line per call)"),
    ("access_log", "--access-log", "GRADWIRE_ACCESS_LOG", _choice("on", "off"),
     "on: one log line per call at INFO (see --log-format); off: the server's events only"),
    ("tracing", "--tracing", "GRADWIRE_TRACING", _choice("off", "on", "console"),
     "OpenTelemetry spans per call (needs gradwire[otel]): on uses the global tracer provider, "
     "console prints spans to stderr"),
    ("replica_id", "--replica-id", "GRADWIRE_REPLICA_ID", str, "name in the gradwire-replica header (default host:port)"),
    ("drain_seconds", "--drain-seconds", "GRADWIRE_DRAIN_SECONDS", float,
     "seconds NOT_SERVING before the stop on SIGTERM, refusing new sessions, so a proxy drains this replica"),
)


def _argparse_type(parse: Callable[[str], object]) -> Callable[[str], object]:
    def convert(text: str) -> object:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return convert


def build_parser(prog: str = "gradwire serve") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Run the gradwire gRPC server.")
    defaults = ServerConfig()
    for field, flag, env, parse, help_text in _SETTINGS:
        parser.add_argument(
            flag, dest=field, type=_argparse_type(parse), default=None,
            help=f"{help_text} (env {env}; default {getattr(defaults, field)})",
        )
    return parser


def load_config(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> ServerConfig:
    """Flags from argv, else the environment, else the defaults. Bad values exit like argparse does."""
    parser = build_parser()
    arguments = parser.parse_args(list(argv) if argv is not None else [])
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for field, flag, env, parse, _ in _SETTINGS:
        given = getattr(arguments, field)
        if given is not None:
            values[field] = given
        elif environ.get(env, "").strip():
            try:
                values[field] = parse(environ[env])
            except ValueError as error:
                parser.error(f"{env}={environ[env]!r}: {error}")
    try:
        return ServerConfig(**values)  # type: ignore[arg-type]
    except ValueError as error:
        parser.error(str(error))
        raise  # unreachable: parser.error exits
