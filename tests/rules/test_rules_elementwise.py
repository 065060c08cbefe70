"""The elementwise family's rules (gradwire.rules.ops.elementwise and its sub-modules) against torch.

Every op of the family (engine/ops/elementwise*.py, bitwise, clamp, activations, fills, grads) has its
rules in gradwire.rules, with a shape rule and a dtype rule. Every op-table row of the family is run in
torch under a TorchFunctionMode that sees each call torch makes for it: each call of a family op is
parsed by the op's rules (its torch spelling found through the rules' own spellings), and the shape,
dtype and grad_fn name the rules predict are compared with torch's result. A table of mistakes checks
that the rules alone (no engine, no values) raise the class torch raises.
"""

from __future__ import annotations

import sys
import warnings
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch.overrides import TorchFunctionMode

import gradwire.engine  # noqa: F401  (the engine registry, to know which ops the family's modules implement)
from gradwire.engine.registry import OPS
from gradwire.rules import RULES, dtypes, rules_of
from gradwire.rules.arguments import fill_implicit_dim, take_alpha, take_cast_first
from gradwire.rules.attrs import normalise_attrs
from gradwire.rules.spec import Bound

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from ops_harness import builtin_class, make_tensors  # noqa: E402
from ops_table import ROWS  # noqa: E402

FAMILY_MODULES = {"elementwise", "elementwise_binary", "elementwise_math", "bitwise", "clamp", "activations", "fills",
                  "grads"}
FAMILY = sorted(name for name, op in OPS.items() if op.forward.__module__.rsplit(".", 1)[-1] in FAMILY_MODULES)
# Engine ops torch has no function for: torch reads and writes `.grad` as an attribute. Their rules are
# checked directly below (test_grad_ops_rules).
NO_TORCH_SPELLING = {"grad", "zero_grad_"}
FAMILY_ROWS = [row for row in ROWS if row.op in FAMILY and row.op not in NO_TORCH_SPELLING]


def test_the_family_is_defined_in_the_rules():
    assert len(FAMILY) >= 109, FAMILY  # 109 when this test was written
    for name in FAMILY:
        rules = RULES[name]
        assert rules.out_shape is not None, f"{name} has no shape rule"
        assert rules.dtype_rule is not None, f"{name} has no dtype rule"


# ---------------------------------------------------------------- torch's calls, seen through the rules
class Meta:
    """What a rule sees of a tensor: its shape and dtype."""

    def __init__(self, shape: tuple, dtype: dtypes.DType) -> None:
        self.shape, self.dtype = tuple(shape), dtype


def gw_dtype(torch_dtype: torch.dtype) -> dtypes.DType:
    return dtypes.by_name(str(torch_dtype).removeprefix("torch."))


def as_meta(value):
    if isinstance(value, torch.Tensor):
        return Meta(tuple(value.shape), gw_dtype(value.dtype))
    if isinstance(value, torch.dtype):
        return gw_dtype(value)
    if isinstance(value, (list, tuple)):
        return type(value)(as_meta(v) for v in value)
    return value


def _torch_callables() -> dict:
    """id(torch callable) -> (op name, reflected, fixed attrs), from the family rules' spellings."""
    namespaces = {"": torch, "nn.functional.": torch.nn.functional, "special.": torch.special}
    found = {}
    for name in FAMILY:
        rules = RULES[name]
        spellings = [(getattr(torch.Tensor, m, None), False) for m in (*rules.methods, *rules.operators)]
        spellings += [(getattr(torch.Tensor, m, None), True) for m in rules.reflected_operators]
        for function in rules.functions:
            prefix, _, short = function.rpartition(".")
            spellings.append((getattr(namespaces.get(prefix + "." if prefix else "", None), short, None), False))
        for spelling, reflected in spellings:
            if spelling is not None:
                found.setdefault(id(spelling), (name, reflected, {}))
    # torch's casts, which the engine's Tensor spells with its own methods
    found[id(torch.Tensor.to)] = ("to", False, {})
    for method, dtype in (("float", "float32"), ("double", "float64"), ("half", "float16"), ("bool", "bool"),
                          ("int", "int32"), ("long", "int64")):
        found[id(getattr(torch.Tensor, method))] = ("to", False, {"dtype": dtypes.by_name(dtype)})
    return found


TORCH_CALLABLES = _torch_callables()


# torch.max(a, b) / torch.min(a, b) with two tensors are the elementwise maximum / minimum.
TWO_TENSOR_SPELLINGS = {id(torch.max): "maximum", id(torch.min): "minimum", id(torch.Tensor.max): "maximum",
                        id(torch.Tensor.min): "minimum"}
