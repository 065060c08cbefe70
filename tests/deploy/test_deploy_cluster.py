"""The local multi-replica stack (deploy/local/cluster.sh): 3 gradwire replicas behind HAProxy on
loopback, driven through the SDK. Affinity (every call of a session answered by one replica, sessions
spread), failover (SIGKILL a replica mid-training: the journal replays its sessions elsewhere and the
grads equal torch's; other sessions never notice), rolling restart (SIGTERM each replica in turn while
16 clients call: no call fails) and one-shot Computes spread over every replica. Which replica answered
is read from the "gradwire-replica" response header."""

from __future__ import annotations

import threading
import traceback
from collections import Counter

import grpc
import numpy as np
import pytest
import torch
from google.protobuf import json_format

from cluster_helpers import Cluster, ReplicaRecorder, recording_client
from deploy_helpers import REPO, require_tool
from gradwire.v1 import gradwire_pb2 as pb
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc

REPLICAS = 3


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    require_tool("haproxy", "apt-get install haproxy (Debian 12: HAProxy 2.6)")
    cluster = Cluster(tmp_path_factory.mktemp("cluster"), REPLICAS)
    cluster.up()
    try:
        yield cluster
    finally:
        cluster.down()


def test_status_names_every_replica(cluster: Cluster) -> None:
    status = cluster.status()
    assert sorted(status) == [f"replica-{k}" for k in range(1, REPLICAS + 1)]
    ports = {int(line["address"].rsplit(":", 1)[1]) for line in status.values()}
    assert ports == {cluster.port + k for k in range(1, REPLICAS + 1)}
    assert all(isinstance(line["pid"], int) for line in status.values())


def test_one_shot_computes_spread_over_all_replicas(cluster: Cluster) -> None:
    request = json_format.Parse((REPO / "examples/json/5_one_shot/1-Compute.json").read_text(), pb.ComputeRequest())
    seen = Counter()
    with grpc.insecure_channel(cluster.address) as channel:
        stub = pb_grpc.GradwireServiceStub(channel)
        for _ in range(30):
            response, call = stub.Compute.with_call(request, timeout=30)
            seen[dict(call.initial_metadata())["gradwire-replica"]] += 1
            (grad,) = response.grads
            assert np.frombuffer(grad.tensor.data, "<f4").tolist() == [15.0, 18.0]
    assert set(seen) == set(cluster.status()), seen


def one_session(client) -> list[float]:
    a = client.tensor([2.0, 3.0], requires_grad=True)
    out = ((a + 3) * (a + 3) * 3).mean()
    out.backward(retain_graph=True)
    doubled = (a * 2).sum().item()  # an Extend with a value read back
    out.backward()
    return a.grad.tolist() + [doubled]


def test_affinity_every_call_of_a_session_reaches_one_replica(cluster: Cluster) -> None:
    recorder = ReplicaRecorder()
    sessions: list[set[str]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def run(count: int) -> None:
        try:
            for _ in range(count):
                with recording_client(cluster.address, recorder) as client:
                    assert one_session(client) == [30.0, 36.0, 10.0]
                    with lock:
                        sessions.append(recorder.replicas_of(client))
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=run, args=(25,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[0]
    assert len(sessions) == 200
    assert all(len(replicas) == 1 for replicas in sessions), [r for r in sessions if len(r) != 1][:3]
    per_replica = Counter(next(iter(replicas)) for replicas in sessions)
    assert set(per_replica) == set(cluster.status()), per_replica
    assert max(per_replica.values()) <= 100, per_replica
    # Each session made at least 4 session calls (CreateSession, Backward, Extend, Backward), all recorded.
    assert sum(1 for _, session, _ in recorder.calls if session) >= 800


def training_data(seed: int, steps: int) -> tuple[np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((3, 2)).astype(np.float32), [rng.standard_normal((4, 3)).astype(np.float32)
                                                             for _ in range(steps)]


def train(lib, w_data: np.ndarray, xs: list[np.ndarray], steps: range, w=None):
    """Backward of a small loss per step, grads accumulating in w.grad (torch or a Client)."""
    w = lib.tensor(w_data, requires_grad=True) if w is None else w
    for step in steps:
        loss = ((lib.tensor(xs[step]) @ w).tanh() - 0.5).pow(2).mean()
        loss.backward()
    return w


def test_failover_a_killed_replicas_sessions_are_replayed(cluster: Cluster) -> None:
    steps, kill_after = 6, 3
    recorder = ReplicaRecorder()
    clients = [recording_client(cluster.address, recorder) for _ in range(50)]
    data = [training_data(seed, steps) for seed in range(50)]
    try:
        weights = [train(client, w_data, xs, range(kill_after)) for client, (w_data, xs) in zip(clients, data)]
        placed = [recorder.replicas_of(client) for client in clients]
        assert all(len(replicas) == 1 for replicas in placed)
        victim = Counter(next(iter(r)) for r in placed).most_common(1)[0][0]
        cluster.kill(victim)
        for client, w, (w_data, xs) in zip(clients, weights, data):
            train(client, w_data, xs, range(kill_after, steps), w=w)
        for client, w, (w_data, xs), replicas in zip(clients, weights, data, placed):
            expected = train(torch, w_data, xs, range(steps)).grad.numpy()
            np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-5, atol=1e-6)
            # Sessions on the victim were rebuilt once; the others never noticed.
            assert client.session_replays == (1 if victim in replicas else 0)
            assert victim not in recorder.replicas_of(client)
        assert any(victim in replicas for replicas in placed)
        # New sessions land on live replicas only.
        for _ in range(15):
            with recording_client(cluster.address, recorder) as client:
                assert one_session(client) == [30.0, 36.0, 10.0]
                assert victim not in recorder.replicas_of(client)
    finally:
        for client in clients:
            client.close()
        cluster.restart(victim)


def test_rolling_restart_loses_no_call(cluster: Cluster) -> None:
    stop = threading.Event()
    failures: list[BaseException] = []
    iterations = Counter()
    replays = Counter()

    def caller(index: int) -> None:
        w_data, xs = training_data(100 + index, 1)
        expected_step = train(torch, w_data, xs, range(1)).grad.numpy()
        try:
            with recording_client(cluster.address, ReplicaRecorder()) as client:
                w = client.tensor(w_data, requires_grad=True)
                train(client, w_data, xs, [0], w=w)
                step = w.grad.numpy()
                np.testing.assert_allclose(step, expected_step, rtol=1e-5, atol=1e-6)
                done, expected = 1, step.copy()
                while not stop.is_set() or done < 3:
                    train(client, w_data, xs, [0], w=w)
                    done += 1
                    expected += step  # accumulated in float32 as .grad is: a lost or doubled step shows
                    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-6, atol=1e-7)
                iterations[index] = done
                replays[index] = client.session_replays
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=caller, args=(index,)) for index in range(16)]
    for thread in threads:
        thread.start()
    try:
        for replica in sorted(cluster.status()):
            old_pid = cluster.status()[replica]["pid"]
            cluster.restart(replica)  # SIGTERM: drain, stop, exit 0; then a new process
            assert cluster.status()[replica]["pid"] != old_pid
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    assert not failures, "".join(traceback.format_exception(failures[0]))
    assert len(iterations) == 16 and min(iterations.values()) >= 3
    # Every replica was restarted under the callers, so sessions had to move (and did, without an error).
    assert sum(replays.values()) > 0


