"""Validation of op attributes against the registry's AttrSpecs.

Whatever calls an op (a Tensor method, a module function, the server decoding a request) gets the same
checks and the same messages, which name the op and the attribute.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from gradwire.rules import dtypes
from gradwire.rules.errors import ArgumentError

from .spec import OPERAND_KINDS, AttrSpec, OpRules


_NO_ATTRS: dict[str, Any] = {}  # shared by every op without attributes; never written to


def _by_canonical_name(op: OpRules, attrs: dict[str, Any]) -> dict[str, Any]:
    """Attributes keyed by their names, where the caller used an alias torch accepts (axis for dim)."""
    canonical: dict[str, Any] = {}
    for name, value in attrs.items():
        key = op.canonical_attr(name)
        if key in canonical:
            raise ArgumentError(f"{op.name}() got multiple values for argument '{key}'")
        canonical[key] = value
    return canonical


# For a call that gives no attributes, the result depends on the op's specs only: kept per op name with
# the specs it was made from, and copied out (callers own their dict).
_DEFAULTS_BY_OP: dict[str, tuple[Any, dict[str, Any]]] = {}


def normalise_attrs(op: OpRules, attrs: dict[str, Any]) -> dict[str, Any]:
    """Attributes with defaults filled in and each value checked and converted to its kind."""
    if not attrs:
        if not op.attrs:
            return _NO_ATTRS
        known = _DEFAULTS_BY_OP.get(op.name)
        if known is not None and known[0] is op.attrs:
            return dict(known[1])
        result = _normalised(op, attrs)
        _DEFAULTS_BY_OP[op.name] = (op.attrs, dict(result))
        return result
    return _normalised(op, attrs)


def _normalised(op: OpRules, attrs: dict[str, Any]) -> dict[str, Any]:
    specs = {spec.name: spec for spec in op.attrs}
    if any(name not in specs for name in attrs):
        attrs = _by_canonical_name(op, attrs)
    check_names(op, attrs)
    result: dict[str, Any] = {}
    for name, spec in specs.items():
        if spec.kind in OPERAND_KINDS:
            if attrs.get(name) is not None:
                raise ArgumentError(f"{op.name}(): '{name}' is an operand, not an attribute")
            continue
        if name in attrs and not (attrs[name] is None and not spec.required):
            result[name] = _convert(op, spec, attrs[name])
        else:
            result[name] = spec.default
    return result


def check_names(op: OpRules, given: Any) -> None:
    """torch's TypeError for an attribute the op does not have, or a required one left out (None counts
    as left out); `given` maps names to values (the server's check phase passes names it has not decoded)."""
    specs = {spec.name: spec for spec in op.attrs}
    unknown = [name for name in given if name not in specs]
    if unknown:
        allowed = ", ".join(specs) or "none"
        raise ArgumentError(f"{op.name}() got unexpected attribute(s) {', '.join(unknown)}; allowed: {allowed}")
    for spec in op.attrs:
        if spec.required and spec.kind not in OPERAND_KINDS and (
                spec.name not in given or (isinstance(given, dict) and given[spec.name] is None)):
            raise ArgumentError(f"{op.name}() missing required attribute '{spec.name}' ({spec.kind})")


def _convert(op: OpRules, spec: AttrSpec, value: Any) -> Any:
    try:
        # "<kind>|none": None never gets here (it means the default), so the kind's own converter does.
        return _CONVERTERS[spec.kind.removesuffix("|none") if spec.kind != "real|none" else spec.kind](value)
    except (TypeError, ValueError) as error:
        raise ArgumentError(
            f"{op.name}(): attribute '{spec.name}' must be {spec.kind}, got {value!r} ({error})"
        ) from None


def _integer(value: Any) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise TypeError("a bool is not an integer")
    if hasattr(value, "shape") and hasattr(value, "item"):  # a one-element integer tensor, as torch accepts
        value = value.item()
    return operator.index(value)


def _real(value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError("expected a number")
    return float(value)


def _real_or_none(value: Any) -> int | float | None:
    # An integer stays an integer: like torch's Scalar, int clamp bounds keep an int tensor int.
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    return None if value is None else _real(value)


def _boolean(value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError("expected True or False")
    return bool(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _ints(value: Any) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)):
        raise TypeError("expected a sequence of integers")
    return tuple(_integer(v) for v in value)


def _integer_or_ints(value: Any) -> int | tuple[int, ...]:
    if isinstance(value, (list, tuple)):
        return _ints(value)
    return _integer(value)


def _integer_ints_or_text(value: Any) -> int | tuple[int, ...] | str:
    return value if isinstance(value, str) else _integer_or_ints(value)


def _real_or_text(value: Any) -> float | str:
    return value if isinstance(value, str) else _real(value)


def _dtype(value: Any) -> dtypes.DType:
    if isinstance(value, dtypes.DType):
        return value
    if isinstance(value, str):
        return dtypes.by_name(value)
    raise TypeError("expected a dtype")


def _index(value: Any) -> tuple:
    from .indexing import normalise_index

    return normalise_index(value)


_CONVERTERS = {
    "integer": _integer,
    "real": _real,
    "real|none": _real_or_none,
    "boolean": _boolean,
    "text": _text,
    "ints": _ints,
    "integer|ints": _integer_or_ints,
    "integer|ints|text": _integer_ints_or_text,  # conv padding: 1, (1, 2) or "same"
    "dtype": _dtype,
    "real|text": _real_or_text,
    "index": _index,
}
