"""The container image end to end, through a Docker-compatible engine and the docker SDK: build it, run
it, check its health (the image's own HEALTHCHECK command and grpc.health.v1 from outside), run the
tutorial through the SDK against it, then send SIGTERM and check the server (PID 1) exits cleanly within
its grace period.

Runs when an engine answers at DOCKER_HOST (or the default socket); skipped otherwise. Without registry
access set GRADWIRE_TEST_IMAGE_BASE to a local base image and GRADWIRE_TEST_BUILD_NETWORK=host;
deploy/podman-local.sh does all of that with podman.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from deploy_helpers import REPO, tutorial_gradients
from gradwire.client import Client

docker = pytest.importorskip("docker", reason="the docker SDK is not installed (pip install docker)")

IMAGE_TAG = "gradwire:deploy-test"
CONTAINER_PORT = "50051/tcp"
GRACE_SECONDS = 10
BUILD_TIMEOUT_SECONDS = 900
STARTUP_TIMEOUT_SECONDS = 60


def engine_or_skip() -> Any:
    """A docker client whose engine answers a ping, or a skip naming where nothing answered."""
    where = os.environ.get("DOCKER_HOST") or "the default socket (DOCKER_HOST unset)"
    try:
        client = docker.from_env(timeout=BUILD_TIMEOUT_SECONDS)
        client.ping()
    except (docker.errors.DockerException, OSError) as error:
        pytest.skip(f"no Docker-compatible engine reachable at {where}: {error}")
    return client


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    client = engine_or_skip()
    yield client
    client.close()


@pytest.fixture(scope="module")
def image(engine: Any) -> Any:
    build_args = {}
    if os.environ.get("GRADWIRE_TEST_IMAGE_BASE"):
        build_args["BASE"] = os.environ["GRADWIRE_TEST_IMAGE_BASE"]
    try:
        built, _log = engine.images.build(
            path=str(REPO), dockerfile="deploy/Dockerfile", tag=IMAGE_TAG, buildargs=build_args,
            network_mode=os.environ.get("GRADWIRE_TEST_BUILD_NETWORK"), rm=True, forcerm=True)
    except docker.errors.BuildError as error:
        build_log = "".join(chunk.get("stream", "") or chunk.get("error", "") for chunk in error.build_log)
        pytest.fail(f"image build failed: {error}\n{build_log}")
    return built


def start_container(engine: Any, image: Any) -> tuple[Any, str]:
    """A running container of the image with its gRPC port published on loopback, and that target."""
    # Locked down as deploy/k8s/deployment.yaml runs it: read-only root, no capabilities, no setuid.
    container = engine.containers.run(
        image.id, detach=True, environment={"GRADWIRE_GRACE_SECONDS": str(GRACE_SECONDS)},
        ports={CONTAINER_PORT: ("127.0.0.1", None)},
        read_only=True, cap_drop=["ALL"], security_opt=["no-new-privileges"])
    container.reload()
    host_port = container.ports[CONTAINER_PORT][0]["HostPort"]
    target = f"127.0.0.1:{host_port}"
    try:
        wait_until_serving(target)
    except Exception:
        print(container.logs().decode(errors="replace"))
        container.remove(force=True)
        raise
    return container, target


def health_status(target: str, timeout: float = 5.0) -> int:
    with grpc.insecure_channel(target) as channel:
        grpc.channel_ready_future(channel).result(timeout=timeout)
        return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=timeout).status


def wait_until_serving(target: str) -> None:
    with grpc.insecure_channel(target) as channel:
        grpc.channel_ready_future(channel).result(timeout=STARTUP_TIMEOUT_SECONDS)
    assert health_status(target) == health_pb2.HealthCheckResponse.SERVING


@pytest.fixture(scope="module")
def running(engine: Any, image: Any) -> Iterator[tuple[Any, str]]:
    container, target = start_container(engine, image)
    try:
        yield container, target
    finally:
        container.remove(force=True)


def test_image_healthcheck_command_reports_serving(running: tuple[Any, str]) -> None:
    container, _target = running
    # The container's config carries the image's HEALTHCHECK (podman's image inspect omits it).
    test = container.attrs["Config"]["Healthcheck"]["Test"]
    assert test[0] == "CMD", test
    result = container.exec_run(test[1:])
    assert result.exit_code == 0, result.output


def test_server_is_pid_1_and_not_root(image: Any, running: tuple[Any, str]) -> None:
    container, _target = running
    assert image.attrs["Config"]["User"] not in ("", "0", "root")
    uid = container.exec_run(["python", "-c", "import os; print(os.getuid())"])
    assert uid.exit_code == 0 and int(uid.output) != 0
    pid_1 = container.exec_run(["cat", "/proc/1/cmdline"])
    assert pid_1.output.split(b"\0")[:3] == [b"python", b"-m", b"gradwire.server"]


def test_tutorial_through_the_sdk_gives_pytorchs_gradients(running: tuple[Any, str]) -> None:
    import torch  # here, not at the top: a skipped module should not pay for importing torch

    _container, target = running
    with Client(target) as remote_torch:
        assert tutorial_gradients(remote_torch) == tutorial_gradients(torch)


def test_sigterm_stops_the_server_cleanly_within_its_grace_period(engine: Any, image: Any) -> None:
    container, target = start_container(engine, image)
    try:
        container.kill(signal="SIGTERM")
        # Nothing is in flight, so the server must be gone well before its grace period ends.
        outcome = container.wait(timeout=GRACE_SECONDS)
        logs = container.logs().decode(errors="replace")
        assert outcome["StatusCode"] == 0, logs
        assert "SIGTERM" in logs, logs
    finally:
        container.remove(force=True)
