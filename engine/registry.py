"""The op registry: the one list of ops the engine can run.

An engine op (OpDef) is its rules (gradwire.rules: call, spellings, shape, dtype and grad_fn rules) plus
how it computes: a numpy forward and one vector-Jacobian product (VJP) per differentiable input. Tensor
methods and operators, the module functions, the server's op lookup and the op catalogue are all generated
from this table. Adding an op is one rules entry (rules/ops/) and one `implement(...)` call here in
engine/ops/ (plus one row in the test table, which fails for an op that has none).

A VJP is written once as `vjp(F, g, ctx)` and serves both backward modes: F is a math namespace over
numpy arrays for plain backward, or over Tensors (so the backward is itself recorded) for
create_graph=True. It returns the gradient for its input *before* broadcast reduction: the engine sums
it back to the input's shape in one place (broadcast.py).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from gradwire.rules.spec import (  # noqa: F401  (re-exported: the op modules build their entries from them)
    COMMON_DESCRIPTIONS, OPERAND_KINDS, OPTIONAL_OPERAND, UPDATED_OPERAND, AttrSpec, OpRules, RULES, rules_of, unknown_op,
)


@dataclass(frozen=True, kw_only=True)
class OpDef(OpRules):
    """One op: its rules, and its forward and VJPs."""

    # forward(arrays, attrs) -> ndarray, or a tuple for ops with several outputs. `arrays` holds numpy
    # arrays already cast to the compute dtype, and Python scalars as they were given.
    forward: Callable[..., Any]
    # One VJP per input position (None where the op is not differentiable in that input); variadic ops
    # give one VJP taking the input position as a fourth argument.
    vjps: tuple[Callable[..., Any] | None, ...] = ()
    variadic_vjp: Callable[..., Any] | None = None
    # Which values the VJPs read, saved at forward and freed after a backward without retain_graph.
    saves_inputs: tuple[int, ...] = ()
    saves_all_inputs: bool = False
    saves_output: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)
    # Derived once here for the dispatcher: per input position, does a VJP exist (None: a variadic VJP
    # covers every position)?
    edge_mask: tuple[bool, ...] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        mask = None if self.variadic_vjp is not None else tuple(vjp is not None for vjp in self.vjps)
        object.__setattr__(self, "edge_mask", mask)

    def vjp_for(self, position: int) -> Callable[..., Any] | None:
        if self.variadic_vjp is not None:
            variadic = self.variadic_vjp
            return lambda F, g, ctx: variadic(F, g, ctx, position)
        return self.vjps[position] if position < len(self.vjps) else None


_RULE_FIELDS = tuple(f.name for f in dataclasses.fields(OpRules))

OPS: dict[str, OpDef] = {}


def implement(name: str, forward: Callable[..., Any], **computation: Any) -> OpDef:
    """Registers how the op `name` computes (forward, vjps, saves ...); everything else comes from its rules."""
    op_rules = rules_of(name)
    return register(OpDef(**{key: getattr(op_rules, key) for key in _RULE_FIELDS}, forward=forward, **computation))


def register(op: OpDef) -> OpDef:
    if op.name in OPS:
        raise ValueError(f"op {op.name!r} registered twice")
    OPS[op.name] = op
    return op


def get(name: str) -> OpDef:
    """The op called `name`; UnknownOpError naming the nearest names if there is none."""
    op = OPS.get(name)
    return op if op is not None else unknown_op(name, OPS, "; ListOps gives the catalogue")
