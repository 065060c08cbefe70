"""Engine tensors into response messages: ValueInfo, and NamedTensors kept under the message size cap.

A response may not exceed the gRPC message limit. Tensors are added until the next one would pass it;
after that, in a session, a tensor is sent as a header only with `deferred` set (DownloadTensor streams
it), and in a one-shot call the request is refused with RESOURCE_EXHAUSTED. A session call may also ask
for every tensor above a size of its choosing to be deferred (`inline_bytes`): streamed chunks move
large tensors several times faster than one large message does.
"""

from __future__ import annotations

from typing import Any, Iterable

from . import codec
from .budget import format_bytes
from .errors import exhausted

# Room left in every response for ids, shapes and framing.
ENVELOPE_BYTES = 1 << 20


def add_value_info(into: Any, value_id: str, tensor: Any) -> None:
    """Appends the ValueInfo of a tensor to the repeated field `into` (filled in place: no copy)."""
    into.add(
        id=value_id,
        dtype=codec.DTYPE_ENUMS[tensor.dtype.name],
        shape=tensor.shape,
        requires_grad=tensor.requires_grad,
        is_leaf=tensor.is_leaf,
        grad_fn=tensor.grad_fn.name() if tensor.grad_fn is not None else "",
    )


def add_infos(into: Any, items: Iterable[tuple[str, Any]]) -> None:
    """ValueInfo of each (id, value); an op with several outputs gives "id:0", "id:1", ..."""
    for value_id, value in items:
        if isinstance(value, tuple):
            for k, tensor in enumerate(value):
                add_value_info(into, f"{value_id}:{k}", tensor)
        else:
            add_value_info(into, value_id, value)


class TensorPacker:
    """Adds NamedTensors to a response's repeated field while the response stays under the message cap."""

    def __init__(self, max_message_bytes: int, *, can_defer: bool, inline_bytes: int | None = None) -> None:
        self.bytes_left = max(0, max_message_bytes - ENVELOPE_BYTES)
        self.limit = max_message_bytes
        self.can_defer = can_defer
        # Tensors above this size are deferred even when they would fit (only where deferring is allowed).
        self.inline_bytes = inline_bytes if can_defer else None

    def pack(self, into: Any, value_id: str, tensor: Any) -> None:
        """Appends `tensor` (None allowed) as a NamedTensor to the repeated field `into`."""
        self.pack_array(into, value_id, None if tensor is None else tensor.detach().numpy())

    def pack_array(self, into: Any, value_id: str, array: Any) -> None:
        if array is None:
            into.add(id=value_id, is_none=True)
            return
        fits = self.admit(value_id, array)
        item = into.add(id=value_id, deferred=not fits)
        codec.encode_into(item.tensor, array, with_data=fits)

    def admit(self, value_id: str, array: Any) -> bool:
        """Whether the array goes in the response (counted) or is deferred; refused when it can be neither."""
        fits = array.nbytes <= self.bytes_left and (self.inline_bytes is None or array.nbytes <= self.inline_bytes)
        if not fits and not self.can_defer:
            raise exhausted(
                f"returning {value_id!r} ({format_bytes(array.nbytes)}) would pass the message limit of "
                f"{format_bytes(self.limit)}; use a session and DownloadTensor for large results",
                node_id=value_id,
            )
        if fits:
            self.bytes_left -= array.nbytes
        return fits
