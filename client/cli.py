"""The `gradwire` command: serve, compute, ops, health, demo.

    gradwire serve [--address HOST:PORT] ...    the server (gradwire.server.main)
    gradwire compute REQUEST.json|DIR [--format json|table] [--method M]
    gradwire ops [--format json|table]           the server's op catalogue
    gradwire health [--service S] [--verbose]    prints the status (and GetServerInfo); exit 0 only when SERVING
    gradwire demo                                a server, the tutorial through the SDK, SIGTERM
    gradwire --version

Every command that calls a server takes --address, --timeout, --token, --ca, --tls, --client-cert and
--client-key (also GRADWIRE_ADDRESS, GRADWIRE_TOKEN, GRADWIRE_CA, GRADWIRE_CLIENT_CERT,
GRADWIRE_CLIENT_KEY). JSON output is one JSON object per line. Failures print the gRPC status and exit
with the code of their class (see exit_codes.py).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

from . import exit_codes

DEFAULT_ADDRESS = os.environ.get("GRADWIRE_ADDRESS", "127.0.0.1:50051")
# (flag, environment variable, help)
CONNECTION_OPTIONS = (
    ("--token", "GRADWIRE_TOKEN", "bearer token sent as 'authorization: Bearer <token>'"),
    ("--ca", "GRADWIRE_CA", "PEM CA file to trust: connect with TLS"),
    ("--client-cert", "GRADWIRE_CLIENT_CERT", "PEM client certificate (mTLS)"),
    ("--client-key", "GRADWIRE_CLIENT_KEY", "PEM key of --client-cert"),
)


def _version() -> str:
    try:
        return importlib.metadata.version("gradwire")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def _serve(argv: Sequence[str]) -> int:
    from gradwire.server.main import main as serve_main  # only `serve` needs the server (and engine)

    return serve_main(list(argv))


def _transport(arguments: argparse.Namespace) -> Any:
    from .security import channel_credentials, token_metadata
    from .transport import Transport

    credentials = channel_credentials(tls=arguments.tls, ca=arguments.ca, client_cert=arguments.client_cert,
                                      client_key=arguments.client_key)
    return Transport(arguments.address, credentials=credentials, metadata=token_metadata(arguments.token),
                     timeout=arguments.timeout)


def _compute(arguments: argparse.Namespace) -> int:
    from .requests_json import request_files, run

    transport = _transport(arguments)
    try:
        return run(request_files(Path(arguments.request)), transport, method=arguments.method,
                   output_format=arguments.format)
    finally:
        transport.close()


def _ops(arguments: argparse.Namespace) -> int:
    from google.protobuf import json_format

    from gradwire.v1 import gradwire_pb2 as pb

    from .requests_json import format_table

    transport = _transport(arguments)
    try:
        response = transport.call("ListOps", pb.ListOpsRequest())
    finally:
        transport.close()
    if arguments.format == "json":
        ops = [json_format.MessageToDict(op, preserving_proto_field_name=True,
                                         always_print_fields_with_no_presence=True)
               for op in sorted(response.ops, key=lambda op: op.name)]
        print(json.dumps({"ops": ops, "count": len(ops)}))
        return 0
    lines = [("op", "inputs", "outputs", "attributes", "grad", "python", "summary")]
    for op in sorted(response.ops, key=lambda op: op.name):
        inputs = f"{op.min_inputs}+" if op.max_inputs == -1 else (
            str(op.min_inputs) if op.min_inputs == op.max_inputs else f"{op.min_inputs}-{op.max_inputs}")
        attrs = ", ".join(f"{a.name}:{a.kind}" + ("" if a.required else f"={a.default}") for a in op.attrs)
        spellings = ", ".join([*op.methods, *op.operators, *(f"torch.{f}" for f in op.functions)][:4])
        grad = ("in-place" if op.inplace else "yes" if op.differentiable else "no")
        lines.append((op.name, inputs, str(op.outputs), attrs or "-", grad, spellings or "-", op.summary))
    print(format_table(lines))
    print(f"\n{len(response.ops)} ops")
    return 0


def _health(arguments: argparse.Namespace) -> int:
    from google.protobuf import json_format

    from gradwire.v1 import gradwire_pb2 as pb

    from .demo import health_status

    transport = _transport(arguments)
    try:
        status = health_status(arguments.address, timeout=arguments.timeout or 5.0, service=arguments.service,
                               channel=transport.channel)
        info = (transport.call("GetServerInfo", pb.GetServerInfoRequest())
                if arguments.verbose and status == "SERVING" else None)
    finally:
        transport.close()
    code = (exit_codes.OK if status == "SERVING"
            else exit_codes.UNREACHABLE if status == "UNREACHABLE" else exit_codes.NOT_SERVING)
    if arguments.format == "json":
        result: dict[str, Any] = {"address": arguments.address, "status": status}
        if info is not None:
            result["server"] = json_format.MessageToDict(info, preserving_proto_field_name=True)
        print(json.dumps(result))
        return code
    print(f"{arguments.address}: {status}")
    if info is not None:
        limits = info.limits
        print(f"server: {info.name} {info.server_version} (contract {info.contract_version}, {info.op_count} ops)\n"
              f"features: {', '.join(info.features)}\nyou are: {info.principal}\n"
              f"limits: message {limits.max_message_bytes} B, request {limits.max_request_bytes} B, "
              f"sessions {limits.max_sessions} holding {limits.max_session_bytes} B, "
              f"idle TTL {limits.session_ttl_seconds:g} s, per principal "
              f"{limits.max_sessions_per_principal or 'no cap on'} sessions and "
              f"{limits.max_bytes_per_principal or 'no cap on'} bytes")
    return code


def _demo(arguments: argparse.Namespace) -> int:
    from .demo import main as demo_main

    return demo_main()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gradwire", description="Gradients as a service.")
    parser.add_argument("--version", action="version", version=f"gradwire {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("serve", help="run the server (see `gradwire serve --help`)", add_help=False)

    def with_address(name: str, help_text: str) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text, description=help_text)
        command.add_argument("--address", default=DEFAULT_ADDRESS,
                             help=f"server host:port (env GRADWIRE_ADDRESS; default {DEFAULT_ADDRESS})")
        command.add_argument("--timeout", type=float, default=None, help="seconds per call")
        for flag, env, help_text in CONNECTION_OPTIONS:
            command.add_argument(flag, default=os.environ.get(env) or None, help=f"{help_text} (env {env})")
        command.add_argument("--tls", action="store_true",
                             help="connect with TLS, trusting the system's CAs (implied by --ca)")
        command.add_argument("--format", choices=("json", "table"), default="table",
                             help="table (default) or json: one JSON object per line")
        return command

    compute = with_address("compute", "send JSON requests (protobuf's JSON form), print values and grads")
    compute.add_argument("request", help="a request file, or a folder of <step>-<Method>.json files run in order")
    compute.add_argument("--method", default=None, help="the RPC (default: from the file name, else Compute)")
    with_address("ops", "print the server's op catalogue")
    health = with_address("health", "print the health status; exit 0 only when SERVING")
    health.add_argument("--service", default="", help="the service to check (default: the whole server)")
    health.add_argument("--verbose", "-v", action="store_true",
                        help="also print what the server is (GetServerInfo: version, limits, features)")
    commands.add_parser("demo", help="start a server, run the tutorial through the SDK, stop the server")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        return _serve(argv[1:])
    arguments = build_parser().parse_args(argv)
    handlers = {"compute": _compute, "ops": _ops, "health": _health, "demo": _demo}
    try:
        return handlers[arguments.command](arguments)
    except (ConnectionError, TimeoutError, RuntimeError, TypeError, ValueError, IndexError, KeyError,
            OSError) as error:
        print(f"gradwire {arguments.command}: {exit_codes.describe(error)}", file=sys.stderr)
        return exit_codes.exit_code(error)


if __name__ == "__main__":
    sys.exit(main())
