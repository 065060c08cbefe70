"""The tutorial (the README's two examples and their errors) as one function over any torch-like
module (a Client, or torch).

`gradwire demo` runs it through the SDK against a fresh server and prints what each step gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Step:
    """One line of the tutorial: what was done and what came out (values, or the error's text)."""

    title: str
    result: Any = None
    error: BaseException | None = None
    expected: Any = None

    @property
    def as_expected(self) -> bool:
        if self.expected is None:
            return True
        if isinstance(self.expected, type):
            return isinstance(self.error, self.expected)
        return self.error is None and self.result == self.expected


@dataclass
class Tutorial:
    steps: list[Step] = field(default_factory=list)

    def run(self, title: str, action: Callable[[], Any], expected: Any = None) -> Step:
        step = Step(title, expected=expected)
        try:
            step.result = action()
        except (RuntimeError, TypeError, ValueError, IndexError) as error:
            step.error = error
        self.steps.append(step)
        return step

    @property
    def ok(self) -> bool:
        return all(step.as_expected for step in self.steps)


def run_tutorial(torch: Any) -> Tutorial:
    """Runs the tutorial's programs; each step records its result or its error."""
    tutorial = Tutorial()
    a = torch.tensor([2., 3.], requires_grad=True)
    b = a + 3
    c = b * b * 3
    out = c.mean()

    def backward_then_grad(**kwargs: Any) -> list[float]:
        out.backward(**kwargs)
        return a.grad.tolist()

    tutorial.run("out.backward(retain_graph=True); a.grad", lambda: backward_then_grad(retain_graph=True),
                 [15.0, 18.0])
    tutorial.run("out.backward(); a.grad  (accumulates, frees the graph)", backward_then_grad, [30.0, 36.0])
    tutorial.run("out.backward() a third time", backward_then_grad, RuntimeError)

    m = torch.tensor([2., 3.], requires_grad=True)
    n = torch.zeros(2)
    n[0] = m[0] ** 2
    n[1] = m[1] ** 3

    def seeded() -> list[float]:
        n.backward(gradient=torch.tensor([1., 1.]), retain_graph=True)
        return m.grad.tolist()

    tutorial.run("n[0] = m[0]**2; n[1] = m[1]**3; n.backward(gradient=[1, 1]); m.grad", seeded, [4.0, 27.0])
    tutorial.run("n.backward() without a gradient", lambda: n.backward(), RuntimeError)
    tutorial.run("tensor([2, 3], requires_grad=True)", lambda: torch.tensor([2, 3], requires_grad=True),
                 RuntimeError)
    return tutorial
