"""Service benchmarks of the gradwire server (not a timed test; figures vary from run to run).

Three measurements, each a function returning a dict of numbers so a harness can call it:
- compute_vs_echo: p50/p99 latency and calls/s of Compute on the tutorial graph, beside a bare gRPC
  echo of the same request bytes (the floor of Python gRPC), in the same run.
- session_vs_recompute: a retained session's repeated Backward against a one-shot Compute that resends
  and recomputes an MLP-sized graph every time.
- transfer: MB/s moving a 256 MiB leaf up and its gradient down, in single messages vs streamed in
  chunks (UploadTensor, DownloadTensor), beside raw loopback TCP.
Servers run as subprocesses (`python -m gradwire.server`), so client and server do not share a GIL.

    python bench/service.py [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from concurrent import futures
from pathlib import Path
from typing import Any, Callable, Iterator

import grpc
import numpy as np

from gradwire.v1 import gradwire_pb2 as pb
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc

MiB = 1 << 20
ECHO_METHOD = "/bench.Echo/Echo"
SINK_METHOD = "/bench.Echo/Sink"
SOURCE_METHOD = "/bench.Echo/Source"
CHANNEL_OPTIONS = [("grpc.max_send_message_length", (1 << 31) - 1),
                   ("grpc.max_receive_message_length", (1 << 31) - 1)]


# ---------------------------------------------------------------- servers in subprocesses

def _wait_for_line(process: subprocess.Popen, stream: Any, pattern: str, timeout: float = 30.0) -> re.Match:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            raise RuntimeError(f"server exited early (code {process.poll()})")
        if match := re.search(pattern, line):
            return match
    raise RuntimeError("server did not start in time")


@contextlib.contextmanager
def gradwire_server_process(*flags: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """A `python -m gradwire.server` subprocess on a free port; yields its address and the process."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gradwire.server", "--address", "127.0.0.1:0", "--log-level", "INFO", *flags],
        stderr=subprocess.PIPE, text=True,
    )
    try:
        match = _wait_for_line(process, process.stderr, r"listening on ([\d.]+:\d+)")
        threading.Thread(target=process.stderr.read, daemon=True).start()  # keep the pipe drained
        yield match.group(1), process
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextlib.contextmanager
def gradwire_server(*flags: str) -> Iterator[str]:
    """A `python -m gradwire.server` subprocess on a free port; yields its address."""
    with gradwire_server_process(*flags) as (address, _):
        yield address


@contextlib.contextmanager
def echo_server_process() -> Iterator[tuple[str, subprocess.Popen]]:
    """A bare gRPC server in a subprocess (serve_echo); yields its address and the process."""
    process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--serve-echo"],
                               stdout=subprocess.PIPE, text=True)
    try:
        port = _wait_for_line(process, process.stdout, r"PORT (\d+)").group(1)
        yield f"127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextlib.contextmanager
def echo_server() -> Iterator[str]:
    """A bare gRPC server in a subprocess whose Echo method returns the request bytes as they came."""
    with echo_server_process() as (address, _):
        yield address


