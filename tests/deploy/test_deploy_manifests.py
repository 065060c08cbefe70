"""The Kubernetes manifests and the HAProxy config: parsed, with the fields that make them work present
and consistent with each other, with the SDK, with the server's own settings parser and with the local
stack the cluster tests run (deploy/local)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from deploy_helpers import DEPLOY, require_tool
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
    # Values from the downward API (valueFrom) are only known in the pod: empty here, as if unset.
    return {item["name"]: str(item.get("value", "")) for item in server_container()["env"]}


def server_config() -> ServerConfig:
    """The settings the Deployment gives the server, read by the server's own parser."""
    return load_config([], environ=server_environment())


def config_sections(path: Path) -> dict[str, list[str]]:
    """An HAProxy config as {section header: its lines}, comments and blank lines left out."""
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip() if not raw.lstrip().startswith("tcp-check") else raw.rstrip()
        if not line.strip() or line.strip().startswith("@"):  # blank, or a placeholder cluster.sh fills in
            continue
        if not line.startswith(" "):
            current = sections.setdefault(line.strip(), [])
        else:
            current.append(line.strip())
    return sections


K8S_PROXY = K8S / "haproxy.cfg"
LOCAL_PROXY = DEPLOY / "local" / "haproxy.cfg.in"


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


def test_proxy_speaks_tls_to_clients_and_pods_and_checks_the_plaintext_health_port() -> None:
    """HAProxy mounts the same Secret: its frontend serves the certificate, its server lines verify the
    pods against the CA, and its gRPC health checks go to the pods' plaintext health-only port."""
    proxy = find("Deployment", "gradwire-proxy")["spec"]["template"]["spec"]
    (container,) = proxy["containers"]
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    secrets = {volume["name"]: volume["secret"]["secretName"] for volume in proxy["volumes"] if "secret" in volume}
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert secrets == {"tls": "gradwire-tls"} and env["GRADWIRE_TLS_DIR"] == mounts["tls"]
    sections = config_sections(K8S_PROXY)
    assert any('ssl crt "${GRADWIRE_TLS_DIR}/tls.crt"' in line for line in sections["frontend grpc"])
    (template,) = [line for line in sections["backend replicas"] if line.startswith("server-template")]
    health_port = {port["name"]: port["containerPort"] for port in server_container()["ports"]}["health"]
    assert 'ssl verify required ca-file "${GRADWIRE_TLS_DIR}/ca.crt"' in template
    assert f"port {health_port} no-check-ssl" in template


def test_termination_grace_period_covers_the_drain_and_the_grace_period() -> None:
    pod = find("Deployment", "gradwire")["spec"]["template"]["spec"]
    config = server_config()
    stopping = config.drain_seconds + config.grace_seconds
    # The kubelet kills at terminationGracePeriodSeconds: a little more than the server's drain plus its
    # grace, so in-flight calls finish and the process exits first, and not much more, so stops stay prompt.
    assert config.drain_seconds > 0
    assert stopping < pod["terminationGracePeriodSeconds"] <= stopping + 10


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


def test_proxy_config_is_the_one_the_local_stack_runs() -> None:
    """Every section of deploy/local/haproxy.cfg.in, line for line, in deploy/k8s/haproxy.cfg; only the
    bind address, TLS and the server lines (loopback ports there, DNS and TLS here) differ."""
    local, k8s = config_sections(LOCAL_PROXY), config_sections(K8S_PROXY)
    for header, lines in local.items():
        expected = [line for line in lines if not line.startswith("bind")]
        assert [line for line in k8s[header]
                if not line.startswith(("bind", "server-template", "ssl-load-extra-del-ext"))] == expected, header


