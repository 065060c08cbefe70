"""The reductions, scans, orderings, norms, products and linalg ops have their rules in gradwire.rules, and
those rules agree with torch.

For every op-table row of these ops, each call the program makes to one of them is recorded as the SDK
would see it (operand shapes and dtypes, the call's attributes); the rules alone (on shape/dtype stand-ins,
no engine tensor) predict the shape and dtype of each output, and torch running the same program must
produce exactly those. A table of mistakes checks that the rules raise the builtin class torch raises
(and, where noted, torch's message).
"""

from __future__ import annotations

import pathlib
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "engine"))

import gradwire.engine as gw  # noqa: E402
from gradwire.engine import dispatch, methods  # noqa: E402
from gradwire.rules import dtypes  # noqa: E402
from gradwire.rules.attrs import normalise_attrs  # noqa: E402
from gradwire.rules.spec import RULES, Bound, rules_of  # noqa: E402
from ops_harness import as_outputs, builtin_class, make_tensors  # noqa: E402
from ops_table import ROWS  # noqa: E402

REDUCTIONS = ("sum", "mean", "prod", "var", "std", "logsumexp", "max", "min", "max_dim", "min_dim", "softmax",
              "log_softmax", "amax", "amin", "aminmax", "argmax", "argmin", "all", "any", "count_nonzero",
              "linalg_vector_norm", "linalg_matrix_norm", "norm", "cumsum", "cumprod", "logcumsumexp", "cummax",
              "cummin", "sort", "argsort", "topk", "kthvalue", "median", "median_dim", "mode")
LINALG = ("matmul", "mm", "bmm", "dot", "mv", "einsum", "tensordot", "outer", "kron", "cross", "linalg_cross",
          "addmm", "addmv", "baddbmm", "addbmm", "linalg_inv", "linalg_det", "linalg_slogdet", "linalg_solve",
          "linalg_cholesky", "linalg_qr", "linalg_eigh", "linalg_svd", "linalg_svdvals")
FAMILY = REDUCTIONS + LINALG
FAMILY_ROWS = [r for r in ROWS if r.op in FAMILY]


@pytest.mark.parametrize("name", FAMILY)
def test_op_is_defined_in_the_rules(name):
    assert name in RULES, f"{name} has no entry in gradwire.rules"
    op = RULES[name]
    assert op.out_shape is not None and op.dtype_rule is not None


@dataclass(frozen=True)
class Meta:
    """What the SDK knows of an operand: its shape and dtype, no values."""

    shape: tuple
    dtype: Any


@dataclass
class Call:
    name: str
    operands: list  # Meta, a Python scalar, or None for an absent optional operand
    attrs: dict
    result: Any


def _meta(value: Any) -> Any:
    if isinstance(value, gw.Tensor):
        return Meta(tuple(value.shape), value._dtype)
    return value


def _record_calls(monkeypatch) -> list[Call]:
    """Every apply_op call of a family op: its operands' metadata, its attributes as the caller gave them."""
    calls: list[Call] = []
    original = dispatch.apply_op

    def recording(op, operands, attrs, **options):
        result = original(op, operands, attrs, **options)
        if op.name in FAMILY:
            calls.append(Call(op.name, [_meta(x) for x in operands], dict(attrs), result))
        return result

    monkeypatch.setattr(dispatch, "apply_op", recording)
    monkeypatch.setattr(methods, "apply_op", recording)
    return calls


def predicted(call: Call) -> tuple[list, list]:
    """The output shapes and dtypes the rules give for a recorded call (rules only, on Meta operands)."""
    op = rules_of(call.name)
    attrs = normalise_attrs(op, call.attrs)
    operands = list(call.operands) + [None] * (op.max_inputs - len(call.operands)) if op.operand_attrs else call.operands
    operand_dtypes = [x.dtype if isinstance(x, Meta) else None for x in operands]
    shapes = [x.shape if isinstance(x, Meta) else () for x in operands]
    shape = op.out_shape(shapes, attrs)
    _, dtype = op.dtype_rule(operand_dtypes, operands, attrs)
    if op.num_outputs == 1:
        return [shape], [dtype]
    shapes_out = list(shape) if isinstance(shape, list) else [shape] + [None] * (op.num_outputs - 1)
    later = [op.output_dtypes[i] if i < len(op.output_dtypes) else dtypes.int64 for i in range(op.num_outputs - 1)]
    return shapes_out, [dtype] + [dtype if d is None else d for d in later]


