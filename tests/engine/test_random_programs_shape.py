"""Random programs over the reduction, scan, shape, indexing and linear-algebra ops, run in torch and in
the engine: the same seeded generator style as test_random_programs.py, with values kept at shape (3, 4)
so any step can follow any other. Values and every leaf's gradient must match torch's."""

from __future__ import annotations

import numpy as np
import pytest

import gradwire.engine as ge

torch = pytest.importorskip("torch", reason="torch is the oracle for these comparisons")

INDEX = [[0, 2, 1, 0], [2, 2, 0, 1], [1, 0, 0, 2]]
# Each step maps a (3, 4) value (and a second one for the binary steps) to a (3, 4) value.
UNARY = {
    "flip": lambda t, x: x.flip(0), "fliplr": lambda t, x: x.fliplr(), "roll": lambda t, x: x.roll(1, 1),
    "cumsum": lambda t, x: x.cumsum(1), "cumprod": lambda t, x: (x.tanh() * 0.9).cumprod(0),
    "logcumsumexp": lambda t, x: x.logcumsumexp(1), "tril": lambda t, x: x.tril(), "triu": lambda t, x: x.triu(1),
    "sort": lambda t, x: x.sort(1).values, "cummax": lambda t, x: x.cummax(0).values,
    "split_cat": lambda t, x: t.cat([p * (k + 1) for k, p in enumerate(x.split(2, 1))], 1),
    "unbind_stack": lambda t, x: t.stack(x.unbind(0)[::-1]), "chunk_cat": lambda t, x: t.cat(x.chunk(3, 0)[::-1]),
    "gather": lambda t, x: x.gather(0, t.tensor(INDEX)),
    "scatter_add": lambda t, x: x.scatter_add(0, t.tensor(INDEX), x * 0.5),
    "masked_fill": lambda t, x: x.masked_fill(x > 0.5, 0.25), "logsumexp": lambda t, x: x - x.logsumexp(1, keepdim=True),
    "norm": lambda t, x: x / (x.norm(dim=1, keepdim=True) + 1), "std": lambda t, x: x * x.std(0, keepdim=True),
    "amax": lambda t, x: x - x.amax(1, keepdim=True), "pad_crop": lambda t, x: t.nn.functional.pad(x, (1, 1))[:, 1:-1] * 2,
    "reflect": lambda t, x: t.nn.functional.pad(x[None], (2, 0), mode="reflect")[0, :, :4],
    "repeat": lambda t, x: x.repeat(1, 2)[:, 2:6], "flatten": lambda t, x: x.flatten().unflatten(0, (3, 4)),
    "diagonal": lambda t, x: x + x.diagonal()[:, None], "einsum": lambda t, x: t.einsum("ij,kj->ik", x, x) @ x * 0.1,
    "topk": lambda t, x: x.topk(2, dim=1).values.repeat(1, 2), "index_select": lambda t, x: x.index_select(0, t.tensor([2, 0, 1])),
    "take_along": lambda t, x: t.take_along_dim(x, x.argsort(1), 1),
}
BINARY = {
    "add": lambda t, x, y: x + y, "mul": lambda t, x, y: x * y,
    "addmm": lambda t, x, y: t.addmm(x, x[:, :3], y[:3], alpha=0.3),
    "masked_scatter": lambda t, x, y: x.masked_scatter(y > 0, y * 2),
    "index_add": lambda t, x, y: x.index_add(1, t.tensor([3, 0]), y[:, :2]),
    "scatter_reduce": lambda t, x, y: x.scatter_reduce(0, t.tensor(INDEX), y, "amax"),
}


def build_program(seed: int) -> list[tuple]:
    rng = np.random.default_rng(seed)
    steps: list[tuple] = [("leaf", rng.normal(size=(3, 4))) for _ in range(2)]
    count = 2
    for _ in range(rng.integers(4, 9)):
        if rng.random() < 0.7:
            steps.append(("unary", str(rng.choice(sorted(UNARY))), int(rng.integers(count))))
        else:
            steps.append(("binary", str(rng.choice(sorted(BINARY))), int(rng.integers(count)), int(rng.integers(count))))
        count += 1
    steps.append(("loss", list(range(max(0, count - 3), count))))
    return steps


def run_program(t, steps: list[tuple]):
    values, leaves = [], []
    for kind, *args in steps:
        if kind == "leaf":
            leaf = t.tensor(args[0], dtype=t.float64, requires_grad=True)
            leaves.append(leaf)
            values.append(leaf)
        elif kind == "unary":
            values.append(UNARY[args[0]](t, values[args[1]]))
        elif kind == "binary":
            values.append(BINARY[args[0]](t, values[args[1]], values[args[2]]))
        else:
            loss = sum((values[i] * values[i]).sum() * (0.5 + 0.1 * i) for i in args[0])
            loss.backward()
            return loss, [leaf.grad for leaf in leaves]
    raise AssertionError("program has no loss")


@pytest.mark.parametrize("seed", range(40))
def test_random_shape_program_matches_torch(seed):
    steps = build_program(seed)
    ours_loss, ours_grads = run_program(ge, steps)
    their_loss, their_grads = run_program(torch, steps)
    np.testing.assert_allclose(ours_loss.item(), their_loss.item(), rtol=1e-9)
    for ours, theirs in zip(ours_grads, their_grads):
        if theirs is None:
            assert ours is None
        else:
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-8, atol=1e-10)


def test_every_step_runs():
    """Each step once, so a broken one fails by name rather than by chance."""
    for name in UNARY:
        run_program(ge, [("leaf", np.arange(12.0).reshape(3, 4) / 7 - 0.8), ("unary", name, 0), ("loss", [1])])
    for name in BINARY:
        run_program(ge, [("leaf", np.arange(12.0).reshape(3, 4) / 7 - 0.8), ("binary", name, 0, 0), ("loss", [1])])
