"""gradwire.engine.compile(fn): traced once per signature, replayed as typed steps; values and gradients
bit-identical to eager, equal to torch's; what cannot be replayed runs eagerly with eager's results."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradwire.engine as ge
from test_random_programs import build_program, program_loss

torch = pytest.importorskip("torch", reason="torch is the oracle for these comparisons")


# ---------------------------------------------------------------- programs: (t, params, *args) -> outputs

def tutorial(t, params, a):
    return ((a + 3) * (a + 3) * 3).mean()


def mlp_step(t, params, x, onehot):
    hidden = (x @ params["w1"] + params["b1"]).relu()
    logits = hidden @ params["w2"]
    return -(t.nn.functional.log_softmax(logits, 1) * onehot).sum(1).mean()


def broadcasting(t, params, x, column, row):
    return ((x * column + row) / (column.abs() + 1)).tanh().sum()


def several_outputs(t, params, x, y):
    values, indices = x.max(dim=1)
    first, second = t.split(x * y, 2)
    return (values * 2).sum(), indices, first - second, x


def reductions(t, params, x):
    return (x.sum(dim=1, keepdim=True) * x.mean((0, 1)) + x.var(1).unsqueeze(1) + x.amax(0)).exp().mean()


def grad_modes_and_factories(t, params, x):
    with t.no_grad():
        scale = x * 2
    offset = t.ones(3) + t.arange(3)
    return (x * scale + offset).sum(), t.zeros(2, 3) + x[0]


def float64_and_ints(t, params, x, k):
    return (x.double() * k).sum(0) + x.to(t.float64).prod(1).sum()


def arrays(seed):
    rng = np.random.default_rng(seed)
    return lambda *shape: rng.standard_normal(shape).astype(np.float32)


PROGRAMS = {
    "tutorial": (tutorial, lambda r: [(r(2), True)], {}),
    "mlp": (mlp_step, lambda r: [(r(8, 5), False), (np.eye(4, dtype=np.float32)[[0, 1, 2, 3, 0, 1, 2, 3]], False)],
            {"w1": (5, 6), "b1": (6,), "w2": (6, 4)}),
    "broadcasting": (broadcasting, lambda r: [(r(4, 3), True), (r(4, 1), True), (r(3), False)], {}),
    "several outputs": (several_outputs, lambda r: [(r(4, 3), True), (r(3), True)], {}),
    "reductions": (reductions, lambda r: [(r(2, 3, 4), True)], {}),
    "grad modes and factories": (grad_modes_and_factories, lambda r: [(r(2, 3), True)], {}),
    "float64 and ints": (float64_and_ints, lambda r: [(r(3, 2), True), (np.arange(2, dtype=np.int64), False)], {}),
}


def make(t, arg_specs, param_specs, seed):
    """The program's arguments and parameters in module t (torch or the engine), from seeded arrays."""
    rng = np.random.default_rng(seed + 100)
    params = {name: t.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
              for name, shape in param_specs.items()}
    args = [t.tensor(array, requires_grad=flag) for array, flag in arg_specs]
    return params, args


def backward_all(outputs):
    """Backward from the sum of every floating output (a scalar loss over all of them)."""
    outputs = [outputs] if not isinstance(outputs, (tuple, list)) else outputs
    floating = [out for out in outputs if out.dtype.is_floating_point and out.requires_grad]
    total = floating[0].sum()
    for out in floating[1:]:
        total = total + out.sum()
    total.backward()


def as_list(outputs):
    return list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]


