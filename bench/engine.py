"""Engine benchmark: forward + backward in gradwire.engine beside torch (CPU, same thread count).

Workloads (issue 2): the tutorial's graphs; a 2-layer MLP (batch 256, width 1024, float32) with a softmax
cross-entropy loss; a chain of 20 elementwise ops over 4M float32; a 10,000-node scalar chain. Each
workload is one function of the module it runs on, so both sides run the same program. Medians of several
repetitions after a warm-up; the ratio gradwire/torch is what to read (these machines are noisy).

    python -m bench.engine [--quick] [--tutorial-cpu]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable

import numpy as np


def tutorial(t: Any, _: dict) -> None:
    a = t.tensor([2., 3.], requires_grad=True)
    out = ((a + 3) * (a + 3) * 3).mean()
    out.backward(retain_graph=True)
    out.backward()
    m = t.tensor([2., 3.], requires_grad=True)
    n = t.zeros(2)
    n[0] = m[0] ** 2
    n[1] = m[1] ** 3
    n.backward(gradient=t.tensor([1., 1.]))


def mlp_inputs(size: str) -> dict:
    rng = np.random.default_rng(0)
    batch, width, classes = (256, 1024, 10) if size == "full" else (64, 256, 10)
    return {
        "x": rng.standard_normal((batch, width), dtype=np.float32),
        "w1": (rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32),
        "w2": (rng.standard_normal((width, classes)) / np.sqrt(width)).astype(np.float32),
        "onehot": np.eye(classes, dtype=np.float32)[rng.integers(0, classes, batch)],
    }


def mlp(t: Any, inputs: dict) -> None:
    x = t.from_numpy(inputs["x"])
    w1 = t.from_numpy(inputs["w1"]).requires_grad_()
    w2 = t.from_numpy(inputs["w2"]).requires_grad_()
    logits = (x @ w1).relu() @ w2
    loss = -(logits.log_softmax(1) * t.from_numpy(inputs["onehot"])).sum(1).mean()
    loss.backward()


def elementwise_chain(t: Any, inputs: dict) -> None:
    x = t.from_numpy(inputs["big"]).requires_grad_()
    y = x
    for i in range(5):
        y = ((y * 1.001 + 0.5).tanh() - 0.1) * y.sigmoid()
    y.sum().backward()


def scalar_chain(t: Any, inputs: dict) -> None:
    x = t.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(inputs["length"] // 2):
        y = (y * 0.9999) + 0.0001
    y.backward()


def _time(function: Callable[[], None], repeats: int) -> list[float]:
    function()  # warm-up
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return samples


def run(quick: bool = False, shrink: int = 1) -> list[dict]:
    """Rows of medians and samples; `shrink` divides the chains' sizes and the repeats (tests run it tiny)."""
    import torch

    import gradwire.engine as ge

    torch.set_num_threads(1)  # numpy's elementwise ops are single-threaded; compare like with like
    elements, nodes = (1_000_000 if quick else 4_000_000) // shrink, 10_000 // shrink
    big = np.random.default_rng(1).standard_normal(elements).astype(np.float32)
    workloads = [
        ("tutorial graphs", tutorial, {}, (200 if not quick else 50) // shrink),
        ("MLP 256x1024 + softmax CE" if not quick else "MLP 64x256 + softmax CE",
         mlp, mlp_inputs("full" if not quick else "small"), 10 if not quick else 5),
        (f"20 elementwise ops over {elements:,} f32", elementwise_chain, {"big": big}, 5 if not quick else 3),
        (f"{nodes:,}-node scalar chain", scalar_chain, {"length": nodes}, 5 if not quick else 3),
    ]
    rows = []
    for name, workload, inputs, repeats in workloads:
        ours = _time(lambda: workload(ge, inputs), repeats)
        theirs = _time(lambda: workload(torch, inputs), repeats)
        rows.append({
            "workload": name,
            "gradwire_median_s": statistics.median(ours),
            "torch_median_s": statistics.median(theirs),
            "ratio": statistics.median(ours) / statistics.median(theirs),
            "gradwire_spread_s": [min(ours), max(ours)],
            "torch_spread_s": [min(theirs), max(theirs)],
            "gradwire_samples_s": ours,
            "torch_samples_s": theirs,
            "repeats": repeats,
        })
    return rows


def tutorial_cpu(blocks: int = 10, calls: int = 200) -> dict:
    """The tutorial graphs' CPU time per call (process_time, so other processes' load counts less than in
    wall-clock medians), gradwire and torch in alternating blocks; medians over the blocks."""
    import torch

    import gradwire.engine as ge

    torch.set_num_threads(1)

    def block(module: Any) -> float:
        start = time.process_time()
        for _ in range(calls):
            tutorial(module, {})
        return (time.process_time() - start) / calls

    for _ in range(calls):  # warm-up
        tutorial(ge, {})
        tutorial(torch, {})
    ours, theirs = [], []
    for _ in range(blocks):
        ours.append(block(ge))
        theirs.append(block(torch))
    return {"gradwire_cpu_s": statistics.median(ours), "torch_cpu_s": statistics.median(theirs),
            "ratio": statistics.median(ours) / statistics.median(theirs)}


def print_table(rows: list[dict]) -> None:
    print(f"{'workload':36} {'gradwire':>12} {'torch':>12} {'ratio':>7}")
    for row in rows:
        print(f"{row['workload']:36} {row['gradwire_median_s'] * 1e3:10.2f}ms {row['torch_median_s'] * 1e3:10.2f}ms "
              f"{row['ratio']:7.2f}")


if __name__ == "__main__":
    from threadpoolctl import threadpool_limits

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tutorial-cpu", action="store_true", help="only the tutorial graphs' CPU time per call")
    # numpy's BLAS gets torch's one thread too, as `make bench` (bench/run.py) runs it: on a loaded 2-core
    # machine a multi-threaded OpenBLAS matmul can take 30x its time, which the MLP row then measured.
    arguments = parser.parse_args()
    with threadpool_limits(limits=1, user_api="blas"):
        if arguments.tutorial_cpu:
            cpu = tutorial_cpu()
            print(f"tutorial graphs, CPU per call: gradwire {cpu['gradwire_cpu_s'] * 1e6:.0f} µs, "
                  f"torch {cpu['torch_cpu_s'] * 1e6:.0f} µs, ratio {cpu['ratio']:.2f}")
        else:
            print_table(run(arguments.quick))
