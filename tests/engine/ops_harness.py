"""Runs one program in gradwire.engine and in torch, and differentiates it by central differences.

A program is written once as `program(m, *inputs)` where `m` is the module (`gradwire.engine` or
`torch`): the engine is shaped like torch, so the same code runs in both. Inputs are numpy arrays or
Python scalars; floating arrays become tensors that require grad, other arrays plain tensors.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch

import gradwire.engine as gw

ENGINES = {"gradwire": gw, "torch": torch}


def is_differentiable(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def make_tensors(module: Any, inputs: Sequence[Any], float_dtype: np.dtype | None = None,
                 requires_grad: bool = True) -> list:
    """Tensors of `module` for the numpy inputs (floats cast to float_dtype and requiring grad)."""
    tensors = []
    for value in inputs:
        if not isinstance(value, np.ndarray):
            tensors.append(value)
        elif value.dtype.kind == "f":
            array = value.astype(float_dtype) if float_dtype is not None else value
            tensors.append(module.tensor(array, requires_grad=requires_grad))
        else:
            tensors.append(module.tensor(value))
    return tensors


def outcome(module: Any, program: Callable, inputs: Sequence[Any], requires_grad: bool = False) -> tuple:
    """("ok", result) or ("error", exception) of running the program in `module`."""
    try:
        return "ok", program(module, *make_tensors(module, inputs, requires_grad=requires_grad))
    except Exception as error:  # noqa: BLE001  (the error is what is compared)
        return "error", error


def builtin_class(error: BaseException) -> type:
    """The builtin exception class an error is (torch's and the engine's errors subclass one)."""
    return next(c for c in type(error).__mro__ if c.__module__ == "builtins")


def as_outputs(result: Any) -> list:
    """A program's result as a list of tensors (max(dim) gives a (values, indices) pair)."""
    return list(result) if isinstance(result, (tuple, list)) else [result]


def to_numpy(tensor: Any) -> np.ndarray | None:
    if tensor is None:
        return None
    if getattr(tensor, "_is_zerotensor", lambda: False)():  # torch's lazily-zero gradients
        return np.zeros(tuple(tensor.shape))
    return np.array(tensor.detach().numpy(), copy=True)


def dtype_name(tensor: Any) -> str:
    return str(tensor.dtype).rsplit(".", 1)[-1]


def grad_fn_name(tensor: Any) -> str | None:
    return None if tensor.grad_fn is None else tensor.grad_fn.name()


def seeds_for(outputs: list, rng: np.random.Generator) -> list:
    """One random seed per differentiable output (backward(g) differentiates sum(out * g))."""
    return [rng.standard_normal(out.shape) if out.requires_grad else None for out in outputs]


def differentiable_pairs(outputs: list, seeds: list) -> tuple[list, list]:
    pairs = [(o, s) for o, s in zip(outputs, seeds) if s is not None]
    return [o for o, _ in pairs], [s for _, s in pairs]


def vjp(module: Any, program: Callable, inputs: Sequence[Any], seeds: list, float_dtype: Any,
        create_graph: bool = False) -> tuple[list, list, list]:
    """(tensors, outputs, gradients w.r.t. the differentiable inputs; None where unused)."""
    tensors = make_tensors(module, inputs, float_dtype)
    outputs = as_outputs(program(module, *tensors))
    roots, root_seeds = differentiable_pairs(outputs, seeds)
    wrt = [t for t, v in zip(tensors, inputs) if is_differentiable(v)]
    seed_tensors = [module.tensor(s.astype(float_dtype)) for s in root_seeds]
    grads = module.autograd.grad(roots, wrt, seed_tensors, create_graph=create_graph, allow_unused=True)
    return wrt, outputs, list(grads)


def second_order(module: Any, program: Callable, inputs: Sequence[Any], seeds: list, weights: list) -> list:
    """d/d(inputs) of sum(grad_i * weight_i), the grads taken with create_graph=True (float64)."""
    wrt, _, grads = vjp(module, program, inputs, seeds, np.float64, create_graph=True)
    terms = [(g * module.tensor(w)).sum() for g, w in zip(grads, weights) if g is not None and g.requires_grad]
    if not terms:
        return [None] * len(wrt)
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return list(module.autograd.grad(total, wrt, allow_unused=True))


