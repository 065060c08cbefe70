"""The rules table is the one source of every op's call, shape, dtype and grad_fn rules.

- every catalogue op's rules are defined in gradwire.rules (importable without the engine), with a shape
  and a dtype rule (a short allow-list names the exceptions and why);
- the engine runs every call's shape rule and fails loudly when its forward disagrees, so every row of the
  op table (tests/engine/ops_table*.py), whose results are compared with torch's shapes and dtypes, also
  checks the rules against torch (the result dtype is the rule's: the engine casts its forward's output to it);
- the catalogue names each op's rules (rules_id), which is how an SDK knows it holds the same rules.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import gradwire.engine as gw
from gradwire.engine.registry import OPS, implement
from gradwire.rules import RULES, OpRules, define, lookup

# Ops without a shape rule, and why.
SHAPELESS_ALLOWED: dict[str, str] = {}


def test_every_op_has_a_shape_rule_and_a_dtype_rule():
    missing = sorted(name for name, op in OPS.items()
                     if name not in SHAPELESS_ALLOWED and not op.internal
                     and (op.out_shape is None or (op.dtype_rule is None and not op.inplace)))
    assert not missing, f"ops without a shape or dtype rule: {missing}"


PROGRAM = """
import sys
import gradwire.rules as rules
assert not any(m.startswith("gradwire.engine") for m in sys.modules)
print("\\n".join(sorted(rules.RULES)))
"""


def test_the_rules_package_alone_defines_every_op_the_engine_implements_from_it():
    result = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    alone = set(result.stdout.split())
    assert alone == set(OPS)


def test_each_engine_op_is_its_rules_entry_plus_its_computation():
    for name, op in OPS.items():
        rules = RULES[name]
        assert (op.out_shape, op.dtype_rule, op.grad_fn, op.attrs, op.parse) == \
               (rules.out_shape, rules.dtype_rule, rules.grad_fn, rules.attrs, rules.parse), name


def test_rules_ids_name_the_local_entry_and_its_version():
    rules = RULES["add"]
    assert lookup(rules.rules_id) is rules
    assert lookup(f"add@{rules.version + 1}") is None  # another version: the SDK asks the server
    assert lookup("no_such_op@1") is None


@pytest.fixture
def mismatching_op():
    name = "test_rules_mismatch"
    define(OpRules(name=name, out_shape=lambda shapes, attrs: (1,), dtype_rule=lambda d, o, a: (d[0], d[0]),
                   internal=True))
    implement(name, forward=lambda arrays, attrs: arrays[0][:2])
    yield name
    RULES.pop(name)
    OPS.pop(name)


def test_a_forward_that_disagrees_with_its_shape_rule_fails_loudly(mismatching_op):
    with pytest.raises(AssertionError, match="shape rule"):
        gw.apply(mismatching_op, [gw.tensor([1.0, 2.0, 3.0])])
