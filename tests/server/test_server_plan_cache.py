"""The plan cache: structure keys never collide (property test), the LRU keeps its bounds, counters count."""

from __future__ import annotations

import struct

import grpc
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gradwire.server.plan_cache import PlanCache, structure_key
from gradwire.v1 import gradwire_pb2 as pb
from server_helpers import CHANNEL_OPTIONS

DTYPES = [pb.DTYPE_FLOAT32, pb.DTYPE_FLOAT64, pb.DTYPE_INT64, pb.DTYPE_BOOL]
ITEMSIZE = {pb.DTYPE_FLOAT32: 4, pb.DTYPE_FLOAT64: 8, pb.DTYPE_INT64: 8, pb.DTYPE_BOOL: 1}

finite = st.floats(allow_nan=False, allow_infinity=False, width=64).filter(lambda x: x != 0.0 or str(x) == "0.0")
# A leaf's dtype and shape travel with its value; an uploaded leaf names only its upload (a value).
leaf_st = st.one_of(
    st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(DTYPES), st.lists(st.integers(0, 3), max_size=2).map(tuple),
              st.booleans(), st.just("value")),
    st.tuples(st.sampled_from(["a", "b"]), st.just(None), st.just(None), st.booleans(), st.just("upload")))
operand_st = st.one_of(st.tuples(st.just("ref"), st.sampled_from(["a", "b", "a:1"])),
                       st.tuples(st.just("real"), st.sampled_from([0.5, 1.0, 2.0, -0.0])),
                       st.tuples(st.just("integer"), st.integers(-2, 2)),
                       st.tuples(st.just("boolean"), st.booleans()))
attr_st = st.one_of(st.tuples(st.just("integer"), st.integers(-1, 1)),
                    st.tuples(st.just("real"), st.sampled_from([1.0, 2.0])),
                    st.tuples(st.just("boolean"), st.booleans()),
                    st.tuples(st.just("ints"), st.lists(st.integers(0, 2), max_size=2).map(tuple)),
                    st.tuples(st.just("dtype"), st.sampled_from(DTYPES)),
                    st.tuples(st.just("text"), st.sampled_from(["sum", "mean"])))
node_st = st.tuples(st.sampled_from(["n", "m"]), st.sampled_from(["add", "mul", "sum", "to"]),
                    st.lists(operand_st, max_size=2).map(tuple),
                    st.dictionaries(st.sampled_from(["dim", "keepdim", "dtype"]), attr_st, max_size=2)
                    .map(lambda d: tuple(sorted(d.items()))),
                    st.booleans())
structure_st = st.tuples(st.lists(leaf_st, max_size=2).map(tuple), st.lists(node_st, max_size=2).map(tuple))


def _comparable(structure):
    """The structure with floats as their bits (-0.0 and 0.0 are different graphs: x * -0.0 is not x * 0.0)."""
    if isinstance(structure, float):
        return ("float", struct.pack("<d", structure))
    if isinstance(structure, tuple):
        return tuple(_comparable(part) for part in structure)
    return structure


def _graph(structure, rng) -> pb.Graph:
    leaves, nodes = structure
    graph = pb.Graph()
    for leaf_id, dtype, shape, requires_grad, source in leaves:
        leaf = graph.leaves.add(id=leaf_id, requires_grad=requires_grad)
        if source == "value":
            leaf.value.dtype = dtype
            leaf.value.shape.extend(shape)
            leaf.value.data = rng.bytes(int(np.prod(shape)) * ITEMSIZE[dtype])  # the values: not structure
        else:
            leaf.upload_id = rng.bytes(8).hex()
    for node_id, op, operands, attrs, no_grad in nodes:
        node = graph.nodes.add(id=node_id, op=op, no_grad=no_grad)
        for kind, value in operands:
            setattr(node.inputs.add(), kind, value)
        for name, (kind, value) in attrs:
            if kind == "ints":
                node.attrs[name].ints.values.extend(value)
            else:
                setattr(node.attrs[name], kind, value)
    return graph


