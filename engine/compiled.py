"""`torch.compile(fn)` for the engine: a function traced once per signature, then replayed as typed steps.

    step = torch.compile(lambda x, w: ((x @ w).tanh() ** 2).mean())  # torch = gradwire.engine
    loss = step(x, w)                            # an ordinary engine Tensor: loss.backward() works
    loss, (w_grad,) = step.value_and_grad(x, w)  # grads of the first output w.r.t. the arguments that
                                                 # require grad (like the SDK's compile)

The first call with a signature (each argument's shape, dtype and requires_grad, the value of each Python
scalar argument, which arguments are the same tensor, and grad mode) runs `fn` eagerly while a tracer
(engine/modes `_state.tracer`, looked at once per op call by dispatch.apply_op) records each op call: the
op, its normalised attributes, grad mode, and each operand as a reference: argument i, output k of step
j, a tensor made inside by a (non-random) factory, a tensor from outside the function (a parameter:
captured by reference, so it keeps receiving grads and later calls see its current values), or a Python
scalar. Each step is typed ahead of time (engine.typed.infer, checked against what the traced call made);
later calls with that signature run the steps on the new arguments through engine.typed.apply_typed
(or dispatch.apply_op for a step the rules cannot type), so results carry grad_fns and `backward()`
gives exactly eager's values and gradients.

What a trace cannot replay makes its signature run `fn` eagerly on every call (with one warning, and
the reason in `eager_reasons`): an in-place op (including on tensors from outside); drawing random
numbers (a random op or factory); a tensor made outside the op table and then used (`detach()`,
`.data`, `from_numpy`, `Tensor(...)`); a value-shaped op (a mask's count) or a tensor given as an
attribute (a tensor index); reading values while traced (`item()`, `tolist()`, `numpy()`, `bool()`,
`float()`, `int()`, an index, printing, `np.asarray`, `allclose`, `.grad`); calling backward or autograd.grad inside; outputs
that are not tensors the traced steps or the arguments made; `fn` raising (the error reaches the
caller). A tensor from outside whose shape, dtype or requires_grad changed since the trace is traced
again. As with any tracing, Python control flow and Python values read from anything but the arguments
are frozen at the trace (a module's train() / eval() mode, a flag, a learning rate held as a number): call
`release()` after changing them. Arguments that are not tensors or Python scalars go through
`torch.tensor`; Python scalar arguments are passed to fn as they are and are part of the signature.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

from gradwire.rules.attrs import _NO_ATTRS, normalise_attrs
from gradwire.rules.results import is_scalar

from . import autograd, dispatch, factories, modes
from .registry import OpDef
from .tensor import Tensor
from .typed import Meta, TypedCall, _inexact, apply_typed, infer

# Operand references while tracing: (kind, index, output). ARG: the call's argument; STEP: output `output`
# of a step (None: its only output); MADE: a tensor a factory made inside; CONST: the value itself (a
# tensor from outside or a Python scalar), in `index`. A finished trace turns them into slots of one list.
ARG, STEP, MADE, CONST = 0, 1, 2, 3


class TraceBroken(Exception):
    """Why a trace cannot be replayed (raised only inside the tracer; the signature then runs eagerly)."""


class _Diverged(Exception):
    """A replayed step the rules could not type made other shapes than when traced (its values decide)."""


class _Step:
    __slots__ = ("op", "refs", "attrs", "grad_enabled", "typed", "width", "slots", "shapes")

    def __init__(self, op: OpDef, refs: tuple, attrs: dict, grad_enabled: bool, typed: TypedCall | None,
                 width: int | None) -> None:
        self.op, self.refs, self.attrs, self.grad_enabled, self.typed = op, refs, attrs, grad_enabled, typed
        self.width = width  # how many outputs, for an op returning a tuple; None for one Tensor
        self.slots: tuple[int, ...] = ()  # per operand, its place in the replay's list of values
        self.shapes: list[tuple] = []  # an untyped step's output shapes when traced, checked at each replay


class _Trace:
    """A replayable recording of fn for one signature.

    A replay keeps every value in one list: the constants, then the arguments, then fresh copies of the
    tensors factories made, then each step's outputs as the steps run; each operand is a slot of it."""

    __slots__ = ("steps", "constants", "made", "outputs", "structure", "guarded")

    def __init__(self, steps: list[_Step], constants: list[Any], made: list[tuple[np.ndarray, bool]],
                 outputs: list[int], structure: type | None, guarded: list[tuple[Tensor, tuple, Any, bool]]) -> None:
        self.steps, self.constants, self.made, self.outputs = steps, constants, made, outputs
        self.structure = structure  # None: fn returned one Tensor; else the tuple or list (class) it returned
        # Tensors from outside, with the (shape, dtype, requires_grad) the steps were typed for.
        self.guarded = guarded

    def constants_unchanged(self) -> bool:
        return all(tensor._data.shape == shape and tensor._dtype is dtype and tensor._requires_grad == requires
                   for tensor, shape, dtype, requires in self.guarded)

    def replay(self, args: list[Any]) -> Any:
        values = self.constants + args
        if self.made:
            values += [_fresh(array, requires) for array, requires in self.made]
        state = modes._state
        grad_enabled = state.grad_enabled
        try:
            for step in self.steps:
                operands = [values[slot] for slot in step.slots]
                if state.grad_enabled is not step.grad_enabled:
                    state.grad_enabled = step.grad_enabled
                typed = step.typed
                if typed is not None:
                    result = apply_typed(step.op, operands, step.attrs, typed)
                else:
                    result = dispatch.apply_op(step.op, operands, step.attrs, normalised=True)
                    shapes = [out._data.shape for out in result] if step.width is not None else [result._data.shape]
                    if shapes != step.shapes:
                        raise _Diverged(step.op.name)
                if step.width is None:
                    values.append(result)
                else:
                    values.extend(result)
        finally:
            state.grad_enabled = grad_enabled
        if self.structure is None:
            return values[self.outputs[0]]
        outputs = [values[slot] for slot in self.outputs]
        structure = self.structure
        if structure is tuple or structure is list:
            return structure(outputs)
        return structure(*outputs)  # a named tuple (torch.return_types)


