"""The server's op catalogue (ListOps) and how Python calls map onto it.

The SDK has no op list of its own: Tensor methods, operators and module functions are looked up here by
the spellings the catalogue gives (methods, functions, operators, reflected_operators), and a call's
arguments are split into operands and attributes from the op's arity and attribute specs.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from gradwire.v1 import gradwire_pb2 as pb


_RETURN_TYPES: dict[str, type] = {}
# The attribute kind of an optional tensor operand (bias=None): spelled like an attribute, sent as an
# operand after the required ones, in attribute order (an empty Operand when absent).
OPTIONAL_OPERAND = "tensor"
# An optional operand the op may update in place (batch_norm's running statistics): local copies drop.
UPDATED_OPERAND = "tensor|updated"


@dataclass(frozen=True)
class AttrSpec:
    name: str
    kind: str
    required: bool
    aliases: tuple[str, ...] = ()
    description: str = ""


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

    @classmethod
    def from_message(cls, info: pb.OpInfo) -> OpSpec:
        return cls(
            name=info.name, min_inputs=info.min_inputs, max_inputs=info.max_inputs,
            attrs=tuple(AttrSpec(a.name, a.kind, a.required, tuple(a.aliases), a.description) for a in info.attrs),
            differentiable=info.differentiable, outputs=max(1, info.outputs), inplace=info.inplace,
            view=info.view, grad_fn=info.grad_fn, summary=info.summary, methods=tuple(info.methods),
            functions=tuple(info.functions), operators=tuple(info.operators),
            reflected_operators=tuple(info.reflected_operators), output_names=tuple(info.output_names),
            internal=info.internal, signature=tuple(info.signature),
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
        """Split a Python call's arguments into operands and attributes.

        Operands come first (a variadic op takes one sequence of them, like cat([a, b])), then the
        attributes in catalogue order, then keywords. An op whose first attribute is a list of ints
        also takes them unpacked, as torch does: x.view(2, 3) is x.view((2, 3)).
        """
        optional = self.operand_attrs
        if self.signature:
            return self._parse_signature(args, kwargs)
        if self.max_inputs == -1:
            if not args or not isinstance(args[0], (list, tuple)):
                raise TypeError(f"{self.name}(): expected a sequence of tensors as the first argument")
            operands, rest = list(args[0]), list(args[1:])
        elif optional:
            operands, rest = list(args[: self.min_inputs]), list(args[self.min_inputs:])
        else:
            operands, rest = list(args[: self.max_inputs]), list(args[self.max_inputs:])
        attrs: dict[str, Any] = {}
        if rest and self.attrs and self.attrs[0].kind == "ints" and all(_is_int(value) for value in rest):
            rest = [tuple(rest)]
        if len(rest) > len(self.attrs):
            raise TypeError(
                f"{self.name}() takes at most {max(self.max_inputs, 1) + len(self.attrs)} positional "
                f"arguments but {len(args)} were given"
            )
        for spec, value in zip(self.attrs, rest):
            attrs[spec.name] = value
        for key, value in kwargs.items():
            spec = self.attr(key)
            if spec is None:
                allowed = ", ".join(spec.name for spec in self.attrs) or "none"
                raise TypeError(f"{self.name}() got an unexpected keyword argument '{key}' (allowed: {allowed})")
            if spec.name in attrs:
                raise TypeError(f"{self.name}() got multiple values for argument '{spec.name}'")
            attrs[spec.name] = value
        if len(operands) < self.min_inputs:
            raise TypeError(f"{self.name}() takes at least {self.min_inputs} operand(s), got {len(operands)}")
        if optional:
            operands.extend(attrs.pop(name, None) for name in optional)
            while len(operands) > self.min_inputs and operands[-1] is None:
                operands.pop()  # trailing absent operands need not travel
        return operands, attrs

    @property
    def operand_attrs(self) -> tuple[str, ...]:
        """Names of the optional tensor operands (attributes of kind "tensor"), in operand order."""
        return tuple(spec.name for spec in self.attrs if spec.kind in (OPTIONAL_OPERAND, UPDATED_OPERAND))

    @property
    def updated_operands(self) -> tuple[int, ...]:
        """Operand positions the op may write in place."""
        kinds = [spec.kind for spec in self.attrs if spec.kind in (OPTIONAL_OPERAND, UPDATED_OPERAND)]
        return tuple(self.min_inputs + i for i, kind in enumerate(kinds) if kind == UPDATED_OPERAND)


    def _parse_signature(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """torch's own positional order (gather(input, dim, index)), operands named in it as keywords too."""
        if len(args) > len(self.signature):
            raise TypeError(f"{self.name}() takes at most {len(self.signature)} arguments ({', '.join(self.signature)})")
        names = [entry.split("|")[0] for entry in self.signature]  # "src|value": operand src, keyword value too
        aliases = {alias: entry.split("|")[0] for entry in self.signature for alias in entry.split("|")}
        named = dict(zip(names, args))
        for key, value in kwargs.items():
            spec = self.attr(key)
            name = spec.name if spec is not None else aliases.get(key, key)
            if spec is None and key not in aliases:
                raise TypeError(f"{self.name}() got an unexpected keyword argument '{key}' "
                                f"(allowed: {', '.join(self.signature)})")
            if name in named:
                raise TypeError(f"{self.name}() got multiple values for argument '{name}'")
            named[name] = value
        attr_names = {spec.name for spec in self.attrs}
        operands = []
        for name in (name for name in names if name not in attr_names):
            if name in named:
                operands.append(named.pop(name))
            elif len(operands) < self.min_inputs:
                raise TypeError(f"{self.name}() missing required argument '{name}'")
        return operands, named


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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