@settings(max_examples=200, deadline=None)
@given(structure_st, structure_st, st.integers(0, 2**32 - 1))
def test_keys_are_equal_exactly_when_structures_are(first, second, seed):
    rng = np.random.default_rng(seed)
    first_key = structure_key(_graph(first, rng))
    second_key = structure_key(_graph(second, rng))  # other leaf values (and upload ids) for sure
    assert (first_key == second_key) == (_comparable(first) == _comparable(second))


@settings(max_examples=100, deadline=None)
@given(structure_st, st.integers(0, 2**32 - 1))
def test_leaf_values_are_not_part_of_the_key(structure, seed):
    assert structure_key(_graph(structure, np.random.default_rng(seed))) == \
        structure_key(_graph(structure, np.random.default_rng(seed + 1)))


def test_attribute_order_does_not_change_the_key():
    one, two = pb.Node(id="s", op="sum"), pb.Node(id="s", op="sum")
    one.attrs["dim"].integer, one.attrs["keepdim"].boolean = 0, True
    two.attrs["keepdim"].boolean, two.attrs["dim"].integer = True, 0
    assert structure_key(pb.Graph(nodes=[one])) == structure_key(pb.Graph(nodes=[two]))


def test_lru_keeps_its_entry_bound_and_drops_the_least_recently_used():
    cache = PlanCache(max_entries=2, max_bytes=1 << 20)
    cache.put(b"a", "A", 10)
    cache.put(b"b", "B", 10)
    assert cache.get(b"a") == "A"  # a is now the most recent
    cache.put(b"c", "C", 10)
    assert b"b" not in cache and cache.get(b"a") == "A" and cache.get(b"c") == "C"
    stats = cache.stats()
    assert (stats.entries, stats.evictions, stats.hits, stats.misses) == (2, 1, 3, 0)
    assert cache.get(b"b") is None and cache.stats().misses == 1


def test_lru_keeps_its_byte_bound():
    cache = PlanCache(max_entries=100, max_bytes=100)
    for index in range(10):
        assert cache.put(bytes([index]), index, 29)  # 30 bytes with its key
        assert cache.stats().bytes <= 100
    assert cache.stats().entries == 3
    assert not cache.put(b"huge", "plan", 200)  # alone over the bound: refused, nothing evicted for it
    assert cache.stats().entries == 3
    assert cache.put(bytes([9]), "again", 29) and cache.stats().entries == 3  # replacing counts once


def _chain(length: int) -> pb.ComputeRequest:
    nodes = [pb.Node(id=f"n{i}", op="mul", inputs=[pb.Operand(ref=f"n{i - 1}" if i else "x"), pb.Operand(real=1.5)])
             for i in range(length)]
    value = np.array([1.0, 2.0], np.float32)
    leaf = pb.Leaf(id="x", value=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[2], data=value.tobytes()))
    return pb.ComputeRequest(graph=pb.Graph(leaves=[leaf], nodes=nodes), return_values=[f"n{length - 1}"])


def test_a_structure_is_compiled_the_second_time_it_is_seen():
    cache = PlanCache(max_entries=2, max_bytes=100)
    assert not cache.seen_before(b"a") and cache.seen_before(b"a") and not cache.seen_before(b"a")
    for key in (b"b", b"c", b"d"):  # a seen-once LRU of its own, in the same bounds
        cache.seen_before(key)
    assert not cache.seen_before(b"b")  # forgotten: b was the oldest of three
    assert not cache.seen_before(b"x" * 101)  # over the byte bound: never remembered
    assert not cache.seen_before(b"x" * 101)