def _fresh(array: np.ndarray, requires_grad: bool) -> Tensor:
    modes.charge(array.nbytes, "creating a tensor")
    tensor = Tensor._from_array(array.copy())  # a new tensor per call, as the factory made
    if requires_grad:
        tensor._requires_grad = True
    return tensor


class Tracer:
    """Records the op calls of one traced call (set as modes._state.tracer while fn runs)."""

    def __init__(self, args: list[Any]) -> None:
        self.broken: str | None = None
        self.steps: list[_Step] = []
        # id(tensor) -> its reference; the tensors are kept alive here so ids stay theirs while tracing.
        self.refs: dict[int, tuple] = {}
        self.alive: list[Any] = []
        self.made: list[tuple[np.ndarray, bool]] = []
        self.unusable: dict[int, str] = {}  # tensors made outside the op table: why they cannot be replayed
        self.constants: dict[int, tuple] = {}
        self.arg_count = len(args)
        for position, arg in enumerate(args):
            if isinstance(arg, Tensor) and id(arg) not in self.refs:
                self._know(arg, (ARG, position, None))

    def _know(self, tensor: Any, ref: tuple) -> None:
        self.refs[id(tensor)] = ref
        self.alive.append(tensor)

    def knows(self, tensor: Tensor) -> bool:
        return id(tensor) in self.refs or id(tensor) in self.constants

    def break_trace(self, reason: str) -> None:
        if self.broken is None:
            self.broken = reason

    # ------------------------------------------------------------ hooks (dispatch, factories, tensor)

    def call(self, op: OpDef, operands: list[Any], attrs: dict[str, Any], normalised: bool) -> Any:
        """dispatch.apply_op while tracing: runs the call untraced, then records it."""
        state = modes._state
        state.tracer = None
        try:
            result = dispatch.apply_op(op, operands, attrs, normalised=normalised)
        except BaseException as error:  # (fn may catch it and go on: what it does next is not replayable)
            self.break_trace(f"{op.name}() raised {type(error).__name__}")
            raise
        finally:
            state.tracer = self
        if self.broken is None:
            try:
                self._record(op, operands, attrs if normalised else normalise_attrs(op, attrs) if attrs or op.attrs
                             else _NO_ATTRS, result, state.grad_enabled)
            except TraceBroken as reason:
                self.break_trace(str(reason))
            except Exception as error:  # noqa: BLE001 - a call the tracer cannot describe: fn runs eagerly
                self.break_trace(f"{op.name}() could not be recorded ({type(error).__name__}: {error})")
        return result

    def made_tensor(self, tensor: Tensor) -> None:
        """A factory (zeros, tensor, arange ...) made `tensor`: replayed as a fresh copy of its values."""
        self._know(tensor, (MADE, len(self.made), None))
        self.made.append((tensor._data, tensor._requires_grad))

    def unusable_tensor(self, tensor: Tensor, how: str) -> None:
        self.refs.pop(id(tensor), None)  # (torch.tensor(x) of a tensor: made, but from values)
        self.unusable[id(tensor)] = how
        self.alive.append(tensor)

    # ------------------------------------------------------------ recording

    def _reference(self, value: Any) -> tuple:
        if not isinstance(value, Tensor):
            return (CONST, value, None)
        ref = self.refs.get(id(value))
        if ref is not None:
            return ref
        how = self.unusable.get(id(value))
        if how is not None:
            raise TraceBroken(f"it uses a tensor made by {how}, which a trace cannot replay")
        if id(value) not in self.constants:
            self.constants[id(value)] = (value, value._data.shape, value._dtype, value._requires_grad)
        return (CONST, value, None)

    def _record(self, op: OpDef, operands: list[Any], attrs: dict[str, Any], result: Any, grad_enabled: bool) -> None:
        if op.inplace:
            raise TraceBroken(f"it writes in place ({op.name})")
        if _holds_tensor(attrs):
            raise TraceBroken(f"{op.name}() is given a tensor as an attribute (e.g. a tensor index)")
        refs = tuple(self._reference(value) for value in operands)
        shapes = [value._data.shape if isinstance(value, Tensor) else () for value in operands]
        if op.out_shape is not None and _inexact(op.out_shape(shapes + [()] * _pad(op, operands), attrs)):
            raise TraceBroken(f"the shape of {op.name}()'s result depends on tensor values")
        metas = [Meta(value._data.shape, value._dtype) if isinstance(value, Tensor) else value for value in operands]
        typed = infer(op, metas, attrs)
        outputs = result if isinstance(result, tuple) else (result,)
        if typed is not None and [(t._dtype, t._data.shape) for t in outputs] != list(typed.outputs):
            typed = None  # the rules disagree with what ran: replay this step through apply_op
        index = len(self.steps)
        step = _Step(op, refs, attrs, grad_enabled, typed, len(result) if isinstance(result, tuple) else None)
        if typed is None:
            step.shapes = [out._data.shape for out in outputs]
        self.steps.append(step)
        if isinstance(result, tuple):
            for k, tensor in enumerate(result):
                self._know(tensor, (STEP, index, k))
        else:
            self._know(result, (STEP, index, None))

    def finish(self, result: Any) -> _Trace:
        structure = None if not isinstance(result, (tuple, list)) else type(result)
        output_refs = []
        for value in [result] if structure is None else result:
            ref = self.refs.get(id(value)) if isinstance(value, Tensor) else None
            if ref is None or ref[0] == MADE:
                raise TraceBroken("it returns something other than tensors computed by its ops or its arguments "
                                  f"(a {type(value).__name__})")
            output_refs.append(ref)
        constants = [index for step in self.steps for kind, index, _ in step.refs if kind == CONST]
        args_at = len(constants)
        made_at = args_at + self.arg_count
        step_at = []
        position = made_at + len(self.made)
        for step in self.steps:
            step_at.append(position)
            position += 1 if step.width is None else step.width

        def slot(ref: tuple) -> int:
            kind, index, output = ref
            if kind == ARG:
                return args_at + index
            if kind == MADE:
                return made_at + index
            return step_at[index] + (output or 0)

        const_slot = 0
        for step in self.steps:
            slots = []
            for ref in step.refs:
                if ref[0] == CONST:
                    slots.append(const_slot)
                    const_slot += 1
                else:
                    slots.append(slot(ref))
            step.slots = tuple(slots)
        return _Trace(self.steps, constants, self.made, [slot(ref) for ref in output_refs], structure,
                      list(self.constants.values()))


