"""The Kubernetes manifests and the Envoy config: parsed, with the fields that make them work present and
consistent with each other, with the SDK and with the server's own settings parser."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from deploy_helpers import DEPLOY
from gradwire.client.transport import SESSION_ID_KEY as SESSION_HEADER  # what the SDK sends
from gradwire.server.config import ServerConfig, build_parser, load_config

yaml = pytest.importorskip("yaml", reason="PyYAML is not installed (pip install pyyaml)")

K8S = DEPLOY / "k8s"
# Native grpc: probes are GA from 1.27.
OLDEST_KUBERNETES = "1.27.0"
_QUANTITY_SUFFIXES = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9,
                      "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40}


def quantity(text: str | int | float) -> float:
    """A Kubernetes resource quantity ("250m", "3Gi", "1") as a number (cores or bytes)."""
    match = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(text))
    assert match and match.group(2) in _QUANTITY_SUFFIXES, f"not a quantity: {text!r}"
    return float(match.group(1)) * _QUANTITY_SUFFIXES[match.group(2)]


def documents(path: Path) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document]


def kustomization() -> dict[str, Any]:
    return documents(K8S / "kustomization.yaml")[0]


def all_objects() -> list[dict[str, Any]]:
    return [obj for name in kustomization()["resources"] for obj in documents(K8S / name)]


def find(kind: str, name: str) -> dict[str, Any]:
    matches = [obj for obj in all_objects() if obj["kind"] == kind and obj["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def server_container() -> dict[str, Any]:
    (container,) = find("Deployment", "gradwire")["spec"]["template"]["spec"]["containers"]
    return container


def server_environment() -> dict[str, str]:
    return {item["name"]: str(item["value"]) for item in server_container()["env"]}


def server_config() -> ServerConfig:
    """The settings the Deployment gives the server, read by the server's own parser."""
    return load_config([], environ=server_environment())


def envoy_config() -> dict[str, Any]:
    return documents(K8S / "envoy.yaml")[0]


def test_every_object_has_api_version_kind_and_name() -> None:
    objects = all_objects()
    assert {obj["kind"] for obj in objects} >= {"Deployment", "Service"}
    for obj in objects:
        assert obj["apiVersion"] and obj["kind"] and obj["metadata"]["name"]


@pytest.mark.parametrize("kubernetes_version", [OLDEST_KUBERNETES, "latest"])
def test_every_object_is_valid_for_kubernetes(kubernetes_version: str) -> None:
    """Strict schema validation (unknown fields rejected) with the schemas kubernetes-validate ships,
    for the oldest version with native gRPC probes and for the newest it knows."""
    validator = pytest.importorskip("kubernetes_validate",
                                    reason="kubernetes-validate is not installed (pip install kubernetes-validate)")
    version = validator.latest_version() if kubernetes_version == "latest" else kubernetes_version
    for obj in all_objects():
        validator.validate(obj, version, strict=True)


def test_every_environment_variable_is_one_the_server_reads_with_a_valid_value() -> None:
    documented = " ".join(build_parser().format_help().split())  # argparse wraps lines
    for name in server_environment():
        assert f"env {name};" in documented, f"{name}: the server reads no such variable"
    server_config()  # a value the server cannot parse exits here, as the server would


def test_probes_are_native_grpc_on_the_plaintext_health_port() -> None:
    """The server serves TLS on its grpc port; the kubelet's grpc probe cannot, so probes use the
    health-only plaintext port (GRADWIRE_HEALTH_ADDRESS)."""
    container = server_container()
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    config = server_config()
    assert config.address == f"0.0.0.0:{ports['grpc']}" and config.tls_cert and config.tls_key
    assert config.health_address == f"0.0.0.0:{ports['health']}"
    port = ports["health"]
    for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
        probe = container[probe_name]
        assert set(probe) & {"grpc", "httpGet", "tcpSocket", "exec"} == {"grpc"}, probe_name
        assert probe["grpc"]["port"] == port


def test_tls_tokens_and_metrics_come_from_mounted_secrets_and_an_annotated_port() -> None:
    pod = find("Deployment", "gradwire")["spec"]["template"]
    container = server_container()
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    secrets = {volume["name"]: volume["secret"]["secretName"] for volume in pod["spec"]["volumes"] if "secret" in volume}
    assert secrets == {"tls": "gradwire-tls", "tokens": "gradwire-tokens"}
    config = server_config()
    assert Path(config.tls_cert).parent == Path(config.tls_key).parent == Path(mounts["tls"])
    assert Path(config.auth_tokens).parent == Path(mounts["tokens"])
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    annotations = pod["metadata"]["annotations"]
    assert config.metrics_address == f"0.0.0.0:{ports['metrics']}"
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(ports["metrics"]) and annotations["prometheus.io/path"] == "/metrics"
    # Envoy speaks TLS to the pods, trusting the CA of the same Secret it mounts.
    (cluster,) = envoy_config()["static_resources"]["clusters"]
    upstream = cluster["transport_socket"]["typed_config"]["common_tls_context"]
    envoy_pod = find("Deployment", "gradwire-envoy")["spec"]["template"]["spec"]
    envoy_secrets = {volume["name"]: volume["secret"]["secretName"] for volume in envoy_pod["volumes"]
                     if "secret" in volume}
    (envoy_container,) = envoy_pod["containers"]
    envoy_mounts = {mount["name"]: mount["mountPath"] for mount in envoy_container["volumeMounts"]}
    assert envoy_secrets == {"tls": "gradwire-tls"}
    assert upstream["validation_context"]["trusted_ca"]["filename"] == f"{envoy_mounts['tls']}/ca.crt"