def _torch_dtype_name(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).rsplit(".", 1)[-1]


# float64 on every row, float32 on the first row of each op (its dtypes; the shapes do not change).
FIRST_ROWS = list({r.op: r for r in reversed(FAMILY_ROWS)}.values())
CASES = [pytest.param(r, np.float64, id=f"{r.id}-f64") for r in FAMILY_ROWS] + [
    pytest.param(r, np.float32, id=f"{r.id}-f32") for r in FIRST_ROWS]


@pytest.mark.parametrize("row, float_dtype", CASES)
def test_rules_predict_torchs_shapes_and_dtypes(row, float_dtype, monkeypatch):
    values = row.inputs(np.random.default_rng(0))
    calls = _record_calls(monkeypatch)
    engine_outputs = as_outputs(row.program(gw, *make_tensors(gw, values, float_dtype)))
    monkeypatch.undo()
    torch_outputs = as_outputs(row.program_for(torch)(torch, *make_tensors(torch, values, float_dtype)))
    assert any(c.name == row.op for c in calls), f"{row.id}: the program never called {row.op}"
    compared = 0
    for call in calls:
        results = list(call.result) if isinstance(call.result, tuple) else [call.result]
        shapes, result_dtypes = predicted(call)
        for result, shape, dtype in zip(results, shapes, result_dtypes):
            position = next((i for i, out in enumerate(engine_outputs) if out is result), None)
            if position is None:
                continue  # an intermediate value: the engine's own check ties it to its forward
            expected = torch_outputs[position]
            if shape is not None and type(shape) is not Bound:
                assert tuple(shape) == tuple(expected.shape), f"{call.name}: rules {shape}, torch {tuple(expected.shape)}"
            assert dtype.name == _torch_dtype_name(expected), f"{call.name}: rules {dtype.name}, torch {expected.dtype}"
            compared += 1
    if row.torch_program is None and len(calls) == 1 and not isinstance(calls[0].result, tuple):
        assert compared == 1, f"{row.id}: the op's result is not the program's output"


# The op-table rows of linalg.qr use Q and R only through other ops (their signs are not unique); its
# shapes are compared with torch's in test_decomposition_shapes_match_torch.
COMPARED_ELSEWHERE = {"linalg_qr"}


def test_every_family_op_is_compared_with_torch():
    """Each op has at least one row whose output is the op's own result (so the comparison above ran)."""
    covered = set()
    for row in FAMILY_ROWS:
        values = row.inputs(np.random.default_rng(0))
        with pytest.MonkeyPatch.context() as monkeypatch:
            calls = _record_calls(monkeypatch)
            outputs = as_outputs(row.program(gw, *make_tensors(gw, values, np.float64)))
        for call in calls:
            results = call.result if isinstance(call.result, tuple) else (call.result,)
            if any(out is r for out in outputs for r in results):
                covered.add(call.name)
    assert not sorted(set(FAMILY) - covered - COMPARED_ELSEWHERE)


DECOMPOSITIONS = [
    ("linalg_qr", lambda a, **kw: torch.linalg.qr(a, **kw), {"mode": "reduced"}),
    ("linalg_qr", lambda a, **kw: torch.linalg.qr(a, **kw), {"mode": "complete"}),
    ("linalg_svd", lambda a, **kw: torch.linalg.svd(a, **kw), {"full_matrices": True}),
    ("linalg_svd", lambda a, **kw: torch.linalg.svd(a, **kw), {"full_matrices": False}),
    ("linalg_slogdet", lambda a, **kw: torch.linalg.slogdet(a), {}),
    ("linalg_eigh", lambda a, **kw: torch.linalg.eigh(a), {}),
]


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 3, 3)], ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name, run, attrs", DECOMPOSITIONS, ids=lambda v: v if isinstance(v, str) else "")
def test_decomposition_shapes_match_torch(name, run, attrs, shape):
    """Each output of a decomposition (one rules call per output) has the shape torch gives it."""
    op = rules_of(name)
    try:
        expected = run(torch.arange(float(np.prod(shape))).reshape(shape).sin(), **attrs)
    except RuntimeError as error:  # not square: the rules must refuse it too, with torch's class
        with pytest.raises(RuntimeError):
            _rules_call(name, [m(*shape)], {**attrs, "output": 0})
        assert "square" in str(error)
        return
    for output, tensor in enumerate(expected):
        got = op.out_shape([shape], normalise_attrs(op, {**attrs, "output": output}))
        assert tuple(got) == tuple(tensor.shape), (name, attrs, output)


