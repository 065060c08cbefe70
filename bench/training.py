"""Training loops (issue 15): 1,000-step loops through the SDK against a server subprocess, and an
engine-local nn + optim loop beside torch.

For each SDK pattern (manual in-place update, rebinding the parameter, a new minibatch each step, nn +
optim) three rows: the per-step time late in the run over the time at step 10 (constant cost: <= 1.1),
the steady per-step time over one bare gRPC echo round trip (<= 2.5), and the server's RSS at the end
over its RSS at step 10 (flat). Then the engine's nn + optim step over torch's (<= 1.5).
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from bench.plan import Plan
from bench.rows import Target, row

GROUP = "training"
STEPS = {"full": 1000, "quick": 200, "tiny": 30}
PATTERNS = ("manual", "rebinding", "minibatch", "nn_optim")
ENGINE_MLP = (1000, 100, 10)  # pytorch/tutorials' two_layer_net sizes
WINDOW = 50  # steps per timing window (medians over a window, not single steps, on a noisy machine)


def make_step(torch: Any, pattern: str, seed: int = 0, sizes: tuple[int, int, int] = (16, 32, 1)) -> Callable[[], float]:
    """One training step of `pattern`, written as torch code, on `torch` (a Client, the engine or torch);
    `sizes` are the nn + optim MLP's input, hidden and output widths."""
    rng = np.random.default_rng(seed)
    d_in, hidden, d_out = sizes
    x = torch.tensor(rng.standard_normal((64, d_in)).astype(np.float32))
    y = torch.tensor(rng.standard_normal((64, d_out)).astype(np.float32))
    state = {"w": torch.tensor(rng.standard_normal((d_in, d_out)).astype(np.float32) * 0.1, requires_grad=True)}
    if pattern == "nn_optim":
        model = torch.nn.Sequential(torch.nn.Linear(d_in, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, d_out))
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.MSELoss()

    def step() -> float:
        w = state["w"]
        if pattern == "manual":
            loss = ((x @ w - y) ** 2).mean()
            loss.backward()
            with torch.no_grad():
                w -= 0.01 * w.grad
                w.grad.zero_()
        elif pattern == "rebinding":
            loss = ((x @ w - y) ** 2).mean()
            loss.backward()
            state["w"] = (w - 0.01 * w.grad).detach()
            state["w"].requires_grad_(True)
        elif pattern == "minibatch":
            xb = torch.tensor(rng.standard_normal((64, d_in)).astype(np.float32))
            yb = torch.tensor(rng.standard_normal((64, d_out)).astype(np.float32))
            loss = ((xb @ w - yb) ** 2).mean()
            loss.backward()
            with torch.no_grad():
                w -= 0.01 * w.grad
            w.grad = None
        else:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return loss.item()

    return step


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _echo_ms(address: str, calls: int) -> list[float]:
    import grpc

    from bench.service import ECHO_METHOD

    payload = bytes(600)  # about a training step's request
    with grpc.insecure_channel(address) as channel:
        echo = channel.unary_unary(ECHO_METHOD)
        samples = []
        for i in range(calls + 20):
            started = time.perf_counter()
            echo(payload)
            if i >= 20:
                samples.append((time.perf_counter() - started) * 1e3)
    return samples


def sdk_rows(plan: Plan) -> list[dict]:
    from bench.service import echo_server, gradwire_server_process
    from gradwire.client import Client

    steps = STEPS.get(plan.name, 200)
    window = min(WINDOW, max(steps // 4, 5))
    with echo_server() as echo_address:
        echo = _echo_ms(echo_address, 300)
    rows = []
    for pattern in PATTERNS:
        with gradwire_server_process() as (address, process), Client(address) as torch:
            step = make_step(torch, pattern)
            times, rss_early = [], None
            for index in range(steps):
                started = time.perf_counter()
                step()
                times.append((time.perf_counter() - started) * 1e3)
                if index == 10:
                    rss_early = _rss_mib(process.pid)
            rss_late = _rss_mib(process.pid)
        early, late = times[10:10 + window], times[-window:]
        rows.append(row(GROUP, f"SDK {pattern}: per step at step {steps} / at step 10", "ms", late,
                        "step 10", early, Target("<= 1.1", ratio_max=1.1)))
        rows.append(row(GROUP, f"SDK {pattern}: per step / one echo round trip", "ms", late, "gRPC echo", echo,
                        Target("<= 2.5", ratio_max=2.5)))
        rows.append(row(GROUP, f"SDK {pattern}: server RSS at step {steps} / at step 10", "MiB", [rss_late],
                        "step 10", [rss_early], Target("flat (<= 1.05)", ratio_max=1.05)))
    return rows


def engine_rows(plan: Plan) -> list[dict]:
    import torch

    import gradwire.engine as engine

    steps = {"full": 300, "quick": 100, "tiny": 10}.get(plan.name, 100)
    samples = {}
    for name, module in (("gradwire", engine), ("torch", torch)):
        step = make_step(module, "nn_optim", sizes=ENGINE_MLP)
        for _ in range(5):
            step()
        timed = []
        for _ in range(steps):
            started = time.perf_counter()
            step()
            timed.append((time.perf_counter() - started) * 1e3)
        samples[name] = timed
    return [row(GROUP, "engine nn + optim step (MLP 1000-100-10, batch 64, Adam)", "ms", samples["gradwire"], "torch",
                samples["torch"], Target("<= 1.5", ratio_max=1.5))]


def run(plan: Plan) -> list[dict]:
    return sdk_rows(plan) + engine_rows(plan)