@pytest.mark.parametrize("name", PROGRAMS)
def test_compiled_matches_eager_bit_for_bit_and_torch(name):
    program, arg_specs, param_specs = PROGRAMS[name]
    params, _ = make(ge, arg_specs(arrays(0)), param_specs, 0)
    step = ge.compile(lambda *args: program(ge, params, *args))
    for call in range(3):  # call 0 traces, calls 1 and 2 replay on new values
        specs = arg_specs(arrays(call))
        _, args = make(ge, specs, {}, call)
        _, eager_args = make(ge, specs, {}, call)
        compiled_out = step(*args)
        backward_all(compiled_out)
        compiled_grads = {k: p.grad.numpy().copy() for k, p in params.items()}
        for p in params.values():
            p.grad = None
        eager_out = program(ge, params, *eager_args)
        backward_all(eager_out)
        for got, expected in zip(as_list(compiled_out), as_list(eager_out), strict=True):
            assert got.dtype is expected.dtype and got.requires_grad == expected.requires_grad
            assert (got.grad_fn is None) == (expected.grad_fn is None)
            if got.grad_fn is not None:
                assert got.grad_fn.name() == expected.grad_fn.name()
            np.testing.assert_array_equal(got.detach().numpy(), expected.detach().numpy())
        for got, expected in zip(args, eager_args):
            if expected.grad is not None:
                np.testing.assert_array_equal(got.grad.numpy(), expected.grad.numpy())
        for key, p in params.items():
            np.testing.assert_array_equal(compiled_grads[key], p.grad.numpy())
            p.grad = None
        # and torch's values and gradients, on the same numbers
        torch_params, torch_args = make(torch, specs, param_specs, 0)
        torch_out = program(torch, torch_params, *torch_args)
        backward_all(torch_out)
        for got, expected in zip(as_list(compiled_out), as_list(torch_out)):
            np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=2e-5, atol=1e-6)
        for got, expected in zip(args, torch_args):
            if expected.grad is not None:
                np.testing.assert_allclose(got.grad.numpy(), expected.grad.numpy(), rtol=2e-5, atol=1e-6)
        for key, p in torch_params.items():
            np.testing.assert_allclose(compiled_grads[key], p.grad.numpy(), rtol=2e-5, atol=1e-6)
    assert (step.traces, step.replays, step.eager_calls) == (1, 2, 0)


def test_replay_runs_the_recorded_steps_not_the_function():
    calls = []

    def fn(x):
        calls.append(1)
        return (x * 2).sum()

    step = ge.compile(fn)
    for value in (1.0, 2.0, 3.0):
        assert step(ge.tensor([value, value])).item() == 4 * value
    assert len(calls) == 1 and step.traces == 1 and step.replays == 2


def test_a_new_signature_traces_again():
    step = ge.compile(lambda x: (x * x).sum(0))
    step(ge.ones(3, 2))
    step(ge.ones(3, 2))
    assert step.traces == 1
    out = step(ge.ones(4, 2))  # shape
    assert out.shape == (2,) and step.traces == 2
    out = step(ge.ones(4, 2, dtype=ge.float64))  # dtype
    assert out.dtype is ge.float64 and step.traces == 3
    out = step(ge.ones(4, 2, requires_grad=True))  # requires_grad
    assert out.requires_grad and step.traces == 4
    with ge.no_grad():  # grad mode
        out = step(ge.ones(4, 2, requires_grad=True))
    assert not out.requires_grad and out.grad_fn is None and step.traces == 5
    x = ge.ones(4, 2, requires_grad=True)
    pair = ge.compile(lambda a, b: a * b)
    pair(x, ge.ones(4, 2, requires_grad=True))
    pair(x, x)  # the same tensor twice
    assert pair.traces == 2
    scaled = ge.compile(lambda a, k: a * k)
    assert scaled(ge.ones(2), 2.0).tolist() == [2.0, 2.0] and scaled(ge.ones(2), 3.0).tolist() == [3.0, 3.0]
    assert scaled(ge.ones(2), 3.0).tolist() == [3.0, 3.0]
    assert scaled.traces == 2 and scaled.replays == 1  # a Python scalar argument is part of the signature
    assert step.replays == 1


def test_parameters_captured_by_reference_see_optimizer_updates():
    rng = np.random.default_rng(3)
    w0, b0 = rng.standard_normal((3, 2)).astype(np.float32), rng.standard_normal(2).astype(np.float32)
    models = []
    for _ in range(2):
        w, b = ge.tensor(w0, requires_grad=True), ge.tensor(b0, requires_grad=True)
        models.append((w, b, ge.optim.SGD([w, b], lr=0.1, momentum=0.9)))

    def loss_of(w, b, x):
        return ((x @ w + b) ** 2).mean()

    (w, b, optimizer), (ew, eb, eager_optimizer) = models
    step = ge.compile(lambda x: loss_of(w, b, x))
    for call in range(4):
        x = rng.standard_normal((5, 3)).astype(np.float32)
        loss = step(ge.tensor(x))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        eager_loss = loss_of(ew, eb, ge.tensor(x))
        eager_loss.backward()
        eager_optimizer.step()
        eager_optimizer.zero_grad()
        assert loss.item() == eager_loss.item()
        np.testing.assert_array_equal(w.detach().numpy(), ew.detach().numpy())
        np.testing.assert_array_equal(b.detach().numpy(), eb.detach().numpy())
    assert step.traces == 1 and step.replays == 3
    assert not np.array_equal(w.detach().numpy(), w0)  # the updates happened
    with ge.no_grad():
        w.data = ge.zeros(4, 2)  # a parameter changing shape: traced again
    assert step(ge.ones(5, 4)).item() == (b ** 2).mean().item() and step.traces == 2


