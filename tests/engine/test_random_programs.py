"""Randomised programs: a seeded generator writes straight-line programs that run in torch and in the engine.

Each program starts from a few float64 leaves, applies a random sequence of ops (unary math, broadcasting
binary ops with tensors or scalars, reductions, shape ops, indexing, index assignment into a fresh
tensor), reuses intermediate values (so the graph has diamonds), and ends in a scalar loss. The values
and every leaf's gradient must match torch's.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradwire.engine as ge

torch = pytest.importorskip("torch", reason="torch is the oracle for these comparisons")

UNARY = ["exp_safe", "tanh", "sigmoid", "sin", "cos", "relu", "abs", "neg", "square", "softmax", "log_softmax",
         # the elementwise family (issue 10)
         "atan", "asinh", "erf", "erfc", "expm1_safe", "log1p_abs", "exp2_safe", "log2_safe", "sinh_safe",
         "cosh_safe", "atanh_safe", "reciprocal_safe", "rsqrt_safe", "square_op", "floor_mix", "clamp_min",
         "nan_to_num", "gelu", "gelu_tanh", "silu", "mish", "elu", "selu", "celu", "softplus", "logsigmoid",
         "softsign", "tanhshrink", "leaky_relu", "hardtanh", "relu6", "hardswish", "softmin",
         # the shape family
         "cumsum", "flip", "roll"]
BINARY = ["add", "sub", "mul", "div_safe", "maximum", "minimum",
          "atan2", "hypot", "logaddexp", "lerp", "xlogy_safe", "fmod_safe", "remainder_safe", "clamp_min_tensor",
          "copysign"]


def build_program(seed: int) -> list[tuple]:
    """A program as data: a list of steps over value slots, so both runs execute exactly the same thing."""
    rng = np.random.default_rng(seed)
    steps: list[tuple] = []
    shapes = [(3, 4), (3, 1), (1, 4), (4,)]
    slots = []
    for i in range(3):
        shape = shapes[rng.integers(len(shapes))]
        steps.append(("leaf", rng.normal(size=shape)))
        slots.append(shape)
    for _ in range(rng.integers(6, 14)):
        kind = rng.choice(["unary", "binary", "scalar", "reduce", "shape", "index", "setitem"],
                          p=[0.25, 0.3, 0.15, 0.08, 0.08, 0.07, 0.07])
        a = int(rng.integers(len(slots)))
        if kind == "unary":
            steps.append(("unary", str(rng.choice(UNARY)), a))
            slots.append(slots[a])
        elif kind == "binary":
            b = int(rng.integers(len(slots)))
            try:
                shape = np.broadcast_shapes(slots[a], slots[b])
            except ValueError:
                continue
            steps.append(("binary", str(rng.choice(BINARY)), a, b))
            slots.append(shape)
        elif kind == "scalar":
            steps.append(("scalar", str(rng.choice(["radd", "rsub", "rmul", "pow2", "pow3"])), a, float(rng.normal())))
            slots.append(slots[a])
        elif kind == "reduce" and len(slots[a]) == 2:
            dim = int(rng.integers(2))
            keepdim = bool(rng.integers(2))
            op = str(rng.choice(["sum", "mean", "var", "max_dim"]))
            steps.append(("reduce", op, a, dim, keepdim))
            shape = list(slots[a])
            if keepdim:
                shape[dim] = 1
            else:
                shape.pop(dim)
            slots.append(tuple(shape))
        elif kind == "shape" and len(slots[a]) == 2:
            steps.append(("transpose", a))
            slots.append(slots[a][::-1])
        elif kind == "index" and slots[a] and slots[a][0] >= 3:
            steps.append(("index", a))
            slots.append((2,) + tuple(slots[a][1:]))
        elif kind == "setitem" and slots[a] and slots[a][0] >= 3:
            steps.append(("setitem", a))
            slots.append(slots[a])
    # The loss mixes the last few values so most of the graph is used.
    steps.append(("loss", list(range(max(0, len(slots) - 4), len(slots)))))
    return steps


def _more_unary(t, x) -> dict:
    """The newer unary ops, each kept inside its domain and away from kinks by construction."""
    F = t.nn.functional
    return {
        "atan": x.atan, "asinh": x.asinh, "erf": x.erf, "erfc": lambda: t.special.erfc(x),
        "expm1_safe": lambda: (x * 0.5).expm1(), "log1p_abs": lambda: (x * x).log1p(), "exp2_safe": lambda: t.exp2(x * 0.5),
        "log2_safe": lambda: (x * x + 1).log2(), "sinh_safe": lambda: (x * 0.5).sinh(), "cosh_safe": lambda: (x * 0.5).cosh(),
        "atanh_safe": lambda: (x.tanh() * 0.9).atanh(), "reciprocal_safe": lambda: (x * x + 1).reciprocal(),
        "rsqrt_safe": lambda: t.rsqrt(x * x + 1), "square_op": x.square, "floor_mix": lambda: x + x.floor(),
        "clamp_min": lambda: x.clamp_min(0.1), "nan_to_num": lambda: x.nan_to_num(), "gelu": lambda: F.gelu(x),
        "gelu_tanh": lambda: F.gelu(x, approximate="tanh"), "silu": lambda: F.silu(x), "mish": lambda: F.mish(x),
        "elu": lambda: F.elu(x), "selu": lambda: t.selu(x), "celu": lambda: F.celu(x, 0.5), "softplus": lambda: F.softplus(x),
        "logsigmoid": lambda: F.logsigmoid(x), "softsign": lambda: F.softsign(x), "tanhshrink": lambda: F.tanhshrink(x),
        "leaky_relu": lambda: F.leaky_relu(x, 0.2), "hardtanh": lambda: F.hardtanh(x), "relu6": lambda: F.relu6(x * 4),
        "hardswish": lambda: F.hardswish(x * 2), "softmin": lambda: F.softmin(x, -1), "cumsum": lambda: x.cumsum(-1),
        "flip": lambda: x.flip(-1), "roll": lambda: x.roll(1, -1),
    }


def _more_binary(t, x, y) -> dict:
    return {
        "atan2": lambda: t.atan2(x, y * y + 0.5), "hypot": lambda: t.hypot(x, y * y + 0.5),
        "logaddexp": lambda: t.logaddexp(x, y), "lerp": lambda: t.lerp(x, y, 0.3),
        "xlogy_safe": lambda: t.xlogy(x, y * y + 1), "fmod_safe": lambda: t.fmod(x, y * y + 1.5),
        "remainder_safe": lambda: x % (y * y + 1.5), "clamp_min_tensor": lambda: x.clamp_min(y),
        "copysign": lambda: t.copysign(x, y),
    }


def program_loss(t, steps: list[tuple], leaves):
    """The program's loss, its leaf steps taking `leaves` in order (shared with the compiled programs)."""
    values, given = [], iter(leaves)
    for step in steps:
        kind = step[0]
        if kind == "leaf":
            values.append(next(given))
        elif kind == "unary":
            x = values[step[2]]
            values.append({
                "exp_safe": lambda: (x * 0.3).exp(), "tanh": x.tanh, "sigmoid": x.sigmoid, "sin": x.sin,
                "cos": x.cos, "relu": x.relu, "abs": x.abs, "neg": lambda: -x, "square": lambda: x * x,
                "softmax": lambda: x.softmax(-1), "log_softmax": lambda: x.log_softmax(-1),
                **_more_unary(t, x),
            }[step[1]]())
        elif kind == "binary":
            x, y = values[step[2]], values[step[3]]
            values.append({
                "add": lambda: x + y, "sub": lambda: x - y, "mul": lambda: x * y,
                "div_safe": lambda: x / (y * y + 1), "maximum": lambda: t.maximum(x, y), "minimum": lambda: t.minimum(x, y),
                **_more_binary(t, x, y),
            }[step[1]]())
        elif kind == "scalar":
            x, s = values[step[2]], step[3]
            values.append({"radd": lambda: s + x, "rsub": lambda: s - x, "rmul": lambda: s * x,
                           "pow2": lambda: x ** 2, "pow3": lambda: x ** 3}[step[1]]())
        elif kind == "reduce":
            x, dim, keepdim = values[step[2]], step[3], step[4]
            if step[1] == "max_dim":
                values.append(x.max(dim, keepdim=keepdim).values)
            else:
                values.append(getattr(x, step[1])(dim=dim, keepdim=keepdim))
        elif kind == "transpose":
            values.append(values[step[1]].T)
        elif kind == "index":
            values.append(values[step[1]][[0, 2]])
        elif kind == "setitem":
            x = values[step[1]]
            fresh = x * 1.5
            fresh[1] = x[0] * 2
            values.append(fresh)
        elif kind == "loss":
            return sum((values[i] * values[i]).sum() * (0.5 + 0.1 * i) for i in step[1])
    raise AssertionError("program has no loss")


def run_program(t, steps: list[tuple]):
    leaves = [t.tensor(step[1], dtype=t.float64, requires_grad=True) for step in steps if step[0] == "leaf"]
    loss = program_loss(t, steps, leaves)
    loss.backward()
    return loss, [leaf.grad for leaf in leaves]


@pytest.mark.parametrize("seed", range(120))
def test_random_program_matches_torch(seed):
    steps = build_program(seed)
    ours_loss, ours_grads = run_program(ge, steps)
    their_loss, their_grads = run_program(torch, steps)
    np.testing.assert_allclose(ours_loss.item(), their_loss.item(), rtol=1e-10)
    for ours, theirs in zip(ours_grads, their_grads):
        if theirs is None:
            assert ours is None
        else:
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-9, atol=1e-12)
