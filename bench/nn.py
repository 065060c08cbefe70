"""torch.nn.functional benchmark: conv2d, layer_norm and cross_entropy, forward + backward, in
gradwire.engine beside torch (CPU, one thread each; the harness limits numpy's BLAS to one thread too).

Sizes (issue 10): conv2d on an 8x16x32x32 float32 input with 32 3x3 filters (bias, padding 1);
layer_norm over the last dim of a 64x128x256 input with weight and bias; cross_entropy of 4096x1000
logits against class indices. Target: gradwire within 3x of torch.

    python -m bench.nn [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable

import numpy as np

from bench.rows import Target

NN_TARGET = Target("<= 3.0", ratio_max=3.0)


def conv_inputs(shrink: int) -> dict:
    rng = np.random.default_rng(0)
    side = max(32 // shrink, 4)
    return {"x": rng.standard_normal((8, 16, side, side), dtype=np.float32),
            "w": (rng.standard_normal((32, 16, 3, 3)) / 12).astype(np.float32),
            "b": rng.standard_normal(32).astype(np.float32)}


def conv2d(t: Any, inputs: dict) -> None:
    x = t.from_numpy(inputs["x"]).requires_grad_()
    w = t.from_numpy(inputs["w"]).requires_grad_()
    b = t.from_numpy(inputs["b"]).requires_grad_()
    t.nn.functional.conv2d(x, w, b, padding=1).sum().backward()


def layer_norm_inputs(shrink: int) -> dict:
    rng = np.random.default_rng(1)
    return {"x": rng.standard_normal((max(64 // shrink, 2), 128, 256), dtype=np.float32),
            "w": rng.standard_normal(256).astype(np.float32), "b": rng.standard_normal(256).astype(np.float32)}


def layer_norm(t: Any, inputs: dict) -> None:
    x = t.from_numpy(inputs["x"]).requires_grad_()
    w = t.from_numpy(inputs["w"]).requires_grad_()
    b = t.from_numpy(inputs["b"]).requires_grad_()
    t.nn.functional.layer_norm(x, (256,), w, b).sum().backward()


def cross_entropy_inputs(shrink: int) -> dict:
    rng = np.random.default_rng(2)
    batch = max(4096 // shrink, 8)
    return {"x": rng.standard_normal((batch, 1000), dtype=np.float32), "t": rng.integers(0, 1000, batch)}


def cross_entropy(t: Any, inputs: dict) -> None:
    x = t.from_numpy(inputs["x"]).requires_grad_()
    t.nn.functional.cross_entropy(x, t.from_numpy(inputs["t"])).backward()


WORKLOADS = (
    ("conv2d 8x16x32x32, 32 3x3 filters", conv2d, conv_inputs),
    ("layer_norm 64x128x256 (+affine)", layer_norm, layer_norm_inputs),
    ("cross_entropy 4096x1000", cross_entropy, cross_entropy_inputs),
)


def _time(function: Callable[[], None], repeats: int) -> list[float]:
    function()  # warm-up
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return samples


def run(quick: bool = False, shrink: int = 1) -> list[dict]:
    """One result per workload: medians and samples of both sides; `shrink` makes them tiny (tests)."""
    import torch

    import gradwire.engine as ge

    torch.set_num_threads(1)
    repeats = max((5 if quick else 15) // shrink, 2)
    results = []
    for name, workload, make_inputs in WORKLOADS:
        inputs = make_inputs(shrink)
        ours = _time(lambda: workload(ge, inputs), repeats)
        theirs = _time(lambda: workload(torch, inputs), repeats)
        results.append({"workload": name if shrink == 1 else f"{name} (shrunk /{shrink})",
                        "gradwire_samples_s": ours, "torch_samples_s": theirs,
                        "ratio": statistics.median(ours) / statistics.median(theirs)})
    return results


if __name__ == "__main__":
    from threadpoolctl import threadpool_limits

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    with threadpool_limits(limits=1, user_api="blas"):
        for result in run(parser.parse_args().quick):
            print(f"{result['workload']:40} gradwire {statistics.median(result['gradwire_samples_s']) * 1e3:8.2f}ms"
                  f"  torch {statistics.median(result['torch_samples_s']) * 1e3:8.2f}ms  ratio {result['ratio']:5.2f}")
