"""Progress bars for large uploads and downloads: tqdm on a terminal, nothing otherwise.

tqdm is optional: without it (or when stderr is not a terminal) transfers run silently.
"""

from __future__ import annotations

import sys
from typing import Any

# Transfers smaller than this finish too fast for a bar to help.
MIN_BYTES_FOR_BAR = 16 << 20


class _Silent:
    def update(self, _count: int) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total_bytes: int, description: str) -> Any:
    """An object with update(n) and close(): a tqdm bar when useful, else a no-op."""
    if total_bytes < MIN_BYTES_FOR_BAR or not sys.stderr.isatty():
        return _Silent()
    try:
        from tqdm import tqdm
    except ImportError:
        return _Silent()
    return tqdm(total=total_bytes, desc=description, unit="B", unit_scale=True, unit_divisor=1024,
                file=sys.stderr, leave=False)
