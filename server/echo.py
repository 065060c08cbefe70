"""Caller input quoted back in errors and trailers, bounded and made safe.

An error message quotes at most SHOWN_CHARS characters of any caller-supplied text, and a whole message
at most MESSAGE_CHARS, so a 20 KB id cannot turn the real error into a metadata-size error. Trailer values
must be printable ASCII (gRPC refuses anything else), so other characters are percent-encoded.
"""

from __future__ import annotations

import urllib.parse

SHOWN_CHARS = 80
MESSAGE_CHARS = 2000
TRAILER_CHARS = 300


def shown(text: str, limit: int = SHOWN_CHARS) -> str:
    """repr(text), cut to about `limit` characters with the full length said."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


def bounded_message(message: str) -> str:
    if len(message) <= MESSAGE_CHARS:
        return message
    return message[:MESSAGE_CHARS] + f"... ({len(message):,} characters in all)"


def trailer_value(text: str) -> str:
    """Printable ASCII: unchanged if it already is, else percent-encoded (RFC 3986); then bounded."""
    if not (text.isascii() and text.isprintable()):
        text = urllib.parse.quote(text, safe="")
    return text[:TRAILER_CHARS]
