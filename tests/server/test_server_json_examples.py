"""The JSON requests under examples/json replay against a real server (via json_format, and via
`buf curl` when buf is installed) and give the tutorial's results, checked against torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import grpc
import numpy as np
import pytest
import torch
from google.protobuf import json_format

from gradwire.v1 import gradwire_pb2 as pb
from server_helpers import REPO, arrays, buf_command, infos

EXAMPLES = REPO / "examples" / "json"
FOLDERS = sorted(path.name for path in EXAMPLES.iterdir() if path.is_dir())


def _steps(folder: str) -> list[tuple[str, Path]]:
    paths = sorted((EXAMPLES / folder).glob("*.json"), key=lambda p: int(p.name.split("-")[0]))
    return [(path.stem.split("-", 1)[1], path) for path in paths]


def replay(stub, folder: str) -> list:
    """Each step's response, or its grpc.StatusCode if it failed."""
    results = []
    for method, path in _steps(folder):
        request = json_format.Parse(path.read_text(), getattr(pb, f"{method}Request")())
        try:
            results.append(getattr(stub, method)(request))
        except grpc.RpcError as error:
            results.append(error.code())
    return results


def _tutorial_5() -> tuple[torch.Tensor, torch.Tensor]:
    a = torch.tensor([2.0, 3.0], requires_grad=True)
    return a, ((a + 3) * (a + 3) * 3).mean()


def check_1_leaves(results):
    info = infos(results[0].info)
    assert all(info[i].requires_grad and info[i].is_leaf for i in ("randn", "variable", "tensor64", "numpy_rg"))
    assert info["numpy"].requires_grad  # requires_grad_ changed the leaf itself, as in torch
    assert info["tensor64"].dtype == pb.DTYPE_FLOAT64 and info["variable"].dtype == pb.DTYPE_FLOAT32


def check_2_int_requires_grad(results):
    with pytest.raises(RuntimeError):
        torch.tensor([2, 3], requires_grad=True)
    assert results == [grpc.StatusCode.INVALID_ARGUMENT]


def check_3_attributes(results):
    np.testing.assert_array_equal(arrays(results[0].values)["y"], [4, 6])
    assert arrays(results[1].grads) == {"x": None}
    assert infos(results[0].info)["y"].grad_fn == (torch.tensor([2.0], requires_grad=True) * 2).grad_fn.name()


def check_4_propagation(results):
    grads = arrays(results[0].grads)
    assert grads["x"] is None and grads["y"] is None
    np.testing.assert_array_equal(grads["z"], [1, 1])
    assert not infos(results[0].info)["a"].requires_grad and infos(results[0].info)["b"].requires_grad


def check_5_one_shot(results):
    a, out = _tutorial_5()
    out.backward()
    assert arrays(results[0].values)["out"] == pytest.approx(out.item())
    np.testing.assert_array_equal(arrays(results[0].grads)["a"], a.grad.numpy())


def check_5_retain_graph(results):
    a, out = _tutorial_5()
    out.backward(retain_graph=True)
    np.testing.assert_array_equal(arrays(results[1].grads)["a"], a.grad.numpy())
    out.backward()
    np.testing.assert_array_equal(arrays(results[2].grads)["a"], a.grad.numpy())
    assert results[3] == grpc.StatusCode.FAILED_PRECONDITION
    assert isinstance(results[4], pb.CloseSessionResponse)


def check_6_scalar_seed(results):
    a, out = _tutorial_5()
    out.backward()
    np.testing.assert_array_equal(arrays(results[0].grads)["a"], a.grad.numpy())


def check_7_non_scalar(results):
    assert results[1] == grpc.StatusCode.INVALID_ARGUMENT
    np.testing.assert_array_equal(arrays(results[2].grads)["m"], [4, 27])


def test_every_example_folder_has_a_check():
    assert FOLDERS and all(f"check_{folder}" in globals() for folder in FOLDERS)


@pytest.mark.parametrize("folder", FOLDERS)
def test_example_replays(stub, folder):
    globals()[f"check_{folder}"](replay(stub, folder))
    globals()[f"check_{folder}"](replay(stub, folder))  # replayable: sessions were closed


def test_examples_are_generated_from_generate_py():
    result = subprocess.run([sys.executable, str(EXAMPLES / "generate.py"), "--check"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(buf_command() is None, reason="buf not installed (npm install @bufbuild/buf)")
def test_buf_curl_calls_the_server_through_reflection(server):
    result = subprocess.run(
        [buf_command(), "curl", "--protocol", "grpc", "--http2-prior-knowledge",
         "-d", f"@{EXAMPLES / '5_one_shot' / '1-Compute.json'}",
         f"http://127.0.0.1:{server.port}/gradwire.v1.GradwireService/Compute"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    response = json_format.Parse(result.stdout, pb.ComputeResponse())
    np.testing.assert_array_equal(arrays(response.grads)["a"], [15, 18])
    assert json.loads(result.stdout)["grads"][0]["id"] == "a"
