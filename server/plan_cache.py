"""An LRU of compiled plans keyed by a graph's structure, bounded in entries and in bytes, with counters.

The key is the serialized graph with every leaf's data left out (ids, dtypes, shapes, requires_grad and
every node in full), so two graphs share a key only when they parse to the same structure: keys are the
bytes themselves, not a hash of them, and cannot collide. Thread-safe; a plan is immutable once cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from gradwire.v1 import gradwire_pb2 as pb


def structure_key(graph: pb.Graph) -> bytes:
    """The bytes naming a graph's structure: the graph without its leaves' data (or upload ids)."""
    shell = pb.Graph()
    for leaf in graph.leaves:
        item = shell.leaves.add(id=leaf.id, requires_grad=leaf.requires_grad)
        source = leaf.WhichOneof("source")
        if source == "value":
            item.value.dtype = leaf.value.dtype
            item.value.shape.extend(leaf.value.shape)
        elif source == "upload_id":
            item.upload_id = ""  # the source kind is structure; which upload is a value
    shell.nodes.extend(graph.nodes)
    return shell.SerializeToString(deterministic=True)


@dataclass(frozen=True)
class CacheStats:
    hits: int
    misses: int
    entries: int
    bytes: int
    evictions: int


class PlanCache:
    """Plans by structure key; the least recently used go first when either bound would be passed.

    A structure is compiled the second time it is seen (`seen_before`), so a stream of structures that
    never repeat (an SDK session's Extend calls, whose ids grow) costs a key lookup, not a compilation.
    The keys seen once are kept in an LRU of their own within the same bounds.
    """

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._plans: OrderedDict[bytes, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._seen_bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = self.evictions = 0

    def seen_before(self, key: bytes) -> bool:
        """True when this (missed) key was seen once already; otherwise remembers it and says False."""
        with self._lock:
            if key in self._seen:
                del self._seen[key]
                self._seen_bytes -= len(key)
                return True
            if len(key) > self.max_bytes or self.max_entries <= 0:
                return False
            while self._seen and (len(self._seen) >= self.max_entries or self._seen_bytes + len(key) > self.max_bytes):
                self._seen_bytes -= len(self._seen.popitem(last=False)[0])
            self._seen[key] = None
            self._seen_bytes += len(key)
            return False

    def get(self, key: bytes) -> Any | None:
        """The plan for key (now the most recently used), or None; counts a hit or a miss."""
        with self._lock:
            found = self._plans.get(key)
            if found is None:
                self.misses += 1
                return None
            self._plans.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, key: bytes, plan: Any, nbytes: int) -> bool:
        """Caches a plan of about nbytes (key included); False when it alone is over the byte bound."""
        size = nbytes + len(key)
        if self.max_entries <= 0 or size > self.max_bytes:
            return False
        with self._lock:
            previous = self._plans.pop(key, None)
            if previous is not None:
                self._bytes -= previous[1]
            while self._plans and (len(self._plans) >= self.max_entries or self._bytes + size > self.max_bytes):
                _, (_, evicted_size) = self._plans.popitem(last=False)
                self._bytes -= evicted_size
                self.evictions += 1
            self._plans[key] = (plan, size)
            self._bytes += size
            return True

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(self.hits, self.misses, len(self._plans), self._bytes, self.evictions)

    def __contains__(self, key: bytes) -> bool:
        with self._lock:
            return key in self._plans