def _pad(op: OpDef, operands: list[Any]) -> int:
    return op.max_inputs - len(operands) if op.operand_attrs and len(operands) < op.max_inputs else 0


def _holds_tensor(value: Any) -> bool:
    if isinstance(value, Tensor):
        return True
    if isinstance(value, dict):
        return any(_holds_tensor(item) for item in value.values())
    if isinstance(value, (tuple, list)):
        return any(_holds_tensor(item) for item in value)
    return False


def _generator_state() -> Any:
    generator = factories.generator()
    return id(generator), generator.bit_generator.state


class CompiledFunction:
    """fn traced once per signature and replayed (see the module docstring). Counters: `traces`,
    `replays` and `eager_calls` (calls of a signature that cannot be replayed)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self._traces: dict[tuple, _Trace] = {}
        self.eager_reasons: dict[tuple, str] = {}
        self.traces = self.replays = self.eager_calls = 0

    def __call__(self, *args: Any) -> Any:
        if modes._state.tracer is not None:  # inside another traced function: its tracer records our ops
            return self.fn(*args)
        args_list = [arg if isinstance(arg, Tensor) or is_scalar(arg) or arg is None else factories.tensor(arg)
                     for arg in args]
        signature = _signature(args_list)
        trace = self._traces.get(signature)
        if trace is not None:
            if trace.constants_unchanged():
                self.replays += 1
                try:
                    return trace.replay(args_list)
                except _Diverged as diverged:  # nothing a replay does is seen outside it: run fn instead
                    self.replays -= 1
                    del self._traces[signature]
                    self._eager(signature, f"the shape of {diverged}()'s result depends on tensor values")
                    self.eager_calls += 1
                    return self.fn(*args_list)
            del self._traces[signature]  # a tensor from outside changed shape, dtype or requires_grad
        if signature in self.eager_reasons:
            self.eager_calls += 1
            return self.fn(*args_list)
        return self._trace(signature, args_list)

    def value_and_grad(self, *args: Any) -> tuple[Any, tuple]:
        """(outputs, grads of the first output w.r.t. each argument that requires grad), as the SDK's.

        The outputs are returned detached (values, like the SDK's); their graph is freed by the grad."""
        args_list = [arg if isinstance(arg, Tensor) or is_scalar(arg) or arg is None else factories.tensor(arg)
                     for arg in args]
        wanted = [arg for arg in args_list if isinstance(arg, Tensor) and arg.requires_grad]
        if not wanted:
            raise RuntimeError("value_and_grad: no argument requires grad; pass a tensor created with "
                               "requires_grad=True")
        result = self(*args_list)
        first = result if isinstance(result, Tensor) else result[0]
        grads = autograd.grad(first, wanted)
        values = result.detach() if isinstance(result, Tensor) else tuple(
            value.detach() if isinstance(value, Tensor) else value for value in result)
        return values, grads

    def release(self) -> None:
        """Forgets every trace (and the tensors from outside they hold); the next call traces again."""
        self._traces.clear()
        self.eager_reasons.clear()

    def _trace(self, signature: tuple, args: list[Any]) -> Any:
        tracer = Tracer(args)
        state = modes._state
        random_before = _generator_state()
        state.tracer = tracer
        try:
            result = self.fn(*args)
        except BaseException as error:
            tracer.break_trace(f"it raised {type(error).__name__}")
            self._eager(signature, tracer.broken)
            raise
        finally:
            state.tracer = None
        self.traces += 1
        if tracer.broken is None and _generator_state() != random_before:
            tracer.break_trace("it draws random numbers")
        if tracer.broken is None:
            try:
                self._traces[signature] = tracer.finish(result)
            except TraceBroken as reason:
                tracer.break_trace(str(reason))
        if tracer.broken is not None:
            self._eager(signature, tracer.broken)
        return result

    def _eager(self, signature: tuple, reason: str | None) -> None:
        self.eager_reasons[signature] = reason or "it cannot be traced"
        name = getattr(self.fn, "__name__", "the function")
        warnings.warn(f"compile: {name} runs eagerly for this signature: {reason}", stacklevel=4)


def _signature(args: list[Any]) -> tuple:
    key: list[Any] = [modes._state.grad_enabled]
    seen: dict[int, int] = {}
    for position, arg in enumerate(args):
        if isinstance(arg, Tensor):
            same = seen.setdefault(id(arg), position)
            key.append((arg._data.shape, arg._dtype, arg.requires_grad, same))
        else:
            key.append((type(arg), arg))
    return tuple(key)


def compile(fn: Callable[..., Any] | None = None, **options: Any) -> Any:  # noqa: A001  (torch.compile)
    """torch.compile(fn) (or @torch.compile, @torch.compile(...)): see the module docstring. torch's
    options (backend, mode, fullgraph, dynamic ...) are accepted and ignored."""
    if fn is None:
        return lambda function: CompiledFunction(function)
    return CompiledFunction(fn)
