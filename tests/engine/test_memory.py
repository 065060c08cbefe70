"""Graphs are freed by reference counting alone: no cycles keep a leaf or its arrays alive.

A server drops thousands of graphs; a cycle would hold every leaf and gradient until a full garbage
collection (the benchmark saw a 64 MiB leaf per call pile up). torch avoids the two cycles an autograd
graph invites (leaf <-> its AccumulateGrad, output <-> the node that saved it) and so do we.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import gradwire.engine as ge


@pytest.fixture
def no_gc():
    gc.collect()
    gc.disable()
    yield
    gc.enable()


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_dropped_graph_and_its_leaf_are_freed_without_the_collector(no_gc, create_graph):
    x = ge.from_numpy(np.ones(1000, dtype=np.float32)).requires_grad_()
    y = (x * 2).exp().tanh().sigmoid().sum()  # exp, tanh and sigmoid save their own outputs
    y.backward(create_graph=create_graph)
    x.grad = None  # with create_graph the grad's graph refers back to x, as in torch
    leaf, node = weakref.ref(x), weakref.ref(y.grad_fn)
    del x, y
    assert leaf() is None
    assert node() is None


def test_create_graph_through_a_saved_output_still_differentiates():
    x = ge.tensor([0.5, 1.5], requires_grad=True)
    (g,) = ge.autograd.grad(x.exp().sum(), x, create_graph=True)  # d/dx exp = exp: uses the saved output
    (h,) = ge.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), np.exp([0.5, 1.5]), rtol=1e-6)
