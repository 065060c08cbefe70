"""The engine's errors.

Each class derives from GradwireError and from the builtin exception PyTorch raises for the same mistake,
so `except RuntimeError` works as it does with torch. `status` names the gRPC status a server should
answer with and `torch_type` the builtin class, so the server and SDK need no table of their own.
"""

from __future__ import annotations


class GradwireError(Exception):
    """Base of every error the engine raises on purpose."""

    status = "INVALID_ARGUMENT"
    torch_type = "RuntimeError"


class AutogradError(GradwireError, RuntimeError):
    """A misuse of autograd that is wrong whatever the graph's state (bad seed, no grad_fn, ...)."""


class GraphFreedError(AutogradError):
    """Backward needs saved values that an earlier backward without retain_graph freed."""

    status = "FAILED_PRECONDITION"


class InplaceModifiedError(AutogradError):
    """A value saved for backward was changed in place afterwards."""

    status = "FAILED_PRECONDITION"


class InplaceError(GradwireError, RuntimeError):
    """An in-place op that autograd forbids (on a leaf that requires grad, or a view of one)."""


class ShapeError(GradwireError, RuntimeError):
    """Shapes that do not broadcast or do not fit the op."""


class InvalidArgumentRuntimeError(GradwireError, RuntimeError):
    """An argument value torch rejects with RuntimeError (clamp with neither min nor max, ...)."""


class DTypeError(GradwireError, TypeError):
    """A dtype the op or autograd does not accept."""

    torch_type = "TypeError"


class DTypeRuntimeError(GradwireError, RuntimeError):
    """A dtype problem torch reports as RuntimeError (requires_grad on an integer tensor, int mean)."""


class IndexOutOfRange(GradwireError, IndexError):
    """An index past the end of a dimension."""

    torch_type = "IndexError"


class InvalidValueError(GradwireError, ValueError):
    """A malformed argument torch reports as ValueError."""

    torch_type = "ValueError"


class ArgumentError(GradwireError, TypeError):
    """Wrong number or kind of arguments or attributes for an op."""

    torch_type = "TypeError"


class UnknownOpError(ArgumentError):
    """An op name that is not in the registry."""


class BudgetExceededError(GradwireError, RuntimeError):
    """An op would allocate more than the memory budget in force allows."""

    status = "RESOURCE_EXHAUSTED"


class WorkExceededError(GradwireError, RuntimeError):
    """An op would touch more elements than the work bound in force allows."""

    status = "RESOURCE_EXHAUSTED"


class NotImplementedForDTypeError(GradwireError, NotImplementedError):
    """An op torch has no kernel for at this dtype (bitwise ops on floats ...)."""

    torch_type = "NotImplementedError"
