"""Authentication: who is calling, or UNAUTHENTICATED.

With a tokens file, a call must carry `authorization: Bearer <token>`; the token's principal becomes the
call's. With client certificates required (mTLS), the certificate's common name (else its subject) is
the principal of a call that sends no token. Health checks and reflection stay open (they reveal the
schema and the serving status, nothing else). Without tokens or mTLS every call is ANONYMOUS.
The refusal never echoes the token.
"""

from __future__ import annotations

import grpc

from ..principal import ANONYMOUS, remember
from ..tokens import TokenTable
from .observe import Call, Observer

OPEN_SERVICES = ("grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection",
                 "grpc.reflection.v1.ServerReflection")
BEARER = "bearer "


def certificate_principal(context: grpc.ServicerContext) -> str:
    """The verified client certificate's common name (else subject), or "" without one."""
    auth = context.auth_context()
    for key in ("x509_common_name", "x509_subject"):
        values = auth.get(key) or ()
        if values:
            return values[0].decode("utf-8", "replace")
    return ""


class Authenticator(Observer):
    def __init__(self, tokens: TokenTable | None, client_certificates: bool) -> None:
        self.tokens = tokens
        self.client_certificates = client_certificates

    def principal(self, call: Call) -> str:
        """The caller's principal; aborts the call with UNAUTHENTICATED when it has none."""
        header = call.metadata.get("authorization")
        if self.tokens is not None and header is not None:
            if header[:len(BEARER)].lower() != BEARER:
                call.context.abort(grpc.StatusCode.UNAUTHENTICATED,
                                   "the authorization metadata must be 'Bearer <token>'")
            principal = self.tokens.principal(header[len(BEARER):].strip())
            if principal is None:
                call.context.abort(grpc.StatusCode.UNAUTHENTICATED, "the bearer token is not valid")
            return principal  # type: ignore[return-value]
        if self.client_certificates:
            principal = certificate_principal(call.context)
            if principal:
                return principal
        if self.tokens is not None:
            call.context.abort(grpc.StatusCode.UNAUTHENTICATED,
                               "this server requires a token: send the metadata 'authorization: Bearer <token>'")
        return ANONYMOUS

    def begin(self, call: Call) -> None:
        if call.service in OPEN_SERVICES:
            return
        remember(call.context, self.principal(call))
