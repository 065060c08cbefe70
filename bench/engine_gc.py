"""Where the 10,000-node scalar chain's time goes: the engine's own Python per op, and Python's cycle collector.

    python -m bench.engine_gc [--chains 20]

Two figures that the machine's load moves far less than bench.engine's wall-clock ratios: the CPU time
(process time, best of 5) per op of building and differentiating the chain with the cycle collector off,
for the engine and for torch; and, with it on, in a process that has imported torch as bench.engine's
does, how many collections of each generation one chain triggers and their CPU time. Every tracked object
a graph node keeps alive moves the next full collection closer, and a full collection walks every tracked
object of the process, so this is the cost of the graph's objects that the wall-clock ratio hides.
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

from bench.engine import scalar_chain


def per_op_without_gc(t: Any, length: int = 10_000) -> tuple[float, float]:
    """(forward, backward) CPU µs per op, collector off, best of 5."""
    clock = time.process_time
    best = [float("inf"), float("inf")]
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(6):
            x = t.tensor(1.0, requires_grad=True)
            y = x
            start = clock()
            for _ in range(length // 2):
                y = (y * 0.9999) + 0.0001
            built = clock()
            y.backward()
            done = clock()
            best = [min(best[0], built - start), min(best[1], done - built)]
            del x, y
    finally:
        if enabled:
            gc.enable()
    return best[0] / length * 1e6, best[1] / length * 1e6


def collector_share(engine: Any, chains: int, length: int = 10_000) -> dict:
    """Collections per chain by generation, and the CPU ms per chain in total and in the collector."""
    counts = [0, 0, 0]
    spent = [0.0, 0.0]

    def watch(phase: str, info: dict) -> None:
        if phase == "start":
            spent[1] = time.process_time()
        else:
            counts[info["generation"]] += 1
            spent[0] += time.process_time() - spent[1]

    scalar_chain(engine, {"length": length})
    gc.callbacks.append(watch)
    try:
        start = time.process_time()
        for _ in range(chains):
            scalar_chain(engine, {"length": length})
        total = time.process_time() - start
    finally:
        gc.callbacks.remove(watch)
    return {"collections": [n / chains for n in counts], "cpu_ms": total / chains * 1e3,
            "gc_ms": spent[0] / chains * 1e3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=20)
    chains = parser.parse_args().chains
    import torch

    import gradwire.engine as ge

    torch.set_num_threads(1)
    for name, module in (("gradwire", ge), ("torch", torch)):
        forward, backward = per_op_without_gc(module)
        print(f"{name:8} collector off: forward {forward:.1f} µs/op, backward {backward:.1f} µs/op, "
              f"total {forward + backward:.1f} µs/op")
    share = collector_share(ge, chains)
    gen0, gen1, gen2 = share["collections"]
    print(f"gradwire collector on: per chain {gen0:.1f}/{gen1:.1f}/{gen2:.2f} collections of generation 0/1/2, "
          f"{share['cpu_ms']:.0f} ms CPU of which {share['gc_ms']:.0f} ms collecting")


if __name__ == "__main__":
    main()
