"""Backward graph nodes: what a tensor's `grad_fn` is.

A Node is created by each differentiable op that sees an input requiring grad. It remembers the op,
an edge per input (the input's grad_fn, the AccumulateGrad of a leaf, or None), the input shapes and
dtypes (to reduce and cast gradients), and the values its VJPs need, each with the version counter it saw
(so backward can tell that a saved value was changed in place). A backward without retain_graph drops the
saved values; the structure stays, so a later backward fails only where it needs them, as in PyTorch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gradwire.rules.errors import GraphFreedError

if TYPE_CHECKING:
    from .registry import OpDef
    from .tensor import Tensor


def _version_of(tensor: Tensor) -> int:
    box = tensor._version_box  # (not made here if the tensor has none yet: it is at version 0)
    return box[0] if box is not None else 0


class SavedTensor:
    """An input saved for backward, with the version it had then."""

    __slots__ = ("tensor", "version")

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor
        self.version = _version_of(tensor)

    @classmethod
    def kept(cls, tensor: Tensor, version: int) -> SavedTensor:
        """The entry of a tensor saved at `version` (a node keeps the pair, and makes this when asked)."""
        entry = cls.__new__(cls)
        entry.tensor, entry.version = tensor, version
        return entry

    def current_version(self) -> int:
        return _version_of(self.tensor)

    def describe(self) -> str:
        return f"{self.tensor.dtype.name} tensor of shape {list(self.tensor.shape)}"

    def unpack(self, node: Node, as_tensor: bool) -> Any:
        return self.tensor if as_tensor else self.tensor._data


class SavedOutput:
    """A node's own output, saved as its array and version counter, not as the Tensor.

    The output Tensor refers to the node (its grad_fn); saving the Tensor itself would make a cycle that
    only the garbage collector frees, keeping large arrays alive after the caller dropped them. As in
    torch, the Tensor is rebuilt around the same array when create_graph needs one.
    """

    __slots__ = ("data", "version_box", "version")

    def __init__(self, tensor: Tensor) -> None:
        self.data = tensor._data
        self.version_box = tensor._version
        self.version = tensor._version[0]

    def current_version(self) -> int:
        return self.version_box[0]

    def describe(self) -> str:
        return f"{self.data.dtype} tensor of shape {list(self.data.shape)}"

    def unpack(self, node: Node, as_tensor: bool) -> Any:
        if not as_tensor:
            return self.data
        from .tensor import Tensor
        from .views import use_counter

        output = Tensor._from_array(self.data)
        use_counter(output, self.version_box)
        output.grad_fn = node
        output._requires_grad = True
        return output


_SHARED_TUPLES: dict[tuple, tuple] = {}


def _shared(items: Any) -> tuple:
    """One tuple per distinct value of a node's input dtypes, shapes or saved versions, shared by every node
    that has it. Every object Python's cycle collector tracks counts toward its next collection, and each
    long-lived one makes the full collections (which walk every tracked object of the process) come
    sooner: a graph of many small nodes spent about as long in them as in building itself. (Bounded: at
    4096 values the table starts again, so a long-running process keeps sharing what it uses now.)"""
    key = tuple(items)
    shared = _SHARED_TUPLES.get(key)
    if shared is None:
        if len(_SHARED_TUPLES) >= 4096:
            _SHARED_TUPLES.clear()
        shared = _SHARED_TUPLES[key] = key
    return shared


class Node:
    """The backward function of one op application (PyTorch's grad_fn)."""

    __slots__ = (
        "op", "_edge0", "_edge1", "_edge_count", "_more_edges", "attrs", "input_shapes", "input_dtypes",
        "_saved_values", "_saved_versions", "saved_output", "has_saved", "freed", "retained_tensors",
        "schedule", "__weakref__",
    )

    def __init__(self, op: OpDef, next_edges: tuple, attrs: dict, operands: list,
                 input_shapes: tuple | None = None, input_dtypes: list | None = None) -> None:
        self.op = op
        # The edges of one or two inputs live in slots, not in a tuple of their own: every long-lived object
        # the cycle collector tracks costs a graph node about as much as the node's own Python (see
        # _shared); next_edges builds the tuple when asked.
        count = self._edge_count = len(next_edges)
        if count <= 2:
            self._edge0 = next_edges[0] if count else None
            self._edge1 = next_edges[1] if count == 2 else None
            self._more_edges = None
        else:
            self._edge0 = self._edge1 = None
            self._more_edges = tuple(next_edges)
        self.attrs = attrs
        # A Python scalar operand has shape () and dtype None. The dispatcher passes them in (read in its
        # operand loop); other callers leave them to be read here.
        if input_shapes is None or input_dtypes is None:
            input_shapes, input_dtypes = [], []
            for x in operands:
                if hasattr(x, "_data"):
                    input_shapes.append(x._data.shape)
                    input_dtypes.append(x._dtype)
                else:
                    input_shapes.append(())
                    input_dtypes.append(None)
        self.input_shapes = _shared(input_shapes)
        self.input_dtypes = _shared(input_dtypes)
        # The saved inputs, per position: the value (a Tensor, a number, or None where nothing is saved), and
        # for a tensor the version it was saved at (None otherwise). Kept as these two tuples rather than a
        # SavedTensor each (saved_inputs makes those when asked): one tracked object fewer per saved tensor.
        self._saved_values: tuple | None = None
        self._saved_versions: tuple | None = None
        self.saved_output: SavedOutput | None = None
        self.has_saved = False
        self.freed = False
        self.retained_tensors: list | None = None
        # What a backward from this node alone runs after it, in order (autograd._schedule): kept by its
        # first backward, so that the next ones on a retained graph skip the walk.
        self.schedule: tuple | None = None

    def save(self, operands: list, output: Tensor) -> None:
        op = self.op
        positions = range(len(operands)) if op.saves_all_inputs else op.saves_inputs
        if positions:
            values: list[Any] = [None] * len(operands)
            versions: list[Any] = [None] * len(operands)
            for i in positions:
                value = values[i] = operands[i]
                if hasattr(value, "_data"):
                    versions[i] = _version_of(value)
            self._saved_values, self._saved_versions = tuple(values), _shared(versions)
            self.has_saved = True
        if op.saves_output:
            self.saved_output = SavedOutput(output)
            self.has_saved = True

    @property
    def saved_inputs(self) -> tuple | None:
        """The saved inputs by position: a SavedTensor for a tensor, the value itself otherwise."""
        values = self._saved_values
        if values is None:
            return None
        return tuple([value if version is None else SavedTensor.kept(value, version)
                      for value, version in zip(values, self._saved_versions)])

    @saved_inputs.setter
    def saved_inputs(self, entries: tuple | None) -> None:
        if entries is None:
            self._saved_values = self._saved_versions = None
            return
        self._saved_values = tuple([entry.tensor if type(entry) is SavedTensor else entry for entry in entries])
        self._saved_versions = _shared([entry.version if type(entry) is SavedTensor else None for entry in entries])

    @property
    def next_edges(self) -> tuple:
        """Per input: the node its gradient goes to (its grad_fn, a leaf's AccumulateGrad), or None."""
        count = self._edge_count
        if count == 2:
            return (self._edge0, self._edge1)
        if count == 1:
            return (self._edge0,)
        return self._more_edges if count else ()

    @property
    def scalar_mask(self) -> tuple[bool, ...]:
        """Which operands were Python scalars (torch names some backward functions after that)."""
        return tuple(dtype is None for dtype in self.input_dtypes)

    @property
    def grad_mask(self) -> tuple[bool, ...]:
        """Per operand: does a gradient flow back to it? (rules' grad_fn functions read it)."""
        return tuple(edge is not None for edge in self.next_edges)

    def name(self) -> str:
        return self.op.grad_fn_name(self)

    @property
    def next_functions(self) -> tuple:
        return tuple((edge, 0) for edge in self.next_edges)

    def check_saved(self) -> None:
        """Raise if the VJPs would read freed values or values changed in place since the forward."""
        if not self.has_saved:
            return
        if self.freed:
            raise GraphFreedError(
                "Trying to backward through the graph a second time (or directly access saved tensors "
                f"after they have already been freed): {self.name()} needs values that were freed by an "
                "earlier backward. Specify retain_graph=True the first time you call backward or "
                "autograd.grad if you need to backward through the graph again."
            )
        if self._saved_values is not None:
            for value, version in zip(self._saved_values, self._saved_versions):
                if version is not None and _version_of(value) != version:
                    self._modified(SavedTensor.kept(value, version))
        entry = self.saved_output
        if entry is not None and entry.version_box[0] != entry.version:
            self._modified(entry)

    def _modified(self, entry: SavedTensor | SavedOutput) -> None:
        from .views import modified_since_saved  # views.py builds on this module

        raise modified_since_saved(entry.describe(), self.name(), entry.current_version(), entry.version)

    def free(self) -> None:
        if self.has_saved:
            self._saved_values = self._saved_versions = None
            self.saved_output = None
            self.freed = True

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"  # as torch prints a grad_fn


class AccumulateGrad:
    """The sink of a leaf that requires grad: backward adds into the leaf's `.grad`."""

    __slots__ = ("variable", "__weakref__")
    next_edges: tuple = ()

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"  # as torch 2.13 prints it

    @property
    def next_functions(self) -> tuple:
        return ()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


class Ctx:
    """What a VJP sees: saved inputs and output (arrays or Tensors, per backward mode), attrs, shapes."""

    __slots__ = ("inputs", "output", "attrs", "input_shapes", "node")

    def __init__(self, node: Node, as_tensors: bool) -> None:
        self.node = node
        values = node._saved_values
        if not values:
            self.inputs = ()
        elif as_tensors:
            self.inputs = values
        else:
            self.inputs = tuple([value if version is None else value._data
                                 for value, version in zip(values, node._saved_versions)])
        saved_output = node.saved_output
        self.output = saved_output.unpack(node, as_tensors) if saved_output is not None else None
        self.attrs = node.attrs
        self.input_shapes = node.input_shapes
