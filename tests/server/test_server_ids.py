"""Every id mistake through a real server, on each path that names values: a graph's leaf and node ids
(Extend into a session, Compute without one), autograd.grad's result ids, references to values, and a
compiled plan's ids. One check (server/ids.py) serves them all, so the status, the message, the error
type and the gradwire-node-id trailer are the same wherever the id appears, and nothing changes."""

from __future__ import annotations

import grpc
import pytest

from gradwire.v1 import gradwire_pb2 as pb
from server_helpers import arrays, graph, leaf, node, raises_status, root

INVALID = grpc.StatusCode.INVALID_ARGUMENT
BASE_GRAPH = graph(leaf("a", [1.0, 2.0], requires_grad=True), node("out", "sum", "a"))
SHAPE_RULE = "must be 1 to 256 printable ASCII characters without spaces or ':'"

# (mistake, the bad id, fragments of the message after "<what> ", the trailer it comes back as)
MALFORMED = [
    ("empty", "", ["''"], ""),
    ("too long", "x" * 257, ["'xxxx", "(257 characters)"], "x" * 257),
    ("non-printable", "a\x01b", ["'a\\x01b'"], "a%01b"),
    ("space", "a b", ["'a b'"], "a b"),
    ("colon", "p:q", ["'p:q'"], "p:q"),
    ("not ascii", "é", ["'é'"], "%C3%A9"),
]


def _places(bad_id):
    """(place, rpc, request for a session id, what the message calls the id)"""
    return [
        ("leaf", "Extend", lambda sid: pb.ExtendRequest(session_id=sid, graph=graph(leaf(bad_id, [1.0]))), "id"),
        ("node", "Extend", lambda sid: pb.ExtendRequest(session_id=sid, graph=graph(node(bad_id, "neg", "a"))), "id"),
        ("stateless leaf", "Compute", lambda sid: pb.ComputeRequest(graph=graph(leaf(bad_id, [1.0]))), "id"),
        ("grad result", "Grad", lambda sid: pb.GradRequest(session_id=sid, outputs=[root("out")], inputs=["a"],
                                                             result_ids=[bad_id], retain_graph=True), "result id"),
    ]


def _cases():
    for mistake, bad_id, fragments, trailer in MALFORMED:
        for place, rpc, request, what in _places(bad_id):
            yield pytest.param(rpc, request, [f"{what} {fragments[0]}", *fragments[1:], SHAPE_RULE], trailer,
                               id=f"{mistake} {place}")
    duplicates = [
        ("two leaves", "Extend", lambda sid: pb.ExtendRequest(session_id=sid, graph=graph(
            leaf("k", [1.0]), leaf("k", [2.0]))), "k"),
        ("a leaf and a node", "Extend", lambda sid: pb.ExtendRequest(session_id=sid, graph=graph(
            leaf("k", [1.0]), node("k", "neg", "a"))), "k"),
        ("a session value", "Extend", lambda sid: pb.ExtendRequest(session_id=sid, graph=graph(node("out", "neg", "a"))),
         "out"),
        ("stateless", "Compute", lambda sid: pb.ComputeRequest(graph=graph(leaf("k", [1.0]), node("k", "neg", "k"))),
         "k"),
        ("two grad results", "Grad", lambda sid: pb.GradRequest(
            session_id=sid, outputs=[root("out")], inputs=["a", "a"], result_ids=["g", "g"], retain_graph=True), "g"),
        ("a grad result and a session value", "Grad", lambda sid: pb.GradRequest(
            session_id=sid, outputs=[root("out")], inputs=["a"], result_ids=["a"], retain_graph=True), "a"),
    ]
    for place, rpc, request, bad_id in duplicates:
        yield pytest.param(rpc, request, [f"duplicate id '{bad_id}'"], bad_id, id=f"duplicate {place}")
    unknown = [
        ("node operand", "Extend", lambda sid: pb.ExtendRequest(session_id=sid, graph=graph(node("x", "neg", "ghost"))),
         ["node 'x' refers to unknown id 'ghost'"], "x"),
        ("node operand output", "Extend", lambda sid: pb.ExtendRequest(
            session_id=sid, graph=graph(node("x", "neg", "ghost:1"))), ["node 'x' refers to unknown id 'ghost:1'"], "x"),
        ("stateless operand", "Compute", lambda sid: pb.ComputeRequest(graph=graph(node("x", "neg", "ghost"))),
         ["node 'x' refers to unknown id 'ghost'"], "x"),
        ("backward root", "Backward", lambda sid: pb.BackwardRequest(session_id=sid, roots=[root("ghost")]),
         ["backward root refers to unknown id 'ghost'"], ""),
        ("grad input", "Grad", lambda sid: pb.GradRequest(session_id=sid, outputs=[root("out")], inputs=["ghost"]),
         ["grad input refers to unknown id 'ghost'"], ""),
        ("read", "Read", lambda sid: pb.ReadRequest(session_id=sid, values=["ghost"]), ["unknown id 'ghost'"], ""),
    ]
    for place, rpc, request, fragments, node_id in unknown:
        yield pytest.param(rpc, request, fragments, node_id, id=f"unknown ref {place}")


