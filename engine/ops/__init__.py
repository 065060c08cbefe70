"""The op table: importing this package registers every op (one module per family)."""

from . import clamp, elementwise, indexing, linalg, reductions, shape  # noqa: F401  (registration side effects)
from . import decompositions, diagonals, gathering, padding, products, reducing, reshaping, scans, selecting, sorting, splitting  # noqa: F401,E501