def serve_echo() -> None:
    """Echo (unary, bytes back as they came), and the floor of a streamed transfer: Sink (a stream of
    chunks in, kept joined) then Source (the kept bytes out again in chunks of the requested size)."""
    kept: list[bytes] = [b""]

    def echo(request: bytes, context: grpc.ServicerContext) -> bytes:
        return request

    def sink(chunks: Iterator[bytes], context: grpc.ServicerContext) -> bytes:
        kept[0] = b""
        kept[0] = b"".join(chunks)
        return b""

    def source(request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
        chunk_bytes, data = int(request.decode()), memoryview(kept[0])
        for start in range(0, len(data), chunk_bytes):
            yield bytes(data[start:start + chunk_bytes])

    handler = grpc.method_handlers_generic_handler("bench.Echo", {  # no (de)serializers: raw bytes
        "Echo": grpc.unary_unary_rpc_method_handler(echo),
        "Sink": grpc.stream_unary_rpc_method_handler(sink),
        "Source": grpc.unary_stream_rpc_method_handler(source),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=CHANNEL_OPTIONS)
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(f"PORT {port}", flush=True)
    server.wait_for_termination()


# ---------------------------------------------------------------- message builders

def _tensor(array: np.ndarray) -> pb.Tensor:
    dtype = {"float32": pb.DTYPE_FLOAT32, "float64": pb.DTYPE_FLOAT64}[array.dtype.name]
    return pb.Tensor(dtype=dtype, shape=array.shape, data=array.tobytes())


def _node(value_id: str, op: str, *inputs: Any) -> pb.Node:
    operands = [pb.Operand(ref=x) if isinstance(x, str) else pb.Operand(real=float(x)) for x in inputs]
    return pb.Node(id=value_id, op=op, inputs=operands)


def tutorial_request() -> pb.ComputeRequest:
    """The tutorial's `b = a + 3; c = b * b * 3; out = c.mean(); out.backward()`."""
    return pb.ComputeRequest(
        graph=pb.Graph(
            leaves=[pb.Leaf(id="a", value=_tensor(np.array([2.0, 3.0], np.float32)), requires_grad=True)],
            nodes=[_node("b", "add", "a", 3), _node("bb", "mul", "b", "b"), _node("c", "mul", "bb", 3),
                   _node("out", "mean", "c")],
        ),
        roots=[pb.Root(id="out")], return_grads=["a"],
    )


def mlp_graph(batch: int, width: int, depth: int, seed: int = 0) -> tuple[pb.Graph, list[str]]:
    """x -> depth tanh(x @ W + b) layers -> a 10-way linear head -> mean of squares; returns the weights."""
    rng = np.random.default_rng(seed)
    leaves = [pb.Leaf(id="x", value=_tensor(rng.standard_normal((batch, width)).astype(np.float32)))]
    nodes, previous, weights = [], "x", []
    for layer in range(depth):
        out_width = 10 if layer == depth - 1 else width
        w, b = f"W{layer}", f"b{layer}"
        scale = 1 / np.sqrt(width)
        leaves.append(pb.Leaf(id=w, value=_tensor((rng.standard_normal((width, out_width)) * scale)
                                                  .astype(np.float32)), requires_grad=True))
        leaves.append(pb.Leaf(id=b, value=_tensor(np.zeros(out_width, np.float32)), requires_grad=True))
        weights += [w, b]
        nodes += [_node(f"z{layer}", "matmul", previous, w), _node(f"y{layer}", "add", f"z{layer}", b)]
        previous = f"y{layer}"
        if layer < depth - 1:
            nodes.append(_node(f"h{layer}", "tanh", previous))
            previous = f"h{layer}"
    nodes += [_node("sq", "mul", previous, previous), _node("loss", "mean", "sq")]
    return pb.Graph(leaves=leaves, nodes=nodes), weights


# ---------------------------------------------------------------- measurements

def _latencies(call: Callable[[], Any], calls: int, warmup: int) -> dict[str, float]:
    for _ in range(warmup):
        call()
    times = []
    started = time.perf_counter()
    for _ in range(calls):
        begin = time.perf_counter()
        call()
        times.append(time.perf_counter() - begin)
    elapsed = time.perf_counter() - started
    times_ms = np.array(times) * 1e3
    return {"p50_ms": float(np.percentile(times_ms, 50)), "p99_ms": float(np.percentile(times_ms, 99)),
            "calls_per_s": calls / elapsed}


def compute_vs_echo(calls: int = 2000, warmup: int = 200) -> dict[str, Any]:
    """Compute on the tutorial graph vs a bare echo of the same request bytes, sequential calls."""
    request = tutorial_request()
    payload = request.SerializeToString()
    with gradwire_server() as address, echo_server() as echo_address:
        with grpc.insecure_channel(address) as channel, grpc.insecure_channel(echo_address) as echo_channel:
            stub = pb_grpc.GradwireServiceStub(channel)
            grads = stub.Compute(request).grads
            assert np.frombuffer(grads[0].tensor.data, np.float32).tolist() == [15.0, 18.0]
            echo = echo_channel.unary_unary(ECHO_METHOD)
            result = {
                "request_bytes": len(payload),
                "compute": _latencies(lambda: stub.Compute(request), calls, warmup),
                "echo": _latencies(lambda: echo(payload), calls, warmup),
            }
    result["p50_ratio"] = result["compute"]["p50_ms"] / result["echo"]["p50_ms"]
    return result


def session_vs_recompute(calls: int = 50, batch: int = 64, width: int = 256, depth: int = 3) -> dict[str, Any]:
    """Repeated Backward on a retained session vs a one-shot Compute that resends and recomputes."""
    graph, weights = mlp_graph(batch, width, depth)
    roots = [pb.Root(id="loss")]
    with gradwire_server() as address, grpc.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        stub = pb_grpc.GradwireServiceStub(channel)
        session_id = stub.CreateSession(pb.CreateSessionRequest(graph=graph)).session_id
        backward = pb.BackwardRequest(session_id=session_id, roots=roots, retain_graph=True, return_grads=weights)
        compute = pb.ComputeRequest(graph=graph, roots=roots, return_grads=weights)
        result = {
            "graph": f"MLP batch {batch}, width {width}, {depth} layers, "
                     f"{graph.ByteSize() / MiB:.2f} MiB of leaves",
            "session_backward": _latencies(lambda: stub.Backward(backward), calls, warmup=5),
            "one_shot_compute": _latencies(lambda: stub.Compute(compute), calls, warmup=5),
        }
        stub.CloseSession(pb.CloseSessionRequest(session_id=session_id))
    result["speedup_p50"] = result["one_shot_compute"]["p50_ms"] / result["session_backward"]["p50_ms"]
    return result


def _big_leaf(megabytes: int) -> np.ndarray:
    return np.random.default_rng(1).standard_normal(megabytes * MiB // 4).astype(np.float32)


def _single_message(stub: pb_grpc.GradwireServiceStub, x: np.ndarray) -> np.ndarray:
    # Filled in place: protobuf copies a submessage handed to a constructor, once per level of nesting.
    request = pb.ComputeRequest(roots=[pb.Root(id="s")], return_grads=["x"])
    request.graph.nodes.append(_node("s", "sum", "x"))
    leaf = request.graph.leaves.add(id="x", requires_grad=True)
    leaf.value.dtype, leaf.value.shape[:] = pb.DTYPE_FLOAT32, x.shape
    leaf.value.data = x.tobytes()
    response = stub.Compute(request)
    return np.frombuffer(response.grads[0].tensor.data, np.float32)


def _streamed(stub: pb_grpc.GradwireServiceStub, x: np.ndarray, chunk_bytes: int) -> np.ndarray:
    raw = memoryview(x.view(np.uint8))

    def parts() -> Iterator[pb.UploadTensorRequest]:
        yield pb.UploadTensorRequest(header=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=x.shape))
        for start in range(0, len(raw), chunk_bytes):
            yield pb.UploadTensorRequest(chunk=bytes(raw[start:start + chunk_bytes]))

    upload_id = stub.UploadTensor(parts()).upload_id
    session_id = stub.CreateSession(pb.CreateSessionRequest(graph=pb.Graph(
        leaves=[pb.Leaf(id="x", upload_id=upload_id, requires_grad=True)], nodes=[_node("s", "sum", "x")],
    ))).session_id
    # The grad is larger than fits in a message: Backward defers it to DownloadTensor.
    response = stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[pb.Root(id="s")]))
    assert response.grads[0].deferred
    grad = bytearray(x.nbytes)
    offset = 0
    for part in stub.DownloadTensor(pb.DownloadTensorRequest(session_id=session_id, id="x", grad=True,
                                                             chunk_bytes=chunk_bytes)):
        if part.WhichOneof("part") == "chunk":
            grad[offset:offset + len(part.chunk)] = part.chunk
            offset += len(part.chunk)
    stub.CloseSession(pb.CloseSessionRequest(session_id=session_id))
    return np.frombuffer(grad, np.float32)


