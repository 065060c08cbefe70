"""The `gradwire` command: serve, compute, ops, health, demo.

    gradwire serve [--address HOST:PORT] ...    the server (gradwire.server.main)
    gradwire compute REQUEST.json|DIR [--address] [--format json|table] [--method M]
    gradwire ops [--address]                     the server's op catalogue as a table
    gradwire health [--address] [--service S]    prints the status; exit 0 only when SERVING
    gradwire demo                                a server, the tutorial through the SDK, SIGTERM
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

DEFAULT_ADDRESS = os.environ.get("GRADWIRE_ADDRESS", "127.0.0.1:50051")


def _serve(argv: Sequence[str]) -> int:
    from gradwire.server.main import main as serve_main  # only `serve` needs the server (and engine)

    return serve_main(list(argv))


def _compute(arguments: argparse.Namespace) -> int:
    from .requests_json import request_files, run
    from .transport import Transport

    transport = Transport(arguments.address, timeout=arguments.timeout)
    try:
        return run(request_files(Path(arguments.request)), transport, method=arguments.method,
                   output_format=arguments.format)
    finally:
        transport.close()


def _ops(arguments: argparse.Namespace) -> int:
    from gradwire.v1 import gradwire_pb2 as pb

    from .requests_json import format_table
    from .transport import Transport

    transport = Transport(arguments.address, timeout=arguments.timeout)
    try:
        response = transport.call("ListOps", pb.ListOpsRequest())
    finally:
        transport.close()
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
    from .demo import health_status

    status = health_status(arguments.address, timeout=arguments.timeout or 5.0, service=arguments.service)
    print(f"{arguments.address}: {status}")
    return 0 if status == "SERVING" else 1


def _demo(arguments: argparse.Namespace) -> int:
    from .demo import main as demo_main

    return demo_main()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gradwire", description="Gradients as a service.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("serve", help="run the server (see `gradwire serve --help`)", add_help=False)

    def with_address(name: str, help_text: str) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text, description=help_text)
        command.add_argument("--address", default=DEFAULT_ADDRESS,
                             help=f"server host:port (env GRADWIRE_ADDRESS; default {DEFAULT_ADDRESS})")
        command.add_argument("--timeout", type=float, default=None, help="seconds per call")
        return command

    compute = with_address("compute", "send JSON requests (protobuf's JSON form), print values and grads")
    compute.add_argument("request", help="a request file, or a folder of <step>-<Method>.json files run in order")
    compute.add_argument("--format", choices=("json", "table"), default="table")
    compute.add_argument("--method", default=None, help="the RPC (default: from the file name, else Compute)")
    with_address("ops", "print the server's op catalogue")
    health = with_address("health", "print the health status; exit 0 only when SERVING")
    health.add_argument("--service", default="", help="the service to check (default: the whole server)")
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
    except (ConnectionError, TimeoutError, RuntimeError, TypeError, ValueError, IndexError, OSError) as error:
        print(f"gradwire {arguments.command}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
