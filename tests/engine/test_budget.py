"""The memory budget and the work bound (engine/budget.py): charged before an op runs, views free, copies
and casts of broadcast views counted at their logical size, results that own memory kept charged, and the
interrupt check called between ops and backward steps."""

from __future__ import annotations

import numpy as np
import pytest

import gradwire.engine as ge
from gradwire.engine import modes
from gradwire.rules.errors import BudgetExceededError, WorkExceededError

MiB = 1 << 20


ONE = ge.ones(1, 1)


def _expanded(shape=(4096, 4096)):
    return ge.apply("expand", [ONE], {"shape": shape})  # 64 MiB logical, 4 bytes real


def test_a_view_is_free_and_a_copy_of_it_is_charged_in_full():
    with ge.memory_budget(16 * MiB):
        view = _expanded()
        assert modes._state.budget_left == 16 * MiB
        for op, attrs in [("clone", {}), ("neg", {}), ("exp", {}), ("to", {"dtype": ge.float64}),
                          ("reshape", {"shape": (-1,)}), ("softmax", {"dim": 1})]:
            with pytest.raises(BudgetExceededError):
                ge.apply(op, [view], attrs)
        assert modes._state.budget_left == 16 * MiB  # refused before anything was allocated


def test_results_stay_charged_and_small_results_are_refunded():
    x = ge.from_numpy(np.ones(MiB // 4, np.float32))  # 1 MiB
    with ge.memory_budget(8 * MiB):
        total = ge.apply("sum", [_expanded((1024, 1024))], {})
        assert float(total) == 1024 * 1024
        assert modes._state.budget_left == 8 * MiB - 4
        kept = [ge.apply("neg", [x], {}) for _ in range(3)]
        assert modes._state.budget_left == 8 * MiB - 4 - 3 * MiB
        np.testing.assert_array_equal(kept[0].numpy(), -np.ones(MiB // 4, np.float32))


def test_backward_is_charged():
    x = ge.from_numpy(np.ones(MiB // 4, np.float32)).requires_grad_()
    loss = (x * x).sum()
    with ge.memory_budget(MiB // 2), pytest.raises(BudgetExceededError):
        loss.backward()
    assert x.grad is None  # a refused backward changed nothing
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * np.ones(MiB // 4, np.float32))


def test_work_is_bounded_up_front_and_the_interrupt_runs_between_ops():
    calls = []
    with modes.work_budget(1 << 20, lambda: calls.append(1)):
        with pytest.raises(WorkExceededError):
            ge.apply("sum", [ge.apply("expand", [ONE], {"shape": (1, 1 << 40)})], {})
        assert calls
    stop = RuntimeError("deadline")

    def interrupt():
        raise stop

    x = ge.ones(3, requires_grad=True)
    y = (x * 2).sum()
    with modes.work_budget(None, interrupt), pytest.raises(RuntimeError):
        y.backward()
    assert x.grad is None