# ---------------------------------------------------------------- mistakes, through the rules alone
def _rules_call(name: str, operands: list, attrs: dict, args: tuple = (), kwargs: dict | None = None):
    """Run an op's rules as the SDK does: parse, normalise, dtype rule, shape rule."""
    op = rules_of(name)
    if args or kwargs:
        operands, attrs = op.parse_call(list(operands) + list(args), kwargs or {})
    attrs = normalise_attrs(op, attrs)
    op.dtype_rule([x.dtype if isinstance(x, Meta) else None for x in operands], operands, attrs)
    return op.out_shape([x.shape if isinstance(x, Meta) else () for x in operands], attrs)


F32, F64, I64 = dtypes.float32, dtypes.float64, dtypes.int64


def m(*shape, dtype=F32) -> Meta:
    return Meta(tuple(shape), dtype)


def t(*shape, dtype=torch.float32) -> torch.Tensor:
    return torch.ones(shape, dtype=dtype)


# (id, torch statement, rules call, torch's message must match exactly)
MISTAKES = [
    ("sum_dim_out_of_range", lambda: t(3, 4).sum(dim=2), lambda: _rules_call("sum", [m(3, 4)], {"dim": 2}), True),
    ("sum_repeated_dim", lambda: t(3, 4).sum(dim=(0, 0)), lambda: _rules_call("sum", [m(3, 4)], {"dim": (0, 0)}), True),
    ("mean_of_int", lambda: t(3, dtype=torch.int64).mean(), lambda: _rules_call("mean", [m(3, dtype=I64)], {}), False),
    ("var_of_int", lambda: t(3, dtype=torch.int64).var(), lambda: _rules_call("var", [m(3, dtype=I64)], {}), False),
    ("prod_of_dims", lambda: t(3, 4).prod(dim=(0, 1)), lambda: _rules_call("prod", [m(3, 4)], {"dim": (0, 1)}), False),
    ("var_unbiased_and_correction", lambda: t(3, 4).var(0, unbiased=True, correction=1),
     lambda: _rules_call("var", [m(3, 4)], {}, (0,), {"unbiased": True, "correction": 1}), False),
    ("max_of_empty", lambda: t(0, 3).max(), lambda: _rules_call("max", [m(0, 3)], {}), True),
    ("max_dim_of_empty", lambda: t(0, 3).max(dim=0), lambda: _rules_call("max_dim", [m(0, 3)], {"dim": 0}), True),
    ("amax_of_empty", lambda: t(0, 3).amax(), lambda: _rules_call("amax", [m(0, 3)], {}), True),
    ("argmax_of_empty", lambda: t(0, 3).argmax(), lambda: _rules_call("argmax", [m(0, 3)], {}), False),
    ("median_dim_of_empty", lambda: t(0, 3).median(0), lambda: _rules_call("median_dim", [m(0, 3)], {"dim": 0}), True),
    ("softmax_dim", lambda: t(3, 4).softmax(2), lambda: _rules_call("softmax", [m(3, 4)], {"dim": 2}), True),
    ("cumsum_dim", lambda: t(3, 4).cumsum(-3), lambda: _rules_call("cumsum", [m(3, 4)], {"dim": -3}), True),
    ("topk_too_many", lambda: t(3, 4).topk(5), lambda: _rules_call("topk", [m(3, 4)], {"k": 5}), False),
    ("kthvalue_too_far", lambda: t(3, 4).kthvalue(5), lambda: _rules_call("kthvalue", [m(3, 4)], {"k": 5}), False),
    ("vector_norm_minus_inf_of_empty", lambda: torch.linalg.vector_norm(t(0, 3), ord=-float("inf")),
     lambda: _rules_call("linalg_vector_norm", [m(0, 3)], {"ord": -float("inf")}), True),
    ("vector_norm_text_order", lambda: torch.linalg.vector_norm(t(3), ord="fro"),
     lambda: _rules_call("linalg_vector_norm", [m(3)], {"ord": "fro"}), False),
    ("matrix_norm_order", lambda: torch.linalg.matrix_norm(t(3, 3), ord=3),
     lambda: _rules_call("linalg_matrix_norm", [m(3, 3)], {"ord": 3}), False),
    ("matrix_norm_of_vector", lambda: torch.linalg.matrix_norm(t(3)),
     lambda: _rules_call("linalg_matrix_norm", [m(3)], {}), True),
    ("matmul_2d", lambda: t(3, 4) @ t(5, 6), lambda: _rules_call("matmul", [m(3, 4), m(5, 6)], {}), True),
    ("matmul_1d", lambda: t(4) @ t(5), lambda: _rules_call("matmul", [m(4), m(5)], {}), True),
    ("matmul_mv", lambda: t(3, 4) @ t(5), lambda: _rules_call("matmul", [m(3, 4), m(5)], {}), True),
    ("matmul_vm", lambda: t(4) @ t(5, 6), lambda: _rules_call("matmul", [m(4), m(5, 6)], {}), True),
    ("matmul_batched", lambda: t(2, 3, 4) @ t(2, 5, 6), lambda: _rules_call("matmul", [m(2, 3, 4), m(2, 5, 6)], {}), True),
    ("matmul_folded", lambda: t(2, 3, 4) @ t(5, 6), lambda: _rules_call("matmul", [m(2, 3, 4), m(5, 6)], {}), True),
    ("matmul_folded_vector", lambda: t(2, 3, 4) @ t(5), lambda: _rules_call("matmul", [m(2, 3, 4), m(5)], {}), True),
    ("matmul_left_matrix", lambda: t(5, 6) @ t(2, 3, 4), lambda: _rules_call("matmul", [m(5, 6), m(2, 3, 4)], {}), True),
    ("matmul_batch_broadcast", lambda: t(2, 3, 4) @ t(3, 4, 6), lambda: _rules_call("matmul", [m(2, 3, 4), m(3, 4, 6)], {}),
     False),
    ("matmul_0d", lambda: torch.matmul(t(), t(3)), lambda: _rules_call("matmul", [m(), m(3)], {}), True),
    ("matmul_int_float", lambda: t(3, 4, dtype=torch.int64) @ t(4, 5),
     lambda: _rules_call("matmul", [m(3, 4, dtype=I64), m(4, 5)], {}), False),
    ("mm_shapes", lambda: torch.mm(t(3, 4), t(5, 6)), lambda: _rules_call("mm", [m(3, 4), m(5, 6)], {}), True),
    ("mm_vector", lambda: torch.mm(t(3), t(5, 6)), lambda: _rules_call("mm", [m(3), m(5, 6)], {}), True),
    ("mm_int_float", lambda: torch.mm(t(3, 4, dtype=torch.int64), t(4, 5)),
     lambda: _rules_call("mm", [m(3, 4, dtype=I64), m(4, 5)], {}), False),
    ("bmm_shapes", lambda: torch.bmm(t(2, 3, 4), t(2, 5, 6)), lambda: _rules_call("bmm", [m(2, 3, 4), m(2, 5, 6)], {}), True),
    ("bmm_batches", lambda: torch.bmm(t(2, 3, 4), t(3, 4, 6)), lambda: _rules_call("bmm", [m(2, 3, 4), m(3, 4, 6)], {}), True),
    ("bmm_rank", lambda: torch.bmm(t(3, 4), t(3, 4, 6)), lambda: _rules_call("bmm", [m(3, 4), m(3, 4, 6)], {}), True),
    ("dot_sizes", lambda: torch.dot(t(3), t(4)), lambda: _rules_call("dot", [m(3), m(4)], {}), True),
    ("mv_sizes", lambda: torch.mv(t(3, 4), t(5)), lambda: _rules_call("mv", [m(3, 4), m(5)], {}), True),
    ("addmm_shapes", lambda: torch.addmm(t(3, 6), t(3, 4), t(5, 6)),
     lambda: _rules_call("addmm", [m(3, 6), m(3, 4), m(5, 6)], {}), True),
    ("addmm_input", lambda: torch.addmm(t(2, 5), t(3, 4), t(4, 6)),
     lambda: _rules_call("addmm", [m(2, 5), m(3, 4), m(4, 6)], {}), True),
    ("addmv_input", lambda: torch.addmv(t(2), t(3, 4), t(4)), lambda: _rules_call("addmv", [m(2), m(3, 4), m(4)], {}), True),
    ("addbmm_sizes", lambda: torch.addbmm(t(3, 6), t(2, 3, 4), t(2, 5, 6)),
     lambda: _rules_call("addbmm", [m(3, 6), m(2, 3, 4), m(2, 5, 6)], {}), True),
    ("outer_matrix", lambda: torch.outer(t(3), t(4, 1)), lambda: _rules_call("outer", [m(3), m(4, 1)], {}), True),
    ("einsum_sizes", lambda: torch.einsum("ij,jk->ik", t(3, 4), t(5, 6)),
     lambda: _rules_call("einsum", [m(3, 4), m(5, 6)], {"equation": "ij,jk->ik"}), True),
    ("einsum_operands", lambda: torch.einsum("ij,jk->ik", t(3, 4)),
     lambda: _rules_call("einsum", [m(3, 4)], {"equation": "ij,jk->ik"}), True),
    ("einsum_output", lambda: torch.einsum("ij->ik", t(3, 4)), lambda: _rules_call("einsum", [m(3, 4)], {"equation": "ij->ik"}),
     True),
    ("einsum_rank", lambda: torch.einsum("ijk->ij", t(3, 4)), lambda: _rules_call("einsum", [m(3, 4)], {"equation": "ijk->ij"}),
     True),
    ("tensordot_sizes", lambda: torch.tensordot(t(3, 4), t(5, 6), dims=1),
     lambda: _rules_call("tensordot", [m(3, 4), m(5, 6)], {"dims": 1}), False),
    ("cross_length", lambda: torch.linalg.cross(t(3, 4), t(3, 4)),
     lambda: _rules_call("linalg_cross", [m(3, 4), m(3, 4)], {}), True),
    ("inv_not_square", lambda: torch.linalg.inv(t(3, 4)), lambda: _rules_call("linalg_inv", [m(3, 4)], {}), True),
    ("inv_vector", lambda: torch.linalg.inv(t(3)), lambda: _rules_call("linalg_inv", [m(3)], {}), True),
    ("det_not_square", lambda: torch.linalg.det(t(3, 4)), lambda: _rules_call("linalg_det", [m(3, 4)], {}), True),
    ("solve_sizes", lambda: torch.linalg.solve(t(3, 3), t(4, 2)), lambda: _rules_call("linalg_solve", [m(3, 3), m(4, 2)], {}),
     True),
    ("solve_vector", lambda: torch.linalg.solve(t(3, 3), t(4)), lambda: _rules_call("linalg_solve", [m(3, 3), m(4)], {}), True),
    ("svd_vector", lambda: torch.linalg.svd(t(3)), lambda: _rules_call("linalg_svd", [m(3)], {"output": 0}), True),
    ("qr_mode", lambda: torch.linalg.qr(t(3, 3), mode="x"),
     lambda: _rules_call("linalg_qr", [m(3, 3)], {"mode": "x", "output": 0}), False),
    ("eigh_uplo", lambda: torch.linalg.eigh(t(3, 3), UPLO="X"),
     lambda: _rules_call("linalg_eigh", [m(3, 3)], {"UPLO": "X", "output": 0}), True),
    ("inv_of_int", lambda: torch.linalg.inv(t(3, 3, dtype=torch.int64)),
     lambda: _rules_call("linalg_inv", [m(3, 3, dtype=I64)], {}), False),
]


