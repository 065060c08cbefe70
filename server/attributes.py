"""Op attributes and operands off the wire, checked with the op's rules (gradwire.rules) before anything runs.

An AttrValue's oneof field is named after the attribute kinds of the catalogue (integer, real, boolean,
text, ints, dtype, index), so checking a kind is comparing two names. An integer is accepted where a real
is expected (JSON clients often write 2 for 2.0). Values a graph refers to (index tensors by id) are
resolved through a callback, so this module knows nothing of sessions.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Iterator

import gradwire.engine as ge
from gradwire.rules.attrs import check_names
from gradwire.rules.errors import GradwireError
from gradwire.rules.results import check_arity
from gradwire.v1 import gradwire_pb2 as pb

from . import codec
from .errors import RequestError, invalid

Resolve = Callable[[str, str], Any]  # (ref, what) -> Tensor


def accepted_kinds(spec_kind: str) -> set[str]:
    kinds = set(spec_kind.split("|"))
    if "real" in kinds:
        kinds.add("integer")
    return kinds


@functools.lru_cache(maxsize=None)
def _specs(op_name: str) -> dict[str, Any]:
    return {spec.name: spec for spec in ge.registry.get(op_name).attrs}


def check_node(node: pb.Node, op: Any) -> None:
    """Arity and attribute names/kinds of a node against its OpDef; INVALID_ARGUMENT naming the node."""
    where = f"node {node.id!r} ({node.op})"
    try:  # the op's own rules: arity, attribute names, required attributes
        check_arity(op, len(node.inputs))
        check_names(op, node.attrs)
    except GradwireError as error:
        raise invalid(f"{where}: {error}", node_id=node.id, error_type=error.torch_type) from None
    specs = _specs(op.name)
    for name, value in node.attrs.items():  # the wire encoding of each attribute matches its kind
        spec = specs[name]
        given = value.WhichOneof("value")
        if given is None or given not in accepted_kinds(spec.kind):
            raise invalid(f"{where}: attribute {name!r} takes {spec.kind}, got {given or 'nothing'}",
                          node_id=node.id, error_type="TypeError")
        if given in ("dtype", "index"):
            try:
                _check_value(value, f"node {node.id!r} attribute {name!r}")
            except RequestError as error:
                error.node_id = node.id
                raise
    optional_from = op.min_inputs if op.operand_attrs else len(node.inputs)
    for position, operand in enumerate(node.inputs):
        if operand.WhichOneof("operand") is None and position < optional_from:
            raise invalid(f"{where}: input {position} is empty", node_id=node.id)


def _check_value(value: pb.AttrValue, what: str) -> None:
    """A dtype or index attribute decodes (inline index tensors included), before anything runs."""
    if value.WhichOneof("value") == "dtype":
        codec.dtype_name(value.dtype, what)
        return
    for k, item in enumerate(value.index.items):
        if item.WhichOneof("item") in ("tensor", None):
            _index_item(item, f"{what} item {k}", resolve=None)  # type: ignore[arg-type]


def refs_of(node: pb.Node) -> Iterator[str]:
    """Every id a node reads: its operand refs, then the refs inside index attributes."""
    for operand in node.inputs:
        if operand.WhichOneof("operand") == "ref":
            yield operand.ref
    for value in node.attrs.values():
        if value.WhichOneof("value") == "index":
            for item in value.index.items:
                if item.WhichOneof("item") == "ref":
                    yield item.ref


def operands(node: pb.Node, resolve: Resolve) -> list[Any]:
    values: list[Any] = []
    for operand in node.inputs:
        kind = operand.WhichOneof("operand")
        if kind is None:  # an absent optional tensor operand (bias=None); check_node allowed it
            values.append(None)
        else:
            values.append(resolve(operand.ref, f"node {node.id!r}") if kind == "ref" else getattr(operand, kind))
    return values


def attributes(node: pb.Node, op: Any, resolve: Resolve) -> dict[str, Any]:
    if not node.attrs:
        return {}
    specs = _specs(op.name)
    return {
        name: _attribute(value, specs[name].kind, f"node {node.id!r} attribute {name!r}", resolve)
        for name, value in node.attrs.items()
    }


def _attribute(value: pb.AttrValue, spec_kind: str, what: str, resolve: Resolve) -> Any:
    kind = value.WhichOneof("value")
    if kind == "ints":
        return tuple(value.ints.values)
    if kind == "dtype":
        return ge.dtypes.by_name(codec.dtype_name(value.dtype, what))
    if kind == "index":
        return tuple(_index_item(item, f"{what} item {k}", resolve) for k, item in enumerate(value.index.items))
    return getattr(value, kind)


def _index_item(item: pb.IndexItem, what: str, resolve: Resolve) -> Any:
    kind = item.WhichOneof("item")
    if kind == "integer":
        return item.integer
    if kind == "slice":
        part = item.slice
        return slice(
            part.start if part.HasField("start") else None,
            part.stop if part.HasField("stop") else None,
            part.step if part.HasField("step") else None,
        )
    if kind == "new_axis":
        return None
    if kind == "ellipsis":
        return Ellipsis
    if kind == "tensor":
        array = codec.decode(item.tensor, what)
        if array.dtype.kind not in "bi":
            raise invalid(f"{what}: an index tensor must be integer or bool, not {array.dtype.name}")
        return array
    if kind == "ref":
        return resolve(item.ref, what)
    raise invalid(f"{what} is empty")