def test_value_and_grad_gives_the_first_outputs_grads_like_autograd_grad():
    step = ge.compile(lambda x, y, z: ((x * y).sum() + z.sum(), x * 3))
    rng = np.random.default_rng(4)
    for _ in range(2):
        x, y, z = (ge.tensor(rng.standard_normal(3).astype(np.float32), requires_grad=flag)
                   for flag in (True, False, True))
        (total, tripled), grads = step.value_and_grad(x, y, z)
        assert total.grad_fn is None and not total.requires_grad
        expected = (x * y).sum() + z.sum()
        assert total.item() == expected.item()
        np.testing.assert_array_equal(tripled.numpy(), (x * 3).detach().numpy())
        expected_grads = ge.autograd.grad(expected, [x, z])
        assert len(grads) == 2
        for got, want in zip(grads, expected_grads):
            np.testing.assert_array_equal(got.numpy(), want.numpy())
        assert x.grad is None  # autograd.grad writes no .grad
    assert step.replays == 1
    with pytest.raises(RuntimeError, match="requires grad"):
        step.value_and_grad(ge.ones(3), ge.ones(3), ge.ones(3))
    not_scalar = ge.compile(lambda x: x * 2)
    with pytest.raises(RuntimeError, match="scalar outputs"):
        not_scalar.value_and_grad(ge.ones(2, requires_grad=True))


def test_arguments_that_are_not_tensors_become_tensors():
    step = ge.compile(lambda x: x * 2)
    assert step([1.0, 2.0]).tolist() == [2.0, 4.0]
    assert step(np.array([3.0, 4.0], np.float32)).tolist() == [6.0, 8.0]
    assert step.replays == 1


def test_nested_compiled_functions_trace_as_one():
    inner = ge.compile(lambda x: x.exp())
    outer = ge.compile(lambda x: inner(x).sum())
    for value in (0.0, 1.0):
        assert outer(ge.tensor([value])).item() == pytest.approx(np.exp(value))
    assert outer.replays == 1 and inner.traces == 0


def test_release_forgets_the_traces():
    step = ge.compile(lambda x: x + 1)
    step(ge.ones(2))
    step.release()
    step(ge.ones(2))
    assert step.traces == 2 and step.replays == 0


def test_decorator_forms():
    @ge.compile
    def double(x):
        return x * 2

    @ge.compile(fullgraph=True)
    def triple(x):
        return x * 3

    assert double(ge.ones(1)).item() == 2.0 and triple(ge.ones(1)).item() == 3.0


# ---------------------------------------------------------------- what runs eagerly, and why

def _inplace(x):
    y = x * 2
    y += 1
    return y


def _random_op(x):
    return ge.nn.functional.dropout(x, 0.5) + x


def _random_factory(x):
    return x + ge.randn(3)


def _detached(x):
    return x * x.detach()


def _from_numpy(x):
    return x + ge.from_numpy(np.ones(3, np.float32))


def _tensor_of_tensor(x):
    return x + ge.tensor(x)


def _value_shaped(x):
    return x[x > 0].sum()


def _tensor_index(x):
    return x[ge.tensor([2, 0])] * 2


def _backward_inside(x):
    y = (x * x).sum()
    (g,) = ge.autograd.grad(y, [x], create_graph=True)
    return g * 2


def _returns_a_number(x):
    return x * 2, 3.0


def _returns_a_constant(x):
    return x * 2, CONSTANT


def _returns_a_made_tensor(x):
    return x * 2, ge.ones(3)


def _retain_grad(x):
    y = x * 2
    y.retain_grad()
    return y.sum()


