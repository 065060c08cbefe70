"""Typed plans and backward schedules against the present path: the same bits, and the fast path is taken.

A plan's first run goes through engine.dispatch.apply_op (checking the typed inference against what the
engine produces) and autograd's own graph walk (recording the schedule); later runs, metered or not, run
the typed steps (engine.typed.apply_typed) and replay the schedule. Each test runs the same values once
on the present path and again on the fast path and compares every bit, then checks the plan's counters
(PlanRuns) to show the fast path was really taken.

- op-table rows (a sample of every family) as compiled functions (client.compile: PrepareGraph, then a
  Compute by graph_id with a one-shot backward), the scalar loss seeded so every output's gradient counts;
- the random programs on a caching server (typed plans of the SDK's Extend calls) against a server with
  no plan cache;
- raw one-shot Computes with shared subexpressions (gradients summed from several paths), the cache on
  and off, and leaves whose dtype changes under one structure (uploads: the typed path must step aside).
"""

from __future__ import annotations

import sys
from pathlib import Path

import grpc
import numpy as np
import pytest

from gradwire.client import Client
from gradwire.v1 import gradwire_pb2 as pb
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc
from server_helpers import CHANNEL_OPTIONS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from ops_table import ROWS  # noqa: E402
from test_random_programs import build_program  # noqa: E402
from test_server_plans import program_outcome, with_new_leaves  # noqa: E402

SAMPLED_ROWS = ROWS[2::5]


@pytest.fixture(scope="module")
def servers():
    from gradwire.server import ServerConfig, create_server

    cached, cached_port = create_server("127.0.0.1:0")
    plain, plain_port = create_server("127.0.0.1:0", ServerConfig(plan_cache_entries=0))
    yield cached, f"127.0.0.1:{cached_port}", plain, f"127.0.0.1:{plain_port}"
    cached.stop(None).wait()
    plain.stop(None).wait()


def _bits(tensor):
    if tensor is None:
        return None
    array = np.array(tensor.detach().numpy(), copy=True)
    return str(array.dtype), array.shape, array.tobytes()


def _loss(client, row, arguments, template):
    """The row's program on its arguments (tensors) and fixed non-tensor inputs, reduced to one number with
    a fixed seed per output, so that every output's gradient reaches the leaves."""
    merged, given = [], iter(arguments)
    for value in template:
        merged.append(next(given) if isinstance(value, np.ndarray) else value)
    result = row.program(client, *merged)
    outputs = list(result) if isinstance(result, (tuple, list)) else [result]
    terms = [(out * client.tensor(np.linspace(-1, 1, max(1, int(np.prod(out.shape)))).reshape(out.shape))).sum()
             for out in outputs if out.requires_grad]
    return sum(terms[1:], terms[0]) if terms else outputs[0]


def _arguments(client, inputs):
    return [client.tensor(value.astype(np.float64), requires_grad=True) if value.dtype.kind == "f"
            else client.tensor(value) for value in inputs if isinstance(value, np.ndarray)]


def _call(step, client, inputs):
    try:
        loss, grads = step.value_and_grad(*_arguments(client, inputs))
        return "ok", _bits(loss), [_bits(g) for g in grads]
    except Exception as error:  # noqa: BLE001 - the error is what is compared
        return "error", type(error).__name__, str(error)


