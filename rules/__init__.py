"""gradwire.rules: what each op is, apart from how it computes, shared by the engine, the server and the SDK.

For every op: how a Python call is parsed (arity, torch's positional order, keyword aliases, defaults),
its attribute validation, its shape rule, its dtype rule, its grad_fn name and the error torch raises for
each mistake. The engine computes from these entries (engine/registry.py), the server checks requests
with them and the SDK derives a lazy tensor's metadata from them, raising a mistake at the statement
that makes it. Imports numpy only and knows no Tensor class: a rule sees shapes, dtypes, Python scalars
and attributes.
"""

from gradwire.rules import dtypes, errors  # noqa: F401

from .spec import RULES, AttrSpec, OpRules, define, lookup, rules_of  # noqa: F401
from . import ops  # noqa: E402,F401  (defines the table)
