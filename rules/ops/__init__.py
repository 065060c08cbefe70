"""The rules table: importing this package defines every op's rules (one module per family).

The engine implements each entry (engine/ops/), the SDK reads them directly.
"""

from . import elementwise, indexing, linalg, nn, reductions, shape  # noqa: F401  (definition side effects)