def _tcp_round_trip(nbytes: int) -> float:
    """Seconds to send nbytes to a loopback peer and receive nbytes back."""
    listener = socket.create_server(("127.0.0.1", 0))
    payload = os.urandom(1 << 20) * (nbytes >> 20)

    def peer() -> None:
        connection, _ = listener.accept()
        with connection:
            received = _receive(connection, nbytes)
            connection.sendall(received)

    thread = threading.Thread(target=peer)
    thread.start()
    with socket.create_connection(listener.getsockname()) as client:
        started = time.perf_counter()
        client.sendall(payload)
        _receive(client, nbytes)
        elapsed = time.perf_counter() - started
    thread.join()
    listener.close()
    return elapsed


def _receive(connection: socket.socket, nbytes: int) -> bytearray:
    buffer = bytearray(nbytes)
    view = memoryview(buffer)
    received = 0
    while received < nbytes:
        count = connection.recv_into(view[received:], min(nbytes - received, 16 * MiB))
        if count == 0:
            raise ConnectionError("peer closed early")
        received += count
    return buffer


def transfer(megabytes: int = 256, chunk_mib: int = 4) -> dict[str, Any]:
    """MB/s moving a leaf up and its gradient down (2 x megabytes MiB), three ways."""
    x = _big_leaf(megabytes)
    moved = 2 * x.nbytes

    def rate(seconds: float) -> float:
        return moved / seconds / 1e6

    result: dict[str, Any] = {"leaf_mib": megabytes, "chunk_mib": chunk_mib}
    with gradwire_server("--max-message-bytes", f"{2 * megabytes + 16}MiB") as address, \
            grpc.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        started = time.perf_counter()
        grad = _single_message(pb_grpc.GradwireServiceStub(channel), x)
        result["single_message_MBps"] = rate(time.perf_counter() - started)
        assert grad.shape == x.shape and bool(np.all(grad == 1.0))
    # A message cap far below the tensor's size: only the streaming path can move it.
    with gradwire_server("--max-message-bytes", f"{2 * chunk_mib + 2}MiB") as address, \
            grpc.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        started = time.perf_counter()
        grad = _streamed(pb_grpc.GradwireServiceStub(channel), x, chunk_mib * MiB)
        result["streamed_MBps"] = rate(time.perf_counter() - started)
        assert grad.shape == x.shape and bool(np.all(grad == 1.0))
    result["raw_tcp_MBps"] = rate(_tcp_round_trip(x.nbytes))
    return result


