"""The engine's compile beside the engine's eager mode: the same program, forward and backward, each call.

`gradwire.engine.compile(fn)` traces fn once and then replays typed steps (no call parsing, attribute
normalisation or shape and dtype rules per op); this measures what that saves on the tutorial graph, an
MLP training step (parameters captured from outside) and a scalar chain, eager and compiled taking turns
in the same run. The ratio compiled / eager is what to read (below 1: compile is faster).

    python -m bench.compiled [--quick]
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

import numpy as np

from bench.rows import Target, interleaved, row

TARGET = Target("<= 1.0", ratio_max=1.0)


def tutorial_workload(ge: Any, calls: int) -> tuple[Callable[[], None], Callable[[], None]]:
    a = ge.tensor([2.0, 3.0], requires_grad=True)

    def tutorial(a: Any) -> Any:
        return ((a + 3) * (a + 3) * 3).mean()

    return _loop(tutorial, ge.compile(tutorial), [a], calls)


def mlp_workload(ge: Any, calls: int, batch: int, width: int) -> tuple[Callable[[], None], Callable[[], None]]:
    rng = np.random.default_rng(0)
    w1 = ge.tensor((rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32), requires_grad=True)
    b1 = ge.zeros(width, requires_grad=True)
    w2 = ge.tensor((rng.standard_normal((width, 10)) / np.sqrt(width)).astype(np.float32), requires_grad=True)
    x = ge.tensor(rng.standard_normal((batch, width)).astype(np.float32))
    onehot = ge.tensor(np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch)])

    def mlp_step(x: Any, onehot: Any) -> Any:
        logits = (x @ w1 + b1).relu() @ w2
        return -(logits.log_softmax(1) * onehot).sum(1).mean()

    return _loop(mlp_step, ge.compile(mlp_step), [x, onehot], calls)


def chain_workload(ge: Any, calls: int, length: int) -> tuple[Callable[[], None], Callable[[], None]]:
    x = ge.tensor(1.0, requires_grad=True)

    def chain(x: Any) -> Any:
        y = x
        for _ in range(length // 2):
            y = (y * 0.9999) + 0.0001
        return y

    return _loop(chain, ge.compile(chain), [x], calls)


def _loop(eager: Callable[..., Any], compiled: Callable[..., Any], args: list, calls: int) -> tuple:
    def run(function: Callable[..., Any]) -> Callable[[], None]:
        def calls_of() -> None:
            for _ in range(calls):
                function(*args).backward()
        return calls_of

    return run(eager), run(compiled)


def run(quick: bool = False, shrink: int = 1) -> list[dict]:
    """Harness rows (bench.rows): compiled vs eager per workload, in ms per repetition of `calls` calls."""
    import gradwire.engine as ge

    repeats = max((5 if quick else 9) // shrink, 2)
    batch, width = (64, 256) if quick else (256, 1024)
    workloads = [
        ("tutorial graph x50 (compiled vs eager)", tutorial_workload(ge, max(50 // shrink, 1))),
        (f"MLP {batch}x{width} step x5 (compiled vs eager)", mlp_workload(ge, 5, batch, width)),
        (f"{1000 // shrink:,}-node scalar chain (compiled vs eager)", chain_workload(ge, 1, 1000 // shrink)),
    ]
    rows = []
    for name, (eager, compiled) in workloads:
        eager_s, compiled_s = interleaved([eager, compiled], repeats)
        rows.append(row("engine compile", name, "ms", [s * 1e3 for s in compiled_s], "eager engine",
                        [s * 1e3 for s in eager_s], TARGET))
    return rows


if __name__ == "__main__":
    from threadpoolctl import threadpool_limits

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    print(f"{'workload':48} {'compiled':>10} {'eager':>10} {'ratio':>6}")
    with threadpool_limits(limits=1, user_api="blas"):  # as bench.run: one thread, like the torch rows
        results = run(quick)
    for result in results:
        print(f"{result['workload']:48} {result['gradwire']['median']:8.2f}ms {result['baseline']['median']:8.2f}ms "
              f"{result['ratio']:6.2f}")