# Keywords torch's Python wrappers pass on with their defaults whatever the caller wrote.
WRAPPER_KEYWORDS = {"_stacklevel"}


def family_call(func, args: tuple, kwargs: dict):
    """(op name, reflected, fixed attrs) of a torch call that is one of the family's ops, or None."""
    if id(func) in TORCH_CALLABLES:
        return TORCH_CALLABLES[id(func)]
    if id(func) in TWO_TENSOR_SPELLINGS and len(args) == 2 and isinstance(args[1], torch.Tensor):
        return TWO_TENSOR_SPELLINGS[id(func)], False, {}
    return None


class Calls(TorchFunctionMode):
    """Records every family op torch runs at the program's level (not inside another call): the call and
    its result's shape, dtype and grad_fn name at that moment (a later in-place write changes them)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        spelling = family_call(func, args, kwargs)
        if spelling is not None and isinstance(result, torch.Tensor):
            kwargs = {k: v for k, v in kwargs.items() if v is not None and k not in WRAPPER_KEYWORDS}
            grad_fn = type(result.grad_fn).__name__ if result.grad_fn is not None else ""
            self.seen.append((spelling, args, kwargs, (tuple(result.shape), result.dtype, grad_fn)))
        return result


def rules_prediction(name: str, args: tuple, kwargs: dict, fixed_attrs: dict, reflected: bool):
    """(shape, dtype, grad_fn name) the rules of `name` give for a call torch saw."""
    rules = rules_of(name)
    args = [as_meta(a) for a in args]
    kwargs = {key: as_meta(value) for key, value in kwargs.items()}
    if reflected:
        args = [args[1], args[0], *args[2:]]
    operands, attrs = rules.parse_call(args, kwargs)
    with warnings.catch_warnings():  # what the engine's and the SDK's nn.functional do before the op
        warnings.simplefilter("ignore", UserWarning)
        fill_implicit_dim(f"nn.functional.{name}", operands, attrs)
    if "alpha" in attrs:  # what the engine's and the SDK's calls do first: b * alpha, then the op
        take_alpha(name, [x.dtype if isinstance(x, Meta) else None for x in operands], attrs)
    cast = take_cast_first(name, attrs)
    if cast is not None:
        operands[0] = Meta(operands[0].shape, cast)
    operands, attrs = rules.place_operands(operands, {**attrs, **fixed_attrs})
    attrs = normalise_attrs(rules, attrs)
    operand_dtypes = [x.dtype if isinstance(x, Meta) else None for x in operands]
    _, dtype = rules.dtype_rule(operand_dtypes, operands, attrs)
    shape = rules.out_shape([x.shape if isinstance(x, Meta) else () for x in operands], attrs)
    call = SimpleNamespace(attrs=attrs, scalar_mask=[d is None for d in operand_dtypes],
                           input_shapes=[x.shape if isinstance(x, Meta) else () for x in operands],
                           input_dtypes=operand_dtypes, grad_mask=[d is not None and d.is_floating_point
                                                                   for d in operand_dtypes])
    return shape, dtype, rules.grad_fn_name(call) if rules.differentiable else ""


def run_in_torch(row) -> list:
    rng = np.random.default_rng(zlib.crc32(row.id.encode()))
    tensors = make_tensors(torch, row.inputs(rng), np.float64)
    with Calls() as calls:
        try:
            row.program_for(torch)(torch, *tensors)
        except RuntimeError:  # a backward in the program may run outside the mode's view; the calls stand
            pass
    return calls.seen


# Python runs `3 < x` as `x > 3`: torch sees the mirrored comparison.
MIRRORED = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}


@pytest.mark.parametrize("row", FAMILY_ROWS, ids=lambda r: r.id)
def test_rules_predict_torchs_shape_dtype_and_grad_fn(row):
    checked = set()
    for (name, reflected, fixed), args, kwargs, (torch_shape, torch_dtype, torch_grad_fn) in run_in_torch(row):
        shape, dtype, grad_fn = rules_prediction(name, args, kwargs, fixed, reflected)
        where = f"{name}({', '.join(type(a).__name__ for a in args)}, {sorted(kwargs)})"
        if type(shape) is not Bound:
            assert tuple(shape) == torch_shape, f"{where}: the rules say shape {shape}, torch {torch_shape}"
        assert dtype.name == str(torch_dtype).removeprefix("torch."), f"{where}: the rules say {dtype}, torch {torch_dtype}"
        if row.compare_grad_fn and grad_fn and torch_grad_fn and not rules_of(name).inplace and "::" not in grad_fn:
            assert grad_fn == torch_grad_fn, f"{where}: the rules say {grad_fn}, torch {torch_grad_fn}"
        checked.add(name)
    assert row.op in checked or MIRRORED.get(row.op) in checked, (
        f"{row.id}: no call of {row.op} seen in torch (saw {sorted(checked)})")


# ---------------------------------------------------------------- mistakes, through the rules alone
def T(shape, dtype="float32"):
    return Meta(shape, dtypes.by_name(dtype))


def rules_call(name: str, *args, **kwargs):
    """Everything the rules decide for a call (parse, attributes, dtype and shape rules); no values."""
    rules = rules_of(name)
    operands, attrs = rules.parse_call(list(args), kwargs)
    attrs = normalise_attrs(rules, attrs)
    operand_dtypes = [x.dtype if isinstance(x, Meta) else None for x in operands]
    _, dtype = rules.dtype_rule(operand_dtypes, operands, attrs)
    return rules.out_shape([x.shape if isinstance(x, Meta) else () for x in operands], attrs), dtype


F32 = torch.float32
MISTAKES = {
    "int_tensor_to_negative_int_power": (lambda: torch.tensor([-2, 0, 2], dtype=torch.int32) ** -2,
                                         lambda: rules_call("pow", T((3,), "int32"), -2)),
    "bool_tensor_to_negative_int_power": (lambda: torch.tensor([True]) ** -1, lambda: rules_call("pow", T((1,), "bool"), -1)),
    "clip_without_bounds": (lambda: torch.tensor([1., 2.]).clip(None, None), lambda: rules_call("clamp", T((2,)), None, None)),
    "clamp_without_bounds": (lambda: torch.clamp(torch.ones(2)), lambda: rules_call("clamp", T((2,)))),
    "clamp_tensor_and_number_bounds": (lambda: torch.clamp(torch.ones(2), torch.zeros(2), 1.0),
                                       lambda: rules_call("clamp", T((2,)), T((2,)), 1.0)),
    "invert_float": (lambda: ~torch.ones(2), lambda: rules_call("bitwise_not", T((2,)))),
    "bitwise_and_floats": (lambda: torch.ones(2) & torch.ones(2), lambda: rules_call("bitwise_and", T((2,)), T((2,)))),
    "shift_float": (lambda: torch.ones(2) << 1, lambda: rules_call("bitwise_left_shift", T((2,)), 1)),
    "add_not_broadcastable": (lambda: torch.ones(3) + torch.ones(4), lambda: rules_call("add", T((3,)), T((4,)))),
    "where_not_broadcastable": (lambda: torch.where(torch.ones(2, 3) > 0, torch.ones(3), torch.ones(4)),
                                lambda: rules_call("where", T((2, 3), "bool"), T((3,)), T((4,)))),
    "where_float_condition": (lambda: torch.where(torch.ones(2), torch.ones(2), torch.ones(2)),
                              lambda: rules_call("where", T((2,)), T((2,)), T((2,)))),
    "div_unknown_rounding_mode": (lambda: torch.div(torch.ones(2), 2, rounding_mode="round"),
                                  lambda: rules_call("div", T((2,)), 2, rounding_mode="round")),
    "neg_bool": (lambda: -torch.tensor([True]), lambda: rules_call("neg", T((1,), "bool"))),
    "sub_bool": (lambda: torch.tensor([True]) - torch.tensor([False]),
                 lambda: rules_call("sub", T((1,), "bool"), T((1,), "bool"))),
    "exp_of_a_number": (lambda: torch.exp(2.0), lambda: rules_call("exp", 2.0)),
    "isclose_two_dtypes": (lambda: torch.isclose(torch.ones(2), torch.ones(2, dtype=torch.float64)),
                           lambda: rules_call("isclose", T((2,)), T((2,), "float64"))),
    "unknown_attribute": (lambda: torch.nn.functional.elu(torch.ones(2), beta=1.0),
                          lambda: rules_call("elu", T((2,)), beta=1.0)),
    "gelu_unknown_approximation": (lambda: torch.nn.functional.gelu(torch.ones(2), approximate="fast"),
                                   lambda: rules_call("gelu", T((2,)), approximate="fast")),
    "glu_odd_dim": (lambda: torch.nn.functional.glu(torch.ones(2, 3)), lambda: rules_call("glu", T((2, 3)))),
    "glu_dim_out_of_range": (lambda: torch.nn.functional.glu(torch.ones(2, 4), dim=2),
                             lambda: rules_call("glu", T((2, 4)), dim=2)),
    "glu_of_a_0d_tensor": (lambda: torch.nn.functional.glu(torch.tensor(1.0)), lambda: rules_call("glu", T(()))),
    "prelu_weight_per_wrong_channels": (lambda: torch.nn.functional.prelu(torch.ones(2, 3), torch.ones(2)),
                                        lambda: rules_call("prelu", T((2, 3)), T((2,)))),
    "softmin_dim_out_of_range": (lambda: torch.nn.functional.softmin(torch.ones(2, 3), dim=2),
                                 lambda: rules_call("softmin", T((2, 3)), dim=2)),
    "elu_of_integers": (lambda: torch.nn.functional.elu(torch.ones(2, dtype=torch.int64)),
                        lambda: rules_call("elu", T((2,), "int64"))),
    "hardtanh_of_bools": (lambda: torch.nn.functional.hardtanh(torch.ones(2, dtype=torch.bool)),
                          lambda: rules_call("hardtanh", T((2,), "bool"))),
    "hardtanh_uint8_negative_limits": (lambda: torch.nn.functional.hardtanh(torch.ones(2, dtype=torch.uint8)),
                                       lambda: rules_call("hardtanh", T((2,), "uint8"))),
    "threshold_of_bools": (lambda: torch.nn.functional.threshold(torch.ones(2, dtype=torch.bool), 0.5, 1.0),
                           lambda: rules_call("threshold", T((2,), "bool"), 0.5, 1.0)),
    "relu_of_bools": (lambda: torch.relu(torch.ones(2, dtype=torch.bool)), lambda: rules_call("relu", T((2,), "bool"))),
    "copy_not_broadcastable": (lambda: torch.zeros(2, 3).copy_(torch.ones(4)), lambda: rules_call("copy_", T((2, 3)), T((4,)))),
    "copy_wider_source": (lambda: torch.zeros(3).copy_(torch.ones(2, 3)), lambda: rules_call("copy_", T((3,)), T((2, 3)))),
    "fill_with_a_vector": (lambda: torch.zeros(2).fill_(torch.ones(2)), lambda: rules_call("fill_", T((2,)), T((2,)))),
    "normal_negative_std": (lambda: torch.zeros(2).normal_(0.0, -1.0), lambda: rules_call("normal_", T((2,)), 0.0, -1.0)),
    "normal_of_integers": (lambda: torch.zeros(2, dtype=torch.int64).normal_(), lambda: rules_call("normal_", T((2,), "int64"))),
    "uniform_empty_range": (lambda: torch.zeros(2).uniform_(2.0, 1.0), lambda: rules_call("uniform_", T((2,)), 2.0, 1.0)),
    "uniform_of_bools": (lambda: torch.zeros(2, dtype=torch.bool).uniform_(), lambda: rules_call("uniform_", T((2,), "bool"))),
}


@pytest.mark.parametrize("label", sorted(MISTAKES))
def test_rules_raise_torchs_class(label):
    in_torch, in_rules = MISTAKES[label]
    with pytest.raises(Exception) as torch_error:
        in_torch()
    with pytest.raises(Exception) as rules_error:
        in_rules()
    assert builtin_class(rules_error.value) is builtin_class(torch_error.value), (
        f"torch: {torch_error.value!r}; rules: {rules_error.value!r}")


def test_issue_examples_raise_from_the_rules_with_torchs_message():
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        rules_call("pow", T((3,), "int32"), -2)
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max' must not be None"):
        rules_call("clamp", T((2,)), None, None)
    with pytest.raises(TypeError, match="only implemented on integer and Boolean"):
        rules_call("bitwise_not", T((3,), "float32"))
    # what torch allows stays allowed: an int tensor exponent, a float exponent, a float base
    assert rules_call("pow", T((3,), "int32"), T((3,), "int32")) == ((3,), dtypes.int32)
    assert rules_call("pow", T((3,), "int32"), -2.0) == ((3,), dtypes.float32)
    assert rules_call("pow", T((3,), "float64"), -2) == ((3,), dtypes.float64)


def test_grad_ops_rules():
    """grad and zero_grad_ (no torch function: torch spells them as attributes) keep the tensor's metadata."""
    assert rules_call("grad", T((3, 4), "float64")) == ((3, 4), dtypes.float64)
    assert rules_call("zero_grad_", T((2,)), set_to_none=False) == ((2,), dtypes.float32)
    with pytest.raises(TypeError):
        rules_call("grad", 1.5)
