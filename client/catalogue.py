"""The server's op catalogue (ListOps) and how Python calls map onto it.

The SDK has no op list of its own: Tensor methods, operators and module functions are looked up here by
the spellings the catalogue gives (methods, functions, operators, reflected_operators). Each op's
`rules_id` names its entry in gradwire.rules; when this SDK's copy holds that entry (same name and
version), the op's call is parsed and its results' metadata derived by those rules (derive.py). An op
it has no entry for still works: its call is parsed from the catalogue's description by the rules'
generic parser, and its metadata comes from the server.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping, Sequence

from gradwire.rules.spec import OPERAND_KINDS, UPDATED_OPERAND, AttrSpec, OpRules, lookup
from gradwire.v1 import gradwire_pb2 as pb


_RETURN_TYPES: dict[str, type] = {}


@dataclass(frozen=True)
class OpSpec:
    """One op of the catalogue, as ListOps describes it."""

    name: str
    min_inputs: int
    max_inputs: int  # -1: any number
    attrs: tuple[AttrSpec, ...]
    differentiable: bool
    outputs: int
    inplace: bool
    view: bool
    grad_fn: str  # "" when it depends on the call
    summary: str
    methods: tuple[str, ...]
    functions: tuple[str, ...]
    operators: tuple[str, ...]
    reflected_operators: tuple[str, ...]
    output_names: tuple[str, ...] = ()
    internal: bool = False
    signature: tuple[str, ...] = ()
    # This SDK's copy of the op's rules (None: it has none for the catalogue's rules_id).
    rules: OpRules | None = field(default=None, compare=False)

    @classmethod
    def from_message(cls, info: pb.OpInfo) -> OpSpec:
        return cls(
            name=info.name, min_inputs=info.min_inputs, max_inputs=info.max_inputs,
            attrs=tuple(AttrSpec(a.name, a.kind, a.required, aliases=tuple(a.aliases), description=a.description)
                        for a in info.attrs),
            differentiable=info.differentiable, outputs=max(1, info.outputs), inplace=info.inplace,
            view=info.view, grad_fn=info.grad_fn, summary=info.summary, methods=tuple(info.methods),
            functions=tuple(info.functions), operators=tuple(info.operators),
            reflected_operators=tuple(info.reflected_operators), output_names=tuple(info.output_names),
            internal=info.internal, signature=tuple(info.signature),
            rules=lookup(info.rules_id) if info.rules_id else None,
        )

    def named(self, results: tuple) -> Any:
        """Several results as torch's named tuple (sort gives .values and .indices) when the op names them."""
        if not self.output_names:
            return results
        if self.name not in _RETURN_TYPES:
            _RETURN_TYPES[self.name] = namedtuple(self.name.removesuffix("_dim"), self.output_names)  # type: ignore[misc]
        return _RETURN_TYPES[self.name](*results)

    def attr(self, name: str) -> AttrSpec | None:
        """The attribute a keyword names, by its name or one of its aliases."""
        return next((spec for spec in self.attrs if spec.name == name or name in spec.aliases), None)

    def parse_call(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """A Python call's arguments as operands and attributes, by the rules' parser: this SDK's copy of
        the op's rules, or (an op it has none for) the generic parser over the catalogue's description."""
        return (self.rules or self.call_rules).parse_call(args, kwargs)

    @cached_property
    def call_rules(self) -> OpRules:
        """The catalogue's description of the op's call, as rules the generic parser reads."""
        return OpRules(name=self.name, min_inputs=self.min_inputs, max_inputs=self.max_inputs, attrs=self.attrs,
                       num_outputs=self.outputs, signature=self.signature)

    @property
    def updated_operands(self) -> tuple[int, ...]:
        """Operand positions the op may write in place."""
        kinds = [spec.kind for spec in self.attrs if spec.kind in OPERAND_KINDS]
        return tuple(self.min_inputs + i for i, kind in enumerate(kinds) if kind == UPDATED_OPERAND)


class Catalogue:
    """The ops of one server, indexed by every Python spelling."""

    def __init__(self, ops: Sequence[OpSpec]) -> None:
        self.ops = {op.name: op for op in ops}
        self.methods = _index(ops, "methods")
        self.functions = _index(ops, "functions")
        self.operators = _index(ops, "operators")
        self.reflected_operators = _index(ops, "reflected_operators")

    @classmethod
    def from_response(cls, response: pb.ListOpsResponse) -> Catalogue:
        return cls([OpSpec.from_message(info) for info in response.ops])

    def op(self, name: str) -> OpSpec:
        try:
            return self.ops[name]
        except KeyError:
            raise NotImplementedError(f"the server's op catalogue has no op {name!r}") from None


def _index(ops: Sequence[OpSpec], field: str) -> dict[str, OpSpec]:
    index: dict[str, OpSpec] = {}
    for op in ops:
        for spelling in getattr(op, field):
            index.setdefault(spelling, op)
    return index
