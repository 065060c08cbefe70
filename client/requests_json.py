"""`gradwire compute`: requests in protobuf's JSON mapping sent to the server, responses printed.

A path is one request file or a folder of them (run in name order, as examples/json lays out a
session's flow). The method comes from --method, else from a file name `<step>-<Method>.json`, else
Compute. Printed: every value and grad in a response, as a table or as JSON: one object per request on
its own line, the same shape for every method ("file", "method", "ok", "values", "grads", "info", and
"session_id"/"upload_id" when there is one, or "error" with the status, the exception type, the
message and the node id). Tensors are {"dtype": "float32", "shape": [2], "data": [...]}.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, Iterator, TextIO

import numpy as np
from google.protobuf import json_format

from gradwire.v1 import gradwire_pb2 as pb

from . import codec, dtypes, exit_codes
from .errors import node_id_of
from .transport import Transport

METHODS = {
    "Compute": pb.ComputeRequest, "CreateSession": pb.CreateSessionRequest, "Extend": pb.ExtendRequest,
    "Backward": pb.BackwardRequest, "Grad": pb.GradRequest, "Read": pb.ReadRequest,
    "UpdateGrads": pb.UpdateGradsRequest, "CloseSession": pb.CloseSessionRequest, "ListOps": pb.ListOpsRequest,
}
_STEP_FILE = re.compile(r"(?:\d+-)?(?P<method>[A-Za-z]+)\.json")
# Tables show at most this many elements of a tensor.
TABLE_ELEMENTS = 12


def request_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.glob("*.json"), key=lambda p: _step_number(p.name))
    return [path]


def _step_number(name: str) -> tuple[int, str]:
    head = name.split("-", 1)[0]
    return (int(head), name) if head.isdigit() else (0, name)


def method_of(path: Path, forced: str | None) -> str:
    if forced:
        return forced
    match = _STEP_FILE.fullmatch(path.name)
    if match and match.group("method") in METHODS:
        return match.group("method")
    return "Compute"


def load_request(path: Path, method: str) -> Any:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; one of {', '.join(METHODS)}")
    try:
        return json_format.Parse(path.read_text(), METHODS[method]())
    except json_format.ParseError as error:
        raise ValueError(f"{path}: not a {method} request in protobuf's JSON form: {error}") from None


def tensors_of(response: Any) -> Iterator[tuple[str, pb.NamedTensor]]:
    """("value"|"grad", NamedTensor) for every tensor in a response."""
    for field_name, kind in (("values", "value"), ("grads", "grad")):
        for named in getattr(response, field_name, ()):
            yield kind, named


def decoded(transport: Transport, session_id: str, kind: str, named: pb.NamedTensor) -> np.ndarray | None:
    if named.is_none:
        return None
    if named.deferred:
        if not session_id:
            raise RuntimeError(f"{named.id} is too large for one message and this call has no session")
        return transport.download(session_id, named.id, grad=kind == "grad")
    return codec.decode_array(named.tensor)


def run(paths: list[Path], transport: Transport, *, method: str | None, output_format: str,
        out: TextIO | None = None) -> int:
    """Sends each request; returns 0 when all succeeded, else the exit code of the first failure's class
    (errors also go to stderr, with their gRPC status)."""
    out = out or sys.stdout
    first_failure = 0
    for path in paths:
        name = method_of(path, method)
        request = load_request(path, name)
        session_id = getattr(request, "session_id", "")
        if len(paths) > 1 and output_format != "json":
            print(f"== {path.name} ({name})", file=out)
        try:
            response = transport.call(name, request, session_id=session_id or None)
        except Exception as error:  # noqa: BLE001 - shown, then the next request runs
            first_failure = first_failure or exit_codes.exit_code(error)
            print(f"{path.name}: {exit_codes.describe(error)}", file=sys.stderr)
            if output_format == "json":
                print(json.dumps({"file": path.name, "method": name, "ok": False, "error": {
                    "status": exit_codes.status_name(error), "type": type(error).__name__,
                    "message": str(error), "node_id": node_id_of(error)}}), file=out)
            continue
        rows = [(kind, named.id, decoded(transport, session_id, kind, named), named)
                for kind, named in tensors_of(response)]
        if output_format == "json":
            print(json.dumps({"file": path.name, "method": name, "ok": True, **_as_json(response, rows)}), file=out)
        else:
            print(_as_table(response, rows), file=out)
    return first_failure


def _tensor_json(array: np.ndarray | None) -> Any:
    if array is None:
        return None
    return {"dtype": dtypes.from_numpy(array.dtype).name, "shape": list(array.shape), "data": array.tolist()}


def _as_json(response: Any, rows: list) -> dict:
    result: dict[str, Any] = {"values": {}, "grads": {}}
    for kind, value_id, array, _ in rows:
        result["values" if kind == "value" else "grads"][value_id] = _tensor_json(array)
    for extra in ("session_id", "upload_id"):
        if getattr(response, extra, ""):
            result[extra] = getattr(response, extra)
    result["info"] = {info.id: {"dtype": dtypes.from_wire(info.dtype).name, "shape": list(info.shape),
                                "requires_grad": info.requires_grad, "is_leaf": info.is_leaf,
                                "grad_fn": info.grad_fn or None}
                      for info in getattr(response, "info", ())}
    return result


def _as_table(response: Any, rows: list) -> str:
    header = ("kind", "id", "dtype", "shape", "data")
    lines = [header]
    for kind, value_id, array, _ in rows:
        if array is None:
            lines.append((kind, value_id, "-", "-", "None"))
            continue
        flat = array.reshape(-1)
        shown = np.array2string(flat[:TABLE_ELEMENTS], separator=", ")
        if flat.size > TABLE_ELEMENTS:
            shown = shown[:-1] + ", ...]"
        lines.append((kind, value_id, dtypes.from_numpy(array.dtype).name, str(list(array.shape)), shown))
    for info in getattr(response, "info", ()):
        lines.append(("info", info.id, dtypes.from_wire(info.dtype).name, str(list(info.shape)),
                      f"requires_grad={info.requires_grad} grad_fn={info.grad_fn or None}"))
    if getattr(response, "session_id", ""):
        lines.append(("session", response.session_id, "", "", ""))
    if len(lines) == 1:
        return "(ok, nothing returned)"
    return format_table(lines)


def format_table(lines: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(line[k])) for line in lines) for k in range(len(lines[0]))]
    return "\n".join("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip()
                     for line in lines)
