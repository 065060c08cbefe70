"""`client.autograd`: Variable, backward and grad, as torch.autograd has them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from .runtime import Runtime
    from .tensor import Tensor


def _as_tuple(tensors: Any) -> tuple[Any, ...]:
    return tuple(tensors) if isinstance(tensors, (list, tuple)) else (tensors,)


class Autograd:
    """The torch.autograd namespace of one Client."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def Variable(self, data: Tensor, requires_grad: bool = False) -> Tensor:  # noqa: N802 - torch's name
        """torch.autograd.Variable: today just a leaf with the same data (an alias kept for old code)."""
        runtime = self._runtime
        if not isinstance(data, runtime.tensor_class):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return runtime.leaf(data._data_copy(), requires_grad)

    def backward(self, tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        roots = _as_tuple(tensors)
        seeds = None if grad_tensors is None else _as_tuple(grad_tensors)
        self._runtime.backward(roots, seeds, retain_graph, create_graph, inputs)

    def grad(self, outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, allow_unused: bool | None = None,
             is_grads_batched: bool = False) -> tuple[Tensor | None, ...]:
        seeds: Sequence[Any] | None = None if grad_outputs is None else _as_tuple(grad_outputs)
        return self._runtime.grad(_as_tuple(outputs), _as_tuple(inputs), seeds, retain_graph, create_graph,
                                  bool(allow_unused), is_grads_batched)