@pytest.mark.parametrize("row", SAMPLED_ROWS, ids=[row.id for row in SAMPLED_ROWS])
def test_compiled_op_row_is_bit_identical_typed_and_scheduled(servers, row):
    server, address, _, _ = servers
    first, second = row.inputs(np.random.default_rng(1)), row.inputs(np.random.default_rng(2))
    if not any(isinstance(value, np.ndarray) and value.dtype.kind == "f" for value in first):
        return  # value_and_grad needs an argument that requires grad: nothing of this row to compare
    with Client(address) as client:
        step = client.compile(lambda *arguments: _loss(client, row, arguments, first))
        present = _call(step, client, second)  # the plan's first run: apply_op, _collect, metered
        if not step._prepared:
            assert present[0] == "error"  # tracing refused it: no plan ever ran
            return
        (prepared_ids,) = [p.graph_id for p in step._prepared.values()]
        plan = server.servicer.prepared.get(prepared_ids, "anonymous").plan
        _call(step, client, first)
        fast = _call(step, client, second)  # cost known: unmetered, typed when the plan is
    assert fast == present, row.id
    if present[0] != "ok":
        return
    assert plan.runs.typed_agrees is not False, f"{row.id}: the typed inference disagreed with the engine"
    if plan.typed is not None:
        assert plan.runs.typed_agrees and plan.runs.typed_runs == 2, f"{row.id}: the typed path was not taken"
    if plan.runs.schedules.get(tuple(plan.node_ids[-1:])) is not None:
        assert plan.runs.scheduled_backwards == 2, f"{row.id}: the backward schedule was not replayed"


def test_most_sampled_rows_are_typed(servers):
    """Typing covers the op table: all but value-shaped, in-place and Bound-shaped rows type exactly."""
    server, address, _, _ = servers
    typed, ran, untyped = 0, 0, []
    for row in SAMPLED_ROWS[::4]:
        inputs = row.inputs(np.random.default_rng(3))
        if not any(isinstance(value, np.ndarray) and value.dtype.kind == "f" for value in inputs):
            continue
        with Client(address) as client:
            step = client.compile(lambda *arguments: _loss(client, row, arguments, inputs))
            if _call(step, client, inputs)[0] != "ok":
                continue
            (graph_id,) = [p.graph_id for p in step._prepared.values()]
            ran += 1
            if server.servicer.prepared.get(graph_id, "anonymous").plan.typed is not None:
                typed += 1
            else:
                untyped.append(row.id)
    assert ran >= 20 and typed >= 0.8 * ran, untyped


def _typed_runs(server) -> int:
    return sum(plan.runs.typed_runs for plan, _ in list(server.servicer.runner.cache._plans.values()))


def _plain_program(steps) -> bool:
    """No in-place write and no indexing: the program's plan has its shapes fixed, so it is typed."""
    return not any(step[0] in ("setitem", "index") for step in steps)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 6, 8, 10, 16, 22])
def test_random_program_is_bit_identical_on_typed_plans(servers, seed):
    cached_server, cached, _, plain = servers
    steps = build_program(seed)
    for _ in range(2):  # the slow path, then compiled
        program_outcome(cached, steps)
    again = with_new_leaves(steps, 2000 + seed)
    theirs = program_outcome(plain, again)
    program_outcome(cached, again)  # metered: records the cost, checks the typed inference
    before = _typed_runs(cached_server)
    ours = program_outcome(cached, again)
    if _plain_program(steps):
        assert _typed_runs(cached_server) > before, "no typed plan ran"
    for mine, other in zip(ours, theirs):
        if other is None:
            assert mine is None
        else:
            assert mine.dtype == other.dtype and mine.tobytes() == other.tobytes()


def _tensor(array: np.ndarray) -> pb.Tensor:
    enums = {np.float32: pb.DTYPE_FLOAT32, np.float64: pb.DTYPE_FLOAT64}
    return pb.Tensor(dtype=enums[array.dtype.type], shape=list(array.shape), data=array.tobytes())


def _node(node_id, op, *operands, **attrs) -> pb.Node:
    node = pb.Node(id=node_id, op=op)
    for operand in operands:
        if isinstance(operand, str):
            node.inputs.add(ref=operand)
        else:
            node.inputs.add(real=float(operand))
    for name, value in attrs.items():
        node.attrs[name].integer = value
    return node


