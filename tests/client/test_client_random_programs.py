"""Random programs (hypothesis) run through a Client and in torch: same values, grads and dtypes.

A program is a list of steps over a growing pool of tensors; each step applies one op to earlier
tensors (broadcasting shapes included), and the sum of the last one is backwarded.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch", reason="torch is the oracle for these comparisons")

UNARY = {
    "exp": lambda t, x: (x * 0.1).exp(),
    "tanh": lambda t, x: x.tanh(),
    "sigmoid": lambda t, x: x.sigmoid(),
    "relu": lambda t, x: x.relu(),
    "abs": lambda t, x: x.abs(),
    "neg": lambda t, x: -x,
    "square": lambda t, x: x ** 2,
    "sum_last": lambda t, x: x.sum(-1, keepdim=True),
    "mean_all": lambda t, x: x.mean(),
    "scalar_ops": lambda t, x: (2 - x) / 3 + 1.5 * x,
    "softmax": lambda t, x: x.softmax(-1),
    "index": lambda t, x: x[..., :1] if x.ndim else x[None],
    "clamp": lambda t, x: x.clamp(min=-0.5, max=0.5),
    # the elementwise family (issue 10)
    "atan": lambda t, x: x.atan(),
    "erf": lambda t, x: t.special.erf(x),
    "log1p_square": lambda t, x: (x * x).log1p(),
    "rsqrt": lambda t, x: t.rsqrt(x * x + 1),
    "gelu": lambda t, x: t.nn.functional.gelu(x),
    "silu": lambda t, x: t.nn.functional.silu(x),
    "softplus": lambda t, x: t.nn.functional.softplus(x, beta=2.0),
    "leaky_relu": lambda t, x: t.nn.functional.leaky_relu(x, 0.1),
    "hardtanh": lambda t, x: t.nn.functional.hardtanh(x),
    "elu": lambda t, x: t.nn.functional.elu(x),
    "floor_mix": lambda t, x: x + x.floor(),
    # the shape family
    "cumsum": lambda t, x: x.cumsum(-1) if x.ndim else x * 1,
    "flip": lambda t, x: x.flip(-1) if x.ndim else x * 1,
}
BINARY = {
    "add": lambda t, x, y: x + y,
    "sub": lambda t, x, y: x - y,
    "mul": lambda t, x, y: x * y,
    "div": lambda t, x, y: x / (y.abs() + 1),
    "maximum": lambda t, x, y: t.maximum(x, y),
    "where": lambda t, x, y: t.where(x > y, x, y * 2),
    "atan2": lambda t, x, y: t.atan2(x, y * y + 0.5),
    "logaddexp": lambda t, x, y: t.logaddexp(x, y),
    "lerp": lambda t, x, y: t.lerp(x, y, 0.25),
    "remainder": lambda t, x, y: x % (y * y + 1.5),
    "hypot": lambda t, x, y: t.hypot(x, y),
}
SHAPES = [(3,), (2, 3), (2, 1), (1, 3), ()]

step = st.one_of(
    st.tuples(st.just("unary"), st.sampled_from(sorted(UNARY)), st.integers(0, 20)),
    st.tuples(st.just("binary"), st.sampled_from(sorted(BINARY)), st.integers(0, 20), st.integers(0, 20)),
)


def run(t, leaves, steps):
    pool = [t.tensor(value, requires_grad=True) for value in leaves]
    leaf_tensors = list(pool)
    for kind, name, *picks in steps:
        operands = [pool[i % len(pool)] for i in picks]
        pool.append(UNARY[name](t, *operands) if kind == "unary" else BINARY[name](t, *operands))
    result = pool[-1]
    if result.requires_grad:
        result.sum().backward()
    grads = [None if x.grad is None else x.grad.tolist() for x in leaf_tensors]
    return result.detach().numpy().tolist(), str(result.dtype).split(".")[-1], list(result.shape), grads


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shapes=st.lists(st.sampled_from(SHAPES), min_size=1, max_size=3),
       steps=st.lists(step, min_size=1, max_size=6), seed=st.integers(0, 2**16))
def test_random_program_matches_torch(client, shapes, steps, seed):
    rng = np.random.default_rng(seed)
    leaves = [rng.normal(size=shape).astype(np.float32) for shape in shapes]
    ours = run(client, leaves, steps)
    theirs = run(torch, leaves, steps)
    assert ours[1:3] == theirs[1:3]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
    for mine, reference in zip(ours[3], theirs[3]):
        assert (mine is None) == (reference is None)
        if mine is not None:
            np.testing.assert_allclose(mine, reference, rtol=1e-4, atol=1e-5)