def test_server_cache_counts_hits_and_misses_and_stays_bounded(start_server):
    server, stub, _ = start_server(plan_cache_entries=2)
    cache = server.servicer.runner.cache
    for length in (1, 1, 2, 2, 3, 3):  # each compiled at its second sighting; the first one evicted
        stub.Compute(_chain(length))
    assert cache.stats().entries == 2 and cache.stats().misses == 6 and cache.stats().hits == 0
    assert cache.stats().evictions == 1
    first = stub.Compute(_chain(3))
    second = stub.Compute(_chain(3))
    assert cache.stats().hits == 2
    assert np.frombuffer(first.values[0].tensor.data, np.float32).tolist() == [1.5 ** 3, 2 * 1.5 ** 3]
    assert first == second


def test_a_failed_request_caches_no_plan_and_keeps_its_error(start_server):
    server, stub, _ = start_server()
    bad = _chain(2)
    bad.graph.leaves[0].value.data = b"\x00" * 3  # 3 bytes for 2 float32
    for _ in range(2):
        try:
            stub.Compute(bad)
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "data has 3 bytes" in error.details()
        else:
            raise AssertionError("a short leaf was accepted")
    assert server.servicer.runner.cache.stats().entries == 0
    for _ in range(2):
        stub.Compute(_chain(2))  # good requests of that structure: the slow path, then cached
    try:
        stub.Compute(bad)  # now through the plan: the same error
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "data has 3 bytes" in error.details()
    else:
        raise AssertionError("a short leaf was accepted on the plan path")
    assert server.servicer.runner.cache.stats().hits == 1


def _tutorial(value: float) -> pb.ComputeRequest:
    leaf = pb.Leaf(id="a", requires_grad=True,
                   value=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[2], data=np.array([value, 3], np.float32).tobytes()))
    nodes = [pb.Node(id="b", op="mul", inputs=[pb.Operand(ref="a"), pb.Operand(ref="a")]),
             pb.Node(id="out", op="sum", inputs=[pb.Operand(ref="b")])]
    return pb.ComputeRequest(graph=pb.Graph(leaves=[leaf], nodes=nodes), roots=[pb.Root(id="out")],
                             return_grads=["a"])


def test_a_plan_records_what_a_metered_run_cost_per_set_of_roots(start_server):
    server, stub, _ = start_server()
    for value in (1.0, 2.0, 3.0, 4.0):  # slow, slow (compiles), metered plan run (records), unmetered
        grads = stub.Compute(_tutorial(value)).grads
        assert np.frombuffer(grads[0].tensor.data, np.float32).tolist() == [2 * value, 6.0]
    (plan, _), = server.servicer.runner.cache._plans.values()
    assert plan.shapes_fixed
    (roots, (peak, work)), = plan.costs.items()
    assert roots == (("out",),) and peak > 0 and work > 0


def test_value_shaped_plans_stay_metered(start_server):
    """repeat_interleave's result grows with its repeats' values: three small requests of one structure
    (compiled, then run on its plan) must not let a fourth, larger one past the memory budget."""
    _, stub, _ = start_server(max_request_bytes=8192)

    def request(repeat: int) -> pb.ComputeRequest:
        x = pb.Leaf(id="x", requires_grad=True,
                    value=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[4], data=np.ones(4, np.float32).tobytes()))
        repeats = pb.Leaf(id="r", value=pb.Tensor(dtype=pb.DTYPE_INT64, shape=[4],
                                                  data=np.full(4, repeat, np.int64).tobytes()))
        nodes = [pb.Node(id="y", op="repeat_interleave", inputs=[pb.Operand(ref="x"), pb.Operand(ref="r")]),
                 pb.Node(id="s", op="sum", inputs=[pb.Operand(ref="y")])]
        return pb.ComputeRequest(graph=pb.Graph(leaves=[x, repeats], nodes=nodes), roots=[pb.Root(id="s")])

    for _ in range(4):
        assert np.frombuffer(stub.Compute(request(1)).grads[0].tensor.data, np.float32).tolist() == [1.0] * 4
    try:
        stub.Compute(request(1000))  # 16 kB of result
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error.details()
    else:
        raise AssertionError("a value-shaped plan ran past the memory budget")
