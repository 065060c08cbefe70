"""Container health check: asks the local server's grpc.health.v1 service whether it is SERVING.

Exits 0 when the overall status ("" service) is SERVING and 1 otherwise (not serving, draining after
SIGTERM, unreachable). The port comes from GRADWIRE_HEALTH_ADDRESS (the plaintext health-only port)
when set, else from GRADWIRE_ADDRESS, as the server reads them; the check always dials the loopback
interface, whatever host the server binds. With TLS on the main port and no health port, it connects
with TLS, trusting GRADWIRE_CA (default: the server's own certificate, right for a self-signed one).
"""

import os
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

DEFAULT_ADDRESS = "0.0.0.0:50051"
TIMEOUT_SECONDS = 3.0


def loopback_target(address: str) -> str:
    """127.0.0.1:PORT for a bind address such as 0.0.0.0:50051 or [::]:50051."""
    port = address.rsplit(":", 1)[-1]
    return f"127.0.0.1:{port}"


def channel_to_server() -> tuple[str, grpc.Channel]:
    health_address = os.environ.get("GRADWIRE_HEALTH_ADDRESS", "").strip()
    target = loopback_target(health_address or os.environ.get("GRADWIRE_ADDRESS", DEFAULT_ADDRESS))
    certificate = os.environ.get("GRADWIRE_TLS_CERT", "").strip()
    if health_address or not certificate:
        return target, grpc.insecure_channel(target)
    with open(os.environ.get("GRADWIRE_CA") or certificate, "rb") as file:
        roots = file.read()
    # The certificate names the service, not 127.0.0.1: check it against localhost.
    options = (("grpc.ssl_target_name_override", "localhost"),)
    return target, grpc.secure_channel(target, grpc.ssl_channel_credentials(roots), options)


def main() -> int:
    target, channel = channel_to_server()
    with channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=TIMEOUT_SECONDS)
        except grpc.RpcError as error:
            print(f"health check of {target} failed: {error.code().name}", file=sys.stderr)
            return 1
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        status_name = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        print(f"{target} is {status_name}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