# ---------------------------------------------------------------- report

def run_all(quick: bool = False) -> dict[str, Any]:
    return {
        "compute_vs_echo": compute_vs_echo(calls=300 if quick else 2000, warmup=50 if quick else 200),
        "session_vs_recompute": session_vs_recompute(calls=10 if quick else 50),
        "transfer": transfer(megabytes=64 if quick else 256),
    }


def format_table(results: dict[str, Any]) -> str:
    echo, mlp, moved = results["compute_vs_echo"], results["session_vs_recompute"], results["transfer"]
    lines = [
        f"{'measurement':<44} {'p50 ms':>9} {'p99 ms':>9} {'calls/s':>9}",
        *(f"{name:<44} {row['p50_ms']:>9.3f} {row['p99_ms']:>9.3f} {row['calls_per_s']:>9.0f}" for name, row in (
            (f"Compute, tutorial graph ({echo['request_bytes']} B)", echo["compute"]),
            ("bare gRPC echo of the same bytes", echo["echo"]),
            ("session Backward (retained), " + mlp["graph"].split(",")[0], mlp["session_backward"]),
            ("one-shot Compute (resend + recompute)", mlp["one_shot_compute"]),
        )),
        f"Compute p50 / echo p50: {echo['p50_ratio']:.2f}x (target <= 1.5x)",
        f"retained session speedup (p50): {mlp['speedup_p50']:.1f}x  [{mlp['graph']}]",
        f"{moved['leaf_mib']} MiB leaf up + grad down: single message {moved['single_message_MBps']:.0f} MB/s, "
        f"streamed ({moved['chunk_mib']} MiB chunks) {moved['streamed_MBps']:.0f} MB/s, "
        f"raw loopback TCP {moved['raw_tcp_MBps']:.0f} MB/s",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and a 64 MiB leaf")
    parser.add_argument("--serve-echo", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.serve_echo:
        serve_echo()
        return 0
    print(format_table(run_all(quick=arguments.quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
