"""Container health check: asks the local server's grpc.health.v1 service whether it is SERVING.

Exits 0 when the overall status ("" service) is SERVING and 1 otherwise (not serving, draining after
SIGTERM, unreachable). The port comes from GRADWIRE_ADDRESS, as the server reads it; the check always
dials the loopback interface, whatever host the server binds.
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


def main() -> int:
    target = loopback_target(os.environ.get("GRADWIRE_ADDRESS", DEFAULT_ADDRESS))
    with grpc.insecure_channel(target) as channel:
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