@pytest.mark.parametrize("torch_statement, rules_statement, same_message",
                         [pytest.param(*case[1:], id=case[0]) for case in MISTAKES])
def test_rules_raise_what_torch_raises(torch_statement, rules_statement, same_message):
    with pytest.raises(Exception) as torch_error:
        torch_statement()
    with pytest.raises(Exception) as rules_error:
        rules_statement()
    assert builtin_class(rules_error.value) is builtin_class(torch_error.value), (rules_error.value, torch_error.value)
    if same_message:
        assert str(torch_error.value) in str(rules_error.value)


def test_var_takes_a_tuple_of_dims_spelled_axis():
    """torch.tensor([[1., 2.], [3., 5.]]).var(axis=(0, 1)) (issue 9): the rules parse it and give a 0-dim result."""
    shape = _rules_call("var", [m(2, 2)], {}, (), {"axis": (0, 1)})
    assert shape == tuple(torch.tensor([[1., 2.], [3., 5.]]).var(axis=(0, 1)).shape)
    assert _rules_call("std", [m(2, 3)], {}, (), {"axis": (1,), "keepdim": True}) == (2, 1)


def test_value_dependent_failures_stay_in_the_forward():
    """A singular matrix is found only by running the op: the rules accept it, the engine raises as torch."""
    assert _rules_call("linalg_inv", [m(2, 2)], {}) == (2, 2)
    with pytest.raises(RuntimeError):
        torch.linalg.inv(torch.zeros(2, 2))
    with pytest.raises(RuntimeError):
        gw.linalg.inv(gw.zeros(2, 2))


