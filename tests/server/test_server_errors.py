"""Every bad input gets its status code and a message naming what was wrong, and changes nothing:
the session afterwards reads exactly as before and keeps working."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from gradwire.v1 import gradwire_pb2 as pb
from server_helpers import DType, arrays, graph, index, leaf, node, raises_status, root

INVALID = grpc.StatusCode.INVALID_ARGUMENT
BASE_GRAPH = graph(
    leaf("a", [2, 3], requires_grad=True), leaf("plain", [1, 1]), leaf("n", [0, 0]),
    node("b", "add", "a", 3), node("bb", "mul", "b", "b"), node("c", "mul", "bb", 3), node("out", "mean", "c"),
)
VALUE_IDS = ["a", "plain", "n", "b", "bb", "c", "out"]


def _extend(*items):
    return "Extend", lambda sid: pb.ExtendRequest(session_id=sid, graph=graph(*items))


def _backward(*roots, **fields):
    return "Backward", lambda sid: pb.BackwardRequest(session_id=sid, roots=list(roots), retain_graph=True, **fields)


def _grad(**fields):
    return "Grad", lambda sid: pb.GradRequest(session_id=sid, retain_graph=True, **fields)


def _update(**fields):
    return "UpdateGrads", lambda sid: pb.UpdateGradsRequest(session_id=sid, **fields)


def _bad_length_leaf():
    bad = leaf("k", [1.0, 2.0])
    bad.value.data = bad.value.data[:-1]
    return bad


# (case, (rpc, request for a session id), code, fragments of the message, node id in the trailers)
BAD_CALLS = [
    ("unknown op", _extend(node("x", "frobnicate", "a")), INVALID, ["unknown op 'frobnicate'"], "x"),
    ("wrong arity", _extend(node("x", "add", "a")), INVALID, ["'x'", "takes 2 operands, got 1"], "x"),
    ("missing id", _extend(node("x", "add", "a", "nope")), INVALID, ["unknown id 'nope'"], "x"),
    ("duplicate of a session id", _extend(node("a", "mul", "a", 2)), INVALID, ["duplicate id 'a'"], "a"),
    ("duplicate in the request", _extend(node("x", "neg", "a"), node("x", "exp", "a")), INVALID,
     ["duplicate id 'x'"], "x"),
    ("forward reference", _extend(node("x", "add", "a", "y"), node("y", "mul", "a", 2)), INVALID,
     ["'y'", "defined later"], "x"),
    ("cycle", _extend(node("x", "add", "a", "x")), INVALID, ["defined later"], "x"),
    ("output index out of range", _extend(node("x", "add", "a:1", 1)), INVALID, ["'a:1'", "1 output"], "x"),
    ("attribute of the wrong kind", _extend(node("x", "sum", "a", dim="zero")), INVALID,
     ["'dim'", "integer|ints", "got text"], "x"),
    ("unknown attribute", _extend(node("x", "sum", "a", axis=0)), INVALID, ["unexpected attribute(s) axis"], "x"),
    ("missing required attribute", _extend(node("x", "reshape", "a")), INVALID, ["'shape'"], "x"),
    ("bad dtype attribute", _extend(node("x", "to", "a", dtype=DType("float64")), node("y", "to", "a")),
     INVALID, ["'y'", "'dtype'"], "y"),
    ("float index tensor", _extend(node("x", "getitem", "a", index=index(np.array([0.5])))), INVALID,
     ["integer or bool"], "x"),
    ("empty index item", _extend(node("x", "getitem", "a", index=pb.Index(items=[pb.IndexItem()]))), INVALID,
     ["item 0 is empty"], "x"),
    ("unspecified dtype", _extend(pb.Node(id="x", op="to", inputs=[pb.Operand(ref="a")],
                                          attrs={"dtype": pb.AttrValue(dtype=pb.DTYPE_UNSPECIFIED)})), INVALID,
     ["DTYPE_UNSPECIFIED"], "x"),
    ("shape mismatch", _extend(leaf("k", [1, 2, 3]), node("x", "add", "a", "k")), INVALID, ["'x'"], "x"),
    ("dtype error", _extend(leaf("i", [1, 2], np.int64), node("x", "mean", "i")), INVALID, ["'x'"], "x"),
    ("data length", _extend(_bad_length_leaf()), INVALID, ["leaf 'k'", "7 bytes", "needs 8"], ""),
    ("requires_grad on an int leaf", _extend(leaf("i", [1, 2], np.int64, requires_grad=True)), INVALID,
     ["leaf 'i'"], "i"),
    ("id with a colon", _extend(leaf("p:q", [1.0])), INVALID, ["'p:q'"], "p:q"),
    ("empty id", _extend(leaf("", [1.0])), INVALID, ["id ''"], ""),
    ("inplace on a leaf that requires grad", _extend(node("x", "setitem", "a", 5.0, index=index(0))), INVALID,
     ["'x'"], "x"),
    ("over the request budget", _extend(leaf("col", np.zeros((100000, 1))), leaf("row", np.zeros((1, 100000))),
                                        node("outer", "add", "col", "row")),
     grpc.StatusCode.RESOURCE_EXHAUSTED, ["'outer'", "budget"], "outer"),
    ("implicit seed for a non-scalar root", _backward(root("b")), INVALID, ["scalar outputs"], "b"),
    ("seed of the wrong shape", _backward(root("out", [1.0, 1.0])), INVALID, ["shape"], "out"),
    ("root that does not require grad", _backward(root("plain", [1.0, 1.0])), INVALID, ["does not require grad"],
     "plain"),
    ("unknown root", _backward(root("ghost")), INVALID, ["unknown id 'ghost'"], ""),
    ("no roots", _backward(), INVALID, ["at least one root"], ""),
    ("unknown return_grads id", _backward(root("out"), return_grads=["ghost"]), INVALID, ["'ghost'"], ""),
    ("grad without inputs", _grad(outputs=[root("out")]), INVALID, ["at least one input"], ""),
    ("result_ids not parallel to inputs", _grad(outputs=[root("out")], inputs=["a"], result_ids=["g1", "g2"]),
     INVALID, ["result_ids"], ""),
    ("unused input", _grad(outputs=[root("out")], inputs=["plain"]), INVALID, [], "out"),
    ("grad of the wrong shape", _update(set=[pb.NamedTensor(id="a", tensor=leaf("g", [1.0]).value)]), INVALID,
     ["'a'", "shape"], "a"),
    ("one unknown id spoils the whole update", _update(zero=["a"], clear=["ghost"]), INVALID, ["'ghost'"], ""),
]


@pytest.fixture
def session(stub):
    session_id = stub.CreateSession(pb.CreateSessionRequest(graph=BASE_GRAPH)).session_id
    stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("out")], retain_graph=True))
    return session_id


def _snapshot(stub, session_id):
    read = stub.Read(pb.ReadRequest(session_id=session_id, values=VALUE_IDS, grads=["a", "plain"]))
    return {key: (None if value is None else value.tolist())
            for key, value in {**arrays(read.values), **{f"grad {k}": v for k, v in arrays(read.grads).items()}}.items()}


@pytest.mark.parametrize("case, call, code, fragments, node_id", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_input_is_refused_and_changes_nothing(stub, session, case, call, code, fragments, node_id):
    before = _snapshot(stub, session)
    rpc, request = call
    with raises_status(code, *fragments) as error:
        getattr(stub, rpc)(request(session))
    assert error["trailers"]["gradwire-error-type"] in ("RuntimeError", "TypeError", "ValueError", "IndexError")
    assert error["trailers"].get("gradwire-node-id", "") == node_id
    assert _snapshot(stub, session) == before
    # the session still works: new ids are free again, and backward accumulates as before
    stub.Extend(pb.ExtendRequest(session_id=session, graph=graph(leaf("k", [1.0]), node("x", "mul", "a", 2))))
    response = stub.Backward(pb.BackwardRequest(session_id=session, roots=[root("out")]))
    np.testing.assert_array_equal(arrays(response.grads)["a"], [30, 36])


def test_a_changed_saved_value_is_a_failed_precondition(stub):
    session_id = stub.CreateSession(pb.CreateSessionRequest(graph=graph(
        leaf("w", [1, 2], requires_grad=True), leaf("k", [3, 4]), node("y", "mul", "w", "k"),
        node("z", "sum", "y")))).session_id
    stub.Extend(pb.ExtendRequest(session_id=session_id, graph=graph(
        node("k_set", "setitem", "k", 5.0, index=index(0)))))
    with raises_status(grpc.StatusCode.FAILED_PRECONDITION, "inplace") as error:
        stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("z")]))
    assert error["trailers"]["gradwire-error-type"] == "RuntimeError"
    assert arrays(stub.Read(pb.ReadRequest(session_id=session_id, grads=["w"])).grads)["w"] is None


def test_unknown_session_and_missing_id(stub):
    with raises_status(grpc.StatusCode.NOT_FOUND, "f" * 32, "not found"):
        stub.Backward(pb.BackwardRequest(session_id="f" * 32, roots=[root("out")]))
    with raises_status(INVALID, "session_id is required"):
        stub.Read(pb.ReadRequest(values=["x"]))


def test_compute_errors_name_the_node(stub):
    with raises_status(INVALID, "'x'", "unknown op") as error:
        stub.Compute(pb.ComputeRequest(graph=graph(leaf("a", [1.0]), node("x", "nope", "a"))))
    assert error["trailers"]["gradwire-node-id"] == "x"
    with raises_status(grpc.StatusCode.RESOURCE_EXHAUSTED, "budget"):
        stub.Compute(pb.ComputeRequest(graph=graph(
            leaf("col", np.zeros((100000, 1))), leaf("row", np.zeros((1, 100000))), node("outer", "mul", "col", "row"))))
    # the server is fine afterwards
    response = stub.Compute(pb.ComputeRequest(graph=graph(leaf("a", [3.0], requires_grad=True),
                                                          node("y", "mul", "a", "a")), roots=[root("y")]))
    assert arrays(response.grads)["a"].tolist() == [6.0]


def test_a_failure_after_an_inplace_change_undoes_it(stub, session):
    # All or nothing: the in-place node that ran before the failing one is undone.
    before = arrays(stub.Read(pb.ReadRequest(session_id=session, values=["n"])).values)["n"].copy()
    with raises_status(INVALID, "'bad'") as error:
        stub.Extend(pb.ExtendRequest(session_id=session, graph=graph(
            node("n_set", "setitem", "n", 5.0, index=index(0)), leaf("k", [1.0, 2.0, 3.0]),
            node("bad", "add", "a", "k"))))
    assert error["trailers"]["gradwire-node-id"] == "bad"
    read = stub.Read(pb.ReadRequest(session_id=session, values=["n"]))
    np.testing.assert_array_equal(arrays(read.values)["n"], before)
    with raises_status(INVALID, "unknown id 'n_set'"):  # and no new id was added
        stub.Read(pb.ReadRequest(session_id=session, values=["n_set"]))