def _diamond(rng, roots=("loss",), dtype=np.float32) -> pb.ComputeRequest:
    """Shared subexpressions: a's gradient is summed from four paths, w's from two."""
    x = rng.standard_normal((3, 4)).astype(dtype)
    w = rng.standard_normal((4, 2)).astype(dtype)
    nodes = [_node("a", "matmul", "x", "w"), _node("b", "tanh", "a"), _node("c", "add", "a", "b"),
             _node("d", "mul", "c", "a"), _node("e", "softmax", "d", dim=-1), _node("f", "mul", "e", "w2"),
             _node("loss", "sum", "f"), _node("other", "mean", "c")]
    leaves = [pb.Leaf(id="x", value=_tensor(x), requires_grad=True),
              pb.Leaf(id="w", value=_tensor(w), requires_grad=True),
              pb.Leaf(id="w2", value=_tensor(rng.standard_normal((3, 2)).astype(dtype)), requires_grad=True)]
    return pb.ComputeRequest(graph=pb.Graph(leaves=leaves, nodes=nodes), roots=[pb.Root(id=r) for r in roots],
                             return_values=["loss", "e"], return_grads=["x", "w", "w2"])


def _stubs(servers):
    cached_server, cached, _, plain = servers
    channels = [grpc.insecure_channel(address, options=CHANNEL_OPTIONS) for address in (cached, plain)]
    return cached_server, channels, [pb_grpc.GradwireServiceStub(channel) for channel in channels]


def _plan_of(server, request):
    from gradwire.server.plan_cache import structure_key

    return server.servicer.runner.cache.get(structure_key(request.graph))


def test_one_shot_compute_is_bit_identical_typed_and_scheduled(servers):
    cached_server, channels, (cached, plain) = _stubs(servers)
    try:
        for roots in (("loss",), ("loss", "other")):  # each set of roots its own schedule
            for seed in range(5):  # slow, slow (compiles), metered plan run, then typed and scheduled
                request = _diamond(np.random.default_rng(seed), roots)
                assert cached.Compute(request).SerializeToString() == plain.Compute(request).SerializeToString()
            plan = _plan_of(cached_server, request)
            assert plan.typed is not None and plan.runs.typed_agrees
            assert plan.runs.schedules[roots] is not None
        # One plan (roots are not structure): 2 typed runs with the first roots (after the run checking
        # the inference), then 5 with the second; the schedules replayed 2 + 4 times (each set of roots
        # records its own on its first run).
        assert plan.runs.typed_runs == 7 and plan.runs.scheduled_backwards == 6
    finally:
        for channel in channels:
            channel.close()


def test_leaves_of_another_dtype_under_one_structure_leave_the_typed_path(servers):
    """An uploaded leaf's dtype is not part of the structure: float32 runs compile and type the plan, a
    float64 upload of the same structure must run untyped (and give what the slow path gives)."""
    cached_server, channels, (cached, plain) = _stubs(servers)
    try:
        def request(stub, dtype, seed):
            value = np.random.default_rng(seed).standard_normal(5).astype(dtype)
            header = _tensor(value)
            parts = [pb.UploadTensorRequest(header=pb.Tensor(dtype=header.dtype, shape=header.shape)),
                     pb.UploadTensorRequest(chunk=header.data)]
            upload = stub.UploadTensor(iter(parts)).upload_id
            nodes = [_node("b", "mul", "u", "u"), _node("s", "sum", "b")]
            leaves = [pb.Leaf(id="u", upload_id=upload, requires_grad=True)]
            return pb.ComputeRequest(graph=pb.Graph(leaves=leaves, nodes=nodes), roots=[pb.Root(id="s")],
                                     return_values=["b"], return_grads=["u"])

        for seed in range(4):
            cached.Compute(request(cached, np.float32, seed))
        plan = _plan_of(cached_server, request(cached, np.float32, 0))
        assert plan.typed is not None and plan.runs.typed_runs >= 1
        typed_runs = plan.runs.typed_runs
        for seed in range(3):
            ours = cached.Compute(request(cached, np.float64, seed))
            theirs = plain.Compute(request(plain, np.float64, seed))
            assert ours.SerializeToString() == theirs.SerializeToString()
        assert plan.runs.typed_runs == typed_runs and plan.runs.typed_agrees
    finally:
        for channel in channels:
            channel.close()