# ---------------------------------------------------------------- sweeps: every shape pairing against torch
def _outcome(statement) -> Any:
    """The result's shape (a tuple of shapes for several outputs), or the builtin class of the error."""
    try:
        result = statement()
    except Exception as error:  # noqa: BLE001  (the error's class is what is compared)
        return builtin_class(error)
    if isinstance(result, list):  # the rules' shapes of several outputs
        return tuple(tuple(s) for s in result)
    if isinstance(result, tuple) and result and not isinstance(result[0], int):
        return tuple(tuple(r.shape) if hasattr(r, "shape") else tuple(r) for r in result)
    return tuple(result.shape) if hasattr(result, "shape") else tuple(result)


MATRIX_SHAPES = [(), (3,), (4,), (3, 4), (4, 3), (4, 5), (1, 4, 5), (2, 3, 4), (2, 4, 5), (3, 4, 5), (2, 1, 3, 4)]
PRODUCTS = {"matmul": torch.matmul, "mm": torch.mm, "bmm": torch.bmm, "dot": torch.dot, "mv": torch.mv}


@pytest.mark.parametrize("name", PRODUCTS)
def test_matrix_product_shapes_against_torch(name):
    """Every pairing of the shapes: the rules (and the engine) give torch's result shape, or raise torch's
    error class."""
    for a in MATRIX_SHAPES:
        for b in MATRIX_SHAPES:
            expected = _outcome(lambda: PRODUCTS[name](t(*a), t(*b)))
            got = _outcome(lambda: _rules_call(name, [m(*a), m(*b)], {}))
            assert got == expected, (name, a, b, got, expected)
            engine = _outcome(lambda: getattr(gw, name)(gw.ones(a), gw.ones(b)))
            assert engine == expected, (name, a, b, engine, expected)


