"""How the searches compute: bucketize, searchsorted, nonzero and argwhere (their rules:
gradwire.rules.ops.searching). None is differentiable."""

from __future__ import annotations

import numpy as np

from gradwire.rules.ops.searching import side_is_right

from ..registry import implement


def _indices(found: np.ndarray, attrs: dict) -> np.ndarray:
    return found.astype(np.int32 if attrs["out_int32"] else np.int64)


def _bucketize_forward(arrays: list, attrs: dict):
    values, boundaries = arrays
    return _indices(np.asarray(np.searchsorted(boundaries, values, side="right" if attrs["right"] else "left")), attrs)


def _searchsorted_forward(arrays: list, attrs: dict):
    boundaries, values = arrays[0], np.asarray(arrays[1])
    sorter = arrays[2] if len(arrays) > 2 else None
    if sorter is not None:
        boundaries = np.take_along_axis(boundaries, sorter, axis=-1)
    side = "right" if side_is_right(attrs) else "left"
    if boundaries.ndim == 1:
        return _indices(np.asarray(np.searchsorted(boundaries, values, side=side)), attrs)
    rows = boundaries.reshape(-1, boundaries.shape[-1])
    wanted = values.reshape(rows.shape[0], -1)
    found = np.stack([np.searchsorted(r, w, side=side) for r, w in zip(rows, wanted)]) if rows.shape[0] else wanted
    return _indices(found.reshape(values.shape), attrs)


def _nonzero_forward(arrays: list, attrs: dict):
    x = np.asarray(arrays[0])
    if x.ndim == 0:  # one row of no indices when the number is non-zero
        return np.zeros((int(x != 0), 0), dtype=np.int64)
    return np.argwhere(x).astype(np.int64)


def _nonzero_tuple_forward(arrays: list, attrs: dict):
    x = np.asarray(arrays[0])
    if x.ndim == 0:  # torch: one index tensor, [0] when the number is non-zero
        return np.zeros(int(x != 0), dtype=np.int64)
    return np.nonzero(x)[attrs["output"]].astype(np.int64)


implement("nonzero_tuple", _nonzero_tuple_forward)
implement("bucketize", _bucketize_forward)
implement("searchsorted", _searchsorted_forward)
implement("nonzero", _nonzero_forward)
implement("argwhere", _nonzero_forward)