def test_a_value_dependent_error_on_the_typed_path_is_the_slow_paths(servers):
    """index_select with an index leaf: in range the plan runs typed; out of range, its error (raised by
    the forward, on the typed path) is the same status and message as on a server with no plan cache."""
    cached_server, channels, (cached, plain) = _stubs(servers)
    try:
        def request(index):
            x = np.arange(12, dtype=np.float32).reshape(4, 3)
            index_leaf = pb.Leaf(id="i", value=pb.Tensor(dtype=pb.DTYPE_INT64, shape=[2],
                                                         data=np.array(index, np.int64).tobytes()))
            nodes = [_node("y", "index_select", "x", "i", dim=0), _node("s", "sum", "y")]
            leaves = [pb.Leaf(id="x", value=_tensor(x), requires_grad=True), index_leaf]
            return pb.ComputeRequest(graph=pb.Graph(leaves=leaves, nodes=nodes), roots=[pb.Root(id="s")],
                                     return_grads=["x"])

        for index in ([0, 1], [1, 2], [2, 3], [3, 0]):
            assert cached.Compute(request(index)).SerializeToString() == plain.Compute(request(index)).SerializeToString()
        plan = _plan_of(cached_server, request([0, 0]))
        assert plan.typed is not None and plan.runs.typed_runs == 1
        errors = []
        for stub in (cached, plain):
            with pytest.raises(grpc.RpcError) as caught:
                stub.Compute(request([1, 7]))
            errors.append((caught.value.code(), caught.value.details()))
        assert errors[0] == errors[1] and errors[0][0] == grpc.StatusCode.INVALID_ARGUMENT, errors
        assert "'y'" in errors[0][1]
    finally:
        for channel in channels:
            channel.close()


def test_threads_sharing_a_typed_plan_get_their_own_results(servers):
    """A typed plan and its schedule are shared by concurrent requests: each gets the bits of its own values."""
    from concurrent.futures import ThreadPoolExecutor

    cached_server, channels, (cached, plain) = _stubs(servers)
    try:
        requests = [_diamond(np.random.default_rng(100 + k), ("loss", "other")) for k in range(24)]
        expected = [plain.Compute(request).SerializeToString() for request in requests]
        for request in requests[:4]:  # compiled, cost and schedule recorded
            cached.Compute(request)
        plan = _plan_of(cached_server, requests[0])
        typed_before = plan.runs.typed_runs
        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(lambda request: cached.Compute(request).SerializeToString(), requests))
        assert got == expected
        assert plan.runs.typed_runs > typed_before
    finally:
        for channel in channels:
            channel.close()


def test_a_metered_typed_run_is_charged_what_an_untyped_run_is(servers):
    """The runner meters typed runs too: the peak bytes and the work charged for a plan run and its
    backward are the same on the typed path (with the schedule) as on apply_op (collecting)."""
    import gradwire.engine as ge
    from gradwire.server import gradients, graph, plans, schedule
    from gradwire.server.limits import metered

    cached_server, channels, (cached, _) = _stubs(servers)
    try:
        for seed in range(4):
            cached.Compute(_diamond(np.random.default_rng(seed)))
        request = _diamond(np.random.default_rng(7))
        plan, servicer = _plan_of(cached_server, request), cached_server.servicer
        assert plan.runs.typed_agrees
        typed_runs, charged = plan.runs.typed_runs, []
        for typed in (False, True):
            scope = graph.Scope({})
            bound = plans.bind(plan, request.graph, scope, servicer.uploads)
            with metered(servicer.runner.config, None, bound.leaf_bytes):
                plans.run(plan, bound, scope, writable_leaves=False, typed=typed)
                if typed:
                    schedule.backward(plan, scope, request.roots)
                else:
                    gradients.backward(scope, request.roots, retain_graph=None, create_graph=False, inputs=())
                charged.append(ge.modes.charged_so_far())
        assert plan.runs.typed_runs == typed_runs + 1  # the second run was typed
        assert charged[0] == charged[1] and charged[0][0] > 0 and charged[0][1] > 0, charged
    finally:
        for channel in channels:
            channel.close()