def numeric_vjp(program: Callable, inputs: Sequence[Any], seeds: list, eps: float = 1e-6) -> list:
    """Central differences (float64) of L = sum(out * seed) w.r.t. each differentiable input."""
    base = [v.astype(np.float64) if is_differentiable(v) else v for v in inputs]

    def loss(values: list) -> float:
        with gw.no_grad():
            outputs = as_outputs(program(gw, *make_tensors(gw, values)))
        return float(sum((o.numpy().astype(np.float64) * s).sum() for o, s in zip(outputs, seeds) if s is not None))

    grads = []
    for position, value in enumerate(base):
        if not is_differentiable(value):
            continue
        grad = np.zeros_like(value)
        for flat in range(value.size):
            values = list(base)
            for sign in (1, -1):
                shifted = value.copy()
                shifted.reshape(-1)[flat] += sign * eps
                values[position] = shifted
                grad.reshape(-1)[flat] += sign * loss(values)
        grads.append(grad / (2 * eps))
    return grads


def assert_close(actual: np.ndarray | None, expected: np.ndarray | None, what: str, rtol: float, atol: float) -> None:
    if expected is None or actual is None:  # "no gradient" and a gradient of zeros are the same
        actual = None if actual is None or np.all(np.abs(actual) <= atol) else actual
        expected = None if expected is None or np.all(np.abs(expected) <= atol) else expected
        assert actual is None and expected is None, f"{what}: {actual} vs {expected}"
        return
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} vs {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what, equal_nan=True)


# By the dtype compared: torch computes float16 ops in float32 and rounds once, numpy rounds each
# step, so float16 agrees to a few units in the last place; integers and bools exactly.
TOLERANCE = {"float16": dict(rtol=1e-2, atol=2e-3), "float32": dict(rtol=2e-5, atol=2e-5),
             "float64": dict(rtol=1e-10, atol=1e-12)}
EXACT = dict(rtol=0, atol=0)


def tolerance_for(tensor: Any) -> dict:
    return TOLERANCE.get(dtype_name(tensor), EXACT)


def compare_with_torch(program: Callable, inputs: Sequence[Any], float_dtype: Any, rng: np.random.Generator,
                       torch_program: Callable | None = None, compare_grad_fn: bool = True) -> None:
    """Run `program` in both engines: outputs (shape, dtype, requires_grad, grad_fn name, values) and the
    gradients of sum(output * random seed) w.r.t. every floating input must agree."""
    programs = {"gradwire": program, "torch": torch_program or program}
    seeds = seeds_for(as_outputs(programs["torch"](torch, *make_tensors(torch, inputs, float_dtype))), rng)
    results = {}
    for name, module in ENGINES.items():
        if any(s is not None for s in seeds):
            results[name] = vjp(module, programs[name], inputs, seeds, float_dtype)
        else:
            outputs = as_outputs(programs[name](module, *make_tensors(module, inputs, float_dtype)))
            results[name] = ([], outputs, [])
    (gw_wrt, gw_out, gw_grads), (_, t_out, t_grads) = results["gradwire"], results["torch"]
    assert len(gw_out) == len(t_out), "number of outputs"
    for i, (ours, theirs) in enumerate(zip(gw_out, t_out)):
        assert tuple(ours.shape) == tuple(theirs.shape), f"output {i} shape"
        assert dtype_name(ours) == dtype_name(theirs), f"output {i} dtype"
        assert ours.requires_grad == theirs.requires_grad, f"output {i} requires_grad"
        if compare_grad_fn:
            assert grad_fn_name(ours) == grad_fn_name(theirs), f"output {i} grad_fn"
        assert_close(to_numpy(ours).astype(np.float64), to_numpy(theirs).astype(np.float64),
                     f"output {i} values", **tolerance_for(theirs))
    for i, (ours, theirs, leaf) in enumerate(zip(gw_grads, t_grads, gw_wrt)):
        if ours is not None:
            assert dtype_name(ours) == dtype_name(leaf), f"grad {i} dtype must be the input's"
            assert ours.grad_fn is None, f"grad {i} must not be recorded without create_graph"
        assert_close(to_numpy(ours), to_numpy(theirs), f"grad {i}", **tolerance_for(leaf))
