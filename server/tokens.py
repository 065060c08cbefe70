"""Bearer tokens: a file of `principal:token` lines, looked up in constant time.

    alice:3f9c0e...      # '#' starts a comment; blank lines are ignored
    batch-jobs:71aa...

Every lookup compares the caller's token with every known token through SHA-256 digests and
hmac.compare_digest, without stopping at a match, so the time taken says nothing about which tokens
exist or how much of one matched. Tokens never appear in an error, a log line or a metric.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from pathlib import Path

log = logging.getLogger("gradwire.server")


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def parse_tokens(text: str, source: str = "the tokens file") -> list[tuple[str, bytes]]:
    """[(principal, sha256(token)), ...]; ValueError names the bad line (never the token)."""
    entries: list[tuple[str, bytes]] = []
    seen: dict[bytes, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        principal, colon, token = line.partition(":")
        principal, token = principal.strip(), token.strip()
        if not colon or not principal or not token:
            raise ValueError(f"{source}, line {number}: expected 'principal:token'")
        digest = _digest(token)
        if digest in seen and seen[digest] != principal:
            raise ValueError(f"{source}, line {number}: this token is already given to {seen[digest]!r}")
        seen[digest] = principal
        entries.append((principal, digest))
    return entries


class TokenTable:
    """The tokens of one file; reload() re-reads it (a bad file keeps the previous table)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._entries = parse_tokens(Path(path).read_text(), path)
        self._lock = threading.Lock()
        if not self._entries:
            log.warning("%s holds no tokens: every authenticated call will be refused", path)

    def __len__(self) -> int:
        return len(self._entries)

    def reload(self) -> bool:
        """Re-reads the file; True when the new table is in use."""
        try:
            entries = parse_tokens(Path(self.path).read_text(), self.path)
        except (OSError, ValueError) as error:
            log.error("tokens not reloaded, the previous ones stay in use: %s", error)
            return False
        with self._lock:
            self._entries = entries
        log.info("reloaded %d token(s) from %s", len(entries), self.path)
        return True

    def principal(self, token: str) -> str | None:
        """The principal holding `token`, or None."""
        digest = _digest(token)
        with self._lock:
            entries = self._entries
        found = None
        for principal, known in entries:
            if hmac.compare_digest(digest, known) and found is None:
                found = principal
        return found