REDUCTION_SHAPES = [(), (0,), (3,), (2, 0), (2, 3), (1, 2, 3)]
REDUCTION_CALLS = {  # op: (torch statement, attributes), over dim in DIMS (None: the call without a dim)
    "sum": (lambda x, d: x.sum() if d is None else x.sum(dim=d), lambda d: {"dim": d}),
    "mean": (lambda x, d: x.mean(dim=d, keepdim=True), lambda d: {"dim": d, "keepdim": True}),
    "amax": (lambda x, d: x.amax() if d is None else x.amax(dim=d), lambda d: {} if d is None else {"dim": d}),
    "logsumexp": (lambda x, d: x.logsumexp(dim=d), lambda d: {"dim": d}),
    "std": (lambda x, d: x.std(dim=d), lambda d: {"dim": d}),
    "max": (lambda x, d: x.max(), lambda d: {}),
    "max_dim": (lambda x, d: x.max(dim=d), lambda d: {"dim": d}),
    "argmax": (lambda x, d: x.argmax(dim=d, keepdim=True), lambda d: {"dim": d, "keepdim": True}),
    "median_dim": (lambda x, d: x.median(dim=d), lambda d: {"dim": d}),
    "mode": (lambda x, d: x.mode(dim=-1 if d is None else d), lambda d: {"dim": -1 if d is None else d}),
    "softmax": (lambda x, d: x.softmax(dim=d), lambda d: {"dim": d}),
    "cumsum": (lambda x, d: x.cumsum(dim=d), lambda d: {"dim": d}),
    "cummax": (lambda x, d: x.cummax(dim=d), lambda d: {"dim": d}),
    "sort": (lambda x, d: x.sort(dim=-1 if d is None else d), lambda d: {"dim": -1 if d is None else d}),
    "count_nonzero": (lambda x, d: x.count_nonzero(dim=d), lambda d: {"dim": d}),
}
DIMS = [None, 0, -1, 1, 2, (0, 1), (0, -1)]