CONSTANT = ge.ones(3)
READS = {
    "item": lambda x: x * x.sum().item(),
    "tolist": lambda x: x * x.tolist()[0],
    "numpy": lambda x: x * float(x.detach().numpy()[0]),
    "bool": lambda x: x * 2 if x.sum() > 0 else x * 3,
    "float": lambda x: x * float(x[0]),
    "int": lambda x: x * int(x[0]),
    "index": lambda x: x * [1.0, 2.0, 3.0][x.long()[0]],
    "repr": lambda x: (repr(x), x * 2)[1],
    "format": lambda x: (f"{x}", x * 2)[1],
    "array": lambda x: x * np.asarray(x.detach()).sum(),
    "allclose": lambda x: x * 2 if ge.allclose(x, x * 0 + 1) else x * 3,
    "grad": lambda x: x * 2 if CONSTANT.grad is None else x * CONSTANT.grad,
}
FALLBACKS = {
    "in-place": (_inplace, "in place"), "random op": (_random_op, "random"),
    "random factory": (_random_factory, "random"),
    "detach": (_detached, "detach"), "from_numpy": (_from_numpy, "from_numpy"),
    "tensor of a tensor": (_tensor_of_tensor, "torch.tensor"), "value-shaped": (_value_shaped, "values"),
    "tensor index": (_tensor_index, "values"), "backward inside": (_backward_inside, "autograd.grad"),
    "a number out": (_returns_a_number, "float"), "a constant out": (_returns_a_constant, "Tensor"),
    "a made tensor out": (_returns_a_made_tensor, "Tensor"), "retain_grad": (_retain_grad, "retain_grad"),
    **{f"reads {name}": (fn, "reads a tensor's") for name, fn in READS.items()},
}


@pytest.mark.parametrize("name", FALLBACKS)
def test_what_cannot_be_replayed_runs_eagerly_with_eagers_results(name):
    fn, reason = FALLBACKS[name]
    step = ge.compile(fn)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for value in (1.0, 2.0, -1.5):
            x, eager_x = (ge.tensor([value, 0.5 * value, 0.25], requires_grad=True) for _ in range(2))
            ge.manual_seed(7)
            got = as_list(step(x))
            ge.manual_seed(7)
            expected = as_list(fn(eager_x))
            for out, want in zip(got, expected, strict=True):
                if isinstance(want, ge.Tensor):
                    np.testing.assert_array_equal(out.detach().numpy(), want.detach().numpy())
                else:
                    assert out == want
            if got[0].requires_grad:
                got[0].sum().backward()
                expected[0].sum().backward()
                np.testing.assert_array_equal(x.grad.numpy(), eager_x.grad.numpy())
    assert (step.traces, step.replays, step.eager_calls) == (1, 0, 2)
    (why,) = step.eager_reasons.values()
    assert reason in why
    assert len([w for w in caught if "runs eagerly" in str(w.message)]) == 1  # warned once


def test_an_inplace_write_to_a_tensor_from_outside_runs_eagerly():
    counter = ge.zeros(1)

    def fn(x):
        counter.add_(1)
        return x * 2

    step = ge.compile(fn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):
            step(ge.ones(2))
    assert counter.item() == 3.0 and step.eager_calls == 2


