"""Writes the tutorial's requests as protobuf JSON, one folder per program, one file per call.

    python examples/json/generate.py          # rewrite the files
    python examples/json/generate.py --check  # fail if a committed file differs

File names are `<step>-<Method>.json`: replay them in order against GradwireService.<Method> (see
README.md). Tensor data is base64 of raw little-endian bytes, as protobuf's JSON mapping writes bytes.
Session flows use a fixed client-chosen session id, so later steps can name it; each flow ends with
CloseSession so it can be replayed again.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from google.protobuf import json_format

from gradwire.v1 import gradwire_pb2 as pb

HERE = Path(__file__).resolve().parent
DTYPES = {"float32": pb.DTYPE_FLOAT32, "float64": pb.DTYPE_FLOAT64, "int64": pb.DTYPE_INT64}


def tensor(values, dtype="float32") -> pb.Tensor:
    array = np.asarray(values, dtype=dtype)
    return pb.Tensor(dtype=DTYPES[dtype], shape=array.shape, data=array.astype(array.dtype.newbyteorder("<")).tobytes())


def leaf(value_id, values, dtype="float32", requires_grad=False) -> pb.Leaf:
    return pb.Leaf(id=value_id, value=tensor(values, dtype), requires_grad=requires_grad)


def node(value_id, op, *inputs, **attrs) -> pb.Node:
    operands = [pb.Operand(ref=x) if isinstance(x, str) else pb.Operand(real=float(x)) for x in inputs]
    return pb.Node(id=value_id, op=op, inputs=operands, attrs=attrs)


def at(position: int) -> pb.AttrValue:
    """The index attribute [position]."""
    return pb.AttrValue(index=pb.Index(items=[pb.IndexItem(integer=position)]))


def session_id(number: int) -> str:
    return f"{number:032x}"


TUTORIAL_5 = pb.Graph(leaves=[leaf("a", [2, 3], requires_grad=True)], nodes=[
    node("b", "add", "a", 3), node("bb", "mul", "b", "b"), node("c", "mul", "bb", 3), node("out", "mean", "c")])
TUTORIAL_7 = pb.Graph(leaves=[leaf("m", [2, 3], requires_grad=True), leaf("n", [0, 0])], nodes=[
    node("m0", "getitem", "m", index=at(0)), node("p0", "pow", "m0", 2), node("n0", "setitem", "n", "p0", index=at(0)),
    node("m1", "getitem", "m", index=at(1)), node("p1", "pow", "m1", 3), node("n1", "setitem", "n", "p1", index=at(1))])


def examples() -> dict[str, list]:
    """folder -> list of request messages (the method is the request's type name minus 'Request')."""
    sid5, sid7, sid8 = session_id(5), session_id(7), session_id(8)
    return {
        "1_leaves": [pb.ComputeRequest(graph=pb.Graph(
            leaves=[leaf("randn", [[0.5, -1.2], [0.3, 2.0]], requires_grad=True),
                    leaf("variable", [2, 3], requires_grad=True),
                    leaf("tensor64", [2, 3], "float64", requires_grad=True),
                    leaf("numpy", [1, 2, 3], "float64")],
            nodes=[pb.Node(id="numpy_rg", op="requires_grad_", inputs=[pb.Operand(ref="numpy")],
                           attrs={"requires_grad": pb.AttrValue(boolean=True)})]))],
        "2_int_requires_grad": [pb.ComputeRequest(graph=pb.Graph(
            leaves=[leaf("ints", [2, 3], "int64", requires_grad=True)]))],
        "3_attributes": [
            pb.CreateSessionRequest(session_id=sid8, graph=pb.Graph(
                leaves=[leaf("x", [2, 3], requires_grad=True)], nodes=[node("y", "mul", "x", 2)]),
                return_values=["x", "y"]),
            pb.ReadRequest(session_id=sid8, values=["y"], grads=["x"]),
            pb.CloseSessionRequest(session_id=sid8),
        ],
        "4_propagation": [pb.ComputeRequest(
            graph=pb.Graph(leaves=[leaf("x", [1, 2]), leaf("y", [3, 4]), leaf("z", [5, 6], requires_grad=True)],
                           nodes=[node("a", "add", "x", "y"), node("b", "add", "a", "z"), node("s", "sum", "b")]),
            roots=[pb.Root(id="s")], return_grads=["x", "y", "z"])],
        "5_one_shot": [pb.ComputeRequest(graph=TUTORIAL_5, roots=[pb.Root(id="out")], return_values=["out"])],
        "5_retain_graph": [
            pb.CreateSessionRequest(session_id=sid5, graph=TUTORIAL_5),
            pb.BackwardRequest(session_id=sid5, roots=[pb.Root(id="out")], retain_graph=True),
            pb.BackwardRequest(session_id=sid5, roots=[pb.Root(id="out")]),
            pb.BackwardRequest(session_id=sid5, roots=[pb.Root(id="out")]),
            pb.CloseSessionRequest(session_id=sid5),
        ],
        "6_scalar_seed": [pb.ComputeRequest(graph=TUTORIAL_5, roots=[pb.Root(id="out", gradient=tensor(1.0))])],
        "7_non_scalar": [
            pb.CreateSessionRequest(session_id=sid7, graph=TUTORIAL_7),
            pb.BackwardRequest(session_id=sid7, roots=[pb.Root(id="n")]),
            pb.BackwardRequest(session_id=sid7, roots=[pb.Root(id="n", gradient=tensor([1, 1]))], retain_graph=True),
            pb.CloseSessionRequest(session_id=sid7),
        ],
    }


def method_of(request) -> str:
    return type(request).__name__.removesuffix("Request")


def rendered() -> dict[Path, str]:
    files = {}
    for folder, requests in examples().items():
        for step, request in enumerate(requests, start=1):
            text = json_format.MessageToJson(request, indent=2) + "\n"
            files[HERE / folder / f"{step}-{method_of(request)}.json"] = text
    return files


def main(argv: list[str]) -> int:
    files = rendered()
    if "--check" in argv:
        stale = [str(path) for path, text in files.items() if not path.exists() or path.read_text() != text]
        for path in stale:
            print(f"stale example: {path} (run: python examples/json/generate.py)", file=sys.stderr)
        return 1 if stale else 0
    for path, text in files.items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
