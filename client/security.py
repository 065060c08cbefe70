"""What the SDK and the CLI send to a secured server: TLS channel credentials and a bearer token.

    credentials = channel_credentials(ca="ca.pem")                            # TLS, this CA trusted
    credentials = channel_credentials(ca="ca.pem", client_cert="me.pem", client_key="me.key")  # mTLS
    credentials = channel_credentials(tls=True)                               # TLS, the system's CAs
    metadata = token_metadata("s3cret")                                       # authorization: Bearer s3cret

Files are paths (str or Path) or PEM bytes. The token travels only as call metadata, never in an error.
"""

from __future__ import annotations

import os
from typing import Union

import grpc

Pem = Union[str, bytes, "os.PathLike[str]", None]


def _pem(value: Pem, what: str) -> bytes | None:
    if value is None or value == "":
        return None
    if isinstance(value, bytes):
        return value
    try:
        with open(value, "rb") as file:
            return file.read()
    except OSError as error:
        raise ValueError(f"cannot read the {what} {os.fspath(value)!r}: {error.strerror}") from None


def channel_credentials(*, tls: bool = False, ca: Pem = None, client_cert: Pem = None,
                        client_key: Pem = None) -> grpc.ChannelCredentials | None:
    """TLS credentials, or None for plaintext (tls False and no file given)."""
    if bool(client_cert) != bool(client_key):
        raise ValueError("a client certificate needs both client_cert and client_key")
    if not (tls or ca or client_cert):
        return None
    return grpc.ssl_channel_credentials(root_certificates=_pem(ca, "CA file"),
                                        private_key=_pem(client_key, "client key"),
                                        certificate_chain=_pem(client_cert, "client certificate"))


def token_metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    """The metadata that carries a bearer token (nothing without one)."""
    if not token:
        return ()
    if any(character.isspace() for character in token):
        raise ValueError("a token cannot contain whitespace")
    return (("authorization", f"Bearer {token}"),)
