"""Checks shared by the op families (written in gradwire.rules.checks, re-exported for the engine's ops)."""

from gradwire.rules.checks import check_broadcast, check_tensors, tensors_only  # noqa: F401