def test_proxy_hashes_on_the_session_header_and_checks_grpc_health() -> None:
    backend = config_sections(K8S_PROXY)["backend replicas"]
    assert f"balance hdr({SESSION_HEADER})" in backend and "hash-type consistent" in backend
    sys.path.insert(0, str(DEPLOY / "local"))
    try:
        import health_check_bytes
    finally:
        sys.path.pop(0)
    assert f"tcp-check send-binary {health_check_bytes.request().hex()}" in backend
    assert f"tcp-check expect binary {health_check_bytes.expected_serving().hex()}" in backend
    defaults = " ".join(config_sections(K8S_PROXY)["defaults"])
    assert "mode http" in defaults and any(line.startswith("default-server proto h2 check") for line in backend)


def test_proxy_config_is_accepted_by_haproxy(tmp_path) -> None:
    """haproxy -c with the TLS files the Secret would mount (made here) and the pods' DNS name."""
    haproxy = require_tool("haproxy", "apt-get install haproxy")
    openssl = require_tool("openssl", "apt-get install openssl")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=gradwire",
                    "-keyout", str(tmp_path / "tls.key"), "-out", str(tmp_path / "tls.crt")],
                   check=True, capture_output=True)
    (tmp_path / "ca.crt").write_bytes((tmp_path / "tls.crt").read_bytes())
    env = dict(os.environ, GRADWIRE_HEADLESS="localhost", GRADWIRE_TLS_DIR=str(tmp_path))
    done = subprocess.run([haproxy, "-c", "-f", str(K8S_PROXY)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_proxy_finds_every_pod_through_the_headless_service() -> None:
    (template,) = [line for line in config_sections(K8S_PROXY)["backend replicas"]
                   if line.startswith("server-template")]
    (container,) = find("Deployment", "gradwire-proxy")["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    headless = find("Service", "gradwire-headless")["spec"]["ports"][0]["port"]
    assert f'"${{GRADWIRE_HEADLESS}}:{headless}"' in template
    assert env["GRADWIRE_HEADLESS"] == "gradwire-headless.$(POD_NAMESPACE).svc.cluster.local"
    assert find("Service", "gradwire-headless")["spec"]["publishNotReadyAddresses"] is False


def test_proxy_deployment_mounts_the_generated_config_and_serves_its_ports() -> None:
    (generator,) = kustomization()["configMapGenerator"]
    assert generator["files"] == ["haproxy.cfg"]
    pod = find("Deployment", "gradwire-proxy")["spec"]["template"]["spec"]
    assert [volume["configMap"]["name"] for volume in pod["volumes"] if "configMap" in volume] == [generator["name"]]
    (container,) = pod["containers"]
    mount = container["volumeMounts"][0]["mountPath"]
    assert container["args"][container["args"].index("-f") + 1] == f"{mount}/haproxy.cfg"
    sections = config_sections(K8S_PROXY)
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert any(line.startswith(f"bind :{ports['grpc']} ssl") and line.endswith("proto h2")
               for line in sections["frontend grpc"])
    assert f"bind :{ports['health']}" in sections["frontend health"]
    assert container["readinessProbe"]["httpGet"]["path"] in " ".join(sections["frontend health"])
    service = find("Service", "gradwire-proxy")["spec"]
    assert service["selector"].items() <= find("Deployment", "gradwire-proxy")["spec"]["template"]["metadata"]["labels"].items()


def test_autoscaler_and_disruption_budgets_target_the_right_pods() -> None:
    hpa = find("HorizontalPodAutoscaler", "gradwire")["spec"]
    assert hpa["scaleTargetRef"]["name"] == "gradwire" and hpa["minReplicas"] >= 2
    (metric,) = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert "cpu" in server_container()["resources"]["requests"]  # utilisation is relative to the request
    for name in ("gradwire", "gradwire-proxy"):
        budget = find("PodDisruptionBudget", name)["spec"]
        labels = find("Deployment", name)["spec"]["template"]["metadata"]["labels"]
        assert budget["selector"]["matchLabels"].items() <= labels.items()
        assert budget["maxUnavailable"] == 1


def test_the_replica_header_names_the_pod() -> None:
    (item,) = [item for item in server_container()["env"] if item["name"] == "GRADWIRE_REPLICA_ID"]
    assert item["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
