"""ListOps is the engine's op registry as it is: every op, its arity, attributes and flags."""

from __future__ import annotations

import gradwire.engine as ge
from gradwire.v1 import gradwire_pb2 as pb


def test_catalogue_is_the_registry(stub):
    catalogue = {op.name: op for op in stub.ListOps(pb.ListOpsRequest()).ops}
    assert set(catalogue) == set(ge.registry.OPS)
    for name, definition in ge.registry.OPS.items():
        info = catalogue[name]
        assert (info.min_inputs, info.max_inputs, info.outputs) == (
            definition.min_inputs, definition.max_inputs, definition.num_outputs)
        assert (info.differentiable, info.inplace, info.view) == (
            definition.differentiable, definition.inplace, definition.view)
        assert [(a.name, a.kind, a.required) for a in info.attrs] == [
            (a.name, a.kind, a.required) for a in definition.attrs]
        assert list(info.methods) == list(definition.methods)


def test_catalogue_examples(stub):
    catalogue = {op.name: op for op in stub.ListOps(pb.ListOpsRequest()).ops}
    assert catalogue["add"].differentiable and "__add__" in catalogue["add"].operators
    assert catalogue["setitem"].inplace
    assert catalogue["max_dim"].outputs == 2
    assert not catalogue["eq"].differentiable
    assert catalogue["cat"].max_inputs == -1
    shape = {a.name: a for a in catalogue["reshape"].attrs}["shape"]
    assert shape.kind == "ints" and shape.required and shape.default == ""