def test_termination_grace_period_covers_the_servers_grace_period() -> None:
    pod = find("Deployment", "gradwire")["spec"]["template"]["spec"]
    grace = server_config().grace_seconds
    # The kubelet kills at terminationGracePeriodSeconds: a little more than the server's own grace,
    # so in-flight calls finish and the process exits first, and not much more, so stops stay prompt.
    assert grace < pod["terminationGracePeriodSeconds"] <= grace + 10


def test_resources_bound_what_the_server_may_hold() -> None:
    resources = server_container()["resources"]
    for kind in ("cpu", "memory"):
        assert quantity(resources["requests"][kind]) <= quantity(resources["limits"][kind])
    config = server_config()
    # Sessions' bytes plus one request's bytes per worker thread must fit, or the pod is OOM-killed
    # before the server's budgets refuse anything.
    worst_case = config.max_session_bytes + config.workers * config.max_request_bytes
    assert worst_case < quantity(resources["limits"]["memory"])


def test_runs_as_the_images_non_root_user() -> None:
    pod = find("Deployment", "gradwire")["spec"]["template"]["spec"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    image_uid = re.search(r"ARG GRADWIRE_UID=(\d+)", dockerfile).group(1)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert str(pod["securityContext"]["runAsUser"]) == image_uid


def test_services_select_the_server_pods_by_named_port() -> None:
    labels = find("Deployment", "gradwire")["spec"]["template"]["metadata"]["labels"]
    port_names = {port["name"] for port in server_container()["ports"]}
    for name in ("gradwire", "gradwire-headless"):
        spec = find("Service", name)["spec"]
        assert spec["selector"].items() <= labels.items()
        assert {port["targetPort"] for port in spec["ports"]} <= port_names
    assert find("Service", "gradwire-headless")["spec"]["clusterIP"] == "None"


def test_envoy_hashes_on_the_session_header_over_http2_with_ring_hash() -> None:
    config = envoy_config()
    (listener,) = config["static_resources"]["listeners"]
    (manager,) = listener["filter_chains"][0]["filters"]
    routes = manager["typed_config"]["route_config"]["virtual_hosts"][0]["routes"]
    for route in routes:
        policies = route["route"]["hash_policy"]
        assert [policy["header"]["header_name"] for policy in policies] == [SESSION_HEADER]
    (cluster,) = config["static_resources"]["clusters"]
    assert cluster["lb_policy"] == "RING_HASH"
    assert {route["route"]["cluster"] for route in routes} == {cluster["name"]}
    protocol = cluster["typed_extension_protocol_options"]["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
    assert "http2_protocol_options" in protocol["explicit_http_config"]
    assert any("grpc_health_check" in check for check in cluster["health_checks"])


def test_envoy_config_parses_as_envoys_own_bootstrap_message() -> None:
    """Every field name, enum and typed_config against Envoy's API protos (grpc's xds-protos package):
    a misspelt or misplaced field fails here instead of at Envoy's start-up."""
    pytest.importorskip("envoy.config.bootstrap.v3.bootstrap_pb2",
                        reason="xds-protos is not installed (pip install xds-protos)")
    from google.protobuf import json_format

    from envoy.config.bootstrap.v3 import bootstrap_pb2
    # The typed_config types envoy.yaml names; importing them registers them for the Any fields.
    from envoy.extensions.filters.http.router.v3 import router_pb2  # noqa: F401
    from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2  # noqa: F401
    from envoy.extensions.transport_sockets.tls.v3 import tls_pb2  # noqa: F401
    from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2  # noqa: F401

    bootstrap = json_format.ParseDict(envoy_config(), bootstrap_pb2.Bootstrap())
    (cluster,) = bootstrap.static_resources.clusters
    assert cluster.lb_policy == cluster.RING_HASH


def test_envoy_resolves_every_pod_through_the_headless_service() -> None:
    (cluster,) = envoy_config()["static_resources"]["clusters"]
    assert cluster["type"] == "STRICT_DNS"
    (endpoint,) = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
    address = endpoint["endpoint"]["address"]["socket_address"]
    headless = find("Service", "gradwire-headless")["spec"]["ports"][0]["port"]
    assert (address["address"], address["port_value"]) == ("gradwire-headless", headless)


def test_envoy_deployment_mounts_the_generated_config() -> None:
    (generator,) = kustomization()["configMapGenerator"]
    assert generator["files"] == ["envoy.yaml"]
    pod = find("Deployment", "gradwire-envoy")["spec"]["template"]["spec"]
    volume_maps = [volume["configMap"]["name"] for volume in pod["volumes"] if "configMap" in volume]
    assert volume_maps == [generator["name"]]
    (container,) = pod["containers"]
    mount = container["volumeMounts"][0]["mountPath"]
    assert container["args"][container["args"].index("--config-path") + 1] == f"{mount}/envoy.yaml"
    listener_port = envoy_config()["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"]
    assert [port["containerPort"] for port in container["ports"]] == [listener_port]
