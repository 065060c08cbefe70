"""Runs a mistakes-table program one statement at a time and says which statement raised what.

The same runner serves torch, the engine and the SDK: `run` binds `torch`, `np` and `F` in a fresh
namespace, executes the statements in order, stops at the first exception, and (given a counter) records
the RPCs each statement made.
"""

from __future__ import annotations

import ast
import collections
import dataclasses
import warnings
from typing import Any, Callable

import numpy as np

from mistakes_table import Mistake

BUILTIN_CLASSES = (NotImplementedError, IndexError, TypeError, ValueError, AttributeError, RuntimeError)


@dataclasses.dataclass
class Outcome:
    raised_at: int | None  # 1-based statement, None when every statement ran
    error: BaseException | None
    namespace: dict
    rpcs: list[dict[str, int]]  # per statement run (the raising one included)

    def builtin_class(self) -> type | None:
        """The most specific of the builtin classes torch uses that the error is an instance of."""
        if self.error is None:
            return None
        return next((c for c in BUILTIN_CLASSES if isinstance(self.error, c)), type(self.error))

    def describe(self) -> str:
        if self.error is None:
            return "no error"
        return f"{type(self.error).__name__} at statement {self.raised_at}: {self.error}"


def run(module: Any, mistake: Mistake, counts: Callable[[], dict[str, int]] | None = None) -> Outcome:
    namespace = {"torch": module, "np": np, "F": module.nn.functional}
    rpcs = []
    for number, statement in enumerate(mistake.statements, start=1):
        code = _compiled(statement, f"<{mistake.name}:{number}>")
        before = collections.Counter(counts() if counts else {})
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch warns before some of the errors (mse_loss sizes)
                exec(code, namespace)  # noqa: S102 - the table's own source text
        except Exception as error:  # noqa: BLE001 - the error is what is compared
            rpcs.append(dict(collections.Counter(counts() if counts else {}) - before))
            return Outcome(number, error, namespace, rpcs)
        rpcs.append(dict(collections.Counter(counts() if counts else {}) - before))
    return Outcome(None, None, namespace, rpcs)


def _compiled(statement: str, filename: str):
    """An expression statement keeps its value in `_`, as the REPL does, so a late error can be looked for."""
    tree = ast.parse(statement)
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
        target = ast.Name("_", ast.Store())
        tree.body[0] = ast.Assign([target], tree.body[0].value)
        ast.fix_missing_locations(tree)
    return compile(tree, filename, "exec")


def first_read_error(namespace: dict) -> BaseException | None:
    """What reading a program's tensors raises first, if anything (a mistake found only at a read)."""
    for found in namespace.values():
        for value in found if isinstance(found, tuple) else (found,):  # max(dim) gives (values, indices)
            if not hasattr(value, "tolist") or isinstance(value, np.ndarray):
                continue
            try:
                value.tolist()
            except Exception as error:  # noqa: BLE001 - reported, not handled
                return error
    return None


def late_error(namespace: dict) -> str:
    """After a program that should have raised did not: what reading its tensors raises, if anything."""
    error = first_read_error(namespace)
    return f"; reading raised {type(error).__name__}: {error}" if error is not None else ""


def as_array(value: Any) -> np.ndarray:
    """A result in a comparable form: tensors (torch's, the engine's, the SDK's) as numpy arrays."""
    if hasattr(value, "detach"):
        return np.array(value.detach().numpy(), copy=True)
    return np.asarray(value)
