"""torch's sub-namespaces on a Client: `torch.nn.functional`, `torch.linalg`, `torch.special`.

Their functions are the catalogue ops whose function names are dotted ("nn.functional.relu6"); a
namespace may also carry plain Python attributes (the nn module classes) added with `extend`.
"""

from __future__ import annotations

from typing import Any, Callable

from gradwire.rules.arguments import fill_implicit_dim, take_alpha, take_cast_first
from gradwire.rules.inplace import inplace_call

from .errors import checked

# The namespaces a Client exposes even before the catalogue is read (attribute access is lazy).
ROOTS = ("nn", "linalg", "special")


def catalogue_function(runtime: Any, full_name: str) -> Callable[..., Any] | None:
    """A Python function calling the catalogue op spelled `full_name`, or None if there is none."""
    op = runtime.catalogue.functions.get(full_name)
    if op is None:
        return None

    def function(*args: Any, **kwargs: Any) -> Any:
        operands, attrs = op.parse_call(args, kwargs)
        fill_implicit_dim(full_name, operands, attrs)  # F.softmax(x): torch's legacy dim, with its warning
        cast_first(op, operands, attrs)
        if attrs.get("return_indices"):  # torch's max_pool2d(..., return_indices=True) is max_pool2d_with_indices
            with_indices = runtime.catalogue.ops.get(op.name + "_with_indices")
            if with_indices is not None:
                return runtime.apply(with_indices, operands, attrs)
        inplace = inplace_call(op, attrs)  # F.elu(x, inplace=True) is the catalogue's elu_
        if inplace == "" and operands and isinstance(operands[0], runtime.tensor_class):
            return operands[0]
        if inplace:
            return runtime.apply(runtime.catalogue.op(inplace), operands, attrs)
        return runtime.apply(op, operands, attrs)

    function.__name__ = full_name.rpartition(".")[2]
    function.__qualname__ = full_name
    function.__doc__ = op.summary
    return function


def cast_first(op: Any, operands: list, attrs: dict) -> None:
    """softmax(x, dim, dtype=...): x.to(dtype) first, as torch records it (rules.arguments.CAST_FIRST);
    add(a, b, alpha=...): b * alpha first (rules.arguments.ALPHA_OPS)."""
    dtype = take_cast_first(op.name, attrs)
    if dtype is not None and operands and hasattr(operands[0], "to"):
        operands[0] = operands[0].to(dtype)
    if "alpha" in attrs and len(operands) == 2:
        alpha = checked(take_alpha, op.name, [getattr(x, "dtype", None) if hasattr(x, "shape") else None
                                              for x in operands], attrs)
        if alpha is not None:
            operands[1] = operands[1] * alpha


class Namespace:
    """One dotted namespace of the catalogue (`torch.nn.functional` is Namespace(runtime, "nn.functional"))."""

    def __init__(self, runtime: Any, path: str) -> None:
        self._runtime = runtime
        self._path = path
        self._extras: dict[str, Any] = {}

    def extend(self, attributes: dict[str, Any]) -> None:
        """Adds plain attributes (classes, helpers) that are not catalogue ops."""
        self._extras.update(attributes)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._extras:
            return self._extras[name]
        full_name = f"{self._path}.{name}"
        function = catalogue_function(self._runtime, full_name)
        if function is not None:
            return function
        if any(spelling.startswith(full_name + ".") for spelling in self._runtime.catalogue.functions):
            child = Namespace(self._runtime, full_name)
            self._extras[name] = child
            return child
        raise AttributeError(f"gradwire: torch.{self._path} has no attribute {name!r} (not in the server's op catalogue)")

    def __dir__(self) -> list[str]:
        prefix = self._path + "."
        names = {spelling[len(prefix):].split(".")[0] for spelling in self._runtime.catalogue.functions
                 if spelling.startswith(prefix)}
        return sorted(names | set(self._extras))

    def __repr__(self) -> str:
        return f"<gradwire namespace torch.{self._path}>"