def test_a_function_that_raises_raises_every_time():
    step = ge.compile(lambda x, y: x + y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(2):
            with pytest.raises(RuntimeError, match="size"):
                step(ge.ones(2), ge.ones(3))
    assert step.eager_calls == 1 and "raised ShapeError" in next(iter(step.eager_reasons.values()))
    assert step(ge.ones(2), ge.ones(2)).tolist() == [2.0, 2.0]  # another signature traces fine


def test_dropout_in_eval_mode_draws_nothing_and_replays():
    step = ge.compile(lambda x: ge.nn.functional.dropout(x, 0.5, training=False) * 2)
    assert step(ge.ones(3)).tolist() == [2.0] * 3 and step(ge.ones(3)).tolist() == [2.0] * 3
    assert step.replays == 1


def test_tracing_leaves_no_tracer_behind():
    step = ge.compile(lambda x: x * 2)
    step(ge.ones(2))
    with pytest.raises(RuntimeError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ge.compile(lambda x: x + ge.ones(5))(ge.ones(2))
    assert ge.modes._state.tracer is None
    x = ge.ones(2)
    assert x.sum().item() == 2.0 and repr(x) == "tensor([1., 1.])"


def test_replays_return_the_structure_fn_returned():
    as_list_of = ge.compile(lambda x: [x * 2, x + 1])
    named = ge.compile(lambda x: x.max(dim=1))
    for _ in range(2):
        pair = as_list_of(ge.ones(2))
        assert type(pair) is list and [p.tolist() for p in pair] == [[2.0, 2.0], [2.0, 2.0]]
        values, indices = result = named(ge.tensor([[1.0, 3.0], [4.0, 2.0]]))
        assert type(result).__name__ == "ValuesIndices" and result.values.tolist() == [3.0, 4.0]
        assert indices.tolist() == [1, 0] and indices.dtype is ge.int64
    assert as_list_of.replays == 1 and named.replays == 1


def test_an_op_error_the_function_catches_makes_it_run_eagerly():
    def fn(x, y):
        try:
            return x + y
        except RuntimeError:
            return x * 2

    step = ge.compile(fn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(2):
            assert step(ge.ones(2), ge.ones(3)).tolist() == [2.0, 2.0]
    assert step.eager_calls == 1 and "add() raised" in next(iter(step.eager_reasons.values()))


# ---------------------------------------------------------------- the random programs, compiled

def program_function(steps):
    """The random program (test_random_programs) as a function of its leaves, returning its loss."""
    return lambda *leaves: program_loss(ge, steps, leaves)


def test_random_programs_compiled_match_eager_bit_for_bit():
    replayed = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the programs that write in place run eagerly, and say so
        for seed in range(40):
            steps = build_program(seed)
            leaf_values = [step[1] for step in steps if step[0] == "leaf"]
            step_fn = ge.compile(program_function(steps))
            for call in range(3):
                arrays = [value * (1.0 - 0.25 * call) for value in leaf_values]
                leaves = [ge.tensor(a, requires_grad=True) for a in arrays]
                eager_leaves = [ge.tensor(a, requires_grad=True) for a in arrays]
                loss = step_fn(*leaves)
                loss.backward()
                expected = program_function(steps)(*eager_leaves)
                expected.backward()
                assert loss.item() == expected.item(), seed
                for got, want in zip(leaves, eager_leaves):
                    if want.grad is None:
                        assert got.grad is None
                    else:
                        np.testing.assert_array_equal(got.grad.numpy(), want.grad.numpy())
            replayed += step_fn.replays
            assert step_fn.replays + step_fn.eager_calls == 2
    assert replayed >= 40  # most programs replay (those with an index assignment run eagerly)


def test_an_untyped_step_whose_shapes_change_on_replay_makes_the_call_eager():
    """Every op has exact shape rules today; a step replayed untyped (through apply_op) is still checked
    against the shapes it had when traced, and a call where they differ runs fn eagerly instead."""
    step = ge.compile(lambda x: (x * 2).sum())
    step(ge.ones(3))
    (trace,) = step._traces.values()
    trace.steps[0].typed, trace.steps[0].shapes = None, [(4,)]  # as if the traced call had made (4,)
    with pytest.warns(UserWarning, match="depends on tensor values"):
        assert step(ge.tensor([1.0, 2.0, 3.0])).item() == 12.0
    assert step.eager_calls == 1 and step.replays == 0
    trace.steps[0].shapes = [(3,)]
    step._traces[next(iter(step.eager_reasons))] = trace
    step.eager_reasons.clear()
    assert step(ge.tensor([1.0, 2.0, 3.0])).item() == 12.0 and step.replays == 1  # untyped, same shapes


def test_a_replay_is_charged_to_the_memory_budget_as_eager_is():
    from gradwire.rules.errors import BudgetExceededError

    fn = lambda x: (x * 2 + 1).sum()  # noqa: E731
    step = ge.compile(fn)
    x = ge.ones(1000)
    step(x)
    for run in (fn, step):
        with ge.memory_budget(6000), pytest.raises(BudgetExceededError) as error:
            run(x)
        assert "4,000 bytes" in str(error.value)
    assert step.replays == 1


def test_module_state_is_frozen_at_the_trace_until_release():
    ge.manual_seed(0)
    model = ge.nn.Sequential(ge.nn.Linear(5, 8), ge.nn.ReLU(), ge.nn.Linear(8, 3), ge.nn.Dropout(0.5))
    model.eval()
    step = ge.compile(lambda x, y: ge.nn.functional.cross_entropy(model(x), y))
    rng = np.random.default_rng(0)
    x, y = ge.tensor(rng.standard_normal((6, 5)).astype(np.float32)), ge.tensor(rng.integers(0, 3, 6))
    assert step(x, y).item() == ge.nn.functional.cross_entropy(model(x), y).item()
    assert step(x, y).item() == ge.nn.functional.cross_entropy(model(x), y).item() and step.replays == 1
    model.train()
    step.release()  # dropout now draws: the new trace runs eagerly
    with pytest.warns(UserWarning, match="random"):
        ge.manual_seed(1)
        got = step(x, y).item()
    ge.manual_seed(1)
    assert got == ge.nn.functional.cross_entropy(model(x), y).item() and step.replays == 1
