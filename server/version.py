"""The server's version (the installed package's) and the contract it speaks."""

from __future__ import annotations

import importlib.metadata

from gradwire.v1 import gradwire_pb2 as pb

CONTRACT_VERSION = pb.DESCRIPTOR.package  # "gradwire.v1"


def server_version() -> str:
    try:
        return importlib.metadata.version("gradwire")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"