@pytest.mark.parametrize("name", REDUCTION_CALLS)
def test_reduction_shapes_against_torch(name):
    """Every shape (empty ones too) and dim: the rules (and the engine) give torch's shapes, or raise torch's
    error class."""
    statement, attrs_for = REDUCTION_CALLS[name]
    for shape in REDUCTION_SHAPES:
        for dim in DIMS:
            expected = _outcome(lambda: statement(t(*shape), dim))
            if expected is TypeError:
                continue  # torch's argument parser refuses this dim's type for this op (e.g. a tuple)
            engine = _outcome(lambda: statement(gw.ones(shape), dim))
            assert engine == expected, (name, shape, dim, engine, expected)
            got = _outcome(lambda: _rules_call(name, [m(*shape)], attrs_for(dim)))
            if isinstance(got, tuple) and got and isinstance(got[0], tuple) and not isinstance(expected[0], tuple):
                got = got[0]
            if isinstance(expected, tuple) and expected and isinstance(expected[0], tuple) and not (
                    got and isinstance(got, tuple) and isinstance(got[0], tuple)):
                expected = expected[0]  # the rule gives the first output's shape only
            assert got == expected, (name, shape, dim, got, expected)


FUSED = {"addmm": torch.addmm, "addmv": torch.addmv, "baddbmm": torch.baddbmm, "addbmm": torch.addbmm}
FUSED_INPUTS = [(), (1,), (3,), (5,), (3, 5), (2, 3), (2, 3, 5), (1, 5)]
FUSED_FACTORS = [((3, 4), (4, 5)), ((3, 4), (4,)), ((2, 3, 4), (2, 4, 5)), ((3, 4), (5, 4)), ((2, 3, 4), (3, 4, 5))]


@pytest.mark.parametrize("name", FUSED)
def test_fused_product_shapes_against_torch(name):
    """addmm-style ops over inputs that do and do not expand to the product: rules, engine and torch agree."""
    for base in FUSED_INPUTS:
        for a, b in FUSED_FACTORS:
            expected = _outcome(lambda: FUSED[name](t(*base), t(*a), t(*b)))
            got = _outcome(lambda: _rules_call(name, [m(*base), m(*a), m(*b)], {}))
            assert got == expected, (name, base, a, b, got, expected)
            engine = _outcome(lambda: getattr(gw, name)(gw.ones(base), gw.ones(a), gw.ones(b)))
            assert engine == expected, (name, base, a, b, engine, expected)


LINALG_CALLS = {
    "linalg_inv": lambda mod, x: mod.linalg.inv(x), "linalg_det": lambda mod, x: mod.linalg.det(x),
    "linalg_cholesky": lambda mod, x: mod.linalg.cholesky(x), "linalg_svdvals": lambda mod, x: mod.linalg.svdvals(x),
}
LINALG_SHAPES = [(), (3,), (3, 3), (3, 4), (2, 3, 3), (0, 3, 3), (2, 0, 0)]


