"""The bytes HAProxy's active check sends to a replica, and the bytes it expects back (hex).

HAProxy's HTTP checks cannot put the NUL bytes of a gRPC frame in a body, so the check is a TCP check
that speaks HTTP/2 itself: `python3 deploy/local/health_check_bytes.py` prints the `tcp-check
send-binary` and `tcp-check expect binary` arguments used in haproxy.cfg.in and deploy/k8s/haproxy.cfg.

Request: the HTTP/2 connection preface, an empty SETTINGS frame, one HEADERS frame (HPACK literals, no
Huffman coding) for POST /grpc.health.v1.Health/Check, and one DATA frame holding a gRPC message frame
of an empty HealthCheckRequest (service "": the whole server). Expected: the response's DATA frame on
stream 1 holding HealthCheckResponse{status: SERVING} (field 1, varint 1: bytes 08 01).
"""

from __future__ import annotations

import struct

DATA, HEADERS, SETTINGS = 0x0, 0x1, 0x4
END_STREAM, END_HEADERS = 0x1, 0x4
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
# HPACK static table entries (RFC 7541, appendix A)
METHOD_POST, SCHEME_HTTP = 3, 6
AUTHORITY, PATH = 1, 4
SERVING = 1


def frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def literal(name: int | str, value: str) -> bytes:
    """A header field 'literal without indexing', by static-table name index or by new name."""
    encoded = value.encode()
    prefix = bytes([name]) if isinstance(name, int) else b"\x00" + bytes([len(name)]) + name.encode()
    return prefix + bytes([len(encoded)]) + encoded


def grpc_message(payload: bytes) -> bytes:
    """gRPC's length-prefixed message: a compressed flag (0) and a 4-byte length."""
    return b"\x00" + struct.pack(">I", len(payload)) + payload


def request() -> bytes:
    fields = (bytes([0x80 | METHOD_POST, 0x80 | SCHEME_HTTP]) + literal(PATH, "/grpc.health.v1.Health/Check")
              + literal(AUTHORITY, "gradwire") + literal("content-type", "application/grpc")
              + literal("te", "trailers"))
    return (PREFACE + frame(SETTINGS, 0, 0, b"") + frame(HEADERS, END_HEADERS, 1, fields)
            + frame(DATA, END_STREAM, 1, grpc_message(b"")))


def expected_serving() -> bytes:
    return frame(DATA, 0, 1, grpc_message(bytes([0x08, SERVING])))


if __name__ == "__main__":
    print(f"tcp-check send-binary {request().hex()}")
    print(f"tcp-check expect binary {expected_serving().hex()}")
