"""Building raw gradwire.v1 messages in tests, and reading them back, without the SDK.

    graph(leaf("a", [2, 3], requires_grad=True), node("b", "add", "a", 3.0))
    node("s", "setitem", "n", "p", index=index(0))
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any, Iterable, Iterator

import grpc
import numpy as np
import pytest

from gradwire.v1 import gradwire_pb2 as pb

REPO = Path(__file__).resolve().parents[2]

CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", (1 << 30) - 1),
    ("grpc.max_receive_message_length", (1 << 30) - 1),
]

DTYPE_ENUMS = {
    "float16": pb.DTYPE_FLOAT16, "float32": pb.DTYPE_FLOAT32, "float64": pb.DTYPE_FLOAT64,
    "int32": pb.DTYPE_INT32, "int64": pb.DTYPE_INT64, "bool": pb.DTYPE_BOOL,
    "int8": pb.DTYPE_INT8, "uint8": pb.DTYPE_UINT8, "int16": pb.DTYPE_INT16,
}
NUMPY_OF_ENUM = {value: np.dtype(name) for name, value in DTYPE_ENUMS.items()}


def tensor(values: Any, dtype: Any = np.float32) -> pb.Tensor:
    array = np.asarray(values, dtype=dtype)
    little = np.ascontiguousarray(array.astype(array.dtype.newbyteorder("<")))
    return pb.Tensor(dtype=DTYPE_ENUMS[array.dtype.name], shape=array.shape, data=little.tobytes())


def leaf(value_id: str, values: Any, dtype: Any = np.float32, requires_grad: bool = False) -> pb.Leaf:
    return pb.Leaf(id=value_id, value=tensor(values, dtype), requires_grad=requires_grad)


def operand(value: Any) -> pb.Operand:
    if isinstance(value, str):
        return pb.Operand(ref=value)
    if isinstance(value, bool):
        return pb.Operand(boolean=value)
    if isinstance(value, int):
        return pb.Operand(integer=value)
    return pb.Operand(real=float(value))


class DType:
    """An attribute value of kind dtype: DType("float64")."""

    def __init__(self, name: str) -> None:
        self.enum = DTYPE_ENUMS[name]


def attr(value: Any) -> pb.AttrValue:
    if isinstance(value, pb.Index):
        return pb.AttrValue(index=value)
    if isinstance(value, DType):
        return pb.AttrValue(dtype=value.enum)
    if isinstance(value, bool):
        return pb.AttrValue(boolean=value)
    if isinstance(value, int):
        return pb.AttrValue(integer=value)
    if isinstance(value, float):
        return pb.AttrValue(real=value)
    if isinstance(value, str):
        return pb.AttrValue(text=value)
    return pb.AttrValue(ints=pb.Ints(values=list(value)))


def index(*items: Any) -> pb.Index:
    """An index expression: ints, slices, None, Ellipsis, numpy arrays (inline) or str (a value's id)."""
    result = pb.Index()
    for item in items:
        if item is None:
            result.items.add(new_axis=True)
        elif item is Ellipsis:
            result.items.add(ellipsis=True)
        elif isinstance(item, slice):
            part = result.items.add().slice
            part.SetInParent()  # slice(None) has no field set but is still a slice
            for name in ("start", "stop", "step"):
                if getattr(item, name) is not None:
                    setattr(part, name, getattr(item, name))
        elif isinstance(item, str):
            result.items.add(ref=item)
        elif isinstance(item, np.ndarray):
            result.items.add(tensor=tensor(item, item.dtype))
        else:
            result.items.add(integer=int(item))
    return result


def node(value_id: str, op: str, *inputs: Any, no_grad: bool = False, **attrs: Any) -> pb.Node:
    return pb.Node(id=value_id, op=op, inputs=[operand(x) for x in inputs],
                   attrs={name: attr(value) for name, value in attrs.items()}, no_grad=no_grad)


def graph(*items: pb.Leaf | pb.Node) -> pb.Graph:
    return pb.Graph(leaves=[x for x in items if isinstance(x, pb.Leaf)],
                    nodes=[x for x in items if isinstance(x, pb.Node)])


def root(value_id: str, gradient: Any = None, dtype: Any = np.float32) -> pb.Root:
    if gradient is None:
        return pb.Root(id=value_id)
    return pb.Root(id=value_id, gradient=tensor(gradient, dtype))


def to_array(message: pb.Tensor) -> np.ndarray:
    dtype = NUMPY_OF_ENUM[message.dtype].newbyteorder("<")
    return np.frombuffer(message.data, dtype=dtype).reshape(tuple(message.shape))


def arrays(named: Iterable[pb.NamedTensor]) -> dict[str, np.ndarray | None]:
    """id -> array (None for is_none) of a response's NamedTensors."""
    return {item.id: (None if item.is_none else to_array(item.tensor)) for item in named}


def infos(values: Iterable[pb.ValueInfo]) -> dict[str, pb.ValueInfo]:
    return {info.id: info for info in values}


@contextlib.contextmanager
def raises_status(code: grpc.StatusCode, *fragments: str) -> Iterator[dict]:
    """Expects an RpcError with this code whose message contains every fragment (case-insensitive).

    Yields a dict filled with 'details' and 'trailers' (a dict of the trailing metadata).
    """
    found: dict = {}
    with pytest.raises(grpc.RpcError) as caught:
        yield found
    error = caught.value
    found["details"] = error.details()
    found["trailers"] = dict(error.trailing_metadata() or ())
    assert error.code() == code, f"expected {code}, got {error.code()}: {error.details()}"
    for fragment in fragments:
        assert fragment.lower() in error.details().lower(), f"{fragment!r} not in {error.details()!r}"


def buf_command() -> str | None:
    """buf from PATH, or from an npm install into .tools/ (the Makefile's and the README's) or the
    repository; None if none."""
    for local in (REPO / ".tools" / "node_modules" / ".bin" / "buf", REPO / "node_modules" / ".bin" / "buf"):
        if local.exists():
            return shutil.which("buf") or str(local)
    return shutil.which("buf")