@pytest.mark.parametrize("name", LINALG_CALLS)
def test_linalg_shapes_against_torch(name):
    """Identity-like (positive-definite) batches of each shape: rules, engine and torch agree."""
    def matrix(mod, shape):
        eye = mod.eye(shape[-1]) if len(shape) >= 2 and shape[-1] == shape[-2] else 0.0
        return mod.ones(shape) * 0.1 + eye

    for shape in LINALG_SHAPES:
        expected = _outcome(lambda: LINALG_CALLS[name](torch, matrix(torch, shape)))
        got = _outcome(lambda: _rules_call(name, [m(*shape)], {}))
        assert got == expected, (name, shape, got, expected)
        engine = _outcome(lambda: LINALG_CALLS[name](gw, matrix(gw, shape)))
        assert engine == expected, (name, shape, engine, expected)


EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]), ("ij,jk", [(3, 4), (1, 5)]), ("ij,jk->ik", [(3, 4), (5, 6)]),
    ("ii->i", [(3, 3)]), ("ii->i", [(3, 4)]), ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("...ij,...jk", [(2, 3, 4), (3, 4, 5)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("i,i->", [(3,), (4,)]),
    ("ij->ji", [(3, 4)]), ("ijk->ij", [(3, 4)]), ("ij->ik", [(3, 4)]), ("i,j->ij", [(3,), (4,)]),
    ("ij,jk->ik", [(3, 4)]), ("i->", [(0,)]), ("...i->...", [(2, 0, 3)]),
]


@pytest.mark.parametrize("equation, shapes", EINSUM_CASES, ids=[f"{e}:{s}" for e, s in EINSUM_CASES])
def test_einsum_shapes_against_torch(equation, shapes):
    expected = _outcome(lambda: torch.einsum(equation, *[t(*s) for s in shapes]))
    got = _outcome(lambda: _rules_call("einsum", [m(*s) for s in shapes], {"equation": equation}))
    assert got == expected
    engine = _outcome(lambda: gw.einsum(equation, *[gw.ones(s) for s in shapes]))
    assert engine == expected


NORM_CASES = [  # (op, the call in `mod` (torch or the engine), attributes)
    ("linalg_vector_norm", lambda mod, x: mod.linalg.vector_norm(x, 3, dim=(0, 1)), {"ord": 3, "dim": (0, 1)}),
    ("linalg_vector_norm", lambda mod, x: mod.linalg.vector_norm(x, dim=-1, keepdim=True), {"dim": -1, "keepdim": True}),
    ("linalg_matrix_norm", lambda mod, x: mod.linalg.matrix_norm(x), {}),
    ("linalg_matrix_norm", lambda mod, x: mod.linalg.matrix_norm(x, "nuc", dim=(0, -1), keepdim=True),
     {"ord": "nuc", "dim": (0, -1), "keepdim": True}),
    ("linalg_matrix_norm", lambda mod, x: mod.linalg.matrix_norm(x, 1, dim=(1, 0)), {"ord": 1, "dim": (1, 0)}),
    ("linalg_matrix_norm", lambda mod, x: mod.linalg.matrix_norm(x, -2), {"ord": -2}),
    ("norm", lambda mod, x: mod.norm(x, "nuc"), {"p": "nuc"}),
    ("norm", lambda mod, x: mod.norm(x, 2, dim=1), {"p": 2, "dim": 1}),
]


@pytest.mark.parametrize("shape", [(3,), (3, 4), (2, 3, 4)], ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name, call, attrs", NORM_CASES, ids=lambda v: v if isinstance(v, str) else "")
def test_norm_shapes_against_torch(name, call, attrs, shape):
    expected = _outcome(lambda: call(torch, torch.arange(float(np.prod(shape))).reshape(shape).cos()))
    got = _outcome(lambda: _rules_call(name, [m(*shape)], attrs))
    assert got == expected, (got, expected)
    engine = _outcome(lambda: call(gw, gw.arange(float(np.prod(shape))).reshape(shape).cos()))
    assert engine == expected, (engine, expected)
