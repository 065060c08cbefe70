"""The ids a request gives new values (leaves, nodes, autograd.grad results), checked in one place.

An id is 1 to 256 printable ASCII characters without spaces or ':' (it travels in the gradwire-node-id
trailer, and ':' separates a reference's output index: "out:1"), and names one value: not repeated in
the request, not already a value of the session. A mistake is INVALID_ARGUMENT naming the id.
"""

from __future__ import annotations

import re
from typing import Container, Iterable

from .echo import shown
from .errors import RequestError, invalid

ID_PATTERN = re.compile(r"[!-9;-~]{1,256}")


def check_new_ids(ids: Iterable[str], taken: Container[str], what: str = "id") -> None:
    """Each of `ids` well formed, given once, and not one of `taken`; `what` names them in the message."""
    seen: set[str] = set()
    for value_id in ids:
        if not ID_PATTERN.fullmatch(value_id):
            raise invalid(f"{what} {shown(value_id)} must be 1 to 256 printable ASCII characters without spaces "
                          "or ':'", node_id=value_id)
        if value_id in seen or value_id in taken:
            raise duplicate_id(value_id)
        seen.add(value_id)


def duplicate_id(value_id: str) -> RequestError:
    """The error for an id already given (a compiled plan checks only this, its ids being checked once)."""
    return invalid(f"duplicate id {value_id!r}", node_id=value_id)