@pytest.fixture
def session(stub):
    return stub.CreateSession(pb.CreateSessionRequest(graph=BASE_GRAPH)).session_id


def _values(stub, session_id):
    read = stub.Read(pb.ReadRequest(session_id=session_id, values=["a", "out"], grads=["a"]))
    return {key: None if value is None else value.tolist() for key, value in arrays(read.values).items()}


@pytest.mark.parametrize("rpc, request_for, fragments, trailer", list(_cases()))
def test_each_id_mistake_is_refused_alike_on_every_path(stub, session, rpc, request_for, fragments, trailer):
    before = _values(stub, session)
    with raises_status(INVALID, *fragments) as error:
        getattr(stub, rpc)(request_for(session))
    assert error["trailers"].get("gradwire-node-id", "") == trailer
    assert error["trailers"]["gradwire-error-type"] in ("ValueError", "KeyError")
    assert _values(stub, session) == before
    # nothing was added: the ids of the refused request are still free
    stub.Extend(pb.ExtendRequest(session_id=session, graph=graph(leaf("k", [1.0]), node("g", "neg", "a"))))


def test_a_compiled_plan_refuses_a_duplicate_id_as_the_first_check_does(start_server):
    """The same structure twice compiles a plan; later requests run it, and its only id check (the ids were
    checked when it compiled) gives the same error as the full check."""
    server, stub, _ = start_server()
    request_graph = graph(leaf("k", [3.0]), node("y", "mul", "k", 2))
    sessions = [stub.CreateSession(pb.CreateSessionRequest()).session_id for _ in range(2)]
    for session_id in sessions:  # the slow path, then the compile
        stub.Extend(pb.ExtendRequest(session_id=session_id, graph=request_graph))
    with raises_status(INVALID, "duplicate id 'k'") as error:
        stub.Extend(pb.ExtendRequest(session_id=sessions[0], graph=request_graph))
    assert (error["details"], error["trailers"]["gradwire-node-id"]) == ("duplicate id 'k'", "k")
    fresh = stub.CreateSession(pb.CreateSessionRequest(graph=graph(leaf("y", [0.0])))).session_id
    with raises_status(INVALID, "duplicate id 'y'") as error:
        stub.Extend(pb.ExtendRequest(session_id=fresh, graph=request_graph))
    assert (error["details"], error["trailers"]["gradwire-node-id"]) == ("duplicate id 'y'", "y")
    assert server.servicer.runner.cache.stats().hits == 2
    stub.Extend(pb.ExtendRequest(session_id=sessions[0], graph=graph(leaf("k2", [1.0]))))  # still usable
