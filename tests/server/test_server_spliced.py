"""Responses with large tensors serialized from the arrays (server/spliced.py) parse to exactly the
message protobuf builds, and reach a client intact over loopback gRPC."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

import gradwire.engine as ge
from gradwire.server.responses import TensorPacker
from gradwire.server.spliced import RAW_MIN_BYTES, Spliced, allow_serialized
from gradwire.v1 import gradwire_pb2 as pb
from server_helpers import node, raises_status, root, tensor, to_array

MiB = 1 << 20
rng = np.random.default_rng(7)


def _tensors() -> list[tuple[str, str, object]]:
    big = rng.standard_normal(RAW_MIN_BYTES // 4).astype(np.float32)
    return [
        ("values", "big", big),
        ("values", "half", rng.standard_normal((3, 5)).astype(np.float16)),
        ("values", "scalar", np.array(2.5)),
        ("values", "empty", np.zeros((0, 4), np.int64)),
        ("grads", "none", None),
        ("grads", "bools", np.array([True, False, True])),
        ("grads", "transposed", ge.from_numpy(rng.standard_normal((300, 400))).t()),
        ("grads", "int32", np.arange(50_000, dtype=np.int32)),
        ("grads", "ints", np.arange(-4, 4, dtype=np.int8)),
    ]


def _protobuf_built(entries, packer: TensorPacker) -> pb.ComputeResponse:
    response = pb.ComputeResponse(info=[pb.ValueInfo(id="big", shape=[3])])
    for field, value_id, array in entries:
        packer.pack(getattr(response, field), value_id, _as_tensor(array))
    return response


def _as_tensor(value):
    return value if value is None or isinstance(value, ge.Tensor) else ge.from_numpy(np.array(value))


@pytest.fixture
def serialized_allowed():
    allow_serialized(True)  # as wire.py does for the calls it handles
    yield
    allow_serialized(False)


@pytest.mark.parametrize("limit", [256 * MiB, 5 * MiB // 2], ids=["all inline", "some deferred"])
def test_spliced_bytes_parse_to_the_message_protobuf_builds(limit, serialized_allowed):
    entries = _tensors()
    spliced = Spliced(pb.ComputeResponse(info=[pb.ValueInfo(id="big", shape=[3])]),
                      TensorPacker(limit, can_defer=True, inline_bytes=None if limit > 5 * MiB else MiB))
    for field, value_id, array in entries:
        spliced.add(field, value_id, _as_tensor(array))
    raw = spliced.result()
    assert isinstance(raw, bytes)
    assert not entries[6][2].numpy().flags.c_contiguous  # sent in C order all the same
    expected = _protobuf_built(entries, TensorPacker(limit, can_defer=True,
                                                     inline_bytes=None if limit > 5 * MiB else MiB))
    assert pb.ComputeResponse.FromString(raw) == expected
    if limit < 5 * MiB:
        assert [named.deferred for named in expected.values][:1] == [False]  # the 1 MiB one fits exactly
        assert any(named.deferred for named in expected.grads)


def test_large_responses_stay_messages_outside_wire_handlers():
    """A servicer served by generated handlers (whose serializer wants a message) gets messages."""
    spliced = Spliced(pb.BackwardResponse(), TensorPacker(256 * MiB, can_defer=True))
    big = np.arange(RAW_MIN_BYTES // 4, dtype=np.float32)
    spliced.add("grads", "x", ge.from_numpy(big))
    result = spliced.result()
    assert isinstance(result, pb.BackwardResponse) and np.array_equal(to_array(result.grads[0].tensor), big)


def test_deferred_large_tensors_leave_the_response_a_message(serialized_allowed):
    spliced = Spliced(pb.BackwardResponse(), TensorPacker(256 * MiB, can_defer=True, inline_bytes=1024))
    spliced.add("grads", "x", ge.from_numpy(np.ones(RAW_MIN_BYTES, np.float32)))
    spliced.add("grads", "y", ge.from_numpy(np.ones(3, np.float32)))
    result = spliced.result()
    assert isinstance(result, pb.BackwardResponse)
    assert [(named.deferred, len(named.tensor.data)) for named in result.grads] == [(True, 0), (False, 12)]


def test_small_responses_stay_messages(serialized_allowed):
    spliced = Spliced(pb.BackwardResponse(), TensorPacker(256 * MiB, can_defer=True))
    spliced.add("grads", "x", ge.from_numpy(np.ones(3, np.float32)))
    result = spliced.result()
    assert isinstance(result, pb.BackwardResponse) and to_array(result.grads[0].tensor).tolist() == [1, 1, 1]


def test_one_shot_refusal_is_unchanged(serialized_allowed):
    spliced = Spliced(pb.ComputeResponse(), TensorPacker(2 * MiB, can_defer=False))
    spliced.add("grads", "x", ge.from_numpy(np.ones(2 * MiB, np.float32)))
    with pytest.raises(Exception, match="would pass the message limit"):
        spliced.result()


@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
def test_large_compute_backward_and_read_over_grpc(stub):
    x = rng.standard_normal((1024, 700)).astype(np.float32)  # 2.7 MiB
    request = pb.ComputeRequest(graph=pb.Graph(
        leaves=[pb.Leaf(id="x", value=tensor(x), requires_grad=True)],
        nodes=[node("y", "mul", "x", "x"), node("s", "sum", "y")]), roots=[root("s")], return_values=["y"])
    response = stub.Compute(request)
    np.testing.assert_array_equal(to_array(response.values[0].tensor), x * x)
    assert [named.id for named in response.grads] == ["x"]
    np.testing.assert_array_equal(to_array(response.grads[0].tensor), 2 * x)
    assert {info.id for info in response.info} == {"x", "y", "s"}

    session_id = stub.CreateSession(pb.CreateSessionRequest(graph=request.graph)).session_id
    backward = stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("s")], return_grads=["x"]))
    np.testing.assert_array_equal(to_array(backward.grads[0].tensor), 2 * x)
    read = stub.Read(pb.ReadRequest(session_id=session_id, values=["y", "x"], grads=["x", "y"]))
    np.testing.assert_array_equal(to_array(read.values[0].tensor), x * x)
    np.testing.assert_array_equal(to_array(read.values[1].tensor), x)
    np.testing.assert_array_equal(to_array(read.grads[0].tensor), 2 * x)
    assert read.grads[1].is_none
    with raises_status(grpc.StatusCode.INVALID_ARGUMENT, "unknown id 'nope'"):
        stub.Read(pb.ReadRequest(session_id=session_id, values=["y"], grads=["nope"]))
